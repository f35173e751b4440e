package splynxsim

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// jw appends JSON by hand. The simulator serves a million invoices to a
// benchmark, and reflection-based encoding of maps would make the simulator,
// not the client, the thing being measured.
type jw struct {
	b        []byte
	idsNum   bool // ids (and flags) as JSON numbers instead of "7332"
	moneyNum bool // money as JSON numbers instead of "100.0000"
}

func (w *jw) open()     { w.b = append(w.b, '{') }
func (w *jw) openArr()  { w.b = append(w.b, '[') }
func (w *jw) close()    { w.end('}') }
func (w *jw) closeArr() { w.end(']') }

// end closes an object or array, dropping the trailing comma of the last
// element, and leaves a comma so the value can be an element itself.
func (w *jw) end(c byte) {
	if n := len(w.b); n > 0 && w.b[n-1] == ',' {
		w.b[n-1] = c
	} else {
		w.b = append(w.b, c)
	}
	w.b = append(w.b, ',')
}

// bytes returns the document without the trailing comma.
func (w *jw) bytes() []byte {
	if n := len(w.b); n > 0 && w.b[n-1] == ',' {
		return w.b[:n-1]
	}
	return w.b
}

func (w *jw) key(k string) {
	w.b = append(w.b, '"')
	w.b = append(w.b, k...)
	w.b = append(w.b, '"', ':')
}

func (w *jw) str(k, v string) {
	w.key(k)
	w.b = appendJSONString(w.b, v)
	w.b = append(w.b, ',')
}

func (w *jw) strVal(v string) {
	w.b = appendJSONString(w.b, v)
	w.b = append(w.b, ',')
}

// id writes an id-like integer: "7332" by default, 7332 with IDsAsNumbers.
func (w *jw) id(k string, v int64) {
	w.key(k)
	w.idVal(v)
}

func (w *jw) idVal(v int64) {
	if w.idsNum {
		w.b = strconv.AppendInt(w.b, v, 10)
	} else {
		w.b = append(w.b, '"')
		w.b = strconv.AppendInt(w.b, v, 10)
		w.b = append(w.b, '"')
	}
	w.b = append(w.b, ',')
}

// num writes a plain JSON number regardless of options (counts, unix times).
func (w *jw) num(k string, v int64) {
	w.key(k)
	w.b = strconv.AppendInt(w.b, v, 10)
	w.b = append(w.b, ',')
}

func (w *jw) flag(k string, v bool) {
	n := int64(0)
	if v {
		n = 1
	}
	w.id(k, n)
}

func (w *jw) boolean(k string, v bool) {
	w.key(k)
	w.b = strconv.AppendBool(w.b, v)
	w.b = append(w.b, ',')
}

// money writes cents as "100.0000" by default, or as a number (100, 100.5).
func (w *jw) money(k string, cents int64) {
	w.key(k)
	if w.moneyNum {
		w.b = appendMoneyNumber(w.b, cents)
	} else {
		w.b = append(w.b, '"')
		w.b = appendMoney4(w.b, cents)
		w.b = append(w.b, '"')
	}
	w.b = append(w.b, ',')
}

// percent writes hundredths of a percent as "10.0000".
func (w *jw) percent(k string, hundredths int64) {
	w.key(k)
	w.b = append(w.b, '"')
	w.b = appendMoney4(w.b, hundredths)
	w.b = append(w.b, '"', ',')
}

func (w *jw) date(k string, d int32) {
	w.key(k)
	w.b = append(w.b, '"')
	w.b = appendDay(w.b, d)
	w.b = append(w.b, '"', ',')
}

func (w *jw) datetime(k string, sec int64) {
	w.key(k)
	w.b = append(w.b, '"')
	w.b = appendDatetime(w.b, sec)
	w.b = append(w.b, '"', ',')
}

