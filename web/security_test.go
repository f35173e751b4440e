package web

// Security tests of issue 15 for the pages: one customer against another
// by every route and parameter, customers against staff routes, direct
// links against walking, open redirects, session fixation, and text from
// Splynx that tries to be markup or a spreadsheet formula. Each test says
// which protection it checks; the issue note says how each was seen to
// fail with that protection removed.

import (
	"encoding/csv"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/splynx-pay/splynx-pay/internal/config"
	"github.com/splynx-pay/splynx-pay/internal/money"
	"github.com/splynx-pay/splynx-pay/splynx/splynxsim"
	"github.com/splynx-pay/splynx-pay/store"
)

// routeClass says who may use a route and so what the cross-customer
// test expects of it.
type routeClass int

const (
	// customerRoute takes the customer from the session: with B's ids it
	// must show and do nothing of B's, and it must serve A (not send A to
	// the login form, which would make the test pass vacuously).
	customerRoute routeClass = iota + 1
	// staffOnlyRoute is for Splynx administrators (or the server itself): a
	// customer's session through nginx gets 403.
	staffOnlyRoute
	// linkRoute is a direct payment link, open without a login by design;
	// with direct_pay_require_signature an unsigned link to B's document
	// is refused like any other.
	linkRoute
	// publicRoute serves no customer data (health, stylesheets).
	publicRoute
)

// securityRoutes classifies every route the server registers, as given to
// Server.Handle. A route added later without a line here fails
// TestCrossCustomerEveryRouteAndParameter: decide what it is and add it.
var securityRoutes = map[string]routeClass{
	"GET /static/{file}": publicRoute,
	"GET /healthz":       publicRoute,
	"GET /status":        staffOnlyRoute,

	"GET /charges":                       staffOnlyRoute,
	"GET /charges/preview":               staffOnlyRoute,
	"POST /charges/run":                  staffOnlyRoute,
	"GET /charges/{id}":                  staffOnlyRoute,
	"GET /charges/{id}/log":              staffOnlyRoute,
	"POST /charges/{id}/cancel":          staffOnlyRoute,
	"POST /charges/attempts/{id}/refund": staffOnlyRoute,
	"POST /charges/attempts/{id}/retry":  staffOnlyRoute,
	"POST /charges/attempts/{id}/decide": staffOnlyRoute,
	"GET /admin/staff.css":               publicRoute,
	"GET /admin/customer":                staffOnlyRoute,
	"POST /admin/customer/pay":           staffOnlyRoute,
	"POST /admin/customer/retry":         staffOnlyRoute,
	"POST /admin/customer/refund":        staffOnlyRoute,
	"POST /admin/customer/method":        staffOnlyRoute,
	"POST /admin/customer/method/remove": staffOnlyRoute,
	"POST /admin/customer/payer-sync":    staffOnlyRoute,
	"POST /admin/customer/decide":        staffOnlyRoute,
	"POST /admin/customer/keep":          staffOnlyRoute,
	"GET /admin":                         staffOnlyRoute,
	"GET /admin/overview.csv":            staffOnlyRoute,
	"GET /admin/audit":                   staffOnlyRoute,
	"GET /admin/audit.csv":               staffOnlyRoute,
	"GET /metrics":                       staffOnlyRoute,
	"GET /{$}":                           customerRoute,
	"POST /{$}":                          customerRoute,
	"GET /login":                         customerRoute,
	"POST /login":                        customerRoute,
	"POST /logout":                       customerRoute,
	"GET /methods":                       customerRoute,
	"POST /methods/card":                 customerRoute,
	"POST /methods/hosted/bank":          customerRoute,
	"GET /hosted/return":                 customerRoute,
	"POST /methods/bank":                 customerRoute,
	"POST /methods/{id}/remove":          customerRoute,
	"GET /invoices":                      customerRoute,
	"GET /pay/{kind}/{id}":               customerRoute,
	"POST /pay/{kind}/{id}":              customerRoute,
	"GET /payments/{id}":                 customerRoute,
	"GET /widget":                        customerRoute,
	"GET /direct-pay-invoice":            linkRoute,
	"GET /direct-pay-invoice-by-id":      linkRoute,
	"GET /direct-pay-proforma":           linkRoute,
	"GET /direct-pay-proforma-by-id":     linkRoute,
	"POST /direct-pay/{kind}/{id}":       linkRoute,
	"GET /direct-pay/result":             linkRoute,
}

// idParams are the names a handler could read an id or number from; every
// request of the cross-customer test carries all of them, in the query
// and in the form, set to one of B's values.
var idParams = []string{"id", "customer", "customer_id", "cid", "item_id", "invoice", "invoice_id", "proforma", "proforma_id",
	"doc", "doc_id", "number", "method", "method_id", "attempt", "attempt_id", "payment", "payment_id", "run", "run_id", "ref", "owner"}

// victim is customer B: the records A tries to reach and the text that
// must never reach A.
type victim struct {
	id                  int64
	inv, paidInv, pf    int64
	method, attempt     int64
	values              []string // every id and number of B's, for paths, queries and forms
	secrets             []string // what of B's must never appear in A's answers
	invNumber, pfNumber string
}

