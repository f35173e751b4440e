package mirror_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/splynx-pay/splynx-pay/internal/money"
	"github.com/splynx-pay/splynx-pay/splynx/splynxsim"
	"github.com/splynx-pay/splynx-pay/store"
	"github.com/splynx-pay/splynx-pay/sync/mirror"
)

var rangeSeed = splynxsim.SeedConfig{Seed: 11, Customers: 300, Invoices: 3000, Proformas: 200}

// listedWithoutCondition counts list GETs of path with no search condition:
// a full listing.
func listedWithoutCondition(sim *splynxsim.Sim, path string) int {
	n := 0
	for _, r := range sim.Requests() {
		if r.Method == http.MethodGet && r.Path == path && !strings.Contains(r.Query, "main_attributes") {
			n++
		}
	}
	return n
}

// Deletions anywhere in the id space — the first and last ids, a run, a
// whole range, single ids of every entity — are found by comparing counts
// per id range, without listing any entity, and the mirror then equals
// Splynx record by record.
func TestDeletionCheckFindsDeletionsByCounts(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, splynxsim.Options{}, rangeSeed, mirror.Options{PageSize: 500})
	if _, err := e.eng.Full(ctx); err != nil {
		t.Fatal(err)
	}
	maxInv, _ := e.db.MaxID(ctx, "invoices")
	gone := map[string]int{}
	purge := func(table string, ids ...int64) {
		for _, id := range ids {
			var ok bool
			switch table {
			case "invoices":
				ok = e.sim.PurgeInvoice(id)
			case "proformas":
				ok = e.sim.PurgeProforma(id)
			case "customers":
				ok = e.sim.DeleteCustomer(id)
			}
			if ok {
				gone[table]++
			}
		}
	}
	purge("invoices", 1, maxInv) // first and last
	for id := int64(700); id < 720; id++ {
		purge("invoices", id) // a run
	}
	for id := int64(2000); id < 2100; id++ {
		purge("invoices", id) // all of a range
	}
	purge("invoices", 1234, 1500, 2999)
	purge("proformas", 1, 77, 200)
	purge("customers", 5, 150, 300)
	e.sim.ResetRequests()

	ds, err := e.eng.CheckDeletions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := gone["invoices"] + gone["proformas"] + gone["customers"]
	if ds.Deleted != want {
		t.Fatalf("deleted %d, want %d (%v; stats %+v)", ds.Deleted, want, gone, ds)
	}
	for _, p := range []string{"admin/finance/invoices", "admin/finance/proforma-invoices", "admin/customers/customer"} {
		if n := listedWithoutCondition(e.sim, p); n > 0 {
			t.Fatalf("deletion check listed %s in full (%d requests)", p, n)
		}
	}
	// A few records per deleted one, far from the 3,500 a listing reads.
	if ds.Listed > mirror.DefaultDeletionLeafRecords*want {
		t.Fatalf("deletion check fetched %d records for %d deletions", ds.Listed, want)
	}
	t.Logf("deletion check: %+v", ds)
	compare(t, e)

	// Nothing left to find: one count per entity.
	again, err := e.eng.CheckDeletions(ctx)
	if err != nil || again.Deleted != 0 || again.Requests != 3 {
		t.Fatalf("second check: %+v, %v; want nothing deleted in 3 requests", again, err)
	}
}

// The deletion check refuses a mass deletion as a full pass does.
func TestDeletionCheckRefusesMassDelete(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, splynxsim.Options{}, rangeSeed, mirror.Options{PageSize: 500})
	if _, err := e.eng.Full(ctx); err != nil {
		t.Fatal(err)
	}
	for id := int64(1); id <= 2000; id++ {
		e.sim.PurgeInvoice(id)
	}
	before, _ := e.db.Counts(ctx)
	if _, err := e.eng.CheckDeletions(ctx); !errors.Is(err, mirror.ErrMassDelete) {
		t.Fatalf("err = %v, want ErrMassDelete", err)
	}
	if after, _ := e.db.Counts(ctx); after != before {
		t.Fatalf("refused check changed the mirror: %+v → %+v", before, after)
	}
}

