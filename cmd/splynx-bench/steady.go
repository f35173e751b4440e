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

// steady simulates days of churn against an in-process simulator and
// prints what the mirror asks of Splynx per day: today's design (a full
// pass every day) against the new one (an incremental pass and the daily
// deletion check by id-range counts, a full pass weekly). Then the
// steady-state check (one incremental pass plus the deletion check fetch at
// most 3% of a full pass's records, and the mirror equals Splynx record by
// record), and the same with the customer-billing list refused.
//
// Today's design is a full pass a day. Its first pass is measured; later
// days are the same listing of the day's record counts (pages of
// PageSize), printed beside the new design's measured weekly full passes
// as a check. Idle incremental passes between syncs are the same in both
// designs and left out.
type steady struct {
	customers, invoices, proformas, days int
	churn, deleted                       float64
	hard                                 bool
	leaf                                 int
	share                                float64
	onlyRefused, runWeekly               bool
	savers                               float64
}

// pageSize is the mirror's default page size, which the bench keeps.
const pageSize = 1000

func runSteady(ctx context.Context, args []string, stdout io.Writer) error {
	var s steady
	fs := flag.NewFlagSet("steady", flag.ContinueOnError)
	fs.IntVar(&s.customers, "customers", 10000, "customers in the simulator")
	fs.IntVar(&s.invoices, "invoices", 100000, "invoices in the simulator")
	fs.IntVar(&s.proformas, "proformas", 0, "proformas in the simulator (0: invoices/20)")
	fs.IntVar(&s.days, "days", 30, "simulated days")
	fs.Float64Var(&s.churn, "churn", 1, "percent of records changed per day (a fifth of them deletions, a fifth of the customers' balance-only moves)")
	fs.Float64Var(&s.deleted, "deleted", 0.2, "share of the changes that are deletions")
	fs.BoolVar(&s.hard, "hard-deletes", false, "invoice deletions remove the row (as for customers and proformas) instead of Splynx's status \"deleted\"")
	fs.IntVar(&s.leaf, "leaf", 0, "records the deletion check may list per missing record (0: the engine's default)")
	fs.Float64Var(&s.share, "list-share", 0, "share of the mirror's rows the deletion check may list (0: the engine's default)")
	fs.BoolVar(&s.onlyRefused, "refused-only", false, "run only the billing-list-refused part")
	fs.BoolVar(&s.runWeekly, "run-weekly", true, "run the new design's weekly full passes (false: count them as today's daily pass, which they are, and save their time)")
	fs.Float64Var(&s.savers, "savers", 20, "percent of customers with an active saved payment method")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if s.proformas == 0 {
		s.proformas = s.invoices / 20
	}
	tmp, err := os.MkdirTemp("", "splynx-bench-steady-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	fmt.Fprintf(stdout, "steady state: %d customers, %d invoices, %d proformas; %.1f%% of the records change a day: %.0f%% of them deleted (invoices %s), a fifth of the customers' changes balance moves by ledger entries alone\n",
		s.customers, s.invoices, s.proformas, s.churn, 100*s.deleted, map[bool]string{true: "rows removed", false: "status \"deleted\", as Splynx does"}[s.hard])
	if !s.onlyRefused {
		if err := s.served(ctx, tmp, stdout); err != nil {
			return err
		}
	}
	return s.refused(ctx, tmp, stdout)
}

// world is one simulator and one mirror of it under the new design.
type world struct {
	sim *splynxsim.Sim
	srv *httptest.Server
	db  *store.DB
	eng *mirror.Engine
	clk *clock.Fake
	rng *rand.Rand
	// churnTime and syncTime are the wall time spent changing the
	// simulator and in RunOnce over synced days.
	churnTime, syncTime time.Duration
	synced              int
}

