package charge_test

import (
	"testing"
	"time"

	"github.com/splynx-pay/splynx-pay/gateways/ippay/ippaysim"
	"github.com/splynx-pay/splynx-pay/store"
)

// An IPpay card charge whose answer was lost, while IPpay's ENQ was
// unreachable for a week: the attempt goes to review as it should (nobody
// knows). When ENQ answers again, the next look (every 6 hours) finds the
// charge approved, and Splynx gets its payment without a person: before
// this, the money stayed at the gateway with no Splynx payment until staff
// decided (the KILLS=1000 chaos run left 20 such charges).
func TestReviewLookedUpAgainWhenTheGatewayAnswers(t *testing.T) {
	e := newEnv(t, gwIPpay)
	cust := e.customer("Long Outage", "card")
	inv := e.invoice(cust, "53.62", "")
	e.sync()
	e.pp.SetFault(ippaysim.Fault{Types: []string{"SALE"}, LoseResponse: true, Count: 1})
	e.pp.SetFault(ippaysim.Fault{Types: []string{"ENQ"}, Drop: true})
	en := e.engine()
	e.nightly(en)
	a := e.attempts()[0]
	for range 6 {
		e.advance(1)
		e.cycle(en)
		e.nightly(en)
	}
	if got, _ := e.db.GetAttempt(e.ctx, a.ID); got.State != store.StateReview {
		t.Fatalf("after a week of failed look-ups: %s, want review", got.State)
	}
	if s, _ := e.invoiceStatus(inv); s == "paid" {
		t.Fatalf("invoice paid while its charge was in review")
	}
	e.pp.ClearFaults()
	e.clk.Advance(7 * time.Hour)
	e.cycle(en)
	e.cycle(en)
	got, _ := e.db.GetAttempt(e.ctx, a.ID)
	if got.State != store.StateRecorded || got.SplynxPaymentID == 0 {
		t.Fatalf("after ENQ answered: %s (Splynx payment %d), want recorded with a payment", got.State, got.SplynxPaymentID)
	}
	if s, _ := e.invoiceStatus(inv); s != "paid" {
		t.Fatalf("invoice %s, want paid", s)
	}
	sales := 0
	for _, x := range e.pp.Ledger() {
		if x.Type == "SALE" {
			sales++
		}
	}
	if sales != 1 {
		t.Fatalf("IPpay ledger holds %d sales, want 1", sales)
	}
	e.checkLedgers()
}
