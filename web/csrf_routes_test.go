package web

// The customer counterpart of TestEveryStaffPostNeedsTheCSRFToken: every
// state-changing route the server registers, walked from Server.routes so
// that a route added later is covered (or fails the test until it is
// described here), refuses a logged-in customer's request that carries the
// session and the CSRF cookie but no token, or a wrong one.

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/splynx-pay/splynx-pay/internal/config"
	"github.com/splynx-pay/splynx-pay/internal/money"
	"github.com/splynx-pay/splynx-pay/splynx/splynxsim"
)

// csrfRefusal is what the CSRF middleware answers (csrf.go).
const csrfRefusal = "did not come from this site"

// csrfFixture is what the requests of csrfPosts need: John logged in
// through the Splynx portal, and what his requests would act on.
type csrfFixture struct {
	john    *http.Client
	method  int64  // John's saved method (0: none)
	once    string // the refill form's once value
	janeInv int64  // Jane's unpaid invoice and proforma, for direct links
	janePF  int64
}

// csrfPost is one request to a route, as its page's form sends it.
type csrfPost struct {
	path string // under the prefix
	form url.Values
}

// csrfPosts describes every customer and direct-link route that changes
// something: the requests that, carrying the token, would pay, save, remove,
// log in or out. form and hosted say whether the request changes the site's
// state on a site with card_entry=direct or card_entry=hosted (the control
// at the end of the test checks that it does; each route is armed in at
// least one). A new customer or link route that takes POSTs fails
// TestEveryCustomerPostNeedsTheCSRFToken until it has a line here.
var csrfPosts = []struct {
	pattern      string
	form, hosted bool
	reqs         func(ps *portalSite, f csrfFixture) []csrfPost
}{
	{"POST /pay/{kind}/{id}", true, false, func(ps *portalSite, f csrfFixture) []csrfPost {
		return []csrfPost{
			{fmt.Sprintf("/pay/invoice/%d", ps.inv1), url.Values{"use": {"saved"}, "amount": {"25.00"}}},
			{fmt.Sprintf("/pay/proforma/%d", ps.pf1), url.Values{"use": {"saved"}, "amount": {"40.00"}}},
		}
	}},
	{"POST /{$}", true, true, func(ps *portalSite, f csrfFixture) []csrfPost {
		return []csrfPost{{"/", url.Values{"amount": {"20.00"}, "type": {"card"}, "once": {f.once}}}}
	}},
	{"POST /direct-pay/{kind}/{id}", true, true, func(ps *portalSite, f csrfFixture) []csrfPost {
		pay := func(amount string) url.Values {
			v := cardValues(testCard)
			v.Set("use", "new")
			v.Set("new_kind", "card")
			v.Set("amount", amount)
			return v
		}
		return []csrfPost{
			{fmt.Sprintf("/direct-pay/invoice/%d", f.janeInv), pay("99.00")},
			{fmt.Sprintf("/direct-pay/proforma/%d", f.janePF), pay("77.00")},
		}
	}},
	{"POST /methods/{id}/remove", true, false, func(ps *portalSite, f csrfFixture) []csrfPost {
		return []csrfPost{{fmt.Sprintf("/methods/%d/remove", max(f.method, 1)), url.Values{}}}
	}},
	{"POST /methods/card", true, false, func(ps *portalSite, f csrfFixture) []csrfPost {
		return []csrfPost{{"/methods/card", cardValues(testCard2)}}
	}},
	{"POST /methods/bank", true, false, func(ps *portalSite, f csrfFixture) []csrfPost {
		return []csrfPost{{"/methods/bank", ps.bankForm()}}
	}},
	{"POST /methods/hosted/bank", false, true, func(ps *portalSite, f csrfFixture) []csrfPost {
		return []csrfPost{{"/methods/hosted/bank", url.Values{}}}
	}},
	{"POST /login", true, true, func(ps *portalSite, f csrfFixture) []csrfPost {
		return []csrfPost{{"/login", url.Values{"login": {johnLogin}, "password": {johnPassword}}}}
	}},
	// Last: the control ends John's session with it.
	{"POST /logout", true, true, func(ps *portalSite, f csrfFixture) []csrfPost {
		return []csrfPost{{"/logout", url.Values{}}}
	}},
}

// postState is what a refused request must not change: money at the
// gateway and in Splynx, every request the gateway simulator saw, charge
// attempts, saved methods, our sessions, hosted pages and the audit trail.
type postState struct {
	gatewayRequests        int
	ledgerN, paidN         int
	ledgerCents, paidCents int64
	attempts, hosted       int
	trail                  int
	methods, sessions      string
}

