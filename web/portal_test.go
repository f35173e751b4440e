package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/splynx-pay/splynx-pay/gateways/integrapay/integrapaysim"
	"github.com/splynx-pay/splynx-pay/gateways/ippay/ippaysim"
	"github.com/splynx-pay/splynx-pay/internal/config"
	"github.com/splynx-pay/splynx-pay/splynx/splynxsim"
	"github.com/splynx-pay/splynx-pay/store"
)

var bothAddons = []config.Kind{config.IntegraPay, config.IPpay}

func TestPortalVisitorIdentity(t *testing.T) {
	ps := newPortalSite(t, config.IntegraPay)

	// No session of any kind: the login form, keeping where to go.
	a := ps.get(ps.visitor(""), "/invoices")
	if a.code != http.StatusSeeOther || !strings.Contains(a.location, "/integrapay/login?next=") {
		t.Fatalf("anonymous: %d %q", a.code, a.location)
	}
	// A Splynx session Splynx does not know: the login form too.
	if a := ps.get(ps.visitor("made-up"), "/invoices"); a.code != http.StatusSeeOther || !strings.Contains(a.location, "/login") {
		t.Fatalf("unknown Splynx session: %d %q", a.code, a.location)
	}
	// The portal session cookie is exchanged for John, and our own session cookie is set.
	req, _ := http.NewRequest(http.MethodGet, ps.url("/invoices"), nil)
	req.AddCookie(&http.Cookie{Name: "PHPSESSID", Value: ps.johnSID})
	req.Header.Set("X-Forwarded-Proto", "https")
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var sid *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == PortalCookie {
			sid = c
		}
	}
	if resp.StatusCode != http.StatusOK || sid == nil || !sid.HttpOnly || !sid.Secure || sid.SameSite != http.SameSiteLaxMode || sid.Path != "/integrapay/" {
		t.Fatalf("session cookie: %d %+v", resp.StatusCode, sid)
	}
	// Our session alone (no Splynx cookie) is enough, and lists John's documents only.
	own := cookieClient(t)
	u, _ := url.Parse(ps.srv.URL)
	own.Jar.SetCookies(u, []*http.Cookie{{Name: PortalCookie, Value: sid.Value, Path: "/integrapay/"}})
	a = ps.get(own, "/invoices")
	if a.code != http.StatusOK || !strings.Contains(a.body, "Invoice 2026110001") || !strings.Contains(a.body, "Proforma invoice PF-0007") ||
		strings.Contains(a.body, "2026110003") {
		t.Fatalf("invoices: %d %.500s", a.code, a.body)
	}
	// A forged session id is nobody.
	forged := cookieClient(t)
	forged.Jar.SetCookies(u, []*http.Cookie{{Name: PortalCookie, Value: sid.Value + "x", Path: "/integrapay/"}})
	if a := ps.get(forged, "/invoices"); a.code != http.StatusSeeOther {
		t.Fatalf("forged session: %d", a.code)
	}
	// Idle past the timeout: the session is over.
	ps.clk.Advance(31 * time.Minute)
	if a := ps.get(own, "/invoices"); a.code != http.StatusSeeOther || !strings.Contains(a.location, "/login") {
		t.Fatalf("expired session: %d %q", a.code, a.location)
	}
	// An administrator at the prefix root still lands on the status page.
	if a := ps.get(ps.visitor(ps.adminSID), "/"); a.code != http.StatusSeeOther || a.location != "/integrapay/status" {
		t.Fatalf("admin at the root: %d %q", a.code, a.location)
	}
}

func TestPortalLoginForm(t *testing.T) {
	ps := newPortalSite(t, config.IntegraPay)
	c := ps.visitor("")
	a := ps.post(c, "/login?next=%2Fintegrapay%2Fmethods", "/login", url.Values{"login": {johnLogin}, "password": {"wrong"},
		"next": {"/integrapay/methods"}})
	if a.code != http.StatusUnauthorized || !strings.Contains(a.body, "The login or password is not right") ||
		!strings.Contains(a.body, `value="john"`) {
		t.Fatalf("wrong password: %d %.400s", a.code, a.body)
	}
	// An offsite next is replaced by the invoices page.
	a = ps.post(c, "/login", "/login", url.Values{"login": {johnLogin}, "password": {johnPassword}, "next": {"https://evil.example/"}})
	if a.code != http.StatusSeeOther || a.location != "/integrapay/invoices" {
		t.Fatalf("login: %d %q", a.code, a.location)
	}
	if a := ps.get(c, "/methods"); a.code != http.StatusOK || !strings.Contains(a.body, "John Smith") || !strings.Contains(a.body, "Log out") {
		t.Fatalf("after login: %d %.300s", a.code, a.body)
	}
	// The session survives a restart: it is in the database.
	var n int
	if err := ps.db.SQL().QueryRow(`SELECT count(*) FROM portal_sessions WHERE customer_id = ? AND via = 'login'`, ps.john).Scan(&n); err != nil || n != 1 {
		t.Fatalf("stored sessions: %d %v", n, err)
	}
	if a := ps.post(c, "/methods", "/logout", nil); a.code != http.StatusOK {
		t.Fatalf("logout: %d", a.code)
	}
	if a := ps.get(c, "/methods"); a.code != http.StatusSeeOther {
		t.Fatalf("after logout: %d", a.code)
	}
}

