package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/splynx-pay/splynx-pay/gateways/integrapay/integrapaysim"
	"github.com/splynx-pay/splynx-pay/store"
	"github.com/splynx-pay/splynx-pay/sync/charge"
)

func TestCustomerTabShowsMethodDocumentsAndPayer(t *testing.T) {
	st := newStaffSite(t)
	c := st.admin(t)
	code, page := st.get(t, c, fmt.Sprintf("/admin/customer?id=%d", st.bank))
	if code != http.StatusOK {
		t.Fatalf("%d: %.300s", code, page)
	}
	for _, want := range []string{"Bert Bank", "BSB 062-", "ddr-v1", "198.51.100.7", "30.00", "Pay now",
		"IntegraPay payer", "Sync payer now", "ACTIVE"} {
		if !strings.Contains(page, want) {
			t.Errorf("the tab does not show %q", want)
		}
	}
	if strings.Contains(page, "12345678") {
		t.Fatal("the full account number reached the page")
	}
	// The customer without a method gets no Pay now button.
	_, page = st.get(t, c, fmt.Sprintf("/admin/customer?id=%d", st.none))
	if !strings.Contains(page, "No saved method") || strings.Contains(page, "pay-now") {
		t.Errorf("no-method customer: %.500s", page)
	}
}

func TestCustomerTabUnknownOrBadCustomer(t *testing.T) {
	st := newStaffSite(t)
	c := st.admin(t)
	if code, body := st.get(t, c, "/admin/customer?id=999"); code != http.StatusNotFound || !strings.Contains(body, "999") {
		t.Errorf("unknown customer: %d %s", code, body)
	}
	if code, body := st.get(t, c, fmt.Sprintf("/admin/customer?customer_id=%d", st.card)); code != http.StatusOK || !strings.Contains(body, "Carla Card") {
		t.Errorf("customer_id=: %d", code)
	}
	for _, q := range []string{"", "?id=abc", "?id=-4"} {
		if code, _ := st.get(t, c, "/admin/customer"+q); code != http.StatusBadRequest {
			t.Errorf("%q: %d", q, code)
		}
	}
	// A forged POST for an unknown customer charges nothing.
	code, _, _ := st.post(t, c, "/admin/customer/pay", url.Values{"id": {"999"}, "kind": {"invoice"},
		"doc": {fmt.Sprint(st.invCard)}, "confirm": {"1"}})
	if code != http.StatusNotFound || len(st.ip.Ledger()) != 0 {
		t.Errorf("pay for an unknown customer: %d, ledger %d", code, len(st.ip.Ledger()))
	}
	// Someone else's invoice through this customer's tab: refused.
	code, _, _ = st.post(t, c, "/admin/customer/pay", url.Values{"id": {fmt.Sprint(st.none)}, "kind": {"invoice"},
		"doc": {fmt.Sprint(st.invCard)}, "confirm": {"1"}})
	if code != http.StatusNotFound || len(st.ip.Ledger()) != 0 {
		t.Errorf("pay of another customer's invoice: %d, ledger %d", code, len(st.ip.Ledger()))
	}
}

func TestPayNowConfirmsChargesOnceAndShowsTheResult(t *testing.T) {
	st := newStaffSite(t)
	c := st.admin(t)
	_, page := st.get(t, c, fmt.Sprintf("/admin/customer?id=%d&confirm=pay&kind=invoice&doc=%d", st.card, st.invCard))
	if !strings.Contains(page, "Charge 50.00 now") || !strings.Contains(page, "Visa") {
		t.Fatalf("confirm step: %.2000s", page)
	}
	form := url.Values{"id": {fmt.Sprint(st.card)}, "kind": {"invoice"}, "doc": {fmt.Sprint(st.invCard)}}
	if code, _, _ := st.post(t, c, "/admin/customer/pay", form); code != http.StatusBadRequest || len(st.ip.Ledger()) != 0 {
		t.Fatalf("unconfirmed pay: %d", code)
	}
	form.Set("confirm", "1")
	code, loc, _ := st.post(t, c, "/admin/customer/pay", form)
	if code != http.StatusSeeOther {
		t.Fatalf("pay: %d", code)
	}
	page = st.follow(t, c, loc)
	if !strings.Contains(page, "50.00 AUD — approved") {
		t.Fatalf("result: %.3000s", page)
	}
	if n, amt, _ := st.gatewayCharges(fmt.Sprint(st.card)); n != 1 || amt != 5000 {
		t.Fatalf("gateway: %d charges, %d", n, amt)
	}
	if len(st.sp.Payments()) != 1 {
		t.Fatalf("Splynx payments: %d", len(st.sp.Payments()))
	}
	// Clicking again: Splynx says the invoice is paid, nothing is charged.
	code, _, body := st.post(t, c, "/admin/customer/pay", form)
	if code != http.StatusConflict || !strings.Contains(body, "Not charged") {
		t.Fatalf("second pay: %d %.500s", code, body)
	}
	if n, _, _ := st.gatewayCharges(fmt.Sprint(st.card)); n != 1 {
		t.Fatalf("second click charged again: %d", n)
	}
	rows := st.trail(t, st.card)
	if !hasTrail(rows, "staff.pay_now", "admin #1") || !hasTrail(rows, "charge.approved", "admin #1") || !hasTrail(rows, "charge.written_back", "") {
		t.Fatalf("trail: %+v", rows)
	}
}

