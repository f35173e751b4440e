package ippay

import (
	"context"
	"errors"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/splynx-pay/splynx-pay/gateways"
	"github.com/splynx-pay/splynx-pay/gateways/ippay/ippaysim"
	"github.com/splynx-pay/splynx-pay/internal/clock"
)

var ctx = context.Background()

func TestTransactionID(t *testing.T) {
	shape := regexp.MustCompile(`^[A-Z0-9]{18}$`)
	tests := []struct {
		ref  string
		same bool // used as it is
	}{
		{"SPABCDEFGHIJKLMNOP", true},
		{"SP234567ABCDEFGHIJ", true},
		{"spabcdefghijklmnop", false},
		{"SP123", false},
		{"invoice-202401000123-attempt-2", false},
		{"", false},
	}
	for _, tc := range tests {
		got := TransactionID(tc.ref)
		if !shape.MatchString(got) {
			t.Errorf("TransactionID(%q) = %q, not 18 uppercase alphanumerics", tc.ref, got)
		}
		if (got == tc.ref) != tc.same {
			t.Errorf("TransactionID(%q) = %q, used as is = %v, want %v", tc.ref, got, got == tc.ref, tc.same)
		}
		if again := TransactionID(tc.ref); again != got {
			t.Errorf("TransactionID(%q) not deterministic: %q then %q", tc.ref, got, again)
		}
	}
	if TransactionID("a") == TransactionID("b") {
		t.Error("different references gave the same TransactionID")
	}
	if checkNumber("SPABCDEFGHIJKLMNOP") != checkNumber("SPABCDEFGHIJKLMNOP") || len(checkNumber("x")) != 6 {
		t.Error("checkNumber must be 6 digits and deterministic")
	}
}

func TestValidABA(t *testing.T) {
	tests := map[string]bool{
		"111000025": true, "071025661": true, "021000021": true, "011000015": true,
		"111000026": false, "12345678": false, "1110000250": false, "11100002a": false, "000000000": false, "": false,
	}
	for aba, want := range tests {
		if got := ValidABA(aba); got != want {
			t.Errorf("ValidABA(%q) = %v, want %v", aba, got, want)
		}
	}
}

func TestNewConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"ok", Config{URL: TestURL, CardTerminalID: "T"}, true},
		{"ach only", Config{URL: LiveURL, ACHTerminalID: "A"}, true},
		{"no url", Config{CardTerminalID: "T"}, false},
		{"no terminal", Config{URL: TestURL}, false},
		{"bad sec", Config{URL: TestURL, CardTerminalID: "T", SEC: "XYZ"}, false},
	}
	for _, tc := range tests {
		_, err := New(tc.cfg)
		if (err == nil) != tc.ok {
			t.Errorf("%s: err = %v", tc.name, err)
		}
		if err != nil && !errors.Is(err, gateways.ErrNotConfigured) {
			t.Errorf("%s: %v does not wrap ErrNotConfigured", tc.name, err)
		}
	}
}

func TestSaveCard(t *testing.T) {
	e := newEnv(t, ippaysim.Options{}, nil)
	m := e.saveCard(t)
	if !regexp.MustCompile(`^[A-Z]{24}$`).MatchString(m.Token) {
		t.Errorf("token %q is not 24 letters", m.Token)
	}
	want := gateways.SavedMethod{Kind: gateways.Card, Token: m.Token, Mask: "Visa •••• 1111", Brand: "Visa", HolderName: "Jo Smith", ExpMonth: 12, ExpYear: 2029}
	if m != want {
		t.Errorf("saved %+v, want %+v", m, want)
	}
	body := e.wire.last(t)
	for _, s := range []string{"<TransactionType>TOKENIZE</TransactionType>", "<TerminalID>CARDTERM01</TerminalID>",
		"<CardNum>4111111111111111</CardNum>", "<CardExpMonth>12</CardExpMonth>", "<CardExpYear>29</CardExpYear>"} {
		if !strings.Contains(body, s) {
			t.Errorf("request lacks %s:\n%s", s, body)
		}
	}
	e.assertNoSecrets(t, m.Mask, m.Token)
	if ct := e.wire.types[0]; ct != "text/xml" {
		t.Errorf("Content-Type %q, want text/xml", ct)
	}
}

