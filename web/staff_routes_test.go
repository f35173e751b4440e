package web

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/splynx-pay/splynx-pay/store"
	"github.com/splynx-pay/splynx-pay/sync/charge"
)

type staffRoute struct {
	method, path string
	form         url.Values
}

// staffRoutes lists every staff route with a request that would change
// something if it were let through.
func (st *staffSite) staffRoutes() []staffRoute {
	id := fmt.Sprint(st.card)
	return []staffRoute{
		{"GET", "/admin", nil},
		{"GET", "/admin/overview.csv", nil},
		{"GET", "/admin/audit", nil},
		{"GET", "/admin/audit.csv", nil},
		{"GET", "/admin/customer?id=" + id, nil},
		{"POST", "/admin/customer/pay", url.Values{"id": {id}, "kind": {"invoice"}, "doc": {fmt.Sprint(st.invCard)}, "confirm": {"1"}}},
		{"POST", "/admin/customer/retry", url.Values{"id": {id}, "attempt": {"1"}, "confirm": {"1"}}},
		{"POST", "/admin/customer/refund", url.Values{"id": {id}, "attempt": {"1"}, "amount": {"1.00"}, "confirm": {"1"}}},
		{"POST", "/admin/customer/method", url.Values{"id": {id}, "kind": {"card"}, "number": {"4111111111111111"},
			"exp_month": {"1"}, "exp_year": {"2031"}, "cvv": {"123"}, "agreed": {"1"}}},
		{"POST", "/admin/customer/method/remove", url.Values{"id": {id}, "method": {"1"}, "confirm": {"1"}}},
		{"POST", "/admin/customer/payer-sync", url.Values{"id": {id}}},
	}
}