// A bank debit stays pending: a second click shows the live attempt.
func TestPayNowWhileAnAttemptIsLiveShowsIt(t *testing.T) {
	st := newStaffSite(t)
	c := st.admin(t)
	form := url.Values{"id": {fmt.Sprint(st.bank)}, "kind": {"invoice"}, "doc": {fmt.Sprint(st.invBank)}, "confirm": {"1"}}
	code, loc, _ := st.post(t, c, "/admin/customer/pay", form)
	if code != http.StatusSeeOther {
		t.Fatalf("pay: %d", code)
	}
	if page := st.follow(t, c, loc); !strings.Contains(page, "pending") {
		t.Fatalf("result: %.2000s", page)
	}
	_, page := st.get(t, c, fmt.Sprintf("/admin/customer?id=%d&confirm=pay&kind=invoice&doc=%d", st.bank, st.invBank))
	if !strings.Contains(page, "already under way") {
		t.Errorf("the confirm step does not warn of the live attempt")
	}
	code, _, body := st.post(t, c, "/admin/customer/pay", form)
	if code != http.StatusConflict || !strings.Contains(body, "already under way") || !strings.Contains(body, "pending") {
		t.Fatalf("second pay: %d %.800s", code, body)
	}
	if n, _, _ := st.gatewayCharges(fmt.Sprint(st.bank)); n != 1 {
		t.Fatalf("gateway has %d debits", n)
	}
}

// The nightly run (another engine, as another process) and Pay now on the
// same invoice at the same moment: the gateway sees one charge.
func TestPayNowRacingTheNightlyRunChargesOnce(t *testing.T) {
	st := newStaffSite(t)
	c := st.admin(t)
	// Slow card charges keep each side's request on the wire while the
	// other one starts.
	st.ip.SetFault("payers/*/transactions/card", integrapaysim.Fault{Latency: 300 * time.Millisecond})
	form := url.Values{"id": {fmt.Sprint(st.card)}, "kind": {"invoice"}, "doc": {fmt.Sprint(st.invCard)}, "confirm": {"1"}}
	var wg sync.WaitGroup
	var runErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		_, runErr = st.en.Run(context.Background(), charge.Filters{Mode: charge.ModeInvoices},
			charge.RunOptions{Source: charge.SourceAuto, StartedBy: "schedule"})
	}()
	// Wait for the run to claim the invoice, then press Pay now.
	key := fmt.Sprintf("invoice:%d", st.invCard)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if a, err := st.db.LatestAttempt(context.Background(), key); err == nil && a.State.Live() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the nightly run never claimed the invoice")
		}
		time.Sleep(5 * time.Millisecond)
	}
	code, _, body := st.post(t, c, "/admin/customer/pay", form)
	wg.Wait()
	if runErr != nil {
		t.Fatal(runErr)
	}
	if code != http.StatusConflict || !strings.Contains(body, "Not charged") {
		t.Errorf("pay during the run: %d %.500s", code, body)
	}
	n := 0
	for _, e := range st.ip.Ledger() {
		if e.Amount == 5000 {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("the 50.00 invoice was charged %d times", n)
	}
	as, _ := st.db.ListAttempts(context.Background(), store.AttemptFilter{ChargeKey: key})
	if len(as) != 1 {
		t.Fatalf("%d attempts of the invoice", len(as))
	}
}

