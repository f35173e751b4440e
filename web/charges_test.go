package web

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/splynx-pay/splynx-pay/gateways"
	"github.com/splynx-pay/splynx-pay/internal/config"
	"github.com/splynx-pay/splynx-pay/internal/money"
	"github.com/splynx-pay/splynx-pay/internal/simstack"
	"github.com/splynx-pay/splynx-pay/internal/wire"
	"github.com/splynx-pay/splynx-pay/splynx/splynxsim"
	"github.com/splynx-pay/splynx-pay/store"
	"github.com/splynx-pay/splynx-pay/sync/charge"
	"github.com/splynx-pay/splynx-pay/sync/mirror"
)

type chargeSite struct {
	srv      *httptest.Server
	sp       *splynxsim.Sim
	db       *store.DB
	adminSID string
	custSID  string
}

func newChargeSite(t *testing.T) *chargeSite {
	t.Helper()
	ctx := context.Background()
	st := simstack.Start(t, simstack.Options{Addon: config.IntegraPay,
		PaymentMethods: []splynxsim.PaymentMethod{{ID: 3, Name: "Credit card", IsActive: true}},
		DBPath:         filepath.Join(t.TempDir(), "w.db")})
	clk, sp, spc, gw, db := st.Clock, st.Splynx, st.SplynxClient, st.Gateway, st.DB
	set, err := config.ParseSettingsFor(config.IntegraPay, map[string]string{"payment_method_card": "3"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	set.GatewayRateLimit = 0 // no pacing, as before the engine took a validated policy
	pol, err := wire.ChargePolicy(set)
	if err != nil {
		t.Fatal(err)
	}
	cust := sp.AddCustomer(splynxsim.Customer{Name: "Web Payer", Email: "w@example.com"})
	sp.AddInvoice(splynxsim.Invoice{CustomerID: cust, Total: money.MustParse("25.00"), Status: "not_paid"})
	if _, err := mirror.New(db, spc, mirror.Options{Clock: clk}).Full(ctx); err != nil {
		t.Fatal(err)
	}
	en := charge.New(db, spc, gw, charge.Options{Policy: pol, Clock: clk})
	if _, err := en.SaveMethod(ctx, gateways.SaveMethodRequest{Payer: gateways.Payer{Reference: "1", CustomerID: cust,
		GivenName: "Web", FamilyName: "Payer", Email: "w@example.com", Country: "AU"},
		Card: &gateways.CardDetails{Number: "4111111111111111", ExpMonth: 12, ExpYear: 2030, CVV: "123"}}, "test"); err != nil {
		t.Fatal(err)
	}
	s, err := New(Options{Addon: "splynx-integrapay", Prefix: "/integrapay", Deps: Deps{DB: db, Clock: clk,
		Settings: func(context.Context) (config.Settings, error) { return set, nil },
		Gateway:  func(context.Context) (gateways.Gateway, error) { return gw, nil },
		Splynx:   spc}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(operator(t, s))
	t.Cleanup(srv.Close)
	admin := sp.AddAdmin("admin", "pw", "")
	return &chargeSite{srv: srv, sp: sp, db: db, adminSID: sp.NewSession("admin", admin), custSID: sp.NewSession("customer", cust)}
}

func (cs *chargeSite) get(t *testing.T, c *http.Client, path string) (int, string) {
	t.Helper()
	resp, err := c.Get(cs.srv.URL + "/integrapay" + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// viaNginx marks every request as proxied by the Splynx host's nginx, as
// real visitors' requests are: only then does the admin check apply.
type viaNginx struct{ next http.RoundTripper }

func (v viaNginx) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("X-Forwarded-For", "203.0.113.9")
	r.Header.Set("X-Real-IP", "203.0.113.9")
	return v.next.RoundTrip(r)
}

func proxiedClient(t *testing.T) *http.Client {
	c := cookieClient(t)
	c.Transport = viaNginx{http.DefaultTransport}
	return c
}

func withSession(t *testing.T, base, sid string) *http.Client {
	c := proxiedClient(t)
	u, _ := url.Parse(base)
	c.Jar.SetCookies(u, []*http.Cookie{{Name: SplynxSessionCookie, Value: sid, Path: "/"}})
	return c
}

func TestChargePagesNeedASplynxAdmin(t *testing.T) {
	cs := newChargeSite(t)
	cases := []struct {
		name   string
		client *http.Client
		want   int
	}{
		{"no session", proxiedClient(t), http.StatusForbidden},
		{"customer session", withSession(t, cs.srv.URL, cs.custSID), http.StatusForbidden},
		{"made-up session", withSession(t, cs.srv.URL, "nope"), http.StatusForbidden},
		{"admin session", withSession(t, cs.srv.URL, cs.adminSID), http.StatusOK},
	}
	for _, c := range cases {
		if got, body := cs.get(t, c.client, "/charges"); got != c.want {
			t.Errorf("%s: %d, want %d: %.200s", c.name, got, c.want, body)
		}
	}
}

var runLinkRE = regexp.MustCompile(`/integrapay/charges/(\d+)$`)

func TestChargeFromPreviewToLog(t *testing.T) {
	cs := newChargeSite(t)
	c := withSession(t, cs.srv.URL, cs.adminSID)
	code, body := cs.get(t, c, "/charges/preview?mode=invoices&from=2026-11-01&to=2026-11-30")
	if code != http.StatusOK || !strings.Contains(body, "Confirm charge of 25.00 for 1 item(s)") {
		t.Fatalf("preview %d: %s", code, body)
	}
	m := tokenRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no CSRF token on the preview")
	}
	form := url.Values{"csrf_token": {m[1]}, "mode": {"invoices"}, "from": {"2026-11-01"}, "to": {"2026-11-30"}}
	// Without the confirmation nothing is charged.
	resp, err := c.PostForm(cs.srv.URL+"/integrapay/charges/run", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("unconfirmed run: %d", resp.StatusCode)
	}
	form.Set("confirm", "1")
	resp, err = c.PostForm(cs.srv.URL+"/integrapay/charges/run", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	lm := runLinkRE.FindStringSubmatch(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || lm == nil {
		t.Fatalf("run: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	var page string
	for range 100 {
		_, page = cs.get(t, c, "/charges/"+lm[1])
		// The run is over once the page stops refreshing; the write-back
		// stores the Splynx payment's id a moment after creating it.
		if !strings.Contains(page, "http-equiv=\"refresh\"") && strings.Contains(page, "recorded") {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(page, "recorded") || len(cs.sp.Payments()) != 1 {
		t.Fatalf("run page (Splynx has %d payments): %s", len(cs.sp.Payments()), page)
	}
	code, log := cs.get(t, c, "/charges/"+lm[1]+"/log")
	if code != http.StatusOK || !strings.Contains(log, "ERRORS") || !strings.Contains(log, "OUTPUT") ||
		!strings.Contains(log, "Amount: 25.00 AUD") {
		t.Fatalf("log %d:\n%s", code, log)
	}
	if strings.Contains(page+log, "4111111111111111") {
		t.Fatal("a card number reached a page")
	}
	_, hist := cs.get(t, c, "/charges")
	if !strings.Contains(hist, ">admin<") {
		t.Errorf("history does not list the admin run: %s", hist)
	}
}

// A charge whose outcome is unknown or in review blocks its invoice; the
// Charge page lists it so staff see it without opening every run.
func TestChargePageListsOpenOutcomes(t *testing.T) {
	cs := newChargeSite(t)
	c := withSession(t, cs.srv.URL, cs.adminSID)
	if _, body := cs.get(t, c, "/charges"); strings.Contains(body, "open outcome") {
		t.Fatalf("open outcomes listed with none open")
	}
	ctx := context.Background()
	now := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	for i, st := range []store.AttemptState{store.StateUnknown, store.StateReview} {
		a := &store.ChargeAttempt{ChargeKey: fmt.Sprintf("invoice:%d", 900+i), Kind: store.KindInvoice, InvoiceID: int64(900 + i),
			CustomerID: 1, Amount: 4200, Currency: "AUD", Reference: fmt.Sprintf("SPOPEN%012d", i)}
		if err := cs.db.CreateAttempt(ctx, a, now); err != nil {
			t.Fatal(err)
		}
		if err := cs.db.TransitionAttempt(ctx, a.ID, []store.AttemptState{store.StateCreated}, store.StateSending, store.Change{Sent: true}, now, nil); err != nil {
			t.Fatal(err)
		}
		if err := cs.db.TransitionAttempt(ctx, a.ID, []store.AttemptState{store.StateSending}, store.StateUnknown, store.Change{}, now, nil); err != nil {
			t.Fatal(err)
		}
		if st == store.StateReview {
			if err := cs.db.TransitionAttempt(ctx, a.ID, []store.AttemptState{store.StateUnknown}, store.StateReview, store.Change{Message: "check it at the gateway"}, now, nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	_, body := cs.get(t, c, "/charges")
	for _, want := range []string{"Charges with an open outcome", "SPOPEN000000000000", "SPOPEN000000000001", "invoice:901", `class="bad">review`, "check it at the gateway", "Not charged"} {
		if !strings.Contains(body, want) {
			t.Errorf("the Charge page lacks %q", want)
		}
	}
	// Staff found nothing at the gateway: the review is decided, audited,
	// and the invoice is free to be charged again.
	m := tokenRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no CSRF token on the Charge page")
	}
	review, err := cs.db.AttemptByReference(ctx, "SPOPEN000000000001")
	if err != nil {
		t.Fatal(err)
	}
	decide := func(form url.Values) (int, string) {
		t.Helper()
		form.Set("csrf_token", m[1])
		resp, err := c.PostForm(fmt.Sprintf("%s/integrapay/charges/attempts/%d/decide", cs.srv.URL, review.ID), form)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	// The button asks first: nothing is decided until the confirm.
	code, page := decide(url.Values{"decision": {"not_charged"}})
	if code != http.StatusOK {
		t.Fatalf("decide button: %d %.300s", code, page)
	}
	for _, want := range []string{"Record that SPOPEN000000000001 was not charged?", "invoice:901", "42.00", "may be charged again",
		`name="confirm" value="1"`, `name="decision" value="not_charged"`, "Yes, it was not charged"} {
		if !strings.Contains(page, want) {
			t.Errorf("the confirm step lacks %q", want)
		}
	}
	if got, _ := cs.db.GetAttempt(ctx, review.ID); got.State != store.StateReview {
		t.Fatalf("decided before the confirm: %s", got.State)
	}
	if code, _ := decide(url.Values{"decision": {"maybe"}, "confirm": {"1"}}); code != http.StatusBadRequest {
		t.Fatalf("an unknown decision: %d", code)
	}
	if code, _ := decide(url.Values{"decision": {"not_charged"}, "confirm": {"1"}}); code != http.StatusSeeOther {
		t.Fatalf("decide: %d", code)
	}
	// Sent again (a reload of the confirm): refused, nothing changes.
	if code, page := decide(url.Values{"decision": {"charged"}, "confirm": {"1"}}); code != http.StatusConflict || !strings.Contains(page, "Not decided") {
		t.Fatalf("decided twice: %d %.300s", code, page)
	}
	got, _ := cs.db.GetAttempt(ctx, review.ID)
	if got.State != store.StateDeclined || got.Code != charge.CodeNotSent {
		t.Fatalf("after the decision: %s %s", got.State, got.Code)
	}
	if audit, _ := cs.db.AuditLog(ctx, "charge.review_decided", 5); len(audit) != 1 || audit[0].Fields["decision"] != "not_charged" {
		t.Fatalf("audit %+v", audit)
	}
	if _, body := cs.get(t, c, "/charges"); strings.Contains(body, "SPOPEN000000000001") {
		t.Error("the decided charge is still listed as open")
	}
}
