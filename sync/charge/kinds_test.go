package charge_test

import (
	"testing"
	"time"

	"github.com/splynx-pay/splynx-pay/gateways/integrapay/integrapaysim"
	"github.com/splynx-pay/splynx-pay/gateways/ippay"
	"github.com/splynx-pay/splynx-pay/internal/money"
	"github.com/splynx-pay/splynx-pay/splynx/splynxsim"
	"github.com/splynx-pay/splynx-pay/store"
	"github.com/splynx-pay/splynx-pay/sync/charge"
)

func TestProformasRefillsAndBalances(t *testing.T) {
	e := newEnv(t, gwIntegra)
	pfCust := e.customer("Pro Forma", "card")
	pf := e.sp.AddProforma(splynxsim.Proforma{CustomerID: pfCust, Total: money.MustParse("70.00"), Status: "not_paid",
		Items: []splynxsim.InvoiceItem{{Description: "Install", Quantity: 1, Price: money.MustParse("70.00")}}})
	balCust := e.customer("Bal Ance", "bank")
	e.sp.SetBilling(balCust, func(b *splynxsim.Billing) { b.Deposit = money.MustParse("-125.50") })
	posCust := e.customer("In Credit", "card")
	e.sp.SetBilling(posCust, func(b *splynxsim.Billing) { b.Deposit = money.MustParse("10.00") })
	refCust := e.customer("Re Fill", "card")
	e.sync()
	en := e.engine()

	// Proformas: charged their total, paid by request_id.
	res, err := en.Run(e.ctx, charge.Filters{Mode: charge.ModeProformas}, charge.RunOptions{})
	if err != nil || res.Progress.Approved != 1 {
		t.Fatalf("proforma run %+v %v", res, err)
	}
	// Outstanding balance: the negative deposit is charged, not invoices.
	pv, err := en.Preview(e.ctx, charge.Filters{Mode: charge.ModeBalance})
	if err != nil || pv.Count != 1 || pv.DueSum != 12550 || pv.Items[0].CustomerID != balCust {
		t.Fatalf("balance preview %+v %v", pv, err)
	}
	if _, err := en.Run(e.ctx, charge.Filters{Mode: charge.ModeBalance}, charge.RunOptions{}); err != nil {
		t.Fatal(err)
	}
	// A refill of a given amount.
	a, skip, err := en.ChargeOne(e.ctx, charge.Item{Kind: store.KindRefill, CustomerID: refCust, Amount: 2500},
		charge.SourcePortal, "customer")
	if err != nil || skip != "" || a.State != store.StateApproved {
		t.Fatalf("refill %+v %q %v", a, skip, err)
	}
	e.settleAll(en)
	e.checkLedgers()

	if p, _ := e.sp.Proforma(pf); p.Status != "paid" {
		t.Errorf("proforma is %s", p.Status)
	}
	if b, _ := e.sp.Billing(balCust); b.Deposit != 0 {
		t.Errorf("balance after the outstanding-balance charge is %s", b.Deposit)
	}
	if b, _ := e.sp.Billing(refCust); b.Deposit != 2500 {
		t.Errorf("refilled balance %s", b.Deposit)
	}
	for _, p := range e.sp.Payments() {
		switch p.CustomerID {
		case pfCust:
			if p.RequestID != pf || p.InvoiceID != 0 {
				t.Errorf("proforma payment %+v", p)
			}
		case refCust, balCust:
			if p.RequestID != 0 || p.InvoiceID != 0 {
				t.Errorf("balance payment linked to a document: %+v", p)
			}
		}
		if p.PaymentType != methodCard && p.PaymentType != methodBank {
			t.Errorf("payment type %d", p.PaymentType)
		}
	}
	// The balance is now zero: nothing more to charge.
	e.sync()
	if pv, _ := en.Preview(e.ctx, charge.Filters{Mode: charge.ModeBalance}); pv.Count != 0 {
		t.Errorf("balance still offered: %+v", pv.Items)
	}
}

