package splynx

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/splynx-pay/splynx-pay/internal/money"
)

// Splynx is loose about JSON types: the same field arrives as "7332" from one
// endpoint or version and as 7332 from another, money as "100.0000" or 100.5,
// and empty dates as "0000-00-00". The types here accept every variant seen so
// that a record decodes whatever the server's mood; they read the literal text
// of numbers and never pass through float64.

// ID is a Splynx record id: "7332", 7332, "", null and "0" all decode (the
// last three as 0, meaning "none").
type ID int64

// UnmarshalJSON accepts a string or a number.
func (id *ID) UnmarshalJSON(b []byte) error {
	if n, ok := plainInt(b); ok { // the common case, without allocating
		*id = ID(n)
		return nil
	}
	s, ok := scalarText(b)
	if !ok {
		return fmt.Errorf("splynx: id: not a string or number: %.40s", b)
	}
	if s == "" {
		*id = 0
		return nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		// Some endpoints send integral floats ("7332.0").
		if m, err2 := money.Parse(s); err2 == nil && m%100 == 0 {
			*id = ID(m / 100)
			return nil
		}
		return fmt.Errorf("splynx: id %q: %w", s, err)
	}
	*id = ID(n)
	return nil
}

// MarshalJSON writes the id as a number.
func (id ID) MarshalJSON() ([]byte, error) { return strconv.AppendInt(nil, int64(id), 10), nil }

// Int64 returns the id as an int64.
func (id ID) Int64() int64 { return int64(id) }

// Int is a whole number that may arrive as a string ("15") or a number.
type Int int64

// UnmarshalJSON accepts a string or a number.
func (n *Int) UnmarshalJSON(b []byte) error { return (*ID)(n).UnmarshalJSON(b) }

// Flag is a Splynx boolean: "1"/"0", 1/0, true/false, "true"/"false",
// "yes"/"no", "" and null (false).
type Flag bool

// UnmarshalJSON accepts every boolean spelling Splynx uses.
func (f *Flag) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch string(b) {
	case "true", `"1"`, "1":
		*f = true
		return nil
	case "false", "null", `"0"`, "0", `""`:
		*f = false
		return nil
	}
	s, ok := scalarText(b)
	if !ok {
		return fmt.Errorf("splynx: flag: not a scalar: %.40s", b)
	}
	switch s {
	case "1", "true", "yes", "on", "enabled":
		*f = true
	case "", "0", "false", "no", "off", "disabled":
		*f = false
	default:
		if m, err := money.Parse(s); err == nil {
			*f = m != 0
			return nil
		}
		return fmt.Errorf("splynx: flag: unexpected value %q", s)
	}
	return nil
}

// MarshalJSON writes "1" or "0", as Splynx itself does.
func (f Flag) MarshalJSON() ([]byte, error) {
	if f {
		return []byte(`"1"`), nil
	}
	return []byte(`"0"`), nil
}

// Money is an amount in minor units decoded from "100.0000", 100.5, "" or
// null (0), rounded half away from zero at the third decimal.
type Money money.Amount

// UnmarshalJSON parses the literal decimal text.
func (m *Money) UnmarshalJSON(b []byte) error {
	if a, ok := plainMoney(b); ok { // the common case, without allocating
		*m = Money(a)
		return nil
	}
	s, ok := scalarText(b)
	if !ok {
		return fmt.Errorf("splynx: money: not a string or number: %.40s", b)
	}
	if s == "" {
		*m = 0
		return nil
	}
	a, err := parseMoneyText(s)
	if err != nil {
		return fmt.Errorf("splynx: money: %w", err)
	}
	*m = Money(a)
	return nil
}

// MarshalJSON writes the amount as a decimal string with two places.
func (m Money) MarshalJSON() ([]byte, error) {
	return []byte(`"` + money.Amount(m).String() + `"`), nil
}

// Amount converts to money.Amount.
func (m Money) Amount() money.Amount { return money.Amount(m) }

// String formats the amount with two decimals.
func (m Money) String() string { return money.Amount(m).String() }

