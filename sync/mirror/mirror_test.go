package mirror_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/splynx-pay/splynx-pay/internal/clock"
	"github.com/splynx-pay/splynx-pay/internal/money"
	"github.com/splynx-pay/splynx-pay/splynx"
	"github.com/splynx-pay/splynx-pay/splynx/splynxsim"
	"github.com/splynx-pay/splynx-pay/store"
	"github.com/splynx-pay/splynx-pay/sync/mirror"
)

type env struct {
	sim *splynxsim.Sim
	db  *store.DB
	eng *mirror.Engine
	clk *clock.Fake // the engine's clock (ours), not Splynx's
	// partialBilling: Splynx refuses the billing list, so the mirror holds
	// billing only for the customers store.BillingWanted names.
	partialBilling bool
	history        int // months of paid documents the mirror keeps
	client         *splynx.Client
}

// pruned says whether the mirror leaves out a Splynx document: a paid or
// deleted one created before the history window.
func (e *env) pruned(status string, created time.Time) bool {
	return (status == "paid" || status == "deleted") &&
		store.FormatDate(created) < store.FormatDate(e.clk.Now().AddDate(0, -e.history, 0))
}

func newEnv(t *testing.T, simOpts splynxsim.Options, seed splynxsim.SeedConfig, opts mirror.Options) *env {
	return newEnvRetries(t, simOpts, seed, opts, 0)
}

// newEnvRetries sets the client's retries of idempotent calls (0: default).
func newEnvRetries(t *testing.T, simOpts splynxsim.Options, seed splynxsim.SeedConfig, opts mirror.Options, retries int) *env {
	return newEnvWith(t, simOpts, seed, opts, retries, nil)
}

// hookTransport runs before, if set, ahead of every request: a way to change
// Splynx at an exact point of a listing.
type hookTransport struct {
	before func(*http.Request)
}

func (h *hookTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if h.before != nil {
		h.before(r)
	}
	return http.DefaultTransport.RoundTrip(r)
}

func newEnvWith(t *testing.T, simOpts splynxsim.Options, seed splynxsim.SeedConfig, opts mirror.Options, retries int,
	hook *hookTransport) *env {
	t.Helper()
	ctx := context.Background()
	sim := splynxsim.New(simOpts)
	sim.Seed(seed)
	sim.AddAPIKey("k", "s")
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	copts := []splynx.Option{splynx.WithClock(sim.Clock()), splynx.WithRetryWait(time.Millisecond, 5*time.Millisecond)}
	if hook != nil {
		copts = append(copts, splynx.WithHTTPClient(&http.Client{Transport: hook}))
	}
	c, err := splynx.New(splynx.Config{BaseURL: srv.URL, APIKey: "k", APISecret: "s", Timeout: 5 * time.Second,
		MaxRetries: retries}, copts...)
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "mirror.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	clk := clock.NewFake(time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC))
	opts.Clock = clk
	if opts.HistoryMonths == 0 {
		// The seeded documents go back years; tests that are not about
		// the history window mirror them all (TestHistoryWindow is).
		opts.HistoryMonths = 600
	}
	return &env{sim: sim, db: db, eng: mirror.New(db, c, opts), clk: clk, client: c,
		partialBilling: simOpts.NoBillingList || simOpts.RefuseBillingList,
		history:        cmp.Or(opts.HistoryMonths, mirror.DefaultHistoryMonths)}
}

// untilOK repeats a pass until one succeeds, as the daemon's schedule would.
func untilOK(t *testing.T, what string, pass func(context.Context) (mirror.Stats, error)) (mirror.Stats, int) {
	t.Helper()
	for i := 1; i <= 60; i++ {
		st, err := pass(context.Background())
		if err == nil {
			return st, i
		}
		t.Logf("%s attempt %d failed: %v", what, i, err)
	}
	t.Fatalf("%s never succeeded", what)
	return mirror.Stats{}, 0
}

