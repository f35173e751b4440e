package charge_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/splynx-pay/splynx-pay/gateways/integrapay/integrapaysim"
	"github.com/splynx-pay/splynx-pay/splynx/splynxsim"
	"github.com/splynx-pay/splynx-pay/store"
	"github.com/splynx-pay/splynx-pay/sync/charge"
)

// A night on each gateway: cards and bank debits, a partly paid invoice,
// skips for every reason, settlement days later, write-back.
func TestNightlyRunLedgersAgree(t *testing.T) {
	bothModes(t, func(t *testing.T) {
		for _, kind := range []string{gwIntegra, gwIPpay} {
			t.Run(kind, func(t *testing.T) {
				e := newEnv(t, kind)
				card := e.customer("Carol Card", "card")
				bank := e.customer("Bert Bank", "bank")
				none := e.customer("Nora Nomethod", "")
				blk := e.customer("Bella Blocked", "card", blocked)
				off := e.customer("Otto Off", "card", noAutopay)
				invCard := e.invoice(card, "49.90", "")
				invPart := e.invoice(card, "100.00", "30.00") // partly paid: charge the due
				invBank := e.invoice(bank, "80.00", "")
				e.invoice(none, "10.00", "")
				e.invoice(blk, "11.00", "")
				e.invoice(off, "12.00", "")
				paid := e.invoice(bank, "5.00", "")
				e.sp.UpdateInvoice(paid, func(i *splynxsim.Invoice) { i.Status, i.Due = "paid", 0 })
				e.sync()

				en := e.engine()
				pv, err := en.Preview(e.ctx, charge.Filters{})
				if err != nil {
					t.Fatal(err)
				}
				if pv.Count != 3 || pv.DueSum != 4990+3000+8000 || pv.TotalSum != 4990+10000+8000 {
					t.Fatalf("preview count %d due %d total %d", pv.Count, pv.DueSum, pv.TotalSum)
				}
				reasons := map[string]bool{}
				for _, s := range pv.Skipped {
					reasons[s.Skip] = true
				}
				for _, want := range []string{"customer is blocked", "autopay is turned off for the customer",
					"customer payment account is empty (no active saved payment method)"} {
					if !reasons[want] {
						t.Errorf("no skip %q in %v", want, reasons)
					}
				}
				res, err := en.Run(e.ctx, charge.Filters{}, charge.RunOptions{Source: charge.SourceAuto})
				if err != nil {
					t.Fatal(err)
				}
				if res.Progress.Done != 3 || res.Progress.Approved+res.Progress.Pending != 3 {
					t.Fatalf("progress %+v", res.Progress)
				}
				e.settleAll(en)
				e.checkLedgers()
				for _, id := range []int64{invCard, invPart, invBank} {
					if st, due := e.invoiceStatus(id); st != "paid" || due != 0 {
						t.Errorf("invoice %d is %s due %s", id, st, due)
					}
				}
				// The partial invoice was charged its due, not its total.
				a, err := e.db.LatestAttempt(e.ctx, "invoice:"+itoa(invPart))
				if err != nil || a.Amount != 3000 {
					t.Fatalf("partial invoice attempt %+v, %v", a, err)
				}
				run, _ := e.db.GetRun(e.ctx, res.RunID)
				if run.Status != "done" || run.Progress.Done != 3 {
					t.Errorf("run row %+v", run)
				}
				errs, _ := e.db.RunLog(e.ctx, res.RunID, store.LogError)
				out, _ := e.db.RunLog(e.ctx, res.RunID, store.LogOutput)
				if len(out) != 3 || len(errs) != 3 {
					t.Errorf("run log: %d output, %d error lines:\n%s\n%s", len(out), len(errs), strings.Join(out, "\n"), strings.Join(errs, "\n"))
				}
				// A second night finds nothing to do.
				res2, err := en.Run(e.ctx, charge.Filters{}, charge.RunOptions{})
				if err != nil || res2.Progress.Approved+res2.Progress.Pending != 0 {
					t.Fatalf("second run %+v %v", res2, err)
				}
				e.checkLedgers()
				e.checkNoPaymentDetailsStored()
			})
		}
	})
}