// parseMoneyText accepts what money.Parse accepts plus JSON exponent
// notation (1e2, 1.5E-1), which a PHP json_encode can emit for large or tiny
// floats; the exponent is applied by moving the decimal point in the text.
func parseMoneyText(s string) (money.Amount, error) {
	i := bytes.IndexAny([]byte(s), "eE")
	if i < 0 {
		return money.Parse(s)
	}
	exp, err := strconv.Atoi(s[i+1:])
	if err != nil || exp > 18 || exp < -18 {
		return 0, fmt.Errorf("%w: %q", money.ErrInvalid, s)
	}
	mant := s[:i]
	sign := ""
	if mant != "" && (mant[0] == '-' || mant[0] == '+') {
		sign, mant = mant[:1], mant[1:]
	}
	intPart, frac, _ := cutByte(mant, '.')
	digits := intPart + frac
	point := len(intPart) + exp
	for point < 0 {
		digits = "0" + digits
		point++
	}
	for point > len(digits) {
		digits += "0"
	}
	return money.Parse(sign + digits[:point] + "." + digits[point:])
}

func cutByte(s string, c byte) (before, after string, found bool) {
	if i := bytes.IndexByte([]byte(s), c); i >= 0 {
		return s[:i], s[i+1:], true
	}
	return s, "", false
}

// Date is a calendar date (YYYY-MM-DD). "0000-00-00", "" and null decode to
// the zero Date, which means "absent".
type Date struct{ t time.Time }

// NewDate returns the date of t (its year, month and day in t's location).
func NewDate(t time.Time) Date {
	if t.IsZero() {
		return Date{}
	}
	y, m, d := t.Date()
	return Date{time.Date(y, m, d, 0, 0, 0, 0, time.UTC)}
}

// ParseDate reads YYYY-MM-DD; the zero date forms give the zero Date.
func ParseDate(s string) (Date, error) {
	if s == "" || s == "0000-00-00" || s == "0000-00-00 00:00:00" {
		return Date{}, nil
	}
	if len(s) > 10 && s[10] == ' ' { // a datetime where a date was expected
		s = s[:10]
	}
	y, m, d, ok := parseYMD(s)
	if !ok || len(s) != 10 {
		return Date{}, fmt.Errorf("splynx: date %q: want YYYY-MM-DD", s)
	}
	return Date{time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)}, nil
}

// UnmarshalJSON accepts "YYYY-MM-DD", the zero forms, "" and null.
func (d *Date) UnmarshalJSON(b []byte) error {
	if len(b) == 12 && b[0] == '"' && b[11] == '"' { // "YYYY-MM-DD" without allocating
		if y, m, dd, ok := parseYMD(b[1:11]); ok {
			*d = Date{time.Date(y, time.Month(m), dd, 0, 0, 0, 0, time.UTC)}
			return nil
		}
	}
	s, ok := scalarText(b)
	if !ok {
		return fmt.Errorf("splynx: date: not a string: %.40s", b)
	}
	v, err := ParseDate(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// MarshalJSON writes "YYYY-MM-DD", or "0000-00-00" when absent.
func (d Date) MarshalJSON() ([]byte, error) {
	if d.IsZero() {
		return []byte(`"0000-00-00"`), nil
	}
	return []byte(`"` + d.String() + `"`), nil
}

// IsZero reports whether the date is absent.
func (d Date) IsZero() bool { return d.t.IsZero() }

// Time returns midnight UTC of the date (the zero time when absent).
func (d Date) Time() time.Time { return d.t }

// String is "YYYY-MM-DD", or "" when absent.
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return d.t.Format(time.DateOnly)
}

// DateTime is a Splynx wall-clock timestamp (YYYY-MM-DD HH:MM:SS) in the
// Splynx server's time zone, which the API does not state; it is held as if
// it were UTC. "0000-00-00 00:00:00", "" and null decode to the zero value.
type DateTime struct{ t time.Time }

// NewDateTime returns t's wall clock as a DateTime.
func NewDateTime(t time.Time) DateTime {
	if t.IsZero() {
		return DateTime{}
	}
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	return DateTime{time.Date(y, mo, d, h, mi, s, 0, time.UTC)}
}

// ParseDateTime reads "YYYY-MM-DD HH:MM:SS" (a bare date means midnight).
func ParseDateTime(s string) (DateTime, error) {
	if s == "" || s == "0000-00-00 00:00:00" || s == "0000-00-00" {
		return DateTime{}, nil
	}
	y, m, d, ok := parseYMD(s)
	if !ok {
		return DateTime{}, fmt.Errorf("splynx: datetime %q: want YYYY-MM-DD HH:MM:SS", s)
	}
	if len(s) == 10 {
		return DateTime{time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)}, nil
	}
	if len(s) != 19 || (s[10] != ' ' && s[10] != 'T') || s[13] != ':' || s[16] != ':' {
		return DateTime{}, fmt.Errorf("splynx: datetime %q: want YYYY-MM-DD HH:MM:SS", s)
	}
	h, ok1 := atoiN(s[11:13])
	mi, ok2 := atoiN(s[14:16])
	sec, ok3 := atoiN(s[17:19])
	if !ok1 || !ok2 || !ok3 || h > 23 || mi > 59 || sec > 60 {
		return DateTime{}, fmt.Errorf("splynx: datetime %q: bad time of day", s)
	}
	return DateTime{time.Date(y, time.Month(m), d, h, mi, sec, 0, time.UTC)}, nil
}