func fmtDate(t time.Time) string     { return store.FormatDate(t) }
func fmtDateTime(t time.Time) string { return store.FormatDateTime(t) }

// sameAttrs treats an absent attribute and an empty one alike: Splynx lists
// every defined additional field, empty or not.
func sameAttrs(a, b map[string]string) bool {
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	for k, v := range b {
		if a[k] != v {
			return false
		}
	}
	return true
}

// quantity and tax come over the API as text; compare them as the numbers
// the simulator holds.
func sameNumber(text string, want int64) bool {
	text = strings.TrimSpace(text)
	if whole, frac, ok := strings.Cut(text, "."); ok {
		if strings.Trim(frac, "0") != "" {
			return false
		}
		text = whole
	}
	n, err := strconv.ParseInt(text, 10, 64)
	return err == nil && n == want
}

func diffItems(what string, got []store.Item, want []splynxsim.InvoiceItem) []string {
	if len(got) != len(want) {
		return []string{fmt.Sprintf("%s: %d items, want %d", what, len(got), len(want))}
	}
	var d []string
	for i, w := range want {
		g := got[i]
		if g.ID != w.ID || g.Description != w.Description || !sameNumber(g.Quantity, w.Quantity) || g.Unit != w.Unit ||
			g.Price != w.Price || !sameNumber(g.Tax, w.TaxPercent) || fmtDate(g.PeriodFrom) != fmtDate(w.PeriodFrom) ||
			fmtDate(g.PeriodTo) != fmtDate(w.PeriodTo) {
			d = append(d, fmt.Sprintf("%s item %d: got %+v, want %+v", what, i, g, w))
		}
	}
	return d
}

