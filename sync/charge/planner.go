package charge

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/splynx-pay/splynx-pay/store"
	"github.com/splynx-pay/splynx-pay/sync/mirror"
)

// Modes of a charge run.
const (
	ModeInvoices  = "invoices"  // charge each unpaid invoice's due
	ModeProformas = "proformas" // charge each unpaid proforma's total
	ModeBalance   = "balance"   // charge each customer's negative balance
)

// Filters are Splynx's Charge dialog filters (Finance → Invoices → Charge).
type Filters struct {
	Mode string `json:"mode,omitempty"`
	// From and To bound the invoice creation date, inclusive (YYYY-MM-DD).
	From string `json:"from,omitempty"`
	To   string `json:"to,omitempty"`
	// Partners and Locations: empty means all.
	Partners  []int64 `json:"partners,omitempty"`
	Locations []int64 `json:"locations,omitempty"`
	// PaymentTypes is the customer's billing payment_method; empty means all.
	PaymentTypes []int64 `json:"payment_types,omitempty"`
	// Statuses of invoices to consider; empty means not_paid. Paid and
	// deleted invoices are always skipped with a reason.
	Statuses []string `json:"statuses,omitempty"`
	// TotalOp ("=", "<", ">") compares the invoice total with Total (minor units).
	TotalOp string `json:"total_op,omitempty"`
	Total   int64  `json:"total,omitempty"`
	// CustomerID and Number narrow to one customer / one invoice number.
	CustomerID int64  `json:"customer_id,omitempty"`
	Number     string `json:"number,omitempty"`
	// IDs narrows to these invoice (or proforma) ids: the admin's selection.
	IDs []int64 `json:"ids,omitempty"`
	// DueBy keeps only invoices whose due date (date_till) is on or before
	// this day (YYYY-MM-DD): "due date reached".
	DueBy string `json:"due_by,omitempty"`
}

// NightlyFilters are the filters of the scheduled (auto_charge) run: every
// unpaid invoice, narrowed by auto_charge_max_age_days (created within that
// many days) and auto_charge_due_reached (due date come). With both at
// their defaults it is every unpaid invoice, however old.
func (e *Engine) NightlyFilters() Filters {
	f := Filters{Mode: ModeInvoices}
	today := e.now().In(e.loc)
	if n := e.set.AutoChargeMaxAgeDays; n > 0 {
		f.From = today.AddDate(0, 0, -n).Format("2006-01-02")
	}
	if e.set.AutoChargeDueReached {
		f.DueBy = today.Format("2006-01-02")
	}
	return f
}

// JSON renders the filters for the run row.
func (f Filters) JSON() string {
	b, _ := json.Marshal(f)
	return string(b)
}

func (f Filters) validate() error {
	switch f.Mode {
	case "", ModeInvoices, ModeProformas, ModeBalance:
	default:
		return fmt.Errorf("charge: unknown mode %q (invoices, proformas or balance)", f.Mode)
	}
	for _, d := range []string{f.From, f.To, f.DueBy} {
		if d == "" {
			continue
		}
		if _, err := time.Parse("2006-01-02", d); err != nil {
			return fmt.Errorf("charge: bad date %q (want YYYY-MM-DD)", d)
		}
	}
	switch f.TotalOp {
	case "", "=", "<", ">":
	default:
		return fmt.Errorf("charge: bad total comparison %q (=, < or >)", f.TotalOp)
	}
	for _, s := range f.Statuses {
		switch s {
		case "not_paid", "pending", "paid", "deleted":
		default:
			return fmt.Errorf("charge: bad invoice status %q", s)
		}
	}
	return nil
}

// Item is one charge the planner found (or skipped, with Skip saying why).
type Item struct {
	Kind         string `json:"kind"`
	ChargeKey    string `json:"charge_key"`
	InvoiceID    int64  `json:"invoice_id,omitempty"`
	ProformaID   int64  `json:"proforma_id,omitempty"`
	Number       string `json:"number,omitempty"`
	CustomerID   int64  `json:"customer_id"`
	CustomerName string `json:"customer_name"`
	Login        string `json:"-"`
	DateCreated  string `json:"date_created,omitempty"`
	Total        int64  `json:"total"`
	Due          int64  `json:"due"`
	MethodID     int64  `json:"method_id,omitempty"`
	MethodKind   string `json:"method_kind,omitempty"`
	Mask         string `json:"mask,omitempty"`
	Skip         string `json:"skip,omitempty"`
	// Amount is fixed for refills; other kinds re-read it from Splynx.
	Amount int64 `json:"amount,omitempty"`
}

// Label names the item in logs and tables.
func (it Item) Label() string {
	switch it.Kind {
	case store.KindInvoice:
		return fmt.Sprintf("invoice %s (id %d)", it.Number, it.InvoiceID)
	case store.KindProforma:
		return fmt.Sprintf("proforma %s (id %d)", it.Number, it.ProformaID)
	case store.KindBalance:
		return fmt.Sprintf("balance of customer %d", it.CustomerID)
	}
	return fmt.Sprintf("refill of customer %d", it.CustomerID)
}