func TestPortalCSRFAndOwnership(t *testing.T) {
	ps := newPortalSite(t, config.IntegraPay)
	john := ps.visitor(ps.johnSID)
	jane := ps.visitor(ps.sp.NewSession("customer", ps.jane))
	// Jane saves a card.
	if a := ps.post(jane, "/methods", "/methods/card", cardValues(testCard)); a.code != http.StatusSeeOther {
		t.Fatalf("jane's card: %d %.300s", a.code, a.body)
	}
	janes, _ := ps.db.ListMethods(t.Context(), ps.jane, store.MethodActive)
	if len(janes) != 1 {
		t.Fatalf("jane's methods: %+v", janes)
	}
	// No CSRF token, a wrong one: refused, nothing saved.
	ps.get(john, "/methods")
	if a := ps.do(john, http.MethodPost, "/methods/card", cardValues(testCard)); a.code != http.StatusForbidden {
		t.Fatalf("no CSRF token: %d", a.code)
	}
	f := cardValues(testCard)
	f.Set("csrf_token", "forged")
	if a := ps.do(john, http.MethodPost, "/methods/card", f); a.code != http.StatusForbidden {
		t.Fatalf("bad CSRF token: %d", a.code)
	}
	if ms, _ := ps.db.ListMethods(t.Context(), ps.john); len(ms) != 0 {
		t.Fatalf("saved without CSRF: %+v", ms)
	}
	// John cannot remove Jane's method, see or pay her invoice, or see her payment.
	if a := ps.post(john, "/methods", fmt.Sprintf("/methods/%d/remove", janes[0].ID), nil); a.code != http.StatusNotFound {
		t.Fatalf("remove another's method: %d", a.code)
	}
	if m, _ := ps.db.GetMethod(t.Context(), janes[0].ID); m.Status != store.MethodActive {
		t.Fatalf("jane's method is %s", m.Status)
	}
	if a := ps.get(john, fmt.Sprintf("/pay/invoice/%d", ps.janeInv)); a.code != http.StatusNotFound || strings.Contains(a.body, "99.00") {
		t.Fatalf("another's invoice: %d %.300s", a.code, a.body)
	}
	if a := ps.post(john, "/methods", fmt.Sprintf("/pay/invoice/%d", ps.janeInv), url.Values{"use": {"saved"}, "amount": {"99.00"}}); a.code != http.StatusNotFound {
		t.Fatalf("pay another's invoice: %d", a.code)
	}
	janePay := ps.post(jane, fmt.Sprintf("/pay/invoice/%d", ps.janeInv), fmt.Sprintf("/pay/invoice/%d", ps.janeInv),
		url.Values{"use": {"saved"}, "amount": {"99.00"}})
	m := attemptLinkRE.FindStringSubmatch(janePay.location)
	if m == nil {
		t.Fatalf("jane's payment: %d %q %.300s", janePay.code, janePay.location, janePay.body)
	}
	if a := ps.get(john, "/payments/"+m[1]); a.code != http.StatusNotFound {
		t.Fatalf("another's payment: %d", a.code)
	}
	if n, cents := ps.ledger(); n != 1 || cents != 9900 {
		t.Fatalf("ledger: %d items, %d cents", n, cents)
	}
}

func TestPortalSaveCardThenPayInvoice(t *testing.T) {
	for _, k := range bothAddons {
		t.Run(string(k), func(t *testing.T) {
			ps := newPortalSite(t, k)
			c := ps.visitor(ps.johnSID)
			a := ps.post(c, "/methods", "/methods/card", cardValues(testCard))
			page := ps.follow(c, a)
			if !strings.Contains(page.body, "Your payment method was saved") || !strings.Contains(page.body, "1111") ||
				!strings.Contains(page.body, "expires 12/2030") {
				t.Fatalf("methods after save: %.800s", page.body)
			}
			pay := fmt.Sprintf("/pay/invoice/%d", ps.inv1)
			if a := ps.get(c, pay); !strings.Contains(a.body, "Pay 25.00") || !strings.Contains(a.body, "2026110001") {
				t.Fatalf("pay page: %.600s", a.body)
			}
			res := ps.post(c, pay, pay, url.Values{"use": {"saved"}, "amount": {"25.00"}})
			rp := ps.follow(c, res)
			if !strings.Contains(rp.body, "Payment approved") {
				t.Fatalf("result: %.800s", rp.body)
			}
			// A reload of the pay page, and the form sent again, charge nothing more.
			if a := ps.get(c, pay); a.code != http.StatusSeeOther || a.location != res.location {
				t.Fatalf("pay page after paying: %d %q", a.code, a.location)
			}
			ps.do(c, http.MethodPost, pay, url.Values{"use": {"saved"}, "amount": {"25.00"}, "csrf_token": {tokenRE.FindStringSubmatch(ps.get(c, "/methods").body)[1]}})
			if n, cents := ps.ledger(); n != 1 || cents != 2500 {
				t.Fatalf("gateway ledger: %d charges, %d cents", n, cents)
			}
			if n, cents := ps.splynxPaid(); n != 1 || cents != 2500 {
				t.Fatalf("splynx payments: %d, %d cents", n, cents)
			}
			inv, _ := ps.sp.Invoice(ps.inv1)
			if inv.Status != "paid" {
				t.Fatalf("invoice is %s", inv.Status)
			}
			// Paid now: the pay link says so.
			if a := ps.follow(c, ps.get(c, pay)); !strings.Contains(a.body, "Payment approved") {
				t.Fatalf("paid invoice page: %.300s", a.body)
			}
		})
	}
}