// compare checks, record by record and field by field, that the mirror
// holds exactly the simulator's customers, billing, invoices and proformas.
func compare(t *testing.T, e *env) {
	t.Helper()
	ctx := context.Background()
	var diffs []string
	add := func(format string, args ...any) { diffs = append(diffs, fmt.Sprintf(format, args...)) }

	maxID := func(table string) int64 {
		id, err := e.db.MaxID(ctx, table)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	simCounts := e.sim.Counts()
	got, err := e.db.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}

	// Customers and billing: every id the simulator or the mirror may hold.
	seen := 0
	bound := max(maxID("customers"), int64(simCounts.Customers)) + 200
	for id := int64(1); id <= bound; id++ {
		sc, inSim := e.sim.Customer(id)
		mc, err := e.db.GetCustomer(ctx, id)
		inMirror := err == nil
		if inSim != inMirror {
			add("customer %d: in simulator %v, in mirror %v (%v)", id, inSim, inMirror, err)
			continue
		}
		if !inSim {
			continue
		}
		seen++
		if mc.Login != sc.Login || mc.Name != sc.Name || mc.Email != sc.Email || mc.BillingEmail != sc.BillingEmail ||
			mc.Phone != sc.Phone || mc.Category != sc.Category || mc.Status != sc.Status || mc.BillingType != sc.BillingType ||
			mc.PartnerID != sc.PartnerID || mc.LocationID != sc.LocationID || mc.Street1 != sc.Street1 ||
			mc.Street2 != sc.Street2 || mc.ZipCode != sc.ZipCode || mc.City != sc.City ||
			fmtDate(mc.DateAdd) != fmtDate(sc.DateAdd) || fmtDateTime(mc.LastUpdate) != fmtDateTime(sc.LastUpdate) ||
			!sameAttrs(mc.Additional, sc.AdditionalAttributes) {
			add("customer %d:\n mirror %+v\n splynx %+v", id, mc, sc)
		}
		sb, okB := e.sim.Billing(id)
		mb, err := e.db.GetBilling(ctx, id)
		if e.partialBilling && errors.Is(err, store.ErrNotFound) {
			if wanted, _ := e.db.BillingWanted(ctx, []int64{id}, false); len(wanted) == 0 {
				continue // not needed, so not read
			}
		}
		if !okB || err != nil {
			add("billing %d: in simulator %v, mirror error %v", id, okB, err)
			continue
		}
		if mb.Enabled != sb.Enabled || mb.Type != sb.Type || mb.Deposit != sb.Deposit ||
			mb.PaymentMethod != sb.PaymentMethod || mb.BillingDate != strconv.Itoa(sb.BillingDate) ||
			mb.BillingDue != strconv.Itoa(sb.BillingDue) || mb.MinBalance != sb.MinBalance {
			add("billing %d:\n mirror %+v\n splynx %+v", id, mb, sb)
		}
	}
	if seen != simCounts.Customers || got.Customers != simCounts.Customers ||
		(got.Billing != simCounts.Customers && !e.partialBilling) {
		add("customers: compared %d, mirror %d (billing %d), simulator %d", seen, got.Customers, got.Billing, simCounts.Customers)
	}

	seen, skipped := 0, 0
	bound = max(maxID("invoices"), int64(simCounts.Invoices)) + 200
	for id := int64(1); id <= bound; id++ {
		sv, inSim := e.sim.Invoice(id)
		mv, err := e.db.GetInvoice(ctx, id)
		inMirror := err == nil
		if inSim && !inMirror && e.pruned(sv.Status, sv.DateCreated) {
			skipped++
			continue
		}
		if inSim != inMirror {
			add("invoice %d: in simulator %v, in mirror %v (%v)", id, inSim, inMirror, err)
			continue
		}
		if !inSim {
			continue
		}
		seen++
		if mv.CustomerID != sv.CustomerID || (sv.Number != "" && mv.Number != sv.Number) || mv.Number == "" ||
			fmtDate(mv.DateCreated) != fmtDate(sv.DateCreated) ||
			fmtDateTime(mv.RealCreateDatetime) != fmtDateTime(sv.RealCreateDatetime) ||
			fmtDateTime(mv.DateUpdated) != fmtDateTime(sv.DateUpdated) ||
			fmtDate(mv.DatePayment) != fmtDate(sv.DatePayment) || fmtDate(mv.DateTill) != fmtDate(sv.DateTill) ||
			mv.Total != sv.Total || mv.Due != sv.Due || mv.PaymentID != sv.PaymentID || mv.Status != sv.Status ||
			mv.Type != sv.Type || mv.Note != sv.Note || mv.Memo != sv.Memo || !sameAttrs(mv.Additional, sv.AdditionalAttributes) {
			add("invoice %d:\n mirror %+v\n splynx %+v", id, mv, sv)
		}
		diffs = append(diffs, diffItems(fmt.Sprintf("invoice %d", id), mv.Items, sv.Items)...)
	}
	if seen+skipped != simCounts.Invoices || got.Invoices != seen {
		add("invoices: compared %d, pruned %d, mirror %d, simulator %d", seen, skipped, got.Invoices, simCounts.Invoices)
	}

	seen, skipped = 0, 0
	bound = max(maxID("proformas"), int64(simCounts.Proformas)) + 200
	for id := int64(1); id <= bound; id++ {
		sp, inSim := e.sim.Proforma(id)
		mp, err := e.db.GetProforma(ctx, id)
		inMirror := err == nil
		if inSim && !inMirror && e.pruned(sp.Status, sp.DateCreated) {
			skipped++
			continue
		}
		if inSim != inMirror {
			add("proforma %d: in simulator %v, in mirror %v (%v)", id, inSim, inMirror, err)
			continue
		}
		if !inSim {
			continue
		}
		seen++
		if mp.CustomerID != sp.CustomerID || (sp.Number != "" && mp.Number != sp.Number) ||
			fmtDate(mp.DateCreated) != fmtDate(sp.DateCreated) ||
			fmtDateTime(mp.DateUpdated) != fmtDateTime(sp.DateUpdated) ||
			fmtDate(mp.DatePayment) != fmtDate(sp.DatePayment) || fmtDate(mp.DateTill) != fmtDate(sp.DateTill) ||
			mp.Total != sp.Total || mp.PaymentID != sp.PaymentID || mp.Status != sp.Status ||
			mp.Note != sp.Note || mp.Memo != sp.Memo {
			add("proforma %d:\n mirror %+v\n splynx %+v", id, mp, sp)
		}
		diffs = append(diffs, diffItems(fmt.Sprintf("proforma %d", id), mp.Items, sp.Items)...)
	}
	if seen+skipped != simCounts.Proformas || got.Proformas != seen {
		add("proformas: compared %d, pruned %d, mirror %d, simulator %d", seen, skipped, got.Proformas, simCounts.Proformas)
	}

	if len(diffs) > 0 {
		if len(diffs) > 15 {
			diffs = append(diffs[:15], fmt.Sprintf("... and %d more", len(diffs)-15))
		}
		t.Fatalf("mirror differs from the simulator:\n%s", strings.Join(diffs, "\n"))
	}
}