func TestSaveRejectsBadDetailsBeforeSending(t *testing.T) {
	e := newEnv(t, ippaysim.Options{}, nil)
	tests := []struct {
		name string
		req  gateways.SaveMethodRequest
	}{
		{"bad luhn", gateways.SaveMethodRequest{Card: &gateways.CardDetails{Number: "4111111111111112", ExpMonth: 1, ExpYear: 2030}}},
		{"expired", gateways.SaveMethodRequest{Card: &gateways.CardDetails{Number: testPAN, ExpMonth: 10, ExpYear: 2026}}},
		{"bad month", gateways.SaveMethodRequest{Card: &gateways.CardDetails{Number: testPAN, ExpMonth: 13, ExpYear: 2030}}},
		{"bad aba checksum", gateways.SaveMethodRequest{Bank: &gateways.BankDetails{Branch: "111000026", AccountNumber: testAccount}}},
		{"short aba", gateways.SaveMethodRequest{Bank: &gateways.BankDetails{Branch: "11100002", AccountNumber: testAccount}}},
		{"bad account", gateways.SaveMethodRequest{Bank: &gateways.BankDetails{Branch: testABA, AccountNumber: "12x"}}},
		{"bad type", gateways.SaveMethodRequest{Bank: &gateways.BankDetails{Branch: testABA, AccountNumber: testAccount, AccountType: "BROKERAGE"}}},
		{"nothing", gateways.SaveMethodRequest{}},
	}
	for _, tc := range tests {
		_, err := e.c.SaveMethod(ctx, tc.req)
		if !errors.Is(err, gateways.ErrInvalidDetails) {
			t.Errorf("%s: err = %v, want ErrInvalidDetails", tc.name, err)
		}
		if err != nil {
			e.assertNoSecrets(t, err.Error())
		}
	}
	if n := e.wire.count(); n != 0 {
		t.Errorf("%d requests sent for invalid details, want none", n)
	}
}

func TestSaveBank(t *testing.T) {
	e := newEnv(t, ippaysim.Options{}, nil)
	m := e.saveBank(t)
	want := gateways.SavedMethod{Kind: gateways.Bank, Token: m.Token, Mask: "CHECKING •••• 789", AccountType: "CHECKING", HolderName: "Jo Smith"}
	if m != want || m.Token == "" {
		t.Errorf("saved %+v, want %+v", m, want)
	}
	body := e.wire.last(t)
	for _, s := range []string{"<TerminalID>ACHTERM01</TerminalID>", "<ABA>111000025</ABA>", "<AccountNumber>000123456789</AccountNumber>"} {
		if !strings.Contains(body, s) {
			t.Errorf("request lacks %s:\n%s", s, body)
		}
	}
	e.assertNoSecrets(t, m.Mask)
}