// A customer pays an invoice in the portal while the nightly run is
// charging: the re-read right before the charge sees it and skips.
func TestPortalPaymentDuringRun(t *testing.T) {
	e := newEnv(t, gwIntegra)
	a := e.customer("First Payer", "card")
	b := e.customer("Portal Payer", "card")
	invA := e.invoice(a, "20.00", "")
	invB := e.invoice(b, "30.00", "")
	e.sync()
	paid := false
	e.hooks.BeforeSend = func(at store.ChargeAttempt) error {
		if !paid {
			paid = true
			// Meanwhile, in the portal, b pays the whole invoice.
			if _, err := e.sp.AddPayment(splynxsim.Payment{CustomerID: b, InvoiceID: invB, PaymentType: 1,
				Amount: money.MustParse("30.00"), ReceiptNumber: "PORTAL-1"}); err != nil {
				t.Error(err)
			}
		}
		return nil
	}
	res, err := e.engine().Run(e.ctx, charge.Filters{}, charge.RunOptions{Concurrency: 1})
	if err != nil {
		t.Fatal(err)
	}
	if res.Progress.Approved != 1 || res.Progress.Skipped != 1 {
		t.Fatalf("progress %+v", res.Progress)
	}
	e.hooks = charge.Hooks{}
	e.settleAll(e.engine())
	e.checkLedgers()
	if st, _ := e.invoiceStatus(invA); st != "paid" {
		t.Errorf("invoice A %s", st)
	}
	if n := len(e.sp.Payments()); n != 2 {
		t.Errorf("%d payments, want ours and the portal's", n)
	}
	errs, _ := e.db.RunLog(e.ctx, res.RunID, store.LogError)
	if len(errs) != 1 {
		t.Errorf("error log %v", errs)
	}
}

// A retryable decline is retried after retry_days as a new attempt with a
// new reference; a hard decline marks the method and stops.
func TestRetriesAndHardDeclines(t *testing.T) {
	e := newEnv(t, gwIntegra)
	e.set.AutoCharge = true
	soft := e.customer("Soft Decline", "card")
	hard := e.customer("Hard Decline", "card")
	invSoft := e.invoice(soft, "20.61", "") // .61 insufficient funds
	invHard := e.invoice(hard, "20.31", "") // .31 invalid card
	e.sync()
	en := e.engine()
	res, err := en.Run(e.ctx, charge.Filters{}, charge.RunOptions{})
	if err != nil || res.Progress.Declined != 2 {
		t.Fatalf("run %+v %v", res.Progress, err)
	}
	first, _ := e.db.LatestAttempt(e.ctx, "invoice:"+itoa(invSoft))
	if !first.Retryable || first.NextRetryAt.Sub(e.clk.Now()) != 3*24*time.Hour {
		t.Fatalf("soft decline %+v", first)
	}
	ms, _ := e.db.ListMethods(e.ctx, hard)
	if len(ms) != 1 || ms[0].Status != store.MethodNeedsUpdate {
		t.Fatalf("hard-declined method %+v", ms)
	}
	// Not before the retry date, and the nightly run leaves it alone.
	if pv, _ := en.Preview(e.ctx, charge.Filters{}); pv.Count != 0 {
		t.Fatalf("preview offers %+v", pv.Items)
	}
	if st, _ := en.Retry(e.ctx); st.Charged != 0 {
		t.Fatal("retried early")
	}
	// The customer paid 0.61 in cash meanwhile: the retry charges the new due.
	if _, err := e.sp.AddPayment(splynxsim.Payment{CustomerID: soft, InvoiceID: invSoft, PaymentType: 1,
		Amount: money.MustParse("0.61"), ReceiptNumber: "CASH-1"}); err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(3*24*time.Hour + time.Minute)
	st, err := en.Retry(e.ctx)
	if err != nil || st.Charged != 1 {
		t.Fatalf("retry %+v %v", st, err)
	}
	second := st.Attempts[0]
	if second.AttemptNo != 2 || second.RetryOf != first.ID || second.Reference == first.Reference ||
		second.Amount != 2000 || second.State != store.StateApproved {
		t.Fatalf("retry attempt %+v", second)
	}
	e.settleAll(en)
	e.checkLedgers()
	if s, _ := e.invoiceStatus(invSoft); s != "paid" {
		t.Errorf("soft invoice %s", s)
	}
	// An admin retries the hard decline after the customer saved a new
	// card: a second attempt, once only.
	e.save(hard, "card")
	hardFirst, _ := e.db.LatestAttempt(e.ctx, "invoice:"+itoa(invHard))
	a, skip, err := en.RetryNow(e.ctx, hardFirst.ID, "admin")
	if err != nil || skip != "" || a.AttemptNo != 2 || a.RetryOf != hardFirst.ID {
		t.Fatalf("retry now: %+v %q %v", a, skip, err)
	}
	if _, _, err := en.RetryNow(e.ctx, hardFirst.ID, "admin"); err == nil {
		t.Fatal("the same attempt was retried twice")
	}
}

