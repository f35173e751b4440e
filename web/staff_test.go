package web

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/splynx-pay/splynx-pay/gateways"
	"github.com/splynx-pay/splynx-pay/gateways/integrapay/integrapaysim"
	"github.com/splynx-pay/splynx-pay/internal/clock"
	"github.com/splynx-pay/splynx-pay/internal/config"
	"github.com/splynx-pay/splynx-pay/internal/metrics"
	"github.com/splynx-pay/splynx-pay/internal/money"
	"github.com/splynx-pay/splynx-pay/internal/simstack"
	"github.com/splynx-pay/splynx-pay/splynx/splynxsim"
	"github.com/splynx-pay/splynx-pay/store"
	"github.com/splynx-pay/splynx-pay/sync/charge"
	"github.com/splynx-pay/splynx-pay/sync/mirror"
)

// staffSite is the add-on's pages over real simulators: Splynx with an
// administrator and three customers, IntegraPay, and the mirror synced.
type staffSite struct {
	server   *Server
	srv      *httptest.Server
	sp       *splynxsim.Sim
	ip       *integrapaysim.Sim
	db       *store.DB
	en       *charge.Engine // a second engine, as the nightly run's process
	clk      *clock.Fake
	adminSID string
	custSID  string
	// Customers: card holder (invoices 50.00 and 20.51, which the gateway
	// declines), bank account holder (30.00, a debit that stays pending),
	// and one with no method (15.00).
	card, bank, none          int64
	invCard, invDecl, invBank int64
	invNone                   int64
}

func newStaffSite(t *testing.T) *staffSite {
	t.Helper()
	ctx := context.Background()
	stack := simstack.Start(t, simstack.Options{Addon: config.IntegraPay,
		PaymentMethods: []splynxsim.PaymentMethod{{ID: 3, Name: "Credit card", IsActive: true}, {ID: 4, Name: "Direct debit", IsActive: true}},
		SplynxHTTP:     metrics.SplynxClient(), GatewayHTTP: metrics.GatewayClient("integrapay"),
		DBPath: filepath.Join(t.TempDir(), "w.db")})
	st := &staffSite{clk: stack.Clock, sp: stack.Splynx, ip: stack.IntegraPay, db: stack.DB}
	spc, gw := stack.SplynxClient, stack.Gateway
	set, err := config.ParseSettingsFor(config.IntegraPay, map[string]string{
		"payment_method_card": "3", "payment_method_bank": "4", "metrics_token": "scrape-me"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	st.card = st.sp.AddCustomer(splynxsim.Customer{Name: "Carla Card", Email: "carla@example.com", Status: "active"})
	st.bank = st.sp.AddCustomer(splynxsim.Customer{Name: "Bert Bank", Email: "bert@example.com", Status: "active"})
	st.none = st.sp.AddCustomer(splynxsim.Customer{Name: "Nina None", Email: "nina@example.com", Status: "active"})
	inv := func(c int64, total string) int64 {
		return st.sp.AddInvoice(splynxsim.Invoice{CustomerID: c, Total: money.MustParse(total), Status: "not_paid"})
	}
	st.invCard, st.invDecl = inv(st.card, "50.00"), inv(st.card, "20.51")
	st.invBank, st.invNone = inv(st.bank, "30.00"), inv(st.none, "15.00")
	if _, err := mirror.New(st.db, spc, mirror.Options{Clock: st.clk}).Full(ctx); err != nil {
		t.Fatal(err)
	}
	st.en = charge.New(st.db, spc, gw, charge.Options{Policy: mustPolicy(t, set), Clock: st.clk})
	payer := func(c int64, name string) gateways.Payer {
		return gateways.Payer{Reference: fmt.Sprint(c), CustomerID: c, GivenName: name, FamilyName: "Test", Email: "p@example.com", Country: "AU"}
	}
	if _, err := st.en.SaveMethod(ctx, gateways.SaveMethodRequest{Payer: payer(st.card, "Carla"),
		Card: &gateways.CardDetails{Number: "4111111111111111", ExpMonth: 12, ExpYear: 2030, CVV: "123"}}, "portal-v1"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.en.SaveMethod(ctx, gateways.SaveMethodRequest{Payer: payer(st.bank, "Bert"),
		Bank:          &gateways.BankDetails{Branch: "062000", AccountNumber: "12345678", AccountName: "Bert Test", AccountType: "SAVINGS"},
		Authorisation: gateways.Authorisation{AcceptedAt: st.clk.Now(), IP: "198.51.100.7"}}, "ddr-v1"); err != nil {
		t.Fatal(err)
	}
	s, err := New(Options{Addon: "splynx-integrapay", Prefix: "/integrapay", Deps: Deps{DB: st.db, Clock: st.clk,
		Settings: func(context.Context) (config.Settings, error) { return set, nil },
		Gateway:  func(context.Context) (gateways.Gateway, error) { return gw, nil },
		Splynx:   spc}})
	if err != nil {
		t.Fatal(err)
	}
	st.server = s
	st.srv = httptest.NewServer(operator(t, s))
	t.Cleanup(st.srv.Close)
	admin := st.sp.AddAdmin("alice", "pw", "")
	st.adminSID, st.custSID = st.sp.NewSession("admin", admin), st.sp.NewSession("customer", st.card)
	return st
}

func (st *staffSite) admin(t *testing.T) *http.Client { return withSession(t, st.srv.URL, st.adminSID) }

func (st *staffSite) get(t *testing.T, c *http.Client, path string) (int, string) {
	t.Helper()
	resp, err := c.Get(st.srv.URL + "/integrapay" + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// post sends a form with the client's CSRF token (read from a page first).
func (st *staffSite) post(t *testing.T, c *http.Client, path string, form url.Values) (int, string, string) {
	t.Helper()
	if form.Get("csrf_token") == "" {
		_, page := st.get(t, c, fmt.Sprintf("/admin/customer?id=%d", st.card))
		m := tokenRE.FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("no CSRF token on the customer tab: %.300s", page)
		}
		form.Set("csrf_token", m[1])
	}
	resp, err := c.PostForm(st.srv.URL+"/integrapay"+path, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(b)
}

// follow reads the page a POST redirected to.
func (st *staffSite) follow(t *testing.T, c *http.Client, loc string) string {
	t.Helper()
	code, body := st.get(t, c, strings.TrimPrefix(loc, "/integrapay"))
	if code != http.StatusOK {
		t.Fatalf("%s: %d %.300s", loc, code, body)
	}
	return body
}

func (st *staffSite) gatewayCharges(ref string) (n int, amount, refunded int64) {
	for _, e := range st.ip.Ledger() {
		if e.PayerRef == ref && e.Kind != "refund" {
			n++
			amount += e.Amount
			refunded += e.Refunded
		}
	}
	return
}

func (st *staffSite) trail(t *testing.T, customer int64) []store.TrailEntry {
	t.Helper()
	rows, err := st.db.ListTrail(context.Background(), store.TrailFilter{CustomerID: customer})
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func hasTrail(rows []store.TrailEntry, kind, actor string) bool {
	for _, r := range rows {
		if r.Kind == kind && (actor == "" || r.Actor == actor) {
			return true
		}
	}
	return false
}
