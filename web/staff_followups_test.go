package web

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/splynx-pay/splynx-pay/gateways"
	"github.com/splynx-pay/splynx-pay/internal/config"
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
// what (the engine writes them to audit_log; migration 0011 bridges them).
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

// zonedSite serves the staff site's pages again with a daemon's bootstrap
// settings: the add-on's time zone and settle schedule.
func zonedSite(t *testing.T, st *staffSite, tz, settle string) string {
	t.Helper()
	s, err := New(Options{Addon: "splynx-integrapay", Prefix: "/integrapay", Deps: st.server.Deps(),
		Bootstrap: &config.Bootstrap{TimeZone: tz, SettleSchedule: settle}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(operator(t, s))
	t.Cleanup(srv.Close)
	return srv.URL
}

func getFrom(t *testing.T, c *http.Client, base, path string) string {
	t.Helper()
	resp, err := c.Get(base + "/integrapay" + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: %d %.300s", path, resp.StatusCode, b)
	}
	return string(b)
}

// The health box shows when the settlement job last read the gateway's
// feed (not the last settlement), and warns when that is older than two
// settle intervals.
func TestOverviewShowsTheLastSettlementPoll(t *testing.T) {
	st := newStaffSite(t)
	c := withSession(t, st.srv.URL, st.adminSID)
	base := zonedSite(t, st, "Australia/Sydney", "CRON_TZ=Australia/Sydney 15 * * * *")
	poll := func() string {
		page := getFrom(t, c, base, "/admin")
		i := strings.Index(page, `id="settle-poll"`)
		if i < 0 {
			t.Fatalf("no settlement poll in the health box: %.3000s", page)
		}
		return page[i : i+strings.Index(page[i:], "</td>")]
	}
	if got := poll(); !strings.Contains(got, "never") {
		t.Fatalf("before any poll: %s", got)
	}
	if _, err := st.en.Settle(context.Background()); err != nil {
		t.Fatal(err)
	}
	st.clk.Advance(90 * time.Minute)
	if got := poll(); !strings.Contains(got, `sp-badge ok">1h30m0s ago`) || strings.Contains(got, "older than") {
		t.Fatalf("after a poll 90 minutes ago: %s", got)
	}
	st.clk.Advance(31 * time.Minute)
	if got := poll(); !strings.Contains(got, `sp-badge warn">2h1m0s ago`) || !strings.Contains(got, "Older than two settle intervals (it runs every 1h0m0s)") {
		t.Fatalf("after a poll 2h01 ago: %s", got)
	}
}

// The overview's days are the add-on's time zone's: a charge made at 07:00
// in Sydney (20:00 UTC the day before) is on the Sydney day.
func TestOverviewDaysAreTheAddonsTimeZone(t *testing.T) {
	st := newStaffSite(t)
	c := withSession(t, st.srv.URL, st.adminSID)
	ctx := context.Background()
	at := time.Date(2026, 11, 1, 20, 0, 0, 0, time.UTC) // 2026-11-02 07:00 AEDT
	a := &store.ChargeAttempt{ChargeKey: fmt.Sprintf("invoice:%d", st.invNone), Kind: store.KindInvoice, InvoiceID: st.invNone,
		ItemNumber: "INV-TZ", CustomerID: st.none, Amount: 1234, Currency: "AUD", Reference: "SPTZ000000000001"}
	if err := st.db.CreateAttempt(ctx, a, at); err != nil {
		t.Fatal(err)
	}
	if err := st.db.TransitionAttempt(ctx, a.ID, []store.AttemptState{store.StateCreated}, store.StateDeclined,
		store.Change{Reason: "insufficient_funds"}, at, nil); err != nil {
		t.Fatal(err)
	}
	row := func(csv, day string) string {
		for _, l := range strings.Split(csv, "\n") {
			if strings.HasPrefix(l, day+",") {
				return strings.TrimSpace(l)
			}
		}
		return ""
	}
	sydney := getFrom(t, c, zonedSite(t, st, "Australia/Sydney", ""), "/admin/overview.csv")
	if got := row(sydney, "2026-11-02"); got != "2026-11-02,0.00,0.00,12.34,0.00,12.34,1" {
		t.Fatalf("Sydney's 2 November: %q\n%s", got, sydney)
	}
	if got := row(sydney, "2026-11-01"); got != "2026-11-01,0.00,0.00,0.00,0.00,0.00,0" {
		t.Fatalf("Sydney's 1 November: %q", got)
	}
	// Without a time zone the days stay UTC's (today's behaviour).
	utc := getFrom(t, c, st.srv.URL, "/admin/overview.csv")
	if got := row(utc, "2026-11-01"); got != "2026-11-01,0.00,0.00,12.34,0.00,12.34,1" {
		t.Fatalf("UTC's 1 November: %q", got)
	}
	page := getFrom(t, c, zonedSite(t, st, "Australia/Sydney", ""), "/admin")
	if !strings.Contains(page, "(Australia/Sydney time)") {
		t.Fatal("the overview does not say whose days it shows")
	}
}

// Days stay whole across a daylight-saving change and a half-hour zone.
func TestDailyMoneyInHalfHourZoneAcrossDST(t *testing.T) {
	st := newStaffSite(t)
	ctx := context.Background()
	adl, err := time.LoadLocation("Australia/Adelaide") // +10:30 from 5 October 2026
	if err != nil {
		t.Skip("no tzdata:", err)
	}
	// 4 October 2026 is 23 hours long in Adelaide; a charge at 23:45 local
	// on the 4th is 13:15 UTC on the 4th, and one at 00:10 local on the 5th
	// is 13:40 UTC on the 4th.
	for i, at := range []time.Time{time.Date(2026, 10, 4, 23, 45, 0, 0, adl), time.Date(2026, 10, 5, 0, 10, 0, 0, adl)} {
		a := &store.ChargeAttempt{ChargeKey: fmt.Sprintf("invoice:%d", 7000+i), Kind: store.KindInvoice, InvoiceID: int64(7000 + i),
			CustomerID: st.none, Amount: int64(100 * (i + 1)), Currency: "AUD", Reference: fmt.Sprintf("SPADL%011d", i)}
		if err := st.db.CreateAttempt(ctx, a, at); err != nil {
			t.Fatal(err)
		}
	}
	days, err := st.db.DailyMoneyIn(ctx, time.Date(2026, 10, 3, 12, 0, 0, 0, adl), time.Date(2026, 10, 6, 12, 0, 0, 0, adl), adl)
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprint(days)
	want := "[{2026-10-03 0 0 0 0 0} {2026-10-04 0 100 0 0 1} {2026-10-05 0 200 0 0 1} {2026-10-06 0 0 0 0 0}]"
	if got != want {
		t.Fatalf("days: %s, want %s", got, want)
	}
}