// A Splynx that rejects the id range search gets a full pass instead of the
// deletion check, with one warning however many days follow.
func TestRangeSearchRefusedFallsBackToFullPass(t *testing.T) {
	ctx := context.Background()
	core, logs := observer.New(zapcore.WarnLevel)
	e := newEnv(t, splynxsim.Options{NoRangeSearch: true}, smallSeed,
		mirror.Options{PageSize: 100, Logger: zap.New(core)})
	if _, err := e.eng.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	for day := 1; day <= 3; day++ {
		e.sim.PurgeInvoice(int64(10 * day))
		e.clk.Advance(25 * time.Hour)
		e.sim.Clock().Advance(25 * time.Hour)
		st, err := e.eng.RunOnce(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !st.Full || st.Deleted != 1 {
			t.Fatalf("day %d: %+v, want a full pass deleting 1", day, st)
		}
		compare(t, e)
	}
	if n := logs.FilterMessageSnippet("id range").Len(); n != 1 {
		t.Fatalf("%d warnings about the range search, want 1 (%v)", n, logs.All())
	}
}

// RunOnce does the deletion check once a day after the incremental pass,
// and a full pass only weekly.
func TestRunOnceChecksDeletionsDaily(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, splynxsim.Options{}, smallSeed, mirror.Options{PageSize: 100})
	if _, err := e.eng.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	fulls := 0
	for h := 1; h <= 24*8; h += 6 {
		if h%24 == 1 {
			e.sim.PurgeInvoice(int64(h))
		}
		e.clk.Advance(6 * time.Hour)
		e.sim.Clock().Advance(6 * time.Hour)
		st, err := e.eng.RunOnce(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.Full {
			fulls++
		}
	}
	if fulls != 1 {
		t.Fatalf("%d full passes in 8 days, want 1 (weekly)", fulls)
	}
	compare(t, e)
}

// A balance moved by a ledger transaction alone (the customer's last_update
// unchanged) reaches the mirror in the next incremental pass.
func TestBalanceOnlyChangeSeenThroughTransactions(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, splynxsim.Options{}, smallSeed, mirror.Options{PageSize: 100})
	if _, err := e.eng.Full(ctx); err != nil {
		t.Fatal(err)
	}
	e.sim.Clock().Advance(time.Hour)
	before, _ := e.db.GetBilling(ctx, 42)
	if e.sim.AdjustBalance(42, money.MustParse("-12.34"), "late fee") == 0 {
		t.Fatal("no customer 42")
	}
	st, err := e.eng.Incremental(ctx)
	if err != nil {
		t.Fatal(err)
	}
	after, _ := e.db.GetBilling(ctx, 42)
	if after.Deposit != before.Deposit-1234 {
		t.Fatalf("balance %d → %d, want -12.34 moved (stats %+v)", before.Deposit, after.Deposit, st)
	}
	compare(t, e)
}

