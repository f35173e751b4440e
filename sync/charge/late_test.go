package charge_test

import (
	"testing"

	"github.com/splynx-pay/splynx-pay/gateways"
	"github.com/splynx-pay/splynx-pay/gateways/integrapay"
	"github.com/splynx-pay/splynx-pay/gateways/integrapay/integrapaysim"
	"github.com/splynx-pay/splynx-pay/store"
	"github.com/splynx-pay/splynx-pay/sync/charge"
)

// twoDebits leaves invoice inv with two attempts at the gateway: late, the
// first, held as declined NOT_SENT (as the old engine did after a lost
// reply), and second, the next night's debit, pending.
func twoDebits(t *testing.T) (e *env, en *charge.Engine, inv int64, late, second store.ChargeAttempt) {
	e = newEnv(t, gwIntegra)
	cust := e.customer("Two Debits", "bank")
	inv = e.invoice(cust, "40.00", "")
	e.sync()
	e.ip.SetFault("payers/*/schedules/payments", integrapaysim.Fault{Method: "POST", LoseResponse: true, Times: 1})
	en = e.engine()
	e.nightly(en)
	late = e.attempts()[0]
	if err := e.db.TransitionAttempt(e.ctx, late.ID, []store.AttemptState{store.StateUnknown}, store.StateDeclined,
		store.Change{Code: charge.CodeNotSent, Resolved: true}, e.clk.Now(), nil); err != nil {
		t.Fatal(err)
	}
	e.nightly(en)
	as := e.attempts()
	if len(as) != 2 || as[1].State != store.StatePending {
		t.Fatalf("attempts %+v, want the second pending", as)
	}
	return e, en, inv, late, as[1]
}

// feed applies the gateway's word about one attempt, in the order a test
// chooses, and writes back.
func (e *env) feed(en *charge.Engine, a store.ChargeAttempt, status gateways.Status) {
	e.t.Helper()
	o := gateways.Outcome{Status: status, Reference: a.Reference, Amount: a.Amount}
	if status == gateways.Declined {
		o.Reason, o.Code, o.Message = gateways.ReasonInsufficientFunds, "R01", "dishonoured"
	}
	if status == gateways.Pending {
		o.SettlesBy = e.clk.Now().AddDate(0, 0, 3)
	}
	if err := en.ApplyChanges(e.ctx, []gateways.StatusChange{{Outcome: o, At: e.clk.Now()}}, nil, false); err != nil {
		e.t.Fatal(err)
	}
	if _, err := en.WriteBack(e.ctx); err != nil {
		e.t.Fatal(err)
	}
}

// where reports the Splynx payments on the invoice and on the balance.
func (e *env) where(inv int64) (onInvoice, onBalance []string) {
	for _, p := range e.sp.Payments() {
		switch {
		case p.Amount <= 0:
		case p.InvoiceID == inv:
			onInvoice = append(onInvoice, p.ReceiptNumber)
		case p.InvoiceID == 0:
			onBalance = append(onBalance, p.ReceiptNumber)
		}
	}
	return onInvoice, onBalance
}