func TestRefundAsksTheAmountAndRecordsTheAdmin(t *testing.T) {
	st := newStaffSite(t)
	c := st.admin(t)
	_, loc, _ := st.post(t, c, "/admin/customer/pay", url.Values{"id": {fmt.Sprint(st.card)}, "kind": {"invoice"},
		"doc": {fmt.Sprint(st.invCard)}, "confirm": {"1"}})
	a, err := st.db.LatestAttempt(context.Background(), fmt.Sprintf("invoice:%d", st.invCard))
	if err != nil || a.State != store.StateRecorded {
		t.Fatalf("attempt %+v %v (after %s)", a, err, loc)
	}
	_, page := st.get(t, c, fmt.Sprintf("/admin/customer?id=%d&confirm=refund&attempt=%d", st.card, a.ID))
	if !strings.Contains(page, "Amount to refund") || !strings.Contains(page, "50.00 can still be refunded") {
		t.Fatalf("refund confirm: %.2000s", page)
	}
	form := url.Values{"id": {fmt.Sprint(st.card)}, "attempt": {fmt.Sprint(a.ID)}, "amount": {"25.00"}}
	if code, _, _ := st.post(t, c, "/admin/customer/refund", form); code != http.StatusBadRequest {
		t.Fatalf("unconfirmed refund: %d", code)
	}
	form.Set("confirm", "1")
	form.Set("amount", "lots")
	if code, _, body := st.post(t, c, "/admin/customer/refund", form); code != http.StatusBadRequest || !strings.Contains(body, "give the amount") {
		t.Fatalf("bad amount: %d", code)
	}
	form.Set("amount", "60.00")
	if code, _, _ := st.post(t, c, "/admin/customer/refund", form); code != http.StatusConflict {
		t.Fatalf("refund above the charge: %d", code)
	}
	form.Set("amount", "25.00")
	code, loc, _ := st.post(t, c, "/admin/customer/refund", form)
	if code != http.StatusSeeOther {
		t.Fatalf("refund: %d", code)
	}
	page = st.follow(t, c, loc)
	if !strings.Contains(page, "refunded 25.00") {
		t.Fatalf("page after the refund: %.3000s", page)
	}
	if _, _, refunded := st.gatewayCharges(fmt.Sprint(st.card)); refunded != 2500 {
		t.Fatalf("gateway refunded %d", refunded)
	}
	rows := st.trail(t, st.card)
	if !hasTrail(rows, "staff.refund", "admin #1") || !hasTrail(rows, "refund", "") {
		t.Fatalf("trail: %+v", rows)
	}
	for _, r := range rows {
		if r.Kind == "staff.refund" && (r.Amount != 2500 || r.IP != "203.0.113.9") {
			t.Errorf("staff refund row: %+v", r)
		}
	}
}

func TestRetryADeclineFromTheTab(t *testing.T) {
	st := newStaffSite(t)
	c := st.admin(t)
	code, loc, _ := st.post(t, c, "/admin/customer/pay", url.Values{"id": {fmt.Sprint(st.card)}, "kind": {"invoice"},
		"doc": {fmt.Sprint(st.invDecl)}, "confirm": {"1"}})
	if code != http.StatusSeeOther {
		t.Fatalf("pay: %d", code)
	}
	if page := st.follow(t, c, loc); !strings.Contains(page, "declined") {
		t.Fatalf("decline not shown: %.2000s", page)
	}
	a, _ := st.db.LatestAttempt(context.Background(), fmt.Sprintf("invoice:%d", st.invDecl))
	_, page := st.get(t, c, fmt.Sprintf("/admin/customer?id=%d", st.card))
	if !strings.Contains(page, fmt.Sprintf("confirm=retry&amp;attempt=%d", a.ID)) {
		t.Fatalf("no Retry on the declined attempt")
	}
	code, loc, _ = st.post(t, c, "/admin/customer/retry", url.Values{"id": {fmt.Sprint(st.card)}, "attempt": {fmt.Sprint(a.ID)}, "confirm": {"1"}})
	if code != http.StatusSeeOther {
		t.Fatalf("retry: %d", code)
	}
	as, _ := st.db.ListAttempts(context.Background(), store.AttemptFilter{ChargeKey: a.ChargeKey})
	if len(as) != 2 || as[1].RetryOf != a.ID {
		t.Fatalf("attempts: %+v", as)
	}
	// The same retry again: refused, nothing sent.
	code, _, _ = st.post(t, c, "/admin/customer/retry", url.Values{"id": {fmt.Sprint(st.card)}, "attempt": {fmt.Sprint(a.ID)}, "confirm": {"1"}})
	if code != http.StatusConflict {
		t.Fatalf("second retry: %d", code)
	}
	if !hasTrail(st.trail(t, st.card), "staff.retry", "admin #1") {
		t.Fatal("no staff.retry row")
	}
}

