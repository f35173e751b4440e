package integrapay_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/splynx-pay/splynx-pay/gateways"
	"github.com/splynx-pay/splynx-pay/gateways/integrapay"
	"github.com/splynx-pay/splynx-pay/gateways/integrapay/integrapaysim"
)

// submitHosted fills the simulator's hosted page over HTTP, as a browser
// would, and returns where it sends the browser.
func submitHosted(t *testing.T, e *env, pageURL string, form url.Values) (int, string) {
	t.Helper()
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Get(pageURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, ""
	}
	resp, err = hc.PostForm(pageURL, form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Location")
}

func cardForm(pan string) url.Values {
	return url.Values{"card_number": {pan}, "cardholder": {"JANE CITIZEN"}, "exp_month": {"11"}, "exp_year": {"2029"}, "ccv": {testCVV}}
}

func TestHostedPaymentPageTakesThePaymentAndReturns(t *testing.T) {
	e := newEnv(t)
	page, err := e.c.CreateHostedPage(e.ctx, gateways.HostedRequest{Kind: gateways.HostedCard, Payer: testPayer("C42"), SavePayer: true,
		ReturnURL: "https://isp.example/integrapay/hosted/return", Charge: &gateways.HostedCharge{Reference: "SPHOSTED0000000001", Amount: 4200,
			Currency: "AUD", Description: "Invoice 1"}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(page.URL, e.srv.URL+"/ui/hpp/api/") || page.Token == "" || !page.ExpiresAt.Equal(e.clk.Now().Add(20*time.Minute)) {
		t.Fatalf("page = %+v", page)
	}
	// The exact request the gateway received (spec §8 field names).
	var got integrapaysim.Request
	for _, r := range e.sim.Requests() {
		if strings.HasSuffix(r.Path, "/services/tokens/hpp/") {
			got = r
		}
	}
	for _, want := range []string{`"ReturnUrl":"https://isp.example/integrapay/hosted/return"`, `"Template":"Basic"`, `"CardAuthorizationType":"RECURRING"`,
		`"Transaction":{"ProcessType":"COMPLETE","Reference":"SPHOSTED0000000001","Description":"Invoice 1","Amount":42.00,"CurrencyCode":"AUD"`,
		`"SavePayer":true,"UniqueReference":"C42"`} {
		if !strings.Contains(string(got.Body), want) {
			t.Errorf("request body lacks %s:\n%s", want, got.Body)
		}
	}
	res, err := e.c.LookupHostedPage(e.ctx, page.Token)
	if err != nil || res.Status != "WAITING" || !res.Open || res.Charge != nil {
		t.Fatalf("before: %+v %v", res, err)
	}
	status, loc := submitHosted(t, e, page.URL, cardForm(testPAN))
	if status != http.StatusSeeOther || loc != "https://isp.example/integrapay/hosted/return?webPageToken="+page.Token {
		t.Fatalf("submit: %d %q", status, loc)
	}
	res, err = e.c.LookupHostedPage(e.ctx, page.Token)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Completed || res.Open || res.PayerRef != "C42" || res.Charge == nil || res.Charge.Status != gateways.Approved ||
		res.Charge.Reference != "SPHOSTED0000000001" || res.Charge.Amount != 4200 || res.Method == nil || res.Method.Mask != "Visa •••• 1111" ||
		res.Method.ExpMonth != 11 || res.Method.ExpYear != 2029 || res.AcceptedIP != "127.0.0.1" {
		t.Fatalf("after: %+v charge %+v method %+v", res, res.Charge, res.Method)
	}
	// The payment is in the ledger under our reference, and the confirmed
	// card lookup finds it: a lost return is resolved by reference.
	o, err := e.c.Lookup(e.ctx, gateways.LookupRequest{Reference: "SPHOSTED0000000001", Method: gateways.SavedMethod{Kind: gateways.Card}})
	if err != nil || o.Status != gateways.Approved || o.GatewayID != res.Charge.GatewayID {
		t.Fatalf("lookup by reference: %+v %v", o, err)
	}
	if p, ok := e.sim.Payer("C42"); !ok || p.Method != "card" {
		t.Fatalf("payer %+v", p)
	}
	// SaveMethod with the token records the card; another payer's token is refused.
	m, err := e.c.SaveMethod(e.ctx, gateways.SaveMethodRequest{Payer: testPayer("C42"), HostedToken: page.Token})
	if err != nil || m.Token != "C42" || m.Mask != "Visa •••• 1111" || m.Kind != gateways.Card {
		t.Fatalf("save hosted: %+v %v", m, err)
	}
	if _, err := e.c.SaveMethod(e.ctx, gateways.SaveMethodRequest{Payer: testPayer("C43"), HostedToken: page.Token}); !errors.Is(err, gateways.ErrInvalidDetails) {
		t.Fatalf("another payer's token: %v", err)
	}
	assertNoSecrets(t, e)
}

func TestHostedPageRejectedPaymentIsStillCompleted(t *testing.T) {
	e := newEnv(t)
	page, err := e.c.CreateHostedPage(e.ctx, gateways.HostedRequest{Kind: gateways.HostedCard, Payer: testPayer("C42"),
		ReturnURL: "https://isp.example/r", Charge: &gateways.HostedCharge{Reference: "SPHOSTED0000000002", Amount: 1051}})
	if err != nil {
		t.Fatal(err)
	}
	submitHosted(t, e, page.URL, cardForm(testPAN))
	res, err := e.c.LookupHostedPage(e.ctx, page.Token)
	if err != nil || !res.Completed || res.Charge == nil || res.Charge.Status != gateways.Declined || res.Charge.Reason != gateways.ReasonDoNotHonor {
		t.Fatalf("%+v %+v %v", res, res.Charge, err)
	}
	if _, ok := e.sim.Payer("C42"); ok {
		t.Fatal("SavePayer false saved the payer")
	}
	if _, err := e.c.SaveMethod(e.ctx, gateways.SaveMethodRequest{Payer: testPayer("C42"), HostedToken: page.Token}); !errors.Is(err, gateways.ErrInvalidDetails) {
		t.Fatalf("a declined page saved a method: %v", err)
	}
}

func TestHostedPageExpiresAfterTwentyMinutes(t *testing.T) {
	e := newEnv(t)
	page, err := e.c.CreateHostedPage(e.ctx, gateways.HostedRequest{Kind: gateways.HostedBank, Payer: testPayer("C42"), ReturnURL: "https://isp.example/r"})
	if err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(19 * time.Minute)
	if res, _ := e.c.LookupHostedPage(e.ctx, page.Token); !res.Open {
		t.Fatalf("open at 19 min: %+v", res)
	}
	e.clk.Advance(time.Minute)
	res, err := e.c.LookupHostedPage(e.ctx, page.Token)
	if err != nil || res.Open || res.Completed || res.Status != "EXPIRED" {
		t.Fatalf("at 20 min: %+v %v", res, err)
	}
	if status, _ := submitHosted(t, e, page.URL, url.Values{}); status != http.StatusGone {
		t.Fatalf("expired page answered %d", status)
	}
	if _, err := e.c.LookupHostedPage(e.ctx, "00000000-forged"); !errors.Is(err, gateways.ErrNotFound) {
		t.Fatalf("forged token: %v", err)
	}
}

func TestHostedDirectDebitRequest(t *testing.T) {
	for _, inferred := range []bool{false, true} {
		var opts []envOpt
		if inferred {
			opts = append(opts, withInferred())
		}
		e := newEnv(t, opts...)
		page, err := e.c.CreateHostedPage(e.ctx, gateways.HostedRequest{Kind: gateways.HostedBank, Payer: testPayer("C42"), ReturnURL: "https://isp.example/r"})
		if err != nil {
			t.Fatal(err)
		}
		bank := url.Values{"bsb": {testBSB}, "account_number": {testAccount}, "account_name": {"J CITIZEN"}, "account_type": {"SAVINGS"}}
		// Without the DDR acceptance the page does not complete.
		if status, _ := submitHosted(t, e, page.URL, bank); status != http.StatusUnprocessableEntity {
			t.Fatalf("no DDR acceptance: %d", status)
		}
		bank.Set("ddr_accept", "1")
		if status, loc := submitHosted(t, e, page.URL, bank); status != http.StatusSeeOther || !strings.Contains(loc, page.Token) {
			t.Fatalf("submit: %d %s", status, loc)
		}
		res, err := e.c.LookupHostedPage(e.ctx, page.Token)
		if err != nil || !res.Completed || res.Kind != gateways.HostedBank || res.Charge != nil || res.Method == nil || res.AcceptedAt.IsZero() {
			t.Fatalf("%+v %v", res, err)
		}
		wantMask := "IntegraPay eDDR account"
		if inferred {
			wantMask = "BSB 062-••• •••• 678"
		}
		if res.Method.Mask != wantMask || strings.Contains(res.Method.Mask, testAccount) {
			t.Fatalf("inferred=%v mask %q", inferred, res.Method.Mask)
		}
		if p, _ := e.sim.Payer("C42"); p.Method != "bank" || p.AccountType != "SAVINGS" {
			t.Fatalf("payer %+v", p)
		}
		assertNoSecrets(t, e)
	}
}

func TestHostedCardSaveWithoutPaymentIsInferred(t *testing.T) {
	req := gateways.HostedRequest{Kind: gateways.HostedCard, Payer: testPayer("C42"), SavePayer: true, ReturnURL: "https://isp.example/r"}
	e := newEnv(t)
	if _, err := e.c.CreateHostedPage(e.ctx, req); err == nil || !strings.Contains(err.Error(), "Transaction is required") {
		t.Fatalf("HPP without a transaction served by default: %v", err)
	}
	e = newEnv(t, func(o *integrapaysim.Options, _ *integrapay.Config) { o.HostedSaveCard = true })
	page, err := e.c.CreateHostedPage(e.ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	submitHosted(t, e, page.URL, cardForm(testPAN))
	m, err := e.c.SaveMethod(e.ctx, gateways.SaveMethodRequest{Payer: testPayer("C42"), HostedToken: page.Token})
	if err != nil || m.Mask != "Visa •••• 1111" {
		t.Fatalf("%+v %v", m, err)
	}
	if n := len(e.sim.Ledger()); n != 0 {
		t.Fatalf("a card save made %d transactions", n)
	}
}

// assertNoSecrets: the client's log lines never carry the test numbers.
func assertNoSecrets(t *testing.T, e *env) {
	t.Helper()
	for _, l := range e.logs.All() {
		s := l.Message
		for k, v := range l.ContextMap() {
			s += " " + k + "=" + fmt.Sprint(v)
		}
		for _, secret := range []string{testPAN, testAccount, testCVV + " ", testBSB} {
			if strings.Contains(s, secret) {
				t.Fatalf("log line holds %q: %s", secret, s)
			}
		}
	}
}