var smallSeed = splynxsim.SeedConfig{Seed: 7, Customers: 120, Invoices: 900, Proformas: 80}

func TestFullSyncMatchesSimulator(t *testing.T) {
	tests := []struct {
		name string
		sim  splynxsim.Options
		opts mirror.Options
	}{
		{"defaults", splynxsim.Options{}, mirror.Options{PageSize: 100, BatchSize: 64}},
		{"numbers, no billing list, side by side", splynxsim.Options{IDsAsNumbers: true, MoneyAsNumbers: true, NoBillingList: true},
			mirror.Options{PageSize: 37, BatchSize: 50, Streams: 3}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.sim, smallSeed, tc.opts)
			st, err := e.eng.Full(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			n := e.sim.Counts()
			if st.Customers != n.Customers || (st.Billing != n.Customers && !e.partialBilling) || st.Invoices != n.Invoices ||
				st.Proformas != n.Proformas || st.PaymentMethods == 0 || st.Deleted != 0 || !st.Full {
				t.Fatalf("stats %+v, simulator %+v", st, n)
			}
			compare(t, e)
			pms, err := e.db.ListPaymentMethods(context.Background())
			if err != nil || len(pms) < 5 || pms[0].ID != 1 || pms[0].Name != "Cash" {
				t.Fatalf("payment methods = %+v, %v", pms, err)
			}
		})
	}
}