// twoCustomers adds Alice (A, logged in) and Bob (B, with a saved card, a
// paid invoice, an unpaid invoice and a proforma) to a portal site. Their
// Splynx ids are set far apart from each other and from the site's John
// and Jane, so that none of B's values is also one of A's in another
// namespace (B's method 1 must not be A's invoice 1: A paying her own
// invoice is not an attack).
func twoCustomers(t *testing.T, ps *portalSite) (alice int64, aliceSID string, b victim) {
	t.Helper()
	alice = ps.sp.AddCustomer(splynxsim.Customer{ID: 5001, Name: "Alice Asker", Login: "alice", Email: "alice@example.com", Status: "active"})
	ps.sp.AddInvoice(splynxsim.Invoice{ID: 5101, CustomerID: alice, Number: "A-5101", Total: money.MustParse("12.34")})
	b.id = ps.sp.AddCustomer(splynxsim.Customer{ID: 6001, Name: "Bob Victim", Login: "bob", Email: "bob@victim.example", Status: "active",
		Street1: "9 Victim Lane"})
	b.invNumber, b.pfNumber = "B-INV-6101", "B-PF-6201"
	b.inv = ps.sp.AddInvoice(splynxsim.Invoice{ID: 6101, CustomerID: b.id, Number: b.invNumber, Total: money.MustParse("99.13")})
	b.paidInv = ps.sp.AddInvoice(splynxsim.Invoice{ID: 6102, CustomerID: b.id, Number: "B-INV-6102", Total: money.MustParse("61.37")})
	b.pf = ps.sp.AddProforma(splynxsim.Proforma{ID: 6201, CustomerID: b.id, Number: b.pfNumber, Total: money.MustParse("45.71"), Status: "not_paid"})
	ps.mirror()

	// Bob saves a card and pays one invoice: a method and an attempt of his.
	bob := ps.visitor(ps.sp.NewSession("customer", b.id))
	if a := ps.post(bob, "/methods", "/methods/card", cardValues(testCard2)); a.code != http.StatusSeeOther {
		t.Fatalf("bob's card: %d %.300s", a.code, a.body)
	}
	pay := fmt.Sprintf("/pay/invoice/%d", b.paidInv)
	res := ps.post(bob, pay, pay, url.Values{"use": {"saved"}, "amount": {"61.37"}})
	m := attemptLinkRE.FindStringSubmatch(res.location)
	if m == nil {
		t.Fatalf("bob's payment: %d %q %.300s", res.code, res.location, res.body)
	}
	bm, err := ps.db.ActiveMethod(t.Context(), b.id)
	if err != nil {
		t.Fatal(err)
	}
	as, err := ps.db.ListAttempts(t.Context(), store.AttemptFilter{CustomerID: b.id})
	if err != nil || len(as) != 1 {
		t.Fatalf("bob's attempts: %+v %v", as, err)
	}
	b.method, b.attempt = bm.ID, as[0].ID
	b.values = []string{fmt.Sprint(b.id), fmt.Sprint(b.inv), fmt.Sprint(b.paidInv), fmt.Sprint(b.pf), fmt.Sprint(b.method),
		fmt.Sprint(b.attempt), b.invNumber, b.pfNumber, "B-INV-6102"}
	b.secrets = []string{"Bob Victim", "bob@victim.example", "9 Victim Lane", b.invNumber, "B-INV-6102", b.pfNumber,
		"99.13", "61.37", "45.71", bm.Mask, "4444", as[0].Reference}
	// None of B's values may be one of A's: A has customer 5001, invoice
	// 5101 and the methods the test makes her save (ids after Bob's).
	for _, v := range b.values {
		if v == "5001" || v == "5101" || v == fmt.Sprint(b.method+1) || v == fmt.Sprint(b.method+2) {
			t.Fatalf("B's value %s is also one of A's; move the ids apart", v)
		}
	}
	return alice, ps.sp.NewSession("customer", alice), b
}

// siteState is what an attack must not change.
type siteState struct {
	ledgerN, paidN         int
	ledgerCents, paidCents int64
	attempts               int
	bMethods               string
	bInvoice               string
}

func (ps *portalSite) state(t *testing.T, b victim) siteState {
	t.Helper()
	var s siteState
	s.ledgerN, s.ledgerCents = ps.ledger()
	s.paidN, s.paidCents = ps.splynxPaid()
	if err := rawSQL(t, ps.db).QueryRow(`SELECT count(*) FROM charge_attempts`).Scan(&s.attempts); err != nil {
		t.Fatal(err)
	}
	ms, err := ps.db.ListMethods(t.Context(), b.id)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		s.bMethods += fmt.Sprintf("%d:%s ", m.ID, m.Status)
	}
	inv, _ := ps.sp.Invoice(b.inv)
	s.bInvoice = inv.Status + " " + inv.Due.String()
	return s
}

// throughNginx is a browser visitor whose requests come through the
// Splynx host's nginx (forwarding headers set), so no loopback trust
// applies.
func (ps *portalSite) throughNginx(splynxSID string) *http.Client {
	c := ps.visitor(splynxSID)
	c.Transport = viaNginx{http.DefaultTransport}
	return c
}

// expand fills a registered pattern's wildcards with v (and each document
// kind for {kind}); it fails on a wildcard it does not know.
func expand(t *testing.T, pattern, v string) []string {
	t.Helper()
	paths := []string{pattern}
	for _, w := range regexp.MustCompile(`\{[^}]+\}`).FindAllString(pattern, -1) {
		var subs []string
		switch w {
		case "{$}":
			subs = []string{""}
		case "{id}":
			subs = []string{url.PathEscape(v)}
		case "{kind}":
			subs = []string{store.KindInvoice, store.KindProforma}
		case "{file}":
			subs = []string{"site.css"}
		default:
			t.Fatalf("%s: wildcard %s is new to the security test: say what to put in it", pattern, w)
		}
		var next []string
		for _, p := range paths {
			for _, s := range subs {
				next = append(next, strings.Replace(p, w, s, 1))
			}
		}
		paths = next
	}
	return paths
}