func (s *steady) newWorld(ctx context.Context, dir string, simOpts splynxsim.Options) (*world, error) {
	sim := splynxsim.New(simOpts)
	sim.SetRequestLog(false)
	sim.Seed(splynxsim.SeedConfig{Seed: 1, Customers: s.customers, Invoices: s.invoices, Proformas: s.proformas})
	sim.AddAPIKey("k", "s")
	srv := httptest.NewServer(sim.Handler())
	client, err := splynx.New(splynx.Config{BaseURL: srv.URL, APIKey: "k", APISecret: "s", Timeout: 5 * time.Minute},
		splynx.WithClock(sim.Clock()))
	if err != nil {
		srv.Close()
		return nil, err
	}
	db, err := store.Open(ctx, filepath.Join(dir, "mirror.db"), zap.NewNop())
	if err != nil {
		srv.Close()
		return nil, err
	}
	clk := clock.NewFake(sim.Clock().Now())
	if every := int(100 / max(s.savers, 0.01)); s.savers > 0 {
		for id := int64(1); id <= int64(s.customers); id += int64(max(every, 1)) {
			if _, err := db.SaveMethod(ctx, store.SavedMethodRow{CustomerID: id, Kind: "card", Token: fmt.Sprintf("tok%d", id),
				Mask: "4111…1111", Status: "active"}, clk.Now()); err != nil {
				srv.Close()
				return nil, err
			}
		}
	}
	opts := mirror.Options{Clock: clk, Logger: zap.NewNop(), PageSize: pageSize, DeletionLeafRecords: s.leaf,
		DeletionListShare: s.share}
	if !s.runWeekly {
		opts.FullEvery = 1000 * 24 * time.Hour
	}
	eng := mirror.New(db, client, opts)
	return &world{sim: sim, srv: srv, db: db, eng: eng, clk: clk, rng: rand.New(rand.NewPCG(1, 16))}, nil
}

func (w *world) close() {
	w.db.Close()
	w.srv.Close()
}

// day changes the simulator, lets a day pass and runs the daemon's daily
// sync (RunOnce: an incremental pass and the deletion check, or the weekly
// full pass).
func (s *steady) day(ctx context.Context, w *world) (mirror.Stats, error) {
	t0 := time.Now()
	s.churnDay(w.sim, w.rng) // a day on the simulator's clock
	t1 := time.Now()
	w.clk.Advance(24 * time.Hour)
	st, err := w.eng.RunOnce(ctx)
	w.churnTime += t1.Sub(t0)
	w.syncTime += time.Since(t1)
	w.synced++
	return st, err
}

// fullPass is what a full pass of the simulator's records fetches and
// asks: every customer, billing record (one list), invoice, proforma and
// payment method, a page at a time, plus the fixed requests measured on
// the first pass (extra).
func fullPass(c splynxsim.Counts, methods, extra int) (requests, records int) {
	pages := func(n int) int { return n/pageSize + 1 }
	return pages(c.Customers)*2 + pages(c.Invoices) + pages(c.Proformas) + extra,
		2*c.Customers + c.Invoices + c.Proformas + methods
}

