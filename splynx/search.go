package splynx

import (
	"strconv"
	"strings"
)

// Search selects records of a list endpoint. Splynx reads it as PHP arrays
// nested in the query string (main_attributes[status]=not_paid), which Go's
// url.Values cannot express, hence Encode.
type Search struct {
	Main       []Cond    // main_attributes
	Additional []Cond    // additional_attributes (custom fields, by name)
	Order      []OrderBy // order[field]=ASC|DESC, in this order
	Limit      int       // page size for List*, a plain limit for Encode; 0 = none
	Offset     int
}

// Cond is one condition. Op is "=", "!=", "<>", ">", ">=", "<", "<=",
// "LIKE", "IS", "REGEXP", "FIND_IN_SET", "IN" (any number of Values) or
// "BETWEEN" (two Values). An empty Op means "=".
type Cond struct {
	Field  string
	Op     string
	Values []string
}

// OrderBy sorts by Field; Desc false means ASC.
type OrderBy struct {
	Field string
	Desc  bool
}

// Eq is Field = v, sent in the short form main_attributes[f]=v.
func Eq(field, v string) Cond { return Cond{Field: field, Op: "=", Values: []string{v}} }

// Where is Field <op> v.
func Where(field, op, v string) Cond { return Cond{Field: field, Op: op, Values: []string{v}} }

// In is Field IN (vs...).
func In(field string, vs ...string) Cond { return Cond{Field: field, Op: "IN", Values: vs} }

// Between is lo <= Field <= hi.
func Between(field, lo, hi string) Cond {
	return Cond{Field: field, Op: "BETWEEN", Values: []string{lo, hi}}
}

// Asc orders by field ascending.
func Asc(field string) OrderBy { return OrderBy{Field: field} }

// Desc orders by field descending.
func Desc(field string) OrderBy { return OrderBy{Field: field, Desc: true} }

// Encode renders the search as PHP's http_build_query would: keys and values
// urlencoded (brackets as %5B %5D, spaces as +), conditions in the order
// given, then order, limit and offset (each only when set).
//
//	main_attributes[f]=v                                   for "="
//	main_attributes[f][0]=OP&main_attributes[f][1]=v       for other operators
//	main_attributes[f][0]=IN&...[1][0]=a&...[1][1]=b       for IN
//	main_attributes[f][0]=BETWEEN&...[1]=lo&...[2]=hi      for BETWEEN
func (s Search) Encode() string {
	var b strings.Builder
	for _, c := range s.Main {
		encodeCond(&b, "main_attributes", c)
	}
	for _, c := range s.Additional {
		encodeCond(&b, "additional_attributes", c)
	}
	for _, o := range s.Order {
		dir := "ASC"
		if o.Desc {
			dir = "DESC"
		}
		param(&b, "order["+o.Field+"]", dir)
	}
	if s.Limit > 0 {
		param(&b, "limit", strconv.Itoa(s.Limit))
	}
	if s.Offset > 0 {
		param(&b, "offset", strconv.Itoa(s.Offset))
	}
	return b.String()
}

func encodeCond(b *strings.Builder, group string, c Cond) {
	key := group + "[" + c.Field + "]"
	op := strings.ToUpper(strings.TrimSpace(c.Op))
	switch {
	case (op == "" || op == "=") && len(c.Values) <= 1:
		param(b, key, first(c.Values))
	case op == "IN" || op == "NOT IN":
		param(b, key+"[0]", op)
		for i, v := range c.Values {
			param(b, key+"[1]["+strconv.Itoa(i)+"]", v)
		}
	default:
		// BETWEEN puts lo and hi at [1] and [2]; the other operators have
		// one value at [1]. Both are "values from index 1 on".
		param(b, key+"[0]", op)
		if len(c.Values) == 0 {
			param(b, key+"[1]", "")
		}
		for i, v := range c.Values {
			param(b, key+"["+strconv.Itoa(i+1)+"]", v)
		}
	}
}

func first(vs []string) string {
	if len(vs) == 0 {
		return ""
	}
	return vs[0]
}

func param(b *strings.Builder, key, value string) {
	if b.Len() > 0 {
		b.WriteByte('&')
	}
	phpURLEncode(b, key)
	b.WriteByte('=')
	phpURLEncode(b, value)
}

// phpURLEncode is PHP's urlencode (RFC 1738 flavour, which http_build_query
// uses by default): letters, digits and -_. stay, space becomes +, every
// other byte is %XX in upper case. It differs from url.QueryEscape on '~'.
func phpURLEncode(b *strings.Builder, s string) {
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_', c == '.':
			b.WriteByte(c)
		case c == ' ':
			b.WriteByte('+')
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
}
