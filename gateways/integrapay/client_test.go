package integrapay_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/splynx-pay/splynx-pay/gateways"
	"github.com/splynx-pay/splynx-pay/gateways/integrapay"
	"github.com/splynx-pay/splynx-pay/gateways/integrapay/integrapaysim"
)

func TestNewRejectsMissingSettings(t *testing.T) {
	cases := []struct {
		name string
		cfg  integrapay.Config
		want string
	}{
		{"no username", integrapay.Config{Password: "p", BusinessID: "1"}, "username"},
		{"no password", integrapay.Config{Username: "u", BusinessID: "1"}, "password"},
		{"no business", integrapay.Config{Username: "u", Password: "p"}, "business id"},
		{"bad url", integrapay.Config{Username: "u", Password: "p", BusinessID: "1", APIURL: "ftp://x"}, "bad URL"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := integrapay.New(tc.cfg)
			if !errors.Is(err, gateways.ErrNotConfigured) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want ErrNotConfigured naming %q", err, tc.want)
			}
		})
	}
}

func TestHosts(t *testing.T) {
	cases := []struct{ env, auth, api string }{
		{"sandbox", integrapay.SandboxAuthURL, integrapay.SandboxAPIURL},
		{"", "https://sandbox.auth.paymentsapi.io", "https://sandbox.rest.paymentsapi.io"},
		{"Production", "https://auth.paymentsapi.io", "https://rest.paymentsapi.io"},
	}
	for _, tc := range cases {
		auth, api, err := integrapay.Hosts(tc.env)
		if err != nil || auth != tc.auth || api != tc.api {
			t.Fatalf("%q: %s %s %v", tc.env, auth, api, err)
		}
	}
	if _, _, err := integrapay.Hosts("staging"); !errors.Is(err, gateways.ErrNotConfigured) {
		t.Fatal(err)
	}
}

func TestCancelledContextSendsNothing(t *testing.T) {
	e := newEnv(t)
	m := e.saveCard("C1")
	ctx, cancel := context.WithCancel(e.ctx)
	cancel()
	before := len(e.sim.Requests())
	_, err := e.c.Charge(ctx, gateways.ChargeRequest{Reference: "SPCANCELLED0000001", Method: m, PayerRef: "C1", Amount: 100})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	if len(e.sim.Requests()) != before {
		t.Fatal("a request left with a cancelled context")
	}
}

func TestTokenCachedAndRenewedBeforeExpiry(t *testing.T) {
	e := newEnv(t)
	if err := e.c.Ping(e.ctx); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if err := e.c.UpsertPayer(e.ctx, testPayer("C1")); err != nil {
			t.Fatal(err)
		}
	}
	if n := e.sim.Logins(); n != 1 {
		t.Fatalf("logins after cached calls = %d, want 1", n)
	}
	// 59 minutes in, the token has only the 60 s margin left: renewed
	// before use rather than risked.
	e.clk.Advance(59 * time.Minute)
	if _, err := e.c.GetPayer(e.ctx, "C1"); err != nil {
		t.Fatal(err)
	}
	if n := e.sim.Logins(); n != 2 {
		t.Fatalf("logins at 59 min = %d, want 2 (renewed 60 s before expiry)", n)
	}
	// Mid-run expiry: the clock jumps past the new token's life between
	// two calls of one run.
	m := e.saveCard("C2")
	e.clk.Advance(2 * time.Hour)
	o := e.charge("SPTOKENEXPIRY00001", m, 1000)
	if o.Status != gateways.Approved {
		t.Fatalf("charge after expiry: %+v", o)
	}
	if n := e.sim.Logins(); n != 3 {
		t.Fatalf("logins = %d, want 3", n)
	}
	for _, r := range e.sim.Requests() {
		if r.Status == http.StatusUnauthorized {
			t.Fatalf("a request went out with an expired token: %s %s", r.Method, r.Path)
		}
	}
}

func TestRevokedTokenLogsInAgainOnce(t *testing.T) {
	e := newEnv(t)
	m := e.saveCard("C1")
	e.sim.RevokeTokens()
	o := e.charge("SPREVOKED000000001", m, 2500)
	if o.Status != gateways.Approved {
		t.Fatalf("outcome %+v", o)
	}
	if got := len(e.entries("SPREVOKED000000001")); got != 1 {
		t.Fatalf("ledger rows = %d, want 1", got)
	}
	var statuses []int
	for _, r := range e.sim.Requests() {
		if strings.HasSuffix(r.Path, "/transactions/card") {
			statuses = append(statuses, r.Status)
		}
	}
	if fmt.Sprint(statuses) != "[401 200]" {
		t.Fatalf("charge request statuses = %v, want [401 200]", statuses)
	}
}

func TestBadCredentialsAndBusiness(t *testing.T) {
	e := newEnv(t)
	srvURL := e.srv.URL
	bad, err := integrapay.New(integrapay.Config{AuthURL: srvURL + "/login", APIURL: srvURL, Username: "splynx-sim", Password: "wrong-password", BusinessID: "90129"})
	if err != nil {
		t.Fatal(err)
	}
	if err := bad.Ping(e.ctx); !errors.Is(err, gateways.ErrUnauthorized) {
		t.Fatalf("ping with a bad password: %v", err)
	}
	_, err = bad.Charge(e.ctx, gateways.ChargeRequest{Reference: "SPBADCREDS00000001", PayerRef: "C1", Amount: 100, Method: gateways.SavedMethod{Kind: gateways.Card, Token: "C1"}})
	if !errors.Is(err, gateways.ErrUnauthorized) {
		t.Fatalf("charge with bad credentials: err = %v, want ErrUnauthorized", err)
	}
	if strings.Contains(err.Error(), "wrong-password") {
		t.Fatalf("password in error: %v", err)
	}

	other, _ := integrapay.New(integrapay.Config{AuthURL: srvURL, APIURL: srvURL, Username: "splynx-sim", Password: "sim-password-0001", BusinessID: "11111"})
	_, err = other.GetPayer(e.ctx, "C1")
	var ae *integrapay.APIError
	if !errors.As(err, &ae) || ae.Code != "InvalidBusiness" || !errors.Is(err, gateways.ErrNotConfigured) {
		t.Fatalf("wrong business: %v", err)
	}
	e.sim.AddCredentials("second", "second-password", "11111")
	second, _ := integrapay.New(integrapay.Config{AuthURL: srvURL, APIURL: srvURL, Username: "second", Password: "second-password", BusinessID: "11111"})
	if _, err := second.GetPayer(e.ctx, "C1"); !errors.Is(err, gateways.ErrNotFound) {
		t.Fatalf("added credentials: %v", err)
	}
	if len(e.sim.Ledger()) != 0 {
		t.Fatalf("ledger not empty: %+v", e.sim.Ledger())
	}
}