func (ps *portalSite) postState(t *testing.T) postState {
	t.Helper()
	var s postState
	if ps.ip != nil {
		s.gatewayRequests = len(ps.ip.Requests())
	}
	s.ledgerN, s.ledgerCents = ps.ledger()
	s.paidN, s.paidCents = ps.splynxPaid()
	db := rawSQL(t, ps.db)
	for _, q := range []struct {
		sql string
		to  any
	}{
		{`SELECT count(*) FROM charge_attempts`, &s.attempts},
		{`SELECT count(*) FROM hosted_pages`, &s.hosted},
		{`SELECT count(*) FROM audit_trail`, &s.trail},
		{`SELECT COALESCE(group_concat(x, ' '), '') FROM (SELECT id || ':' || customer_id || ':' || status AS x FROM saved_methods ORDER BY id)`, &s.methods},
		{`SELECT COALESCE(group_concat(x, ' '), '') FROM (SELECT id_hash || ':' || customer_id AS x FROM portal_sessions ORDER BY id_hash)`, &s.sessions},
	} {
		if err := db.QueryRow(q.sql).Scan(q.to); err != nil {
			t.Fatalf("%s: %v", q.sql, err)
		}
	}
	return s
}

// postWith sends form to p with token in the form field (field) or in the
// X-CSRF-Token header (header), or with none.
func (ps *portalSite) postWith(c *http.Client, p string, form url.Values, field, header string) answer {
	ps.t.Helper()
	f := url.Values{}
	for k, v := range form {
		f[k] = v
	}
	if field != "" {
		f.Set(CSRFField, field)
	}
	req, err := http.NewRequest(http.MethodPost, ps.url(p), strings.NewReader(f.Encode()))
	if err != nil {
		ps.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if header != "" {
		req.Header.Set(CSRFHeader, header)
	}
	resp, err := c.Do(req)
	if err != nil {
		ps.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, string(b), resp.Header.Get("Location")}
}

// registeredRoutes are the patterns given to Server.Handle, without the
// prefix ("POST /pay/{kind}/{id}").
func registeredRoutes(s *Server) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, r := range s.routes {
		if method, p, ok := strings.Cut(r, " "); ok {
			r = method + " " + strings.TrimPrefix(p, s.opts.Prefix)
		} else {
			r = strings.TrimPrefix(r, s.opts.Prefix)
		}
		out = append(out, r)
	}
	sort.Strings(out)
	return out
}

// unsafeRoute reports whether a registered pattern takes state-changing
// requests, and the method to send: a pattern without a method takes any.
func unsafeRoute(pattern string) (method, path string, ok bool) {
	method, path, found := strings.Cut(pattern, " ")
	if !found {
		return http.MethodPost, pattern, true
	}
	return method, path, !safeMethod(method)
}

