package web

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/splynx-pay/splynx-pay/gateways"
	"github.com/splynx-pay/splynx-pay/store"
	"github.com/splynx-pay/splynx-pay/sync/charge"
)

// reviewAttempt puts an attempt of the card customer's invoice in review,
// the way the reconciler leaves one the gateway never answered for.
func reviewAttempt(t *testing.T, st *staffSite) store.ChargeAttempt {
	t.Helper()
	ctx := context.Background()
	now := st.clk.Now()
	m, err := st.db.ActiveMethod(ctx, st.card)
	if err != nil {
		t.Fatal(err)
	}
	a := &store.ChargeAttempt{ChargeKey: fmt.Sprintf("invoice:%d", st.invCard), Kind: store.KindInvoice, InvoiceID: st.invCard,
		ItemNumber: "INV-R", CustomerID: st.card, Amount: 5000, Currency: "AUD", MethodID: m.ID, Reference: "SPREVIEW00000001"}
	if err := st.db.CreateAttempt(ctx, a, now); err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct {
		from, to store.AttemptState
		c        store.Change
	}{
		{store.StateCreated, store.StateSending, store.Change{Sent: true}},
		{store.StateSending, store.StateUnknown, store.Change{}},
		{store.StateUnknown, store.StateReview, store.Change{Message: "check it at the gateway", Review: true}},
	} {
		if err := st.db.TransitionAttempt(ctx, a.ID, []store.AttemptState{step.from}, step.to, step.c, now, nil); err != nil {
			t.Fatal(err)
		}
	}
	got, err := st.db.GetAttempt(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func trailRow(rows []store.TrailEntry, kind string) (store.TrailEntry, bool) {
	for _, r := range rows {
		if r.Kind == kind {
			return r, true
		}
	}
	return store.TrailEntry{}, false
}

// A review decided on the customer tab by an admin, and a late settlement
// the engine recorded, both reach the staff audit trail page with who and
// what (the engine writes them to audit_log; migration 0009 bridges them).
func TestReviewDecidedOnTheTabAndLateSettlementReachTheAuditTrail(t *testing.T) {
	st := newStaffSite(t)
	c := st.admin(t)
	ctx := context.Background()
	a := reviewAttempt(t, st)

	_, page := st.get(t, c, fmt.Sprintf("/admin/customer?id=%d", st.card))
	if !strings.Contains(page, fmt.Sprintf("confirm=decide&amp;attempt=%d", a.ID)) {
		t.Fatalf("no Decide on the attempt in review: %.3000s", page)
	}
	_, page = st.get(t, c, fmt.Sprintf("/admin/customer?id=%d&confirm=decide&attempt=%d", st.card, a.ID))
	for _, want := range []string{"What does the gateway show for SPREVIEW00000001?", `value="charged"`, `value="not_charged"`, "It was charged", "Not charged"} {
		if !strings.Contains(page, want) {
			t.Errorf("decide confirm lacks %q", want)
		}
	}
	form := url.Values{"id": {fmt.Sprint(st.card)}, "attempt": {fmt.Sprint(a.ID)}, "decision": {charge.DecideNotCharged}}
	if code, _, _ := st.post(t, c, "/admin/customer/decide", form); code != http.StatusBadRequest {
		t.Fatalf("unconfirmed decision: %d", code)
	}
	form.Set("confirm", "1")
	form.Set("decision", "maybe")
	if code, _, _ := st.post(t, c, "/admin/customer/decide", form); code != http.StatusBadRequest {
		t.Fatalf("unknown decision: %d", code)
	}
	form.Set("decision", charge.DecideNotCharged)
	if code, _, _ := st.post(t, c, "/admin/customer/decide", url.Values{"id": {fmt.Sprint(st.card)}, "attempt": {fmt.Sprint(a.ID)},
		"decision": {charge.DecideNotCharged}, "confirm": {"1"}, "csrf_token": {"forged"}}); code != http.StatusForbidden {
		t.Fatalf("decision without a valid CSRF token: %d", code)
	}
	if code, loc, _ := st.post(t, c, "/admin/customer/decide", form); code != http.StatusSeeOther {
		t.Fatalf("decide: %d", code)
	} else if page := st.follow(t, c, loc); !strings.Contains(page, "declined") {
		t.Fatalf("page after the decision: %.2000s", page)
	}
	if got, _ := st.db.GetAttempt(ctx, a.ID); got.State != store.StateDeclined || got.Code != charge.CodeNotSent {
		t.Fatalf("decided attempt: %s %s", got.State, got.Code)
	}
	// A second decision of the same attempt is refused.
	if code, _, _ := st.post(t, c, "/admin/customer/decide", form); code != http.StatusConflict {
		t.Fatalf("second decision: %d", code)
	}

	// The gateway's feed settles the card customer's declined 20.51: the
	// engine records it (audit_log charge.late_settlement).
	code, _, _ := st.post(t, c, "/admin/customer/pay", url.Values{"id": {fmt.Sprint(st.card)}, "kind": {"invoice"},
		"doc": {fmt.Sprint(st.invDecl)}, "confirm": {"1"}})
	if code != http.StatusSeeOther {
		t.Fatalf("pay: %d", code)
	}
	decl, err := st.db.LatestAttempt(ctx, fmt.Sprintf("invoice:%d", st.invDecl))
	if err != nil || decl.State != store.StateDeclined {
		t.Fatalf("declined attempt: %+v %v", decl, err)
	}
	if err := st.en.ApplyChanges(ctx, []gateways.StatusChange{{Outcome: gateways.Outcome{Status: gateways.Approved,
		Reference: decl.Reference, GatewayID: "TX-LATE-1"}}}, nil, false); err != nil {
		t.Fatal(err)
	}

	rows := st.trail(t, st.card)
	dec, ok := trailRow(rows, "charge.review_decided")
	if !ok || dec.Actor != "admin #1" || dec.SubjectID != a.ID || dec.Amount != 5000 ||
		!strings.Contains(dec.Detail, "SPREVIEW00000001") || !strings.Contains(dec.Detail, "not charged at the gateway") {
		t.Fatalf("review decided row: %+v (trail %+v)", dec, rows)
	}
	late, ok := trailRow(rows, "charge.late_settlement")
	if !ok || late.Actor != "gateway" || late.SubjectID != decl.ID || late.Amount != 2051 ||
		!strings.Contains(late.Detail, "after we held it as declined") {
		t.Fatalf("late settlement row: %+v", late)
	}
	if n := strings.Count(fmt.Sprint(rows), "charge.review "); n > 1 {
		t.Errorf("the review shows %d times", n)
	}
	// Same time format as the rest of the trail: the row sorts and filters by day.
	if late.At.IsZero() || dec.At.IsZero() {
		t.Fatalf("times not parsed: %v %v", late.At, dec.At)
	}
	// (audit_log is stamped by the database's own clock, the real one.)
	if day, _ := st.db.ListTrail(ctx, store.TrailFilter{Kind: "charge.review_decided", From: time.Now().Add(-time.Minute), To: time.Now().Add(time.Minute)}); len(day) != 1 {
		t.Fatalf("decided row not found by time: %+v", day)
	}

	_, audit := st.get(t, c, "/admin/audit")
	for _, want := range []string{`data-kind="charge.review_decided"`, "<b>admin #1</b>", "not charged at the gateway",
		`data-kind="charge.late_settlement"`, "after we held it as declined", "20.51"} {
		if !strings.Contains(audit, want) {
			t.Errorf("/admin/audit lacks %q", want)
		}
	}
}

// A late settlement that owes a refund can be kept on the customer's
// balance from the tab: confirm step, CSRF, the admin recorded, and the
// refund is not tried again.
func TestKeepLateSettlementOnTheBalanceFromTheTab(t *testing.T) {
	st := newStaffSite(t)
	c := st.admin(t)
	ctx := context.Background()
	code, _, _ := st.post(t, c, "/admin/customer/pay", url.Values{"id": {fmt.Sprint(st.card)}, "kind": {"invoice"},
		"doc": {fmt.Sprint(st.invCard)}, "confirm": {"1"}})
	if code != http.StatusSeeOther {
		t.Fatalf("pay: %d", code)
	}
	a, err := st.db.LatestAttempt(ctx, fmt.Sprintf("invoice:%d", st.invCard))
	if err != nil || a.State != store.StateRecorded {
		t.Fatalf("attempt %+v %v", a, err)
	}
	_, page := st.get(t, c, fmt.Sprintf("/admin/customer?id=%d", st.card))
	if strings.Contains(page, "confirm=keep") {
		t.Fatal("Keep offered for a charge that owes no refund")
	}
	// As the engine leaves a superseded charge whose refund the gateway refused.
	if err := st.db.Write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.Exec(`UPDATE charge_attempts SET superseded = 1, late = 1 WHERE id = ?`, a.ID); err != nil {
			return err
		}
		return store.SetRefundDue(ctx, tx, a.ID, true, st.clk.Now())
	}); err != nil {
		t.Fatal(err)
	}
	_, page = st.get(t, c, fmt.Sprintf("/admin/customer?id=%d", st.card))
	if !strings.Contains(page, fmt.Sprintf("confirm=keep&amp;attempt=%d", a.ID)) || !strings.Contains(page, "refund owed") {
		t.Fatalf("no Keep on the late settlement: %.3000s", page)
	}
	_, page = st.get(t, c, fmt.Sprintf("/admin/customer?id=%d&confirm=keep&attempt=%d", st.card, a.ID))
	if !strings.Contains(page, "Keep 50.00 on the customer&#39;s balance?") || !strings.Contains(page, "Keep on the balance") {
		t.Fatalf("keep confirm: %.3000s", page)
	}
	form := url.Values{"id": {fmt.Sprint(st.card)}, "attempt": {fmt.Sprint(a.ID)}}
	if code, _, _ := st.post(t, c, "/admin/customer/keep", form); code != http.StatusBadRequest {
		t.Fatalf("unconfirmed keep: %d", code)
	}
	if code, _, _ := st.post(t, c, "/admin/customer/keep", url.Values{"id": {fmt.Sprint(st.card)}, "attempt": {fmt.Sprint(a.ID)},
		"confirm": {"1"}, "csrf_token": {"forged"}}); code != http.StatusForbidden {
		t.Fatalf("keep without a valid CSRF token: %d", code)
	}
	if code, _, _ := st.post(t, c, "/admin/customer/keep", url.Values{"id": {fmt.Sprint(st.bank)}, "attempt": {fmt.Sprint(a.ID)},
		"confirm": {"1"}}); code != http.StatusNotFound {
		t.Fatalf("keep of another customer's charge: %d", code)
	}
	form.Set("confirm", "1")
	code, loc, _ := st.post(t, c, "/admin/customer/keep", form)
	if code != http.StatusSeeOther {
		t.Fatalf("keep: %d", code)
	}
	if page := st.follow(t, c, loc); !strings.Contains(page, "stays on the customer&#39;s balance") {
		t.Fatalf("page after keep: %.2000s", page)
	}
	if got, _ := st.db.GetAttempt(ctx, a.ID); got.RefundDue {
		t.Fatal("the refund is still owed")
	}
	if due, _ := st.db.LateRefundsDue(ctx, st.clk.Now().Add(1)); len(due) != 0 {
		t.Fatalf("still due for a refund: %v", due)
	}
	if _, _, refunded := st.gatewayCharges(fmt.Sprint(st.card)); refunded != 0 {
		t.Fatalf("gateway refunded %d", refunded)
	}
	kept, ok := trailRow(st.trail(t, st.card), "charge.late_settlement_kept")
	if !ok || kept.Actor != "admin #1" || kept.Amount != 5000 || !strings.Contains(kept.Detail, "kept on the customer's balance") {
		t.Fatalf("kept row: %+v", kept)
	}
	// Nothing left to keep: a second click is refused.
	if code, _, _ := st.post(t, c, "/admin/customer/keep", form); code != http.StatusConflict {
		t.Fatalf("second keep: %d", code)
	}
}