func TestUnreachableIsAnErrorNotAnOutcome(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	c, _ := integrapay.New(integrapay.Config{AuthURL: url, APIURL: url, Username: "u", Password: "p", BusinessID: "1", Timeout: time.Second})
	_, err := c.Charge(context.Background(), gateways.ChargeRequest{Reference: "SPDOWN000000000001", PayerRef: "C1", Amount: 100, Method: gateways.SavedMethod{Kind: gateways.Card}})
	if !errors.Is(err, gateways.ErrUnreachable) {
		t.Fatalf("err = %v, want ErrUnreachable", err)
	}
}

func TestPayers(t *testing.T) {
	e := newEnv(t)
	if _, err := e.c.GetPayer(e.ctx, "C7"); !errors.Is(err, gateways.ErrNotFound) {
		t.Fatalf("get missing payer: %v", err)
	}
	p := testPayer("C7")
	if err := e.c.UpsertPayer(e.ctx, p); err != nil {
		t.Fatal(err)
	}
	got, err := e.c.GetPayer(e.ctx, "C7")
	if err != nil {
		t.Fatal(err)
	}
	if got.Payer.Email != p.Email || got.Payer.FamilyName != "Citizen" || got.Payer.City != "Testville" || got.StatusCode != "A" || !got.Active() || got.PayerID == "" {
		t.Fatalf("payer = %+v", got)
	}

	countWrites := func() int {
		n := 0
		for _, r := range e.sim.Requests() {
			if (r.Method == http.MethodPost || r.Method == http.MethodPut) && strings.Contains(r.Path, "/payers") {
				n++
			}
		}
		return n
	}
	before := countWrites()
	if err := e.c.UpsertPayer(e.ctx, p); err != nil {
		t.Fatal(err)
	}
	if countWrites() != before {
		t.Fatal("an unchanged payer was written again")
	}
	cases := []struct {
		name string
		edit func(*gateways.Payer)
		seen func(integrapaysim.PayerView) string
		want string
	}{
		{"email", func(p *gateways.Payer) { p.Email = "new@example.com" }, func(v integrapaysim.PayerView) string { return v.Email }, "new@example.com"},
		{"phone", func(p *gateways.Payer) { p.Phone = "0400000000" }, func(v integrapaysim.PayerView) string { return v.Phone }, "0400000000"},
		{"name", func(p *gateways.Payer) { p.FamilyName = "Smith" }, func(v integrapaysim.PayerView) string { return v.FamilyName }, "Smith"},
		{"address", func(p *gateways.Payer) { p.Street = "2 Other Rd" }, func(v integrapaysim.PayerView) string { return v.Street }, "2 Other Rd"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.edit(&p)
			before := countWrites()
			if err := e.c.UpsertPayer(e.ctx, p); err != nil {
				t.Fatal(err)
			}
			if countWrites() != before+1 {
				t.Fatalf("writes = %d, want one PUT", countWrites()-before)
			}
			v, _ := e.sim.Payer("C7")
			if got := tc.seen(v); got != tc.want {
				t.Fatalf("simulator has %q, want %q", got, tc.want)
			}
		})
	}
	if err := e.c.SetPayerStatus(e.ctx, "C7", "C"); err != nil {
		t.Fatal(err)
	}
	if v, _ := e.sim.Payer("C7"); v.StatusCode != "C" {
		t.Fatalf("status = %q", v.StatusCode)
	}
	if err := e.c.SetPayerStatus(e.ctx, "C7", "bogus"); err == nil {
		t.Fatal("a bad status was accepted")
	}
	if err := e.c.UpsertPayer(e.ctx, gateways.Payer{Reference: "C8"}); !errors.Is(err, gateways.ErrInvalidDetails) {
		t.Fatalf("payer without a name: %v", err)
	}
}

