package web

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/splynx-pay/splynx-pay/gateways"
	"github.com/splynx-pay/splynx-pay/gateways/integrapay/integrapaysim"
	"github.com/splynx-pay/splynx-pay/gateways/ippay/ippaysim"
	"github.com/splynx-pay/splynx-pay/internal/clock"
	"github.com/splynx-pay/splynx-pay/internal/config"
	"github.com/splynx-pay/splynx-pay/internal/logging"
	"github.com/splynx-pay/splynx-pay/internal/money"
	"github.com/splynx-pay/splynx-pay/internal/simstack"
	"github.com/splynx-pay/splynx-pay/splynx"
	"github.com/splynx-pay/splynx-pay/splynx/splynxsim"
	"github.com/splynx-pay/splynx-pay/store"
	"github.com/splynx-pay/splynx-pay/sync/charge"
	"github.com/splynx-pay/splynx-pay/sync/mirror"
)

// Test payment details. The leak test looks for each of them everywhere
// the daemon writes.
const (
	testCard     = "4111111111111111"
	testCard2    = "5555555555554444"
	testCVV      = "8642"
	testBSB      = "062000"
	testAUAcct   = "12345678"
	testABA      = "021000021"
	testUSAcct   = "9876543210"
	johnLogin    = "john"
	johnPassword = "pw-john-1"
)

