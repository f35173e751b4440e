package gateways

import (
	"regexp"
	"strings"
)

const dots = "••••"

// MaskPAN shows at most the last four digits of a card number: "•••• 1111".
func MaskPAN(pan string) string {
	d := digitsOnly(pan)
	if len(d) < 4 {
		return dots
	}
	return dots + " " + d[len(d)-4:]
}

// MaskAccount shows at most the last three digits of an account number:
// "•••• 678".
func MaskAccount(acct string) string {
	d := digitsOnly(acct)
	if len(d) < 6 {
		return dots
	}
	return dots + " " + d[len(d)-3:]
}

// CardMask is the display mask of a card: "Visa •••• 1111".
func CardMask(brand, pan string) string {
	if brand == "" {
		brand = CardBrand(pan)
	}
	return strings.TrimSpace(brand + " " + MaskPAN(pan))
}

// CardBrand guesses the brand from the number's prefix.
func CardBrand(pan string) string {
	d := digitsOnly(pan)
	switch {
	case strings.HasPrefix(d, "4"):
		return "Visa"
	case len(d) >= 2 && d[0] == '5' && d[1] >= '1' && d[1] <= '5', strings.HasPrefix(d, "2"):
		return "Mastercard"
	case strings.HasPrefix(d, "34"), strings.HasPrefix(d, "37"):
		return "Amex"
	case strings.HasPrefix(d, "6"):
		return "Discover"
	}
	return "Card"
}

// Luhn reports whether a card number passes the Luhn checksum.
func Luhn(pan string) bool {
	d := digitsOnly(pan)
	if len(d) < 12 || len(d) > 19 || len(d) != len(strings.ReplaceAll(strings.ReplaceAll(pan, " ", ""), "-", "")) {
		return false
	}
	sum := 0
	for i := 0; i < len(d); i++ {
		n := int(d[len(d)-1-i] - '0')
		if i%2 == 1 {
			n *= 2
			if n > 9 {
				n -= 9
			}
		}
		sum += n
	}
	return sum%10 == 0
}

func digitsOnly(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Runs of 12-19 digits (optionally separated by spaces or dashes) that pass
// Luhn are card numbers; runs of 9+ digits are treated as account/routing
// numbers. ScrubDigits replaces both before text reaches a log or an error.
var digitRun = regexp.MustCompile(`\d(?:[ -]?\d){5,18}`)

// ScrubDigits masks anything in s that could be a card, account or routing
// number: runs of six or more digits keep only their last three (cards:
// last four). Used on gateway error bodies, which can echo the request.
func ScrubDigits(s string) string {
	return digitRun.ReplaceAllStringFunc(s, func(m string) string {
		d := digitsOnly(m)
		if Luhn(d) {
			return MaskPAN(d)
		}
		return dots + d[len(d)-3:]
	})
}
