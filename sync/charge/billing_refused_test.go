package charge_test

import (
	"testing"

	"github.com/splynx-pay/splynx-pay/internal/money"
	"github.com/splynx-pay/splynx-pay/splynx/splynxsim"
	"github.com/splynx-pay/splynx-pay/sync/charge"
)

// With the billing list refused (405) the mirror holds billing only for
// customers that had a saved method at the last pass. A balance plan made
// after a customer saved a method, and a plan narrowed to a customer with
// no method, read the balances they need from Splynx instead of leaving
// those customers out.
func TestBalancePlanReadsBillingTheMirrorLacks(t *testing.T) {
	e := newEnvSim(t, gwIntegra, splynxsim.Options{RefuseBillingList: true})
	saver := e.customer("Late Saver", "")
	e.sp.SetBilling(saver, func(b *splynxsim.Billing) { b.Deposit = money.MustParse("-40.00") })
	plain := e.customer("No Method", "")
	e.sp.SetBilling(plain, func(b *splynxsim.Billing) { b.Deposit = money.MustParse("-15.00") })
	e.sync() // no saved method yet: no billing rows
	e.save(saver, "card")
	en := e.engine()

	pv, err := en.Preview(e.ctx, charge.Filters{Mode: charge.ModeBalance})
	if err != nil || pv.Count != 1 || pv.Items[0].CustomerID != saver || pv.DueSum != 4000 {
		t.Fatalf("balance preview after a method was saved: %+v, %v; want customer %d's 40.00", pv, err, saver)
	}
	pv, err = en.Preview(e.ctx, charge.Filters{Mode: charge.ModeBalance, CustomerID: plain})
	if err != nil || pv.Count != 0 || len(pv.Skipped) != 1 || pv.Skipped[0].CustomerID != plain || pv.Skipped[0].Due != 1500 {
		t.Fatalf("balance preview of a customer without a method: %+v, %v; want it skipped with its 15.00", pv, err)
	}
	if _, err := en.Run(e.ctx, charge.Filters{Mode: charge.ModeBalance}, charge.RunOptions{}); err != nil {
		t.Fatal(err)
	}
	e.settleAll(en)
	if b, _ := e.sp.Billing(saver); b.Deposit != 0 {
		t.Fatalf("balance after the run %s, want 0", b.Deposit)
	}
	e.checkLedgers()
}
