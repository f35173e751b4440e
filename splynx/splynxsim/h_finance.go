package splynxsim

import (
	"errors"
	"maps"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/splynx-pay/splynx-pay/internal/money"
)

// parseDate reads "YYYY-MM-DD" or "YYYY-MM-DD HH:MM:SS"; empty and
// "0000-00-00" are the zero time.
func parseDate(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if s == "" || strings.HasPrefix(s, "0000-00-00") {
		return time.Time{}, true
	}
	for _, layout := range []string{"2006-01-02 15:04:05", "2006-01-02", time.RFC3339} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func (s *Sim) docView(name string, invoices bool) *view[docRec] {
	f := map[string]field[docRec]{
		"id":                   fInt(func(r *docRec) int64 { return r.id }),
		"customer_id":          fInt(func(r *docRec) int64 { return r.customerID }),
		"number":               fStrApp(func(r *docRec, b []byte) []byte { return r.number(b, "") }),
		"date_created":         fDay(func(r *docRec) int32 { return r.dateCreated }),
		"real_create_datetime": fSec(func(r *docRec) int64 { return r.realCreate }),
		"date_updated":         fSec(func(r *docRec) int64 { return r.dateUpdated }),
		"date_payment":         fDay(func(r *docRec) int32 { return r.dateP }),
		"date_till":            fDay(func(r *docRec) int32 { return r.dateTill }),
		"total":                fMoney(func(r *docRec) int64 { return r.total }),
		"payment_id":           fInt(func(r *docRec) int64 { return r.paymentID }),
		"status":               fStr(func(r *docRec) string { return statusNames[r.status] }),
		"added_by":             fStr(func(r *docRec) string { return addedByNames[r.addedBy] }),
		"is_sent":              fInt(func(r *docRec) int64 { return 0 }),
		"note":                 fStr(func(r *docRec) string { return r.x0().note }),
		"memo":                 fStr(func(r *docRec) string { return r.x0().memo }),
	}
	if invoices {
		f["due"] = fMoney(func(r *docRec) int64 { return r.due })
		f["type"] = fStr(func(r *docRec) string { return typeNames[r.typ] })
		f["payd_from_deposit"] = fInt(func(r *docRec) int64 { return b2i(r.x0().fromDep) })
	}
	return &view[docRec]{name: name, fields: f, aa: (*docRec).aa, indexed: []string{"customer_id"}}
}

var emptyDocExt docExt

// x0 returns the extension or an empty one, without allocating.
func (r *docRec) x0() *docExt {
	if r.ext == nil {
		return &emptyDocExt
	}
	return r.ext
}

func (s *Sim) renderDoc(w *jw, r *docRec, invoice bool) {
	e := r.x0()
	w.open()
	w.id("id", r.id)
	w.id("customer_id", r.customerID)
	if r.ext != nil && r.ext.number != "" {
		// A number someone typed can hold quotes and backslashes.
		w.str("number", r.ext.number)
	} else {
		// Derived numbers are digits: written without escaping or allocating.
		w.key("number")
		w.b = append(w.b, '"')
		w.b = r.number(w.b, "")
		w.b = append(w.b, '"', ',')
	}
	w.date("date_created", r.dateCreated)
	w.datetime("real_create_datetime", r.realCreate)
	w.datetime("date_updated", r.dateUpdated)
	w.date("date_payment", r.dateP)
	w.date("date_till", r.dateTill)
	w.money("total", r.total)
	if invoice {
		w.money("due", r.due)
	}
	w.id("payment_id", r.paymentID)
	w.str("status", statusNames[r.status])
	if invoice {
		w.str("type", typeNames[r.typ])
		w.flag("use_transactions", true)
		w.flag("payd_from_deposit", e.fromDep)
	} else {
		w.flag("is_crm_request", false)
	}
	w.flag("is_sent", false)
	w.str("note", e.note)
	w.str("memo", e.memo)
	w.str("added_by", addedByNames[r.addedBy])
	w.id("added_by_id", 0)
	w.key("items")
	w.openArr()
	var buf [4]itemRow
	for _, it := range r.itemRows(buf[:0]) {
		w.open()
		w.id("id", it.id)
		if invoice {
			w.id("invoice_id", r.id)
		} else {
			w.id("request_id", r.id)
		}
		w.str("description", it.description)
		w.id("quantity", it.quantity)
		w.str("unit", it.unit)
		w.money("price", it.price)
		w.percent("tax", it.tax)
		w.date("period_from", it.from)
		w.date("period_to", it.to)
		w.id("categoryIdForTransaction", 0)
		w.id("sub_account_id", 0)
		w.close()
	}
	w.closeArr()
	module := "invoices"
	if !invoice {
		module = "requests"
	}
	w.strMap("additional_attributes", e.aa, s.afNames(module))
	w.close()
}

func (s *Sim) hInvoices(c *rctx) {
	s.hDocs(c, &s.invoices, true)
}

func (s *Sim) hProformas(c *rctx) {
	s.hDocs(c, &s.proformas, false)
}

func (s *Sim) hDocs(c *rctx, t *table[docRec], invoice bool) {
	render := func(w *jw, r *docRec) { s.renderDoc(w, r, invoice) }
	name := "invoices"
	if !invoice {
		name = "proformas"
	}
	if c.rest == "" {
		switch c.method {
		case http.MethodGet, http.MethodHead:
			list(c, t, s.docView(name, invoice), render)
		case http.MethodOptions:
			afm := "invoices"
			if !invoice {
				afm = "requests"
			}
			options(c, s.docView(name, invoice), afm)
		case http.MethodPost:
			s.createDoc(c, invoice)
		default:
			c.methodNotAllowed()
		}
		return
	}
	id, ok := parseIDPath(c.rest)
	if !ok {
		c.notFound()
		return
	}
	switch c.method {
	case http.MethodGet:
		one(c, t, id, render)
	case http.MethodPut:
		s.updateDoc(c, t, id, invoice)
	case http.MethodDelete:
		s.mu.Lock()
		defer s.mu.Unlock()
		var err error
		if invoice {
			err = s.deleteInvoiceLocked(id)
		} else {
			err = s.deleteProformaLocked(id)
		}
		switch {
		case errors.Is(err, ErrNotFound):
			c.notFound()
		case err != nil:
			c.fail(http.StatusBadRequest, "ENTITY_CANNOT_BE_DELETED", "Delete the payments of this document first")
		default:
			c.noContent()
		}
	default:
		c.methodNotAllowed()
	}
}

func (s *Sim) deleteProformaLocked(id int64) error {
	r := s.proformas.get(id)
	if r == nil {
		return ErrNotFound
	}
	for i := range s.payments.recs {
		if s.payments.recs[i].requestID == id {
			return ErrHasPayments
		}
	}
	s.proformas.remove(id)
	return nil
}

// parseItems reads an items array of a POST/PUT body.
func parseItems(raw any) ([]InvoiceItem, []fieldError) {
	arr, ok := raw.([]any)
	if !ok {
		return nil, []fieldError{{"items", "Items must be an array."}}
	}
	var errs []fieldError
	items := make([]InvoiceItem, 0, len(arr))
	for i, x := range arr {
		m, ok := x.(map[string]any)
		if !ok {
			errs = append(errs, fieldError{"items", "Item " + strconv.Itoa(i) + " must be an object."})
			continue
		}
		o := obj(m)
		it := InvoiceItem{Description: o.str("description"), Unit: o.str("unit"), Quantity: 1}
		if it.Description == "" {
			errs = append(errs, fieldError{"items", "Item " + strconv.Itoa(i) + ": description cannot be blank."})
		}
		if o.has("quantity") {
			q, err := money.Parse(o.str("quantity"))
			if err != nil || q <= 0 || q%100 != 0 {
				errs = append(errs, fieldError{"items", "Item " + strconv.Itoa(i) + ": quantity must be a positive whole number."})
			} else {
				it.Quantity = int64(q) / 100
			}
		}
		p, err := money.Parse(o.str("price"))
		if err != nil {
			errs = append(errs, fieldError{"items", "Item " + strconv.Itoa(i) + ": price must be a number."})
		}
		it.Price = p
		if o.has("tax") && o.str("tax") != "" {
			tx, err := money.Parse(o.str("tax"))
			if err != nil {
				errs = append(errs, fieldError{"items", "Item " + strconv.Itoa(i) + ": tax must be a number."})
			}
			it.TaxPercent = int64(tx)
		}
		var okd bool
		if it.PeriodFrom, okd = parseDate(o.str("period_from")); !okd {
			errs = append(errs, fieldError{"items", "Item " + strconv.Itoa(i) + ": period_from is invalid."})
		}
		if it.PeriodTo, okd = parseDate(o.str("period_to")); !okd {
			errs = append(errs, fieldError{"items", "Item " + strconv.Itoa(i) + ": period_to is invalid."})
		}
		items = append(items, it)
	}
	return items, errs
}

func (s *Sim) createDoc(c *rctx, invoice bool) {
	b, ok := c.decode()
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []fieldError
	cid, ok := b.id("customer_id")
	if !ok || cid == 0 {
		errs = append(errs, fieldError{"customer_id", "Customer ID cannot be blank."})
	} else if s.customers.get(cid) == nil {
		errs = append(errs, fieldError{"customer_id", "Customer is not found."})
	}
	var items []InvoiceItem
	if b.has("items") {
		var ie []fieldError
		items, ie = parseItems(b["items"])
		errs = append(errs, ie...)
	}
	if len(items) == 0 {
		errs = append(errs, fieldError{"items", "Items cannot be blank."})
	}
	dates := map[string]time.Time{}
	for _, k := range []string{"date_created", "date_till"} {
		d, ok := parseDate(b.str(k))
		if !ok {
			errs = append(errs, fieldError{k, k + " is invalid."})
		}
		dates[k] = d
	}
	status := "not_paid"
	if b.has("status") {
		status = b.str("status")
		if status != "not_paid" && status != "pending" {
			errs = append(errs, fieldError{"status", "Status must be not_paid or pending."})
		}
	}
	aa, _ := b.strMap("additional_attributes")
	if len(errs) > 0 {
		c.invalid(errs...)
		return
	}
	var id int64
	if invoice {
		typ := b.str("type")
		if typ == "" {
			typ = "one_time"
		}
		id = s.addInvoiceLocked(Invoice{CustomerID: cid, Number: b.str("number"), DateCreated: dates["date_created"],
			DateTill: dates["date_till"], Status: status, Type: typ, Note: b.str("note"), Memo: b.str("memo"),
			Items: items, AdditionalAttributes: aa})
	} else {
		id = s.addProformaLocked(Proforma{CustomerID: cid, Number: b.str("number"), DateCreated: dates["date_created"],
			DateTill: dates["date_till"], Status: status, Note: b.str("note"), Memo: b.str("memo"),
			Items: items, AdditionalAttributes: aa})
	}
	c.created(id)
}

// updateDoc applies a PUT. A paid document accepts only note, memo,
// additional attributes (and the read-only fields a client echoes back
// unchanged). Status may move between not_paid and pending; setting paid
// by PUT (the JCC hack) zeroes due without a payment and without touching
// the deposit.
func (s *Sim) updateDoc(c *rctx, t *table[docRec], id int64, invoice bool) {
	b, ok := c.decode()
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r := t.get(id)
	if r == nil {
		c.notFound()
		return
	}
	nr := *r
	if r.ext != nil {
		e := *r.ext
		e.aa = maps.Clone(e.aa)
		nr.ext = &e
	}
	var errs []fieldError
	if b.has("status") {
		st, ok := statusCode(b.str("status"))
		switch {
		case !ok || st == stDeleted || (!invoice && st == stPaid && r.status != stPaid):
			errs = append(errs, fieldError{"status", "Status is invalid."})
		case r.status == stPaid && st != stPaid:
			errs = append(errs, fieldError{"status", "A paid document cannot change status; delete its payment."})
		case r.status == stDeleted && st != stDeleted:
			errs = append(errs, fieldError{"status", "A deleted invoice cannot change status."})
		default:
			if st == stPaid && r.status != stPaid {
				nr.due = 0
				nr.dateP = dayOf(s.now())
			}
			nr.status = st
		}
	}
	if b.has("note") {
		nr.x().note = b.str("note")
	}
	if b.has("memo") {
		nr.x().memo = b.str("memo")
	}
	if aa, ok := b.strMap("additional_attributes"); ok {
		e := nr.x()
		if e.aa == nil {
			e.aa = map[string]string{}
		}
		maps.Copy(e.aa, aa)
	}
	if b.has("payment_id") {
		if n, ok := b.id("payment_id"); ok {
			nr.paymentID = n
		}
	}
	if b.has("date_payment") {
		if d, ok := parseDate(b.str("date_payment")); ok {
			nr.dateP = dayOf(d)
		}
	}
	if b.has("date_till") {
		d, ok := parseDate(b.str("date_till"))
		switch {
		case !ok:
			errs = append(errs, fieldError{"date_till", "date_till is invalid."})
		case dayOf(d) != r.dateTill && r.status == stPaid:
			errs = append(errs, fieldError{"date_till", "A paid document allows only note, memo and additional attributes."})
		default:
			nr.dateTill = dayOf(d)
		}
	}
	if b.has("items") {
		items, ie := parseItems(b["items"])
		errs = append(errs, ie...)
		if len(ie) == 0 {
			total := int64(itemsTotal(items))
			if r.status == stPaid && total != r.total {
				errs = append(errs, fieldError{"items", "A paid document allows only note, memo and additional attributes."})
			} else if invoice && total != r.total && r.due != r.total {
				errs = append(errs, fieldError{"items", "A partly paid invoice cannot change its total."})
			} else if total != r.total || r.status != stPaid {
				for i := range items {
					items[i].ID = s.nextID("invoice_item", 0)
				}
				nr.x().items = items
				nr.genItems = 0
				if invoice && nr.status != stDeleted {
					s.moveDeposit(r.customerID, r.total-total)
					nr.due += total - r.total
				}
				nr.total = total
			}
		}
	}
	if len(errs) > 0 {
		c.invalid(errs...)
		return
	}
	nr.dateUpdated = s.now().Unix()
	*r = nr
	t.touch()
	c.accepted()
}

// ---- payments ----

func (s *Sim) paymentView() *view[payRec] {
	ext := func(r *payRec) *payExt {
		if r.ext == nil {
			return &emptyPayExt
		}
		return r.ext
	}
	f := map[string]field[payRec]{
		"id":                   fInt(func(r *payRec) int64 { return r.id }),
		"customer_id":          fInt(func(r *payRec) int64 { return r.customerID }),
		"invoice_id":           fInt(func(r *payRec) int64 { return r.invoiceID }),
		"request_id":           fInt(func(r *payRec) int64 { return r.requestID }),
		"transaction_id":       fInt(func(r *payRec) int64 { return ext(r).transactionID }),
		"payment_type":         fInt(func(r *payRec) int64 { return int64(r.paymentType) }),
		"receipt_number":       fStrApp(func(r *payRec, b []byte) []byte { return r.receiptNumber(b) }),
		"date":                 fDay(func(r *payRec) int32 { return r.date }),
		"amount":               fMoney(func(r *payRec) int64 { return r.amount }),
		"remind_amount":        fMoney(func(r *payRec) int64 { return r.remind() }),
		"comment":              fStr(func(r *payRec) string { return ext(r).comment }),
		"note":                 fStr(func(r *payRec) string { return ext(r).note }),
		"memo":                 fStr(func(r *payRec) string { return ext(r).memo }),
		"real_create_datetime": fSec(func(r *payRec) int64 { return r.realCreate }),
		"updated_at":           fSec(func(r *payRec) int64 { return r.updatedAt }),
	}
	for i := range 5 {
		f["field_"+strconv.Itoa(i+1)] = fStr(func(r *payRec) string { return ext(r).fields[i] })
	}
	return &view[payRec]{name: "payments", fields: f, aa: func(r *payRec) map[string]string { return ext(r).aa }, indexed: []string{"customer_id"}}
}

var emptyPayExt payExt

func (s *Sim) renderPayment(w *jw, r *payRec) {
	e := r.ext
	if e == nil {
		e = &emptyPayExt
	}
	w.open()
	w.id("id", r.id)
	w.id("customer_id", r.customerID)
	w.id("invoice_id", r.invoiceID)
	w.id("request_id", r.requestID)
	w.id("credit_note_id", 0)
	w.id("transaction_id", e.transactionID)
	w.id("payment_statement_id", 0)
	w.id("payment_type", int64(r.paymentType))
	w.key("receipt_number")
	w.b = appendJSONString(w.b, string(r.receiptNumber(nil)))
	w.b = append(w.b, ',')
	w.date("date", r.date)
	w.money("amount", r.amount)
	w.str("comment", e.comment)
	w.flag("is_sent", false)
	w.str("note", e.note)
	w.str("memo", e.memo)
	for i := range 5 {
		w.str(fieldKeys[i], e.fields[i])
	}
	w.money("remind_amount", r.remind())
	w.datetime("real_create_datetime", r.realCreate)
	addedBy := e.addedBy
	if addedBy == "" {
		addedBy = "api"
	}
	w.str("added_by", addedBy)
	w.id("added_by_id", 0)
	w.datetime("updated_at", r.updatedAt)
	w.strMap("additional_attributes", e.aa, s.afNames("payments"))
	w.close()
}

var fieldKeys = [...]string{"field_1", "field_2", "field_3", "field_4", "field_5", "field_6", "field_7", "field_8", "field_9", "field_10"}

func (s *Sim) hPayments(c *rctx) {
	if c.rest == "" {
		switch c.method {
		case http.MethodGet, http.MethodHead:
			list(c, &s.payments, s.paymentView(), s.renderPayment)
		case http.MethodOptions:
			options(c, s.paymentView(), "payments")
		case http.MethodPost:
			s.createPayment(c)
		default:
			c.methodNotAllowed()
		}
		return
	}
	id, ok := parseIDPath(c.rest)
	if !ok {
		c.notFound()
		return
	}
	switch c.method {
	case http.MethodGet:
		one(c, &s.payments, id, s.renderPayment)
	case http.MethodPut:
		s.updatePayment(c, id)
	case http.MethodDelete:
		if err := s.DeletePayment(id); err != nil {
			c.notFound()
			return
		}
		c.noContent()
	default:
		c.methodNotAllowed()
	}
}

// paymentFromBody fills p from the fields present in b.
func paymentFromBody(b obj, p *Payment) []fieldError {
	var errs []fieldError
	ids := map[string]*int64{"customer_id": &p.CustomerID, "invoice_id": &p.InvoiceID, "request_id": &p.RequestID, "payment_type": &p.PaymentType}
	for _, k := range []string{"customer_id", "invoice_id", "request_id", "payment_type"} {
		if !b.has(k) {
			continue
		}
		n, ok := b.id(k)
		if !ok {
			errs = append(errs, fieldError{k, k + " must be an integer."})
			continue
		}
		*ids[k] = n
	}
	if b.has("amount") {
		a, err := money.Parse(b.str("amount"))
		if err != nil {
			errs = append(errs, fieldError{"amount", "Amount must be a number."})
		}
		p.Amount = a
	}
	if b.has("date") {
		d, ok := parseDate(b.str("date"))
		if !ok || d.IsZero() {
			errs = append(errs, fieldError{"date", "Date is invalid."})
		}
		p.Date = d
	}
	strs := map[string]*string{"receipt_number": &p.ReceiptNumber, "comment": &p.Comment, "note": &p.Note, "memo": &p.Memo,
		"field_1": &p.Field1, "field_2": &p.Field2, "field_3": &p.Field3, "field_4": &p.Field4, "field_5": &p.Field5}
	for k, ptr := range strs {
		if b.has(k) {
			*ptr = b.str(k)
		}
	}
	if aa, ok := b.strMap("additional_attributes"); ok {
		if p.AdditionalAttributes == nil {
			p.AdditionalAttributes = map[string]string{}
		}
		maps.Copy(p.AdditionalAttributes, aa)
	}
	return errs
}

func (s *Sim) createPayment(c *rctx) {
	b, ok := c.decode()
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p := Payment{AddedBy: "api"}
	errs := paymentFromBody(b, &p)
	if !b.has("amount") {
		errs = append(errs, fieldError{"amount", "Amount cannot be blank."})
	}
	if p.Date.IsZero() && !b.has("date") {
		p.Date = s.now()
	}
	errs = mergeErrors(errs, s.validatePayment(&p))
	if len(errs) > 0 {
		c.invalid(errs...)
		return
	}
	c.created(s.addPaymentLocked(p))
}

// mergeErrors adds the errors of fields not yet reported.
func mergeErrors(errs, more []fieldError) []fieldError {
	for _, e := range more {
		dup := false
		for _, x := range errs {
			dup = dup || x.field == e.field
		}
		if !dup {
			errs = append(errs, e)
		}
	}
	return errs
}

// updatePayment reverses the payment, changes it and books it again, so an
// edited amount or invoice is reflected exactly.
func (s *Sim) updatePayment(c *rctx, id int64) {
	b, ok := c.decode()
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.payments.get(id)
	if r == nil {
		c.notFound()
		return
	}
	p := r.toPayment()
	errs := mergeErrors(paymentFromBody(b, &p), s.validatePayment(&p))
	if len(errs) > 0 {
		c.invalid(errs...)
		return
	}
	s.reversePayment(r)
	nr := payRec{id: r.id, customerID: p.CustomerID, invoiceID: p.InvoiceID, requestID: p.RequestID,
		amount: int64(p.Amount), realCreate: r.realCreate, updatedAt: s.now().Unix(), date: dayOf(p.Date),
		paymentType: int32(p.PaymentType), receipt: p.ReceiptNumber,
		ext: &payExt{comment: p.Comment, note: p.Note, memo: p.Memo,
			fields: [5]string{p.Field1, p.Field2, p.Field3, p.Field4, p.Field5}, aa: p.AdditionalAttributes,
			addedBy: p.AddedBy, transactionID: p.TransactionID}}
	s.applyPayment(&nr)
	*r = nr
	s.payments.touch()
	c.accepted()
}

// ---- payment methods ----

func (s *Sim) renderMethod(w *jw, m *PaymentMethod) {
	w.open()
	w.id("id", m.ID)
	w.str("name", m.Name)
	w.flag("is_active", m.IsActive)
	for i := range 5 {
		w.str("name_"+strconv.Itoa(i+1), m.Names[i])
	}
	w.id("accounting_bank_accounts_id", 0)
	w.id("einvoicing_payment_methods_id", 0)
	w.close()
}

func (s *Sim) hPaymentMethods(c *rctx) {
	if c.rest == "" {
		switch c.method {
		case http.MethodGet:
			s.mu.RLock()
			defer s.mu.RUnlock()
			c.w.openArr()
			for i := range s.methods {
				s.renderMethod(&c.w, &s.methods[i])
			}
			c.w.closeArr()
			c.ok(http.StatusOK)
		case http.MethodHead:
			s.mu.RLock()
			defer s.mu.RUnlock()
			c.count(len(s.methods))
		case http.MethodPost:
			b, ok := c.decode()
			if !ok {
				return
			}
			m, errs := methodFromBody(b, PaymentMethod{IsActive: true})
			if len(errs) > 0 {
				c.invalid(errs...)
				return
			}
			c.created(s.AddPaymentMethod(m))
		default:
			c.methodNotAllowed()
		}
		return
	}
	id, ok := parseIDPath(c.rest)
	if !ok {
		c.notFound()
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.method(id)
	if m == nil {
		c.notFound()
		return
	}
	switch c.method {
	case http.MethodGet:
		s.renderMethod(&c.w, m)
		c.ok(http.StatusOK)
	case http.MethodPut:
		b, ok := c.decode()
		if !ok {
			return
		}
		nm, errs := methodFromBody(b, *m)
		if len(errs) > 0 {
			c.invalid(errs...)
			return
		}
		*m = nm
		c.accepted()
	case http.MethodDelete:
		for i := range s.methods {
			if s.methods[i].ID == id {
				s.methods = append(s.methods[:i], s.methods[i+1:]...)
				break
			}
		}
		c.noContent()
	default:
		c.methodNotAllowed()
	}
}

func methodFromBody(b obj, m PaymentMethod) (PaymentMethod, []fieldError) {
	if b.has("name") {
		m.Name = b.str("name")
	}
	if b.has("is_active") {
		v := b.str("is_active")
		m.IsActive = v == "1" || v == "true"
	}
	for i := range 5 {
		if k := "name_" + strconv.Itoa(i+1); b.has(k) {
			m.Names[i] = b.str(k)
		}
	}
	if strings.TrimSpace(m.Name) == "" {
		return m, []fieldError{{"name", "Name cannot be blank."}}
	}
	return m, nil
}

// ---- invoice relations (derived from payments) ----

func (s *Sim) hInvoiceRelations(c *rctx) {
	if c.method != http.MethodGet {
		c.methodNotAllowed()
		return
	}
	root, err := parsePHPQuery(c.query)
	if err != nil {
		c.badRequest(err.Error())
		return
	}
	param := func(k string) int64 {
		n := root.get(k)
		if n == nil {
			if ma := root.get("main_attributes"); ma != nil {
				n = ma.get(k)
			}
		}
		if n == nil {
			return 0
		}
		v, _ := strconv.ParseInt(n.val, 10, 64)
		return v
	}
	invID, custID := param("invoice_id"), param("customer_id")
	var relID int64
	if c.rest != "" {
		var ok bool
		if relID, ok = parseIDPath(c.rest); !ok {
			c.notFound()
			return
		}
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	render := func(p *payRec) {
		w := &c.w
		w.open()
		w.id("id", p.id)
		w.id("customer_id", p.customerID)
		w.id("payer_id", p.customerID)
		w.str("type", "payment")
		w.id("invoice_id", p.invoiceID)
		w.id("payment_id", p.id)
		w.id("transaction_id", 0)
		w.id("credit_note_id", 0)
		w.money("amount", p.applied)
		w.close()
	}
	if relID != 0 {
		p := s.payments.get(relID)
		if p == nil || p.invoiceID == 0 || p.applied == 0 {
			c.notFound()
			return
		}
		render(p)
		c.ok(http.StatusOK)
		return
	}
	c.w.openArr()
	for i := range s.payments.recs {
		p := &s.payments.recs[i]
		if p.invoiceID == 0 || p.applied == 0 || (invID != 0 && p.invoiceID != invID) || (custID != 0 && p.customerID != custID) {
			continue
		}
		render(p)
	}
	c.w.closeArr()
	c.ok(http.StatusOK)
}

// ---- transactions ----

func (s *Sim) transactionView() *view[Transaction] {
	return &view[Transaction]{name: "transactions", fields: map[string]field[Transaction]{
		"id":          fInt(func(r *Transaction) int64 { return r.ID }),
		"customer_id": fInt(func(r *Transaction) int64 { return r.CustomerID }),
		"type":        fStr(func(r *Transaction) string { return r.Type }),
		"total":       fMoney(func(r *Transaction) int64 { return int64(r.Total) }),
		"price":       fMoney(func(r *Transaction) int64 { return int64(r.Price) }),
		"date":        fDay(func(r *Transaction) int32 { return dayOf(r.Date) }),
		"category":    fInt(func(r *Transaction) int64 { return r.Category }),
		"description": fStr(func(r *Transaction) string { return r.Description }),
		"invoice_id":  fInt(func(r *Transaction) int64 { return r.InvoiceID }),
		"payment_id":  fInt(func(r *Transaction) int64 { return r.PaymentID }),
		"source":      fStr(func(r *Transaction) string { return r.Source }),
	}}
}

func (s *Sim) renderTransaction(w *jw, t *Transaction) {
	w.open()
	w.id("id", t.ID)
	w.id("customer_id", t.CustomerID)
	w.str("type", t.Type)
	w.id("quantity", t.Quantity)
	w.str("unit", t.Unit)
	w.money("price", int64(t.Price))
	w.percent("tax_percent", t.TaxPercent)
	w.money("total", int64(t.Total))
	w.date("date", dayOf(t.Date))
	w.id("category", t.Category)
	w.str("description", t.Description)
	w.date("period_from", 0)
	w.date("period_to", 0)
	w.id("service_id", 0)
	w.id("payment_id", t.PaymentID)
	w.id("invoice_id", t.InvoiceID)
	w.id("credit_note_id", 0)
	w.str("comment", t.Comment)
	w.flag("to_invoice", false)
	w.str("service_type", "custom")
	w.str("source", t.Source)
	w.close()
}

func (s *Sim) hTransactions(c *rctx) {
	if c.rest == "" {
		switch c.method {
		case http.MethodGet, http.MethodHead:
			list(c, &s.transactions, s.transactionView(), s.renderTransaction)
		case http.MethodPost:
			b, ok := c.decode()
			if !ok {
				return
			}
			s.mu.Lock()
			defer s.mu.Unlock()
			t, errs := s.transactionFromBody(b)
			if len(errs) > 0 {
				c.invalid(errs...)
				return
			}
			c.created(s.addTransactionLocked(t))
		default:
			c.methodNotAllowed()
		}
		return
	}
	id, ok := parseIDPath(c.rest)
	if !ok {
		c.notFound()
		return
	}
	switch c.method {
	case http.MethodGet:
		one(c, &s.transactions, id, s.renderTransaction)
	case http.MethodDelete:
		s.mu.Lock()
		defer s.mu.Unlock()
		t := s.transactions.get(id)
		if t == nil {
			c.notFound()
			return
		}
		switch t.Type {
		case "debit":
			s.moveDeposit(t.CustomerID, int64(t.Total))
		case "credit":
			s.moveDeposit(t.CustomerID, -int64(t.Total))
		}
		s.transactions.remove(id)
		c.noContent()
	default:
		c.methodNotAllowed()
	}
}

func (s *Sim) transactionFromBody(b obj) (Transaction, []fieldError) {
	var t Transaction
	var errs []fieldError
	var ok bool
	if t.CustomerID, ok = b.id("customer_id"); !ok || t.CustomerID == 0 || s.customers.get(t.CustomerID) == nil {
		errs = append(errs, fieldError{"customer_id", "Customer is not found."})
	}
	t.Type = b.str("type")
	if t.Type != "debit" && t.Type != "credit" {
		errs = append(errs, fieldError{"type", "Type must be debit or credit."})
	}
	if t.Category, ok = b.id("category"); !ok || t.Category == 0 {
		errs = append(errs, fieldError{"category", "Category cannot be blank."})
	}
	t.Description = b.str("description")
	if strings.TrimSpace(t.Description) == "" {
		errs = append(errs, fieldError{"description", "Description cannot be blank."})
	}
	t.Unit, t.Comment, t.Source = b.str("unit"), b.str("comment"), b.str("source")
	for k, p := range map[string]*money.Amount{"price": &t.Price, "total": &t.Total} {
		if b.has(k) && b.str(k) != "" {
			a, err := money.Parse(b.str(k))
			if err != nil {
				errs = append(errs, fieldError{k, k + " must be a number."})
			}
			*p = a
		}
	}
	if t.Price == 0 && t.Total == 0 {
		errs = append(errs, fieldError{"price", "Price cannot be blank."})
	}
	if b.has("quantity") {
		q, err := money.Parse(b.str("quantity"))
		if err != nil || q%100 != 0 {
			errs = append(errs, fieldError{"quantity", "Quantity must be a whole number."})
		}
		t.Quantity = int64(q) / 100
	}
	if b.has("tax_percent") && b.str("tax_percent") != "" {
		tx, err := money.Parse(b.str("tax_percent"))
		if err != nil {
			errs = append(errs, fieldError{"tax_percent", "Tax must be a number."})
		}
		t.TaxPercent = int64(tx)
	}
	if d, ok := parseDate(b.str("date")); !ok {
		errs = append(errs, fieldError{"date", "Date is invalid."})
	} else {
		t.Date = d
	}
	t.InvoiceID, _ = b.id("invoice_id")
	t.PaymentID, _ = b.id("payment_id")
	return t, errs
}
