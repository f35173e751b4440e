package charge_test

// Issue 11's must-show tests: each one failed on the engine before the fix.

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/splynx-pay/splynx-pay/gateways"
	"github.com/splynx-pay/splynx-pay/gateways/integrapay/integrapaysim"
	"github.com/splynx-pay/splynx-pay/gateways/ippay/ippaysim"
	"github.com/splynx-pay/splynx-pay/store"
	"github.com/splynx-pay/splynx-pay/sync/charge"
)

// bankDebits counts the gateway ledger's bank debits of a payer.
func (e *env) bankDebits(payer int64) int {
	n := 0
	for _, en := range e.ip.Ledger() {
		if en.Kind == "bank" && en.PayerRef == itoa(payer) {
			n++
		}
	}
	return n
}

func (e *env) posts(suffix string) int {
	n := 0
	for _, r := range e.ip.Requests() {
		if r.Method == "POST" && strings.HasSuffix(r.Path, suffix) {
			n++
		}
	}
	return n
}

func (e *env) nightly(en *charge.Engine) *charge.RunResult {
	e.t.Helper()
	res, err := en.Run(e.ctx, charge.Filters{}, charge.RunOptions{Source: charge.SourceAuto})
	if err != nil {
		e.t.Fatalf("nightly run: %v", err)
	}
	return res
}

// (a) The reply to scheduling a BECS debit is lost, and the simulator
// serves only confirmed paths (the look-ups answer 404). Nights pass with
// the maintenance cycle and the nightly run: the gateway debits the invoice
// once, Splynx gets one payment, and the attempt is resolved from the
// transactions/new feed.
func TestLostScheduleReplyDebitsOnce(t *testing.T) {
	e := newEnv(t, gwIntegra)
	cust := e.customer("Lost Reply", "bank")
	inv := e.invoice(cust, "80.00", "")
	e.sync()
	e.ip.SetFault("payers/*/schedules/payments", integrapaysim.Fault{Method: "POST", LoseResponse: true, Times: 1})
	en := e.engine()
	if res := e.nightly(en); res.Progress.Unknown != 1 {
		t.Fatalf("first run %+v, want one unknown", res.Progress)
	}
	first := e.attempts()[0]
	for day := 0; day < 8; day++ {
		// Several looks a day: well past any grace period.
		for range 4 {
			e.clk.Advance(time.Hour)
			e.cycle(en)
		}
		e.nightly(en)
		e.advance(1)
		e.cycle(en)
	}
	if n := e.bankDebits(cust); n != 1 {
		t.Fatalf("the gateway debited the customer %d times, want 1", n)
	}
	e.checkLedgers()
	as := e.attempts()
	if len(as) != 1 || as[0].Reference != first.Reference || as[0].State != store.StateRecorded || as[0].GatewayID == "" {
		t.Fatalf("attempts %+v, want the first one recorded from the feed", as)
	}
	if ps := e.sp.Payments(); len(ps) != 1 || ps[0].InvoiceID != inv {
		t.Fatalf("Splynx payments %+v, want one on invoice %d", ps, inv)
	}
	if st, _ := e.invoiceStatus(inv); st != "paid" {
		t.Fatalf("invoice %s", st)
	}
}

// (b) A charge we hold as declined (as the old engine left lost BECS
// replies after 15 minutes) shows up in the feed and settles: it is
// recorded in Splynx and the audit log says why.
func TestFeedSettlesChargeHeldAsDeclined(t *testing.T) {
	e := newEnv(t, gwIntegra)
	cust := e.customer("Held Declined", "bank")
	inv := e.invoice(cust, "55.00", "")
	e.sync()
	e.ip.SetFault("payers/*/schedules/payments", integrapaysim.Fault{Method: "POST", LoseResponse: true, Times: 1})
	en := e.engine()
	e.nightly(en)
	a := e.attempts()[0]
	if err := e.db.TransitionAttempt(e.ctx, a.ID, []store.AttemptState{store.StateUnknown}, store.StateDeclined,
		store.Change{Reason: string(gateways.ReasonOther), Code: charge.CodeNotSent, Message: "the gateway never received it",
			Resolved: true}, e.clk.Now(), nil); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		e.advance(1)
		e.cycle(en)
	}
	got, err := e.db.GetAttempt(e.ctx, a.ID)
	if err != nil || got.State != store.StateRecorded || got.SplynxPaymentID == 0 {
		t.Fatalf("attempt %+v %v, want recorded", got, err)
	}
	ps := e.sp.Payments()
	if len(ps) != 1 || ps[0].Field2 != a.Reference || ps[0].InvoiceID != inv {
		t.Fatalf("Splynx payments %+v", ps)
	}
	audit, err := e.db.AuditLog(e.ctx, "charge.late_settlement", 10)
	if err != nil || len(audit) != 1 || audit[0].Fields["reference"] != a.Reference || audit[0].Fields["was"] != "declined" {
		t.Fatalf("audit %+v %v", audit, err)
	}
	e.checkLedgers()
}