// UnmarshalJSON accepts "YYYY-MM-DD HH:MM:SS", a bare date, the zero forms,
// "" and null.
func (dt *DateTime) UnmarshalJSON(b []byte) error {
	if len(b) == 21 && b[0] == '"' && b[20] == '"' && b[11] == ' ' && b[14] == ':' && b[17] == ':' {
		if y, m, d, ok := parseYMD(b[1:11]); ok {
			h, ok1 := atoiN(b[12:14])
			mi, ok2 := atoiN(b[15:17])
			sec, ok3 := atoiN(b[18:20])
			if ok1 && ok2 && ok3 && h <= 23 && mi <= 59 && sec <= 60 {
				*dt = DateTime{time.Date(y, time.Month(m), d, h, mi, sec, 0, time.UTC)}
				return nil
			}
		}
	}
	s, ok := scalarText(b)
	if !ok {
		return fmt.Errorf("splynx: datetime: not a string: %.40s", b)
	}
	v, err := ParseDateTime(s)
	if err != nil {
		return err
	}
	*dt = v
	return nil
}

// MarshalJSON writes "YYYY-MM-DD HH:MM:SS" or the zero form.
func (dt DateTime) MarshalJSON() ([]byte, error) {
	if dt.IsZero() {
		return []byte(`"0000-00-00 00:00:00"`), nil
	}
	return []byte(`"` + dt.String() + `"`), nil
}

// IsZero reports whether the timestamp is absent.
func (dt DateTime) IsZero() bool { return dt.t.IsZero() }

// Time returns the wall clock as a UTC time.
func (dt DateTime) Time() time.Time { return dt.t }

// String is "YYYY-MM-DD HH:MM:SS", or "" when absent.
func (dt DateTime) String() string {
	if dt.IsZero() {
		return ""
	}
	return dt.t.Format(time.DateTime)
}

func parseYMD[S ~string | ~[]byte](s S) (y, m, d int, ok bool) {
	if len(s) < 10 || s[4] != '-' || s[7] != '-' {
		return 0, 0, 0, false
	}
	y, ok1 := atoiN(s[0:4])
	m, ok2 := atoiN(s[5:7])
	d, ok3 := atoiN(s[8:10])
	if !ok1 || !ok2 || !ok3 || m < 1 || m > 12 || d < 1 || d > daysIn(y, m) {
		return 0, 0, 0, false
	}
	return y, m, d, true
}

func daysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

func atoiN[S ~string | ~[]byte](s S) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// plainInt reads 123, -5, "123" or "-5" (no spaces, no exponent) without
// allocating; ok is false for anything else, which the slower general
// path then judges.
func plainInt(b []byte) (int64, bool) {
	if len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' {
		b = b[1 : len(b)-1]
	}
	neg := false
	if len(b) > 0 && b[0] == '-' {
		neg, b = true, b[1:]
	}
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

