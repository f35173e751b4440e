package demo

import (
	"context"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/splynx-pay/splynx-pay/internal/money"
	"github.com/splynx-pay/splynx-pay/store"
	"github.com/splynx-pay/splynx-pay/sync/mirror"
)

const mirrorSection = "Mirror of Splynx (simulator → SQLite)"

// syncAndReconcile runs a full sync, checks the mirror record by record
// against the simulator, then edits Splynx and checks that an incremental
// pass and a full pass bring the mirror back in line.
//
// With Splynx API faults on, a pass that fails is run again, as the
// daemon's next scheduled sync would; the mirror must still converge.
func syncAndReconcile(ctx context.Context, e *Env, faults bool) error {
	// The demo reconciles every seeded document, years of them, record by
	// record: its mirror keeps the whole history (demoHistoryMonths).
	eng := mirror.New(e.DB, e.Client, mirror.Options{Logger: e.Log.Named("mirror"), Clock: e.Clock,
		HistoryMonths: demoHistoryMonths})
	tries := 1
	if faults {
		tries = 10
	}
	timed := func(name string, f func() (mirror.Stats, error)) (mirror.Stats, time.Duration, error) {
		start := time.Now()
		var (
			st  mirror.Stats
			err error
		)
		for i := 1; i <= tries; i++ {
			if st, err = f(); err == nil {
				if i > 1 {
					e.Report.Note(mirrorSection+" under Splynx API faults", name, fmt.Sprintf("converged on pass %d", i))
				}
				break
			}
			e.Log.Warn("demo: sync pass failed; running it again as the next schedule would", zap.String("pass", name), zap.Error(err))
		}
		return st, time.Since(start), err
	}

	st, took, err := timed("full sync", func() (mirror.Stats, error) { return eng.Full(ctx) })
	if err != nil {
		e.Report.Fail(mirrorSection, "full sync", err)
		return nil
	}
	recs := st.Customers + st.Billing + st.Invoices + st.Proformas
	e.Report.Time(fmt.Sprintf("full sync (%d records, %.0f records/s)", recs, float64(recs)/max(took.Seconds(), 1e-9)), took)
	compareMirror(ctx, e, "after full sync")

	// An admin works in Splynx: invoices get paid, a customer is renamed
	// and blocked, a new customer with an invoice appears, one invoice is
	// removed outright.
	e.Clock.Advance(10 * time.Minute)
	ed := editSplynx(e)
	_, took, err = timed("incremental sync", func() (mirror.Stats, error) { return eng.Incremental(ctx) })
	if err != nil {
		e.Report.Fail(mirrorSection, "incremental sync", err)
		return nil
	}
	e.Report.Time(fmt.Sprintf("incremental sync after %d edits in Splynx", ed.count()), took)
	checkEdits(ctx, e, ed)

	st, took, err = timed("second full sync", func() (mirror.Stats, error) { return eng.Full(ctx) })
	if err != nil {
		e.Report.Fail(mirrorSection, "second full sync", err)
		return nil
	}
	e.Report.Time("full sync noticing deletions", took)
	e.Report.Check(mirrorSection+", after second full sync", "records deleted in Splynx, removed", ed.deletedCount(), st.Deleted)
	compareMirror(ctx, e, "after second full sync")
	return nil
}

// edits are the changes editSplynx made.
type edits struct {
	paid                []int64
	renamed             int64
	newCustomer, newInv int64
	purged              int64
}

func (ed edits) count() int {
	n := len(ed.paid) + 2
	if ed.renamed != 0 {
		n++
	}
	return n + ed.deletedCount()
}

func (ed edits) deletedCount() int {
	if ed.purged != 0 {
		return 1
	}
	return 0
}

// editSplynx changes about 1% of the invoices and a few customers in the
// simulator, as an admin would.
func editSplynx(e *Env) edits {
	var ed edits
	c := e.Splynx.Counts()
	want := max(c.Invoices/100, 3)
	for id := int64(1); id <= int64(c.Invoices*2) && len(ed.paid) < want; id += 7 {
		inv, ok := e.Splynx.Invoice(id)
		if !ok || inv.Status != "not_paid" {
			continue
		}
		if e.Splynx.UpdateInvoice(id, func(i *splynxInvoice) { i.Status, i.Due = "paid", 0 }) {
			ed.paid = append(ed.paid, id)
		}
	}
	for id := int64(1); id < 100; id++ {
		if e.Splynx.UpdateCustomer(id, func(cu *splynxCustomer) { cu.Name += " (renamed)"; cu.Status = "blocked" }) {
			ed.renamed = id
			break
		}
	}
	ed.newCustomer = e.Splynx.AddCustomer(splynxCustomer{Login: "demo-new", Name: "New Customer", Status: "active", BillingType: "recurring"})
	ed.newInv = e.Splynx.AddInvoice(splynxInvoice{CustomerID: ed.newCustomer, Total: money.Amount(4400), Due: money.Amount(4400), Status: "not_paid"})
	paid := map[int64]bool{}
	for _, id := range ed.paid {
		paid[id] = true
	}
	for id := int64(c.Invoices); id > 0; id-- {
		if _, ok := e.Splynx.Invoice(id); ok && !paid[id] && e.Splynx.PurgeInvoice(id) {
			ed.purged = id
			break
		}
	}
	return ed
}