// CustomerSum is a preview line per customer.
type CustomerSum struct {
	CustomerID int64  `json:"customer_id"`
	Name       string `json:"name"`
	Count      int    `json:"count"`
	Total      int64  `json:"total"`
	Due        int64  `json:"due"`
	Mask       string `json:"mask"`
}

// Preview is what a run would charge, without charging.
type Preview struct {
	Filters     Filters       `json:"filters"`
	Items       []Item        `json:"items"`
	Skipped     []Item        `json:"skipped"`
	Count       int           `json:"count"`
	TotalSum    int64         `json:"total_sum"`
	DueSum      int64         `json:"due_sum"`
	PerCustomer []CustomerSum `json:"per_customer"`
}

// Preview plans a run over the mirror and sums it up; nothing is charged.
func (e *Engine) Preview(ctx context.Context, f Filters) (Preview, error) {
	items, skipped, err := e.plan(ctx, f)
	if err != nil {
		return Preview{}, err
	}
	p := Preview{Filters: f, Items: items, Skipped: skipped, Count: len(items)}
	per := map[int64]*CustomerSum{}
	for _, it := range items {
		p.TotalSum += it.Total
		p.DueSum += it.Due
		c := per[it.CustomerID]
		if c == nil {
			c = &CustomerSum{CustomerID: it.CustomerID, Name: it.CustomerName, Mask: it.Mask}
			per[it.CustomerID] = c
		}
		c.Count++
		c.Total += it.Total
		c.Due += it.Due
	}
	for _, c := range per {
		p.PerCustomer = append(p.PerCustomer, *c)
	}
	sort.Slice(p.PerCustomer, func(i, j int) bool { return p.PerCustomer[i].CustomerID < p.PerCustomer[j].CustomerID })
	return p, nil
}

// plan lists what to charge and what to skip, reading only the mirror and
// the charge tables.
func (e *Engine) plan(ctx context.Context, f Filters) (items, skipped []Item, err error) {
	if err := f.validate(); err != nil {
		return nil, nil, err
	}
	e.refreshMissingBilling(ctx, f)
	var rows []Item
	var extra []rowExtra
	switch f.Mode {
	case ModeBalance:
		rows, extra, err = e.queryBalances(ctx, f)
	case ModeProformas:
		rows, extra, err = e.queryDocs(ctx, f, false)
	default:
		rows, extra, err = e.queryDocs(ctx, f, true)
	}
	if err != nil {
		return nil, nil, err
	}
	blocked, err := e.blockedKeys(ctx)
	if err != nil {
		return nil, nil, err
	}
	for i, it := range rows {
		it.Skip = e.skipReason(it, extra[i], blocked)
		if it.Skip != "" {
			skipped = append(skipped, it)
		} else {
			items = append(items, it)
		}
	}
	return items, skipped, nil
}

// refreshMissingBilling reads from Splynx the billing records a plan needs
// and the mirror lacks (a Splynx that refuses the billing list leaves the
// mirror billing only for customers with a saved method): every customer
// with an active saved method, and the customer a plan is narrowed to. A
// failure is logged and the plan goes on with what the mirror holds; the
// run re-reads each balance and invoice from Splynx before charging.
func (e *Engine) refreshMissingBilling(ctx context.Context, f Filters) {
	if e.sp == nil {
		return
	}
	var ids []int64
	if f.CustomerID != 0 {
		ids = append(ids, f.CustomerID)
	}
	eng := mirror.New(e.db, e.sp, mirror.Options{Clock: e.clk, Logger: e.opts.Logger})
	if err := eng.RefreshMissingBilling(ctx, ids...); err != nil {
		e.log.Warn("could not read billing records the mirror lacks; planning with the mirror as it is", zap.Error(err))
	}
}

type rowExtra struct {
	status, custStatus, attrs string
	hasMethod                 bool
}

func (e *Engine) skipReason(it Item, x rowExtra, blocked map[string]string) string {
	switch x.status {
	case "paid":
		return "invoice is already paid"
	case "deleted":
		return "invoice is deleted"
	}
	if it.Due <= 0 {
		return "nothing is due"
	}
	switch x.custStatus {
	case "blocked":
		if !e.set.ChargeBlockedCustomers {
			return "customer is blocked"
		}
	case "disabled":
		if !e.set.ChargeDisabledCustomers {
			return "customer is disabled"
		}
	}
	if x.attrs != "" && x.attrs != "{}" {
		var m map[string]any
		if json.Unmarshal([]byte(x.attrs), &m) == nil {
			if v, ok := m[e.set.AutopayAttribute]; ok {
				switch strings.ToLower(strings.TrimSpace(fmt.Sprint(v))) {
				case "0", "no", "false", "off":
					return "autopay is turned off for the customer"
				}
			}
		}
	}
	if why, ok := blocked[it.ChargeKey]; ok {
		return why
	}
	if !x.hasMethod {
		return "customer payment account is empty (no active saved payment method)"
	}
	return ""
}

