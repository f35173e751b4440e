package store

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/splynx-pay/splynx-pay/internal/money"
)

// itemsText encodes items for the items column (layout in 0001_mirror.sql).
// It is written by hand rather than through encoding/json: a full pass
// encodes millions of lines, and this needs no reflection and one
// allocation per invoice.
func (w *MirrorWriter) itemsText(items []Item) string {
	if len(items) == 0 {
		return "[]"
	}
	b := w.buf[:0]
	b = append(b, '[')
	for i := range items {
		it := &items[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '[')
		b = strconv.AppendInt(b, it.ID, 10)
		b = append(b, ',')
		b = appendJSONString(b, it.Description)
		b = append(b, ',')
		b = appendJSONString(b, it.Quantity)
		b = append(b, ',')
		b = appendJSONString(b, it.Unit)
		b = append(b, ',')
		b = strconv.AppendInt(b, int64(it.Price), 10)
		b = append(b, ',')
		b = appendJSONString(b, it.Tax)
		b = append(b, ',', '"')
		if !it.PeriodFrom.IsZero() {
			b = appendDate(b, it.PeriodFrom)
		}
		b = append(b, '"', ',', '"')
		if !it.PeriodTo.IsZero() {
			b = appendDate(b, it.PeriodTo)
		}
		b = append(b, '"', ']')
	}
	b = append(b, ']')
	w.buf = b
	return string(b)
}

// appendJSONString appends s as a JSON string. Bytes of 0x80 and above are
// copied as they are (UTF-8 text stays UTF-8).
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
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
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// itemTuple reads one line of the items column.
type itemTuple Item

func (t *itemTuple) UnmarshalJSON(b []byte) error {
	var (
		price    int64
		from, to string
	)
	fields := []any{&t.ID, &t.Description, &t.Quantity, &t.Unit, &price, &t.Tax, &from, &to}
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	if len(raw) != len(fields) {
		return fmt.Errorf("item has %d fields, want %d", len(raw), len(fields))
	}
	for i, r := range raw {
		if err := json.Unmarshal(r, fields[i]); err != nil {
			return fmt.Errorf("item field %d: %w", i, err)
		}
	}
	t.Price = money.Amount(price)
	t.PeriodFrom = parseDate(from)
	t.PeriodTo = parseDate(to)
	return nil
}

// parseItems decodes the items column.
func parseItems(s string) ([]Item, error) {
	if s == "" || s == "[]" {
		return nil, nil
	}
	var ts []itemTuple
	if err := json.Unmarshal([]byte(s), &ts); err != nil {
		return nil, fmt.Errorf("decode items: %w", err)
	}
	out := make([]Item, len(ts))
	for i := range ts {
		out[i] = Item(ts[i])
	}
	return out, nil
}