// lockedBuffer collects the daemon's log lines.
type lockedBuffer struct {
	mu      sync.Mutex
	b       bytes.Buffer
	discard bool // keep nothing (the page benchmark)
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.discard {
		return len(p), nil
	}
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// portalSite is one add-on's pages over the simulated Splynx and gateway.
type portalSite struct {
	t      testing.TB
	kind   config.Addon
	prefix string
	srv    *httptest.Server
	clk    *clock.Fake
	sp     *splynxsim.Sim
	ip     *integrapaysim.Sim
	pp     *ippaysim.Sim
	db     *store.DB
	dbPath string
	en     *charge.Engine
	spc    *splynx.Client
	set    config.Settings
	logs   *lockedBuffer
	served *lockedBuffer // every page body the tests received

	john, jane       int64 // customers
	inv1, inv2, pf1  int64 // John's documents
	janeInv          int64
	paidInv, goneInv int64
	johnSID          string // John's Splynx portal session
	adminSID         string
	server           *Server
}

type siteOption func(module map[string]string)

// siteLogLevel is the test site's log level (the benchmark logs as a
// production daemon does).
var siteLogLevel = "debug"

func newPortalSite(t testing.TB, kind config.Addon, opts ...siteOption) *portalSite {
	t.Helper()
	ps := &portalSite{t: t, kind: kind, logs: &lockedBuffer{}, served: &lockedBuffer{}}
	log, err := logging.New(siteLogLevel, ps.logs)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			l := ps.logs.String()
			t.Logf("daemon log (end):\n%s", l[max(0, len(l)-4000):])
		}
	})
	st := simstack.Start(t, simstack.Options{Addon: kind,
		PaymentMethods: []splynxsim.PaymentMethod{{ID: 2, Name: "Bank debit", IsActive: true}, {ID: 3, Name: "Credit card", IsActive: true}},
		GatewayLog:     log.Named("gateway"), DBPath: filepath.Join(t.TempDir(), "portal.db"), DBLog: log})
	ps.clk, ps.sp, ps.ip, ps.pp, ps.db, ps.dbPath = st.Clock, st.Splynx, st.IntegraPay, st.IPpay, st.DB, st.DBPath
	spc, gw := st.SplynxClient, st.Gateway
	module := map[string]string{"payment_method_card": "3", "payment_method_bank": "2"}
	switch kind {
	case config.IntegraPay:
		ps.prefix = "/integrapay"
		module["integrapay_username"] = "u"
		module["integrapay_password"] = "p"
		module["integrapay_business_id"] = integrapaysim.DefaultBusinessID
	case config.IPpay:
		ps.prefix = "/ippay"
		module["ippay_terminal_id"] = simstack.IPpayCardTerminal
		module["ippay_ach_terminal_id"] = simstack.IPpayACHTerminal
	}
	for _, o := range opts {
		o(module)
	}
	ps.set, err = config.ParseSettingsFor(kind, module, nil)
	if err != nil {
		t.Fatal(err)
	}

	ps.john = ps.sp.AddCustomer(splynxsim.Customer{Name: "John Smith", Login: johnLogin, Email: "john@example.com", Status: "active",
		Street1: "1 Main St", City: "Sydney", ZipCode: "2000"})
	ps.sp.SetCustomerPassword(ps.john, johnLogin, johnPassword)
	ps.sp.SetBilling(ps.john, func(b *splynxsim.Billing) { b.Deposit = money.MustParse("-5.00") })
	ps.jane = ps.sp.AddCustomer(splynxsim.Customer{Name: "Jane Other", Login: "jane", Email: "jane@example.com", Status: "active"})
	ps.inv1 = ps.sp.AddInvoice(splynxsim.Invoice{CustomerID: ps.john, Number: "2026110001", Total: money.MustParse("25.00")})
	ps.inv2 = ps.sp.AddInvoice(splynxsim.Invoice{CustomerID: ps.john, Number: "2026110002", Total: money.MustParse("30.00")})
	ps.pf1 = ps.sp.AddProforma(splynxsim.Proforma{CustomerID: ps.john, Number: "PF-0007", Total: money.MustParse("40.00"), Status: "not_paid"})
	ps.janeInv = ps.sp.AddInvoice(splynxsim.Invoice{CustomerID: ps.jane, Number: "2026110003", Total: money.MustParse("99.00")})
	ps.paidInv = ps.sp.AddInvoice(splynxsim.Invoice{CustomerID: ps.john, Number: "2026110004", Total: money.MustParse("10.00"), Status: "paid"})
	ps.goneInv = ps.sp.AddInvoice(splynxsim.Invoice{CustomerID: ps.john, Number: "2026110005", Total: money.MustParse("12.00")})
	ps.spc = spc
	ps.mirror()
	ps.en = charge.New(ps.db, spc, gw, charge.Options{Policy: mustPolicy(t, ps.set), Clock: ps.clk, Logger: log})
	s, err := New(Options{Addon: "splynx-" + string(kind), Prefix: ps.prefix, Deps: Deps{DB: ps.db, Clock: ps.clk, Log: log,
		Settings: func(context.Context) (config.Settings, error) { return ps.set, nil },
		Gateway:  func(context.Context) (gateways.Gateway, error) { return gw, nil },
		Splynx:   spc}})
	if err != nil {
		t.Fatal(err)
	}
	ps.srv = httptest.NewServer(tee(operator(t, s), ps.served))
	ps.server = s
	t.Cleanup(ps.srv.Close)
	ps.johnSID = ps.sp.NewSession("customer", ps.john)
	ps.adminSID = ps.sp.NewSession("admin", ps.sp.AddAdmin("admin", "pw", ""))
	return ps
}

// url is the full address of a page under the prefix.
func (ps *portalSite) url(p string) string { return ps.srv.URL + ps.prefix + p }

// visitor is a browser-like client (cookies, no redirects followed).
func (ps *portalSite) visitor(splynxSID string) *http.Client {
	c := cookieClient(ps.t)
	if splynxSID != "" {
		u, _ := url.Parse(ps.srv.URL)
		c.Jar.SetCookies(u, []*http.Cookie{{Name: "PHPSESSID", Value: splynxSID, Path: "/"}})
	}
	return c
}

type answer struct {
	code     int
	body     string
	location string
}

func (ps *portalSite) do(c *http.Client, method, p string, form url.Values) answer {
	ps.t.Helper()
	var resp *http.Response
	var err error
	if method == http.MethodGet {
		resp, err = c.Get(ps.url(p))
	} else {
		resp, err = c.PostForm(ps.url(p), form)
	}
	if err != nil {
		ps.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, string(b), resp.Header.Get("Location")}
}

func (ps *portalSite) get(c *http.Client, p string) answer { return ps.do(c, http.MethodGet, p, nil) }