// blockedKeys returns the charges the planner must not charge again, with
// the reason: a live attempt (unknown and review included: an unresolved
// charge blocks the document), max_attempts automatic attempts made, a
// retry already scheduled, or a non-retryable decline with the method the
// customer still has (charging resumes when the method is replaced or staff
// retry by hand).
func (e *Engine) blockedKeys(ctx context.Context) (map[string]string, error) {
	out := map[string]string{}
	live, err := e.db.LiveAttempts(ctx)
	if err != nil {
		return nil, fmt.Errorf("charge: plan: read live attempts: %w", err)
	}
	for _, a := range live {
		switch a.State {
		case store.StateReview:
			out[a.ChargeKey] = fmt.Sprintf("attempt %s needs review: its outcome at the gateway is unknown", a.Reference)
		case store.StateUnknown:
			out[a.ChargeKey] = fmt.Sprintf("attempt %s is unknown: waiting for the gateway to say what happened", a.Reference)
		default:
			out[a.ChargeKey] = fmt.Sprintf("attempt %s is %s", a.Reference, a.State)
		}
	}
	// The newest attempt of each charge that reached the gateway decides;
	// declines that never did (NOT_SENT) do not count. Every attempt made
	// by a batch (nightly, admin Charge, CLI and retry runs) counts against
	// max_attempts; one charge made by hand (a portal payment, "pay from
	// profile", an admin's retry) does not.
	declines, err := e.db.LastDeclines(ctx, CodeNotSent)
	if err != nil {
		return nil, fmt.Errorf("charge: plan: read declined attempts: %w", err)
	}
	for _, d := range declines {
		k, ref := d.ChargeKey, d.Reference
		if _, live := out[k]; live {
			continue
		}
		switch {
		case !d.Retryable && d.MethodID != 0 && d.MethodID == d.ActiveMethodID:
			out[k] = fmt.Sprintf("attempt %s declined (%s %s), not retryable: waiting for a new payment method or a manual retry", ref, d.Code, d.Reason)
		case d.BatchAttempts >= e.set.MaxAttempts:
			out[k] = fmt.Sprintf("attempt %s declined; %d attempts made by charge runs (max_attempts %d)", ref, d.BatchAttempts, e.set.MaxAttempts)
		case d.Retryable && !d.Retried && d.NextRetryAt != "":
			out[k] = fmt.Sprintf("attempt %s declined; retry scheduled for %s", ref, store.ParseTime(d.NextRetryAt).In(e.loc).Format("2006-01-02"))
		}
	}
	return out, nil
}

// planFilter is the store's filter of the Charge dialog's filters.
func planFilter(f Filters) store.PlanFilter {
	statuses := f.Statuses
	if len(statuses) == 0 {
		statuses = []string{"not_paid"}
	}
	return store.PlanFilter{Statuses: statuses, CreatedFrom: f.From, CreatedTo: f.To, DueBy: f.DueBy,
		PartnerIDs: f.Partners, LocationIDs: f.Locations, PaymentMethodIDs: f.PaymentTypes, IDs: f.IDs,
		TotalOp: f.TotalOp, Total: f.Total, CustomerID: f.CustomerID, Number: f.Number}
}

// planItem is the item of a planned row, with what skipReason weighs.
func planItem(r store.PlanRow) (Item, rowExtra) {
	return Item{Number: r.Number, CustomerID: r.CustomerID, CustomerName: r.CustomerName, Login: r.Login,
			DateCreated: r.DateCreated, Total: r.Total, Due: r.Due, MethodID: r.MethodID, MethodKind: r.MethodKind, Mask: r.Mask},
		rowExtra{status: r.Status, custStatus: r.CustomerStatus, attrs: r.Attributes, hasMethod: r.MethodID != 0}
}

func (e *Engine) queryDocs(ctx context.Context, f Filters, invoices bool) ([]Item, []rowExtra, error) {
	rows, err := e.db.PlanDocuments(ctx, planFilter(f), invoices)
	if err != nil {
		return nil, nil, fmt.Errorf("charge: %w", err)
	}
	items, extra := make([]Item, 0, len(rows)), make([]rowExtra, 0, len(rows))
	for _, r := range rows {
		it, x := planItem(r)
		if invoices {
			it.Kind, it.InvoiceID, it.ChargeKey = store.KindInvoice, r.ID, fmt.Sprintf("invoice:%d", r.ID)
		} else {
			it.Kind, it.ProformaID, it.ChargeKey = store.KindProforma, r.ID, fmt.Sprintf("proforma:%d", r.ID)
		}
		items, extra = append(items, it), append(extra, x)
	}
	return items, extra, nil
}

func (e *Engine) queryBalances(ctx context.Context, f Filters) ([]Item, []rowExtra, error) {
	rows, err := e.db.PlanBalances(ctx, planFilter(f))
	if err != nil {
		return nil, nil, fmt.Errorf("charge: %w", err)
	}
	items, extra := make([]Item, 0, len(rows)), make([]rowExtra, 0, len(rows))
	for _, r := range rows {
		it, x := planItem(r)
		it.Kind, it.ChargeKey = store.KindBalance, fmt.Sprintf("balance:%d", it.CustomerID)
		items, extra = append(items, it), append(extra, x)
	}
	return items, extra, nil
}
