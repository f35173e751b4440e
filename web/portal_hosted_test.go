package web

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/splynx-pay/splynx-pay/gateways"
	"github.com/splynx-pay/splynx-pay/internal/config"
	"github.com/splynx-pay/splynx-pay/splynx/splynxsim"
	"github.com/splynx-pay/splynx-pay/store"
)

// hostedEntry is the card_entry = hosted setting.
func hostedEntry(module map[string]string) { module["card_entry"] = "hosted" }

// numberFields are the inputs that would carry card or bank numbers.
var numberFields = []string{`name="card_number"`, `name="cvv"`, `name="bsb"`, `name="account_number"`, `name="routing"`}

func noNumberFields(t *testing.T, where, body string) {
	t.Helper()
	for _, f := range numberFields {
		if strings.Contains(body, f) {
			t.Fatalf("%s renders %s in hosted mode", where, f)
		}
	}
}

// atGateway fills the gateway simulator's hosted page at pageURL as a
// browser would and returns the answer (a redirect to our return URL).
func atGateway(t *testing.T, pageURL string, form url.Values) answer {
	t.Helper()
	hc := cookieClient(t)
	resp, err := hc.Get(pageURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if form == nil {
		return answer{code: resp.StatusCode}
	}
	resp, err = hc.PostForm(pageURL, form)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return answer{resp.StatusCode, string(b), resp.Header.Get("Location")}
}

// back follows the gateway's redirect to our return URL with visitor c.
func (ps *portalSite) back(c *http.Client, a answer) answer {
	ps.t.Helper()
	if a.code != http.StatusSeeOther || !strings.HasPrefix(a.location, ps.url("/hosted/return?webPageToken=")) {
		ps.t.Fatalf("the gateway's page did not send the browser back to us: %d %q %.300s", a.code, a.location, a.body)
	}
	resp, err := c.Get(a.location)
	if err != nil {
		ps.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, string(b), resp.Header.Get("Location")}
}

func hostedCard(number string) url.Values {
	return url.Values{"card_number": {number}, "cardholder": {"John Smith"}, "exp_month": {"12"}, "exp_year": {"2030"}, "ccv": {testCVV}}
}

func hostedBank() url.Values {
	return url.Values{"bsb": {testBSB}, "account_number": {testAUAcct}, "account_name": {"John Smith"}, "account_type": {"CHEQUE"}, "ddr_accept": {"1"}}
}

// startPay chooses "new card" on the pay page of invoice id and returns
// the redirect to the gateway's page.
func (ps *portalSite) startPay(c *http.Client, id int64, amount string, save bool) answer {
	ps.t.Helper()
	pay := fmt.Sprintf("/pay/invoice/%d", id)
	page := ps.get(c, pay)
	noNumberFields(ps.t.(*testing.T), "the pay page", page.body)
	form := url.Values{"use": {"new"}, "new_kind": {"card"}, "amount": {amount}}
	if save {
		form.Set("save", "1")
	}
	a := ps.post(c, pay, pay, form)
	if a.code != http.StatusSeeOther || !strings.Contains(a.location, "/ui/hpp/api/") {
		ps.t.Fatalf("pay with a new card in hosted mode: %d %q %.400s", a.code, a.location, a.body)
	}
	return a
}

func TestHostedBankAccountThroughEDDR(t *testing.T) {
	ps := newPortalSite(t, config.IntegraPay, hostedEntry)
	c := ps.visitor(ps.johnSID)
	page := ps.get(c, "/methods")
	noNumberFields(t, "the methods page", page.body)
	if !strings.Contains(page.body, "saved with your first card payment") || !strings.Contains(page.body, "/methods/hosted/bank") {
		t.Fatalf("methods page in hosted mode: %.1500s", page.body)
	}
	// A card form posted anyway is not read, and nothing reaches the gateway.
	before := len(ps.ip.Requests())
	if a := ps.post(c, "/methods", "/methods/card", cardValues(testCard)); a.code != http.StatusUnprocessableEntity ||
		!strings.Contains(a.body, "secure page") {
		t.Fatalf("direct card post in hosted mode: %d %.300s", a.code, a.body)
	}
	if n := len(ps.ip.Requests()); n != before {
		t.Fatalf("a direct card post reached the gateway (%d requests)", n-before)
	}

	a := ps.post(c, "/methods", "/methods/hosted/bank", nil)
	if a.code != http.StatusSeeOther || !strings.Contains(a.location, "/ui/eddr/api/") {
		t.Fatalf("add bank: %d %q", a.code, a.location)
	}
	// Without the DDR acceptance the gateway's page does not complete.
	noDDR := hostedBank()
	noDDR.Del("ddr_accept")
	if g := atGateway(t, a.location, noDDR); g.code != http.StatusUnprocessableEntity {
		t.Fatalf("eDDR without acceptance: %d", g.code)
	}
	ps.clk.Advance(time.Minute)
	ret := ps.back(c, atGateway(t, a.location, hostedBank()))
	if ret.code != http.StatusSeeOther || ret.location != ps.prefix+"/methods?done=saved" {
		t.Fatalf("return: %d %q %.300s", ret.code, ret.location, ret.body)
	}
	ms, _ := ps.db.ListMethods(context.Background(), ps.john)
	if len(ms) != 1 || ms[0].Kind != "bank" || ms[0].Token != fmt.Sprint(ps.john) || !strings.HasPrefix(ms[0].AuthText, "integrapay-eddr:") ||
		!ms[0].AuthAcceptedAt.Equal(ps.clk.Now().Truncate(time.Millisecond)) || ms[0].AuthIP != "127.0.0.1" {
		t.Fatalf("saved: %+v", ms)
	}
	if p, _ := ps.ip.Payer(fmt.Sprint(ps.john)); p.Method != "bank" {
		t.Fatalf("gateway payer: %+v", p)
	}
	// A reload of the return saves nothing more.
	if again := ps.back(c, answer{code: http.StatusSeeOther, location: ps.url("/hosted/return?webPageToken=" + strings.TrimPrefix(a.location[strings.LastIndex(a.location, "/"):], "/"))}); again.code != http.StatusSeeOther {
		t.Fatalf("reload: %d", again.code)
	}
	if ms, _ := ps.db.ListMethods(context.Background(), ps.john); len(ms) != 1 {
		t.Fatalf("the reload saved again: %d methods", len(ms))
	}
	// The saved account pays a proforma by direct debit.
	pay := fmt.Sprintf("/pay/proforma/%d", ps.pf1)
	if r := ps.follow(c, ps.post(c, pay, pay, url.Values{"use": {"saved"}, "amount": {"40.00"}})); !strings.Contains(r.body, "Payment submitted") {
		t.Fatalf("bank payment: %.500s", r.body)
	}
	ps.checkNoLeaks(t)
}

func TestHostedPayInvoiceWithANewCard(t *testing.T) {
	ps := newPortalSite(t, config.IntegraPay, hostedEntry)
	c := ps.visitor(ps.johnSID)
	a := ps.startPay(c, ps.inv1, "25.00", true)
	res := ps.back(c, atGateway(t, a.location, hostedCard(testCard)))
	if !attemptLinkRE.MatchString(res.location) {
		t.Fatalf("return: %d %q %.300s", res.code, res.location, res.body)
	}
	if r := ps.follow(c, res); !strings.Contains(r.body, "Payment approved") {
		t.Fatalf("result: %.600s", r.body)
	}
	if n, cents := ps.ledger(); n != 1 || cents != 2500 {
		t.Fatalf("ledger %d %d", n, cents)
	}
	if n, cents := ps.splynxPaid(); n != 1 || cents != 2500 {
		t.Fatalf("splynx %d %d", n, cents)
	}
	m, err := ps.db.ActiveMethod(context.Background(), ps.john)
	if err != nil || m.Kind != "card" || m.Mask != "Visa •••• 1111" || m.ExpMonth != 12 || m.ExpYear != 2030 {
		t.Fatalf("saved card: %+v %v", m, err)
	}
	// The saved card pays the next invoice without the gateway's page.
	pay := fmt.Sprintf("/pay/invoice/%d", ps.inv2)
	if r := ps.follow(c, ps.post(c, pay, pay, url.Values{"use": {"saved"}, "amount": {"30.00"}})); !strings.Contains(r.body, "Payment approved") {
		t.Fatalf("saved card payment: %.500s", r.body)
	}
	if n, cents := ps.ledger(); n != 2 || cents != 5500 {
		t.Fatalf("ledger %d %d", n, cents)
	}
	ps.checkNoLeaks(t)
}

func TestHostedReturnRefusesTokensItDidNotIssue(t *testing.T) {
	ps := newPortalSite(t, config.IntegraPay, hostedEntry)
	john := ps.visitor(ps.johnSID)
	// A made-up token, and a real gateway token we never issued.
	if a := ps.get(john, "/hosted/return?webPageToken=65026106-0000-forged"); a.code != http.StatusNotFound {
		t.Fatalf("forged token: %d", a.code)
	}
	gw := ps.en.Hosted()
	payer := gateways.Payer{Reference: fmt.Sprint(ps.john), FamilyName: "Smith", GivenName: "John"}
	page, err := gw.CreateHostedPage(context.Background(), gateways.HostedRequest{Kind: gateways.HostedBank, Payer: payer, ReturnURL: ps.url("/hosted/return")})
	if err != nil {
		t.Fatal(err)
	}
	if a := ps.back(john, atGateway(t, page.URL, hostedBank())); a.code != http.StatusNotFound {
		t.Fatalf("a gateway token we did not issue: %d", a.code)
	}
	// Another customer (another browser) with John's return.
	start := ps.post(john, "/methods", "/methods/hosted/bank", nil)
	done := atGateway(t, start.location, hostedBank())
	janeSID := ps.sp.NewSession("customer", ps.jane)
	jane := ps.visitor(janeSID)
	if a := ps.back(jane, done); a.code != http.StatusForbidden {
		t.Fatalf("jane with john's token: %d", a.code)
	}
	// ... even holding John's browser cookie.
	u, _ := url.Parse(ps.srv.URL + ps.prefix + "/")
	for _, ck := range john.Jar.Cookies(u) {
		if ck.Name == hostedCookie {
			jane.Jar.SetCookies(u, []*http.Cookie{{Name: ck.Name, Value: ck.Value, Path: ps.prefix + "/"}})
		}
	}
	if a := ps.back(jane, done); a.code != http.StatusForbidden {
		t.Fatalf("jane with john's cookie: %d", a.code)
	}
	for _, id := range []int64{ps.john, ps.jane} {
		if ms, _ := ps.db.ListMethods(context.Background(), id); len(ms) != 0 {
			t.Fatalf("customer %d has methods after refused returns: %+v", id, ms)
		}
	}
	// Without a session (it ended while on the gateway's page): log in first.
	if a := ps.back(ps.visitor(""), done); a.code != http.StatusSeeOther || !strings.Contains(a.location, "/login?next=") {
		t.Fatalf("no session: %d %q", a.code, a.location)
	}
	// John himself gets his account saved.
	if a := ps.back(john, done); a.code != http.StatusSeeOther {
		t.Fatalf("john: %d %.300s", a.code, a.body)
	}
	if ms, _ := ps.db.ListMethods(context.Background(), ps.john); len(ms) != 1 {
		t.Fatalf("john's methods: %+v", ms)
	}
}

func TestHostedExpiredPageChargesNothingAndFreesTheInvoice(t *testing.T) {
	ps := newPortalSite(t, config.IntegraPay, hostedEntry)
	c := ps.visitor(ps.johnSID)
	a := ps.startPay(c, ps.inv1, "25.00", true)
	// While the page can still take money the invoice is not charged again.
	if p := ps.get(c, fmt.Sprintf("/pay/invoice/%d", ps.inv1)); p.code != http.StatusSeeOther || !attemptLinkRE.MatchString(p.location) {
		t.Fatalf("pay page while on the gateway's page: %d %q", p.code, p.location)
	}
	ps.clk.Advance(21 * time.Minute)
	if g := atGateway(t, a.location, nil); g.code != http.StatusGone {
		t.Fatalf("expired page: %d", g.code)
	}
	token := a.location[strings.LastIndex(a.location, "/")+1:]
	res := ps.back(c, answer{code: http.StatusSeeOther, location: ps.url("/hosted/return?webPageToken=" + token)})
	r := ps.follow(c, res)
	if !strings.Contains(r.body, "Payment not made") || !strings.Contains(r.body, "EXPIRED") {
		t.Fatalf("expired result: %.800s", r.body)
	}
	if n, _ := ps.ledger(); n != 0 {
		t.Fatalf("ledger has %d charges", n)
	}
	// The invoice can be paid again.
	ps.startPay(c, ps.inv1, "25.00", false)
}

func TestHostedRejectedPaymentIsADecline(t *testing.T) {
	ps := newPortalSite(t, config.IntegraPay, hostedEntry)
	ps.sp.UpdateInvoice(ps.inv1, func(i *splynxsim.Invoice) { i.Total, i.Due = 2551, 2551 }) // .51: declined (R6)
	ps.mirror()
	c := ps.visitor(ps.johnSID)
	a := ps.startPay(c, ps.inv1, "25.51", true)
	r := ps.follow(c, ps.back(c, atGateway(t, a.location, hostedCard(testCard))))
	if !strings.Contains(r.body, "Payment declined") || !strings.Contains(r.body, "Your card issuer declined the payment") {
		t.Fatalf("rejected transaction on a completed page: %.800s", r.body)
	}
	if n, _ := ps.splynxPaid(); n != 0 {
		t.Fatalf("splynx has %d payments", n)
	}
	if _, err := ps.db.ActiveMethod(context.Background(), ps.john); err == nil {
		t.Fatal("a declined card was saved")
	}
}

func TestHostedLostReturnIsResolvedByTheReconciler(t *testing.T) {
	ps := newPortalSite(t, config.IntegraPay, hostedEntry)
	c := ps.visitor(ps.johnSID)
	a := ps.startPay(c, ps.inv1, "25.00", false)
	g := atGateway(t, a.location, hostedCard(testCard)) // paid; the browser never comes back
	if g.code != http.StatusSeeOther {
		t.Fatalf("gateway page: %d", g.code)
	}
	ctx := context.Background()
	if _, err := ps.en.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	as, _ := ps.db.ListAttempts(ctx, store.AttemptFilter{CustomerID: ps.john})
	if len(as) != 1 || as[0].State != store.StateUnknown {
		t.Fatalf("before the page expired: %+v", as)
	}
	ps.clk.Advance(26 * time.Minute)
	if st, err := ps.en.Reconcile(ctx); err != nil || st.Resolved != 1 {
		t.Fatalf("reconcile: %+v %v", st, err)
	}
	if _, err := ps.en.WriteBack(ctx); err != nil {
		t.Fatal(err)
	}
	if n, cents := ps.splynxPaid(); n != 1 || cents != 2500 {
		t.Fatalf("splynx %d %d", n, cents)
	}
	// The late return shows the payment and charges nothing more.
	if r := ps.follow(c, ps.back(c, g)); !strings.Contains(r.body, "Payment approved") {
		t.Fatalf("late return: %.500s", r.body)
	}
	if n, cents := ps.ledger(); n != 1 || cents != 2500 {
		t.Fatalf("ledger %d %d", n, cents)
	}
}

func TestHostedReturnBeforeThePageIsDoneSaysWeAreChecking(t *testing.T) {
	ps := newPortalSite(t, config.IntegraPay, hostedEntry)
	c := ps.visitor(ps.johnSID)
	a := ps.startPay(c, ps.inv1, "25.00", false)
	atGateway(t, a.location, nil) // opened (VALIDATED), not submitted
	token := a.location[strings.LastIndex(a.location, "/")+1:]
	ret := answer{code: http.StatusSeeOther, location: ps.url("/hosted/return?webPageToken=" + token)}
	if r := ps.follow(c, ps.back(c, ret)); !strings.Contains(r.body, "We are checking your payment") {
		t.Fatalf("return while the page is open: %.500s", r.body)
	}
	// Completed afterwards: the next return records it.
	ps.back(c, atGateway(t, a.location, hostedCard(testCard)))
	if r := ps.follow(c, ps.back(c, ret)); !strings.Contains(r.body, "Payment approved") {
		t.Fatalf("after completion: %.500s", r.body)
	}
	// An eDDR return while the page is still open: checking, nothing saved.
	b := ps.post(c, "/methods", "/methods/hosted/bank", nil)
	tok := b.location[strings.LastIndex(b.location, "/")+1:]
	if r := ps.back(c, answer{code: http.StatusSeeOther, location: ps.url("/hosted/return?webPageToken=" + tok)}); r.code != http.StatusAccepted ||
		!strings.Contains(r.body, "We are checking") {
		t.Fatalf("eDDR still open: %d %.300s", r.code, r.body)
	}
}

func TestHostedEntryIsRefusedForIPpay(t *testing.T) {
	_, err := config.ParseSettingsFor(config.IPpay, map[string]string{"card_entry": "hosted"}, nil)
	if err == nil || !strings.Contains(err.Error(), "card_entry") || !strings.Contains(err.Error(), "IPpay has no hosted payment page") {
		t.Fatalf("IPpay with card_entry=hosted: %v", err)
	}
}

func TestHostedRefillAndDirectLinkPayOnTheGatewaysPage(t *testing.T) {
	ps := newPortalSite(t, config.IntegraPay, hostedEntry)
	// A direct link, from a browser without a session.
	other := ps.visitor("")
	d := ps.get(other, "/direct-pay-invoice?item_id=2026110001")
	noNumberFields(t, "the direct link page", d.body)
	if strings.Contains(d.body, `value="bank"`) {
		t.Fatalf("a direct link offers a bank account in hosted mode")
	}
	action := actionRE.FindStringSubmatch(d.body)
	f := url.Values{"use": {"new"}, "new_kind": {"card"}, "amount": {"25.00"}, "csrf_token": {tokenRE.FindStringSubmatch(d.body)[1]}}
	g := ps.do(other, http.MethodPost, strings.TrimPrefix(action[1], ps.prefix), f)
	if g.code != http.StatusSeeOther || !strings.Contains(g.location, "/ui/hpp/api/") {
		t.Fatalf("direct link in hosted mode: %d %q %.300s", g.code, g.location, g.body)
	}
	res := ps.back(other, atGateway(t, g.location, hostedCard(testCard)))
	if !strings.Contains(res.location, "/direct-pay/result?ref=") {
		t.Fatalf("direct return: %d %q", res.code, res.location)
	}
	if r := ps.follow(other, res); !strings.Contains(r.body, "Payment approved") {
		t.Fatalf("direct result: %.500s", r.body)
	}
	// A top-up with a new card: no details step of ours, the HPP page takes it.
	c := ps.visitor(ps.johnSID)
	page := ps.get(c, "/")
	noNumberFields(t, "the refill page", page.body)
	once := onceFieldRE.FindStringSubmatch(page.body)[1]
	a := ps.post(c, "/", "/", url.Values{"amount": {"20.00"}, "type": {"card"}, "once": {once}})
	if a.code != http.StatusSeeOther || !strings.Contains(a.location, "/ui/hpp/api/") {
		t.Fatalf("refill in hosted mode: %d %q %.300s", a.code, a.location, a.body)
	}
	if r := ps.follow(c, ps.back(c, atGateway(t, a.location, hostedCard(testCard2)))); !strings.Contains(r.body, "Payment approved") ||
		!strings.Contains(r.body, "Balance top-up") {
		t.Fatalf("refill result: %.500s", r.body)
	}
	// The same form again is the same top-up.
	if again := ps.post(c, "/", "/", url.Values{"amount": {"20.00"}, "type": {"card"}, "once": {once}}); !attemptLinkRE.MatchString(again.location) {
		t.Fatalf("second submit: %d %q", again.code, again.location)
	}

	if n, cents := ps.ledger(); n != 2 || cents != 4500 {
		t.Fatalf("ledger %d %d", n, cents)
	}
	if n, cents := ps.splynxPaid(); n != 2 || cents != 4500 {
		t.Fatalf("splynx %d %d", n, cents)
	}
	// The direct link's card was not kept; the top-up's was (no method before).
	m, err := ps.db.ActiveMethod(context.Background(), ps.john)
	if err != nil || m.Mask != "Mastercard •••• 4444" {
		t.Fatalf("saved method: %+v %v", m, err)
	}
	ps.checkNoLeaks(t)
}

func TestHostedAbandonedPageIsClosedByTheReconciler(t *testing.T) {
	ps := newPortalSite(t, config.IntegraPay, hostedEntry)
	c := ps.visitor(ps.johnSID)
	a := ps.startPay(c, ps.inv1, "25.00", false)
	atGateway(t, a.location, nil) // opened, then the customer walks away
	ctx := context.Background()
	ps.clk.Advance(26 * time.Minute)
	if st, err := ps.en.Reconcile(ctx); err != nil || st.NotSent != 1 {
		t.Fatalf("reconcile: %+v %v", st, err)
	}
	as, _ := ps.db.ListAttempts(ctx, store.AttemptFilter{CustomerID: ps.john})
	if len(as) != 1 || as[0].State != store.StateDeclined || !strings.Contains(as[0].Message, "EXPIRED") {
		t.Fatalf("attempt: %+v", as)
	}
	if n, _ := ps.ledger(); n != 0 {
		t.Fatalf("ledger has %d charges", n)
	}
	ps.startPay(c, ps.inv1, "25.00", false) // the invoice is free again
}