// (b, superseded) The declined charge settles after a second attempt
// already paid the invoice: its money goes to the customer's balance, not
// onto the invoice a second time, and is audited.
func TestLateSettlementAfterAnotherAttemptPaid(t *testing.T) {
	e := newEnv(t, gwIntegra)
	cust := e.customer("Paid Twice", "bank")
	inv := e.invoice(cust, "40.00", "")
	e.sync()
	e.ip.SetFault("payers/*/schedules/payments", integrapaysim.Fault{Method: "POST", LoseResponse: true, Times: 1})
	en := e.engine()
	e.nightly(en)
	a := e.attempts()[0]
	if err := e.db.TransitionAttempt(e.ctx, a.ID, []store.AttemptState{store.StateUnknown}, store.StateDeclined,
		store.Change{Code: charge.CodeNotSent, Resolved: true}, e.clk.Now(), nil); err != nil {
		t.Fatal(err)
	}
	e.nightly(en) // the old engine's second debit
	for range 6 {
		e.advance(1)
		e.cycle(en)
	}
	if n := e.bankDebits(cust); n != 2 {
		t.Fatalf("gateway debits %d, want the two the scenario made", n)
	}
	var onInvoice, onBalance int
	for _, p := range e.sp.Payments() {
		switch p.InvoiceID {
		case inv:
			onInvoice++
		case 0:
			onBalance++
		}
	}
	if onInvoice != 1 || onBalance != 1 {
		t.Fatalf("payments on the invoice %d, on the balance %d; want 1 and 1: %+v", onInvoice, onBalance, e.sp.Payments())
	}
	// Both debits were pending together; the first whose money was
	// certain paid the invoice, the other is superseded (late_test.go
	// pins each order).
	superseded := 0
	for _, x := range e.attempts() {
		if x.State != store.StateRecorded {
			t.Fatalf("attempt %+v", x)
		}
		if x.Superseded {
			superseded++
		}
	}
	if superseded != 1 {
		t.Fatalf("%d attempts superseded, want 1: %+v", superseded, e.attempts())
	}
	if audit, _ := e.db.AuditLog(e.ctx, "charge.late_settlement", 10); len(audit) != 1 {
		t.Fatalf("audit %+v", audit)
	}
	if audit, _ := e.db.AuditLog(e.ctx, "charge.superseded", 10); len(audit) != 1 || audit[0].Fields["paid_by"] == "" {
		t.Fatalf("superseded audit %+v", audit)
	}
	e.checkLedgers()
}

// (c) A decline that will not go away is charged once, not every night;
// the preview says why; a new method brings the invoice back.
func TestHardDeclineNotChargedEveryNight(t *testing.T) {
	e := newEnv(t, gwIntegra)
	cust := e.customer("Bad Request", "card")
	inv := e.invoice(cust, "21.00", "")
	e.sync()
	e.ip.SetFault("payers/*/transactions/card", integrapaysim.Fault{Method: "POST", Status: 400})
	en := e.engine()
	for range 10 {
		e.nightly(en)
		e.cycle(en)
		e.clk.Advance(24 * time.Hour)
	}
	if n := e.posts("/transactions/card"); n != 1 {
		t.Fatalf("ten nights sent %d card charges, want 1", n)
	}
	pv, err := en.Preview(e.ctx, charge.Filters{})
	if err != nil || pv.Count != 0 || len(pv.Skipped) != 1 || !strings.Contains(pv.Skipped[0].Skip, "not retryable") {
		t.Fatalf("preview %+v %v", pv, err)
	}
	// The customer saves a new card: charging resumes, once.
	e.ip.ClearFaults()
	e.save(cust, "card")
	e.nightly(en)
	e.nightly(en)
	e.cycle(en)
	if n := e.posts("/transactions/card"); n != 2 {
		t.Fatalf("after the new card: %d card charges, want 2", n)
	}
	if st, _ := e.invoiceStatus(inv); st != "paid" {
		t.Fatalf("invoice %s", st)
	}
	e.checkLedgers()
}