func TestSaveMethodValidatesBeforeSending(t *testing.T) {
	e := newEnv(t)
	bank := func(f func(*gateways.BankDetails)) *gateways.BankDetails { b := bankDetails(); f(b); return b }
	card := func(f func(*gateways.CardDetails)) *gateways.CardDetails { c := cardDetails(); f(c); return c }
	cases := []struct {
		name string
		req  gateways.SaveMethodRequest
	}{
		{"bsb 5 digits", gateways.SaveMethodRequest{Bank: bank(func(b *gateways.BankDetails) { b.Branch = "06200" })}},
		{"bsb 7 digits", gateways.SaveMethodRequest{Bank: bank(func(b *gateways.BankDetails) { b.Branch = "0620001" })}},
		{"bsb letters", gateways.SaveMethodRequest{Bank: bank(func(b *gateways.BankDetails) { b.Branch = "06200A" })}},
		{"account 4 digits", gateways.SaveMethodRequest{Bank: bank(func(b *gateways.BankDetails) { b.AccountNumber = "1234" })}},
		{"account 10 digits", gateways.SaveMethodRequest{Bank: bank(func(b *gateways.BankDetails) { b.AccountNumber = "1234567890" })}},
		{"account letters", gateways.SaveMethodRequest{Bank: bank(func(b *gateways.BankDetails) { b.AccountNumber = "1234X678" })}},
		{"no account name", gateways.SaveMethodRequest{Bank: bank(func(b *gateways.BankDetails) { b.AccountName = " " })}},
		{"account type", gateways.SaveMethodRequest{Bank: bank(func(b *gateways.BankDetails) { b.AccountType = "CHECKING" })}},
		{"luhn", gateways.SaveMethodRequest{Card: card(func(c *gateways.CardDetails) { c.Number = "4111111111111112" })}},
		{"expired", gateways.SaveMethodRequest{Card: card(func(c *gateways.CardDetails) { c.ExpMonth, c.ExpYear = 10, 2026 })}},
		{"month 13", gateways.SaveMethodRequest{Card: card(func(c *gateways.CardDetails) { c.ExpMonth = 13 })}},
		{"cvv", gateways.SaveMethodRequest{Card: card(func(c *gateways.CardDetails) { c.CVV = "12" })}},
		{"both", gateways.SaveMethodRequest{Card: cardDetails(), Bank: bankDetails()}},
		{"neither", gateways.SaveMethodRequest{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.req.Payer = testPayer("C1")
			_, err := e.c.SaveMethod(e.ctx, tc.req)
			if !errors.Is(err, gateways.ErrInvalidDetails) {
				t.Fatalf("err = %v, want ErrInvalidDetails", err)
			}
			for _, s := range []string{testPAN, testBSB, testAccount, "06200", "1234X678", "4111111111111112"} {
				if strings.Contains(err.Error(), s) {
					t.Fatalf("error %q shows %s", err, s)
				}
			}
		})
	}
	if n := len(e.sim.Requests()); n != 0 {
		t.Fatalf("the simulator received %d requests for invalid details", n)
	}
	// The current month is still valid.
	if _, err := e.c.SaveMethod(e.ctx, gateways.SaveMethodRequest{Payer: testPayer("C1"), Card: card(func(c *gateways.CardDetails) { c.ExpMonth, c.ExpYear = 11, 2026 })}); err != nil {
		t.Fatalf("card expiring this month: %v", err)
	}
}

func TestSaveMethodReplacesTheActiveMethod(t *testing.T) {
	e := newEnv(t)
	c := e.saveCard("C1")
	want := gateways.SavedMethod{Kind: gateways.Card, Token: "C1", Mask: "Visa •••• 1111", Brand: "Visa", ExpMonth: 11, ExpYear: 2029}
	if c != want {
		t.Fatalf("card method = %+v, want %+v", c, want)
	}
	if v, _ := e.sim.Payer("C1"); v.Method != "card" || v.Mask != "Visa •••• 1111" {
		t.Fatalf("simulator payer = %+v", v)
	}
	b := e.saveBank("C1")
	want = gateways.SavedMethod{Kind: gateways.Bank, Token: "C1", Mask: "BSB 062-••• •••• 678", AccountType: "CHEQUE"}
	if b != want {
		t.Fatalf("bank method = %+v, want %+v", b, want)
	}
	if v, _ := e.sim.Payer("C1"); v.Method != "bank" || v.AccountType != "CHEQUE" {
		t.Fatalf("bank account did not replace the card: %+v", v)
	}
	// The card is gone: a real-time card charge is refused.
	o := e.charge("SPREPLACED00000001", c, 1000)
	if o.Status != gateways.Declined || o.Code != "InvalidPaymentMethod" || o.Reason != gateways.ReasonInvalidAccount || o.Retryable {
		t.Fatalf("charge of a replaced card: %+v", o)
	}
	if len(e.entries("SPREPLACED00000001")) != 0 {
		t.Fatal("refused charge in the ledger")
	}
}

func TestRemoveMethodAndReactivation(t *testing.T) {
	e := newEnv(t)
	m := e.saveCard("C1")
	if err := e.c.RemoveMethod(e.ctx, "C1", m); err != nil {
		t.Fatal(err)
	}
	if v, _ := e.sim.Payer("C1"); v.Method != "" {
		t.Fatalf("method still there: %+v", v)
	}
	if o := e.charge("SPREMOVED000000001", m, 1000); o.Status != gateways.Declined || o.Reason != gateways.ReasonInvalidAccount {
		t.Fatalf("charge after removal: %+v", o)
	}
	if err := e.c.RemoveMethod(e.ctx, "NOSUCHPAYER", m); err != nil {
		t.Fatalf("removing from an unknown payer: %v", err)
	}
	// A cancelled payer is reactivated by new details.
	if err := e.c.SetPayerStatus(e.ctx, "C1", "C"); err != nil {
		t.Fatal(err)
	}
	e.saveBank("C1")
	if v, _ := e.sim.Payer("C1"); v.StatusCode != "A" || v.Method != "bank" {
		t.Fatalf("payer after new details: %+v", v)
	}
}

func TestChargeValidation(t *testing.T) {
	e := newEnv(t)
	card := gateways.SavedMethod{Kind: gateways.Card, Token: "C1"}
	cases := []struct {
		name string
		req  gateways.ChargeRequest
	}{
		{"no reference", gateways.ChargeRequest{Method: card, Amount: 100}},
		{"zero amount", gateways.ChargeRequest{Reference: "SPX", Method: card}},
		{"negative amount", gateways.ChargeRequest{Reference: "SPX", Method: card, Amount: -5}},
		{"no payer", gateways.ChargeRequest{Reference: "SPX", Method: gateways.SavedMethod{Kind: gateways.Card}, Amount: 100}},
		{"no kind", gateways.ChargeRequest{Reference: "SPX", Method: gateways.SavedMethod{Token: "C1"}, Amount: 100}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := e.c.Charge(e.ctx, tc.req); !errors.Is(err, gateways.ErrInvalidDetails) {
				t.Fatalf("err = %v", err)
			}
		})
	}
	if len(e.sim.Requests()) != 0 {
		t.Fatal("invalid charges reached the gateway")
	}
}

