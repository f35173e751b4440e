package web

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/splynx-pay/splynx-pay/sync/charge"
)

func TestMetricsFromTheServerOrWithTheToken(t *testing.T) {
	st := newStaffSite(t)
	c := st.admin(t)
	st.post(t, c, "/admin/customer/pay", url.Values{"id": {fmt.Sprint(st.bank)}, "kind": {"invoice"}, "doc": {fmt.Sprint(st.invBank)}, "confirm": {"1"}})
	if _, err := st.en.Run(context.Background(), charge.Filters{Mode: charge.ModeInvoices},
		charge.RunOptions{Source: charge.SourceAuto, StartedBy: "schedule"}); err != nil {
		t.Fatal(err)
	}
	get := func(c *http.Client, token string) (int, string) {
		req, _ := http.NewRequest("GET", st.srv.URL+"/integrapay/metrics", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	// Straight to the daemon, as the operator with the admin token
	// (operator() adds it; TestAdminRoutesNeedTokenNotLoopback: not without).
	code, body := get(http.DefaultClient, "")
	if code != http.StatusOK {
		t.Fatalf("local: %d %s", code, body)
	}
	for _, want := range []string{
		`splynxpay_charge_attempts{state="pending"} 1`,
		`splynxpay_charge_attempts{state="approved"} 1`,
		`splynxpay_charge_attempts{state="declined"} 1`,
		"splynxpay_settled_amount 50",
		"splynxpay_pending_amount 30",
		`splynxpay_mirror_rows{table="customers"} 3`,
		`splynxpay_mirror_rows{table="invoices"} 4`,
		`splynxpay_writeback_backlog{status="pending"} 1`,
		"splynxpay_reconciler_queue 0",
		"splynxpay_sync_age_seconds ",
		`splynxpay_sync_duration_seconds{kind="full"}`,
		"splynxpay_database_up 1",
		`splynxpay_gateway_requests_total{gateway="integrapay",operation="POST payers/{ref}/transactions/card",outcome="ok"}`,
		`splynxpay_splynx_requests_total{status="200"}`,
		"# TYPE splynxpay_splynx_request_duration_seconds histogram",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	// Through nginx: only with the metrics token or the admin token.
	for token, want := range map[string]int{"": 403, "wrong": 403, "scrape-me": 200, testAdminToken: 200} {
		if code, _ := get(proxiedClient(t), token); code != want {
			t.Errorf("proxied with token %q: %d, want %d", token, code, want)
		}
	}
	// An admin session is not a scrape credential.
	if code, _ := get(c, ""); code != http.StatusForbidden {
		t.Errorf("admin session: %d", code)
	}
}