// follow GETs a redirect's target (a path with the prefix).
func (ps *portalSite) follow(c *http.Client, a answer) answer {
	ps.t.Helper()
	if a.code != http.StatusSeeOther || !strings.HasPrefix(a.location, ps.prefix) {
		ps.t.Fatalf("want a redirect within %s, got %d %q: %.300s", ps.prefix, a.code, a.location, a.body)
	}
	return ps.get(c, strings.TrimPrefix(a.location, ps.prefix))
}

// post sends a form with the CSRF token of the page at from.
func (ps *portalSite) post(c *http.Client, from, p string, form url.Values) answer {
	ps.t.Helper()
	page := ps.get(c, from)
	m := tokenRE.FindStringSubmatch(page.body)
	if m == nil {
		ps.t.Fatalf("no CSRF token on %s (%d): %.300s", from, page.code, page.body)
	}
	if form == nil {
		form = url.Values{}
	}
	form.Set("csrf_token", m[1])
	return ps.do(c, http.MethodPost, p, form)
}

// cardValues is a filled card form.
func cardValues(number string) url.Values {
	return url.Values{"card_number": {number}, "exp_month": {"12"}, "exp_year": {"2030"}, "cvv": {testCVV}, "card_name": {"John Smith"}}
}

// bankForm is a filled bank form of the add-on with the agreement accepted.
func (ps *portalSite) bankForm() url.Values {
	if ps.kind == config.IPpay {
		return url.Values{"routing": {testABA}, "account_number": {testUSAcct}, "account_type": {"CHECKING"},
			"account_name": {"John Smith"}, "accept": {"1"}}
	}
	return url.Values{"bsb": {"062-000"}, "account_number": {testAUAcct}, "account_name": {"John Smith"}, "accept": {"1"}}
}

// secrets are the test details that must never be stored or shown.
func (ps *portalSite) secrets() []string {
	return []string{testCard, testCard2, "4111 1111 1111 1111", testBSB + testAUAcct, testAUAcct, testABA + testUSAcct, testUSAcct}
}

// ledger counts the charges the gateway simulator accepted (approved,
// pending or settled; not declined) and their sum in cents.
func (ps *portalSite) ledger() (n int, cents int64) {
	if ps.ip != nil {
		for _, e := range ps.ip.Ledger() {
			if e.Kind != "refund" && e.Status != "R" && e.Status != "F" {
				n++
				cents += e.Amount
			}
		}
		return
	}
	for _, e := range ps.pp.Ledger() {
		if (e.Type == "SALE" || e.Type == "CHECK") && e.State != "declined" {
			n++
			cents += e.Amount
		}
	}
	return
}

// splynxPaid is the sum and count of payments in the simulated Splynx.
func (ps *portalSite) splynxPaid() (n int, cents int64) {
	for _, p := range ps.sp.Payments() {
		n++
		cents += int64(p.Amount)
	}
	return
}

var attemptLinkRE = regexp.MustCompile(`/payments/(\d+)$`)

var (
	onceFieldRE = regexp.MustCompile(`name="once" value="([A-Z2-7]+)"`)
	actionRE    = regexp.MustCompile(`<form method="post" action="([^"]+)"`)
)

// mirror syncs the simulated Splynx into the database, as the daemon does.
func (ps *portalSite) mirror() {
	ps.t.Helper()
	if _, err := mirror.New(ps.db, ps.spc, mirror.Options{Clock: ps.clk}).Full(context.Background()); err != nil {
		ps.t.Fatal(err)
	}
}

// tee copies every response body the site serves into w (the leak test
// reads it).
func tee(h http.Handler, w io.Writer) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(teeWriter{rw, w}, r)
	})
}

type teeWriter struct {
	http.ResponseWriter
	copy io.Writer
}

func (t teeWriter) Write(b []byte) (int, error) {
	_, _ = t.copy.Write(b)
	return t.ResponseWriter.Write(b)
}

var regexpSig = regexp.MustCompile(`name="sig" value="([^"]+)"`)
