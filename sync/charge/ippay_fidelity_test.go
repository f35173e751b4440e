package charge_test

import (
	"testing"
	"time"

	"github.com/splynx-pay/splynx-pay/gateways/ippay"
	"github.com/splynx-pay/splynx-pay/gateways/ippay/ippaysim"
	"github.com/splynx-pay/splynx-pay/internal/money"
	"github.com/splynx-pay/splynx-pay/store"
	"github.com/splynx-pay/splynx-pay/sync/charge"
)

// IPpay may void a sale on its side when its answer was lost (spec §8).
// The ENQ that resolves the lost answer then says so, and the engine
// records no money: no Splynx payment, the invoice stays unpaid, and a
// later attempt (not the lookup) charges it. (Issue 17 item 4.)
func TestLostSaleVoidedByIPpayIsNotRecorded(t *testing.T) {
	e := newEnv(t, gwIPpay)
	cust := e.customer("Voided Sale", "card")
	inv := e.invoice(cust, "25.00", "")
	e.sync()
	e.pp.SetFault(ippaysim.Fault{Types: []string{"SALE"}, LoseResponse: true, VoidAfter: true, Count: 1})
	en := e.engine()
	res, err := en.Run(e.ctx, charge.Filters{}, charge.RunOptions{})
	if err != nil || res.Progress.Unknown != 1 {
		t.Fatalf("run %+v %v, want one unknown", res.Progress, err)
	}
	e.clk.Advance(2 * time.Minute)
	if st, err := en.Reconcile(e.ctx); err != nil || st.Resolved != 1 {
		t.Fatalf("reconcile %+v %v", st, err)
	}
	a := e.attempts()[0]
	if a.State != store.StateDeclined || a.Code != ippay.CodeVoided || a.SplynxPaymentID != 0 {
		t.Fatalf("attempt after ENQ: state %s code %s payment %d", a.State, a.Code, a.SplynxPaymentID)
	}
	if st, due := e.invoiceStatus(inv); st != "not_paid" || due != money.MustParse("25.00") {
		t.Fatalf("invoice %s, %s due after a voided sale", st, due)
	}
	e.checkLedgers()
}

// A return the engine applied and acknowledged is not handed to a
// restarted daemon again: the engine gives IPpay's client its database for
// the acks (issue 11 §3).
func TestIPpayReturnAcksSurviveRestart(t *testing.T) {
	// The returns report is an inferred IPpay feature: served only with
	// the simulator's inferred behaviours on.
	inferredOn = true
	t.Cleanup(func() { inferredOn = false })
	e := newEnv(t, gwIPpay)
	cust := e.customer("Returned Debit", "bank")
	e.invoice(cust, "40.00", "")
	e.sync()
	en := e.engine()
	if res, err := en.Run(e.ctx, charge.Filters{}, charge.RunOptions{}); err != nil || res.Progress.Pending != 1 {
		t.Fatalf("run %+v %v", res.Progress, err)
	}
	a := e.attempts()[0]
	e.clk.Advance(24 * time.Hour)
	if err := e.pp.InjectReturn(a.GatewayID, "R01"); err != nil {
		t.Fatal(err)
	}
	if st, err := en.Settle(e.ctx); err != nil || st.Changes != 1 || st.Rejected != 1 {
		t.Fatalf("settle %+v %v", st, err)
	}
	e.restart()
	gw, err := ippay.New(ippay.Config{URL: e.gwURL + "/ippay", CardTerminalID: "TESTTERMINAL", ACHTerminalID: "TESTACH",
		ReturnsURL: e.gwURL + "/returns.csv", Timeout: 2 * time.Second}, ippay.WithClock(e.clk))
	if err != nil {
		t.Fatal(err)
	}
	e.gw = gw
	if st, err := e.engine().Settle(e.ctx); err != nil || st.Changes != 0 {
		t.Fatalf("settle after restart %+v %v; the acknowledged return came back", st, err)
	}
}
