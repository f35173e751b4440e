package splynxsim

import (
	"errors"
	"fmt"
	"maps"
	"sort"
	"strconv"

	"github.com/splynx-pay/splynx-pay/internal/money"
)

// Records are stored compactly (ints for dates, enums for statuses, rare
// fields behind a pointer) because a benchmark keeps a million invoices and
// most of a million payments in memory; JSON is rendered on demand.

type custRec struct {
	c Customer
	b Billing
}

const (
	stNotPaid uint8 = iota
	stPaid
	stPending
	stDeleted
)

var statusNames = [...]string{"not_paid", "paid", "pending", "deleted"}

func statusCode(s string) (uint8, bool) {
	for i, n := range statusNames {
		if n == s {
			return uint8(i), true
		}
	}
	return 0, false
}

var typeNames = [...]string{"recurring", "one_time"}
var addedByNames = [...]string{"system", "api", "admin"}

func enumCode(names []string, s string) uint8 {
	for i, n := range names {
		if n == s {
			return uint8(i)
		}
	}
	return 0
}

// docRec is an invoice or a proforma.
type docRec struct {
	id, customerID, paymentID    int64
	total, due                   int64
	realCreate, dateUpdated      int64
	dateCreated, dateTill, dateP int32
	status, typ, addedBy         uint8
	genItems                     uint8 // >0: items are generated from id and total (seeded records)
	ext                          *docExt
}

type docExt struct {
	number     string
	note, memo string
	items      []InvoiceItem
	aa         map[string]string
	fromDep    bool
}

func (r *docRec) number(b []byte, prefix string) []byte {
	if r.ext != nil && r.ext.number != "" {
		return append(b, r.ext.number...)
	}
	// Splynx's default format is {year}{partner|2}{next|6}; a derived number
	// keeps a million seeded invoices from each holding a string.
	b = append(b, prefix...)
	b = strconv.AppendInt(b, yearOfDay(r.dateCreated), 10)
	s := strconv.AppendInt(nil, r.id, 10)
	for i := len(s); i < 8; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}

var itemNames = [...]string{"Internet 50 Mbps", "Internet 100 Mbps", "Internet 1 Gbps", "Static IP address", "Router rental", "VoIP line", "Installation", "TV package"}

// itemRow is a document line in storage form (days, cents).
type itemRow struct {
	id          int64
	description string
	quantity    int64
	unit        string
	price, tax  int64
	from, to    int32
}

// itemRows appends the document's lines to buf. Seeded documents derive
// them from their id and total, so the lines always add up to the total
// without a million stored slices.
func (r *docRec) itemRows(buf []itemRow) []itemRow {
	if r.ext != nil && r.ext.items != nil {
		for _, it := range r.ext.items {
			buf = append(buf, itemRow{it.ID, it.Description, it.Quantity, it.Unit, int64(it.Price), it.TaxPercent, dayOf(it.PeriodFrom), dayOf(it.PeriodTo)})
		}
		return buf
	}
	n := int(r.genItems)
	if n == 0 {
		return buf
	}
	var from, to int32
	if r.dateCreated != 0 {
		y, m, _ := civilFromDays(int64(r.dateCreated - 1))
		from = int32(daysFromCivil(y, m, 1)) + 1
		if m == 12 {
			y, m = y+1, 0
		}
		to = int32(daysFromCivil(y, m+1, 1)) // last day of the month, +1 offset included
	}
	var parts [8]int64
	rest := r.total
	for k := n - 1; k > 0; k-- {
		parts[k] = r.total / int64(5*k)
		rest -= parts[k]
	}
	parts[0] = rest
	for k := range n {
		buf = append(buf, itemRow{
			id:          r.id*10 + int64(k) + 1,
			description: itemNames[(r.id*7+int64(k)*3)%int64(len(itemNames))],
			quantity:    1,
			price:       parts[k],
			from:        from,
			to:          to,
		})
	}
	return buf
}