func TestChargeCard(t *testing.T) {
	tests := []struct {
		cents     int64
		status    gateways.Status
		reason    gateways.Reason
		retryable bool
		review    bool
		state     string
	}{
		{1000, gateways.Approved, "", false, false, "approved"},
		{1005, gateways.Declined, gateways.ReasonDoNotHonor, true, false, "declined"},
		{1014, gateways.Declined, gateways.ReasonInvalidAccount, false, false, "declined"},
		{1041, gateways.Declined, gateways.ReasonLostOrStolen, false, false, "declined"},
		{1043, gateways.Declined, gateways.ReasonLostOrStolen, false, false, "declined"},
		{1051, gateways.Declined, gateways.ReasonInsufficientFunds, true, false, "declined"},
		{1054, gateways.Declined, gateways.ReasonExpiredCard, false, false, "declined"},
		{1077, gateways.Approved, "", false, true, "approved"},
	}
	e := newEnv(t, ippaysim.Options{}, nil)
	m := e.saveCard(t)
	for i, tc := range tests {
		ref := "SPCARD" + strings.Repeat("0", 10) + string(rune('A'+i)) + "Z"
		o, err := e.c.Charge(ctx, gateways.ChargeRequest{Reference: ref, Method: m, Amount: tc.cents, Currency: "USD", Description: "Invoice 202401000123"})
		if err != nil {
			t.Fatalf("%d: %v", tc.cents, err)
		}
		if o.Status != tc.status || o.Reason != tc.reason || o.Retryable != tc.retryable || o.Review != tc.review {
			t.Errorf("%d: outcome %+v", tc.cents, o)
		}
		if o.Reference != ref || o.GatewayID != ref || o.Amount != tc.cents {
			t.Errorf("%d: ids/amount %q %q %d", tc.cents, o.Reference, o.GatewayID, o.Amount)
		}
		if tc.status == gateways.Approved && !strings.HasPrefix(o.SecondaryID, "TEST") {
			t.Errorf("%d: approval %q", tc.cents, o.SecondaryID)
		}
		if tc.status == gateways.Declined && o.Code != fmt.Sprintf("%03d", tc.cents%100) {
			t.Errorf("%d: code %q", tc.cents, o.Code)
		}
		sales := e.entries("SALE")
		last := sales[len(sales)-1]
		if len(sales) != i+1 || last.TransactionID != ref || last.Amount != tc.cents || last.State != tc.state || last.Token != m.Token {
			t.Errorf("%d: ledger %+v", tc.cents, last)
		}
		body := e.wire.last(t)
		for _, s := range []string{"<TransactionType>SALE</TransactionType>", "<Origin>RECURRING</Origin>", "<Token>" + m.Token + "</Token>",
			"<TotalAmount>" + itoa(tc.cents) + "</TotalAmount>", "<TransactionID>" + ref + "</TransactionID>"} {
			if !strings.Contains(body, s) {
				t.Errorf("%d: request lacks %s", tc.cents, s)
			}
		}
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestChargeCheckIsPending(t *testing.T) {
	e := newEnv(t, ippaysim.Options{}, func(c *Config) { c.SEC = "PPD"; c.SettleDays = 3 })
	m := e.saveBank(t)
	now := e.sim.Clock().Now()
	ref := "SPCHECK00000000001"
	o, err := e.c.Charge(ctx, gateways.ChargeRequest{Reference: ref, Method: m, Amount: 4999, Currency: "USD"})
	if err != nil {
		t.Fatal(err)
	}
	if o.Status != gateways.Pending || o.SecondaryID != "000000" || o.Message != "CHECK ACCEPTED" || o.Review {
		t.Errorf("outcome %+v", o)
	}
	if want := clock.AddBusinessDays(now, 3); !o.SettlesBy.Equal(want) {
		t.Errorf("SettlesBy %v, want %v", o.SettlesBy, want)
	}
	body := e.wire.last(t)
	for _, s := range []string{"<TransactionType>CHECK</TransactionType>", "<TerminalID>ACHTERM01</TerminalID>",
		`<ACH Type="CHECKING" SEC="PPD">`, "<Token>" + m.Token + "</Token>", "<CheckNumber>" + checkNumber(ref) + "</CheckNumber>",
		"<CardName>Jo Smith</CardName>", "<TotalAmount>4999</TotalAmount>"} {
		if !strings.Contains(body, s) {
			t.Errorf("request lacks %s:\n%s", s, body)
		}
	}
	checks := e.entries("CHECK")
	if len(checks) != 1 || checks[0].State != "pending" || checks[0].Amount != 4999 {
		t.Fatalf("ledger %+v", checks)
	}
	// Reviewed item: accepted with AdditionalInfo.
	o, err = e.c.Charge(ctx, gateways.ChargeRequest{Reference: "SPCHECK00000000002", Method: m, Amount: 1277})
	if err != nil || o.Status != gateways.Pending || !o.Review {
		t.Errorf("review charge: %+v %v", o, err)
	}
	// The item settles in the simulator after its business days.
	e.sim.Clock().Set(o.SettlesBy.AddDate(0, 0, 7))
	if st := e.entries("CHECK")[0].State; st != "settled" {
		t.Errorf("state after settle days %q", st)
	}
}

func TestLostResponseResolvedByENQ(t *testing.T) {
	for _, mode := range []ippaysim.DuplicateMode{ippaysim.DuplicateDecline, ippaysim.DuplicateReplay} {
		e := newEnv(t, ippaysim.Options{Duplicates: mode}, nil)
		m := e.saveCard(t)
		e.sim.SetFault(ippaysim.Fault{Types: []string{"SALE"}, Count: 1, LoseResponse: true})
		req := gateways.ChargeRequest{Reference: "SPLOST000000000001", Method: m, Amount: 2500}
		o, err := e.c.Charge(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if o.Status != gateways.Unknown || o.Err == nil || o.GatewayID != req.Reference {
			t.Fatalf("mode %d: lost response gave %+v", mode, o)
		}
		l, err := e.c.Lookup(ctx, gateways.LookupRequest{Reference: req.Reference, Method: m, Amount: 2500})
		if err != nil || l.Status != gateways.Approved || l.SecondaryID == "" {
			t.Fatalf("mode %d: lookup %+v %v", mode, l, err)
		}
		if body := e.wire.last(t); !strings.Contains(body, "<TransactionType>ENQ</TransactionType>") ||
			!strings.Contains(body, "<TransactionID>SPLOST000000000001</TransactionID>") {
			t.Errorf("lookup sent %s", body)
		}
		// A caller that retries the charge anyway gets the same result, not a second sale.
		again, err := e.c.Charge(ctx, req)
		if err != nil || again.Status != gateways.Approved || again.SecondaryID != l.SecondaryID {
			t.Errorf("mode %d: repeated charge %+v %v", mode, again, err)
		}
		if sales := e.entries("SALE"); len(sales) != 1 || sales[0].Amount != 2500 {
			t.Errorf("mode %d: ledger has %d sales, want exactly 1: %+v", mode, len(sales), sales)
		}
	}
}

func TestUnknownOutcomes(t *testing.T) {
	tests := []struct {
		name    string
		fault   ippaysim.Fault
		applied bool
	}{
		{"timeout after apply", ippaysim.Fault{Latency: 2 * time.Second}, true},
		{"malformed xml", ippaysim.Fault{Malformed: true}, true},
		{"http 500", ippaysim.Fault{Status: 500}, false},
		{"dropped before apply", ippaysim.Fault{Drop: true}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, ippaysim.Options{}, func(c *Config) { c.Timeout = 300 * time.Millisecond })
			m := e.saveCard(t)
			tc.fault.Types, tc.fault.Count = []string{"SALE"}, 1
			e.sim.SetFault(tc.fault)
			o, err := e.c.Charge(ctx, gateways.ChargeRequest{Reference: "SPUNKNOWN000000001", Method: m, Amount: 900})
			if err != nil || o.Status != gateways.Unknown || o.Err == nil {
				t.Fatalf("charge %+v %v", o, err)
			}
			l, err := e.c.Lookup(ctx, gateways.LookupRequest{Reference: "SPUNKNOWN000000001", Method: m})
			if tc.applied {
				if err != nil || l.Status != gateways.Approved {
					t.Errorf("lookup %+v %v", l, err)
				}
			} else if !errors.Is(err, gateways.ErrInconclusive) || errors.Is(err, gateways.ErrNotFound) {
				t.Errorf("lookup err %v, want ErrInconclusive (ENQ's not-found answer is not confirmed)", err)
			}
			want := 0
			if tc.applied {
				want = 1
			}
			if n := len(e.entries("SALE")); n != want {
				t.Errorf("%d sales in ledger, want %d", n, want)
			}
		})
	}
}

func TestChargeNothingSentIsError(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	c, err := New(Config{URL: "http://" + addr + "/ippay", CardTerminalID: "T", Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Charge(ctx, gateways.ChargeRequest{Reference: "SPREFUSED000000001", Method: gateways.SavedMethod{Kind: gateways.Card, Token: "TOK"}, Amount: 100})
	if !errors.Is(err, gateways.ErrUnreachable) {
		t.Errorf("refused connection: %v, want an error wrapping ErrUnreachable", err)
	}
	err = c.Ping(ctx)
	if !errors.Is(err, gateways.ErrUnreachable) || !strings.Contains(err.Error(), "whitelist") {
		t.Errorf("ping refused: %v", err)
	}
}

func TestChargeValidation(t *testing.T) {
	e := newEnv(t, ippaysim.Options{}, nil)
	card := gateways.SavedMethod{Kind: gateways.Card, Token: "TOKEN"}
	tests := []struct {
		name string
		req  gateways.ChargeRequest
		want error
	}{
		{"no reference", gateways.ChargeRequest{Method: card, Amount: 1}, gateways.ErrInvalidDetails},
		{"zero amount", gateways.ChargeRequest{Reference: "R", Method: card}, gateways.ErrInvalidDetails},
		{"no token", gateways.ChargeRequest{Reference: "R", Method: gateways.SavedMethod{Kind: gateways.Card}, Amount: 1}, gateways.ErrInvalidDetails},
		{"currency", gateways.ChargeRequest{Reference: "R", Method: card, Amount: 1, Currency: "AUD"}, gateways.ErrUnsupported},
	}
	for _, tc := range tests {
		if _, err := e.c.Charge(ctx, tc.req); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	if e.wire.count() != 0 {
		t.Error("invalid charges reached the gateway")
	}
}

func TestBadTerminal(t *testing.T) {
	e := newEnv(t, ippaysim.Options{}, nil)
	m := e.saveCard(t)
	bad, err := New(Config{URL: e.srv.URL + "/ippay", CardTerminalID: "NOSUCH"}, WithHTTPClient(e.srv.Client()))
	if err != nil {
		t.Fatal(err)
	}
	o, err := bad.Charge(ctx, gateways.ChargeRequest{Reference: "SPBADTERM000000001", Method: m, Amount: 100})
	if err != nil || o.Status != gateways.Declined || o.Code != "996" || o.Reason != gateways.ReasonTechnical || !o.Retryable {
		t.Errorf("charge on unknown terminal %+v %v", o, err)
	}
	if err := bad.Ping(ctx); !errors.Is(err, gateways.ErrUnauthorized) {
		t.Errorf("ping on unknown terminal: %v", err)
	}
	if _, err := bad.SaveMethod(ctx, gateways.SaveMethodRequest{Card: &gateways.CardDetails{Number: testPAN, ExpMonth: 1, ExpYear: 2030}}); !errors.Is(err, gateways.ErrUnauthorized) {
		t.Errorf("tokenize on unknown terminal: %v", err)
	}
}

func TestPing(t *testing.T) {
	e := newEnv(t, ippaysim.Options{}, nil)
	if err := e.c.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	if n := e.wire.count(); n != 2 {
		t.Errorf("ping sent %d requests, want one per terminal", n)
	}
	blocked := newEnv(t, ippaysim.Options{AllowIPs: []string{"192.0.2.10"}}, nil)
	err := blocked.c.Ping(ctx)
	if !errors.Is(err, gateways.ErrUnreachable) || !strings.Contains(err.Error(), "ask IPpay to whitelist this server's IP") {
		t.Errorf("blocked ping: %v", err)
	}
}

func TestEchoedCardNumberIsMasked(t *testing.T) {
	e := newEnv(t, ippaysim.Options{}, nil)
	e.sim.SetFault(ippaysim.Fault{Types: []string{"TOKENIZE"}, Count: 2, EchoRequest: true})
	_, err := e.c.SaveMethod(ctx, gateways.SaveMethodRequest{Card: &gateways.CardDetails{Number: testPAN, ExpMonth: 12, ExpYear: 2029}})
	if err == nil {
		t.Fatal("echoed error body accepted")
	}
	if !strings.Contains(err.Error(), "921") || !strings.Contains(err.Error(), "•••• 1111") {
		t.Errorf("error does not explain itself: %v", err)
	}
	_, err2 := e.c.SaveMethod(ctx, gateways.SaveMethodRequest{Bank: &gateways.BankDetails{Branch: testABA, AccountNumber: testAccount}})
	if err2 == nil {
		t.Fatal("echoed error body accepted")
	}
	// The simulator really echoed the number: the masking is what hid it.
	if !strings.Contains(e.wire.last(t), testAccount) {
		t.Fatal("test did not exercise an echo")
	}
	e.assertNoSecrets(t, err.Error(), err2.Error())
	if len(e.logs.All()) == 0 {
		t.Error("no log lines captured")
	}
	// A charge whose error body echoes the request: the outcome's message is masked too.
	m := e.saveCard(t)
	e.sim.SetFault(ippaysim.Fault{Types: []string{"SALE"}, Count: 1, EchoRequest: true})
	o, err := e.c.Charge(ctx, gateways.ChargeRequest{Reference: "SPECHO000000000001", Method: m, Amount: 100})
	if err != nil || o.Status != gateways.Declined || o.Reason != gateways.ReasonInvalidRequest {
		t.Errorf("echo on charge %+v %v", o, err)
	}
	// The same echo as a plain-text 500 body: unknown outcome, masked error.
	e.sim.SetFault(ippaysim.Fault{Types: []string{"SALE"}, Count: 1, EchoRequest: true, Status: 500})
	u, err := e.c.Charge(ctx, gateways.ChargeRequest{Reference: "SPECHO000000000002", Method: m, Amount: 100})
	if err != nil || u.Status != gateways.Unknown || u.Err == nil || !strings.Contains(u.Err.Error(), "HTTP 500") {
		t.Fatalf("echo 500 on charge %+v %v", u, err)
	}
	e.sim.SetFault(ippaysim.Fault{Types: []string{"TOKENIZE"}, Count: 1, EchoRequest: true, Status: 500})
	_, err3 := e.c.SaveMethod(ctx, gateways.SaveMethodRequest{Card: &gateways.CardDetails{Number: testPAN, ExpMonth: 12, ExpYear: 2029}})
	if err3 == nil || !strings.Contains(err3.Error(), "HTTP 500") || !strings.Contains(e.wire.last(t), testPAN) {
		t.Fatalf("echo 500 on tokenize: %v", err3)
	}
	e.assertNoSecrets(t, o.Message, u.Err.Error(), err3.Error())
}

func TestRefundCard(t *testing.T) {
	e := newEnv(t, ippaysim.Options{}, nil)
	m := e.saveCard(t)
	charge := func(ref string, amount int64) gateways.Outcome {
		o, err := e.c.Charge(ctx, gateways.ChargeRequest{Reference: ref, Method: m, Amount: amount})
		if err != nil || o.Status != gateways.Approved {
			t.Fatalf("charge %s: %+v %v", ref, o, err)
		}
		return o
	}
	// Same day: the sale is in the open batch and is voided.
	o1 := charge("SPREFUND0000000001", 3000)
	r, err := e.c.Refund(ctx, gateways.RefundRequest{Reference: "SPREFUND00000000R1", Original: o1, Method: m, Amount: 3000})
	if err != nil || r.Status != gateways.Approved || r.Message != "VOID PROCESSED" || r.GatewayID != o1.GatewayID {
		t.Fatalf("void %+v %v", r, err)
	}
	if b := e.wire.last(t); !strings.Contains(b, "<Approval>"+o1.SecondaryID+"</Approval>") || !strings.Contains(b, "<TransactionType>VOID</TransactionType>") {
		t.Errorf("void request %s", b)
	}
	// Next day: settled, the void is refused and a linked CREDIT refunds.
	o2 := charge("SPREFUND0000000002", 4000)
	e.sim.Clock().Advance(24 * time.Hour)
	r, err = e.c.Refund(ctx, gateways.RefundRequest{Reference: "SPREFUND00000000R2", Original: o2, Method: m, Amount: 4000})
	if err != nil || r.Status != gateways.Approved || r.Message != "RETURN ACCEPTED" {
		t.Fatalf("credit %+v %v", r, err)
	}
	// Partial refund: straight to CREDIT.
	r, err = e.c.Refund(ctx, gateways.RefundRequest{Reference: "SPREFUND00000000R3", Original: o2, Method: m, Amount: 1000})
	if err == nil && r.Status == gateways.Approved {
		t.Errorf("refund beyond the sale accepted: %+v", r)
	}
	o3 := charge("SPREFUND0000000003", 5000)
	r, err = e.c.Refund(ctx, gateways.RefundRequest{Reference: "SPREFUND00000000R4", Original: o3, Method: m, Amount: 1500})
	if err != nil || r.Status != gateways.Approved {
		t.Fatalf("partial %+v %v", r, err)
	}
	var states []string
	for _, x := range e.sim.Ledger() {
		if x.Type == "SALE" {
			states = append(states, x.State+"/"+itoa(x.Refunded))
		}
	}
	if got := strings.Join(states, ","); got != "voided/0,settled/4000,approved/1500" {
		t.Errorf("sale states %s", got)
	}
	if n, v := len(e.entries("CREDIT")), len(e.entries("VOID")); n != 2 || v != 1 {
		t.Errorf("%d credits, %d voids; want 2 and 1", n, v)
	}
}

// TestRefundACH covers a gateway that still takes VOIDACH, with the client
// set to use it; TestACHRefundWithoutVoidACH the default.
func TestRefundACH(t *testing.T) {
	e := newEnv(t, ippaysim.Options{Fidelity: ippaysim.Fidelity{VoidACH: true}}, func(c *Config) { c.VoidACH = true })
	m := e.saveBank(t)
	o1, _ := e.c.Charge(ctx, gateways.ChargeRequest{Reference: "SPACHREF0000000001", Method: m, Amount: 6000})
	r, err := e.c.Refund(ctx, gateways.RefundRequest{Reference: "SPACHREF000000000A", Original: o1, Method: m, Amount: 6000})
	if err != nil || r.Status != gateways.Approved {
		t.Fatalf("voidach %+v %v", r, err)
	}
	if b := e.wire.last(t); !strings.Contains(b, "<TransactionType>VOIDACH</TransactionType>") || !strings.Contains(b, "<CheckNumber>"+checkNumber("SPACHREF0000000001")+"</CheckNumber>") {
		t.Errorf("voidach request %s", b)
	}
	o2, _ := e.c.Charge(ctx, gateways.ChargeRequest{Reference: "SPACHREF0000000002", Method: m, Amount: 7000})
	e.sim.Clock().Advance(24 * time.Hour) // past the ACH file cut-off
	r, err = e.c.Refund(ctx, gateways.RefundRequest{Reference: "SPACHREF000000000B", Original: o2, Method: m, Amount: 7000})
	if err != nil || r.Status != gateways.Approved {
		t.Fatalf("reversal %+v %v", r, err)
	}
	if b := e.wire.last(t); !strings.Contains(b, "<TransactionType>REVERSAL</TransactionType>") {
		t.Errorf("reversal request %s", b)
	}
	checks := e.entries("CHECK")
	if len(checks) != 2 || checks[0].State != "voided" || checks[1].Refunded != 7000 {
		t.Errorf("ledger %+v", checks)
	}
}

// What ENQ answers for a TransactionID IPpay never received is not public
// (see the package doc): neither the simulator's default answer nor its
// inferred 025 may read as "never received".
func TestLookupOfUnsentChargeIsInconclusive(t *testing.T) {
	for _, inferred := range []bool{false, true} {
		e := newEnv(t, ippaysim.Options{Inferred: inferred}, nil)
		for _, kind := range []gateways.MethodKind{gateways.Card, gateways.Bank, ""} {
			_, err := e.c.Lookup(ctx, gateways.LookupRequest{Reference: "SPNEVERSENT0000001", Method: gateways.SavedMethod{Kind: kind}})
			if !errors.Is(err, gateways.ErrInconclusive) || errors.Is(err, gateways.ErrNotFound) {
				t.Errorf("inferred=%v kind %q: lookup of an unsent charge: %v, want ErrInconclusive", inferred, kind, err)
			}
		}
		if n := len(e.entries("SALE")) + len(e.entries("CHECK")); n != 0 {
			t.Errorf("inferred=%v: a lookup sent %d charges", inferred, n)
		}
	}
}

func TestChangesFromReturnsReport(t *testing.T) {
	var e *env
	e = newEnv(t, ippaysim.Options{}, func(c *Config) { c.ReturnsURL = "" })
	// Point ReturnsURL at the same simulator.
	c2, err := New(Config{URL: e.srv.URL + "/ippay", ACHTerminalID: achTerminal, ReturnsURL: e.srv.URL + "/returns.csv"},
		WithHTTPClient(e.srv.Client()), WithClock(e.sim.Clock()))
	if err != nil {
		t.Fatal(err)
	}
	if ch, err := e.c.Changes(ctx); err != nil || len(ch) != 0 {
		t.Errorf("no returns URL: %v %v", ch, err)
	}
	m := e.saveBank(t)
	for _, ref := range []string{"SPRETURN0000000001", "SPRETURN0000000002"} {
		if o, err := c2.Charge(ctx, gateways.ChargeRequest{Reference: ref, Method: m, Amount: 1234}); err != nil || o.Status != gateways.Pending {
			t.Fatalf("charge %+v %v", o, err)
		}
	}
	e.sim.Clock().Advance(72 * time.Hour)
	if err := e.sim.InjectReturn("SPRETURN0000000001", "R01"); err != nil {
		t.Fatal(err)
	}
	ch, err := c2.Changes(ctx)
	if err != nil || len(ch) != 1 {
		t.Fatalf("changes %+v %v", ch, err)
	}
	got := ch[0]
	if got.Outcome.Status != gateways.Declined || got.Outcome.Reference != "SPRETURN0000000001" || got.Outcome.Code != "R01" ||
		got.Outcome.Reason != gateways.ReasonInsufficientFunds || !got.Outcome.Retryable || got.Outcome.Amount != 1234 ||
		got.At.Format("2006-01-02") != "2026-11-05" || got.Late {
		t.Errorf("change %+v", got)
	}
	if err := c2.Ack(ctx, got); err != nil {
		t.Fatal(err)
	}
	if err := e.sim.InjectReturn("SPRETURN0000000002", "R02"); err != nil {
		t.Fatal(err)
	}
	ch, err = c2.Changes(ctx)
	if err != nil || len(ch) != 1 || ch[0].Outcome.Code != "R02" || ch[0].Outcome.Retryable {
		t.Errorf("after ack: %+v %v", ch, err)
	}
}

func TestJetPayRootAccepted(t *testing.T) {
	// The client only sends <ippay>; the simulator's JetPay dialect is
	// covered in ippaysim. Here: the client parses a JetPayResponse.
	r, err := parseResponse([]byte("<JetPayResponse><TransactionID>X</TransactionID><ActionCode>000</ActionCode><Approval>TEST01</Approval><ResponseText>APPROVED</ResponseText></JetPayResponse>"))
	if err != nil || !r.ok() || r.Approval != "TEST01" {
		t.Errorf("%+v %v", r, err)
	}
}

func TestLookupWithoutKindAsksBothTerminals(t *testing.T) {
	e := newEnv(t, ippaysim.Options{}, nil)
	m := e.saveBank(t)
	if _, err := e.c.Charge(ctx, gateways.ChargeRequest{Reference: "SPNOKIND0000000001", Method: m, Amount: 800}); err != nil {
		t.Fatal(err)
	}
	o, err := e.c.Lookup(ctx, gateways.LookupRequest{Reference: "SPNOKIND0000000001"})
	if err != nil || o.Status != gateways.Pending || o.SettlesBy.IsZero() {
		t.Errorf("lookup %+v %v", o, err)
	}
	_, err = e.c.Lookup(ctx, gateways.LookupRequest{Reference: "SPNOKIND0000000002"})
	if !errors.Is(err, gateways.ErrInconclusive) {
		t.Errorf("unknown reference: %v", err)
	}
}

func TestCanceledContextSendsNothing(t *testing.T) {
	e := newEnv(t, ippaysim.Options{}, nil)
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err := e.c.Charge(cctx, gateways.ChargeRequest{Reference: "SPCANCEL0000000001", Method: gateways.SavedMethod{Kind: gateways.Card, Token: "T"}, Amount: 100})
	if !errors.Is(err, context.Canceled) || e.wire.count() != 0 {
		t.Errorf("canceled charge: %v, %d requests", err, e.wire.count())
	}
}

// Many charges at once: each reference is charged exactly once and the
// simulator's ledger adds up.
func TestConcurrentCharges(t *testing.T) {
	e := newEnv(t, ippaysim.Options{}, nil)
	m := e.saveCard(t)
	const n = 40
	errs := make(chan error, n)
	for i := range n {
		go func() {
			ref := fmt.Sprintf("SPCONC%012d", i)
			o, err := e.c.Charge(ctx, gateways.ChargeRequest{Reference: ref, Method: m, Amount: int64(100 * (i + 1))})
			if err == nil && o.Status != gateways.Approved {
				err = fmt.Errorf("%s: %s", ref, o.Status)
			}
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	var total int64
	for _, s := range e.entries("SALE") {
		total += s.Amount
	}
	if got, want := len(e.entries("SALE")), n; got != want {
		t.Errorf("%d sales, want %d", got, want)
	}
	if want := int64(100 * n * (n + 1) / 2); total != want {
		t.Errorf("ledger total %d, want %d", total, want)
	}
}