func (s *steady) served(ctx context.Context, tmp string, out io.Writer) error {
	dir := filepath.Join(tmp, "served")
	if err := os.Mkdir(dir, 0o700); err != nil {
		return err
	}
	w, err := s.newWorld(ctx, dir, splynxsim.Options{})
	if err != nil {
		return err
	}
	defer w.close()
	t0 := time.Now()
	first, err := w.eng.RunOnce(ctx)
	if err != nil {
		return fmt.Errorf("first pass: %w", err)
	}
	methods := first.PaymentMethods
	pagesOnly, _ := fullPass(w.sim.Counts(), methods, 0)
	extra := first.Requests - pagesOnly
	fmt.Fprintf(out, "\nfirst full pass: %d requests, %d records fetched (%s); today's design does this every day\n",
		first.Requests, first.Records(), time.Since(t0).Round(time.Second))
	if !s.runWeekly {
		fmt.Fprintln(out, "(-run-weekly=false: the new design's weekly full passes are not run but counted as today's daily pass, which they are)")
	}
	fmt.Fprintf(out, "\n%4s | %17s | %17s | %23s | %17s | %6s | %s\n", "day", "today: req / rec", "new: incremental",
		"deletion check (counts)", "new: total", "of full", "deleted")
	var todayReq, todayRec, newReq, newRec, steadyDays, steadyRec, worst int
	worstPct := 0.0
	for d := 1; d <= s.days; d++ {
		tReq, tRec := fullPass(w.sim.Counts(), methods, extra)
		st, err := s.day(ctx, w)
		if err != nil {
			return fmt.Errorf("day %d: %w", d, err)
		}
		if st.Full { // today's fixed requests, as of the latest full pass
			pagesOnly, _ := fullPass(w.sim.Counts(), methods, 0)
			extra = st.Requests - pagesOnly
		}
		todayReq, todayRec = todayReq+tReq, todayRec+tRec
		newReq, newRec = newReq+st.Requests, newRec+st.Records()
		pct := 100 * float64(st.Records()) / float64(tRec)
		if !s.runWeekly && d%7 == 0 {
			// The weekly full pass, not run: what today's design does daily.
			newReq, newRec = newReq+tReq, newRec+tRec
			fmt.Fprintf(out, "%4d | %17s | %61s | %6s |\n", d, fmt.Sprintf("%d / %d", tReq, tRec),
				fmt.Sprintf("+ weekly full pass (counted as today's): %d / %d", tReq, tRec), "")
		}
		if st.Full {
			fmt.Fprintf(out, "%4d | %17s | %61s | %5.1f%% | %d\n", d, fmt.Sprintf("%d / %d", tReq, tRec),
				fmt.Sprintf("weekly full pass: %d / %d", st.Requests, st.Records()), pct, st.Deleted)
		} else {
			del := st.CheckRequests
			fmt.Fprintf(out, "%4d | %17s | %17s | %23s | %17s | %5.2f%% | %d\n", d, fmt.Sprintf("%d / %d", tReq, tRec),
				fmt.Sprintf("%d / %d", incRequests(st), st.Records()-st.Checked),
				fmt.Sprintf("%d (%d) / %d", del, st.Counts, st.Checked),
				fmt.Sprintf("%d / %d", st.Requests, st.Records()), pct, st.Deleted)
			steadyDays++
			steadyRec += st.Records()
			if pct > worstPct {
				worstPct, worst = pct, d
			}
		}
		if d == 2 && !st.Full {
			diffs, err := checkMirror(ctx, w)
			if err != nil {
				return err
			}
			verdict := "met"
			if pct > 3 || diffs > 0 {
				verdict = "NOT met"
			}
			fmt.Fprintf(out, "     steady-state check after day 2: incremental pass + deletion check fetched %d records, %.2f%% of a full pass's %d (target ≤ 3%%); mirror vs simulator record by record: %d differences — %s\n",
				st.Records(), pct, tRec, diffs, verdict)
		}
	}
	fmt.Fprintf(out, "\n%d days: today %d requests, %d records (%.0f / %.0f a day); new %d requests, %d records (%.0f / %.0f a day, weekly full passes included)\n",
		s.days, todayReq, todayRec, float64(todayReq)/float64(s.days), float64(todayRec)/float64(s.days),
		newReq, newRec, float64(newReq)/float64(s.days), float64(newRec)/float64(s.days))
	work := func(req, rec int) float64 { return (float64(req)*0.080 + float64(rec)*0.000040) / float64(s.days) }
	fmt.Fprintf(out, "Splynx's work a day by the latency model page=80ms,record=40us (a count request as a page): today %.1f s, new %.1f s\n",
		work(todayReq, todayRec), work(newReq, newRec))
	if steadyDays > 0 {
		tReq, tRec := fullPass(w.sim.Counts(), methods, extra)
		fmt.Fprintf(out, "days without a full pass: %.0f records a day on average (%.2f%% of a full pass's %d; worst day %d: %.2f%%); a full pass asks %d requests\n",
			float64(steadyRec)/float64(steadyDays), 100*float64(steadyRec)/float64(steadyDays)/float64(tRec), tRec, worst, worstPct, tReq)
	}
	fmt.Fprintf(out, "wall time a day: the daily sync %s (the weekly full passes included when run), the simulated churn %s\n",
		(w.syncTime / time.Duration(w.synced)).Round(10*time.Millisecond), (w.churnTime / time.Duration(w.synced)).Round(10*time.Millisecond))
	diffs, err := checkMirror(ctx, w)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "mirror vs simulator after day %d, record by record: %d differences\n", s.days, diffs)
	return nil
}

// incRequests is the requests of a day's incremental pass: the total less
// the deletion check's counts and listings.
func incRequests(st mirror.Stats) int {
	return st.Requests - st.CheckRequests
}