// items returns the document's lines in the typed form.
func (r *docRec) items() []InvoiceItem {
	rows := r.itemRows(nil)
	if rows == nil {
		return nil
	}
	out := make([]InvoiceItem, len(rows))
	for i, it := range rows {
		out[i] = InvoiceItem{ID: it.id, Description: it.description, Quantity: it.quantity, Unit: it.unit,
			Price: money.Amount(it.price), TaxPercent: it.tax, PeriodFrom: timeOfDay(it.from), PeriodTo: timeOfDay(it.to)}
	}
	return out
}

func (r *docRec) aa() map[string]string {
	if r.ext == nil {
		return nil
	}
	return r.ext.aa
}

func (r *docRec) x() *docExt {
	if r.ext == nil {
		r.ext = &docExt{}
	}
	return r.ext
}

func (r *docRec) toInvoice() Invoice {
	inv := Invoice{
		ID: r.id, CustomerID: r.customerID, Number: string(r.number(nil, "")),
		DateCreated: timeOfDay(r.dateCreated), RealCreateDatetime: timeOfSec(r.realCreate),
		DateUpdated: timeOfSec(r.dateUpdated), DatePayment: timeOfDay(r.dateP), DateTill: timeOfDay(r.dateTill),
		Total: money.Amount(r.total), Due: money.Amount(r.due), PaymentID: r.paymentID,
		Status: statusNames[r.status], Type: typeNames[r.typ], AddedBy: addedByNames[r.addedBy],
		Items: append([]InvoiceItem(nil), r.items()...),
	}
	if e := r.ext; e != nil {
		inv.Note, inv.Memo, inv.PaydFromDeposit = e.note, e.memo, e.fromDep
		inv.AdditionalAttributes = maps.Clone(e.aa)
	}
	return inv
}

func docFromInvoice(inv Invoice) docRec {
	st, _ := statusCode(inv.Status)
	r := docRec{
		id: inv.ID, customerID: inv.CustomerID, paymentID: inv.PaymentID,
		total: int64(inv.Total), due: int64(inv.Due),
		realCreate: secOf(inv.RealCreateDatetime), dateUpdated: secOf(inv.DateUpdated),
		dateCreated: dayOf(inv.DateCreated), dateTill: dayOf(inv.DateTill), dateP: dayOf(inv.DatePayment),
		status: st, typ: enumCode(typeNames[:], inv.Type), addedBy: enumCode(addedByNames[:], inv.AddedBy),
	}
	if inv.Number != "" || inv.Note != "" || inv.Memo != "" || inv.Items != nil || len(inv.AdditionalAttributes) > 0 || inv.PaydFromDeposit {
		r.ext = &docExt{number: inv.Number, note: inv.Note, memo: inv.Memo, items: append([]InvoiceItem(nil), inv.Items...),
			aa: maps.Clone(inv.AdditionalAttributes), fromDep: inv.PaydFromDeposit}
		if inv.Items == nil {
			r.ext.items = nil
		}
	}
	return r
}

func (r *docRec) toProforma() Proforma {
	p := Proforma{
		ID: r.id, CustomerID: r.customerID, Number: string(r.number(nil, "")),
		DateCreated: timeOfDay(r.dateCreated), RealCreateDatetime: timeOfSec(r.realCreate),
		DateUpdated: timeOfSec(r.dateUpdated), DatePayment: timeOfDay(r.dateP), DateTill: timeOfDay(r.dateTill),
		Total: money.Amount(r.total), PaymentID: r.paymentID, Status: statusNames[r.status],
		Items: append([]InvoiceItem(nil), r.items()...),
	}
	if e := r.ext; e != nil {
		p.Note, p.Memo = e.note, e.memo
		p.AdditionalAttributes = maps.Clone(e.aa)
	}
	return p
}