func TestCardChargeOutcomes(t *testing.T) {
	e := newEnv(t)
	m := e.saveCard("C1")
	cases := []struct {
		cents     int64
		status    gateways.Status
		reason    gateways.Reason
		code      string
		retryable bool
		ledger    string // status on record
	}{
		{3375, gateways.Approved, "", "", false, "S"},
		{1031, gateways.Declined, gateways.ReasonInvalidCard, "R3", false, "R"},
		{1051, gateways.Declined, gateways.ReasonDoNotHonor, "R6", true, "R"},
		{1054, gateways.Declined, gateways.ReasonExpiredCard, "R4", false, "R"},
		{1061, gateways.Declined, gateways.ReasonInsufficientFunds, "R1", true, "R"},
		{1096, gateways.Unknown, "", "", false, "R"},
	}
	for i, tc := range cases {
		t.Run(fmt.Sprint(tc.cents), func(t *testing.T) {
			ref := fmt.Sprintf("SPCARD%012d", i)
			o := e.charge(ref, m, tc.cents)
			if o.Status != tc.status || o.Reason != tc.reason || o.Code != tc.code || o.Retryable != tc.retryable || o.Reference != ref {
				t.Fatalf("outcome = %+v", o)
			}
			if tc.status == gateways.Approved && (o.Amount != tc.cents || !strings.HasPrefix(o.GatewayID, "RT")) {
				t.Fatalf("approved outcome = %+v", o)
			}
			if tc.status == gateways.Unknown && o.Err == nil {
				t.Fatal("unknown without Err")
			}
			rows := e.entries(ref)
			if len(rows) != 1 || rows[0].Status != tc.ledger || rows[0].Amount != tc.cents || rows[0].Kind != "card" {
				t.Fatalf("ledger = %+v", rows)
			}
			// Lookup agrees with the charge (and resolves the unknown).
			l, err := e.c.Lookup(e.ctx, gateways.LookupRequest{Reference: ref, Method: m, PayerRef: "C1"})
			if err != nil {
				t.Fatal(err)
			}
			if tc.status == gateways.Unknown {
				if l.Status != gateways.Declined || l.Reason != gateways.ReasonTechnical || !l.Retryable || l.Code != "R5" {
					t.Fatalf("lookup of the technical failure = %+v", l)
				}
			} else if l.Status != o.Status || l.Reason != o.Reason || l.GatewayID != rows[0].SecondaryID {
				t.Fatalf("lookup = %+v, charge = %+v", l, o)
			}
		})
	}
}

func TestChargeSendsDollarsWithTwoDecimals(t *testing.T) {
	e := newEnv(t)
	m := e.saveCard("C1")
	for _, tc := range []struct {
		cents int64
		want  string
	}{{1, `"Amount":0.01,`}, {100, `"Amount":1.00,`}, {3375, `"Amount":33.75,`}, {123456789, `"Amount":1234567.89,`}} {
		ref := fmt.Sprintf("SPAMOUNT%010d", tc.cents)
		e.charge(ref, m, tc.cents)
		reqs := e.sim.Requests()
		last := reqs[len(reqs)-1]
		if !strings.Contains(string(last.Body), tc.want) {
			t.Fatalf("%d cents sent as %s, want %s", tc.cents, last.Body, tc.want)
		}
		if rows := e.entries(ref); len(rows) != 1 || rows[0].Amount != tc.cents {
			t.Fatalf("simulator recorded %+v", rows)
		}
	}
}