// The mirror reaches the simulator's state record by record although a
// fifth of all calls fail, and notices records changed and deleted later.
func TestConvergesUnderFaults(t *testing.T) {
	ctx := context.Background()
	// One client retry only: passes do fail, and only repeating them converges.
	e := newEnvRetries(t, splynxsim.Options{}, smallSeed, mirror.Options{PageSize: 50, BatchSize: 40, FullEvery: 24 * time.Hour}, 1)
	e.sim.SetFault("", splynxsim.Fault{ErrorRate: 0.1, DropRate: 0.1, Status: 503, Seed: 42})
	failedPasses := 0
	defer func() {
		faults := 0
		for _, r := range e.sim.Requests() {
			if r.Status == -1 || r.Status == 503 {
				faults++
			}
		}
		t.Logf("%d failed passes, %d faulty answers of %d requests", failedPasses, faults, len(e.sim.Requests()))
		if faults == 0 || failedPasses == 0 {
			t.Errorf("the faults never bit: %d faulty answers, %d failed passes", faults, failedPasses)
		}
	}()
	untilOK := func(t *testing.T, what string, pass func(context.Context) (mirror.Stats, error)) (mirror.Stats, int) {
		t.Helper()
		st, n := untilOK(t, what, pass)
		failedPasses += n - 1
		return st, n
	}

	st, tries := untilOK(t, "first pass", e.eng.RunOnce)
	if !st.Full {
		t.Fatalf("first RunOnce was not a full pass: %+v", st)
	}
	t.Logf("first full pass succeeded after %d attempts", tries)
	compare(t, e)

	// Operators change things in Splynx an hour later.
	e.sim.Clock().Advance(time.Hour)
	e.clk.Advance(time.Hour)
	e.sim.UpdateCustomer(3, func(c *splynxsim.Customer) { c.Name = "Renamed Three"; c.Status = "blocked" })
	e.sim.UpdateInvoice(5, func(v *splynxsim.Invoice) { v.Status = "paid"; v.Due = 0; v.PaymentID = 777 })
	e.sim.UpdateInvoice(6, func(v *splynxsim.Invoice) { v.Total = money.MustParse("123.45"); v.Due = money.MustParse("23.45") })
	e.sim.UpdateProforma(2, func(p *splynxsim.Proforma) { p.Status = "paid" })
	e.sim.SetBilling(3, func(b *splynxsim.Billing) { b.Deposit = money.MustParse("-99.99") })
	newInv := e.sim.AddInvoice(splynxsim.Invoice{CustomerID: 4, Total: money.MustParse("10.01"), Due: money.MustParse("10.01"),
		Status: "not_paid", DateCreated: e.sim.Clock().Now(),
		Items: []splynxsim.InvoiceItem{{Description: "New", Quantity: 1, Price: money.MustParse("10.01")}}})
	paid := map[int64]bool{}
	for _, p := range e.sim.Payments() {
		paid[p.InvoiceID] = true
	}
	var delID int64
	for id := int64(14); delID == 0; id++ {
		if v, ok := e.sim.Invoice(id); ok && !paid[id] && v.Status == "not_paid" {
			delID = id
		}
	}
	if err := e.sim.DeleteInvoice(delID); err != nil { // Splynx keeps it with status "deleted"
		t.Fatal(err)
	}
	e.sim.PurgeInvoice(7) // gone from the API altogether
	e.sim.DeleteCustomer(9)

	st, tries = untilOK(t, "incremental pass", e.eng.RunOnce)
	if st.Full {
		t.Fatalf("RunOnce within FullEvery ran a full pass")
	}
	t.Logf("incremental pass succeeded after %d attempts: %+v", tries, st)
	for _, check := range []struct {
		what string
		ok   func() bool
	}{
		{"customer 3 renamed", func() bool {
			c, _ := e.db.GetCustomer(ctx, 3)
			return c.Name == "Renamed Three" && c.Status == "blocked"
		}},
		{"customer 3 balance", func() bool { b, _ := e.db.GetBilling(ctx, 3); return b.Deposit == -9999 }},
		{"invoice 5 paid", func() bool {
			v, _ := e.db.GetInvoice(ctx, 5)
			return v.Status == "paid" && v.Due == 0 && v.PaymentID == 777
		}},
		{"invoice 6 amounts", func() bool { v, _ := e.db.GetInvoice(ctx, 6); return v.Total == 12345 && v.Due == 2345 }},
		{"proforma 2 paid", func() bool { p, _ := e.db.GetProforma(ctx, 2); return p.Status == "paid" }},
		{"invoice deleted", func() bool { v, _ := e.db.GetInvoice(ctx, delID); return v.Status == "deleted" }},
		{"new invoice", func() bool {
			v, err := e.db.GetInvoice(ctx, newInv)
			return err == nil && v.Total == 1001 && len(v.Items) == 1
		}},
		// An incremental pass cannot see deletions; the full pass below must.
		{"deleted invoice still mirrored", func() bool { _, err := e.db.GetInvoice(ctx, 7); return err == nil }},
	} {
		if !check.ok() {
			t.Errorf("after incremental pass: %s: not so", check.what)
		}
	}
	if st.Invoices > 50 {
		t.Errorf("incremental pass rewrote %d invoices; only a few changed", st.Invoices)
	}

	e.sim.Clock().Advance(time.Hour)
	e.sim.UpdateInvoice(8, func(v *splynxsim.Invoice) { v.Note = "changed before the full pass" })
	e.sim.PurgeInvoice(10)
	e.clk.Advance(25 * time.Hour)
	st, tries = untilOK(t, "full pass", e.eng.RunOnce)
	if !st.Full || st.Deleted < 3 {
		t.Fatalf("after FullEvery RunOnce should run a full pass deleting invoices 7, 10 and customer 9 (+ billing): %+v", st)
	}
	t.Logf("full pass succeeded after %d attempts: %+v", tries, st)
	compare(t, e)
}