func TestAddMethodByPhoneNeedsAgreementAndRecordsTheAdmin(t *testing.T) {
	st := newStaffSite(t)
	c := st.admin(t)
	form := url.Values{"id": {fmt.Sprint(st.none)}, "kind": {"card"}, "number": {"4111 1111 1111 1111"}, "exp_month": {"10"},
		"exp_year": {"2031"}, "cvv": {"321"}, "holder": {"Nina None"}}
	code, _, body := st.post(t, c, "/admin/customer/method", form)
	if code != http.StatusBadRequest || !strings.Contains(body, "agreed") {
		t.Fatalf("without agreement: %d", code)
	}
	if ms, _ := st.db.ListMethods(context.Background(), st.none); len(ms) != 0 {
		t.Fatal("a method was saved without the customer's agreement")
	}
	form.Set("agreed", "1")
	code, loc, _ := st.post(t, c, "/admin/customer/method", form)
	if code != http.StatusSeeOther {
		t.Fatalf("save: %d %s", code, body)
	}
	page := st.follow(t, c, loc)
	m, err := st.db.ActiveMethod(context.Background(), st.none)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(m.AuthText, PhoneAuthVersion) || !strings.Contains(m.AuthText, "admin #1") || m.AuthIP != "203.0.113.9" {
		t.Fatalf("authorisation: %+v", m)
	}
	if !strings.Contains(page, "taken by admin #1") || strings.Contains(page, "4111111111111111") || strings.Contains(page, "321") && strings.Contains(page, "cvv=321") {
		t.Fatalf("page: %.2000s", page)
	}
	// A gateway refusal echoes no digits.
	form.Set("number", "4111111111111112")
	code, _, body = st.post(t, c, "/admin/customer/method", form)
	if code != http.StatusUnprocessableEntity || strings.Contains(body, "4111111111111112") {
		t.Fatalf("bad card: %d %.500s", code, body)
	}
	// Remove: confirm first.
	_, page = st.get(t, c, fmt.Sprintf("/admin/customer?id=%d&confirm=remove&method=%d", st.none, m.ID))
	if !strings.Contains(page, "Remove the method") {
		t.Fatalf("remove confirm: %.1000s", page)
	}
	rm := url.Values{"id": {fmt.Sprint(st.none)}, "method": {fmt.Sprint(m.ID)}}
	if code, _, _ := st.post(t, c, "/admin/customer/method/remove", rm); code != http.StatusBadRequest {
		t.Fatalf("unconfirmed remove: %d", code)
	}
	rm.Set("confirm", "1")
	if code, _, _ := st.post(t, c, "/admin/customer/method/remove", rm); code != http.StatusSeeOther {
		t.Fatalf("remove: %d", code)
	}
	if _, err := st.db.ActiveMethod(context.Background(), st.none); err == nil {
		t.Fatal("the method is still active")
	}
	rows := st.trail(t, st.none)
	for _, k := range []string{"staff.method_added", "staff.method_removed", "method.added", "method.removed"} {
		if !hasTrail(rows, k, "") {
			t.Errorf("no %s row: %+v", k, rows)
		}
	}
}

func TestSyncPayerNow(t *testing.T) {
	st := newStaffSite(t)
	c := st.admin(t)
	code, loc, _ := st.post(t, c, "/admin/customer/payer-sync", url.Values{"id": {fmt.Sprint(st.bank)}})
	if code != http.StatusSeeOther {
		t.Fatalf("sync: %d", code)
	}
	if page := st.follow(t, c, loc); !strings.Contains(page, "sent to the gateway") {
		t.Fatal("no confirmation")
	}
	p, ok := st.ip.Payer(fmt.Sprint(st.bank))
	if !ok || p.Email != "bert@example.com" {
		t.Fatalf("payer at the gateway: %+v", p)
	}
	if code, _, _ := st.post(t, c, "/admin/customer/payer-sync", url.Values{"id": {fmt.Sprint(st.none)}}); code != http.StatusConflict {
		t.Fatalf("no method: %d", code)
	}
}

func TestAddBankAccountByPhoneRecordsTelephoneAuthorisation(t *testing.T) {
	st := newStaffSite(t)
	c := st.admin(t)
	code, loc, _ := st.post(t, c, "/admin/customer/method", url.Values{"id": {fmt.Sprint(st.none)}, "kind": {"bank"},
		"branch": {"062-000"}, "account": {"98765432"}, "account_name": {"Nina None"}, "account_type": {"SAVINGS"}, "agreed": {"1"}})
	if code != http.StatusSeeOther {
		t.Fatalf("save: %d", code)
	}
	page := st.follow(t, c, loc)
	m, err := st.db.ActiveMethod(context.Background(), st.none)
	if err != nil || m.Kind != "bank" || m.AuthSEC != "TEL" {
		t.Fatalf("method %+v %v", m, err)
	}
	if strings.Contains(page, "98765432") || strings.Contains(page, "062000") || strings.Contains(page, "062-000") {
		t.Fatal("the account or the full BSB reached the page")
	}
	if p, ok := st.ip.Payer(fmt.Sprint(st.none)); !ok || p.Method != "bank" {
		t.Fatalf("gateway payer: %+v", p)
	}
}