func TestPortalResultPages(t *testing.T) {
	for _, k := range bothAddons {
		t.Run(string(k), func(t *testing.T) {
			ps := newPortalSite(t, k)
			c := ps.visitor(ps.johnSID)
			ps.post(c, "/methods", "/methods/card", cardValues(testCard))
			// Already paid in Splynx.
			if a := ps.get(c, fmt.Sprintf("/pay/invoice/%d", ps.paidInv)); a.code != http.StatusOK || !strings.Contains(a.body, "is already paid") {
				t.Fatalf("paid: %d %.400s", a.code, a.body)
			}
			// Gone from Splynx since the mirror saw it.
			if err := ps.sp.DeleteInvoice(ps.goneInv); err != nil {
				t.Fatal(err)
			}
			if a := ps.get(c, fmt.Sprintf("/pay/invoice/%d", ps.goneInv)); a.code != http.StatusNotFound || !strings.Contains(a.body, "This invoice no longer exists") {
				t.Fatalf("gone: %d %.400s", a.code, a.body)
			}
			if a := ps.get(c, "/pay/invoice/999999"); a.code != http.StatusNotFound {
				t.Fatalf("unknown: %d", a.code)
			}
			// A declined card: an expired-card answer (.54 in both simulators).
			ps.sp.UpdateInvoice(ps.inv2, func(i *splynxsim.Invoice) { i.Total, i.Due = 3054, 3054 })
			pay := fmt.Sprintf("/pay/invoice/%d", ps.inv2)
			res := ps.follow(c, ps.post(c, pay, pay, url.Values{"use": {"saved"}, "amount": {"30.54"}}))
			if !strings.Contains(res.body, "Payment declined") || !strings.Contains(res.body, "The card has expired") ||
				!strings.Contains(res.body, "What to do next") {
				t.Fatalf("declined: %.800s", res.body)
			}
			if a := ps.get(c, "/methods"); !strings.Contains(a.body, "needs update") {
				t.Fatalf("method after the decline: %.800s", a.body)
			}
			if n, _ := ps.splynxPaid(); n != 0 {
				t.Fatalf("%d Splynx payments after a decline", n)
			}
		})
	}
}

func TestPortalGatewayTimeoutIsCheckedThenSettled(t *testing.T) {
	for _, k := range bothAddons {
		t.Run(string(k), func(t *testing.T) {
			ps := newPortalSite(t, k)
			c := ps.visitor(ps.johnSID)
			ps.post(c, "/methods", "/methods/card", cardValues(testCard))
			// The gateway takes the charge and the answer is lost.
			if ps.ip != nil {
				ps.ip.SetFault("payers/*/transactions", integrapaysim.Fault{LoseResponse: true, Times: 1, Method: http.MethodPost})
			} else {
				ps.pp.SetFault(ippaysim.Fault{Types: []string{"SALE"}, LoseResponse: true, Count: 1})
			}
			pay := fmt.Sprintf("/pay/invoice/%d", ps.inv1)
			a := ps.post(c, pay, pay, url.Values{"use": {"saved"}, "amount": {"25.00"}})
			res := ps.follow(c, a)
			if !strings.Contains(res.body, "We are checking your payment") || !strings.Contains(res.body, `http-equiv="refresh"`) {
				t.Fatalf("unknown outcome page: %.800s", res.body)
			}
			// Paying again is not offered: the pay page shows the same attempt.
			if again := ps.get(c, pay); again.location != a.location {
				t.Fatalf("pay page during the check: %d %q", again.code, again.location)
			}
			ps.clk.Advance(2 * time.Minute)
			if _, err := ps.en.Reconcile(t.Context()); err != nil {
				t.Fatal(err)
			}
			if _, err := ps.en.WriteBack(t.Context()); err != nil {
				t.Fatal(err)
			}
			if res := ps.get(c, strings.TrimPrefix(a.location, ps.prefix)); !strings.Contains(res.body, "Payment approved") {
				t.Fatalf("after reconcile: %.800s", res.body)
			}
			if n, cents := ps.ledger(); n != 1 || cents != 2500 {
				t.Fatalf("ledger: %d, %d cents", n, cents)
			}
			if n, cents := ps.splynxPaid(); n != 1 || cents != 2500 {
				t.Fatalf("splynx: %d, %d cents", n, cents)
			}
		})
	}
}