func docFromProforma(p Proforma) docRec {
	return docFromInvoice(Invoice{
		ID: p.ID, CustomerID: p.CustomerID, Number: p.Number, DateCreated: p.DateCreated,
		RealCreateDatetime: p.RealCreateDatetime, DateUpdated: p.DateUpdated, DatePayment: p.DatePayment,
		DateTill: p.DateTill, Total: p.Total, PaymentID: p.PaymentID, Status: p.Status,
		Note: p.Note, Memo: p.Memo, Items: p.Items, AdditionalAttributes: p.AdditionalAttributes,
	})
}

type payRec struct {
	id, customerID, invoiceID, requestID int64
	amount, applied                      int64
	realCreate, updatedAt                int64
	date                                 int32
	paymentType                          int32
	paidInvoice, paidProforma            bool
	receipt                              string // "" → derived {year}-{type|2}-{id|5}
	ext                                  *payExt
}

type payExt struct {
	comment, note, memo string
	fields              [5]string
	aa                  map[string]string
	addedBy             string
	transactionID       int64
	prevPaymentID       int64
	prevDateP           int32
}

func (p *payRec) receiptNumber(b []byte) []byte {
	if p.receipt != "" {
		return append(b, p.receipt...)
	}
	b = strconv.AppendInt(b, yearOfDay(p.date), 10)
	b = append(b, '-')
	b = append2(b, int64(p.paymentType)%100)
	b = append(b, '-')
	s := strconv.AppendInt(nil, p.id, 10)
	for i := len(s); i < 5; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}

func (p *payRec) remind() int64 {
	return p.amount - p.applied
}

func (p *payRec) x() *payExt {
	if p.ext == nil {
		p.ext = &payExt{}
	}
	return p.ext
}

func (p *payRec) toPayment() Payment {
	out := Payment{
		ID: p.id, CustomerID: p.customerID, InvoiceID: p.invoiceID, RequestID: p.requestID,
		PaymentType: int64(p.paymentType), ReceiptNumber: string(p.receiptNumber(nil)),
		Date: timeOfDay(p.date), Amount: money.Amount(p.amount), Applied: money.Amount(p.applied),
		RemindAmount: money.Amount(p.remind()), AddedBy: "api",
		RealCreateDatetime: timeOfSec(p.realCreate), UpdatedAt: timeOfSec(p.updatedAt),
	}
	if e := p.ext; e != nil {
		out.Comment, out.Note, out.Memo = e.comment, e.note, e.memo
		out.Field1, out.Field2, out.Field3, out.Field4, out.Field5 = e.fields[0], e.fields[1], e.fields[2], e.fields[3], e.fields[4]
		out.AdditionalAttributes = maps.Clone(e.aa)
		out.TransactionID = e.transactionID
		if e.addedBy != "" {
			out.AddedBy = e.addedBy
		}
	}
	return out
}

// ---- typed state API ----

// AddCustomer stores c (id assigned unless c.ID is above every id handed
// out) with a default billing record, and returns the id. Empty fields get
// Splynx defaults: status active, category person, billing type recurring,
// partner and location 1, date_add today.
func (s *Sim) AddCustomer(c Customer) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addCustomerLocked(c, nil)
}

func (s *Sim) addCustomerLocked(c Customer, b *Billing) int64 {
	now := s.now()
	c.ID = s.nextID("customer", c.ID)
	if c.Status == "" {
		c.Status = "active"
	}
	if c.Category == "" {
		c.Category = "person"
	}
	if c.BillingType == "" {
		c.BillingType = "recurring"
	}
	if c.PartnerID == 0 {
		c.PartnerID = 1
	}
	if c.LocationID == 0 {
		c.LocationID = 1
	}
	if c.Login == "" {
		c.Login = strconv.FormatInt(c.ID, 10)
	}
	if c.DateAdd.IsZero() {
		c.DateAdd = now
	}
	if c.LastUpdate.IsZero() {
		c.LastUpdate = now
	}
	c.AdditionalAttributes = maps.Clone(c.AdditionalAttributes)
	bill := Billing{Enabled: true, Type: c.BillingType, PaymentMethod: 1, BillingDate: 1, BillingDue: 14, GracePeriod: 3, MakeInvoices: true}
	if b != nil {
		bill = *b
	}
	bill.CustomerID = c.ID
	s.customers.insert(custRec{c: c, b: bill})
	return c.ID
}

