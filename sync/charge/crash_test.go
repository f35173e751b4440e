package charge_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/splynx-pay/splynx-pay/gateways"
	"github.com/splynx-pay/splynx-pay/gateways/integrapay"
	"github.com/splynx-pay/splynx-pay/gateways/integrapay/integrapaysim"
	"github.com/splynx-pay/splynx-pay/gateways/ippay/ippaysim"
	"github.com/splynx-pay/splynx-pay/internal/clock"
	"github.com/splynx-pay/splynx-pay/splynx"
	"github.com/splynx-pay/splynx-pay/store"
	"github.com/splynx-pay/splynx-pay/sync/charge"
)

var errDied = errors.New("process died here")

// Each failure point stops the engine where a crash hurts, then a new
// engine on the same database file (a restarted process) finishes the
// night; the ledgers must agree and every invoice be paid exactly once.
func TestCrashPoints(t *testing.T) {
	bothModes(t, func(t *testing.T) {
		cases := []struct {
			name  string
			kind  string
			bank  bool
			hooks func(e *env) charge.Hooks
			fault func(e *env)
			// left is the state the crash leaves the attempt in.
			left store.AttemptState
		}{
			{name: "after the row is written", kind: gwIntegra, left: store.StateCreated,
				hooks: func(*env) charge.Hooks {
					return charge.Hooks{AfterCreate: func(store.ChargeAttempt) error { return errDied }}
				}},
			{name: "after the request is sent (response lost)", kind: gwIPpay, left: store.StateSending,
				fault: func(e *env) { e.pp.SetFault(ippaysim.Fault{Types: []string{"SALE"}, LoseResponse: true, Count: 1}) },
				hooks: func(*env) charge.Hooks {
					return charge.Hooks{AfterGateway: func(_ store.ChargeAttempt, o gateways.Outcome) error {
						if o.Status != gateways.Unknown {
							return fmt.Errorf("the lost response gave %s", o.Status)
						}
						return errDied
					}}
				}},
			{name: "after the request is sent (response lost) integrapay", kind: gwIntegra, left: store.StateSending,
				fault: func(e *env) {
					e.ip.SetFault("payers/*/transactions/card", integrapaysim.Fault{LoseResponse: true, Times: 1})
				},
				hooks: func(*env) charge.Hooks {
					return charge.Hooks{AfterGateway: func(store.ChargeAttempt, gateways.Outcome) error { return errDied }}
				}},
			{name: "after the gateway applied it, before the answer was stored", kind: gwIntegra, left: store.StateSending,
				hooks: func(*env) charge.Hooks {
					return charge.Hooks{AfterGateway: func(_ store.ChargeAttempt, o gateways.Outcome) error {
						if o.Status != gateways.Approved {
							return fmt.Errorf("want an approved answer to lose, got %s", o.Status)
						}
						return errDied
					}}
				}},
			{name: "bank debit applied, answer not stored", kind: gwIntegra, bank: true, left: store.StateSending,
				hooks: func(*env) charge.Hooks {
					return charge.Hooks{AfterGateway: func(store.ChargeAttempt, gateways.Outcome) error { return errDied }}
				}},
			{name: "ACH applied, answer not stored", kind: gwIPpay, bank: true, left: store.StateSending,
				hooks: func(*env) charge.Hooks {
					return charge.Hooks{AfterGateway: func(store.ChargeAttempt, gateways.Outcome) error { return errDied }}
				}},
			{name: "after the Splynx payment was created, before its id was stored", kind: gwIPpay, left: store.StateApproved,
				hooks: func(*env) charge.Hooks {
					return charge.Hooks{AfterPayment: func(store.ChargeAttempt, int64) error { return errDied }}
				}},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				e := newEnv(t, c.kind)
				method := "card"
				if c.bank {
					method = "bank"
				}
				cust := e.customer("Crash Test", method)
				inv := e.invoice(cust, "42.00", "")
				other := e.customer("Other Customer", "card")
				inv2 := e.invoice(other, "17.00", "")
				e.sync()
				if c.fault != nil {
					c.fault(e)
				}
				e.hooks = c.hooks(e)
				en := e.engine()
				_, err := en.Run(e.ctx, charge.Filters{CustomerID: cust}, charge.RunOptions{Source: charge.SourceAuto})
				if c.left == store.StateApproved {
					// The crash is in the write-back, after a clean run.
					if err != nil {
						t.Fatal(err)
					}
					e.settleOnce(en, t)
					_, err = en.WriteBack(e.ctx)
				}
				if !errors.Is(err, charge.ErrCrashed) {
					t.Fatalf("no crash: %v", err)
				}
				as := e.attempts()
				if len(as) != 1 || as[0].State != c.left {
					t.Fatalf("after the crash: %+v, want one attempt %s", as, c.left)
				}

				// Restart: a new process on the same file, minutes later.
				e.restart()
				e.hooks = charge.Hooks{}
				e.clk.Advance(20 * time.Minute)
				en = e.engine()
				e.settleAll(en)
				// The next night charges whatever is still owed (a never-sent
				// attempt) and the other customer.
				if _, err := en.Run(e.ctx, charge.Filters{}, charge.RunOptions{Source: charge.SourceAuto}); err != nil {
					t.Fatal(err)
				}
				e.settleAll(en)
				e.checkLedgers()
				for _, id := range []int64{inv, inv2} {
					if st, due := e.invoiceStatus(id); st != "paid" {
						t.Errorf("invoice %d is %s, due %s", id, st, due)
					}
				}
				approved, seen := e.gatewayApproved()
				if len(approved) != 2 {
					t.Errorf("gateway approved %d charges, want 2 (seen %v)", len(approved), seen)
				}
				if len(e.sp.Payments()) != 2 {
					t.Errorf("Splynx has %d payments, want 2", len(e.sp.Payments()))
				}
			})
		}
	})
}

