package splynx

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"
)

// Listing a million invoices through encoding/json costs many times the
// transfer itself: every record is scanned once by the Decoder, again by
// each UnmarshalJSON and once more per field to find its end. The list path
// therefore walks each record's bytes once with the small scanner below and
// hands every field's raw value straight to the same loose-type methods the
// UnmarshalJSON path uses, so both paths agree by construction. Anything the
// scanner does not expect falls back to json.Unmarshal for that record.

var errSyntax = errors.New("malformed JSON")

// decodeRecord fills v from one record's JSON, fast when it can.
func decodeRecord[T any](raw []byte, v *T) error {
	if d, ok := any(v).(scanDecoder); ok {
		if err := decodeFast(raw, d); err == nil {
			return nil
		}
		var zero T
		*v = zero
	}
	return json.Unmarshal(raw, v)
}

// scanRecord decodes the record at the scanner, falling back to
// encoding/json (on the record's own bytes) when the fast path balks.
func scanRecord[T any](s *scanner, v *T) error {
	start := s.i
	if d, ok := any(v).(scanDecoder); ok {
		if err := d.scanFrom(s); err == nil {
			return nil
		}
		var zero T
		*v = zero
		s.i = start
	}
	raw, err := s.value()
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, v)
}

type scanner struct {
	b []byte
	i int
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// str advances past the string starting at s.i (which is '"').
func (s *scanner) str() error {
	s.i++
	for {
		q := bytes.IndexByte(s.b[s.i:], '"')
		if q < 0 {
			s.i = len(s.b)
			return errSyntax
		}
		end := s.i + q
		// The quote is escaped when an odd number of backslashes precede it.
		bs := 0
		for j := end - 1; j >= s.i && s.b[j] == '\\'; j-- {
			bs++
		}
		s.i = end + 1
		if bs%2 == 0 {
			return nil
		}
	}
}

// value returns the raw bytes of the next value and advances past it.
// Containers are checked for balance and string termination only; their
// contents are judged by whoever decodes them.
func (s *scanner) value() ([]byte, error) {
	s.ws()
	if s.i >= len(s.b) {
		return nil, errSyntax
	}
	start := s.i
	switch c := s.b[s.i]; c {
	case '"':
		if err := s.str(); err != nil {
			return nil, err
		}
	case '{', '[':
		var stack [32]byte
		depth := 0
		for s.i < len(s.b) {
			switch c := s.b[s.i]; c {
			case '"':
				if err := s.str(); err != nil {
					return nil, err
				}
				continue
			case '{', '[':
				if depth == len(stack) {
					return nil, errSyntax
				}
				stack[depth] = c + 2 // '{'+2 == '}', '['+2 == ']'
				depth++
			case '}', ']':
				if depth == 0 || stack[depth-1] != c {
					return nil, errSyntax
				}
				depth--
				if depth == 0 {
					s.i++
					return s.b[start:s.i], nil
				}
			}
			s.i++
		}
		return nil, errSyntax
	default:
		for s.i < len(s.b) {
			c := s.b[s.i]
			if (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E' || (c >= 'a' && c <= 'z') {
				s.i++
				continue
			}
			break
		}
		lit := s.b[start:s.i]
		if len(lit) == 0 {
			return nil, errSyntax
		}
		if lit[0] >= 'a' && lit[0] <= 'z' && string(lit) != "null" && string(lit) != "true" && string(lit) != "false" {
			return nil, errSyntax
		}
	}
	return s.b[start:s.i], nil
}

// fields walks the object at the scanner, calling fn with each key; fn
// must consume that key's value from the scanner.
func (s *scanner) fields(fn func(key []byte) error) error {
	s.ws()
	if s.i >= len(s.b) || s.b[s.i] != '{' {
		return errSyntax
	}
	s.i++
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == '}' {
		s.i++
		return nil
	}
	for {
		s.ws()
		if s.i >= len(s.b) || s.b[s.i] != '"' {
			return errSyntax
		}
		ks := s.i
		if err := s.str(); err != nil {
			return err
		}
		key := s.b[ks+1 : s.i-1]
		if bytes.IndexByte(key, '\\') >= 0 || !utf8.Valid(key) {
			// Escaped keys, and keys that are not UTF-8 (encoding/json
			// turns their bad bytes into U+FFFD): leave them to
			// encoding/json.
			return errSyntax
		}
		s.ws()
		if s.i >= len(s.b) || s.b[s.i] != ':' {
			return errSyntax
		}
		s.i++
		if err := fn(key); err != nil {
			return err
		}
		s.ws()
		if s.i >= len(s.b) {
			return errSyntax
		}
		switch s.b[s.i] {
		case ',':
			s.i++
		case '}':
			s.i++
			return nil
		default:
			return errSyntax
		}
	}
}

// elems walks the array at the scanner; fn must consume one element.
func (s *scanner) elems(fn func() error) error {
	s.ws()
	if s.i >= len(s.b) || s.b[s.i] != '[' {
		return errSyntax
	}
	s.i++
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == ']' {
		s.i++
		return nil
	}
	for {
		if err := fn(); err != nil {
			return err
		}
		s.ws()
		if s.i >= len(s.b) {
			return errSyntax
		}
		switch s.b[s.i] {
		case ',':
			s.i++
		case ']':
			s.i++
			return nil
		default:
			return errSyntax
		}
	}
}

// peek returns the next non-space byte (0 at the end).
func (s *scanner) peek() byte {
	s.ws()
	if s.i >= len(s.b) {
		return 0
	}
	return s.b[s.i]
}

// scanDecoder is a record that decodes itself straight off a scanner.
type scanDecoder interface {
	scanFrom(s *scanner) error
}

// decodeFast decodes one complete record with the scanner.
func decodeFast(raw []byte, d scanDecoder) error {
	s := scanner{b: raw}
	if err := d.scanFrom(&s); err != nil {
		return err
	}
	return s.end()
}

func (s *scanner) end() error {
	s.ws()
	if s.i != len(s.b) {
		return errSyntax
	}
	return nil
}

func scanText(s *scanner, dst *string) error {
	v, err := s.value()
	if err != nil {
		return err
	}
	if len(v) >= 2 && v[0] == '"' {
		if c, ok := common(v[1 : len(v)-1]); ok {
			*dst = c
			return nil
		}
	}
	var t text
	if err := t.UnmarshalJSON(v); err != nil {
		return err
	}
	*dst = string(t)
	return nil
}

func scanInto(s *scanner, u json.Unmarshaler) error {
	v, err := s.value()
	if err != nil {
		return err
	}
	return u.UnmarshalJSON(v)
}

func scanSkip(s *scanner) error {
	_, err := s.value()
	return err
}

func scanAttrs(s *scanner, dst *map[string]string) error {
	if s.peek() != '{' {
		return scanInto(s, (*attrs)(dst))
	}
	m := make(map[string]string)
	err := s.fields(func(k []byte) error {
		var v string
		if err := scanText(s, &v); err != nil {
			return err
		}
		m[string(k)] = v
		return nil
	})
	if err != nil {
		return err
	}
	*dst = m
	return nil
}

func scanItems(s *scanner, dst *[]InvoiceItem) error {
	if s.peek() != '[' {
		return scanInto(s, (*list[InvoiceItem])(dst))
	}
	var out []InvoiceItem
	err := s.elems(func() error {
		var it InvoiceItem
		if err := it.scanFrom(s); err != nil {
			return err
		}
		out = append(out, it)
		return nil
	})
	if err != nil {
		return err
	}
	*dst = out
	return nil
}

// docFields points at the fields an Invoice and a Proforma share, so that
// one switch decodes them for both.
type docFields struct {
	id, customerID, paymentID           *ID
	number, status, note, memo, addedBy *string
	dateCreated, datePayment, dateTill  *Date
	realCreateDatetime, dateUpdated     *DateTime
	total                               *Money
	isSent                              *Flag
	items                               *[]InvoiceItem
	attrs                               *map[string]string
}

// scanField decodes key k if it is a shared field; ok is false otherwise.
func (d *docFields) scanField(s *scanner, k []byte) (ok bool, err error) {
	switch string(k) { // no allocation: the conversion only feeds comparisons
	case "id":
		return true, scanInto(s, d.id)
	case "customer_id":
		return true, scanInto(s, d.customerID)
	case "number":
		return true, scanText(s, d.number)
	case "date_created":
		return true, scanInto(s, d.dateCreated)
	case "real_create_datetime":
		return true, scanInto(s, d.realCreateDatetime)
	case "date_updated":
		return true, scanInto(s, d.dateUpdated)
	case "date_payment":
		return true, scanInto(s, d.datePayment)
	case "date_till":
		return true, scanInto(s, d.dateTill)
	case "total":
		return true, scanInto(s, d.total)
	case "payment_id":
		return true, scanInto(s, d.paymentID)
	case "status":
		return true, scanText(s, d.status)
	case "is_sent":
		return true, scanInto(s, d.isSent)
	case "note":
		return true, scanText(s, d.note)
	case "memo":
		return true, scanText(s, d.memo)
	case "added_by":
		return true, scanText(s, d.addedBy)
	case "items":
		return true, scanItems(s, d.items)
	case "additional_attributes":
		return true, scanAttrs(s, d.attrs)
	}
	return false, nil
}

func (inv *Invoice) scanFrom(s *scanner) error {
	*inv = Invoice{}
	d := docFields{id: &inv.ID, customerID: &inv.CustomerID, paymentID: &inv.PaymentID, number: &inv.Number,
		status: &inv.Status, note: &inv.Note, memo: &inv.Memo, addedBy: &inv.AddedBy, dateCreated: &inv.DateCreated,
		datePayment: &inv.DatePayment, dateTill: &inv.DateTill, realCreateDatetime: &inv.RealCreateDatetime,
		dateUpdated: &inv.DateUpdated, total: &inv.Total, isSent: &inv.IsSent, items: &inv.Items,
		attrs: &inv.AdditionalAttributes}
	return s.fields(func(k []byte) error {
		switch string(k) { // no allocation: the conversion only feeds comparisons
		case "due":
			return scanInto(s, &inv.Due)
		case "type":
			return scanText(s, &inv.Type)
		case "payd_from_deposit":
			return scanInto(s, &inv.PaidFromDeposit)
		}
		if ok, err := d.scanField(s, k); ok {
			return err
		}
		return scanSkip(s)
	})
}

func (p *Proforma) scanFrom(s *scanner) error {
	*p = Proforma{}
	d := docFields{id: &p.ID, customerID: &p.CustomerID, paymentID: &p.PaymentID, number: &p.Number,
		status: &p.Status, note: &p.Note, memo: &p.Memo, addedBy: &p.AddedBy, dateCreated: &p.DateCreated,
		datePayment: &p.DatePayment, dateTill: &p.DateTill, realCreateDatetime: &p.RealCreateDatetime,
		dateUpdated: &p.DateUpdated, total: &p.Total, isSent: &p.IsSent, items: &p.Items,
		attrs: &p.AdditionalAttributes}
	return s.fields(func(k []byte) error {
		if ok, err := d.scanField(s, k); ok {
			return err
		}
		return scanSkip(s)
	})
}

func (it *InvoiceItem) scanFrom(s *scanner) error {
	*it = InvoiceItem{}
	return s.fields(func(k []byte) error {
		switch string(k) { // no allocation: the conversion only feeds comparisons
		case "id":
			return scanInto(s, &it.ID)
		case "description":
			return scanText(s, &it.Description)
		case "quantity":
			return scanText(s, &it.Quantity)
		case "unit":
			return scanText(s, &it.Unit)
		case "price":
			return scanInto(s, &it.Price)
		case "tax":
			return scanText(s, &it.Tax)
		case "period_from":
			return scanInto(s, &it.PeriodFrom)
		case "period_to":
			return scanInto(s, &it.PeriodTo)
		case "categoryIdForTransaction":
			return scanInto(s, &it.CategoryIDForTransaction)
		}
		return scanSkip(s)
	})
}

func (c *Customer) scanFrom(s *scanner) error {
	*c = Customer{}
	return s.fields(func(k []byte) error {
		switch string(k) { // no allocation: the conversion only feeds comparisons
		case "id":
			return scanInto(s, &c.ID)
		case "login":
			return scanText(s, &c.Login)
		case "name":
			return scanText(s, &c.Name)
		case "email":
			return scanText(s, &c.Email)
		case "billing_email":
			return scanText(s, &c.BillingEmail)
		case "phone":
			return scanText(s, &c.Phone)
		case "category":
			return scanText(s, &c.Category)
		case "status":
			return scanText(s, &c.Status)
		case "billing_type":
			return scanText(s, &c.BillingType)
		case "partner_id":
			return scanInto(s, &c.PartnerID)
		case "location_id":
			return scanInto(s, &c.LocationID)
		case "parent_id":
			return scanInto(s, &c.ParentID)
		case "street_1":
			return scanText(s, &c.Street1)
		case "street_2":
			return scanText(s, &c.Street2)
		case "zip_code":
			return scanText(s, &c.ZipCode)
		case "city":
			return scanText(s, &c.City)
		case "date_add":
			return scanInto(s, &c.DateAdd)
		case "last_update":
			return scanInto(s, &c.LastUpdate)
		case "additional_attributes":
			return scanAttrs(s, &c.AdditionalAttributes)
		}
		return scanSkip(s)
	})
}

func (cb *CustomerBilling) scanFrom(s *scanner) error {
	*cb = CustomerBilling{}
	return s.fields(func(k []byte) error {
		switch string(k) { // no allocation: the conversion only feeds comparisons
		case "customer_id":
			return scanInto(s, &cb.CustomerID)
		case "enabled":
			return scanInto(s, &cb.Enabled)
		case "type":
			return scanText(s, &cb.Type)
		case "deposit":
			return scanInto(s, &cb.Deposit)
		case "payment_method":
			return scanInto(s, &cb.PaymentMethod)
		case "billing_date":
			return scanInto(s, &cb.BillingDate)
		case "billing_due":
			return scanInto(s, &cb.BillingDue)
		case "blocking_period":
			return scanInto(s, &cb.BlockingPeriod)
		case "grace_period":
			return scanInto(s, &cb.GracePeriod)
		case "make_invoices":
			return scanInto(s, &cb.MakeInvoices)
		case "min_balance":
			return scanInto(s, &cb.MinBalance)
		case "billing_person":
			return scanText(s, &cb.BillingPerson)
		case "billing_street_1":
			return scanText(s, &cb.BillingStreet1)
		case "billing_zip_code":
			return scanText(s, &cb.BillingZipCode)
		case "billing_city":
			return scanText(s, &cb.BillingCity)
		case "partner_percent":
			return scanText(s, &cb.PartnerPercent)
		case "blocking_date":
			return scanInto(s, &cb.BlockingDate)
		case "send_finance_notification":
			return scanInto(s, &cb.SendFinanceNote)
		}
		return scanSkip(s)
	})
}

func (p *Payment) scanFrom(s *scanner) error {
	*p = Payment{}
	return s.fields(func(k []byte) error {
		switch string(k) { // no allocation: the conversion only feeds comparisons
		case "id":
			return scanInto(s, &p.ID)
		case "customer_id":
			return scanInto(s, &p.CustomerID)
		case "invoice_id":
			return scanInto(s, &p.InvoiceID)
		case "request_id":
			return scanInto(s, &p.RequestID)
		case "transaction_id":
			return scanInto(s, &p.TransactionID)
		case "payment_type":
			return scanInto(s, &p.PaymentType)
		case "receipt_number":
			return scanText(s, &p.ReceiptNumber)
		case "date":
			return scanInto(s, &p.Date)
		case "amount":
			return scanInto(s, &p.Amount)
		case "comment":
			return scanText(s, &p.Comment)
		case "note":
			return scanText(s, &p.Note)
		case "memo":
			return scanText(s, &p.Memo)
		case "field_1":
			return scanText(s, &p.Field1)
		case "field_2":
			return scanText(s, &p.Field2)
		case "field_3":
			return scanText(s, &p.Field3)
		case "field_4":
			return scanText(s, &p.Field4)
		case "field_5":
			return scanText(s, &p.Field5)
		case "remind_amount":
			return scanInto(s, &p.RemindAmount)
		case "added_by":
			return scanText(s, &p.AddedBy)
		case "real_create_datetime":
			return scanInto(s, &p.RealCreateDatetime)
		case "updated_at":
			return scanInto(s, &p.UpdatedAt)
		}
		return scanSkip(s)
	})
}

// scanPage decodes the records of a page that is a JSON array, yielding
// each. keyed reports a PHP object-shaped list ({"0":{..}}), left to the
// caller.
func scanPage[T any](page []byte, yield func(T, error) bool) (n int, stopped, keyed bool, err error) {
	s := scanner{b: page}
	switch c := s.peek(); c {
	case '{':
		return 0, false, true, nil
	case '[':
	case 0:
		return 0, false, false, fmt.Errorf("empty answer")
	default:
		return 0, false, false, fmt.Errorf("answer is not a JSON list (starts with %q)", c)
	}
	err = s.elems(func() error {
		var v T
		if err := scanRecord(&s, &v); err != nil {
			return fmt.Errorf("decoding record %d of the page: %w", n, err)
		}
		n++
		if !yield(v, nil) {
			stopped = true
			return errStopped
		}
		return nil
	})
	if stopped {
		return n, true, false, nil
	}
	if err == nil {
		err = s.end()
	}
	return n, false, false, err
}

var errStopped = errors.New("stopped")

// firstRecord returns the raw first element of a page that is a JSON
// array, or nil.
func firstRecord(page []byte) []byte {
	s := scanner{b: page}
	if s.peek() != '[' {
		return nil
	}
	s.i++
	if s.peek() == ']' {
		return nil
	}
	v, err := s.value()
	if err != nil {
		return nil
	}
	return v
}

// countRecords counts the elements of a page that is a JSON array, without
// decoding them; -1 when the page is not a well-formed array.
func countRecords(page []byte) int {
	s := scanner{b: page}
	n := 0
	err := s.elems(func() error {
		n++
		_, err := s.value()
		return err
	})
	if err != nil || s.end() != nil {
		return -1
	}
	return n
}

// common returns the shared copy of the enum values that fill most records
// (statuses, types, "1"), sparing an allocation per field.
func common(b []byte) (string, bool) {
	switch string(b) {
	case "":
		return "", true
	case "not_paid":
		return "not_paid", true
	case "paid":
		return "paid", true
	case "pending":
		return "pending", true
	case "deleted":
		return "deleted", true
	case "recurring":
		return "recurring", true
	case "one_time":
		return "one_time", true
	case "system":
		return "system", true
	case "api":
		return "api", true
	case "admin":
		return "admin", true
	case "active":
		return "active", true
	case "new":
		return "new", true
	case "blocked":
		return "blocked", true
	case "disabled":
		return "disabled", true
	case "person":
		return "person", true
	case "company":
		return "company", true
	case "prepaid":
		return "prepaid", true
	case "prepaid_monthly":
		return "prepaid_monthly", true
	case "0":
		return "0", true
	case "1":
		return "1", true
	}
	return "", false
}