func TestBankDebitSettlesOrBouncesTwoBusinessDaysLater(t *testing.T) {
	cases := []struct {
		cents     int64
		final     gateways.Status
		reason    gateways.Reason
		code      string
		retryable bool
	}{
		{5000, gateways.Approved, "", "", false},
		{5024, gateways.Declined, gateways.ReasonInsufficientFunds, "R1", true},
		{5025, gateways.Declined, gateways.ReasonInvalidAccount, "R2", false},
		{5026, gateways.Declined, gateways.ReasonAuthorityRevoked, "R7", false},
		{5027, gateways.Declined, gateways.ReasonInvalidAccount, "R9", false},
		{5028, gateways.Declined, gateways.ReasonAccountClosed, "R10", false},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprint(tc.cents), func(t *testing.T) {
			e := newEnv(t, withInferred())
			m := e.saveBank("C1")
			ref := fmt.Sprintf("SPBANK%012d", tc.cents)
			// Friday 2026-11-06: P on Friday, settled on Tuesday (weekend skipped).
			o, err := e.c.Charge(e.ctx, gateways.ChargeRequest{Reference: ref, Method: m, PayerRef: "C1", Amount: tc.cents,
				Description: "Invoice 1", DebitDate: time.Date(2026, 11, 6, 0, 0, 0, 0, integrapay.Sydney())})
			if err != nil {
				t.Fatal(err)
			}
			if o.Status != gateways.Pending || o.SecondaryID == "" || o.GatewayID != "" || o.Amount != tc.cents {
				t.Fatalf("scheduled outcome = %+v", o)
			}
			if rows := e.entries(ref); len(rows) != 1 || rows[0].Status != "SCHEDULED" || rows[0].ScheduledPaymentID != o.SecondaryID {
				t.Fatalf("ledger = %+v", rows)
			}
			if chs := e.changes(); len(chs) != 0 {
				t.Fatalf("changes before the debit run: %+v", chs)
			}
			// Before the run, lookup finds the scheduled payment.
			l, err := e.c.Lookup(e.ctx, gateways.LookupRequest{Reference: ref, Method: m, PayerRef: "C1"})
			if err != nil || l.Status != gateways.Pending || l.SecondaryID != o.SecondaryID {
				t.Fatalf("lookup before the run = %+v, %v", l, err)
			}

			e.clk.Set(time.Date(2026, 11, 6, 9, 0, 0, 0, integrapay.Sydney())) // Friday after the run
			chs := e.changes()
			if len(chs) != 1 || chs[0].Outcome.Status != gateways.Pending || chs[0].Outcome.Reference != ref || chs[0].Outcome.GatewayID == "" || chs[0].Outcome.SecondaryID != o.SecondaryID {
				t.Fatalf("changes on the debit day = %+v", chs)
			}
			e.ackAll(chs)
			e.clk.Set(time.Date(2026, 11, 9, 23, 0, 0, 0, integrapay.Sydney())) // Monday: still pending
			if chs := e.changes(); len(chs) != 0 {
				t.Fatalf("changes on Monday = %+v", chs)
			}
			e.clk.Set(time.Date(2026, 11, 10, 9, 0, 0, 0, integrapay.Sydney())) // Tuesday
			chs = e.changes()
			if len(chs) != 1 {
				t.Fatalf("changes on Tuesday = %+v", chs)
			}
			got := chs[0]
			if got.Outcome.Status != tc.final || got.Outcome.Reason != tc.reason || got.Outcome.Code != tc.code || got.Outcome.Retryable != tc.retryable || got.Late {
				t.Fatalf("settlement = %+v", got)
			}
			if want := time.Date(2026, 11, 10, 0, 0, 0, 0, integrapay.Sydney()); !got.At.Equal(want) {
				t.Fatalf("settled at %v, want %v", got.At, want)
			}
			if tc.final == gateways.Approved && got.Outcome.Amount != tc.cents {
				t.Fatalf("settled amount %d", got.Outcome.Amount)
			}
			e.ackAll(chs)
			if chs := e.changes(); len(chs) != 0 {
				t.Fatalf("changes after ack = %+v", chs)
			}
			l, err = e.c.Lookup(e.ctx, gateways.LookupRequest{Reference: ref, Method: m, PayerRef: "C1"})
			if err != nil || l.Status != tc.final || l.GatewayID != got.Outcome.GatewayID {
				t.Fatalf("lookup after settlement = %+v, %v", l, err)
			}
			if rows := e.entries(ref); len(rows) != 1 || rows[0].Kind != "bank" || rows[0].Type != "PDB" {
				t.Fatalf("ledger = %+v", rows)
			}
		})
	}
}

func TestBankDebitDateInThePastIsToday(t *testing.T) {
	e := newEnv(t)
	m := e.saveBank("C1")
	o, err := e.c.Charge(e.ctx, gateways.ChargeRequest{Reference: "SPPASTDATE00000001", Method: m, PayerRef: "C1", Amount: 1000,
		DebitDate: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil || o.Status != gateways.Pending {
		t.Fatalf("%+v %v", o, err)
	}
	reqs := e.sim.Requests()
	if body := string(reqs[len(reqs)-1].Body); !strings.Contains(body, `"Date":"2026-11-02"`) {
		t.Fatalf("body %s", body)
	}
}

func TestPayerInactiveAtDebitRunIsR17(t *testing.T) {
	e := newEnv(t)
	m := e.saveBank("C1")
	// Today's run has already happened: schedule for tomorrow and cancel
	// the payer before that run.
	o2, err := e.c.Charge(e.ctx, gateways.ChargeRequest{Reference: "SPINACTIVE00000002", Method: m, PayerRef: "C1", Amount: 1000,
		DebitDate: time.Date(2026, 11, 3, 0, 0, 0, 0, integrapay.Sydney())})
	if err != nil || o2.Status != gateways.Pending {
		t.Fatal(o2, err)
	}
	if err := e.c.SetPayerStatus(e.ctx, "C1", "C"); err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(24 * time.Hour)
	ch, ok := byRef(e.changes(), "SPINACTIVE00000002")
	if !ok || ch.Outcome.Status != gateways.Declined || ch.Outcome.Code != "R17" || ch.Outcome.Retryable {
		t.Fatalf("change = %+v", ch)
	}
}

func TestScheduledCardDebitClearsThenSettles(t *testing.T) {
	e := newEnv(t)
	m := e.saveCard("C1")
	// A card payer can be debited through a schedule too; the client uses
	// real time, so drive the schedule as another integration would.
	bank := gateways.SavedMethod{Kind: gateways.Bank, Token: m.Token}
	for _, tc := range []struct {
		ref   string
		cents int64
		final gateways.Status
	}{{"SPPDC0000000000001", 2000, gateways.Approved}, {"SPPDC0000000000002", 2061, gateways.Declined}} {
		if o := e.charge(tc.ref, bank, tc.cents); o.Status != gateways.Pending {
			t.Fatalf("%+v", o)
		}
	}
	chs := e.changes()
	if len(chs) != 2 || chs[0].Outcome.Status != gateways.Pending {
		t.Fatalf("%+v", chs)
	}
	for _, en := range e.sim.Ledger() {
		if en.Type != "PDC" || en.Status != "C" {
			t.Fatalf("ledger %+v", en)
		}
	}
	e.ackAll(chs)
	e.clk.Advance(72 * time.Hour)
	chs = e.changes()
	a, _ := byRef(chs, "SPPDC0000000000001")
	d, _ := byRef(chs, "SPPDC0000000000002")
	if a.Outcome.Status != gateways.Approved || d.Outcome.Status != gateways.Declined || d.Outcome.Reason != gateways.ReasonInsufficientFunds {
		t.Fatalf("%+v", chs)
	}
}

func TestTimeoutAfterChargeAppliedIsResolvedByLookup(t *testing.T) {
	cases := []struct {
		name  string
		fault integrapaysim.Fault
	}{
		{"response held past the timeout", integrapaysim.Fault{Hold: 2 * time.Second, Times: 1}},
		{"connection dropped", integrapaysim.Fault{LoseResponse: true, Times: 1}},
		{"malformed body", integrapaysim.Fault{Malformed: true, Times: 1}},
		{"5xx after send", integrapaysim.Fault{Status: 503, Times: 1}},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, withTimeout(300*time.Millisecond))
			m := e.saveCard("C1")
			e.sim.SetFault("payers/*/transactions/card", tc.fault)
			ref := fmt.Sprintf("SPLOST%012d", i)
			o := e.charge(ref, m, 4200)
			if o.Status != gateways.Unknown || o.Err == nil || o.Reference != ref {
				t.Fatalf("outcome = %+v", o)
			}
			applied := tc.fault.Status == 0
			rows := e.entries(ref)
			if applied && (len(rows) != 1 || rows[0].Status != "S") {
				t.Fatalf("ledger = %+v", rows)
			}
			l, err := e.c.Lookup(e.ctx, gateways.LookupRequest{Reference: ref, Method: m, PayerRef: "C1"})
			if applied {
				if err != nil || l.Status != gateways.Approved || l.Amount != 4200 || l.GatewayID != rows[0].SecondaryID {
					t.Fatalf("lookup = %+v, %v", l, err)
				}
			} else if !errors.Is(err, gateways.ErrNotFound) {
				t.Fatalf("lookup of a charge never applied: %+v, %v", l, err)
			}
			// Exactly one charge request reached the simulator.
			n := 0
			for _, r := range e.sim.Requests() {
				if strings.HasSuffix(r.Path, "/transactions/card") {
					n++
				}
			}
			if n != 1 {
				t.Fatalf("charge requests = %d, want 1 (never resent)", n)
			}
			if got := len(e.entries(ref)); applied && got != 1 || !applied && got != 0 {
				t.Fatalf("ledger rows = %d", got)
			}
		})
	}
}

