// Package redact masks card, account and routing numbers in text, so what
// reaches a log, an error or a page never holds one. It imports nothing of
// the project: logging and the gateways both use it.
package redact

import (
	"regexp"
	"strings"
)

const dots = "••••"

// MaskPAN shows at most the last four digits of a card number: "•••• 1111".
func MaskPAN(pan string) string {
	d := Digits(pan)
	if len(d) < 4 {
		return dots
	}
	return dots + " " + d[len(d)-4:]
}

// MaskAccount shows at most the last three digits of an account number:
// "•••• 678".
func MaskAccount(acct string) string {
	d := Digits(acct)
	if len(d) < 6 {
		return dots
	}
	return dots + " " + d[len(d)-3:]
}

// Luhn reports whether a card number passes the Luhn checksum.
func Luhn(pan string) bool {
	d := Digits(pan)
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

// Digits returns the digits of s, in order.
func Digits(s string) string {
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
		d := Digits(m)
		if Luhn(d) {
			return MaskPAN(d)
		}
		return dots + d[len(d)-3:]
	})
}
