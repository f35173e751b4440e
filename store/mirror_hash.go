package store

import (
	"strconv"
	"time"
)

// fnv fingerprints field values (FNV-1a, 64 bits) with a separator after
// each, so that moving text between fields changes it. Values are fed one by
// one rather than boxed: a pass hashes millions of rows.
type fnv uint64

func newFNV() fnv { return 14695981039346656037 }

func (h *fnv) str(s string) *fnv {
	x := uint64(*h)
	for i := 0; i < len(s); i++ {
		x ^= uint64(s[i])
		x *= 1099511628211
	}
	x ^= 0xff
	x *= 1099511628211
	*h = fnv(x)
	return h
}

func (h *fnv) num(n int64) *fnv {
	var b [20]byte
	x := uint64(*h)
	for _, c := range strconv.AppendInt(b[:0], n, 10) {
		x ^= uint64(c)
		x *= 1099511628211
	}
	x ^= 0xff
	x *= 1099511628211
	*h = fnv(x)
	return h
}

// date and dateTime hash t as FormatDate and FormatDateTime render it,
// without allocating the string.
func (h *fnv) date(t time.Time) *fnv {
	if t.IsZero() {
		return h.str("")
	}
	var b [10]byte
	return h.bytes(appendDate(b[:0], t))
}

func (h *fnv) dateTime(t time.Time) *fnv {
	if t.IsZero() {
		return h.str("")
	}
	var b [19]byte
	return h.bytes(appendDateTime(b[:0], t))
}

func (h *fnv) bytes(s []byte) *fnv {
	x := uint64(*h)
	for _, c := range s {
		x ^= uint64(c)
		x *= 1099511628211
	}
	x ^= 0xff
	x *= 1099511628211
	*h = fnv(x)
	return h
}

func (h *fnv) sum() int64 { return int64(*h) }

func customerHash(c *Customer, attrs string) int64 {
	h := newFNV()
	h.str(c.Login).str(c.Name).str(c.Email).str(c.BillingEmail).str(c.Phone).str(c.Category).str(c.Status).
		str(c.BillingType).num(c.PartnerID).num(c.LocationID).str(c.Street1).str(c.Street2).str(c.City).
		str(c.ZipCode).date(c.DateAdd).dateTime(c.LastUpdate).str(attrs)
	return h.sum()
}

// documentHash fingerprints an invoice, or with invoice false a proforma
// (an invoice row without due, type and attributes).
func documentHash(v *Invoice, attrs string, invoice bool) int64 {
	h := newFNV()
	h.num(v.CustomerID).str(v.Number).date(v.DateCreated).dateTime(v.RealCreateDatetime).
		dateTime(v.DateUpdated).date(v.DatePayment).date(v.DateTill).num(int64(v.Total))
	if invoice {
		h.num(int64(v.Due))
	}
	h.str(v.Status).num(v.PaymentID)
	if invoice {
		h.str(v.Type)
	}
	h.str(v.Note).str(v.Memo)
	if invoice {
		h.str(attrs)
	}
	return h.sum()
}

func itemsHashOf(items []Item) int64 {
	h := newFNV()
	h.num(int64(len(items)))
	for i := range items {
		it := &items[i]
		h.num(it.ID).str(it.Description).str(it.Quantity).str(it.Unit).num(int64(it.Price)).str(it.Tax).
			date(it.PeriodFrom).date(it.PeriodTo)
	}
	return h.sum()
}
