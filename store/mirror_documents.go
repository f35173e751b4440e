package store

import (
	"strings"
	"time"

	"github.com/splynx-pay/splynx-pay/internal/money"
)

// Invoices and proformas are one kind of row: a proforma is an invoice
// without due, type and additional attributes. docTable describes each
// table once; the writer, the fingerprint, the reader and MoneyChanged all
// work on an Invoice and go through it, so the two cannot drift apart.
type docTable struct {
	name, what string // the table, and the word for one of its rows in errors
	invoices   bool   // the table has due, type and additional_json
	row        rowSQL // the upsert
	update     string // the in-place update of a row whose indexed columns are unchanged
	cols       string // the select list, aliased i, in docColumns order, then synced_at
}

// docColumns lists the record columns in the order docValues appends and
// scanDocument reads them; * marks the invoice-only ones.
var docColumns = []string{"id", "customer_id", "number", "date_created", "real_create_datetime", "date_updated",
	"date_payment", "date_till", "total", "*due", "status", "payment_id", "*type", "note", "memo", "*additional_json"}

// docKeyColumns are the indexed columns: a change to one of them rewrites
// the whole row (see MirrorWriter.Customers), so the update leaves them out.
var docKeyColumns = map[string]bool{"id": true, "customer_id": true, "number": true, "date_created": true, "status": true}

var (
	invoiceTable  = newDocTable("invoices", "invoice", true)
	proformaTable = newDocTable("proformas", "proforma", false)
)

func newDocTable(name, what string, invoices bool) *docTable {
	var cols, sel []string
	for _, c := range docColumns {
		if c[0] == '*' {
			if !invoices {
				continue
			}
			c = c[1:]
		}
		cols = append(cols, c)
		sel = append(sel, "i."+c)
	}
	cols = append(cols, "items", "row_hash", "items_hash", "sync_gen", "synced_at")
	var set, upd []string
	for _, c := range cols[1:] {
		set = append(set, c+"=excluded."+c)
		if !docKeyColumns[c] {
			upd = append(upd, c+"=?")
		}
	}
	return &docTable{
		name: name, what: what, invoices: invoices,
		row: rowSQL{name, `INSERT INTO ` + name + `(` + strings.Join(cols, ", ") + `)`, len(cols),
			`ON CONFLICT(id) DO UPDATE SET ` + strings.Join(set, ", ")},
		update: `UPDATE ` + name + ` SET ` + strings.Join(upd, ", ") + ` WHERE id=?`,
		cols:   strings.Join(append(sel, "i.synced_at"), ", "),
	}
}

// docValues appends v's record columns in docColumns order; keys false
// leaves out the indexed ones (for the update).
func (t *docTable) docValues(a []any, v *Invoice, attrs string, keys bool) []any {
	if keys {
		a = append(a, v.ID, v.CustomerID, v.Number, FormatDate(v.DateCreated))
	}
	a = append(a, FormatDateTime(v.RealCreateDatetime), FormatDateTime(v.DateUpdated), FormatDate(v.DatePayment),
		FormatDate(v.DateTill), int64(v.Total))
	if t.invoices {
		a = append(a, int64(v.Due))
	}
	if keys {
		a = append(a, v.Status)
	}
	a = append(a, v.PaymentID)
	if t.invoices {
		a = append(a, v.Type)
	}
	a = append(a, v.Note, v.Memo)
	if t.invoices {
		a = append(a, attrs)
	}
	return a
}

// scanDocument reads one row selected with t.cols.
func (t *docTable) scanDocument(sc interface{ Scan(...any) error }) (Invoice, error) {
	var v Invoice
	var created, realCreated, updated, paid, till, attrs, synced string
	var total, due int64
	dst := make([]any, 0, 17)
	dst = append(dst, &v.ID, &v.CustomerID, &v.Number, &created, &realCreated, &updated, &paid, &till, &total)
	if t.invoices {
		dst = append(dst, &due)
	}
	dst = append(dst, &v.Status, &v.PaymentID)
	if t.invoices {
		dst = append(dst, &v.Type)
	}
	dst = append(dst, &v.Note, &v.Memo)
	if t.invoices {
		dst = append(dst, &attrs)
	}
	if err := sc.Scan(append(dst, &synced)...); err != nil {
		return v, err
	}
	v.DateCreated = parseDate(created)
	v.RealCreateDatetime = parseDateTime(realCreated)
	v.DateUpdated = parseDateTime(updated)
	v.DatePayment = parseDate(paid)
	v.DateTill = parseDate(till)
	v.Total = money.Amount(total)
	v.Due = money.Amount(due)
	v.Additional = decodeAttrs(attrs)
	v.SyncedAt, _ = time.Parse(time.RFC3339, synced)
	return v, nil
}

// asInvoice is p as an invoice row of the proformas table.
func (p *Proforma) asInvoice() Invoice {
	return Invoice{ID: p.ID, CustomerID: p.CustomerID, Number: p.Number, DateCreated: p.DateCreated,
		RealCreateDatetime: p.RealCreateDatetime, DateUpdated: p.DateUpdated, DatePayment: p.DatePayment,
		DateTill: p.DateTill, Total: p.Total, Status: p.Status, PaymentID: p.PaymentID, Note: p.Note, Memo: p.Memo,
		Items: p.Items, SyncedAt: p.SyncedAt}
}

// asProforma is the proforma an invoice row of the proformas table holds.
func (v *Invoice) asProforma() Proforma {
	return Proforma{ID: v.ID, CustomerID: v.CustomerID, Number: v.Number, DateCreated: v.DateCreated,
		RealCreateDatetime: v.RealCreateDatetime, DateUpdated: v.DateUpdated, DatePayment: v.DatePayment,
		DateTill: v.DateTill, Total: v.Total, Status: v.Status, PaymentID: v.PaymentID, Note: v.Note, Memo: v.Memo,
		Items: v.Items, SyncedAt: v.SyncedAt}
}