func TestDuplicateReferenceIsLookedUp(t *testing.T) {
	e := newEnv(t, withInferred())
	card := e.saveCard("C1")
	first := e.charge("SPDUP0000000000001", card, 1500)
	again := e.charge("SPDUP0000000000001", card, 1500)
	if first.Status != gateways.Approved || again.Status != gateways.Approved || again.GatewayID != first.GatewayID {
		t.Fatalf("first %+v, again %+v", first, again)
	}
	declined := e.charge("SPDUP0000000000002", card, 1051)
	againDeclined := e.charge("SPDUP0000000000002", card, 1051)
	if againDeclined.Status != gateways.Declined || againDeclined.Reason != declined.Reason {
		t.Fatalf("duplicate of a decline = %+v", againDeclined)
	}
	bank := e.saveBank("C2")
	p := e.charge("SPDUP0000000000003", bank, 1500)
	p2 := e.charge("SPDUP0000000000003", bank, 1500)
	if p2.Status != gateways.Pending || p2.GatewayID == "" {
		t.Fatalf("duplicate bank debit = %+v (first %+v)", p2, p)
	}
	for _, ref := range []string{"SPDUP0000000000001", "SPDUP0000000000002", "SPDUP0000000000003"} {
		if n := len(e.entries(ref)); n != 1 {
			t.Fatalf("%s: %d ledger rows, want 1", ref, n)
		}
	}
}

func TestLateRejectionAfterSettlementComesThroughChanges(t *testing.T) {
	e := newEnv(t, withInferred()) // the L status is inferred
	m := e.saveBank("C1")
	e.charge("SPLATE000000000001", m, 7729) // .29: settles, then DD claim
	e.charge("SPLATE000000000002", m, 8000) // injected R7 after settlement
	e.sim.InjectLate("SPLATE000000000002", integrapaysim.Late{SubStatus: "R7", Status: "R", After: 24 * time.Hour})
	e.ackAll(e.changes())             // P
	e.clk.Advance(2 * 24 * time.Hour) // settled Tuesday 13:00 UTC; the injected R is due Wednesday 13:00

	chs := e.changes()
	if len(chs) != 2 || chs[0].Outcome.Status != gateways.Approved || chs[1].Outcome.Status != gateways.Approved {
		t.Fatalf("settlements = %+v", chs)
	}
	e.ackAll(chs)
	e.clk.Advance(5 * 24 * time.Hour)
	chs = e.changes()
	a, okA := byRef(chs, "SPLATE000000000001")
	b, okB := byRef(chs, "SPLATE000000000002")
	if !okA || !a.Late || a.Outcome.Status != gateways.Declined || a.Outcome.Reason != gateways.ReasonChargeback || a.Outcome.Retryable || a.Outcome.Code != "R12" {
		t.Fatalf("late claim = %+v", a)
	}
	// A plain R after S is reported as declined; the engine knows it had
	// settled. Only L/LS say "late" on their own.
	if !okB || b.Outcome.Status != gateways.Declined || b.Outcome.Reason != gateways.ReasonAuthorityRevoked {
		t.Fatalf("injected late rejection = %+v", b)
	}
	if a.AckID == "" || a.Outcome.GatewayID == "" {
		t.Fatalf("%+v", a)
	}
	e.ackAll(chs)
	if chs := e.changes(); len(chs) != 0 {
		t.Fatalf("after ack: %+v", chs)
	}
}