// Customer returns a copy of a customer.
func (s *Sim) Customer(id int64) (Customer, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	r := s.customers.get(id)
	if r == nil {
		return Customer{}, false
	}
	c := r.c
	c.AdditionalAttributes = maps.Clone(c.AdditionalAttributes)
	return c, true
}

// UpdateCustomer changes a customer through fn and moves last_update
// (unless fn set it). False if there is no such customer.
func (s *Sim) UpdateCustomer(id int64, fn func(*Customer)) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.customers.get(id)
	if r == nil {
		return false
	}
	before := r.c.LastUpdate
	fn(&r.c)
	r.c.ID = id
	if r.c.LastUpdate.Equal(before) {
		r.c.LastUpdate = s.now()
	}
	s.customers.touch()
	return true
}

// DeleteCustomer removes a customer (and its billing record).
func (s *Sim) DeleteCustomer(id int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.customers.remove(id)
}

// SetBilling changes a customer's billing record through fn (the deposit
// included: a direct balance correction) and moves the customer's
// last_update.
func (s *Sim) SetBilling(id int64, fn func(*Billing)) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.customers.get(id)
	if r == nil {
		return false
	}
	fn(&r.b)
	r.b.CustomerID = id
	r.c.LastUpdate = s.now()
	s.customers.touch()
	return true
}

// Billing returns a customer's billing record.
func (s *Sim) Billing(id int64) (Billing, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	r := s.customers.get(id)
	if r == nil {
		return Billing{}, false
	}
	return r.b, true
}

// AddInvoice stores an invoice and debits its total from the customer's
// deposit (not for status deleted). Defaults: status not_paid, due = total
// for not_paid/pending, total = Σ items (price·quantity + tax) when zero,
// dates today, type recurring, added_by api.
func (s *Sim) AddInvoice(inv Invoice) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addInvoiceLocked(inv)
}

func itemsTotal(items []InvoiceItem) money.Amount {
	var t money.Amount
	for _, it := range items {
		q := it.Quantity
		if q == 0 {
			q = 1
		}
		line := it.Price * money.Amount(q)
		t += line + line.Percent(it.TaxPercent)
	}
	return t
}

func (s *Sim) addInvoiceLocked(inv Invoice) int64 {
	now := s.now()
	inv.ID = s.nextID("invoice", inv.ID)
	if inv.Status == "" {
		inv.Status = "not_paid"
	}
	if inv.Total == 0 {
		inv.Total = itemsTotal(inv.Items)
	}
	if inv.Due == 0 && (inv.Status == "not_paid" || inv.Status == "pending") {
		inv.Due = inv.Total
	}
	if inv.DateCreated.IsZero() {
		inv.DateCreated = now
	}
	if inv.RealCreateDatetime.IsZero() {
		inv.RealCreateDatetime = now
	}
	if inv.DateUpdated.IsZero() {
		inv.DateUpdated = now
	}
	if inv.DateTill.IsZero() {
		inv.DateTill = inv.DateCreated.AddDate(0, 0, 14)
	}
	if inv.AddedBy == "" {
		inv.AddedBy = "api"
	}
	for i := range inv.Items {
		if inv.Items[i].ID == 0 {
			inv.Items[i].ID = s.nextID("invoice_item", 0)
		}
		if inv.Items[i].Quantity == 0 {
			inv.Items[i].Quantity = 1
		}
	}
	r := docFromInvoice(inv)
	s.invoices.insert(r)
	if inv.Status != "deleted" {
		s.moveDeposit(inv.CustomerID, -int64(inv.Total))
	}
	return inv.ID
}

