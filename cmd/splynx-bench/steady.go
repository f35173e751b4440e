package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"path/filepath"
	"time"

	"go.uber.org/zap"

	"github.com/splynx-pay/splynx-pay/internal/clock"
	"github.com/splynx-pay/splynx-pay/internal/money"
	"github.com/splynx-pay/splynx-pay/splynx"
	"github.com/splynx-pay/splynx-pay/splynx/splynxsim"
	"github.com/splynx-pay/splynx-pay/store"
	"github.com/splynx-pay/splynx-pay/sync/mirror"
)

func init() { register("steady", runSteady) }

// steady simulates days of churn against one in-process simulator and two
// mirrors: today's design (a full pass every day) and the new one (an
// incremental pass, the daily deletion check by id-range counts, a full
// pass weekly). It prints what each asks of Splynx per day. Idle
// incremental passes between syncs are the same in both designs and left
// out.
type steady struct {
	customers, invoices, proformas, days int
	churn                                float64
	refuseBilling                        bool
}

func runSteady(ctx context.Context, args []string, stdout io.Writer) error {
	var s steady
	fs := flag.NewFlagSet("steady", flag.ContinueOnError)
	fs.IntVar(&s.customers, "customers", 10000, "customers in the simulator")
	fs.IntVar(&s.invoices, "invoices", 100000, "invoices in the simulator")
	fs.IntVar(&s.proformas, "proformas", 5000, "proformas in the simulator")
	fs.IntVar(&s.days, "days", 30, "simulated days")
	fs.Float64Var(&s.churn, "churn", 1, "percent of records changed per day (a fifth of them deletions, a fifth balance-only moves)")
	fs.BoolVar(&s.refuseBilling, "refuse-billing-list", false, "the simulator answers the customer-billing list with 405")
	if err := fs.Parse(args); err != nil {
		return err
	}
	return s.run(ctx, stdout)
}

type design struct {
	name string
	db   *store.DB
	eng  *mirror.Engine
	clk  *clock.Fake
	req  int // requests over all days
	recs int // records fetched over all days
}

func (s *steady) run(ctx context.Context, out io.Writer) error {
	tmp, err := os.MkdirTemp("", "splynx-bench-steady-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	sim := splynxsim.New(splynxsim.Options{RefuseBillingList: s.refuseBilling})
	sim.SetRequestLog(false)
	sim.Seed(splynxsim.SeedConfig{Seed: 1, Customers: s.customers, Invoices: s.invoices, Proformas: s.proformas})
	sim.AddAPIKey("k", "s")
	srv := httptest.NewServer(sim.Handler())
	defer srv.Close()
	client, err := splynx.New(splynx.Config{BaseURL: srv.URL, APIKey: "k", APISecret: "s", Timeout: time.Minute},
		splynx.WithClock(sim.Clock()))
	if err != nil {
		return err
	}
	start := sim.Clock().Now()
	mk := func(name string, opts mirror.Options) (*design, error) {
		db, err := store.Open(ctx, filepath.Join(tmp, name+".db"), zap.NewNop())
		if err != nil {
			return nil, err
		}
		clk := clock.NewFake(start)
		opts.Clock, opts.Logger = clk, zap.NewNop()
		return &design{name: name, db: db, eng: mirror.New(db, client, opts), clk: clk}, nil
	}
	today, err := mk("today", mirror.Options{FullEvery: 24 * time.Hour, DeleteCheckEvery: 1000 * time.Hour})
	if err != nil {
		return err
	}
	defer today.db.Close()
	next, err := mk("new", mirror.Options{})
	if err != nil {
		return err
	}
	defer next.db.Close()
	designs := []*design{today, next}

	fmt.Fprintf(out, "steady state: %d customers, %d invoices, %d proformas, %.1f%% churn a day, billing list %s\n",
		s.customers, s.invoices, s.proformas, s.churn, map[bool]string{true: "refused (405)", false: "served"}[s.refuseBilling])
	var firstFull mirror.Stats
	for _, d := range designs {
		st, err := d.eng.RunOnce(ctx)
		if err != nil {
			return fmt.Errorf("%s: first pass: %w", d.name, err)
		}
		firstFull = st
	}
	fmt.Fprintf(out, "first full pass: %d requests, %d records (billing rows %d)\n",
		firstFull.Requests, firstFull.Records(), firstFull.Billing)
	if s.refuseBilling {
		fmt.Fprintf(out, "  (before this change the 405 fallback read billing for all %d customers: %d requests)\n",
			s.customers, firstFull.Requests-firstFull.Billing+s.customers)
	}
	fmt.Fprintf(out, "%4s  %22s  %28s\n", "day", "today: requests/records", "new: requests/records (full?)")
	if s.refuseBilling {
		fmt.Fprintln(out, "  (today's column adds the per-customer billing GETs the old 405 fallback made)")
	}
	rng := rand.New(rand.NewPCG(1, 16))
	for day := 1; day <= s.days; day++ {
		s.churnDay(sim, rng)
		sim.Clock().Advance(24 * time.Hour)
		row := fmt.Sprintf("%4d", day)
		for _, d := range designs {
			d.clk.Advance(24 * time.Hour)
			st, err := d.eng.RunOnce(ctx)
			if err != nil {
				return fmt.Errorf("%s: day %d: %w", d.name, day, err)
			}
			// Records written are the records fetched (the deletion
			// check's listings included).
			if d == today && s.refuseBilling && st.Full {
				// Before this change the 405 fallback read every
				// customer's billing, one GET each.
				extra := sim.Counts().Customers - st.Billing
				st.Requests += extra
				st.Billing += extra
			}
			d.req += st.Requests
			d.recs += st.Records()
			full := ""
			if st.Full && d == next {
				full = " full"
			}
			row += fmt.Sprintf("  %22s", fmt.Sprintf("%d / %d%s", st.Requests, st.Records(), full))
		}
		fmt.Fprintln(out, row)
	}
	for _, d := range designs {
		fmt.Fprintf(out, "%s: %d requests, %d records over %d days (%.0f requests, %.0f records a day)\n",
			d.name, d.req, d.recs, s.days, float64(d.req)/float64(s.days), float64(d.recs)/float64(s.days))
	}
	cut := store.FormatDate(next.clk.Now().AddDate(0, -mirror.DefaultHistoryMonths, 0))
	diffs, err := checkMirror(ctx, sim, next.db, cut)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "new design's mirror after day %d: %d differences from the simulator (ids, status, due, balance)\n", s.days, diffs)
	return nil
}