// plainMoney reads the usual money forms ("100.0000", -12.5, 7, "0.125")
// exactly as money.Parse does (half away from zero at the third decimal),
// without allocating; ok is false for anything unusual, which then goes
// through money.Parse itself.
func plainMoney(b []byte) (money.Amount, bool) {
	if len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' {
		b = b[1 : len(b)-1]
	}
	neg := false
	if len(b) > 0 && b[0] == '-' {
		neg, b = true, b[1:]
	}
	intPart, frac := b, []byte(nil)
	if i := bytes.IndexByte(b, '.'); i >= 0 {
		intPart, frac = b[:i], b[i+1:]
	}
	if len(intPart) == 0 || len(intPart) > 16 {
		return 0, false
	}
	var whole int64
	for _, c := range intPart {
		if c < '0' || c > '9' {
			return 0, false
		}
		whole = whole*10 + int64(c-'0')
	}
	for _, c := range frac {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	cents := int64(0)
	if len(frac) > 0 {
		cents += int64(frac[0]-'0') * 10
	}
	if len(frac) > 1 {
		cents += int64(frac[1] - '0')
	}
	if len(frac) > 2 && frac[2] >= '5' {
		cents++
	}
	v := whole*100 + cents
	if neg {
		v = -v
	}
	return money.Amount(v), true
}

// scalarText returns the text of a JSON string, number, boolean or null
// ("" for null) without float conversion. ok is false for objects and arrays.
func scalarText(b []byte) (string, bool) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return "", true
	}
	switch b[0] {
	case '"':
		if len(b) >= 2 && bytes.IndexByte(b[1:len(b)-1], '\\') < 0 {
			return string(bytes.TrimSpace(b[1 : len(b)-1])), true
		}
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return "", false
		}
		return string(bytes.TrimSpace([]byte(s))), true
	case '{', '[':
		return "", false
	case 'n':
		return "", string(b) == "null"
	default:
		return string(b), true
	}
}

// Each record's UnmarshalJSON decodes into the record itself but routes its
// string fields through *text pointers aimed at those same fields, so a
// number or null where Splynx usually sends a string still decodes, with no
// second copy of the struct. Loose ids, flags, money and dates carry their
// own UnmarshalJSON.

// text is a string field that may arrive as a number, boolean or null
// (Splynx sends numeric logins, invoice numbers and zip codes either way).
type text string

func (t *text) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		if bytes.IndexByte(b[1:len(b)-1], '\\') < 0 {
			*t = text(b[1 : len(b)-1])
			return nil
		}
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*t = text(s)
		return nil
	}
	s, ok := scalarText(b)
	if !ok {
		// An array or object where text was expected: keep its JSON so
		// nothing is lost, rather than failing the whole record.
		*t = text(b)
		return nil
	}
	*t = text(s)
	return nil
}

// attrs is additional_attributes: an object of scalars, but PHP encodes an
// empty one as [] and values can be numbers, null or nested arrays.
type attrs map[string]string

func (a *attrs) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] == '[' || string(b) == "null" || string(b) == `""` {
		var list []json.RawMessage
		if len(b) > 0 && b[0] == '[' {
			if err := json.Unmarshal(b, &list); err != nil {
				return fmt.Errorf("splynx: additional_attributes: %w", err)
			}
		}
		if len(list) == 0 {
			*a = nil
			return nil
		}
		// A non-empty list means PHP saw sequential keys 0..n.
		m := make(map[string]string, len(list))
		for i, v := range list {
			var t text
			if err := t.UnmarshalJSON(v); err != nil {
				return err
			}
			m[strconv.Itoa(i)] = string(t)
		}
		*a = m
		return nil
	}
	var raw map[string]text
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("splynx: additional_attributes: %w", err)
	}
	m := make(map[string]string, len(raw))
	for k, v := range raw {
		m[k] = string(v)
	}
	*a = m
	return nil
}

// list is a JSON array that PHP may also render as an object keyed by
// index ({"0":{..},"1":{..}}) when the array is not sequential.
type list[T any] []T

func (l *list[T]) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" || string(b) == `""` {
		*l = nil
		return nil
	}
	if b[0] == '{' {
		var m map[string]T
		if err := json.Unmarshal(b, &m); err != nil {
			return err
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sortNumericKeys(keys)
		out := make([]T, 0, len(keys))
		for _, k := range keys {
			out = append(out, m[k])
		}
		*l = out
		return nil
	}
	var s []T
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	if len(s) == 0 {
		s = nil // [] and absent mean the same
	}
	*l = s
	return nil
}

func sortNumericKeys(keys []string) {
	sort.Slice(keys, func(i, j int) bool {
		a, errA := strconv.Atoi(keys[i])
		b, errB := strconv.Atoi(keys[j])
		if errA == nil && errB == nil {
			return a < b
		}
		return keys[i] < keys[j]
	})
}