// With the billing list refused (405), a full pass reads billing one
// customer at a time only for customers with an active saved payment
// method, keeps no other billing rows, and an incremental pass picks up a
// method saved since; RefreshBilling reads any other customer on demand.
func TestBillingListRefusedReadsWantedCustomersOnly(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, splynxsim.Options{RefuseBillingList: true}, smallSeed, mirror.Options{PageSize: 100})
	save := func(customerID int64) {
		t.Helper()
		if _, err := e.db.SaveMethod(ctx, store.SavedMethodRow{CustomerID: customerID, Kind: "card", Token: "tok",
			Mask: "4111…1111", Status: "active"}, e.clk.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.eng.Full(ctx); err != nil { // first sync: nothing saved yet
		t.Fatal(err)
	}
	for _, id := range []int64{3, 40, 77} {
		save(id)
	}
	e.sim.ResetRequests()
	if _, err := e.eng.Full(ctx); err != nil {
		t.Fatal(err)
	}
	gets := func() int {
		n := 0
		for _, r := range e.sim.Requests() {
			if r.Method == http.MethodGet && strings.HasPrefix(r.Path, "admin/customers/customer-billing/") {
				n++
			}
		}
		return n
	}
	counts, _ := e.db.Counts(ctx)
	if g := gets(); g != 3 || counts.Billing != 3 {
		t.Fatalf("%d billing GETs, %d billing rows; want 3 (the customers with a saved method)", g, counts.Billing)
	}
	compare(t, e)

	save(90)
	e.sim.ResetRequests()
	if _, err := e.eng.Incremental(ctx); err != nil {
		t.Fatal(err)
	}
	if b, err := e.db.GetBilling(ctx, 90); err != nil || gets() != 1 {
		t.Fatalf("after a method was saved: billing %+v, %v, %d GETs", b, err, gets())
	}
	if err := e.eng.RefreshBilling(ctx, 5); err != nil {
		t.Fatal(err)
	}
	sb, _ := e.sim.Billing(5)
	if b, err := e.db.GetBilling(ctx, 5); err != nil || b.Deposit != sb.Deposit {
		t.Fatalf("customer 5 billing read on demand: %+v, %v; Splynx %+v", b, err, sb)
	}
	compare(t, e)
}

// With the billing list refused, a full pass reads at most as many billing
// records one by one as it listed pages (savers without a row first, then
// the least recently read), keeps the rows it did not read this time, and
// later passes read the rest.
func TestBillingListRefusedFullPassIsBounded(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, splynxsim.Options{RefuseBillingList: true}, rangeSeed, mirror.Options{PageSize: 500})
	if _, err := e.eng.Full(ctx); err != nil {
		t.Fatal(err)
	}
	for id := int64(1); id <= 60; id++ {
		if _, err := e.db.SaveMethod(ctx, store.SavedMethodRow{CustomerID: id, Kind: "card", Token: "tok",
			Mask: "4111…1111", Status: "active"}, e.clk.Now()); err != nil {
			t.Fatal(err)
		}
	}
	gets := func() int {
		n := 0
		for _, r := range e.sim.Requests() {
			if r.Method == http.MethodGet && strings.HasPrefix(r.Path, "admin/customers/customer-billing/") {
				n++
			}
		}
		return n
	}
	read := map[int64]bool{}
	rows := 0
	for pass := 1; len(read) < 60; pass++ {
		if pass > 20 {
			t.Fatalf("after 20 passes %d of 60 billing rows re-read", len(read))
		}
		e.sim.ResetRequests()
		st, err := e.eng.Full(ctx)
		if err != nil {
			t.Fatal(err)
		}
		listing := st.Requests - gets()
		if g := gets(); g == 0 || g > listing {
			t.Fatalf("pass %d: %d billing GETs beside %d other requests; want some, at most as many", pass, g, listing)
		}
		for _, r := range e.sim.Requests() {
			if id, ok := strings.CutPrefix(r.Path, "admin/customers/customer-billing/"); ok && r.Method == http.MethodGet {
				var n int64
				fmt.Sscan(id, &n)
				read[n] = true
			}
		}
		c, _ := e.db.Counts(ctx)
		if c.Billing < rows || c.Billing > 60 {
			t.Fatalf("pass %d: %d billing rows after %d; rows read are kept, only the savers'", pass, c.Billing, rows)
		}
		rows = c.Billing
	}
	compare(t, e)
}

// A page showing a balance reads the billing record of a customer the
// mirror has none for (billing list refused, no saved method) from Splynx,
// once; without a Splynx client it reports the row missing.
func TestBillingReadOnDemand(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, splynxsim.Options{RefuseBillingList: true}, smallSeed, mirror.Options{PageSize: 100})
	if _, err := e.eng.Full(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := mirror.Billing(ctx, e.db, nil, mirror.Options{}, 9); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("no client: %v, want ErrNotFound", err)
	}
	e.sim.ResetRequests()
	sb, _ := e.sim.Billing(9)
	for range 2 {
		b, err := mirror.Billing(ctx, e.db, e.client, mirror.Options{Clock: e.clk}, 9)
		if err != nil || b.Deposit != sb.Deposit || b.CustomerID != 9 {
			t.Fatalf("billing of customer 9: %+v, %v; Splynx %+v", b, err, sb)
		}
	}
	if n := len(e.sim.Requests()); n != 1 {
		t.Fatalf("%d requests to Splynx, want 1 (then the mirror's row)", n)
	}
}

// One record gone from a range costs a few count requests and one short
// listing, not a listing of the range: the check narrows the range to what
// the day's record budget allows first (2.5% of a full pass, none spent).
func TestDeletionCheckNarrowsBeforeListing(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, splynxsim.Options{}, rangeSeed, mirror.Options{PageSize: 500})
	full, err := e.eng.Full(ctx)
	if err != nil {
		t.Fatal(err)
	}
	e.sim.PurgeInvoice(1717)
	ds, err := e.eng.CheckDeletions(ctx)
	if err != nil || ds.Deleted != 1 {
		t.Fatalf("%+v, %v; want 1 deleted", ds, err)
	}
	// 3,000 invoices narrowed to ~95 rows: 5 halvings, plus a count per
	// other entity.
	budget := int(mirror.DefaultDailyRecordShare * float64(full.Records()))
	if ds.Listed > budget || ds.Listed < 10 || ds.Counts > 10 || ds.Requests != ds.Counts+1 {
		t.Fatalf("deletion check %+v: want ≤ %d records listed in one request after ≤ 10 counts", ds, budget)
	}
	compare(t, e)
}