// moveDeposit changes a customer's balance and stamps last_update.
func (s *Sim) moveDeposit(customerID, delta int64) {
	if c := s.customers.get(customerID); c != nil {
		c.b.Deposit += money.Amount(delta)
		c.c.LastUpdate = s.now()
		s.customers.touch()
	}
}

// Invoice returns a copy of an invoice.
func (s *Sim) Invoice(id int64) (Invoice, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	r := s.invoices.get(id)
	if r == nil {
		return Invoice{}, false
	}
	return r.toInvoice(), true
}

// UpdateInvoice changes an invoice through fn with no ledger effect (a raw
// edit for tests) and moves date_updated unless fn set it.
func (s *Sim) UpdateInvoice(id int64, fn func(*Invoice)) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.invoices.get(id)
	if r == nil {
		return false
	}
	inv := r.toInvoice()
	before := inv.DateUpdated
	fn(&inv)
	inv.ID = id
	if inv.DateUpdated.Equal(before) {
		inv.DateUpdated = s.now()
	}
	nr := docFromInvoice(inv)
	if nr.ext != nil && r.genItems > 0 && nr.ext.number == string(r.number(nil, "")) {
		nr.ext.number = "" // keep the derived number derived
	}
	*r = nr
	s.invoices.touch()
	return true
}

// ErrHasPayments is returned when deleting an invoice that live payments
// still settle (Splynx refuses that; delete the payments first).
var ErrHasPayments = errors.New("splynxsim: invoice has payments")

// ErrNotFound is returned for an unknown id.
var ErrNotFound = errors.New("splynxsim: not found")

// DeleteInvoice marks an invoice deleted, as Splynx does, and credits back
// its debit.
func (s *Sim) DeleteInvoice(id int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.deleteInvoiceLocked(id)
}

func (s *Sim) deleteInvoiceLocked(id int64) error {
	r := s.invoices.get(id)
	if r == nil {
		return ErrNotFound
	}
	if r.status == stDeleted {
		return nil
	}
	for i := range s.payments.recs {
		if p := &s.payments.recs[i]; p.invoiceID == id && p.applied != 0 {
			return fmt.Errorf("%w: payment %d", ErrHasPayments, p.id)
		}
	}
	r.status = stDeleted
	r.dateUpdated = s.now().Unix()
	s.invoices.touch()
	s.moveDeposit(r.customerID, r.total)
	return nil
}

// PurgeInvoice removes an invoice outright (no ledger effect), for tests of
// records that vanish from the API.
func (s *Sim) PurgeInvoice(id int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.invoices.remove(id)
}

// AddProforma stores a proforma (no ledger effect). Defaults as AddInvoice.
func (s *Sim) AddProforma(p Proforma) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addProformaLocked(p)
}

func (s *Sim) addProformaLocked(p Proforma) int64 {
	now := s.now()
	p.ID = s.nextID("proforma", p.ID)
	if p.Status == "" {
		p.Status = "not_paid"
	}
	if p.Total == 0 {
		p.Total = itemsTotal(p.Items)
	}
	if p.DateCreated.IsZero() {
		p.DateCreated = now
	}
	if p.RealCreateDatetime.IsZero() {
		p.RealCreateDatetime = now
	}
	if p.DateUpdated.IsZero() {
		p.DateUpdated = now
	}
	if p.DateTill.IsZero() {
		p.DateTill = p.DateCreated.AddDate(0, 0, 14)
	}
	for i := range p.Items {
		if p.Items[i].ID == 0 {
			p.Items[i].ID = s.nextID("invoice_item", 0)
		}
		if p.Items[i].Quantity == 0 {
			p.Items[i].Quantity = 1
		}
	}
	r := docFromProforma(p)
	r.addedBy = 1
	s.proformas.insert(r)
	return p.ID
}

// Proforma returns a copy of a proforma.
func (s *Sim) Proforma(id int64) (Proforma, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	r := s.proformas.get(id)
	if r == nil {
		return Proforma{}, false
	}
	return r.toProforma(), true
}

