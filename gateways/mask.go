package gateways

import (
	"strings"

	"github.com/splynx-pay/splynx-pay/internal/redact"
)

// MaskPAN shows at most the last four digits of a card number (redact.MaskPAN).
func MaskPAN(pan string) string { return redact.MaskPAN(pan) }

// MaskAccount shows at most the last three digits of an account number
// (redact.MaskAccount).
func MaskAccount(acct string) string { return redact.MaskAccount(acct) }

// Luhn reports whether a card number passes the Luhn checksum (redact.Luhn).
func Luhn(pan string) bool { return redact.Luhn(pan) }

// ScrubDigits masks anything in s that could be a card, account or routing
// number (redact.ScrubDigits). Used on gateway error bodies, which can echo
// the request.
func ScrubDigits(s string) string { return redact.ScrubDigits(s) }

// CardMask is the display mask of a card: "Visa •••• 1111".
func CardMask(brand, pan string) string {
	if brand == "" {
		brand = CardBrand(pan)
	}
	return strings.TrimSpace(brand + " " + MaskPAN(pan))
}

// CardBrand guesses the brand from the number's prefix.
func CardBrand(pan string) string {
	d := redact.Digits(pan)
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