// checkNoPaymentDetailsStored reads the database files byte for byte (main
// file, WAL and shared memory, free pages included) and fails if any test
// card, CVV, BSB, routing or account number was ever written there: only
// tokens and masks may be stored.
func (e *env) checkNoPaymentDetailsStored() {
	e.t.Helper()
	e.restart() // close: everything the engine wrote is on disk
	needles := []string{testPAN, testPAN[:6] + "******" + testPAN[12:], testBSB, "062-000", testAUAcct, testABA, testUSAcct}
	read := 0
	for _, suffix := range []string{"", "-wal", "-shm"} {
		b, err := os.ReadFile(e.dbPath + suffix)
		if err != nil {
			continue
		}
		read += len(b)
		for _, n := range needles {
			if bytes.Contains(b, []byte(n)) {
				e.t.Errorf("%s holds %q", filepath.Base(e.dbPath+suffix), n)
			}
		}
	}
	if read == 0 {
		e.t.Fatal("no database file read; the check proved nothing")
	}
	// The masks themselves are there, so the search above did read the rows.
	var masks int
	if err := e.sqlDB().QueryRowContext(e.ctx, `SELECT count(*) FROM saved_methods WHERE mask LIKE '%•••%'`).Scan(&masks); err != nil || masks < 2 {
		e.t.Fatalf("saved method masks: %d, %v", masks, err)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// Two runs at once over the same invoices never charge one twice.
func TestOverlappingRuns(t *testing.T) {
	bothModes(t, func(t *testing.T) {
		e := newEnv(t, gwIntegra)
		var invs []int64
		for i := range 12 {
			c := e.customer("Cust "+itoa(int64(i)), "card")
			invs = append(invs, e.invoice(c, "20.00", ""))
		}
		e.sync()
		var wg sync.WaitGroup
		results := make([]*charge.RunResult, 2)
		// The second run works through its own database handle, as a CLI run
		// beside the daemon would.
		db2, err := store.Open(e.ctx, e.dbPath, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer db2.Close()
		engines := []*charge.Engine{e.engine(), charge.New(db2, e.spc, e.gw, charge.Options{Policy: e.set, Clock: e.clk})}
		for i := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r, err := engines[i].Run(e.ctx, charge.Filters{}, charge.RunOptions{Concurrency: 4})
				if err != nil {
					t.Error(err)
				}
				results[i] = r
			}()
		}
		wg.Wait()
		charged := results[0].Progress.Approved + results[1].Progress.Approved
		if charged != len(invs) {
			t.Fatalf("approved %d + %d, want %d in total", results[0].Progress.Approved, results[1].Progress.Approved, len(invs))
		}
		e.settleAll(e.engine())
		e.checkLedgers()
	})
}

// Cancelling a run mid-way leaves only true rows: nothing in sending.
func TestCancelledRunLeavesTrueRows(t *testing.T) {
	bothModes(t, func(t *testing.T) {
		e := newEnv(t, gwIntegra)
		for i := range 20 {
			c := e.customer("Cust "+itoa(int64(i)), "card")
			e.invoice(c, "15.00", "")
		}
		e.sync()
		ctx, cancel := context.WithCancel(e.ctx)
		n := 0
		e.hooks.BeforeSend = func(a store.ChargeAttempt) error {
			n++
			if n == 5 {
				cancel()
			}
			return nil
		}
		res, err := e.engine().Run(ctx, charge.Filters{}, charge.RunOptions{Concurrency: 1})
		if err != nil {
			t.Fatal(err)
		}
		if res.Status != "cancelled" || res.Progress.Done >= 20 {
			t.Fatalf("run %s done %d", res.Status, res.Progress.Done)
		}
		for _, a := range e.attempts() {
			if a.State == store.StateSending || a.State == store.StateCreated {
				t.Errorf("attempt %s left %s", a.Reference, a.State)
			}
		}
		e.hooks = charge.Hooks{}
		e.settleAll(e.engine())
		e.checkLedgers()
		// The rest is charged by the next run.
		if _, err := e.engine().Run(e.ctx, charge.Filters{}, charge.RunOptions{}); err != nil {
			t.Fatal(err)
		}
		e.settleAll(e.engine())
		e.checkLedgers()
		if got := len(e.sp.Payments()); got != 20 {
			t.Fatalf("%d payments, want 20", got)
		}
	})
}

// A daemon asked to stop (Options.Stopping) starts no new charge of a
// run, and the charges under way finish and are recorded: none is cut off
// into unknown or "not sent". The rest is charged by the next run.
func TestStoppingRunFinishesChargesUnderWay(t *testing.T) {
	for _, kind := range []string{gwIntegra, gwIPpay} {
		t.Run(kind, func(t *testing.T) {
			e := newEnv(t, kind)
			for i := range 20 {
				c := e.customer("Cust "+itoa(int64(i)), "card")
				e.invoice(c, "15.00", "")
			}
			e.sync()
			const conc, stopAt = 4, 6
			e.stop = make(chan struct{})
			var mu sync.Mutex
			sent := 0
			e.hooks.BeforeSend = func(a store.ChargeAttempt) error {
				mu.Lock()
				defer mu.Unlock()
				if sent++; sent == stopAt {
					close(e.stop)
				}
				return nil
			}
			res, err := e.engine().Run(e.ctx, charge.Filters{}, charge.RunOptions{Concurrency: conc})
			if err != nil {
				t.Fatal(err)
			}
			as := e.attempts()
			if res.Status != "cancelled" || res.Progress.Done >= 20 || len(as) > stopAt+conc {
				t.Fatalf("run %s, done %d, %d attempts; want it stopped within %d charges", res.Status, res.Progress.Done, len(as), stopAt+conc)
			}
			for _, a := range as {
				if a.State != store.StateApproved || a.Code == charge.CodeNotSent {
					t.Errorf("attempt %s %s %s: a charge under way was cut off", a.Reference, a.State, a.Code)
				}
			}
			if _, seen := e.gatewayApproved(); len(seen) != len(as) {
				t.Fatalf("the gateway saw %d charges, we hold %d attempts", len(seen), len(as))
			}
			e.stop, e.hooks = nil, charge.Hooks{}
			if _, err := e.engine().Run(e.ctx, charge.Filters{}, charge.RunOptions{}); err != nil {
				t.Fatal(err)
			}
			e.settleAll(e.engine())
			e.checkLedgers()
			if got := len(e.sp.Payments()); got != 20 {
				t.Fatalf("%d payments, want 20", got)
			}
		})
	}
}

// Two write-back passes at once (the daemon's job and a CLI run) make one
// Splynx payment per charge: the outbox lease keeps them apart.
func TestConcurrentWriteBack(t *testing.T) {
	bothModes(t, func(t *testing.T) {
		e := newEnv(t, gwIPpay)
		for i := range 15 {
			c := e.customer("Cust "+itoa(int64(i)), "card")
			e.invoice(c, "12.00", "")
		}
		e.sync()
		if _, err := e.engine().Run(e.ctx, charge.Filters{}, charge.RunOptions{}); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := e.engine().WriteBack(e.ctx); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if n := len(e.sp.Payments()); n != 15 {
			t.Fatalf("%d Splynx payments for 15 charges", n)
		}
		e.checkLedgers()
	})
}

// A charge the gateway applied but answered too late for the client: the
// row is unknown, the reconciler finds it approved, nothing is sent twice.
func TestTimeoutAfterApplied(t *testing.T) {
	bothModes(t, func(t *testing.T) {
		e := newEnv(t, gwIntegra)
		c := e.customer("Slow Gateway", "card")
		inv := e.invoice(c, "44.00", "")
		e.sync()
		e.ip.SetFault("payers/*/transactions/card", integrapaysim.Fault{Hold: 3 * time.Second, Times: 1})
		en := e.engine()
		res, err := en.Run(e.ctx, charge.Filters{}, charge.RunOptions{})
		if err != nil || res.Progress.Unknown != 1 {
			t.Fatalf("run %+v %v", res, err)
		}
		// Nothing is offered again while the outcome is open.
		if pv, _ := en.Preview(e.ctx, charge.Filters{}); pv.Count != 0 {
			t.Fatalf("unknown charge offered again")
		}
		e.clk.Advance(time.Minute)
		st, err := en.Reconcile(e.ctx)
		if err != nil || st.Resolved != 1 {
			t.Fatalf("reconcile %+v %v", st, err)
		}
		e.settleAll(en)
		e.checkLedgers()
		if s, _ := e.invoiceStatus(inv); s != "paid" {
			t.Fatalf("invoice %s", s)
		}
		charges := 0
		for _, r := range e.ip.Requests() {
			if strings.HasSuffix(r.Path, "/transactions/card") && r.Method == "POST" {
				charges++
			}
		}
		if charges != 1 {
			t.Fatalf("%d charge requests reached the gateway, want 1", charges)
		}
	})
}