// UpdateProforma changes a proforma through fn and moves date_updated.
func (s *Sim) UpdateProforma(id int64, fn func(*Proforma)) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.proformas.get(id)
	if r == nil {
		return false
	}
	p := r.toProforma()
	before := p.DateUpdated
	fn(&p)
	p.ID = id
	if p.DateUpdated.Equal(before) {
		p.DateUpdated = s.now()
	}
	*r = docFromProforma(p)
	s.proformas.touch()
	return true
}

// AddPayment records a payment with the same rules as POST
// admin/finance/payments (see the package comment) and returns its id.
// Applied, RemindAmount, AddedBy and timestamps are computed.
func (s *Sim) AddPayment(p Payment) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p.Date.IsZero() {
		p.Date = s.now()
	}
	if errs := s.validatePayment(&p); len(errs) > 0 {
		return 0, fmt.Errorf("splynxsim: invalid payment: %s %s", errs[0].field, errs[0].message)
	}
	return s.addPaymentLocked(p), nil
}

func (s *Sim) validatePayment(p *Payment) []fieldError {
	var errs []fieldError
	if p.CustomerID == 0 {
		errs = append(errs, fieldError{"customer_id", "Customer ID cannot be blank."})
	} else if s.customers.get(p.CustomerID) == nil {
		errs = append(errs, fieldError{"customer_id", "Customer is not found."})
	}
	if p.PaymentType == 0 {
		errs = append(errs, fieldError{"payment_type", "Payment Type cannot be blank."})
	} else if s.method(p.PaymentType) == nil {
		errs = append(errs, fieldError{"payment_type", "Payment Type is invalid."})
	}
	if p.InvoiceID != 0 {
		inv := s.invoices.get(p.InvoiceID)
		switch {
		case inv == nil:
			errs = append(errs, fieldError{"invoice_id", "Invoice is not found."})
		case inv.customerID != p.CustomerID:
			errs = append(errs, fieldError{"invoice_id", "Invoice belongs to another customer."})
		case inv.status == stDeleted:
			errs = append(errs, fieldError{"invoice_id", "Invoice is deleted."})
		}
	}
	if p.RequestID != 0 {
		pf := s.proformas.get(p.RequestID)
		switch {
		case pf == nil:
			errs = append(errs, fieldError{"request_id", "Proforma invoice is not found."})
		case pf.customerID != p.CustomerID:
			errs = append(errs, fieldError{"request_id", "Proforma invoice belongs to another customer."})
		}
	}
	if p.Amount == 0 {
		errs = append(errs, fieldError{"amount", "Amount cannot be zero."})
	}
	return errs
}

func (s *Sim) method(id int64) *PaymentMethod {
	for i := range s.methods {
		if s.methods[i].ID == id {
			return &s.methods[i]
		}
	}
	return nil
}

func (s *Sim) addPaymentLocked(p Payment) int64 {
	now := s.now()
	r := payRec{
		id: s.nextID("payment", p.ID), customerID: p.CustomerID, invoiceID: p.InvoiceID, requestID: p.RequestID,
		amount: int64(p.Amount), realCreate: now.Unix(), updatedAt: now.Unix(),
		date: dayOf(p.Date), paymentType: int32(p.PaymentType), receipt: p.ReceiptNumber,
	}
	e := &payExt{comment: p.Comment, note: p.Note, memo: p.Memo,
		fields: [5]string{p.Field1, p.Field2, p.Field3, p.Field4, p.Field5},
		aa:     maps.Clone(p.AdditionalAttributes), addedBy: p.AddedBy}
	r.ext = e
	if r.receipt == "" {
		r.receipt = string(r.receiptNumber(nil))
	}
	s.applyPayment(&r)
	s.payments.insert(r)
	return r.id
}