// TestEveryCustomerPostNeedsTheCSRFToken: a customer logged in through
// the Splynx portal (reaching the daemon through nginx) sends every
// customer and direct-link route that takes a POST, with the session and
// the CSRF cookie but without the token, with a made-up token, and with a
// real token of another visitor's cookie (in the form field and in the
// header). Each is refused with the middleware's 403 and changes nothing:
// no attempt, no saved or removed method, no session started or ended, no
// request at the gateway simulator, no payment in Splynx. Staff POST
// routes get the same with an administrator's session (their own test,
// TestEveryStaffPostNeedsTheCSRFToken, lists only some of them). The
// routes are walked from what the server registered: a route not in
// securityRoutes, or a customer route without a request in csrfPosts,
// fails the test. At the end the same requests with John's own token go
// through and change the state, so the refusals were the token's doing.
// Run on a site with card_entry=direct and one with card_entry=hosted.
func TestEveryCustomerPostNeedsTheCSRFToken(t *testing.T) {
	for _, e := range csrfPosts {
		if !e.form && !e.hosted {
			t.Fatalf("%s: csrfPosts must name a site where the request changes something", e.pattern)
		}
	}
	for _, site := range []struct {
		name   string
		hosted bool
	}{{"card entry direct", false}, {"card entry hosted", true}} {
		t.Run(site.name, func(t *testing.T) {
			opts := []siteOption{func(m map[string]string) { m["direct_pay_rate_limit"] = "10000" }}
			if site.hosted {
				opts = append(opts, hostedEntry)
			}
			ps := newPortalSite(t, config.IntegraPay, opts...)
			f := csrfFixture{janeInv: ps.janeInv}
			f.janePF = ps.sp.AddProforma(splynxsim.Proforma{CustomerID: ps.jane, Number: "PF-JANE-1", Total: money.MustParse("77.00"), Status: "not_paid"})
			ps.mirror()

			// Every route that takes a POST is described.
			described := map[string]bool{}
			for _, e := range csrfPosts {
				described[e.pattern] = true
			}
			routes := registeredRoutes(ps.server)
			var customer, staff []string
			for _, r := range routes {
				if _, _, ok := unsafeRoute(r); !ok {
					continue
				}
				switch securityRoutes[r] {
				case customerRoute, linkRoute:
					if !described[r] {
						t.Errorf("route %q takes POSTs and has no request in csrfPosts: add one that would change something", r)
					}
					customer = append(customer, r)
				case staffOnlyRoute, publicRoute:
					staff = append(staff, r)
				default:
					t.Errorf("route %q is not in securityRoutes: classify it (security_test.go) and describe its request here", r)
				}
			}
			for p := range described {
				if !slices.Contains(customer, p) {
					t.Errorf("csrfPosts lists %q, which the server does not register as a customer or link POST", p)
				}
			}
			if t.Failed() {
				t.FailNow()
			}

			// John, logged in through the portal, with a saved card when
			// cards are typed on our pages.
			f.john = ps.throughNginx(ps.johnSID)
			if a := ps.get(f.john, "/methods"); a.code != http.StatusOK || !strings.Contains(a.body, "John Smith") {
				t.Fatalf("john's methods page: %d %.300s", a.code, a.body)
			}
			if !site.hosted {
				if a := ps.post(f.john, "/methods", "/methods/card", cardValues(testCard)); a.code != http.StatusSeeOther {
					t.Fatalf("john's card: %d %.300s", a.code, a.body)
				}
				m, err := ps.db.ActiveMethod(t.Context(), ps.john)
				if err != nil {
					t.Fatal(err)
				}
				f.method = m.ID
			}
			refill := ps.get(f.john, "/")
			once := onceFieldRE.FindStringSubmatch(refill.body)
			if once == nil {
				t.Fatalf("refill page: %d %.300s", refill.code, refill.body)
			}
			f.once = once[1]
			own := ps.csrfFor(f.john)
			other := ps.csrfFor(ps.visitor("")) // a real token, of the attacker's own cookie
			forged := "AAAA" + strings.Repeat("x", 39)
			variants := []struct {
				name          string
				field, header string
			}{
				{"no token", "", ""},
				{"a made-up token", forged, ""},
				{"another visitor's token", other, ""},
				{"another visitor's token in the header", "", other},
			}

			before := ps.postState(t)
			refuse := func(who string, c *http.Client, path string, form url.Values) {
				t.Helper()
				for _, v := range variants {
					a := ps.postWith(c, path, form, v.field, v.header)
					if a.code != http.StatusForbidden || !strings.Contains(a.body, csrfRefusal) {
						t.Errorf("%s: POST %s with %s: %d %q, want 403 %q: %.200s", who, path, v.name, a.code, a.location, csrfRefusal, a.body)
					}
					if after := ps.postState(t); after != before {
						t.Fatalf("%s: POST %s with %s changed the site:\nbefore %+v\nafter  %+v", who, path, v.name, before, after)
					}
				}
			}
			requests := 0
			for _, e := range csrfPosts {
				for _, rq := range e.reqs(ps, f) {
					refuse("customer", f.john, rq.path, rq.form)
					requests++
				}
			}
			// Staff routes: an administrator's session, the same refusal.
			admin := ps.throughNginx(ps.adminSID)
			ps.get(admin, "/healthz") // the CSRF cookie
			for _, r := range staff {
				_, p, _ := unsafeRoute(r)
				for _, path := range expand(t, p, "1") {
					refuse("admin", admin, path, url.Values{"id": {fmt.Sprint(ps.john)}, "confirm": {"1"}, "attempt": {"1"},
						"kind": {"invoice"}, "doc": {fmt.Sprint(ps.inv2)}, "mode": {"invoices"}})
					requests++
				}
			}

			// Control: with John's own token the same requests are served
			// and change the site where csrfPosts says they do.
			for _, e := range csrfPosts {
				armed := e.form
				if site.hosted {
					armed = e.hosted
				}
				for _, rq := range e.reqs(ps, f) {
					was := ps.postState(t)
					a := ps.postWith(f.john, rq.path, rq.form, own, "")
					if a.code == http.StatusForbidden && strings.Contains(a.body, csrfRefusal) {
						t.Fatalf("POST %s with john's own token refused: %.200s", rq.path, a.body)
					}
					if now := ps.postState(t); armed && now == was {
						t.Errorf("POST %s with the token changed nothing (%d %q %.200s): its request in csrfPosts proves nothing", rq.path, a.code, a.location, a.body)
					}
				}
			}
			t.Logf("%d routes, %d requests refused in %d ways each", len(customer)+len(staff), requests, len(variants))
		})
	}
}