// settleOnce gets a pending debit to approved (for a crash in write-back).
func (e *env) settleOnce(en *charge.Engine, t *testing.T) {
	for range 6 {
		if _, err := en.Reconcile(e.ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := en.Settle(e.ctx); err != nil {
			t.Fatal(err)
		}
		e.advance(1)
	}
}

// An unknown the gateway never received (the request was dropped) is not
// freed by IPpay's ENQ: what ENQ answers for an unknown TransactionID is not
// confirmed (gateways/ippay package doc), so the attempt stays unknown,
// blocks the invoice, goes to review, and only a person's decision frees
// it; then a new attempt with a new reference charges it. Before this,
// ENQ's guessed 025 declined it NOT_SENT after 15 minutes.
func TestUnknownNeverReceived(t *testing.T) {
	bothModes(t, func(t *testing.T) {
		e := newEnv(t, gwIPpay)
		cust := e.customer("Dropped Request", "card")
		inv := e.invoice(cust, "33.00", "")
		e.sync()
		e.pp.SetFault(ippaysim.Fault{Types: []string{"SALE"}, Drop: true, Count: 1})
		en := e.engine()
		res, err := en.Run(e.ctx, charge.Filters{}, charge.RunOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if res.Progress.Unknown != 1 {
			t.Fatalf("progress %+v, want one unknown", res.Progress)
		}
		first := e.attempts()[0]
		e.clk.Advance(2 * time.Minute)
		st, err := en.Reconcile(e.ctx)
		if err != nil || st.StillUnkwn != 1 || st.NotSent != 0 {
			t.Fatalf("early reconcile %+v %v", st, err)
		}
		// Past the old grace period, nights pass: ENQ's answer never frees it.
		e.clk.Advance(20 * time.Minute)
		if st, err := en.Reconcile(e.ctx); err != nil || st.NotSent != 0 {
			t.Fatalf("late reconcile %+v %v", st, err)
		}
		for range 5 {
			e.advance(1)
			e.cycle(en)
			if pv, _ := en.Preview(e.ctx, charge.Filters{}); pv.Count != 0 {
				t.Fatalf("an unresolved invoice is offered again: %+v", pv.Items)
			}
			e.nightly(en)
		}
		as := e.attempts()
		if len(as) != 1 || as[0].State != store.StateReview {
			t.Fatalf("attempts after five nights: %+v, want one in review", as)
		}
		// A person checks IPpay's portal: not charged.
		if _, err := en.ResolveReview(e.ctx, first.ID, charge.DecideNotCharged, "ops@example"); err != nil {
			t.Fatal(err)
		}
		e.nightly(en)
		e.settleAll(en)
		e.checkLedgers()
		as = e.attempts()
		if len(as) != 2 || as[1].Reference == first.Reference || as[1].State != store.StateRecorded {
			t.Fatalf("attempts %+v", as)
		}
		if st, _ := e.invoiceStatus(inv); st != "paid" {
			t.Fatalf("invoice %s", st)
		}
	})
}

// The process is really killed (os.Exit in a child process) at each
// failure point; the parent restarts on the same file and finishes.
func TestKilledProcess(t *testing.T) {
	bothModes(t, func(t *testing.T) {
		if os.Getenv("CHARGE_CHILD_DB") != "" {
			t.Skip("child")
		}
		cases := []struct {
			point string
			fault func(e *env)
			// left is the state the kill leaves the attempt in; charged says
			// whether the gateway holds the charge at that moment.
			left    store.AttemptState
			charged bool
		}{
			{point: "created", left: store.StateCreated},
			{point: "sent", left: store.StateSending, charged: true, fault: func(e *env) {
				e.ip.SetFault("payers/*/transactions/card", integrapaysim.Fault{LoseResponse: true, Times: 1})
			}},
			{point: "applied", left: store.StateSending, charged: true},
			{point: "payment", left: store.StateApproved, charged: true},
		}
		for _, c := range cases {
			t.Run(c.point, func(t *testing.T) {
				e := newEnv(t, gwIntegra)
				cust := e.customer("Killed Process", "card")
				inv := e.invoice(cust, "62.00", "")
				e.sync()
				if c.fault != nil {
					c.fault(e)
				}
				e.db.Close()
				cmd := exec.Command(os.Args[0], "-test.run=^TestChildCharge$", "-test.count=1")
				cmd.Env = append(os.Environ(), "CHARGE_CHILD_DB="+e.dbPath, "CHARGE_CHILD_SPLYNX="+e.spURL(),
					"CHARGE_CHILD_GW="+e.gwURL, "CHARGE_CHILD_POINT="+c.point,
					"CHARGE_CHILD_NOW="+strconv.FormatInt(e.clk.Now().Unix(), 10))
				out, err := cmd.CombinedOutput()
				var ee *exec.ExitError
				if !errors.As(err, &ee) || ee.ExitCode() != 3 {
					t.Fatalf("child: %v\n%s", err, out)
				}
				e.open()
				as := e.attempts()
				if len(as) != 1 || as[0].State != c.left {
					t.Fatalf("after the kill: %+v, want one attempt %s", as, c.left)
				}
				if approved, _ := e.gatewayApproved(); (len(approved) == 1) != c.charged {
					t.Fatalf("gateway holds %v, charged want %v", approved, c.charged)
				}
				e.clk.Advance(10 * time.Minute)
				en := e.engine()
				e.settleAll(en)
				if _, err := en.Run(e.ctx, charge.Filters{}, charge.RunOptions{}); err != nil {
					t.Fatal(err)
				}
				e.settleAll(en)
				e.checkLedgers()
				if st, _ := e.invoiceStatus(inv); st != "paid" || len(e.sp.Payments()) != 1 {
					t.Fatalf("invoice %s, %d payments", st, len(e.sp.Payments()))
				}
			})
		}
	})
}

// TestChildCharge is the killed process of TestKilledProcess: it charges
// and exits hard at CHARGE_CHILD_POINT.
func TestChildCharge(t *testing.T) {
	dbPath := os.Getenv("CHARGE_CHILD_DB")
	if dbPath == "" {
		t.Skip("only run as TestKilledProcess's child")
	}
	sec, _ := strconv.ParseInt(os.Getenv("CHARGE_CHILD_NOW"), 10, 64)
	clk := clock.NewFake(time.Unix(sec, 0).UTC())
	ctx := context.Background()
	db, err := store.Open(ctx, dbPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	spc, err := splynx.New(splynx.Config{BaseURL: os.Getenv("CHARGE_CHILD_SPLYNX"), APIKey: apiKey, APISecret: apiSecret,
		Timeout: 5 * time.Second}, splynx.WithClock(clk))
	if err != nil {
		t.Fatal(err)
	}
	gwURL := os.Getenv("CHARGE_CHILD_GW")
	gw, err := integrapay.New(integrapay.Config{AuthURL: gwURL, APIURL: gwURL, Username: integrapaysim.DefaultUsername,
		Password: integrapaysim.DefaultPassword, BusinessID: integrapaysim.DefaultBusinessID, Timeout: 5 * time.Second},
		integrapay.WithClock(clk))
	if err != nil {
		t.Fatal(err)
	}
	die := func() { os.Exit(3) }
	var h charge.Hooks
	switch os.Getenv("CHARGE_CHILD_POINT") {
	case "created":
		h.AfterCreate = func(store.ChargeAttempt) error { die(); return nil }
	case "sent", "applied":
		h.AfterGateway = func(store.ChargeAttempt, gateways.Outcome) error { die(); return nil }
	case "payment":
		h.AfterPayment = func(store.ChargeAttempt, int64) error { die(); return nil }
	}
	en := charge.New(db, spc, gw, charge.Options{Policy: testPolicy(t, map[string]string{
		"payment_method_card": fmt.Sprint(methodCard), "payment_method_bank": fmt.Sprint(methodBank)}), Clock: clk, Hooks: h})
	_, err = en.Run(ctx, charge.Filters{}, charge.RunOptions{Source: charge.SourceCLI})
	if err == nil {
		_, err = en.WriteBack(ctx)
	}
	t.Fatalf("the child was not killed: %v", err)
}
