package store

import (
	"encoding/json"
	"time"

	"github.com/splynx-pay/splynx-pay/internal/money"
)

// Splynx text formats. Dates and datetimes are kept as Splynx sends them
// (Splynx's local time, no zone), parsed here as UTC wall-clock values.
const (
	DateLayout     = "2006-01-02"
	DateTimeLayout = "2006-01-02 15:04:05"
)

// Customer is a mirrored Splynx customer.
type Customer struct {
	ID           int64
	Login        string
	Name         string
	Email        string
	BillingEmail string
	Phone        string
	Category     string
	Status       string // new | active | blocked | disabled
	BillingType  string // recurring | prepaid | prepaid_monthly
	PartnerID    int64
	LocationID   int64
	Street1      string
	Street2      string
	City         string
	ZipCode      string
	DateAdd      time.Time // zero when absent
	LastUpdate   time.Time // Splynx's clock
	Additional   map[string]string
	SyncedAt     time.Time
}

// Billing is a mirrored customer-billing record.
type Billing struct {
	CustomerID    int64
	Enabled       bool
	Type          string
	Deposit       money.Amount // account balance
	PaymentMethod int64        // Splynx payment method id
	BillingDate   string
	BillingDue    string
	MinBalance    money.Amount
	SyncedAt      time.Time
}

// Item is a line of an invoice or proforma.
type Item struct {
	ID          int64
	Description string
	Quantity    string // as Splynx sent it ("1", "2.5")
	Unit        string
	Price       money.Amount
	Tax         string // VAT percent as Splynx sent it
	PeriodFrom  time.Time
	PeriodTo    time.Time
}

// Invoice is a mirrored Splynx invoice.
type Invoice struct {
	ID                 int64
	CustomerID         int64
	Number             string
	DateCreated        time.Time
	RealCreateDatetime time.Time
	DateUpdated        time.Time
	DatePayment        time.Time
	DateTill           time.Time
	Total              money.Amount
	Due                money.Amount
	Status             string // not_paid | paid | pending | deleted
	PaymentID          int64
	Type               string
	Note               string
	Memo               string
	Additional         map[string]string
	Items              []Item // filled by GetInvoice, and by ListInvoices with WithItems
	SyncedAt           time.Time
}

// Proforma is a mirrored Splynx proforma invoice ("request").
type Proforma struct {
	ID                 int64
	CustomerID         int64
	Number             string
	DateCreated        time.Time
	RealCreateDatetime time.Time
	DateUpdated        time.Time
	DatePayment        time.Time
	DateTill           time.Time
	Total              money.Amount
	Status             string // not_paid | paid | pending
	PaymentID          int64
	Note               string
	Memo               string
	Items              []Item
	SyncedAt           time.Time
}

// PaymentMethod is a mirrored Splynx payment method.
type PaymentMethod struct {
	ID       int64
	Name     string
	IsActive bool
	Names    [5]string // labels of a payment's field_1..field_5
}

// FormatDate renders a date the way the mirror stores it ("" when zero).
func FormatDate(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	var b [10]byte
	return string(appendDate(b[:0], t))
}

// FormatDateTime renders a datetime the way the mirror stores it ("" when zero).
func FormatDateTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	var b [19]byte
	return string(appendDateTime(b[:0], t))
}

// appendDateTime is t.Format(DateTimeLayout) the way appendDate is.
func appendDateTime(b []byte, t time.Time) []byte {
	b = appendDate(b, t)
	h, m, s := t.Clock()
	b = append(b, ' ')
	b = append2(b, h)
	b = append(b, ':')
	b = append2(b, m)
	b = append(b, ':')
	return append2(b, s)
}

// appendDate is t.Format(DateLayout) without the layout interpreter; the
// mirror formats millions of dates per pass.
func appendDate(b []byte, t time.Time) []byte {
	y, mo, d := t.Date()
	if y < 0 || y > 9999 {
		return t.AppendFormat(b, DateLayout)
	}
	b = append(b, byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-')
	b = append2(b, int(mo))
	b = append(b, '-')
	return append2(b, d)
}

func append2(b []byte, n int) []byte { return append(b, byte('0'+n/10), byte('0'+n%10)) }

func parseDate(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(DateLayout, s)
	if err != nil {
		return time.Time{}
	}
	return t
}

func parseDateTime(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(DateTimeLayout, s)
	if err != nil {
		return time.Time{}
	}
	return t
}

func encodeAttrs(m map[string]string) (string, error) {
	if len(m) == 0 {
		return "{}", nil
	}
	b, err := json.Marshal(m)
	return string(b), err
}

func decodeAttrs(s string) map[string]string {
	if s == "" || s == "{}" {
		return nil
	}
	var m map[string]string
	if json.Unmarshal([]byte(s), &m) != nil {
		return nil
	}
	return m
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// MirrorCounts is the number of rows in each mirror table, and of the
// items held in invoice and proforma rows.
type MirrorCounts struct {
	Customers, Billing, Invoices, InvoiceItems, Proformas, ProformaItems, PaymentMethods int
}