// churnDay changes about churn% of the records: updates, new invoices,
// deletions and balance moves that touch nothing but the ledger.
func (s *steady) churnDay(sim *splynxsim.Sim, rng *rand.Rand) {
	c := sim.Counts()
	n := func(total int, share float64) int { return max(1, int(float64(total)*s.churn/100*share)) }
	maxC, maxI, maxP := int64(s.customers), int64(s.invoices+c.Invoices), int64(s.proformas+c.Proformas)
	pick := func(hi int64) int64 { return 1 + rng.Int64N(hi) }
	for range n(c.Customers, 0.6) {
		sim.UpdateCustomer(pick(maxC), func(x *splynxsim.Customer) { x.Name += "." })
	}
	for range n(c.Customers, 0.2) {
		sim.AdjustBalance(pick(maxC), money.Amount(100+rng.Int64N(5000)), "balance correction")
	}
	for range n(c.Customers, 0.2) {
		sim.DeleteCustomer(pick(maxC))
	}
	for range n(c.Invoices, 0.5) {
		sim.UpdateInvoice(pick(maxI), func(v *splynxsim.Invoice) {
			if v.Status == "not_paid" {
				v.Status, v.Due = "paid", 0
			} else {
				v.Note += "."
			}
		})
	}
	for range n(c.Invoices, 0.3) {
		sim.AddInvoice(splynxsim.Invoice{CustomerID: pick(maxC), Total: money.Amount(1000 + rng.Int64N(9000))})
	}
	for range n(c.Invoices, 0.2) {
		sim.PurgeInvoice(pick(maxI))
	}
	for range n(c.Proformas, 0.8) {
		sim.UpdateProforma(pick(maxP), func(v *splynxsim.Proforma) { v.Note += "." })
	}
	for range n(c.Proformas, 0.2) {
		sim.PurgeProforma(pick(maxP))
	}
}

// checkMirror compares the mirror with the simulator record by record:
// presence of every customer, invoice and proforma id (paid documents
// created before cut are left out on purpose), invoice status, due and
// total, and the balance of every billing row the mirror holds.
func checkMirror(ctx context.Context, sim *splynxsim.Sim, db *store.DB, cut string) (int, error) {
	pruned := func(status string, created time.Time) bool {
		return (status == "paid" || status == "deleted") && store.FormatDate(created) < cut
	}
	diffs := 0
	top := func(table string, n int) int64 {
		id, _ := db.MaxID(ctx, table)
		return max(id, int64(n)) + 1000
	}
	c := sim.Counts()
	for id := int64(1); id <= top("customers", c.Customers); id++ {
		_, inSim := sim.Customer(id)
		_, err := db.GetCustomer(ctx, id)
		if inSim != (err == nil) {
			diffs++
		}
		if b, err := db.GetBilling(ctx, id); err == nil {
			if sb, ok := sim.Billing(id); !ok || sb.Deposit != b.Deposit {
				diffs++
			}
		}
	}
	for id := int64(1); id <= top("invoices", c.Invoices); id++ {
		sv, inSim := sim.Invoice(id)
		mv, err := db.GetInvoice(ctx, id)
		if inSim && err != nil && pruned(sv.Status, sv.DateCreated) {
			continue
		}
		if inSim != (err == nil) || (inSim && (sv.Status != mv.Status || sv.Due != mv.Due || sv.Total != mv.Total)) {
			diffs++
		}
	}
	for id := int64(1); id <= top("proformas", c.Proformas); id++ {
		sp, inSim := sim.Proforma(id)
		_, err := db.GetProforma(ctx, id)
		if inSim && err != nil && pruned(sp.Status, sp.DateCreated) {
			continue
		}
		if inSim != (err == nil) {
			diffs++
		}
	}
	return diffs, nil
}