// A retryable decline retried until max_attempts, then left alone.
func TestRetriesStopAtMaxAttempts(t *testing.T) {
	e := newEnv(t, gwIntegra)
	e.set.AutoCharge = true
	c := e.customer("Always Broke", "card")
	inv := e.invoice(c, "9.61", "")
	e.sync()
	en := e.engine()
	if _, err := en.Run(e.ctx, charge.Filters{}, charge.RunOptions{}); err != nil {
		t.Fatal(err)
	}
	for range 30 {
		e.clk.Advance(24 * time.Hour)
		if _, err := en.Retry(e.ctx); err != nil {
			t.Fatal(err)
		}
	}
	as := e.attempts()
	if len(as) != 3 {
		t.Fatalf("%d attempts, want max_attempts=3", len(as))
	}
	if pv, _ := en.Preview(e.ctx, charge.Filters{}); pv.Count != 0 || len(pv.Skipped) != 1 {
		t.Fatalf("preview after max attempts %+v", pv)
	}
	if s, _ := e.invoiceStatus(inv); s != "not_paid" {
		t.Errorf("invoice %s", s)
	}
	e.checkLedgers()
}

// A retry is the daemon charging on its own: with auto_charge=0 a due
// retry waits (nothing reaches the gateway) and goes out once auto_charge
// is turned on.
func TestRetriesWaitForAutoCharge(t *testing.T) {
	for _, kind := range []string{gwIntegra, gwIPpay} {
		t.Run(kind, func(t *testing.T) {
			e := newEnv(t, kind)
			c := e.customer("Soft Decline", "card")
			amount := "20.61" // IntegraPay simulator: insufficient funds
			if kind == gwIPpay {
				amount = "20.51" // IPpay simulator: ActionCode 051, insufficient funds
			}
			e.invoice(c, amount, "")
			e.sync()
			en := e.engine()
			if res, err := en.Run(e.ctx, charge.Filters{}, charge.RunOptions{}); err != nil || res.Progress.Declined != 1 {
				t.Fatalf("run %+v %v", res, err)
			}
			e.clk.Advance(8 * 24 * time.Hour)
			for range 3 {
				st, err := en.Retry(e.ctx)
				if err != nil || st.Due != 1 || st.Charged != 0 {
					t.Fatalf("retry with auto_charge=0: %+v %v", st, err)
				}
				e.cycle(en)
			}
			if _, seen := e.gatewayApproved(); len(seen) != 1 || len(e.attempts()) != 1 {
				t.Fatalf("with auto_charge=0 the gateway saw %d references, %d attempts; want the first only", len(seen), len(e.attempts()))
			}
			e.set.AutoCharge = true
			st, err := e.engine().Retry(e.ctx)
			if err != nil || st.Charged != 1 || st.Attempts[0].AttemptNo != 2 {
				t.Fatalf("retry with auto_charge=1: %+v %v", st, err)
			}
			if _, seen := e.gatewayApproved(); len(seen) != 2 {
				t.Fatalf("the gateway saw %d references after the retry, want 2", len(seen))
			}
		})
	}
}

