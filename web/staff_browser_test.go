package web

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/splynx-pay/splynx-pay/internal/browsertest"
	"github.com/splynx-pay/splynx-pay/sync/charge"
)

// behindNginx makes requests look as they do on a Splynx host: proxied by
// nginx, so the add-on asks Splynx who holds the session cookie.
func behindNginx(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Header.Set("X-Forwarded-For", "203.0.113.9")
		r.Header.Set("X-Real-IP", "203.0.113.9")
		next.ServeHTTP(w, r)
	})
}

// clickTo clicks an element that loads a new page and waits until the new
// page shows sel. browsertest.Click waits 2 s for a navigation to start; on
// a loaded machine the POST behind a form can take longer, and a query
// started on the old document then never finds the new one.
func clickTo(t *testing.T, tab *browsertest.Tab, click, sel string) {
	t.Helper()
	browsertest.Eval[bool](tab, `(document.documentElement.dataset.old = "1", true)`)
	tab.Click(click)
	deadline := time.Now().Add(browsertest.Timeout)
	expr := fmt.Sprintf(`document.readyState === "complete" && !document.documentElement.dataset.old && !!document.querySelector(%q)`, sel)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(tab.Context(), 2*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
		cancel()
		if err == nil && ok {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("after clicking %s the new page never showed %s", click, sel)
}

// A billing clerk, logged in to Splynx, opens a customer without a method,
// takes a card over the phone, pays the open invoice, refunds half of it,
// and finds all three in the audit trail under their name.
func TestBrowserClerkAddsCardPaysRefundsAndAudits(t *testing.T) {
	st := newStaffSite(t)
	site := httptest.NewServer(behindNginx(st.server.Handler()))
	t.Cleanup(site.Close)
	base := site.URL + "/integrapay"
	tab := browsertest.New(t).Tab(t)
	t.Cleanup(func() {
		if t.Failed() {
			tab.Shot("failed-clerk-flow")
			t.Logf("page at failure: %s\n%.3000s", tab.URL(), tab.Body())
		}
	})
	tab.Go(base + "/healthz")
	// The Splynx admin session cookie, as the browser holds it on the Splynx host.
	browsertest.Eval[string](tab, fmt.Sprintf(`document.cookie = "PHPSESSID=%s; path=/"`, st.adminSID))

	tab.Go(fmt.Sprintf("%s/admin/customer?id=%d", base, st.none))
	if body := tab.Body(); !strings.Contains(body, "Nina None") || !strings.Contains(body, "No saved method") {
		t.Fatalf("customer tab: %s", body)
	}
	tab.Shot("customer-tab-no-method")

	tab.Fill("#m-number", "4111 1111 1111 1111")
	tab.Fill("#m-exp-month", "12")
	tab.Fill("#m-exp-year", "2031")
	tab.Fill("#m-cvv", "123")
	tab.Fill("#m-holder", "Nina None")
	tab.Check("#m-agreed")
	clickTo(t, tab, "#m-save", "#result")
	if got := tab.Text("#result"); !strings.Contains(got, "payment method is saved") {
		t.Fatalf("after saving: %q", got)
	}
	if got := tab.Text("#method"); !strings.Contains(got, "taken by admin #1") || !strings.Contains(got, "1111") {
		t.Fatalf("method panel: %q", got)
	}
	if strings.Contains(tab.HTML(), "4111111111111111") || strings.Contains(tab.HTML(), "4111 1111 1111 1111") {
		t.Fatal("the card number is on the page")
	}
	tab.Shot("customer-tab-card-added")

	clickTo(t, tab, "a.pay-now", "#confirm")
	if got := tab.Text("#confirm"); !strings.Contains(got, "Charge 15.00 now") {
		t.Fatalf("confirm step: %q", got)
	}
	tab.Shot("customer-tab-pay-confirm")
	clickTo(t, tab, "#confirm-go", "#result")
	if got := tab.Text("#result"); !strings.Contains(got, "15.00 AUD — approved") {
		t.Fatalf("pay result: %q", got)
	}
	tab.Shot("customer-tab-paid")

	clickTo(t, tab, "a.refund", "#confirm")
	if got := tab.Text("#confirm"); !strings.Contains(got, "Amount to refund") {
		t.Fatalf("refund confirm: %q", got)
	}
	tab.Fill("#refund-amount", "7.50")
	tab.Fill("#refund-reason", "half month outage")
	tab.Shot("customer-tab-refund-confirm")
	clickTo(t, tab, "#confirm-go", "#result")
	if got := tab.Text("#result"); !strings.Contains(got, "7.50 of 15.00 refunded") {
		t.Fatalf("refund result: %q", got)
	}
	if got := tab.Text("#attempts"); !strings.Contains(got, "refunded 7.50") {
		t.Fatalf("attempts after the refund: %q", got)
	}
	tab.Shot("customer-tab-refunded")
	if n, amt, refunded := st.gatewayCharges(fmt.Sprint(st.none)); n != 1 || amt != 1500 || refunded != 750 {
		t.Fatalf("gateway: %d charges of %d, refunded %d", n, amt, refunded)
	}

	tab.Go(fmt.Sprintf("%s/admin/audit?customer=%d", base, st.none))
	rows := tab.Text("#audit-rows")
	for _, want := range []string{"staff.method_added", "staff.pay_now", "staff.refund", "admin #1", "half month outage", "7.50", "15.00"} {
		if !strings.Contains(rows, want) {
			t.Errorf("audit trail lacks %q:\n%s", want, rows)
		}
	}
	tab.Shot("audit-trail")
	// The filter form works as a person uses it.
	tab.Select("#f-kind", "staff.refund")
	clickTo(t, tab, "#audit-filters button", "#audit-rows")
	if rows := tab.Text("#audit-rows"); strings.Contains(rows, "staff.pay_now") || !strings.Contains(rows, "staff.refund") {
		t.Errorf("filtered by kind: %s", rows)
	}
}

// The overview after a night: bars in the chart, as a person sees them.
func TestBrowserOverviewShowsTheNight(t *testing.T) {
	st := newStaffSite(t)
	if _, err := st.en.Run(context.Background(), charge.Filters{Mode: charge.ModeInvoices},
		charge.RunOptions{Source: charge.SourceAuto, StartedBy: "schedule"}); err != nil {
		t.Fatal(err)
	}
	tab := browsertest.New(t).Tab(t)
	tab.Go(st.srv.URL + "/integrapay/admin") // on the server itself: no session needed
	bars := browsertest.Eval[float64](tab, `[...document.querySelectorAll("svg.sp-chart rect")].filter(r => r.getBBox().height > 0).length`)
	if bars < 3 {
		t.Fatalf("%v visible bar segments", bars)
	}
	if got := tab.Text("#forecast"); !strings.Contains(got, "Skipped because") {
		t.Errorf("forecast: %q", got)
	}
	tab.Shot("overview")
}