// applyPayment books a new payment: the whole amount is a credit on the
// deposit; up to the due goes against the invoice; a covering payment marks
// the invoice or proforma paid.
func (s *Sim) applyPayment(r *payRec) {
	now := s.now()
	s.moveDeposit(r.customerID, r.amount)
	if r.invoiceID != 0 && r.amount > 0 {
		if inv := s.invoices.get(r.invoiceID); inv != nil && inv.status != stDeleted && inv.due > 0 {
			r.applied = min(r.amount, inv.due)
			inv.due -= r.applied
			if inv.due == 0 {
				e := r.x()
				e.prevPaymentID, e.prevDateP = inv.paymentID, inv.dateP
				inv.status, inv.paymentID, inv.dateP = stPaid, r.id, r.date
				r.paidInvoice = true
			}
			inv.dateUpdated = now.Unix()
			s.invoices.touch()
		}
	}
	if r.requestID != 0 && r.amount > 0 {
		if pf := s.proformas.get(r.requestID); pf != nil && pf.status != stPaid && r.amount >= pf.total {
			pf.status, pf.paymentID, pf.dateP = stPaid, r.id, r.date
			pf.dateUpdated = now.Unix()
			r.paidProforma = true
			s.proformas.touch()
		}
	}
}

// reversePayment undoes exactly what applyPayment did.
func (s *Sim) reversePayment(r *payRec) {
	now := s.now()
	s.moveDeposit(r.customerID, -r.amount)
	if r.applied != 0 {
		if inv := s.invoices.get(r.invoiceID); inv != nil {
			inv.due += r.applied
			if r.paidInvoice && inv.paymentID == r.id {
				var prevID int64
				var prevDate int32
				if r.ext != nil {
					prevID, prevDate = r.ext.prevPaymentID, r.ext.prevDateP
				}
				inv.paymentID, inv.dateP = prevID, prevDate
			}
			if inv.due > 0 && (inv.status == stPaid || inv.status == stPending) {
				inv.status = stNotPaid
			}
			inv.dateUpdated = now.Unix()
			s.invoices.touch()
		}
	}
	if r.paidProforma {
		if pf := s.proformas.get(r.requestID); pf != nil && pf.paymentID == r.id {
			pf.status, pf.paymentID, pf.dateP = stNotPaid, 0, 0
			pf.dateUpdated = now.Unix()
			s.proformas.touch()
		}
	}
}

// Payments returns every payment in id order.
func (s *Sim) Payments() []Payment {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]Payment, len(s.payments.recs))
	for i := range s.payments.recs {
		out[i] = s.payments.recs[i].toPayment()
	}
	return out
}

// Payment returns one payment.
func (s *Sim) Payment(id int64) (Payment, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	r := s.payments.get(id)
	if r == nil {
		return Payment{}, false
	}
	return r.toPayment(), true
}

// DeletePayment removes a payment and reverses its effect, as DELETE
// admin/finance/payments/{id} does.
func (s *Sim) DeletePayment(id int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.payments.get(id)
	if r == nil {
		return ErrNotFound
	}
	s.reversePayment(r)
	s.payments.remove(id)
	return nil
}

// Counts returns how many records the simulator holds.
func (s *Sim) Counts() Counts {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return Counts{
		Customers: len(s.customers.recs), Invoices: len(s.invoices.recs), Proformas: len(s.proformas.recs),
		Payments: len(s.payments.recs), Transactions: len(s.transactions.recs),
	}
}

// AddPaymentMethod adds a payment method and returns its id.
func (s *Sim) AddPaymentMethod(m PaymentMethod) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addMethodLocked(m)
}

func (s *Sim) addMethodLocked(m PaymentMethod) int64 {
	m.ID = s.nextID("payment_method", m.ID)
	s.methods = append(s.methods, m)
	sort.Slice(s.methods, func(i, j int) bool { return s.methods[i].ID < s.methods[j].ID })
	return m.ID
}