// A settled bank debit dishonoured later: the Splynx payment goes, the
// invoice opens again, the attempt is reversed; a dishonour fee is added.
func TestLateDishonour(t *testing.T) {
	e := newEnv(t, gwIntegra)
	e.set.DishonourFee = money.MustParse("9.90")
	c := e.customer("Late Return", "bank")
	inv := e.invoice(c, "55.29", "") // .29 settles, then a late R12
	e.sync()
	en := e.engine()
	if _, err := en.Run(e.ctx, charge.Filters{}, charge.RunOptions{}); err != nil {
		t.Fatal(err)
	}
	recorded := false
	for range 10 {
		e.cycle(en)
		if a := e.attempts()[0]; a.State == store.StateRecorded {
			recorded = true
		}
		e.advance(1)
	}
	e.cycle(en)
	if !recorded {
		t.Fatal("never recorded before the dishonour")
	}
	a := e.attempts()[0]
	if a.State != store.StateReversed {
		t.Fatalf("attempt %s, want reversed", a.State)
	}
	if s, due := e.invoiceStatus(inv); s != "not_paid" || due != money.MustParse("55.29") {
		t.Errorf("invoice %s due %s", s, due)
	}
	rv, _ := e.db.ListReversals(e.ctx, a.ID)
	if len(rv) != 1 || (rv[0].Kind != "dishonour" && rv[0].Kind != "chargeback") || rv[0].Code != "R12" {
		t.Errorf("reversals %+v", rv)
	}
	if au, _ := e.db.AuditLog(e.ctx, "charge."+rv[0].Kind, 0); len(au) != 1 {
		t.Errorf("audit rows for the reversal: %+v", au)
	}
	fees := 0
	for _, tr := range e.sp.Transactions() {
		if tr.CustomerID == c && tr.Type == "debit" && tr.Total == money.MustParse("9.90") {
			fees++
		}
	}
	if fees != 1 {
		t.Errorf("%d dishonour fees", fees)
	}
	e.checkLedgers()
}