// TestCrossCustomerEveryRouteAndParameter: customer A, logged in through
// the Splynx portal and reaching the daemon through nginx, sends every
// route the server registers with each of B's ids and numbers in the
// path, in every id-like query parameter and in every id-like form field
// (valid card details included, so a handler that took the customer from
// the form would save or charge for B). No answer may show anything of
// B's; the gateway's and Splynx's ledgers, the charge attempts and B's
// methods and invoice stay as they were. Customer sessions get 403 on
// every staff route. Direct links run with signatures required, so an
// unsigned link to B's document is refused too.
func TestCrossCustomerEveryRouteAndParameter(t *testing.T) {
	ps := newPortalSite(t, config.IntegraPay, func(m map[string]string) {
		m["direct_pay_link_key"] = "test-link-key-0123456789"
		m["direct_pay_require_signature"] = "1"
		m["direct_pay_rate_limit"] = "10000"
	})
	_, aliceSID, b := twoCustomers(t, ps)

	// Every registered route is classified, and every classified route exists.
	ps.server.mu.Lock()
	var routes []string
	for _, r := range ps.server.routes { // "GET /integrapay/x" → "GET /x"
		if method, path, ok := strings.Cut(r, " "); ok {
			r = method + " " + strings.TrimPrefix(path, ps.server.opts.Prefix)
		} else {
			r = strings.TrimPrefix(r, ps.server.opts.Prefix)
		}
		routes = append(routes, r)
	}
	ps.server.mu.Unlock()
	sort.Strings(routes)
	for _, r := range routes {
		if securityRoutes[r] == 0 {
			t.Errorf("route %q is not in securityRoutes: add it with its class (portal, staff, link or public)", r)
		}
	}
	for r := range securityRoutes {
		if !slices.Contains(routes, r) {
			t.Errorf("securityRoutes lists %q, which the server does not register", r)
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	alice := ps.throughNginx(aliceSID)
	first := ps.get(alice, "/methods")
	tok := tokenRE.FindStringSubmatch(first.body)
	if first.code != http.StatusOK || tok == nil || !strings.Contains(first.body, "Alice Asker") {
		t.Fatalf("alice's own page: %d %.300s", first.code, first.body)
	}
	before := ps.state(t, b)
	requests := 0
	for _, pattern := range routes {
		class := securityRoutes[pattern]
		method, p, _ := strings.Cut(pattern, " ")
		for _, v := range b.values {
			q := url.Values{}
			for _, n := range idParams {
				q.Set(n, v)
			}
			form := cardValues(testCard)
			for k, vs := range q {
				form[k] = vs
			}
			form.Set("use", "saved")
			form.Set("amount", "99.13")
			form.Set("new_kind", "card")
			form.Set("confirm", "1")
			form.Set("csrf_token", tok[1])
			for _, path := range expand(t, p, v) {
				target := path + "?" + q.Encode()
				var a answer
				if method == http.MethodGet {
					a = ps.get(alice, target)
				} else {
					a = ps.do(alice, http.MethodPost, target, form)
				}
				requests++
				what := method + " " + target
				for _, s := range b.secrets {
					if method == http.MethodPost && s == form.Get("amount") {
						continue // A's own input shown again (the refill form), not B's data
					}
					if strings.Contains(a.body, s) || strings.Contains(a.location, s) {
						t.Errorf("%s: the answer (%d) shows B's %q: %.300s", what, a.code, s, a.body)
					}
				}
				switch class {
				case staffOnlyRoute:
					if a.code != http.StatusForbidden && a.code != http.StatusUnauthorized {
						t.Errorf("%s: a customer's session got %d, want 403", what, a.code)
					}
				case customerRoute:
					if a.code == http.StatusUnauthorized || strings.Contains(a.location, "/login") {
						t.Errorf("%s: A was not served as A (%d %q): the test would prove nothing", what, a.code, a.location)
					}
				case linkRoute:
					if a.code >= 200 && a.code < 400 && !strings.HasSuffix(pattern, "/result") {
						t.Errorf("%s: an unsigned link was served (%d) with signatures required", what, a.code)
					}
				}
				if after := ps.state(t, b); after != before {
					t.Fatalf("%s changed what A may not change:\nbefore %+v\nafter  %+v", what, before, after)
				}
			}
		}
	}
	// A was herself throughout: her own pages still show her.
	if a := ps.get(alice, "/invoices"); a.code != http.StatusOK || !strings.Contains(a.body, "A-5101") {
		t.Fatalf("alice's invoices at the end: %d %.300s", a.code, a.body)
	}
	t.Logf("%d routes, %d requests with B's ids; nothing of B's shown or changed", len(routes), requests)
}

// TestRefillTakesTheCustomerFromTheSession: a balance top-up with B's id
// in every field charges A's own method for A, never B.
func TestRefillTakesTheCustomerFromTheSession(t *testing.T) {
	ps := newPortalSite(t, config.IPpay)
	alice, aliceSID, b := twoCustomers(t, ps)
	c := ps.throughNginx(aliceSID)
	if a := ps.post(c, "/methods", "/methods/card", cardValues(testCard)); a.code != http.StatusSeeOther {
		t.Fatalf("alice's card: %d %.300s", a.code, a.body)
	}
	page := ps.get(c, "/")
	once := onceFieldRE.FindStringSubmatch(page.body)
	if once == nil {
		t.Fatalf("refill page: %.300s", page.body)
	}
	f := url.Values{"amount": {"20.00"}, "type": {"card"}, "once": {once[1]}}
	for _, n := range idParams {
		f.Set(n, fmt.Sprint(b.id))
	}
	res := ps.post(c, "/", "/?customer_id="+fmt.Sprint(b.id), f)
	if res.code != http.StatusSeeOther {
		t.Fatalf("refill: %d %.300s", res.code, res.body)
	}
	as, _ := ps.db.ListAttempts(t.Context(), store.AttemptFilter{CustomerID: alice})
	if len(as) != 1 || as[0].Kind != store.KindRefill || as[0].Amount != 2000 {
		t.Fatalf("alice's attempts: %+v", as)
	}
	if bs, _ := ps.db.ListAttempts(t.Context(), store.AttemptFilter{CustomerID: b.id}); len(bs) != 1 {
		t.Fatalf("B has %d attempts, want only his own payment", len(bs))
	}
}

// TestDirectLinksShowOnlyTheDocument: without signatures a direct link is
// open by design (anyone with the link may pay that document); it shows
// the document's number, amount and the masked name, never the name, the
// e-mail, the address or B's other documents.
func TestDirectLinksShowOnlyTheDocument(t *testing.T) {
	ps := newPortalSite(t, config.IntegraPay)
	_, aliceSID, b := twoCustomers(t, ps)
	for _, c := range []*http.Client{ps.visitor(""), ps.throughNginx(aliceSID)} {
		for _, link := range []string{
			"/direct-pay-invoice?item_id=" + b.invNumber,
			fmt.Sprintf("/direct-pay-invoice-by-id?item_id=%d", b.inv),
			"/direct-pay-proforma?item_id=" + b.pfNumber,
			fmt.Sprintf("/direct-pay-proforma-by-id?item_id=%d", b.pf),
		} {
			a := ps.get(c, link)
			if a.code != http.StatusOK || !strings.Contains(a.body, "B** V*****") {
				t.Fatalf("%s: %d %.300s", link, a.code, a.body)
			}
			for _, s := range []string{"Bob Victim", "Victim", "bob@victim.example", "9 Victim Lane", "B-INV-6102"} {
				if strings.Contains(a.body, s) {
					t.Errorf("%s shows %q", link, s)
				}
			}
		}
	}
}

// TestDirectLinksCannotBeWalkedFasterThanTheLimit: each of the four link
// kinds, the link's pay form and its result page count against the per-IP
// limit; past it every one answers 429, and another address is not held
// up by it.
func TestDirectLinksCannotBeWalkedFasterThanTheLimit(t *testing.T) {
	const limit = 4
	ps := newPortalSite(t, config.IntegraPay, func(m map[string]string) { m["direct_pay_rate_limit"] = fmt.Sprint(limit) })
	links := []struct {
		name string
		req  func(c *http.Client, i int) answer
	}{
		{"invoice by number", func(c *http.Client, i int) answer {
			return ps.get(c, fmt.Sprintf("/direct-pay-invoice?item_id=20261100%02d", 10+i))
		}},
		{"invoice by id", func(c *http.Client, i int) answer {
			return ps.get(c, fmt.Sprintf("/direct-pay-invoice-by-id?item_id=%d", 1000+i))
		}},
		{"proforma by number", func(c *http.Client, i int) answer {
			return ps.get(c, fmt.Sprintf("/direct-pay-proforma?item_id=PF-%04d", 100+i))
		}},
		{"proforma by id", func(c *http.Client, i int) answer {
			return ps.get(c, fmt.Sprintf("/direct-pay-proforma-by-id?item_id=%d", 1000+i))
		}},
		{"pay form", func(c *http.Client, i int) answer {
			return ps.do(c, http.MethodPost, fmt.Sprintf("/direct-pay/invoice/%d", 1000+i), url.Values{"csrf_token": {"x"}})
		}},
		{"result", func(c *http.Client, i int) answer {
			return ps.get(c, fmt.Sprintf("/direct-pay/result?ref=SP%016d", i))
		}},
	}
	for n, l := range links {
		ip := fmt.Sprintf("198.51.100.%d", 10+n)
		c := cookieClient(t)
		c.Transport = fromIP{ip, http.DefaultTransport}
		// The pay form needs a CSRF cookie and token to get as far as the limit.
		if l.name == "pay form" {
			tok := tokenRE.FindStringSubmatch(ps.get(c, "/login").body)
			c.Transport = fromIP{ip, withHeader{CSRFHeader, tok[1], http.DefaultTransport}}
		}
		var codes []int
		for i := range limit + 2 {
			codes = append(codes, l.req(c, i).code)
		}
		for i, code := range codes {
			if (i < limit) == (code == http.StatusTooManyRequests) {
				t.Errorf("%s from %s: answers %v, want 429 only past %d requests a minute", l.name, ip, codes, limit)
				break
			}
		}
	}
	// Another address is served.
	c := cookieClient(t)
	c.Transport = fromIP{"198.51.100.99", http.DefaultTransport}
	if a := ps.get(c, "/direct-pay-invoice?item_id=2026110001"); a.code != http.StatusOK {
		t.Fatalf("another address: %d", a.code)
	}
}

// fromIP is a visitor at ip behind nginx.
type fromIP struct {
	ip   string
	next http.RoundTripper
}

func (f fromIP) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("X-Forwarded-For", f.ip)
	r.Header.Set("X-Real-IP", f.ip)
	return f.next.RoundTrip(r)
}

type withHeader struct {
	name, value string
	next        http.RoundTripper
}

func (h withHeader) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set(h.name, h.value)
	return h.next.RoundTrip(r)
}

