// Package money holds amounts as int64 minor units (cents). Conversion to
// and from decimal text happens only here, at the API edges; no float ever
// holds money.
package money

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Amount is a sum of money in minor units (cents for AUD and USD).
type Amount int64

// ErrInvalid is returned for text that is not a decimal amount.
var ErrInvalid = errors.New("money: not a decimal amount")

// maxCents is the largest amount Parse accepts: 16 integer digits.
const maxCents = 9999999999999999_99

// Parse reads a decimal amount such as "100.0000", "-12.5", "7" or "1e2"-free
// JSON number text into minor units, rounding half away from zero at the
// third decimal ("0.125" → 13, "-0.125" → -13). It never goes through float.
func Parse(s string) (Amount, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return 0, fmt.Errorf("%w: empty", ErrInvalid)
	}
	neg := false
	switch t[0] {
	case '-':
		neg = true
		t = t[1:]
	case '+':
		t = t[1:]
	}
	intPart, frac, hasDot := strings.Cut(t, ".")
	if intPart == "" && (!hasDot || frac == "") {
		return 0, fmt.Errorf("%w: %q", ErrInvalid, s)
	}
	if intPart == "" {
		intPart = "0"
	}
	for _, r := range intPart + frac {
		if r < '0' || r > '9' {
			return 0, fmt.Errorf("%w: %q", ErrInvalid, s)
		}
	}
	intPart = strings.TrimLeft(intPart, "0")
	if intPart == "" {
		intPart = "0"
	}
	if len(intPart) > 16 {
		return 0, fmt.Errorf("%w: %q is too large", ErrInvalid, s)
	}
	whole, err := strconv.ParseInt(intPart, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: %q", ErrInvalid, s)
	}
	cents := int64(0)
	if len(frac) > 0 {
		cents += int64(frac[0]-'0') * 10
	}
	if len(frac) > 1 {
		cents += int64(frac[1] - '0')
	}
	if len(frac) > 2 && frac[2] >= '5' {
		cents++ // half-up on magnitude
	}
	v := whole*100 + cents
	if v > maxCents {
		// 9999999999999999.995 rounds up to a 17th integer digit.
		return 0, fmt.Errorf("%w: %q is too large", ErrInvalid, s)
	}
	if neg {
		v = -v
	}
	return Amount(v), nil
}

// MustParse is Parse for constants in tests and seeds; it panics on bad input.
func MustParse(s string) Amount {
	a, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return a
}

// String formats the amount with exactly two decimals: 1234 → "12.34",
// -5 → "-0.05".
func (a Amount) String() string {
	v := int64(a)
	sign := ""
	if v < 0 {
		sign = "-"
		v = -v
	}
	return fmt.Sprintf("%s%d.%02d", sign, v/100, v%100)
}

// Decimals formats the amount with n decimals (n ≥ 2), as Splynx's
// "100.0000" style: Amount(10000).Decimals(4) == "100.0000".
func (a Amount) Decimals(n int) string {
	s := a.String()
	if n > 2 {
		s += strings.Repeat("0", n-2)
	}
	return s
}

// Cents returns the amount as a plain int64 of minor units.
func (a Amount) Cents() int64 { return int64(a) }

// Percent returns a·pct/100 where pct is given in hundredths of a percent
// (250 = 2.50%), rounded half away from zero. Used for service fees.
func (a Amount) Percent(pctHundredths int64) Amount {
	n := int64(a) * pctHundredths
	q, r := n/10000, n%10000
	if r < 0 {
		r = -r
	}
	if r*2 >= 10000 {
		if n < 0 {
			q--
		} else {
			q++
		}
	}
	return Amount(q)
}