func (e *env) attempt(id int64) store.ChargeAttempt {
	e.t.Helper()
	a, err := e.db.GetAttempt(e.ctx, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return a
}

// The late debit settles while the second is only pending, and the second
// then bounces: the late one's money pays the invoice. (It used to be
// superseded at once, so the money sat on the balance and the invoice
// stayed unpaid.)
func TestLateSettlementPaysWhenTheOtherOnlyPending(t *testing.T) {
	e, en, inv, late, second := twoDebits(t)
	e.feed(en, late, gateways.Approved)
	e.feed(en, second, gateways.Declined)
	if a := e.attempt(late.ID); a.State != store.StateRecorded || a.Superseded {
		t.Fatalf("late attempt %s superseded=%v, want recorded on the invoice", a.State, a.Superseded)
	}
	if a := e.attempt(second.ID); a.State != store.StateDeclined {
		t.Fatalf("second attempt %s", a.State)
	}
	onInv, onBal := e.where(inv)
	if len(onInv) != 1 || len(onBal) != 0 {
		t.Fatalf("payments on the invoice %v, on the balance %v; want one on the invoice", onInv, onBal)
	}
	if st, _ := e.invoiceStatus(inv); st != "paid" {
		t.Fatalf("invoice %s", st)
	}
}

// Both settle. Whichever is approved first pays the invoice; the other is
// superseded, its money on the balance, and that is audited. Both orders.
func TestLateSettlementBothSettleEitherOrder(t *testing.T) {
	for _, lateFirst := range []bool{true, false} {
		name := "second first"
		if lateFirst {
			name = "late first"
		}
		t.Run(name, func(t *testing.T) {
			e, en, inv, late, second := twoDebits(t)
			e.feed(en, late, gateways.Pending) // back from the dead, not yet certain
			first, then := second, late
			if lateFirst {
				first, then = late, second
			}
			e.feed(en, first, gateways.Approved)
			e.feed(en, then, gateways.Approved)
			if a := e.attempt(first.ID); a.State != store.StateRecorded || a.Superseded {
				t.Errorf("first approved %s: %s superseded=%v, want it to pay the invoice", a.Reference, a.State, a.Superseded)
			}
			if a := e.attempt(then.ID); a.State != store.StateRecorded || !a.Superseded {
				t.Errorf("second approved %s: %s superseded=%v, want superseded", a.Reference, a.State, a.Superseded)
			}
			onInv, onBal := e.where(inv)
			if len(onInv) != 1 || len(onBal) != 1 {
				t.Fatalf("payments on the invoice %v, on the balance %v; want one each", onInv, onBal)
			}
			audit, _ := e.db.AuditLog(e.ctx, "charge.superseded", 10)
			if len(audit) != 1 || audit[0].Fields["reference"] != then.Reference || audit[0].Fields["paid_by"] != first.Reference {
				t.Fatalf("audit %+v", audit)
			}
		})
	}
}

// An invoice charged again after an earlier attempt paid it (the payment
// was deleted in Splynx, say) is paid by the new charge, not superseded:
// the two never overlapped.
func TestChargeAfterAnEarlierPaidOneIsNotSuperseded(t *testing.T) {
	e := newEnv(t, gwIntegra)
	cust := e.customer("Paid Again", "card")
	inv := e.invoice(cust, "12.00", "")
	e.sync()
	en := e.engine()
	e.nightly(en)
	e.cycle(en)
	first := e.attempts()[0]
	if first.State != store.StateRecorded {
		t.Fatalf("first %+v", first)
	}
	if err := e.spc.DeletePayment(e.ctx, first.SplynxPaymentID); err != nil {
		t.Fatal(err)
	}
	e.sync()
	e.clk.Advance(24 * 3600 * 1e9)
	e.nightly(en)
	e.cycle(en)
	as := e.attempts()
	if len(as) != 2 || as[1].State != store.StateRecorded || as[1].Superseded {
		t.Fatalf("attempts %+v, want the second recorded on the invoice", as)
	}
	if onInv, _ := e.where(inv); len(onInv) != 1 {
		t.Fatalf("payments on the invoice %v", onInv)
	}
}

// IntegraPay R17 (payer not active) blocks the invoice and marks the saved
// method "needs update": the reason is about the payer, not the moment.
func TestPayerInactiveMarksMethod(t *testing.T) {
	e := newEnv(t, gwIntegra)
	cust := e.customer("Inactive Payer", "card")
	inv := e.invoice(cust, "25.00", "")
	e.sync()
	ms, err := e.db.ListMethods(e.ctx, cust)
	if err != nil || len(ms) != 1 {
		t.Fatalf("methods %+v %v", ms, err)
	}
	if err := e.gw.(*integrapay.Client).SetPayerStatus(e.ctx, ms[0].PayerRef, "C"); err != nil {
		t.Fatal(err)
	}
	en := e.engine()
	for range 4 {
		e.nightly(en)
		e.cycle(en)
		e.advance(1)
	}
	as := e.attempts()
	if len(as) != 1 || as[0].State != store.StateDeclined || as[0].Code != "R17" {
		t.Fatalf("attempts %+v, want one declined R17", as)
	}
	if m, _ := e.db.GetMethod(e.ctx, ms[0].ID); m.Status != store.MethodNeedsUpdate {
		t.Fatalf("method %q, want %s", m.Status, store.MethodNeedsUpdate)
	}
	if st, _ := e.invoiceStatus(inv); st == "paid" {
		t.Fatalf("invoice %s", st)
	}
}

// late_settlement=refund: a refund the gateway refuses is not left there;
// the settlement job tries again until it is done, and it is done once.
func TestLateSettlementRefundRetried(t *testing.T) {
	e, en, inv, _, _ := twoDebits(t)
	e.set.LateSettlement = "refund"
	en = e.engine()
	e.ip.SetFault("transactions/bank-payments/*/refunds", integrapaysim.Fault{Method: "POST", Status: 400, Times: 1})
	for range 6 {
		e.advance(1)
		e.cycle(en)
	}
	if audit, _ := e.db.AuditLog(e.ctx, "charge.late_settlement_refund_failed", 10); len(audit) != 1 {
		t.Fatalf("refund failures audited %+v, want the one refused", audit)
	}
	if n := e.posts("/refunds"); n != 2 {
		t.Fatalf("%d refund requests, want the refused one and one that worked", n)
	}
	var sup store.ChargeAttempt
	for _, x := range e.attempts() {
		if x.Superseded {
			sup = x
		}
	}
	if sup.State != store.StateReversed || sup.Refunded != sup.Amount {
		t.Fatalf("superseded attempt %s refunded %d of %d", sup.State, sup.Refunded, sup.Amount)
	}
	if onInv, _ := e.where(inv); len(onInv) != 1 {
		t.Fatalf("payments on the invoice %v", onInv)
	}
	e.checkLedgers()
}

// A person may decide the money stays on the balance: retries stop, and the
// decision is audited with who made it.
func TestLateSettlementKeptStopsRetries(t *testing.T) {
	e, en, _, _, _ := twoDebits(t)
	e.set.LateSettlement = "refund"
	en = e.engine()
	e.ip.SetFault("transactions/bank-payments/*/refunds", integrapaysim.Fault{Method: "POST", Status: 400})
	var sup store.ChargeAttempt
	for range 6 {
		e.advance(1)
		e.cycle(en)
		for _, x := range e.attempts() {
			if x.Superseded && x.State == store.StateRecorded {
				sup = x
			}
		}
		if sup.ID != 0 {
			break
		}
	}
	if sup.ID == 0 {
		t.Fatalf("no superseded charge recorded: %+v", e.attempts())
	}
	tried := e.posts("/refunds")
	if tried == 0 {
		t.Fatal("the refund was never tried")
	}
	if err := en.KeepLateSettlement(e.ctx, sup.ID, "ops@example"); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		e.advance(1)
		e.cycle(en)
	}
	if n := e.posts("/refunds"); n != tried {
		t.Fatalf("%d refund requests after the decision, want still %d", n, tried)
	}
	audit, _ := e.db.AuditLog(e.ctx, "charge.late_settlement_kept", 10)
	if len(audit) != 1 || audit[0].Fields["by"] != "ops@example" {
		t.Fatalf("audit %+v", audit)
	}
}