// do sends the route's request; with token it carries a valid CSRF token
// for the client's cookie, so only the admin check can refuse it.
func (st *staffSite) do(t *testing.T, c *http.Client, rt staffRoute, token bool) (int, string) {
	t.Helper()
	if rt.method == "GET" {
		return st.get(t, c, rt.path)
	}
	req, _ := http.NewRequest("POST", st.srv.URL+"/integrapay"+rt.path, strings.NewReader(rt.form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if token {
		// A first GET plants the CSRF cookie; the token is the server's HMAC of it.
		st.get(t, c, "/healthz")
		u, _ := url.Parse(st.srv.URL + "/integrapay/")
		for _, ck := range c.Jar.Cookies(u) {
			if ck.Name == CSRFCookie {
				req.Header.Set(CSRFHeader, st.server.csrf.token(ck.Value))
			}
		}
		if req.Header.Get(CSRFHeader) == "" {
			t.Fatal("no CSRF cookie")
		}
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b := new(strings.Builder)
	_, _ = fmt.Fprint(b, resp.Status)
	buf := make([]byte, 2048)
	n, _ := resp.Body.Read(buf)
	return resp.StatusCode, string(buf[:n])
}

func TestEveryStaffRouteRefusesNonAdmins(t *testing.T) {
	st := newStaffSite(t)
	methodsBefore, _ := st.db.ListMethods(context.Background(), 0)
	for _, who := range []struct {
		name string
		c    *http.Client
	}{
		{"no session", proxiedClient(t)},
		{"customer session", withSession(t, st.srv.URL, st.custSID)},
		{"made-up session", withSession(t, st.srv.URL, "forged")},
	} {
		for _, rt := range st.staffRoutes() {
			if code, body := st.do(t, who.c, rt, true); code != http.StatusForbidden {
				t.Errorf("%s: %s %s: %d, want 403: %.200s", who.name, rt.method, rt.path, code, body)
			}
		}
	}
	if n := len(st.ip.Ledger()); n != 0 {
		t.Fatalf("the gateway saw %d charges from non-admins", n)
	}
	if rows := st.trail(t, st.card); hasTrail(rows, "staff.method_added", "") || hasTrail(rows, "staff.payer_sync", "") {
		t.Fatalf("staff actions recorded for non-admins: %+v", rows)
	}
	if ms, _ := st.db.ListMethods(context.Background(), 0); len(ms) != len(methodsBefore) {
		t.Fatal("a method was saved by a non-admin")
	}
	// The admin gets every page.
	c := st.admin(t)
	for _, rt := range st.staffRoutes() {
		if rt.method != "GET" {
			continue
		}
		if code, body := st.do(t, c, rt, false); code != http.StatusOK {
			t.Errorf("admin: %s: %d %.200s", rt.path, code, body)
		}
	}
}

func TestEveryStaffPostNeedsTheCSRFToken(t *testing.T) {
	st := newStaffSite(t)
	c := st.admin(t)
	st.get(t, c, "/admin") // the cookie exists; only the token is missing
	for _, rt := range st.staffRoutes() {
		if rt.method != "POST" {
			continue
		}
		code, body := st.do(t, c, rt, false)
		if code != http.StatusForbidden || !strings.Contains(body, "did not come from this site") {
			t.Errorf("%s without a token: %d %.200s", rt.path, code, body)
		}
		forged := url.Values{}
		for k, v := range rt.form {
			forged[k] = v
		}
		forged.Set("csrf_token", "AAAA"+strings.Repeat("x", 39))
		if code, _ := st.do(t, c, staffRoute{"POST", rt.path, forged}, false); code != http.StatusForbidden {
			t.Errorf("%s with a forged token: %d", rt.path, code)
		}
	}
	if n := len(st.ip.Ledger()); n != 0 {
		t.Fatalf("the gateway saw %d charges without tokens", n)
	}
	if rows := st.trail(t, st.card); hasTrail(rows, "staff.pay_now", "") {
		t.Fatal("a staff action was recorded without a token")
	}
}

func TestAuditTrailPageFiltersAndCSV(t *testing.T) {
	st := newStaffSite(t)
	c := st.admin(t)
	st.post(t, c, "/admin/customer/pay", url.Values{"id": {fmt.Sprint(st.card)}, "kind": {"invoice"}, "doc": {fmt.Sprint(st.invCard)}, "confirm": {"1"}})
	st.post(t, c, "/admin/customer/pay", url.Values{"id": {fmt.Sprint(st.bank)}, "kind": {"invoice"}, "doc": {fmt.Sprint(st.invBank)}, "confirm": {"1"}})
	code, page := st.get(t, c, "/admin/audit")
	if code != http.StatusOK {
		t.Fatalf("%d", code)
	}
	for _, want := range []string{badge("staff.pay_now"), "admin #1", badge("charge.approved"), badge("charge.pending"), badge("run.started"), "Carla Card", "Bert Bank",
		fmt.Sprintf("/integrapay/admin/customer?id=%d", st.card), "203.0.113.9"} {
		if !strings.Contains(page, want) {
			t.Errorf("audit page lacks %q", want)
		}
	}
	_, page = st.get(t, c, fmt.Sprintf("/admin/audit?customer=%d&kind=staff.", st.bank))
	if !strings.Contains(page, "Bert Bank") || strings.Contains(page, "Carla Card") || strings.Contains(page, badge("charge.pending")) ||
		!strings.Contains(page, badge("staff.pay_now")) {
		t.Errorf("filtered page: %.3000s", page)
	}
	_, page = st.get(t, c, "/admin/audit?from=2026-11-03")
	if strings.Contains(page, badge("staff.pay_now")) {
		t.Error("the date filter let earlier rows through")
	}
	for _, bad := range []string{"?customer=abc", "?kind=drop+table", "?from=yesterday"} {
		if code, _ := st.get(t, c, "/admin/audit"+bad); code != http.StatusBadRequest {
			t.Errorf("%s: %d", bad, code)
		}
	}
	code, body := st.get(t, c, fmt.Sprintf("/admin/audit.csv?customer=%d", st.card))
	recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if code != http.StatusOK || err != nil || len(recs) < 3 || recs[0][0] != "id" {
		t.Fatalf("CSV %d %v: %s", code, err, body)
	}
	staff := 0
	for _, r := range recs[1:] {
		if r[4] != fmt.Sprint(st.card) {
			t.Errorf("CSV row of another customer: %v", r)
		}
		if r[3] == "staff.pay_now" && r[2] == "admin #1" && r[7] == "50.00" {
			staff++
		}
	}
	if staff != 1 {
		t.Errorf("CSV has %d staff pay rows: %v", staff, recs)
	}
}

func TestOverviewAfterANight(t *testing.T) {
	st := newStaffSite(t)
	c := st.admin(t)
	_, page := st.get(t, c, "/admin")
	if !strings.Contains(page, "No charges in this period") || !strings.Contains(page, "Would charge") {
		t.Fatalf("empty overview: %.2000s", page)
	}
	if _, err := st.en.Run(context.Background(), charge.Filters{Mode: charge.ModeInvoices},
		charge.RunOptions{Source: charge.SourceAuto, StartedBy: "schedule"}); err != nil {
		t.Fatal(err)
	}
	st.clk.Advance(forecastFor) // the forecast is planned again
	code, page := st.get(t, c, "/admin")
	if code != http.StatusOK {
		t.Fatalf("%d", code)
	}
	for class, n := range map[string]int{"settled": 1, "pending": 1, "declined": 1} {
		if got := strings.Count(page, `<rect class="`+class+`"`); got != n {
			t.Errorf("%d %s bars, want %d", got, class, n)
		}
	}
	reasons := page[strings.Index(page, `id="reasons"`):]
	reasons = reasons[:strings.Index(reasons, "</table>")]
	if !strings.Contains(reasons, "declined") || !strings.Contains(reasons, "20.51") {
		t.Errorf("reasons: %s", reasons)
	}
	for _, want := range []string{"Nov 2", "Pending bank debits", "30.00", "Last sync",
		"customer payment account is empty"} {
		if !strings.Contains(page, want) {
			t.Errorf("overview lacks %q", want)
		}
	}
	code, body := st.get(t, c, "/admin/overview.csv")
	recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if code != http.StatusOK || err != nil || len(recs) != overviewDays+1 {
		t.Fatalf("CSV %d %v: %d rows", code, err, len(recs))
	}
	last := recs[len(recs)-1]
	if last[0] != "2026-11-02" || last[1] != "50.00" || last[2] != "30.00" || last[3] != "20.51" {
		t.Fatalf("today's CSV row: %v", last)
	}
}

func badge(kind string) string { return `data-kind="` + kind + `">` + kind + `</span>` }

func TestNiceCeil(t *testing.T) {
	for in, want := range map[int64]int64{0: 100, 1: 1, 7: 8, 101: 120, 5000: 5000, 5001: 6000, 10051: 12000, 123456: 150000, 900: 1000} {
		if got := niceCeil(in); got != want {
			t.Errorf("niceCeil(%d) = %d, want %d", in, got, want)
		}
	}
}

func TestForecastGroupsSkipReasons(t *testing.T) {
	var items []charge.Item
	for i := range 30 {
		items = append(items, charge.Item{Skip: fmt.Sprintf("attempt SPABCDEFGHIJKLMNOP%02d is pending", i), Due: 100})
		items = append(items, charge.Item{Skip: fmt.Sprintf("attempt SPX%d declined; retry scheduled for 2026-11-%02d", i, 1+i%9), Due: 10})
		items = append(items, charge.Item{Skip: fmt.Sprintf("odd reason %d", i), Due: 1})
	}
	g := groupSkips(items)
	if len(g) != maxSkipRows || g[len(g)-1].Reason != "other reasons" {
		t.Fatalf("groups: %+v", g)
	}
	total := 0
	for _, c := range g {
		total += c.Count
	}
	if total != 90 || g[0].Count != 30 || !strings.HasPrefix(g[0].Reason, "an attempt ") {
		t.Fatalf("groups: %+v", g)
	}
}

// Actions on the Charge pages are staff actions too.
func TestChargePageActionsReachTheAuditTrail(t *testing.T) {
	st := newStaffSite(t)
	c := st.admin(t)
	_, page := st.get(t, c, "/charges/preview?mode=invoices")
	m := tokenRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no token")
	}
	code, loc, _ := st.post(t, c, "/charges/run", url.Values{"csrf_token": {m[1]}, "mode": {"invoices"}, "confirm": {"1"}})
	if code != http.StatusSeeOther {
		t.Fatalf("run: %d", code)
	}
	_ = loc
	var a store.ChargeAttempt
	for range 200 {
		var err error
		if a, err = st.db.LatestAttempt(context.Background(), fmt.Sprintf("invoice:%d", st.invCard)); err == nil && a.State == store.StateRecorded {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if a.State != store.StateRecorded {
		t.Fatalf("attempt %+v", a)
	}
	code, _, _ = st.post(t, c, fmt.Sprintf("/charges/attempts/%d/refund", a.ID), url.Values{"csrf_token": {m[1]}})
	if code != http.StatusSeeOther {
		t.Fatalf("refund: %d", code)
	}
	rows, _ := st.db.ListTrail(context.Background(), store.TrailFilter{Kind: "staff."})
	kinds := map[string]int64{}
	for _, r := range rows {
		if r.Actor == "admin #1" {
			kinds[r.Kind] = r.Amount
		}
	}
	if _, ok := kinds["staff.charge_run"]; !ok || kinds["staff.refund"] != 5000 {
		t.Fatalf("staff rows: %+v", rows)
	}
}