// checkEdits verifies that an incremental pass picked up every change.
// Deletions are not visible to it; the full pass after it removes them.
func checkEdits(ctx context.Context, e *Env, ed edits) {
	s := mirrorSection + ", after edits + incremental sync"
	paidOK := 0
	for _, id := range ed.paid {
		if m, err := e.DB.GetInvoice(ctx, id); err == nil && m.Status == "paid" && m.Due == 0 {
			paidOK++
		}
	}
	e.Report.Check(s, "invoices paid in Splynx, paid in the mirror", len(ed.paid), paidOK)
	if ed.renamed != 0 {
		want, _ := e.Splynx.Customer(ed.renamed)
		got, err := e.DB.GetCustomer(ctx, ed.renamed)
		if err != nil {
			e.Report.Fail(s, "renamed customer", err)
		} else {
			e.Report.Check(s, "renamed and blocked customer", want.Name+" / "+want.Status, got.Name+" / "+got.Status)
		}
	}
	newOK := 0
	if _, err := e.DB.GetCustomer(ctx, ed.newCustomer); err == nil {
		newOK++
	}
	if inv, err := e.DB.GetInvoice(ctx, ed.newInv); err == nil && inv.Due == 4400 {
		newOK++
	}
	e.Report.Check(s, "new customer and invoice mirrored", 2, newOK)
	if ed.purged != 0 {
		e.Report.Note(s, "invoice deleted in Splynx", fmt.Sprintf("#%d waits for the next full pass", ed.purged))
	}
}

func compareMirror(ctx context.Context, e *Env, when string) {
	sc := e.Splynx.Counts()
	mc, err := e.DB.Counts(ctx)
	if err != nil {
		e.Report.Fail(mirrorSection, "count mirror", err)
		return
	}
	s := mirrorSection + ", " + when
	e.Report.Check(s, "customers", sc.Customers, mc.Customers)
	e.Report.Check(s, "billing records", sc.Customers, mc.Billing)
	e.Report.Check(s, "invoices", sc.Invoices, mc.Invoices)
	e.Report.Check(s, "proforma invoices", sc.Proformas, mc.Proformas)
	e.Report.Check(s, "payment methods", len(e.Splynx.PaymentMethods()), mc.PaymentMethods)
	compareRecords(ctx, e, when)
}

// compareRecords checks every mirrored record against the simulator field
// by field (the fields charging depends on).
func compareRecords(ctx context.Context, e *Env, when string) {
	s := mirrorSection + ", " + when
	var custOK, custN int
	for after := int64(0); ; {
		page, err := e.DB.ListCustomers(ctx, store.CustomerFilter{AfterID: after, Limit: 5000})
		if err != nil {
			e.Report.Fail(s, "read customers", err)
			return
		}
		if len(page) == 0 {
			break
		}
		for _, m := range page {
			custN++
			if c, ok := e.Splynx.Customer(m.ID); ok && c.Name == m.Name && c.Status == m.Status && c.Login == m.Login {
				custOK++
			}
		}
		after = page[len(page)-1].ID
	}
	var invOK, invN int
	var dueMirror, dueSim money.Amount
	for after := int64(0); ; {
		page, err := e.DB.ListInvoices(ctx, store.InvoiceFilter{AfterID: after, Limit: 10000})
		if err != nil {
			e.Report.Fail(s, "read invoices", err)
			return
		}
		if len(page) == 0 {
			break
		}
		for _, m := range page {
			invN++
			dueMirror += m.Due
			inv, ok := e.Splynx.Invoice(m.ID)
			if !ok {
				continue
			}
			dueSim += inv.Due
			if inv.Total == m.Total && inv.Due == m.Due && inv.Status == m.Status && inv.CustomerID == m.CustomerID {
				invOK++
			}
		}
		after = page[len(page)-1].ID
	}
	e.Report.Check(s, "customers equal field by field", custN, custOK)
	e.Report.Check(s, "invoices equal field by field", invN, invOK)
	e.Report.Check(s, "sum of invoice due", dueSim.String(), dueMirror.String())
}

// demoHistoryMonths is the demo mirror's history window: all of the
// simulator's seeded history.
const demoHistoryMonths = 1200