// PaymentMethods returns the payment methods in id order.
func (s *Sim) PaymentMethods() []PaymentMethod {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return append([]PaymentMethod(nil), s.methods...)
}

// AddPartner adds a partner and returns its id.
func (s *Sim) AddPartner(p Partner) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	p.ID = s.nextID("partner", p.ID)
	s.partners = append(s.partners, p)
	return p.ID
}

// AddLocation adds a location and returns its id.
func (s *Sim) AddLocation(l Location) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	l.ID = s.nextID("location", l.ID)
	s.locations = append(s.locations, l)
	return l.ID
}

// AddPaymentAccountDef adds a payment-account definition (what an add-on
// installer creates) and returns its id.
func (s *Sim) AddPaymentAccountDef(d PaymentAccountDef) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	d.ID = s.nextID("payment_account", d.ID)
	s.accountDefs = append(s.accountDefs, d)
	return d.ID
}

// SetPaymentAccount stores a customer's payment-account values.
func (s *Sim) SetPaymentAccount(a PaymentAccount) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.accounts[[2]int64{a.CustomerID, a.AccountID}] = &a
}

// PaymentAccount returns a customer's values for one payment account.
func (s *Sim) PaymentAccount(customerID, accountID int64) (PaymentAccount, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	a, ok := s.accounts[[2]int64{customerID, accountID}]
	if !ok {
		return PaymentAccount{}, false
	}
	return *a, true
}

// AddAdditionalField defines a custom field of a module (customers,
// invoices, payments, requests, ...).
func (s *Sim) AddAdditionalField(f AdditionalField) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addAFLocked(f)
}

func (s *Sim) addAFLocked(f AdditionalField) {
	list := s.afs[f.Module]
	found := false
	for i := range list {
		if list[i].Name == f.Name {
			list[i] = f
			found = true
		}
	}
	if !found {
		list = append(list, f)
	}
	s.afs[f.Module] = list
	s.indexAFs(f.Module)
}

// indexAFs precomputes a module's field names: records render them on
// every listing, under a read lock.
func (s *Sim) indexAFs(module string) {
	list := s.afs[module]
	names := make([]string, len(list))
	for i, f := range list {
		names[i] = f.Name
	}
	s.afNameIdx[module] = names
}

// AdditionalFields returns the custom field definitions of a module.
func (s *Sim) AdditionalFields(module string) []AdditionalField {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return append([]AdditionalField(nil), s.afs[module]...)
}

func (s *Sim) afNames(module string) []string { return s.afNameIdx[module] }

// Transactions returns the ledger transactions created through the API or
// AddTransaction, in id order.
func (s *Sim) Transactions() []Transaction {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return append([]Transaction(nil), s.transactions.recs...)
}

// AddTransaction books a debit (lowers the deposit) or credit (raises it).
func (s *Sim) AddTransaction(t Transaction) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addTransactionLocked(t)
}

func (s *Sim) addTransactionLocked(t Transaction) int64 {
	t.ID = s.nextID("transaction", t.ID)
	if t.Quantity == 0 {
		t.Quantity = 1
	}
	if t.Total == 0 {
		line := t.Price * money.Amount(t.Quantity)
		t.Total = line + line.Percent(t.TaxPercent)
	}
	if t.Date.IsZero() {
		t.Date = s.now()
	}
	if t.Source == "" {
		t.Source = "manual"
	}
	s.transactions.insert(t)
	switch t.Type {
	case "debit":
		s.moveDeposit(t.CustomerID, -int64(t.Total))
	case "credit":
		s.moveDeposit(t.CustomerID, int64(t.Total))
	}
	return t.ID
}

// BankStatements returns the payment statements.
func (s *Sim) BankStatements() []BankStatement {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return append([]BankStatement(nil), s.statements.recs...)
}

// BankStatementRecords returns the payment statement records.
func (s *Sim) BankStatementRecords() []BankStatementRecord {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return append([]BankStatementRecord(nil), s.stmtRecords.recs...)
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