func TestLateChargebackOnACardPayment(t *testing.T) {
	e := newEnv(t, withInferred()) // the L status is inferred
	m := e.saveCard("C1")
	e.charge("SPCB00000000000001", m, 9900)
	e.sim.InjectLate("SPCB00000000000001", integrapaysim.Late{SubStatus: "R13", After: time.Hour})
	e.ackAll(e.changes())
	e.clk.Advance(2 * time.Hour)
	chs := e.changes()
	if len(chs) != 1 || !chs[0].Late || chs[0].Outcome.Reason != gateways.ReasonChargeback || !strings.HasPrefix(chs[0].Outcome.GatewayID, "RT") {
		t.Fatalf("%+v", chs)
	}
}

// TestChangesAppliedExactlyOnce plays the engine: apply each change keyed by
// its AckID, acknowledge, poll again (twice) and count applications.
func TestChangesAppliedExactlyOnce(t *testing.T) {
	e := newEnv(t)
	m := e.saveBank("C1")
	for i := 0; i < 3; i++ {
		e.charge(fmt.Sprintf("SPONCE%012d", i), m, 1000)
	}
	applied := map[string]int{}
	poll := func(ack bool) {
		for _, ch := range e.changes() {
			applied[ch.AckID]++
			if ack {
				if err := e.c.Ack(e.ctx, ch); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	// A crash before the ack: the same changes come again.
	first := e.changes()
	second := e.changes()
	if len(first) != 3 || fmt.Sprint(first) != fmt.Sprint(second) {
		t.Fatalf("unacknowledged changes differ between polls:\n%+v\n%+v", first, second)
	}
	poll(true)
	poll(true)
	poll(true)
	e.clk.Advance(3 * 24 * time.Hour)
	poll(true)
	poll(true)
	if len(applied) != 6 {
		t.Fatalf("applied = %v, want 3 pending + 3 settled", applied)
	}
	for id, n := range applied {
		if n != 1 {
			t.Fatalf("%s applied %d times", id, n)
		}
	}
	// Acknowledging the same change twice is harmless.
	if err := e.c.Ack(e.ctx, first[0]); err != nil {
		t.Fatal(err)
	}
	if err := e.c.Ack(e.ctx, gateways.StatusChange{AckID: "nonsense"}); !errors.Is(err, gateways.ErrInvalidDetails) {
		t.Fatal(err)
	}
}

func TestChangesPages(t *testing.T) {
	e := newEnv(t)
	m := e.saveCard("C1")
	const n = 503
	for i := 0; i < n; i++ {
		e.charge(fmt.Sprintf("SPPAGE%012d", i), m, 100)
	}
	chs := e.changes()
	if len(chs) != n {
		t.Fatalf("changes = %d, want %d", len(chs), n)
	}
	seen := map[string]bool{}
	for _, c := range chs {
		seen[c.Outcome.Reference] = true
	}
	if len(seen) != n {
		t.Fatalf("distinct references = %d", len(seen))
	}
	var queries []string
	for _, r := range e.sim.Requests() {
		if strings.HasSuffix(r.Path, "/transactions/new") && r.Method == http.MethodGet {
			queries = append(queries, r.Query)
		}
	}
	if fmt.Sprint(queries) != "[skip=0&take=500 skip=500&take=500]" {
		t.Fatalf("feed queries = %v", queries)
	}
}

func TestLookupShapesAndNotFound(t *testing.T) {
	for _, shape := range []string{"object", "list"} {
		t.Run(shape, func(t *testing.T) {
			e := newEnv(t, withLookupShape(shape), withInferred())
			m := e.saveCard("C1")
			o := e.charge("SPSHAPE00000000001", m, 1234)
			l, err := e.c.Lookup(e.ctx, gateways.LookupRequest{Reference: "SPSHAPE00000000001", Method: m})
			if err != nil || l.Status != gateways.Approved || l.GatewayID != o.GatewayID || l.Amount != 1234 {
				t.Fatalf("lookup = %+v, %v", l, err)
			}
			for _, kind := range []gateways.MethodKind{gateways.Card, gateways.Bank, ""} {
				// Only the card lookup is confirmed: a bank debit that the
				// unconfirmed paths do not show may still exist.
				_, err := e.c.Lookup(e.ctx, gateways.LookupRequest{Reference: "SPNEVERSENT0000001", Method: gateways.SavedMethod{Kind: kind}, PayerRef: "C1"})
				want := gateways.ErrInconclusive
				if kind == gateways.Card {
					want = gateways.ErrNotFound
				}
				if !errors.Is(err, want) {
					t.Fatalf("kind %q: %v, want %v", kind, err, want)
				}
			}
			// Kind unknown to the caller: card then bank.
			b := e.saveBank("C2")
			e.charge("SPSHAPE00000000002", b, 1000)
			l, err = e.c.Lookup(e.ctx, gateways.LookupRequest{Reference: "SPSHAPE00000000002", PayerRef: "C2"})
			if err != nil || l.Status != gateways.Pending {
				t.Fatalf("lookup without kind = %+v, %v", l, err)
			}
		})
	}
}

func TestRateLimitAndServerErrors(t *testing.T) {
	e := newEnv(t)
	m := e.saveCard("C1")

	// 429 on a charge: nothing applied, an error (the same reference may
	// be sent later), not an outcome.
	e.sim.SetFault("payers/*/transactions/card", integrapaysim.Fault{Status: http.StatusTooManyRequests, Times: 1})
	_, err := e.c.Charge(e.ctx, gateways.ChargeRequest{Reference: "SPRATE000000000001", Method: m, PayerRef: "C1", Amount: 500})
	var ae *integrapay.APIError
	if !errors.As(err, &ae) || ae.Status != 429 || ae.Code != "TooManyRequests" {
		t.Fatalf("429: %v", err)
	}
	if len(e.entries("SPRATE000000000001")) != 0 {
		t.Fatal("a rate-limited charge was applied")
	}
	if o := e.charge("SPRATE000000000001", m, 500); o.Status != gateways.Approved {
		t.Fatalf("resend after 429: %+v", o)
	}

	// Reads are retried through a passing 5xx / 429.
	for _, st := range []int{500, 503, 429} {
		e.sim.SetFault("payers/C1", integrapaysim.Fault{Method: http.MethodGet, Status: st, Times: 1})
		if _, err := e.c.GetPayer(e.ctx, "C1"); err != nil {
			t.Fatalf("get payer through one %d: %v", st, err)
		}
	}
	// ... but not forever.
	e.sim.SetFault("transactions/new", integrapaysim.Fault{Status: 503})
	if _, err := e.c.Changes(e.ctx); !errors.As(err, &ae) || ae.Status != 503 {
		t.Fatalf("persistent 503: %v", err)
	}
	e.sim.ClearFaults()

	// Latency within the timeout is just slow.
	e.sim.SetFault("", integrapaysim.Fault{Latency: 50 * time.Millisecond, Times: 1})
	if _, err := e.c.GetPayer(e.ctx, "C1"); err != nil {
		t.Fatal(err)
	}
	// A malformed read is an error, not a guess.
	e.sim.SetFault("transactions/new", integrapaysim.Fault{Malformed: true, Times: 3})
	if _, err := e.c.Changes(e.ctx); !errors.Is(err, integrapay.ErrMalformed) {
		t.Fatalf("malformed feed: %v", err)
	}
	e.sim.ClearFaults()
	// Bad request answers are declines with the gateway's code.
	o := e.charge("SPBADAMOUNT0000001", gateways.SavedMethod{Kind: gateways.Card, Token: "NOPAYER"}, 100)
	if o.Status != gateways.Declined || o.Code != "InvalidPayer" || o.Reason != gateways.ReasonInvalidAccount {
		t.Fatalf("unknown payer: %+v", o)
	}
}

func TestRefunds(t *testing.T) {
	e := newEnv(t)
	card := e.saveCard("C1")
	o := e.charge("SPREFUND0000000001", card, 10000)
	r, err := e.c.Refund(e.ctx, gateways.RefundRequest{Reference: "SPREFUND0000000R01", Original: o, Method: card, PayerRef: "C1", Amount: 2500, Reason: "Overcharge"})
	if err != nil || r.Status != gateways.Approved || r.Amount != 2500 || r.GatewayID == "" {
		t.Fatalf("refund = %+v, %v", r, err)
	}
	rows := e.entries("SPREFUND0000000001")
	if len(rows) != 1 || rows[0].Refunded != 2500 {
		t.Fatalf("original = %+v", rows)
	}
	if rr := e.entries("SPREFUND0000000R01"); len(rr) != 1 || rr[0].Kind != "refund" || rr[0].Amount != 2500 {
		t.Fatalf("refund row = %+v", rr)
	}
	over, err := e.c.Refund(e.ctx, gateways.RefundRequest{Reference: "SPREFUND0000000R02", Original: gateways.Outcome{GatewayID: o.GatewayID}, Method: card, Amount: 9000})
	if err != nil || over.Status != gateways.Declined || over.Code != "BadRequest" {
		t.Fatalf("over-refund = %+v, %v", over, err)
	}
	if _, err := e.c.Refund(e.ctx, gateways.RefundRequest{Reference: "SPREFUND0000000R03", Original: o, Method: card, Amount: 10001}); !errors.Is(err, gateways.ErrInvalidDetails) {
		t.Fatalf("refund above the original: %v", err)
	}

	bank := e.saveBank("C2")
	e.charge("SPREFUND0000000002", bank, 6000)
	e.clk.Advance(3 * 24 * time.Hour)
	settled, ok := byRef(e.changes(), "SPREFUND0000000002")
	if !ok || settled.Outcome.Status != gateways.Approved {
		t.Fatalf("%+v", settled)
	}
	r, err = e.c.Refund(e.ctx, gateways.RefundRequest{Reference: "SPREFUND0000000R04", Original: settled.Outcome, Method: bank, Amount: 6000})
	if err != nil || r.Status != gateways.Approved {
		t.Fatalf("bank refund = %+v, %v", r, err)
	}
	if rows := e.entries("SPREFUND0000000002"); rows[0].Refunded != 6000 {
		t.Fatalf("%+v", rows)
	}
}

func TestAPIErrorsAreTypedAndScrubbed(t *testing.T) {
	e := newEnv(t)
	e.sim.SetFault("payers", integrapaysim.Fault{Status: 400, Times: 1,
		Body: `{"errorCode":"InvalidPaymentMethod","errorMessage":"Card 4111111111111111 / account 12345678 rejected","errorDetail":"BSB 062000"}`})
	_, err := e.c.GetPayer(e.ctx, "C1")
	var ae *integrapay.APIError
	if !errors.As(err, &ae) || ae.Code != "InvalidPaymentMethod" || ae.Status != 400 || ae.Method != "GET" || ae.Path != "payers/C1" {
		t.Fatalf("err = %#v", err)
	}
	for _, s := range []string{testPAN, testAccount, testBSB} {
		if strings.Contains(err.Error(), s) {
			t.Fatalf("error shows %s: %v", s, err)
		}
	}
	if !strings.Contains(ae.Message, "•••• 1111") {
		t.Fatalf("message = %q", ae.Message)
	}
	e.sim.SetFault("payers", integrapaysim.Fault{Status: 502, Times: 3, Body: `<html>bad gateway 4111111111111111</html>`})
	_, err = e.c.GetPayer(e.ctx, "C1")
	if !errors.As(err, &ae) || ae.Status != 502 || strings.Contains(err.Error(), testPAN) {
		t.Fatalf("non-JSON error: %v", err)
	}
}