func (s *steady) refused(ctx context.Context, tmp string, out io.Writer) error {
	dir := filepath.Join(tmp, "refused")
	if err := os.Mkdir(dir, 0o700); err != nil {
		return err
	}
	w, err := s.newWorld(ctx, dir, splynxsim.Options{RefuseBillingList: true})
	if err != nil {
		return err
	}
	defer w.close()
	t0 := time.Now()
	first, err := w.eng.RunOnce(ctx)
	if err != nil {
		return fmt.Errorf("billing list refused: first pass: %w", err)
	}
	c := w.sim.Counts()
	pages := c.Customers/pageSize + c.Invoices/pageSize + c.Proformas/pageSize + 3
	verdict := "met"
	if first.Requests > 2*pages {
		verdict = "NOT met"
	}
	fmt.Fprintf(out, "\nbilling list refused (405): full pass %d requests, %d records (%s); pages of customers + invoices + proformas %d; %.2f× (target ≤ 2×) — %s\n",
		first.Requests, first.Records(), time.Since(t0).Round(time.Second), pages, float64(first.Requests)/float64(pages), verdict)
	fmt.Fprintf(out, "  (%d of them billing GETs for the %.0f%% of customers with a saved method, least recently read first; before issue 16 the fallback read every customer's billing, one GET each: %d requests)\n",
		first.Billing, s.savers, first.Requests-first.Billing+c.Customers)
	var st mirror.Stats
	for d := 1; d <= 2; d++ {
		if st, err = s.day(ctx, w); err != nil {
			return fmt.Errorf("billing list refused: day %d: %w", d, err)
		}
		fmt.Fprintf(out, "  day %d: incremental pass + deletion check %d requests (%d counts), %d records\n", d, st.Requests, st.Counts, st.Records())
	}
	_, tRec := fullPass(w.sim.Counts(), first.PaymentMethods, 0)
	diffs, err := checkMirror(ctx, w)
	if err != nil {
		return err
	}
	pct := 100 * float64(st.Records()) / float64(tRec)
	verdict = "met"
	if pct > 3 || diffs > 0 {
		verdict = "NOT met"
	}
	fmt.Fprintf(out, "  steady-state check after day 2: incremental pass + deletion check %d requests (%d counts), %d records, %.2f%% of a full pass's %d (target ≤ 3%%); mirror vs simulator: %d differences — %s\n",
		st.Requests, st.Counts, st.Records(), pct, tRec, diffs, verdict)
	return nil
}

// churnDay changes about churn% of the records over one simulated day
// (the simulator's clock moves on between changes, as changes come in
// through a day, so the incremental pass's overlap window re-reads only
// its few minutes' worth): updates, new invoices, deletions and balance
// moves that touch nothing but the ledger.
func (s *steady) churnDay(sim *splynxsim.Sim, rng *rand.Rand) {
	c := sim.Counts()
	n := func(total int, share float64) int { return max(1, int(float64(total)*s.churn/100*share)) }
	maxC, maxI, maxP := int64(s.customers), int64(s.invoices+c.Invoices), int64(s.proformas+c.Proformas)
	pick := func(hi int64) int64 { return 1 + rng.Int64N(hi) }
	var ops []func()
	do := func(times int, op func()) {
		for range times {
			ops = append(ops, op)
		}
	}
	del := s.deleted
	do(n(c.Customers, 0.8-del), func() { sim.UpdateCustomer(pick(maxC), func(x *splynxsim.Customer) { x.Name += "." }) })
	do(n(c.Customers, 0.2), func() {
		sim.AdjustBalance(pick(maxC), money.Amount(100+rng.Int64N(5000)), "balance correction")
	})
	do(n(c.Customers, del), func() { sim.DeleteCustomer(pick(maxC)) })
	do(n(c.Invoices, 0.7-del), func() {
		sim.UpdateInvoice(pick(maxI), func(v *splynxsim.Invoice) {
			if v.Status == "not_paid" {
				v.Status, v.Due = "paid", 0
			} else {
				v.Note += "."
			}
		})
	})
	do(n(c.Invoices, 0.3), func() {
		sim.AddInvoice(splynxsim.Invoice{CustomerID: pick(maxC), Total: money.Amount(1000 + rng.Int64N(9000))})
	})
	do(n(c.Invoices, del), func() {
		if s.hard {
			sim.PurgeInvoice(pick(maxI))
			return
		}
		// Splynx keeps a deleted invoice with status "deleted" (and
		// credits its debit back); one with payments cannot be deleted.
		for range 5 {
			if sim.DeleteInvoice(pick(maxI)) == nil {
				return
			}
		}
	})
	do(n(c.Proformas, 1-del), func() { sim.UpdateProforma(pick(maxP), func(v *splynxsim.Proforma) { v.Note += "." }) })
	do(n(c.Proformas, del), func() { sim.PurgeProforma(pick(maxP)) })
	rng.Shuffle(len(ops), func(i, j int) { ops[i], ops[j] = ops[j], ops[i] })
	step := 24 * time.Hour / time.Duration(len(ops)+1)
	for _, op := range ops {
		sim.Clock().Advance(step)
		op()
	}
	sim.Clock().Advance(24*time.Hour - step*time.Duration(len(ops)))
}

// checkMirror compares the mirror with the simulator record by record:
// presence of every customer, invoice and proforma id (paid and deleted
// documents created before the history window are left out on purpose),
// invoice status, due and total, and the balance of every billing row the
// mirror holds.
func checkMirror(ctx context.Context, w *world) (int, error) {
	cut := store.FormatDate(w.clk.Now().AddDate(0, -mirror.DefaultHistoryMonths, 0))
	pruned := func(status string, created time.Time) bool {
		return (status == "paid" || status == "deleted") && store.FormatDate(created) < cut
	}
	sim, db := w.sim, w.db
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