// offsite are redirect targets that leave the site, or try to.
var offsite = []string{
	"//evil.example", "https://evil.example", "http://evil.example/integrapay/", "/\\evil.example", "\\\\evil.example",
	"javascript:alert(1)", "JaVaScRiPt:alert(1)", "data:text/html,<script>alert(1)</script>", "http:/evil.example",
	"/integrapay//evil.example", "/integrapay/\\/evil.example", "/%2F%2Fevil.example", "/integrapay/%2F%2Fevil.example",
	" //evil.example", "/\t/evil.example", "/integrapay@evil.example", "//integrapay/../evil.example",
	"https:evil.example", "/integrapay/..//evil.example", "/integrapay/%5C%5Cevil.example",
}

var nextFieldRE = regexp.MustCompile(`name="next" value="([^"]*)"`)

// onSite reports whether a Location stays on the add-on's pages: a path
// under the prefix that a browser resolves on the same host.
func onSite(prefix, loc string) bool {
	if !strings.HasPrefix(loc, prefix+"/") || strings.ContainsAny(loc, "\\\t\r\n ") {
		return false
	}
	rest := strings.TrimPrefix(loc, prefix+"/")
	if strings.HasPrefix(rest, "/") {
		return false
	}
	base, _ := url.Parse("https://splynx.example" + prefix + "/login")
	u, err := base.Parse(loc)
	return err == nil && u.Host == "splynx.example" && u.Scheme == "https" && !strings.Contains(u.Path, "//")
}

