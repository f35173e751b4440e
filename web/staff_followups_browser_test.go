package web

import (
	"context"
	"database/sql"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/splynx-pay/splynx-pay/internal/browsertest"
	"github.com/splynx-pay/splynx-pay/internal/config"
	"github.com/splynx-pay/splynx-pay/store"
	"github.com/splynx-pay/splynx-pay/sync/charge"
)

// A clerk decides a charge in review and keeps a late settlement on the
// balance from the customer tab, finds both in the audit trail under their
// name, and sees the settlement poll in the overview's health box.
func TestBrowserClerkDecidesReviewKeepsLateSettlement(t *testing.T) {
	st := newStaffSite(t)
	ctx := context.Background()
	s, err := New(Options{Addon: "splynx-integrapay", Prefix: "/integrapay", Deps: st.server.Deps(),
		Bootstrap: &config.Bootstrap{TimeZone: "Australia/Sydney", SettleSchedule: "CRON_TZ=Australia/Sydney 15 * * * *"}})
	if err != nil {
		t.Fatal(err)
	}
	site := httptest.NewServer(behindNginx(s.Handler()))
	t.Cleanup(site.Close)
	base := site.URL + "/integrapay"
	// A recorded charge of the card customer turned into a late settlement
	// whose refund the gateway refused; then another attempt of the same
	// invoice that the gateway never answered for.
	if _, _, err := st.en.ChargeOne(ctx, charge.Item{Kind: store.KindInvoice, InvoiceID: st.invCard, CustomerID: st.card, Number: "INV-L"},
		charge.SourceAdmin, "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.en.WriteBack(ctx); err != nil {
		t.Fatal(err)
	}
	late, err := st.db.LatestAttempt(ctx, fmt.Sprintf("invoice:%d", st.invCard))
	if err != nil || late.State != store.StateRecorded {
		t.Fatalf("late: %+v %v", late, err)
	}
	if err := st.db.Write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.Exec(`UPDATE charge_attempts SET superseded = 1, late = 1 WHERE id = ?`, late.ID); err != nil {
			return err
		}
		return store.SetRefundDue(ctx, tx, late.ID, true, st.clk.Now())
	}); err != nil {
		t.Fatal(err)
	}
	review := reviewAttempt(t, st)

	tab := browsertest.New(t).Tab(t)
	t.Cleanup(func() {
		if t.Failed() {
			tab.Shot("failed-review-keep")
			t.Logf("page at failure: %s\n%.3000s", tab.URL(), tab.Body())
		}
	})
	tab.Go(base + "/healthz")
	browsertest.Eval[string](tab, fmt.Sprintf(`document.cookie = "PHPSESSID=%s; path=/"`, st.adminSID))

	tab.Go(fmt.Sprintf("%s/admin/customer?id=%d", base, st.card))
	clickTo(t, tab, "a.decide", "#decide-not_charged")
	tab.Shot("customer-tab-decide-review")
	if body := tab.Body(); !strings.Contains(body, "What does the gateway show for "+review.Reference) {
		t.Fatalf("decide confirm: %s", body)
	}
	clickTo(t, tab, "#decide-not_charged", "#result")
	if body := tab.Text("#result"); !strings.Contains(body, "declined") {
		t.Fatalf("after deciding: %s", body)
	}
	tab.Shot("customer-tab-review-decided")

	tab.Shot("customer-tab-late-settlement")
	clickTo(t, tab, "a.keep", "#confirm-go")
	tab.Shot("customer-tab-keep-confirm")
	clickTo(t, tab, "#confirm-go", "#result")
	if body := tab.Text("#result"); !strings.Contains(body, "stays on the customer's balance") {
		t.Fatalf("after keeping: %s", body)
	}
	if tab.Exists("a.keep") {
		t.Fatal("Keep still offered")
	}

	tab.Go(base + "/admin/audit")
	tab.Shot("audit-trail-engine-events")
	body := tab.Text("#audit-rows")
	for _, want := range []string{"charge.review_decided", "charge.late_settlement_kept", "not charged at the gateway", "kept on the customer's balance", "admin #1"} {
		if !strings.Contains(body, want) {
			t.Errorf("audit trail lacks %q: %s", want, body)
		}
	}

	if _, err := st.en.Settle(ctx); err != nil {
		t.Fatal(err)
	}
	tab.Go(base + "/admin")
	tab.Shot("overview-settle-poll")
	if got := tab.Text("#settle-poll"); !strings.Contains(got, "0s ago") {
		t.Fatalf("settlement poll: %s", got)
	}
	st.clk.Advance(3 * 3600e9)
	tab.Go(base + "/admin")
	tab.Shot("overview-settle-poll-stale")
	if got := tab.Text("#settle-poll"); !strings.Contains(got, "Older than two settle intervals") {
		t.Fatalf("stale settlement poll: %s", got)
	}
}