// (d) A gateway HTTP 500 on a charge it applied is unknown, never a
// decline; the lookup resolves it and nothing is charged twice.
func TestGateway500IsUnknown(t *testing.T) {
	t.Run(gwIntegra, func(t *testing.T) {
		e := newEnv(t, gwIntegra)
		cust := e.customer("Five Hundred", "card")
		inv := e.invoice(cust, "30.00", "")
		e.sync()
		e.ip.SetFault("payers/*/transactions/card", integrapaysim.Fault{Method: "POST", Status: 500, AfterApply: true, Times: 1})
		en := e.engine()
		if res := e.nightly(en); res.Progress.Unknown != 1 || res.Progress.Declined != 0 {
			t.Fatalf("run %+v, want unknown", res.Progress)
		}
		e.clk.Advance(time.Minute)
		if st, err := en.Reconcile(e.ctx); err != nil || st.Resolved != 1 {
			t.Fatalf("reconcile %+v %v", st, err)
		}
		e.nightly(en)
		e.settleAll(en)
		if n := e.posts("/transactions/card"); n != 1 {
			t.Fatalf("%d card charges, want 1", n)
		}
		if st, _ := e.invoiceStatus(inv); st != "paid" {
			t.Fatalf("invoice %s", st)
		}
		e.checkLedgers()
	})
	// A BECS schedule answered 500 after it was applied: only unconfirmed
	// look-ups exist, so the attempt stays unknown (not declined, the
	// invoice not charged again) until the feed resolves it.
	t.Run(gwIntegra+"-bank", func(t *testing.T) {
		e := newEnv(t, gwIntegra)
		cust := e.customer("Five Hundred Bank", "bank")
		inv := e.invoice(cust, "31.00", "")
		e.sync()
		e.ip.SetFault("payers/*/schedules/payments", integrapaysim.Fault{Method: "POST", Status: 500, AfterApply: true, Times: 1})
		en := e.engine()
		if res := e.nightly(en); res.Progress.Unknown != 1 || res.Progress.Declined != 0 {
			t.Fatalf("run %+v, want unknown", res.Progress)
		}
		for range 3 {
			e.clk.Advance(time.Hour)
			e.cycle(en)
			e.nightly(en)
		}
		if as := e.attempts(); len(as) != 1 || as[0].State == store.StateDeclined {
			t.Fatalf("attempts after an hour of looks: %+v", as)
		}
		for range 5 {
			e.advance(1)
			e.cycle(en)
			e.nightly(en)
		}
		e.cycle(en)
		if n := e.bankDebits(cust); n != 1 {
			t.Fatalf("%d debits, want 1", n)
		}
		if st, _ := e.invoiceStatus(inv); st != "paid" {
			t.Fatalf("invoice %s", st)
		}
		e.checkLedgers()
	})
	t.Run(gwIPpay, func(t *testing.T) {
		e := newEnv(t, gwIPpay)
		cust := e.customer("Five Hundred", "card")
		inv := e.invoice(cust, "30.00", "")
		e.sync()
		e.pp.SetFault(ippaysim.Fault{Types: []string{"SALE"}, Status: 500, Count: 1})
		en := e.engine()
		if res := e.nightly(en); res.Progress.Unknown != 1 || res.Progress.Declined != 0 {
			t.Fatalf("run %+v, want unknown", res.Progress)
		}
		// Nothing is charged while it is unknown. The 500 applied nothing,
		// but ENQ's answer for an unknown id is not confirmed, so only a
		// person frees the invoice (see TestUnknownNeverReceived).
		e.clk.Advance(time.Minute)
		e.cycle(en)
		e.nightly(en)
		e.clk.Advance(time.Hour)
		e.cycle(en)
		e.nightly(en)
		sales := func() int {
			n := 0
			for _, en := range e.pp.Ledger() {
				if en.Type == "SALE" {
					n++
				}
			}
			return n
		}
		if as := e.attempts(); len(as) != 1 || sales() != 0 || (as[0].State != store.StateUnknown && as[0].State != store.StateReview) {
			t.Fatalf("after the looks: %d sales, attempts %+v", sales(), as)
		}
		if _, err := en.ResolveReview(e.ctx, e.attempts()[0].ID, charge.DecideNotCharged, "ops@example"); err != nil {
			t.Fatal(err)
		}
		e.nightly(en)
		e.settleAll(en)
		if n := sales(); n != 1 {
			t.Fatalf("%d sales at the gateway, want 1", n)
		}
		if st, _ := e.invoiceStatus(inv); st != "paid" {
			t.Fatalf("invoice %s", st)
		}
		e.checkLedgers()
	})
}