func (w *jw) strMap(k string, m map[string]string, names []string) {
	w.key(k)
	w.open()
	seen := 0
	for _, n := range names {
		w.str(n, m[n])
		if _, ok := m[n]; ok {
			seen++
		}
	}
	if seen < len(m) {
		for _, n := range sortedKeys(m) {
			if !contains(names, n) {
				w.str(n, m[n])
			}
		}
	}
	w.close()
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

const hexDigits = "0123456789abcdef"

func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				b = append(b, s[start:i]...)
				b = append(b, `\ufffd`...)
				i++
				start = i
				continue
			}
			i += size
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		i++
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// appendMoney4 writes cents with four decimals, Splynx style: 12345 → "123.4500".
func appendMoney4(b []byte, cents int64) []byte {
	if cents < 0 {
		b = append(b, '-')
		cents = -cents
	}
	b = strconv.AppendInt(b, cents/100, 10)
	r := cents % 100
	return append(b, '.', byte('0'+r/10), byte('0'+r%10), '0', '0')
}

// appendMoneyNumber writes cents as the shortest decimal: 12000 → 120, 12050 → 120.5.
func appendMoneyNumber(b []byte, cents int64) []byte {
	if cents < 0 {
		b = append(b, '-')
		cents = -cents
	}
	b = strconv.AppendInt(b, cents/100, 10)
	r := cents % 100
	switch {
	case r == 0:
	case r%10 == 0:
		b = append(b, '.', byte('0'+r/10))
	default:
		b = append(b, '.', byte('0'+r/10), byte('0'+r%10))
	}
	return b
}

// Dates are kept compact: a day is int32 days since 1970-01-01 plus one, so
// the zero value is the empty date; a datetime is int64 unix seconds with 0
// as empty.

func dayOf(t time.Time) int32 {
	if t.IsZero() {
		return 0
	}
	y, m, d := t.UTC().Date()
	return int32(daysFromCivil(int64(y), int64(m), int64(d))) + 1
}

func secOf(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

func timeOfDay(d int32) time.Time {
	if d == 0 {
		return time.Time{}
	}
	return time.Unix(int64(d-1)*86400, 0).UTC()
}

func timeOfSec(s int64) time.Time {
	if s == 0 {
		return time.Time{}
	}
	return time.Unix(s, 0).UTC()
}

func dayOfSec(s int64) int32 {
	if s == 0 {
		return 0
	}
	return int32(floorDiv(s, 86400)) + 1
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// daysFromCivil and civilFromDays are Howard Hinnant's proleptic Gregorian
// conversions; they avoid time.Time formatting in the hot listing path.
func daysFromCivil(y, m, d int64) int64 {
	if m <= 2 {
		y--
	}
	era := floorDiv(y, 400)
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

func civilFromDays(z int64) (y, m, d int64) {
	z += 719468
	era := floorDiv(z, 146097)
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y = yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = doy - (153*mp+2)/5 + 1
	m = mp + 3
	if m > 12 {
		m -= 12
	}
	if m <= 2 {
		y++
	}
	return
}

func append2(b []byte, v int64) []byte { return append(b, byte('0'+v/10), byte('0'+v%10)) }

func appendYMD(b []byte, days int64) []byte {
	y, m, d := civilFromDays(days)
	b = append2(b, y/100)
	b = append2(b, y%100)
	b = append(b, '-')
	b = append2(b, m)
	b = append(b, '-')
	return append2(b, d)
}

func appendDay(b []byte, d int32) []byte {
	if d == 0 {
		return append(b, "0000-00-00"...)
	}
	return appendYMD(b, int64(d-1))
}

func appendDatetime(b []byte, s int64) []byte {
	if s == 0 {
		return append(b, "0000-00-00 00:00:00"...)
	}
	days := floorDiv(s, 86400)
	rem := s - days*86400
	b = appendYMD(b, days)
	b = append(b, ' ')
	b = append2(b, rem/3600)
	b = append(b, ':')
	b = append2(b, rem%3600/60)
	b = append(b, ':')
	return append2(b, rem%60)
}

func yearOfDay(d int32) int64 {
	if d == 0 {
		return 0
	}
	y, _, _ := civilFromDays(int64(d - 1))
	return y
}