// A pass that fails half-way advances no cursor and deletes nothing.
func TestFailedPassLeavesMirror(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, splynxsim.Options{}, smallSeed, mirror.Options{PageSize: 50})
	if _, err := e.eng.Full(ctx); err != nil {
		t.Fatal(err)
	}
	before, _ := e.db.Counts(ctx)
	cursors := func() []store.Cursor {
		var cs []store.Cursor
		for _, ent := range []string{"mirror", "customers", "invoices", "proformas"} {
			c, err := e.db.CursorGet(ctx, ent)
			if err != nil {
				t.Fatal(err)
			}
			c.Generation = 0 // a started pass numbers itself even when it fails
			cs = append(cs, c)
		}
		return cs
	}
	curBefore := cursors()

	e.sim.Clock().Advance(time.Hour)
	e.clk.Advance(time.Hour)
	e.sim.PurgeInvoice(3)
	e.sim.DeleteCustomer(2)
	// Proformas fail for good: every other listing of the pass succeeds.
	e.sim.SetFault("admin/finance/proforma-invoices", splynxsim.Fault{ErrorRate: 1, Status: 500})

	for _, pass := range []struct {
		name string
		run  func(context.Context) (mirror.Stats, error)
	}{{"full", e.eng.Full}, {"incremental", e.eng.Incremental}} {
		if _, err := pass.run(ctx); err == nil {
			t.Fatalf("%s pass succeeded with proformas failing", pass.name)
		}
		after, _ := e.db.Counts(ctx)
		if after != before {
			t.Fatalf("failed %s pass changed the counts: %+v → %+v", pass.name, before, after)
		}
		curAfter := cursors()
		for i := range curBefore {
			if !curBefore[i].LastSeen.Equal(curAfter[i].LastSeen) || !curBefore[i].LastFull.Equal(curAfter[i].LastFull) ||
				!curBefore[i].LastRun.Equal(curAfter[i].LastRun) {
				t.Fatalf("failed %s pass moved cursor %s: %+v → %+v", pass.name, curBefore[i].Entity, curBefore[i], curAfter[i])
			}
		}
	}
	if _, err := e.db.GetInvoice(ctx, 3); err != nil {
		t.Fatalf("failed pass deleted invoice 3: %v", err)
	}
	log, err := e.db.AuditLog(ctx, "mirror.full", 10)
	if err != nil || len(log) != 1 {
		t.Fatalf("audit log has %d mirror.full rows (%v), want only the first pass's", len(log), err)
	}

	e.sim.ClearFaults()
	st, err := e.eng.Full(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Deleted != 3 { // invoice 3, customer 2 and its billing
		t.Fatalf("recovered full pass deleted %d rows, want 3", st.Deleted)
	}
	compare(t, e)
}