// A write-back claimed by a process that died is taken back at once by the
// next pass on the same host, not 5 minutes later; a live holder's claim is
// left alone.
func TestDeadProcessWriteBackClaimTakenBack(t *testing.T) {
	e := newEnv(t, gwIntegra)
	cust := e.customer("Claimed Then Killed", "card")
	inv := e.invoice(cust, "12.00", "")
	e.sync()
	en := e.engine()
	e.nightly(en)
	items, err := e.db.DueOutbox(e.ctx, e.clk.Now(), 10)
	if err != nil || len(items) != 1 {
		t.Fatalf("outbox %+v %v", items, err)
	}
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	live := fmt.Sprintf("%s:%d:feed", host, os.Getppid())
	if ok, err := e.db.ClaimOutbox(e.ctx, items[0].ID, e.clk.Now(), e.clk.Now().Add(5*time.Minute), live); !ok || err != nil {
		t.Fatalf("claim %v %v", ok, err)
	}
	if st, err := en.WriteBack(e.ctx); err != nil || st.Payments != 0 {
		t.Fatalf("a live holder's claim was taken: %+v %v", st, err)
	}
	// The holder "dies": the same claim under a pid that has exited.
	if _, err := e.sqlDB().Exec(`UPDATE writeback_outbox SET lease_owner = ? WHERE id = ?`,
		fmt.Sprintf("%s:%d:dead", host, dead.Process.Pid), items[0].ID); err != nil {
		t.Fatal(err)
	}
	if st, err := en.WriteBack(e.ctx); err != nil || st.Payments != 1 {
		t.Fatalf("write-back after the holder died: %+v %v", st, err)
	}
	if s, _ := e.invoiceStatus(inv); s != "paid" {
		t.Fatalf("invoice %s", s)
	}
	e.checkLedgers()
}

// An approved card charge that the gateway rejects before its write-back
// goes straight to reversed: no Splynx payment is created and then deleted.
func TestRejectedBeforeWriteBackGoesStraightToReversed(t *testing.T) {
	e := newEnv(t, gwIntegra)
	cust := e.customer("Chargeback Early", "card")
	inv := e.invoice(cust, "18.00", "")
	e.sync()
	en := e.engine()
	e.nightly(en)
	a := e.attempts()[0]
	if a.State != store.StateApproved {
		t.Fatalf("attempt %s, want approved and not yet written back", a.State)
	}
	e.ip.InjectLate(a.Reference, integrapaysim.Late{SubStatus: "R13", Status: "R", After: time.Hour})
	e.clk.Advance(3 * time.Hour)
	if _, err := en.Settle(e.ctx); err != nil {
		t.Fatal(err)
	}
	got, _ := e.db.GetAttempt(e.ctx, a.ID)
	if got.State != store.StateReversed || got.SplynxPaymentID != 0 {
		t.Fatalf("attempt %+v, want reversed without a Splynx payment", got)
	}
	e.cycle(en)
	for _, r := range e.sp.Requests() {
		if strings.Contains(r.Path, "finance/payments") && (r.Method == "POST" || r.Method == "DELETE") {
			t.Fatalf("Splynx saw %s %s for a charge rejected before its write-back", r.Method, r.Path)
		}
	}
	if s, _ := e.invoiceStatus(inv); s != "not_paid" {
		t.Fatalf("invoice %s", s)
	}
}