// The dishonour fee's POST is applied by Splynx but its answer is lost:
// the next write-back finds the fee by its comment and adds no second one.
func TestDishonourFeeOnceAfterLostAnswer(t *testing.T) {
	e := newEnv(t, gwIntegra)
	e.set.DishonourFee = money.MustParse("9.90")
	c := e.customer("Late Return Lost Answer", "bank")
	e.invoice(c, "55.29", "") // .29 settles, then a late R12
	e.sync()
	en := e.engine()
	if _, err := en.Run(e.ctx, charge.Filters{}, charge.RunOptions{}); err != nil {
		t.Fatal(err)
	}
	e.sp.SetFault("admin/finance/transactions", splynxsim.Fault{DropAfterRate: 1, Method: "POST", Times: 1})
	for range 12 {
		e.cycle(en)
		e.advance(1)
	}
	e.cycle(en)
	a := e.attempts()[0]
	if a.State != store.StateReversed {
		t.Fatalf("attempt %s, want reversed", a.State)
	}
	var fees []splynxsim.Transaction
	for _, tr := range e.sp.Transactions() {
		if tr.CustomerID == c && tr.Type == "debit" {
			fees = append(fees, tr)
		}
	}
	if len(fees) != 1 || fees[0].Total != money.MustParse("9.90") || fees[0].Comment != a.Reference+" dishonour-fee" {
		t.Fatalf("dishonour fee transactions %+v, want one of 9.90 commented %q", fees, a.Reference+" dishonour-fee")
	}
	items, err := e.db.ListOutbox(e.ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	done := false
	for _, it := range items {
		if it.Action == store.OutboxDishonourFee {
			done = it.Status == "done" && it.ResultID == fees[0].ID && it.Tries >= 1
		}
	}
	if !done {
		t.Errorf("dishonour fee outbox item not done with transaction %d after a failed try: %+v", fees[0].ID, items)
	}
	e.checkLedgers()
}

// IPpay ACH: approved once the return window passes; a return after that
// reverses it, and an imported returns file applies idempotently.
func TestACHReturns(t *testing.T) {
	// The returns report is an inferred source (specs/ippay.md).
	inferredOn = true
	t.Cleanup(func() { inferredOn = false })
	e := newEnv(t, gwIPpay)
	ok := e.customer("ACH Fine", "bank")
	bad := e.customer("ACH Returned", "bank")
	e.invoice(ok, "40.00", "")
	invBad := e.invoice(bad, "60.00", "")
	e.sync()
	en := e.engine()
	if _, err := en.Run(e.ctx, charge.Filters{}, charge.RunOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, a := range e.attempts() {
		if a.State != store.StatePending || a.SettlesBy.IsZero() {
			t.Fatalf("ACH attempt %+v", a)
		}
	}
	e.settleAll(en)
	badAtt, _ := e.db.LatestAttempt(e.ctx, "invoice:"+itoa(invBad))
	if badAtt.State != store.StateRecorded {
		t.Fatalf("ACH not recorded after the window: %s", badAtt.State)
	}
	if err := e.pp.InjectReturn(ippay.TransactionID(badAtt.Reference), "R01"); err != nil {
		t.Fatal(err)
	}
	e.cycle(en)
	e.restart() // the IPpay client's acks are in memory: the rows come back
	en = e.engine()
	e.cycle(en)
	e.cycle(en)
	badAtt, _ = e.db.GetAttempt(e.ctx, badAtt.ID)
	if badAtt.State != store.StateReversed {
		t.Fatalf("returned ACH is %s", badAtt.State)
	}
	if s, _ := e.invoiceStatus(invBad); s != "not_paid" {
		t.Errorf("returned invoice %s", s)
	}
	if rv, _ := e.db.ListReversals(e.ctx, 0); len(rv) != 1 {
		t.Errorf("reversals %+v", rv)
	}
	e.checkLedgers()
}

// Refunds: full (payment deleted) and partial (negative payment).
func TestRefunds(t *testing.T) {
	e := newEnv(t, gwIntegra)
	full := e.customer("Full Refund", "card")
	part := e.customer("Part Refund", "card")
	invFull := e.invoice(full, "30.00", "")
	e.invoice(part, "50.00", "")
	e.sync()
	en := e.engine()
	if _, err := en.Run(e.ctx, charge.Filters{}, charge.RunOptions{}); err != nil {
		t.Fatal(err)
	}
	e.settleAll(en)
	e.checkLedgers()
	byCust := map[int64]store.ChargeAttempt{}
	for _, a := range e.attempts() {
		byCust[a.CustomerID] = a
	}
	if _, err := en.Refund(e.ctx, byCust[full].ID, 0, "service cancelled"); err != nil {
		t.Fatal(err)
	}
	e.set.RefundMode = "negative"
	en = e.engine()
	if _, err := en.Refund(e.ctx, byCust[part].ID, 1000, "goodwill"); err != nil {
		t.Fatal(err)
	}
	if _, err := en.Refund(e.ctx, byCust[part].ID, 5000, "too much"); err == nil {
		t.Fatal("refund above what is left was accepted")
	}
	if _, err := en.WriteBack(e.ctx); err != nil {
		t.Fatal(err)
	}
	if s, _ := e.invoiceStatus(invFull); s != "not_paid" {
		t.Errorf("fully refunded invoice is %s", s)
	}
	a, _ := e.db.GetAttempt(e.ctx, byCust[full].ID)
	if a.State != store.StateReversed {
		t.Errorf("fully refunded attempt %s", a.State)
	}
	var neg money.Amount
	for _, p := range e.sp.Payments() {
		if p.CustomerID == part && p.Amount < 0 {
			neg += p.Amount
		}
	}
	if neg != -1000 {
		t.Errorf("negative payments for the partial refund: %s", neg)
	}
	rvs, _ := e.db.ListReversals(e.ctx, 0)
	if len(rvs) != 2 || rvs[0].State != store.ReversalDone || rvs[1].State != store.ReversalDone {
		t.Errorf("refund rows %+v", rvs)
	}
	var refunded int64
	for _, en := range e.ip.Ledger() {
		refunded += en.Refunded
	}
	if refunded != 3000+1000 {
		t.Errorf("gateway refunded %d", refunded)
	}
}

// Payer sync pushes changed customer details to IntegraPay.
func TestPayerSync(t *testing.T) {
	e := newEnv(t, gwIntegra)
	c := e.customer("Pat Payer", "card")
	e.sync()
	en := e.engine()
	if n, err := en.SyncPayers(e.ctx); err != nil || n != 0 {
		t.Fatalf("first sync %d %v", n, err) // records the fingerprint only
	}
	e.sp.UpdateCustomer(c, func(cu *splynxsim.Customer) { cu.Email = "new.address@example.com"; cu.Phone = "0400000000" })
	e.sync()
	if n, err := en.SyncPayers(e.ctx); err != nil || n != 1 {
		t.Fatalf("sync after change %d %v", n, err)
	}
	p, ok := e.ip.Payer(itoa(c))
	if !ok || p.Email != "new.address@example.com" || p.Phone != "0400000000" {
		t.Fatalf("payer at the gateway %+v", p)
	}
	if n, _ := en.SyncPayers(e.ctx); n != 0 {
		t.Fatalf("unchanged payer pushed again")
	}
	_ = integrapaysim.DefaultBusinessID
}

// Fees (service fee + VAT, off by default) are charged with the invoice and
// booked as a Splynx debit when add_fee_to_request is on; with payment_statements each recorded charge is
// logged in the statement "<Gateway> mm/YYYY".
func TestFeesAndPaymentStatements(t *testing.T) {
	e := newEnv(t, gwIntegra)
	e.set.ServiceFeePercent = 250 // 2.50%
	e.set.FeeVATPercent = 1000    // 10% of the fee
	e.set.AddFeeToRequest = true
	e.set.PaymentStatements = true
	c := e.customer("Fee Payer", "card")
	inv := e.invoice(c, "100.00", "")
	e.sync()
	en := e.engine()
	res, err := en.Run(e.ctx, charge.Filters{}, charge.RunOptions{})
	if err != nil || res.Progress.Approved != 1 {
		t.Fatalf("run %+v %v", res, err)
	}
	e.settleAll(en)
	e.checkLedgers()
	a := e.attempts()[0]
	if a.Amount != 10275 || a.Fee != 275 {
		t.Fatalf("charged %d with fee %d, want 10275 and 275", a.Amount, a.Fee)
	}
	if s, _ := e.invoiceStatus(inv); s != "paid" {
		t.Errorf("invoice %s", s)
	}
	fees := 0
	for _, tr := range e.sp.Transactions() {
		if tr.CustomerID == c && tr.Type == "debit" && tr.Total == 275 {
			fees++
		}
	}
	if fees != 1 {
		t.Errorf("%d fee transactions", fees)
	}
	if b, _ := e.sp.Billing(c); b.Deposit != 0 {
		t.Errorf("balance after invoice, payment and fee: %s", b.Deposit)
	}
	sts := e.sp.BankStatements()
	recs := e.sp.BankStatementRecords()
	if len(sts) != 1 || sts[0].Title != "IntegraPay 11/2026" || len(recs) != 1 || recs[0].PaymentID != a.SplynxPaymentID {
		t.Errorf("statements %+v records %+v", sts, recs)
	}
}

// add_fee_to_request off (the default): a service fee percentage is not
// added to what the customer is charged, and no fee transaction is booked.
func TestFeeNotAddedToRequestByDefault(t *testing.T) {
	e := newEnv(t, gwIntegra)
	e.set.ServiceFeePercent = 250
	c := e.customer("No Fee Added", "card")
	inv := e.invoice(c, "100.00", "")
	e.sync()
	en := e.engine()
	if _, err := en.Run(e.ctx, charge.Filters{}, charge.RunOptions{}); err != nil {
		t.Fatal(err)
	}
	e.settleAll(en)
	e.checkLedgers()
	if a := e.attempts()[0]; a.Amount != 10000 || a.Fee != 0 {
		t.Fatalf("charged %d with fee %d, want 10000 and no fee", a.Amount, a.Fee)
	}
	for _, tr := range e.sp.Transactions() {
		if tr.CustomerID == c && tr.Type == "debit" && tr.Total != 10000 {
			t.Errorf("unexpected debit %+v", tr)
		}
	}
	if s, _ := e.invoiceStatus(inv); s != "paid" {
		t.Errorf("invoice %s", s)
	}
}