// Only what changed travels in an incremental pass.
func TestIncrementalFetchesOnlyChanges(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, splynxsim.Options{}, smallSeed, mirror.Options{PageSize: 100})
	if _, err := e.eng.Full(ctx); err != nil {
		t.Fatal(err)
	}
	st, err := e.eng.Incremental(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// A pass with nothing changed still re-reads the overlap window: the
	// records stamped within Overlap of the cursor.
	quiet := st
	if quiet.Invoices > 50 || quiet.Customers > 20 {
		t.Fatalf("quiet incremental pass rewrote %+v", quiet)
	}
	e.sim.Clock().Advance(2 * time.Hour)
	for _, id := range []int64{11, 12, 13} {
		e.sim.UpdateInvoice(id, func(v *splynxsim.Invoice) { v.Memo = "changed" })
	}
	st, err = e.eng.Incremental(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Full || st.Invoices != quiet.Invoices+3 || st.Customers != quiet.Customers || st.Proformas != quiet.Proformas {
		t.Fatalf("incremental after 3 invoice changes: %+v (quiet pass: %+v)", st, quiet)
	}
	// The next quiet pass starts from the new invoice cursor: only the 3
	// changed invoices are within its overlap window now.
	again, err := e.eng.Incremental(ctx)
	if err != nil || again.Invoices != 3 || again.Customers != quiet.Customers || again.Proformas != quiet.Proformas {
		t.Fatalf("quiet pass after the changes: %+v, %v", again, err)
	}
	v, _ := e.db.GetInvoice(ctx, 12)
	if v.Memo != "changed" {
		t.Fatalf("invoice 12 memo = %q", v.Memo)
	}
	// A memo changes no balance: billing is re-read only for the customers
	// listed in the overlap window.
	if again.Billing != again.Customers {
		t.Fatalf("billing refreshed for %d customers, want the %d listed ones only", again.Billing, again.Customers)
	}

	// A payment does: an unpaid invoice paid (its customer's record
	// untouched) brings that customer's billing record along.
	e.sim.Clock().Advance(time.Hour)
	var inv20 splynxsim.Invoice
	for id := int64(20); inv20.ID == 0; id++ {
		if v, ok := e.sim.Invoice(id); ok && v.Status == "not_paid" && v.Due > 0 {
			inv20 = v
		}
	}
	e.sim.UpdateInvoice(inv20.ID, func(v *splynxsim.Invoice) { v.Status = "paid"; v.Due = 0 })
	balance := money.MustParse("-3.21")
	sb, _ := e.sim.Billing(inv20.CustomerID)
	c, _ := e.sim.Customer(inv20.CustomerID)
	e.sim.SetBilling(inv20.CustomerID, func(b *splynxsim.Billing) { b.Deposit = balance })
	// SetBilling moves last_update in the simulator; put it back so that
	// only the invoice tells the mirror about this customer.
	e.sim.UpdateCustomer(inv20.CustomerID, func(x *splynxsim.Customer) { x.LastUpdate = c.LastUpdate })
	if sb.Deposit == balance {
		t.Fatal("test balance equals the seeded one")
	}
	paid, err := e.eng.Incremental(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := e.db.GetBilling(ctx, inv20.CustomerID); b.Deposit != balance {
		t.Fatalf("after invoice %d was paid, customer %d balance = %d, want %d (billing %d, customers %d)",
			inv20.ID, inv20.CustomerID, b.Deposit, balance, paid.Billing, paid.Customers)
	}
	compare(t, e)
}

// Records purged from Splynx while a full pass pages through them shift the
// later pages by offset; the live records pushed out of sight must survive.
func TestFullPassSurvivesShiftingPages(t *testing.T) {
	ctx := context.Background()
	hook := &hookTransport{}
	e := newEnvWith(t, splynxsim.Options{}, smallSeed, mirror.Options{PageSize: 50}, 0, hook)
	if _, err := e.eng.Full(ctx); err != nil {
		t.Fatal(err)
	}
	var purged atomic.Bool
	hook.before = func(r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "admin/finance/invoices") && strings.Contains(r.URL.RawQuery, "offset=100") &&
			!purged.Swap(true) {
			e.sim.PurgeInvoice(3)
			e.sim.PurgeInvoice(4)
		}
	}
	st, err := e.eng.Full(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !purged.Load() {
		t.Fatal("the listing never asked for offset 100; the test did not test anything")
	}
	// Invoices 3 and 4 were listed before they went; the two live invoices
	// pushed out of the later page were not, and must still be here.
	if st.Deleted != 0 {
		t.Fatalf("full pass deleted %d rows; the purge happened behind the listing", st.Deleted)
	}
	n, _ := e.db.Counts(ctx)
	if n.Invoices != e.sim.Counts().Invoices+2 {
		t.Fatalf("mirror has %d invoices, want the simulator's %d and the 2 purged", n.Invoices, e.sim.Counts().Invoices)
	}
	hook.before = nil
	st, err = e.eng.Full(ctx)
	if err != nil || st.Deleted != 2 {
		t.Fatalf("next full pass: deleted %d (%v), want the 2 purged invoices", st.Deleted, err)
	}
	compare(t, e)
}

// Splynx suddenly listing nothing (a permission change, a partner
// restriction) must not empty the mirror.
func TestFullPassRefusesMassDelete(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, splynxsim.Options{}, smallSeed, mirror.Options{PageSize: 100})
	if _, err := e.eng.Full(ctx); err != nil {
		t.Fatal(err)
	}
	before, _ := e.db.Counts(ctx)
	for id := int64(1); id <= 800; id++ {
		e.sim.PurgeInvoice(id)
	}
	_, err := e.eng.Full(ctx)
	if !errors.Is(err, mirror.ErrMassDelete) || !strings.Contains(err.Error(), "invoices") {
		t.Fatalf("full pass after 800 of 900 invoices vanished: err = %v, want ErrMassDelete naming invoices", err)
	}
	if after, _ := e.db.Counts(ctx); after != before {
		t.Fatalf("refused pass changed the counts: %+v → %+v", before, after)
	}
}

// Without a billing list endpoint, an incremental pass reads the billing of
// each touched customer by id, including customers found only by the writer
// (an invoice paid), after the listings' writes.
func TestIncrementalBillingWithoutListEndpoint(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, splynxsim.Options{NoBillingList: true}, smallSeed, mirror.Options{PageSize: 100})
	if _, err := e.eng.Full(ctx); err != nil {
		t.Fatal(err)
	}
	e.sim.Clock().Advance(2 * time.Hour)
	var inv splynxsim.Invoice
	for id := int64(30); inv.ID == 0; id++ {
		if v, ok := e.sim.Invoice(id); ok && v.Status == "not_paid" && v.Due > 0 {
			inv = v
		}
	}
	// Read customer by customer, billing is kept for customers with a
	// saved method only.
	if _, err := e.db.SaveMethod(ctx, store.SavedMethodRow{CustomerID: inv.CustomerID, Kind: "bank", Token: "tok",
		Status: "active"}, e.clk.Now()); err != nil {
		t.Fatal(err)
	}
	if err := e.eng.RefreshBilling(ctx, inv.CustomerID); err != nil {
		t.Fatal(err)
	}
	c, _ := e.sim.Customer(inv.CustomerID)
	balance := money.MustParse("-7.65")
	e.sim.UpdateInvoice(inv.ID, func(v *splynxsim.Invoice) { v.Status = "paid"; v.Due = 0 })
	e.sim.SetBilling(inv.CustomerID, func(b *splynxsim.Billing) { b.Deposit = balance })
	e.sim.UpdateCustomer(inv.CustomerID, func(x *splynxsim.Customer) { x.LastUpdate = c.LastUpdate })
	st, err := e.eng.Incremental(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := e.db.GetBilling(ctx, inv.CustomerID); b.Deposit != balance || st.Billing == 0 {
		t.Fatalf("customer %d balance = %d, want %d (stats %+v)", inv.CustomerID, b.Deposit, balance, st)
	}
	compare(t, e)
}