// TestLoginRedirectStaysOnSite: the only redirect parameter of the pages
// is the login form's next (also carried in its hidden field, and used by
// GET /login when the visitor is already known). An off-site value, in any
// spelling, is replaced by the invoices page. (Other redirects are built
// from the prefix and ids, and no page builds a back link from Referer.)
func TestLoginRedirectStaysOnSite(t *testing.T) {
	ps := newPortalSite(t, config.IntegraPay, func(m map[string]string) { m["direct_pay_rate_limit"] = "10000" })
	for _, next := range offsite {
		c := ps.visitor("")
		page := ps.get(c, "/login?next="+url.QueryEscape(next))
		if m := nextFieldRE.FindStringSubmatch(page.body); m == nil || !onSite(ps.prefix, html.UnescapeString(m[1])) {
			t.Errorf("next=%q: the login form carries %q", next, m)
		}
		a := ps.post(c, "/login", "/login", url.Values{"login": {johnLogin}, "password": {johnPassword}, "next": {next}})
		if a.code != http.StatusSeeOther || !onSite(ps.prefix, a.location) {
			t.Errorf("login with next=%q: %d Location %q", next, a.code, a.location)
		}
		// Known already (the Splynx portal session): GET /login redirects at once.
		if a := ps.get(ps.visitor(ps.johnSID), "/login?next="+url.QueryEscape(next)); a.code != http.StatusSeeOther || !onSite(ps.prefix, a.location) {
			t.Errorf("GET /login?next=%q for a known visitor: %d Location %q", next, a.code, a.location)
		}
	}
	// A next on our own pages is kept.
	c := ps.visitor("")
	a := ps.post(c, "/login", "/login", url.Values{"login": {johnLogin}, "password": {johnPassword}, "next": {"/integrapay/methods?done=x"}})
	if a.location != "/integrapay/methods?done=x" {
		t.Fatalf("own next: %q", a.location)
	}
	// The login redirect of a page keeps the page, on the site.
	if a := ps.get(ps.visitor(""), "/pay/invoice/1?x=//evil.example"); a.code != http.StatusSeeOther ||
		!strings.HasPrefix(a.location, "/integrapay/login?next=%2Fintegrapay%2Fpay%2Finvoice%2F1") {
		t.Fatalf("login redirect: %d %q", a.code, a.location)
	}
}

func TestOnSiteCatchesOffsiteLocations(t *testing.T) {
	for _, loc := range []string{"//evil.example", "/integrapay//evil.example", "/integrapay/\\evil.example", "https://evil.example/integrapay/"} {
		if onSite("/integrapay", loc) {
			t.Errorf("onSite(%q) = true", loc)
		}
	}
	if !onSite("/integrapay", "/integrapay/invoices") {
		t.Error("onSite of an own page is false")
	}
}

// sessionCookie is the value of our session cookie in a response.
func sessionCookie(resp *http.Response) string {
	for _, c := range resp.Cookies() {
		if c.Name == PortalCookie {
			return c.Value
		}
	}
	return ""
}

// csrfFor is the CSRF token for the visitor's cookie (planted by a first
// request), without opening a page.
func (ps *portalSite) csrfFor(c *http.Client) string {
	ps.t.Helper()
	ps.get(c, "/healthz")
	u, _ := url.Parse(ps.url("/"))
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == CSRFCookie {
			return ps.server.csrf.token(ck.Value)
		}
	}
	ps.t.Fatal("no CSRF cookie")
	return ""
}