// A BECS schedule answered 504 and never applied: no confirmed channel can
// say so, so the attempt stays unknown, goes to review after
// review_unknown_after_days business days (never back to chargeable by
// itself), and is charged again only after a person decides.
func TestUnresolvedGoesToReviewUntilAPersonDecides(t *testing.T) {
	e := newEnv(t, gwIntegra)
	cust := e.customer("Never Known", "bank")
	inv := e.invoice(cust, "64.00", "")
	e.sync()
	e.ip.SetFault("payers/*/schedules/payments", integrapaysim.Fault{Method: "POST", Status: 504, Times: 1})
	en := e.engine()
	if res := e.nightly(en); res.Progress.Unknown != 1 {
		t.Fatalf("run %+v", res.Progress)
	}
	a := e.attempts()[0]
	for day := 0; day < 2; day++ {
		e.advance(1)
		e.cycle(en)
		e.nightly(en)
	}
	if got, _ := e.db.GetAttempt(e.ctx, a.ID); got.State != store.StateUnknown {
		t.Fatalf("after 2 business days: %s, want still unknown", got.State)
	}
	for day := 0; day < 5; day++ {
		e.advance(1)
		e.cycle(en)
		e.nightly(en)
	}
	got, _ := e.db.GetAttempt(e.ctx, a.ID)
	if got.State != store.StateReview {
		t.Fatalf("after a week: %s, want review", got.State)
	}
	if n := e.bankDebits(cust); n != 0 {
		t.Fatalf("%d debits while the first was open", n)
	}
	pv, _ := en.Preview(e.ctx, charge.Filters{})
	if pv.Count != 0 || len(pv.Skipped) != 1 || !strings.Contains(pv.Skipped[0].Skip, "needs review") {
		t.Fatalf("preview %+v", pv)
	}
	if audit, _ := e.db.AuditLog(e.ctx, "charge.review", 5); len(audit) != 1 {
		t.Fatalf("audit %+v", audit)
	}
	// Staff checked the gateway portal: nothing there.
	if _, err := en.ResolveReview(e.ctx, a.ID, charge.DecideNotCharged, "ops@example.com"); err != nil {
		t.Fatal(err)
	}
	e.nightly(en)
	e.settleAll(en)
	if n := e.bankDebits(cust); n != 1 {
		t.Fatalf("%d debits after the decision, want 1", n)
	}
	if s, _ := e.invoiceStatus(inv); s != "paid" {
		t.Fatalf("invoice %s", s)
	}
	e.checkLedgers()
}

// (c, IPpay) A request IPpay refuses as malformed (921, not retryable) is
// sent once over ten nights, not once a night.
func TestHardDeclineNotChargedEveryNightIPpay(t *testing.T) {
	e := newEnv(t, gwIPpay)
	cust := e.customer("Format Error", "card")
	e.invoice(cust, "21.00", "")
	e.sync()
	e.pp.SetFault(ippaysim.Fault{Types: []string{"SALE"}, EchoRequest: true})
	en := e.engine()
	for range 10 {
		e.nightly(en)
		e.cycle(en)
		e.clk.Advance(24 * time.Hour)
	}
	as := e.attempts()
	if len(as) != 1 || as[0].State != store.StateDeclined || as[0].Retryable {
		t.Fatalf("ten nights made %d attempts (%+v), want one non-retryable decline", len(as), as)
	}
	pv, _ := en.Preview(e.ctx, charge.Filters{})
	if pv.Count != 0 || len(pv.Skipped) != 1 || !strings.Contains(pv.Skipped[0].Skip, "not retryable") {
		t.Fatalf("preview %+v", pv)
	}
}

// late_settlement=refund: the superseded charge is recorded, then refunded
// at the gateway; Splynx ends with the one payment on the invoice.
func TestLateSettlementRefunded(t *testing.T) {
	e := newEnv(t, gwIntegra)
	e.set.LateSettlement = "refund"
	cust := e.customer("Refund Me", "bank")
	inv := e.invoice(cust, "40.00", "")
	e.sync()
	e.ip.SetFault("payers/*/schedules/payments", integrapaysim.Fault{Method: "POST", LoseResponse: true, Times: 1})
	en := e.engine()
	e.nightly(en)
	a := e.attempts()[0]
	if err := e.db.TransitionAttempt(e.ctx, a.ID, []store.AttemptState{store.StateUnknown}, store.StateDeclined,
		store.Change{Code: charge.CodeNotSent, Resolved: true}, e.clk.Now(), nil); err != nil {
		t.Fatal(err)
	}
	e.nightly(en)
	for range 6 {
		e.advance(1)
		e.cycle(en)
	}
	var sup store.ChargeAttempt
	for _, x := range e.attempts() {
		if x.Superseded {
			sup = x
		}
	}
	refunded := 0
	for _, en := range e.ip.Ledger() {
		if en.Refunded == en.Amount && en.Amount > 0 {
			refunded++
			if en.Reference != sup.Reference {
				t.Errorf("refunded %s, but the superseded attempt is %q", en.Reference, sup.Reference)
			}
		}
	}
	if refunded != 1 {
		t.Fatalf("%d debits refunded, want the superseded one: %+v", refunded, e.ip.Ledger())
	}
	var onInvoice int
	for _, p := range e.sp.Payments() {
		if p.InvoiceID == inv && p.Amount > 0 {
			onInvoice++
		}
	}
	if onInvoice != 1 {
		t.Fatalf("payments on the invoice: %d, want 1: %+v", onInvoice, e.sp.Payments())
	}
	if s, _ := e.invoiceStatus(inv); s != "paid" {
		t.Fatalf("invoice %s", s)
	}
	e.checkLedgers()
}
