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
	"github.com/splynx-pay/splynx-pay/sync/charge"
)

var bothAddons = []config.Addon{config.IntegraPay, config.IPpay}

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
	if err := rawSQL(t, ps.db).QueryRow(`SELECT count(*) FROM portal_sessions WHERE customer_id = ? AND via = 'login'`, ps.john).Scan(&n); err != nil || n != 1 {
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
			if n, _ := ps.ledger(); n != 0 {
				t.Fatalf("the gateway ledger has %d accepted charges after a decline", n)
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

func TestPortalBankAccountNeedsTheAuthorisation(t *testing.T) {
	for _, k := range bothAddons {
		t.Run(string(k), func(t *testing.T) {
			ps := newPortalSite(t, k)
			c := ps.visitor(ps.johnSID)
			page := ps.get(c, "/methods")
			title := "Direct Debit Request service agreement"
			if k == config.IPpay {
				title = "ACH debit authorization"
			}
			if !strings.Contains(page.body, title) || !strings.Contains(page.body, agreementFor(k).Version) {
				t.Fatalf("methods page lacks the %s: %.400s", title, page.body)
			}
			// Not accepted: nothing saved, the name kept, the numbers not.
			f := ps.bankForm()
			f.Del("accept")
			a := ps.post(c, "/methods", "/methods/bank", f)
			if a.code != http.StatusUnprocessableEntity || !strings.Contains(a.body, "tick the box to accept") ||
				!strings.Contains(a.body, `value="John Smith"`) || strings.Contains(a.body, testAUAcct) || strings.Contains(a.body, testUSAcct) {
				t.Fatalf("not accepted: %d %.600s", a.code, a.body)
			}
			// A bad routing number / BSB.
			f = ps.bankForm()
			if k == config.IPpay {
				f.Set("routing", "021000022")
			} else {
				f.Set("bsb", "06200")
			}
			if a := ps.post(c, "/methods", "/methods/bank", f); a.code != http.StatusUnprocessableEntity ||
				!(strings.Contains(a.body, "not a valid routing number") || strings.Contains(a.body, "The BSB has 6 digits")) {
				t.Fatalf("bad branch: %d %.600s", a.code, a.body)
			}
			if ms, _ := ps.db.ListMethods(t.Context(), ps.john); len(ms) != 0 {
				t.Fatalf("saved despite errors: %+v", ms)
			}
			a = ps.post(c, "/methods", "/methods/bank", ps.bankForm())
			if a.code != http.StatusSeeOther {
				t.Fatalf("save bank: %d %.600s", a.code, a.body)
			}
			m, err := ps.db.ActiveMethod(t.Context(), ps.john)
			if err != nil || m.Kind != "bank" || m.AuthText != agreementFor(k).Version || m.AuthIP != "127.0.0.1" ||
				!m.AuthAcceptedAt.Equal(ps.clk.Now()) {
				t.Fatalf("saved method: %+v %v", m, err)
			}
			if k == config.IPpay && m.AuthSEC != "WEB" {
				t.Fatalf("SEC %q", m.AuthSEC)
			}
			// Pay the proforma by bank: pending, 2-5 business days.
			pay := fmt.Sprintf("/pay/proforma/%d", ps.pf1)
			res := ps.follow(c, ps.post(c, pay, pay, url.Values{"use": {"saved"}, "amount": {"40.00"}}))
			if !strings.Contains(res.body, "Bank debits take 2–5 business days") {
				t.Fatalf("bank payment result: %.800s", res.body)
			}
			if n, cents := ps.ledger(); n != 1 || cents != 4000 {
				t.Fatalf("ledger: %d, %d cents", n, cents)
			}
			if n, _ := ps.splynxPaid(); n != 0 {
				t.Fatal("a pending bank debit was recorded in Splynx")
			}
		})
	}
}

func TestPortalCardFormErrors(t *testing.T) {
	ps := newPortalSite(t, config.IntegraPay)
	c := ps.visitor(ps.johnSID)
	cases := []struct {
		name  string
		edit  func(url.Values)
		want  string
		field string
	}{
		{"bad Luhn", func(f url.Values) { f.Set("card_number", "4111111111111112") }, "This card number is not valid", ""},
		{"letters", func(f url.Values) { f.Set("card_number", "4111abcd11111111") }, "This card number is not valid", ""},
		{"expired", func(f url.Values) { f.Set("exp_month", "10"); f.Set("exp_year", "2026") }, "This card has expired", ""},
		{"no CVV", func(f url.Values) { f.Del("cvv") }, "security code", ""},
		{"long CVV", func(f url.Values) { f.Set("cvv", "12345") }, "3 or 4 digits", ""},
		{"no name", func(f url.Values) { f.Set("card_name", " ") }, "Enter the name on the card", ""},
	}
	for _, tc := range cases {
		f := cardValues(testCard)
		tc.edit(f)
		a := ps.post(c, "/methods", "/methods/card", f)
		if a.code != http.StatusUnprocessableEntity || !strings.Contains(a.body, tc.want) {
			t.Errorf("%s: %d, want %q: %.300s", tc.name, a.code, tc.want, a.body)
		}
		if strings.Contains(a.body, testCard) || strings.Contains(a.body, "4111abcd") || strings.Contains(a.body, `value="`+testCVV+`"`) {
			t.Errorf("%s: the card number or CVV was put back into the page", tc.name)
		}
	}
	// The current month is still good.
	f := cardValues(testCard)
	f.Set("exp_month", "11")
	f.Set("exp_year", "2026")
	if a := ps.post(c, "/methods", "/methods/card", f); a.code != http.StatusSeeOther {
		t.Fatalf("card expiring this month: %d %.300s", a.code, a.body)
	}
}

func TestPortalRefill(t *testing.T) {
	for _, k := range bothAddons {
		t.Run(string(k), func(t *testing.T) {
			ps := newPortalSite(t, k)
			c := ps.visitor(ps.johnSID)
			for _, bad := range []string{"1e3", "-5", "12.345", "", "99999999999", "1,000", "4.99", "1000.01", "0x10", " 12 . 5"} {
				a := ps.post(c, "/", "/", url.Values{"amount": {bad}, "type": {"card"}})
				if a.code != http.StatusUnprocessableEntity || !strings.Contains(a.body, `class="error"`) {
					t.Errorf("amount %q: %d %.200s", bad, a.code, a.body)
				}
			}
			// No saved card: the second step asks for the details.
			a := ps.post(c, "/", "/", url.Values{"amount": {"20"}, "type": {"card"}})
			if a.code != http.StatusOK || !strings.Contains(a.body, "Card number") || !strings.Contains(a.body, `value="20"`) {
				t.Fatalf("details step: %d %.500s", a.code, a.body)
			}
			once := onceFieldRE.FindStringSubmatch(a.body)[1]
			f := cardValues(testCard)
			f.Set("amount", "20")
			f.Set("type", "card")
			f.Set("details", "1")
			f.Set("save", "1")
			f.Set("once", once)
			res := ps.post(c, "/", "/", f)
			if page := ps.follow(c, res); !strings.Contains(page.body, "Payment approved") || !strings.Contains(page.body, "Balance top-up") {
				t.Fatalf("refill result: %.600s", page.body)
			}
			// The same form again (double click, resubmit): the same top-up.
			again := ps.post(c, "/", "/", f)
			if again.location != res.location {
				t.Fatalf("second submit went to %q, not %q", again.location, res.location)
			}
			if n, cents := ps.ledger(); n != 1 || cents != 2000 {
				t.Fatalf("ledger: %d, %d cents", n, cents)
			}
			if n, cents := ps.splynxPaid(); n != 1 || cents != 2000 {
				t.Fatalf("splynx: %d, %d cents", n, cents)
			}
			// With the card saved, a fresh form charges it at once.
			if a := ps.post(c, "/", "/", url.Values{"amount": {"7.50"}, "type": {"card"}}); a.code != http.StatusSeeOther {
				t.Fatalf("second refill: %d %.300s", a.code, a.body)
			}
			if n, cents := ps.ledger(); n != 2 || cents != 2750 {
				t.Fatalf("ledger: %d, %d cents", n, cents)
			}
		})
	}
}

func TestDirectPayLinks(t *testing.T) {
	ps := newPortalSite(t, config.IntegraPay, func(m map[string]string) { m["direct_pay_rate_limit"] = "40" })
	c := ps.visitor("")
	links := []struct {
		path string
		doc  int64
		want string
	}{
		{"/direct-pay-invoice?item_id=2026110001", ps.inv1, "25.00"},
		{fmt.Sprintf("/direct-pay-invoice-by-id?item_id=%d", ps.inv2), ps.inv2, "30.00"},
		{"/direct-pay-proforma?item_id=PF-0007", ps.pf1, "40.00"},
		{fmt.Sprintf("/direct-pay-proforma-by-id?item_id=%d", ps.pf1), ps.pf1, "40.00"},
	}
	var paid int64
	for i, l := range links {
		a := ps.get(c, l.path)
		if i == 3 {
			// Paid by the link before: the same payment is shown.
			if a.code != http.StatusSeeOther || !strings.Contains(a.location, "/direct-pay/result?ref=") {
				t.Fatalf("%s after paying: %d %q", l.path, a.code, a.location)
			}
			continue
		}
		if a.code != http.StatusOK || !strings.Contains(a.body, "J*** S****") || !strings.Contains(a.body, l.want) ||
			strings.Contains(a.body, "John") || strings.Contains(a.body, "john@") {
			t.Fatalf("%s: %d %.600s", l.path, a.code, a.body)
		}
		action := actionRE.FindStringSubmatch(a.body)
		if action == nil {
			t.Fatalf("%s: no pay form", l.path)
		}
		f := cardValues(testCard)
		f.Set("use", "new")
		f.Set("new_kind", "card")
		f.Set("amount", l.want)
		f.Set("csrf_token", tokenRE.FindStringSubmatch(a.body)[1])
		res := ps.do(c, http.MethodPost, strings.TrimPrefix(action[1], ps.prefix), f)
		page := ps.follow(c, res)
		if !strings.Contains(page.body, "Payment approved") {
			t.Fatalf("%s result: %.600s", l.path, page.body)
		}
		paid += map[string]int64{"25.00": 2500, "30.00": 3000, "40.00": 4000}[l.want]
	}
	if n, cents := ps.ledger(); n != 3 || cents != paid {
		t.Fatalf("ledger: %d, %d cents (want %d)", n, cents, paid)
	}
	if n, cents := ps.splynxPaid(); n != 3 || cents != paid {
		t.Fatalf("splynx: %d, %d cents", n, cents)
	}
	// Unchecked "save": the card was used once and not kept.
	if ms, _ := ps.db.ListMethods(t.Context(), ps.john, store.MethodActive); len(ms) != 0 {
		t.Fatalf("one-off card kept: %+v", ms)
	}
	for _, bad := range []struct {
		path string
		code int
	}{
		{"/direct-pay-invoice", http.StatusBadRequest},
		{"/direct-pay-invoice?item_id=%27%3B--", http.StatusBadRequest},
		{"/direct-pay-invoice-by-id?item_id=abc", http.StatusBadRequest},
		{"/direct-pay-invoice?item_id=NOPE-1", http.StatusNotFound},
		{"/direct-pay-invoice-by-id?item_id=999999", http.StatusNotFound},
		{fmt.Sprintf("/direct-pay-invoice-by-id?item_id=%d", ps.paidInv), http.StatusOK},
	} {
		if a := ps.get(c, bad.path); a.code != bad.code {
			t.Errorf("%s: %d, want %d", bad.path, a.code, bad.code)
		}
	}
}

func TestDirectPayRateLimit(t *testing.T) {
	ps := newPortalSite(t, config.IntegraPay, func(m map[string]string) { m["direct_pay_rate_limit"] = "5" })
	c := ps.visitor("")
	var codes []int
	for i := range 7 {
		codes = append(codes, ps.get(c, fmt.Sprintf("/direct-pay-invoice-by-id?item_id=%d", 1000+i)).code)
	}
	last := ps.get(c, "/direct-pay-invoice?item_id=2026110001")
	if codes[4] != http.StatusNotFound || codes[5] != http.StatusTooManyRequests || last.code != http.StatusTooManyRequests ||
		!strings.Contains(last.body, "Too many requests") {
		t.Fatalf("codes %v, then %d %q", codes, last.code, last.body)
	}
}

func TestPortalWidget(t *testing.T) {
	ps := newPortalSite(t, config.IPpay)
	a := ps.get(ps.visitor(ps.johnSID), "/widget")
	if a.code != http.StatusOK || strings.Contains(a.body, "<html") || !strings.Contains(a.body, "Invoice 2026110001") ||
		!strings.Contains(a.body, fmt.Sprintf(`href="/ippay/pay/invoice/%d"`, ps.inv1)) || strings.Contains(a.body, "2026110003") {
		t.Fatalf("widget: %d %.600s", a.code, a.body)
	}
	if a := ps.get(ps.visitor(""), "/widget"); a.code != http.StatusOK || !strings.Contains(a.body, "Pay your invoices online") {
		t.Fatalf("anonymous widget: %d %.300s", a.code, a.body)
	}
}

func TestDirectPayCannotReplaceTheSavedMethod(t *testing.T) {
	ps := newPortalSite(t, config.IPpay)
	john := ps.visitor(ps.johnSID)
	ps.post(john, "/methods", "/methods/card", cardValues(testCard))
	before, _ := ps.db.ActiveMethod(t.Context(), ps.john)
	c := ps.visitor("")
	page := ps.get(c, "/direct-pay-invoice?item_id=2026110001")
	if !strings.Contains(page.body, "Pay with the saved card") || strings.Contains(page.body, `name="card_number"`) {
		t.Fatalf("direct page with a saved card: %.600s", page.body)
	}
	// Whoever holds a link (a forwarded e-mail, a walked id) learns
	// nothing of the saved card: not its mask, not its expiry.
	if before.Mask == "" || strings.Contains(page.body, before.Mask) || strings.Contains(page.body, "expires") {
		t.Fatalf("direct page shows the saved card (%q): %.900s", before.Mask, page.body)
	}
	f := cardValues(testCard2)
	f.Set("use", "new")
	f.Set("new_kind", "card")
	f.Set("amount", "25.00")
	f.Set("masked", "FORGED-NAME")
	f.Set("csrf_token", tokenRE.FindStringSubmatch(page.body)[1])
	if a := ps.do(c, http.MethodPost, fmt.Sprintf("/direct-pay/invoice/%d", ps.inv1), f); a.code != http.StatusUnprocessableEntity ||
		strings.Contains(a.body, "FORGED-NAME") || !strings.Contains(a.body, maskName("John Smith")) {
		t.Fatalf("new details by link: %d %.300s", a.code, a.body)
	}
	if after, _ := ps.db.ActiveMethod(t.Context(), ps.john); after.ID != before.ID {
		t.Fatalf("the link replaced the saved method: %+v", after)
	}
	// The saved card after the confirm click.
	f = url.Values{"use": {"saved"}, "amount": {"25.00"}, "csrf_token": {tokenRE.FindStringSubmatch(page.body)[1]}}
	res := ps.follow(c, ps.do(c, http.MethodPost, fmt.Sprintf("/direct-pay/invoice/%d", ps.inv1), f))
	if !strings.Contains(res.body, "Payment approved") || strings.Contains(res.body, "Back to payments") {
		t.Fatalf("direct result: %.600s", res.body)
	}
	if n, cents := ps.ledger(); n != 1 || cents != 2500 {
		t.Fatalf("ledger: %d, %d", n, cents)
	}
	// A changed amount is confirmed again, not charged.
	f.Set("amount", "1.00")
	if a := ps.do(c, http.MethodPost, fmt.Sprintf("/direct-pay/invoice/%d", ps.inv2), f); a.code != http.StatusConflict ||
		!strings.Contains(a.body, "The amount due has changed to 30.00") {
		t.Fatalf("stale amount: %d %.300s", a.code, a.body)
	}
	if n, _ := ps.ledger(); n != 1 {
		t.Fatal("charged a stale amount")
	}
}

func TestDirectPaySignedLinks(t *testing.T) {
	const key = "0123456789abcdef-link-key"
	ps := newPortalSite(t, config.IntegraPay, func(m map[string]string) {
		m["direct_pay_link_key"] = key
		m["direct_pay_require_signature"] = "1"
	})
	c := ps.visitor("")
	signed, err := DirectPayPath("invoice", false, "2026110001", key)
	if err != nil {
		t.Fatal(err)
	}
	byID, _ := DirectPayPath("proforma", true, fmt.Sprint(ps.pf1), key)
	for _, bad := range []string{
		"/direct-pay-invoice?item_id=2026110001",                            // unsigned
		strings.Replace(signed, "2026110001", "2026110002", 1),              // another invoice, same signature
		signed[:len(signed)-2] + "xx",                                       // tampered signature
		strings.Replace(byID, "proforma-by-id", "invoice-by-id", 1),         // the signature of another kind
		"/direct-pay-invoice?item_id=2026110001&sig=" + url.QueryEscape(""), // empty
	} {
		if a := ps.get(c, bad); a.code != http.StatusForbidden || !strings.Contains(a.body, "This payment link is not valid") {
			t.Errorf("%s: %d %.200s", bad, a.code, a.body)
		}
	}
	page := ps.get(c, signed)
	if page.code != http.StatusOK || !strings.Contains(page.body, `name="sig"`) {
		t.Fatalf("signed link: %d %.400s", page.code, page.body)
	}
	if a := ps.get(c, byID); a.code != http.StatusOK || !strings.Contains(a.body, "PF-0007") {
		t.Fatalf("signed by-id link: %d", a.code)
	}
	// The pay form carries its own signature; without it the POST is refused.
	f := cardValues(testCard)
	f.Set("use", "new")
	f.Set("new_kind", "card")
	f.Set("amount", "25.00")
	f.Set("csrf_token", tokenRE.FindStringSubmatch(page.body)[1])
	action := fmt.Sprintf("/direct-pay/invoice/%d", ps.inv1)
	if a := ps.do(c, http.MethodPost, action, f); a.code != http.StatusForbidden {
		t.Fatalf("unsigned pay form: %d", a.code)
	}
	f.Set("sig", regexpSig.FindStringSubmatch(page.body)[1])
	if a := ps.follow(c, ps.do(c, http.MethodPost, action, f)); !strings.Contains(a.body, "Payment approved") {
		t.Fatalf("signed pay: %.400s", a.body)
	}
	if n, cents := ps.ledger(); n != 1 || cents != 2500 {
		t.Fatalf("ledger: %d, %d", n, cents)
	}
	if _, err := DirectPayPath("invoice", true, "12a", key); err == nil {
		t.Fatal("DirectPayPath took a non-numeric id")
	}
}

func TestPortalShowsTheMethodInSplynxAndRestores(t *testing.T) {
	ps := newPortalSite(t, config.IPpay)
	acc := ps.sp.AddPaymentAccountDef(splynxsim.PaymentAccountDef{Title: "IPpay", Fields: [10]string{"Token", "Method type", "Mask", "Expiry", "Account type"}})
	c := ps.visitor(ps.johnSID)
	if a := ps.post(c, "/methods", "/methods/card", cardValues(testCard)); a.code != http.StatusSeeOther {
		t.Fatalf("save: %d", a.code)
	}
	m, _ := ps.db.ActiveMethod(t.Context(), ps.john)
	pa, ok := ps.sp.PaymentAccount(ps.john, acc)
	if !ok || pa.Fields[0] != m.Token || pa.Fields[1] != "card" || pa.Fields[2] != m.Mask || pa.Fields[3] != "12/2030" {
		t.Fatalf("payment account in Splynx: %+v (method %+v)", pa, m)
	}
	if strings.Contains(fmt.Sprint(pa.Fields), testCard) {
		t.Fatal("the card number reached Splynx")
	}
	// A lost database: a new one, restored from Splynx, charges the same token.
	fresh, err := store.Open(t.Context(), t.TempDir()+"/fresh.db", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	en := charge.New(fresh, ps.spc, nil, charge.Options{Policy: mustPolicy(t, ps.set), Clock: ps.clk})
	st, err := en.RestoreMethods(t.Context())
	if err != nil || st.Restored != 1 {
		t.Fatalf("restore: %+v %v", st, err)
	}
	if r, err := fresh.ActiveMethod(t.Context(), ps.john); err != nil || r.Token != m.Token || r.Kind != "card" || r.ExpYear != 2030 {
		t.Fatalf("restored: %+v %v", r, err)
	}
	// Removed on the page: emptied in Splynx.
	if a := ps.post(c, "/methods", fmt.Sprintf("/methods/%d/remove", m.ID), nil); a.code != http.StatusSeeOther {
		t.Fatalf("remove: %d", a.code)
	}
	if _, ok := ps.sp.PaymentAccount(ps.john, acc); ok {
		t.Fatal("the payment account still shows the removed method")
	}
}

func TestPortalErrorPaths(t *testing.T) {
	ps := newPortalSite(t, config.IntegraPay)
	c := ps.visitor(ps.johnSID)
	// The gateway does not answer while a card is saved: nothing saved, a plain message.
	ps.ip.SetFault("", integrapaysim.Fault{Status: http.StatusServiceUnavailable})
	a := ps.post(c, "/methods", "/methods/card", cardValues(testCard))
	if a.code != http.StatusUnprocessableEntity || !strings.Contains(a.body, "We could not reach the payment provider, so nothing was saved") ||
		!strings.Contains(a.body, `value="John Smith"`) {
		t.Fatalf("gateway down: %d %.500s", a.code, a.body)
	}
	if ms, _ := ps.db.ListMethods(t.Context(), ps.john); len(ms) != 0 {
		t.Fatalf("saved while the gateway was down: %+v", ms)
	}
	ps.ip.ClearFaults()
	ps.post(c, "/methods", "/methods/card", cardValues(testCard))
	// Splynx does not answer on the pay page: nothing charged, a plain message.
	ps.sp.SetFault("admin/finance/invoices", splynxsim.Fault{ErrorRate: 1, Status: http.StatusInternalServerError})
	pay := fmt.Sprintf("/pay/invoice/%d", ps.inv1)
	if a := ps.get(c, pay); a.code != http.StatusServiceUnavailable || !strings.Contains(a.body, "We could not load this invoice right now") {
		t.Fatalf("splynx down: %d %.300s", a.code, a.body)
	}
	ps.sp.ClearFaults()
	// Paying without choosing, and with a saved method that is gone.
	if a := ps.post(c, "/methods", pay, url.Values{"amount": {"25.00"}}); a.code != http.StatusUnprocessableEntity || !strings.Contains(a.body, "Choose how to pay") {
		t.Fatalf("no choice: %d %.300s", a.code, a.body)
	}
	m, _ := ps.db.ActiveMethod(t.Context(), ps.john)
	ps.post(c, "/methods", fmt.Sprintf("/methods/%d/remove", m.ID), nil)
	if a := ps.post(c, "/methods", pay, url.Values{"use": {"saved"}, "amount": {"25.00"}}); a.code != http.StatusUnprocessableEntity ||
		!strings.Contains(a.body, "You have no saved payment method") {
		t.Fatalf("saved method gone: %d %.300s", a.code, a.body)
	}
	// Odd paths and ids.
	for _, p := range []string{"/pay/refund/1", "/pay/invoice/abc", "/pay/invoice/-1", "/payments/abc", "/payments/999"} {
		if a := ps.get(c, p); a.code != http.StatusNotFound {
			t.Errorf("%s: %d", p, a.code)
		}
	}
	// A POST after the session ended: refused, not charged.
	anon := ps.visitor("")
	ps.get(anon, "/login")
	tok := tokenRE.FindStringSubmatch(ps.get(anon, "/login").body)[1]
	if a := ps.do(anon, http.MethodPost, pay, url.Values{"use": {"saved"}, "amount": {"25.00"}, "csrf_token": {tok}}); a.code != http.StatusUnauthorized {
		t.Fatalf("POST without a session: %d", a.code)
	}
	if n, _ := ps.ledger(); n != 0 {
		t.Fatalf("%d charges", n)
	}
}