// TestSessionFixation: a session id planted in the visitor's browser
// before login (here: a real session of the attacker's own, the strongest
// case; a made-up id is unknown anyway) is replaced at login by a fresh
// one and no longer works; logout ends the session on the server, so the
// cookie's value is useless even to someone who copied it.
func TestSessionFixation(t *testing.T) {
	ps := newPortalSite(t, config.IntegraPay)
	u, _ := url.Parse(ps.srv.URL)
	jar := func(sid string) *http.Client {
		c := cookieClient(t)
		c.Jar.SetCookies(u, []*http.Cookie{{Name: PortalCookie, Value: sid, Path: ps.prefix + "/"}})
		return c
	}
	login := func(c *http.Client, who, pw string) string {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, ps.url("/login"), strings.NewReader(url.Values{"login": {who}, "password": {pw},
			"csrf_token": {ps.csrfFor(c)}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("login %s: %d", who, resp.StatusCode)
		}
		return sessionCookie(resp)
	}
	// The attacker logs in as Jane and keeps the id.
	ps.sp.SetCustomerPassword(ps.jane, "jane", "pw-jane-1")
	planted := login(cookieClient(t), "jane", "pw-jane-1")
	if planted == "" {
		t.Fatal("no session cookie at login")
	}
	// The victim's browser holds the planted id, and John logs in with it.
	victim := jar(planted)
	fresh := login(victim, johnLogin, johnPassword)
	if fresh == "" || fresh == planted {
		t.Fatalf("login kept the planted session id (new %q)", fresh)
	}
	if a := ps.get(victim, "/methods"); a.code != http.StatusOK || !strings.Contains(a.body, "John Smith") {
		t.Fatalf("john after login: %d %.200s", a.code, a.body)
	}
	// The planted id is dead: the attacker cannot ride John's login, nor keep his own.
	if a := ps.get(jar(planted), "/methods"); a.code != http.StatusSeeOther || !strings.Contains(a.location, "/login") {
		t.Fatalf("the planted id still works after the login: %d %.200s", a.code, a.body)
	}
	var n int
	if err := rawSQL(t, ps.db).QueryRow(`SELECT count(*) FROM portal_sessions`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("sessions stored after the login: %d %v (want John's only)", n, err)
	}
	// Logout ends John's session on the server: a copy of the cookie is useless.
	if a := ps.post(victim, "/methods", "/logout", nil); a.code != http.StatusOK {
		t.Fatalf("logout: %d", a.code)
	}
	if a := ps.get(jar(fresh), "/methods"); a.code != http.StatusSeeOther || !strings.Contains(a.location, "/login") {
		t.Fatalf("the session id works after logout: %d %.200s", a.code, a.body)
	}
	if err := rawSQL(t, ps.db).QueryRow(`SELECT count(*) FROM portal_sessions`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("sessions stored after logout: %d %v", n, err)
	}
	// A victim who arrives from the Splynx portal (its session cookie is
	// John's) with the attacker's session id planted is John, and the
	// planted session is ended: John's card would otherwise be saved on
	// the attacker's account.
	planted = login(cookieClient(t), "jane", "pw-jane-1")
	fromPortal := jar(planted)
	fromPortal.Jar.SetCookies(u, []*http.Cookie{{Name: "PHPSESSID", Value: ps.johnSID, Path: "/"}})
	if a := ps.get(fromPortal, "/methods"); a.code != http.StatusOK || !strings.Contains(a.body, "John Smith") || strings.Contains(a.body, "Jane Other") {
		t.Fatalf("from the portal with a planted session: %d %.300s", a.code, a.body)
	}
	if a := ps.get(jar(planted), "/methods"); a.code != http.StatusSeeOther {
		t.Fatalf("the planted session survived the portal visit: %d", a.code)
	}
	// The same visitor logged in with the form keeps the session while the
	// portal cookie beside it stays the same.
	stale := ps.visitor("stale-portal-session")
	login(stale, johnLogin, johnPassword)
	for range 2 {
		if a := ps.get(stale, "/methods"); a.code != http.StatusOK || !strings.Contains(a.body, "John Smith") {
			t.Fatalf("form login beside a stale portal cookie: %d %q", a.code, a.location)
		}
	}

	// A made-up id is nobody, and the login answer replaces it too.
	made := jar("attacker-chosen-session-id-0000000000000")
	if a := ps.get(made, "/methods"); a.code != http.StatusSeeOther {
		t.Fatalf("made-up id: %d", a.code)
	}
	if got := login(made, johnLogin, johnPassword); got == "" || got == "attacker-chosen-session-id-0000000000000" {
		t.Fatalf("made-up id kept: %q", got)
	}
}

// Text from Splynx written to be markup, a CDATA end, or a spreadsheet
// formula.
const (
	evilName    = `<script>alert("n")</script>"><img src=x onerror=alert(1)>]]>&amp;`
	evilInvoice = `"><img onerror=alert(2)>`
	evilPF      = `<b>PF</b>&]]>`
)

// evilMarkup are the strings that must never reach a page unescaped.
var evilMarkup = []string{"<script>alert", "<img src=x", "<img onerror", "<b>PF</b>", `"><img`}

// TestSplynxTextIsEscapedOnEveryPage: a customer name, invoice and
// proforma numbers from Splynx that are markup are shown as text on the
// portal pages, the widget, a direct link, the result page and the staff
// pages; the audit CSV neutralises formula leaders in the customer name.
func TestSplynxTextIsEscapedOnEveryPage(t *testing.T) {
	for _, leader := range []string{"=", "+", "-", "@", "\t", "\r"} {
		t.Run(fmt.Sprintf("leader %q", leader), func(t *testing.T) {
			ps := newPortalSite(t, config.IntegraPay, func(m map[string]string) { m["direct_pay_rate_limit"] = "10000" })
			name := leader + `HYPERLINK("http://evil.example") ` + evilName
			id := ps.sp.AddCustomer(splynxsim.Customer{ID: 7001, Name: name, Login: "evil", Email: "evil@example.com", Status: "active"})
			inv := ps.sp.AddInvoice(splynxsim.Invoice{ID: 7101, CustomerID: id, Number: evilInvoice, Total: money.MustParse("20.00")})
			pf := ps.sp.AddProforma(splynxsim.Proforma{ID: 7201, CustomerID: id, Number: evilPF, Total: money.MustParse("21.00"), Status: "not_paid"})
			ps.mirror()
			sid := ps.sp.NewSession("customer", id)
			c := ps.visitor(sid)
			if a := ps.post(c, "/methods", "/methods/card", cardValues(testCard)); a.code != http.StatusSeeOther {
				t.Fatalf("card: %d %.300s", a.code, a.body)
			}
			pay := fmt.Sprintf("/pay/invoice/%d", inv)
			res := ps.post(c, pay, pay, url.Values{"use": {"saved"}, "amount": {"20.00"}})
			staff := ps.throughNginx(ps.adminSID)
			pages := map[string]answer{
				"invoices":        ps.get(c, "/invoices"),
				"pay proforma":    ps.get(c, fmt.Sprintf("/pay/proforma/%d", pf)),
				"result":          ps.follow(c, res),
				"methods":         ps.get(c, "/methods"),
				"refill":          ps.get(c, "/"),
				"widget":          ps.get(c, "/widget"),
				"direct by id":    ps.get(ps.visitor(""), fmt.Sprintf("/direct-pay-proforma-by-id?item_id=%d", pf)),
				"staff customer":  ps.get(staff, fmt.Sprintf("/admin/customer?id=%d", id)),
				"staff audit":     ps.get(staff, fmt.Sprintf("/admin/audit?customer=%d", id)),
				"staff charges":   ps.get(staff, "/charges"),
				"staff overview":  ps.get(staff, "/admin"),
				"status (admins)": ps.get(staff, "/status"),
			}
			// Each must show the text, escaped, where the page names it.
			shows := map[string]string{"invoices": evilInvoice, "pay proforma": evilPF, "result": evilInvoice, "methods": name,
				"widget": evilPF, "direct by id": evilPF, "staff customer": name}
			for page, a := range pages {
				if a.code >= 500 {
					t.Errorf("%s: %d", page, a.code)
				}
				for _, bad := range evilMarkup {
					if strings.Contains(a.body, bad) {
						t.Errorf("%s: unescaped %q in the page: %.400s", page, bad, a.body)
					}
				}
				if want, ok := shows[page]; ok && !strings.Contains(a.body, htmlEscaped(want)) {
					t.Errorf("%s does not show %q escaped (%d): %.600s", page, want, a.code, a.body)
				}
			}
			// The audit trail's CSV: the customer's name is one cell, not a formula.
			a := ps.get(staff, fmt.Sprintf("/admin/audit.csv?customer=%d", id))
			rows, err := csv.NewReader(strings.NewReader(a.body)).ReadAll()
			if err != nil || len(rows) < 2 {
				t.Fatalf("audit CSV: %v %d rows: %.300s", err, len(rows), a.body)
			}
			seen := false
			for _, row := range rows[1:] {
				for _, cell := range row {
					if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) && !isAmount(cell) {
						t.Errorf("audit CSV cell %q starts a formula", cell)
					}
				}
				if row[5] == "'"+name {
					seen = true
				}
			}
			if !seen {
				t.Errorf("audit CSV has no row with the name as text: %q", rows)
			}
		})
	}
}

// isAmount is a signed money amount (a number to a spreadsheet, not a formula).
func isAmount(s string) bool {
	_, err := money.Parse(s)
	return err == nil
}

// htmlEscaped is s as html/template writes it in text.
func htmlEscaped(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;", "\t", "\t", "\r", "\r", "+", "&#43;").Replace(s)
}

// csvFormula reports whether a CSV cell would be read as a formula by a
// spreadsheet: it starts with = + - @, a tab or a carriage return, and is
// not a signed number (an amount, an id, a count).
func csvFormula(cell string) bool {
	if cell == "" || !strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
		return false
	}
	if isAmount(cell) {
		return false
	}
	_, err := strconv.ParseInt(cell, 10, 64)
	return err != nil
}

// TestAuditCSVNeutralisesFormulasInEveryOutsideText: every text from
// outside that reaches a column of the audit trail's CSV starts with a
// formula leader, and no cell of the download starts a formula. Outside
// text reaches three columns: "customer" (the Splynx customer name),
// "who" (the actor: "admin " and an administrator's Splynx login) and
// "what" (the detail: invoice numbers from Splynx, module settings' values,
// gateway reasons); the other columns are ids, times, kinds and amounts the
// daemon makes. The rows come from the real paths (a portal payment and a
// staff Pay now of invoices whose numbers are formulas, a module setting
// changed to one) and, because no writer today starts a "who" or "what"
// cell with outside text (details start with a kind, actors with "admin "
// or "customer "), from a row written straight to the trail that does,
// standing for the next writer. The other CSV
// download, /admin/overview.csv, holds only dates and numbers; it is read
// the same way.
func TestAuditCSVNeutralisesFormulasInEveryOutsideText(t *testing.T) {
	for _, leader := range []string{"=", "+", "-", "@", "\t", "\r"} {
		t.Run(fmt.Sprintf("leader %q", leader), func(t *testing.T) {
			ps := newPortalSite(t, config.IntegraPay)
			formula := leader + `HYPERLINK("http://evil.example","x")`
			name := formula + " Name"
			id := ps.sp.AddCustomer(splynxsim.Customer{ID: 7001, Name: name, Login: "evil", Email: "evil@example.com", Status: "active"})
			inv := ps.sp.AddInvoice(splynxsim.Invoice{ID: 7101, CustomerID: id, Number: leader + "7101", Total: money.MustParse("20.00")})
			inv2 := ps.sp.AddInvoice(splynxsim.Invoice{ID: 7102, CustomerID: id, Number: leader + "7102", Total: money.MustParse("21.00")})
			ps.mirror()

			// The customer pays one invoice in the portal.
			c := ps.visitor(ps.sp.NewSession("customer", id))
			if a := ps.post(c, "/methods", "/methods/card", cardValues(testCard)); a.code != http.StatusSeeOther {
				t.Fatalf("card: %d %.300s", a.code, a.body)
			}
			pay := fmt.Sprintf("/pay/invoice/%d", inv)
			if a := ps.post(c, pay, pay, url.Values{"use": {"saved"}, "amount": {"20.00"}}); a.code != http.StatusSeeOther {
				t.Fatalf("pay: %d %.300s", a.code, a.body)
			}
			// An administrator charges the other from the customer tab.
			admin := ps.throughNginx(ps.adminSID)
			page := fmt.Sprintf("/admin/customer?id=%d", id)
			if a := ps.post(admin, page, "/admin/customer/pay", url.Values{"id": {fmt.Sprint(id)}, "kind": {"invoice"},
				"doc": {fmt.Sprint(inv2)}, "confirm": {"1"}}); a.code >= 400 {
				t.Fatalf("staff pay now: %d %.300s", a.code, a.body)
			}
			// A module setting changed in Splynx to a formula.
			at := ps.clk.Now()
			for _, v := range []string{"AUD", formula} {
				if _, err := ps.db.NoteSettings(t.Context(), map[string]string{"currency": v}, nil, at); err != nil {
					t.Fatal(err)
				}
			}
			// A row whose "who" and "what" begin with outside text.
			actor, detail := formula+" actor", formula+" detail"
			if err := ps.db.AddTrail(t.Context(), nil, store.TrailEntry{Kind: "staff.payer_sync", Actor: actor, CustomerID: id,
				Subject: "customer", SubjectID: id, Detail: detail}); err != nil {
				t.Fatal(err)
			}

			a := ps.get(admin, "/admin/audit.csv")
			rows, err := csv.NewReader(strings.NewReader(a.body)).ReadAll()
			if a.code != http.StatusOK || err != nil || len(rows) < 2 {
				t.Fatalf("audit CSV: %d %v %d rows: %.300s", a.code, err, len(rows), a.body)
			}
			col := map[string]int{}
			for i, h := range rows[0] {
				col[h] = i
			}
			for _, h := range []string{"who", "customer", "what"} {
				if _, ok := col[h]; !ok {
					t.Fatalf("the audit CSV has no %q column: %q", h, rows[0])
				}
			}
			seen := map[string]bool{}
			for _, row := range rows[1:] {
				for i, cell := range row {
					if csvFormula(cell) {
						t.Errorf("audit CSV %s cell %q starts a formula (row %q)", rows[0][i], cell, row)
					}
				}
				who, cust, what := row[col["who"]], row[col["customer"]], row[col["what"]]
				seen["name"] = seen["name"] || cust == "'"+name
				seen["actor"] = seen["actor"] || who == "'"+actor
				seen["detail"] = seen["detail"] || what == "'"+detail
				seen["invoice number"] = seen["invoice number"] || strings.Contains(what, "invoice "+leader+"7101")
				seen["staff's invoice"] = seen["staff's invoice"] || strings.Contains(what, "invoice "+leader+"7102 charged now")
				seen["setting"] = seen["setting"] || strings.Contains(what, fmt.Sprintf("%q", formula))
			}
			for _, k := range []string{"name", "actor", "detail", "invoice number", "staff's invoice", "setting"} {
				if !seen[k] {
					t.Errorf("the audit CSV has no row with the %s of the test: %q", k, rows)
				}
			}

			a = ps.get(admin, "/admin/overview.csv")
			rows, err = csv.NewReader(strings.NewReader(a.body)).ReadAll()
			if a.code != http.StatusOK || err != nil || len(rows) < 2 {
				t.Fatalf("overview CSV: %d %v %d rows: %.300s", a.code, err, len(rows), a.body)
			}
			for _, row := range rows[1:] {
				for i, cell := range row {
					if csvFormula(cell) {
						t.Errorf("overview CSV %s cell %q starts a formula", rows[0][i], cell)
					}
				}
			}
		})
	}
}
