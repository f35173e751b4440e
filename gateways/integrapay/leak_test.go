package integrapay_test

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/splynx-pay/splynx-pay/gateways"
	"github.com/splynx-pay/splynx-pay/gateways/integrapay/integrapaysim"
)

// TestNoCardOrBankNumbersEscape runs a full cycle with the known test
// numbers (PAN 4111111111111111, CVV 123, BSB 062000, account 12345678),
// including failures whose gateway answers echo them, and greps every log
// line (message and fields), every error string and every returned value.
// No exceptions: a bank method's display mask keeps only the bank's prefix
// ("BSB 062-••• •••• 678"), because masks are stored and rendered.
func TestNoCardOrBankNumbersEscape(t *testing.T) {
	e := newEnv(t, withTimeout(300*time.Millisecond))
	var errs []string
	var values []string
	keepErr := func(err error) {
		if err != nil {
			errs = append(errs, err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err))
		}
	}
	keep := func(v any) { values = append(values, fmt.Sprintf("%+v", v), fmt.Sprintf("%#v", v)) }

	// Invalid details: the errors must not repeat them.
	for _, req := range []gateways.SaveMethodRequest{
		{Payer: testPayer("C1"), Bank: &gateways.BankDetails{Branch: "06200", AccountNumber: testAccount, AccountName: "J CITIZEN"}},
		{Payer: testPayer("C1"), Bank: &gateways.BankDetails{Branch: testBSB, AccountNumber: "9876543210987", AccountName: "J CITIZEN"}},
		{Payer: testPayer("C1"), Card: &gateways.CardDetails{Number: testPAN, ExpMonth: 1, ExpYear: 2020, CVV: testCVV}},
		{Payer: testPayer("C1"), Card: &gateways.CardDetails{Number: testPAN, ExpMonth: 1, ExpYear: 2030, CVV: "12345"}},
	} {
		_, err := e.c.SaveMethod(e.ctx, req)
		keepErr(err)
		keep(req.Card)
		keep(req.Bank)
	}
	// A gateway error that echoes the details back.
	e.sim.SetFault("payers/*/accounts/bank-account", integrapaysim.Fault{Status: 400, Times: 1,
		Body: `{"errorCode":"InvalidPaymentMethod","errorMessage":"Account 12345678 at BSB 062000 is not valid","errorDetail":"AccountNumber=12345678"}`})
	_, err := e.c.SaveMethod(e.ctx, gateways.SaveMethodRequest{Payer: testPayer("C1"), Bank: bankDetails()})
	keepErr(err)
	e.sim.SetFault("services/tokenize-card", integrapaysim.Fault{Status: 500, Times: 1,
		Body: `{"errorCode":"InternalServerError","errorMessage":"card 4111 1111 1111 1111 cvv 123 failed","errorDetail":"Card.CardNumber"}`})
	_, err = e.c.SaveMethod(e.ctx, gateways.SaveMethodRequest{Payer: testPayer("C2"), Card: cardDetails()})
	keepErr(err)

	// The happy path, with the feed echoing the bank account in full.
	bank, err := e.c.SaveMethod(e.ctx, gateways.SaveMethodRequest{Payer: testPayer("C1"), Bank: bankDetails()})
	keepErr(err)
	keep(bank)
	card, err := e.c.SaveMethod(e.ctx, gateways.SaveMethodRequest{Payer: testPayer("C2"), Card: cardDetails()})
	keepErr(err)
	keep(card)
	for i, cents := range []int64{1000, 1031, 1061, 1096} {
		o, err := e.c.Charge(e.ctx, gateways.ChargeRequest{Reference: fmt.Sprintf("SPLEAKCARD%08d", i), Method: card, PayerRef: "C2", Amount: cents})
		keepErr(err)
		keepErr(o.Err)
		keep(o)
	}
	e.sim.SetFault("payers/*/transactions/card", integrapaysim.Fault{Hold: time.Second, Times: 1})
	o, err := e.c.Charge(e.ctx, gateways.ChargeRequest{Reference: "SPLEAKLOST00000001", Method: card, PayerRef: "C2", Amount: 500})
	keepErr(err)
	keepErr(o.Err)
	keep(o)
	for i, cents := range []int64{2000, 2024, 2029} {
		o, err := e.c.Charge(e.ctx, gateways.ChargeRequest{Reference: fmt.Sprintf("SPLEAKBANK%08d", i), Method: bank, PayerRef: "C1", Amount: cents})
		keepErr(err)
		keep(o)
	}
	for day := 0; day < 8; day++ {
		chs, err := e.c.Changes(e.ctx)
		keepErr(err)
		keep(chs)
		for _, ch := range chs {
			keepErr(e.c.Ack(e.ctx, ch))
		}
		e.clk.Advance(24 * time.Hour)
	}
	for _, ref := range []string{"SPLEAKCARD00000000", "SPLEAKLOST00000001", "SPLEAKBANK00000000"} {
		kind := card
		if strings.HasPrefix(ref, "SPLEAKBANK") {
			kind = bank
		}
		l, err := e.c.Lookup(e.ctx, gateways.LookupRequest{Reference: ref, Method: kind, PayerRef: kind.Token})
		keepErr(err)
		keep(l)
		if ref == "SPLEAKCARD00000000" {
			r, err := e.c.Refund(e.ctx, gateways.RefundRequest{Reference: "SPLEAKREFUND000001", Original: l, Method: card, Amount: 100})
			keepErr(err)
			keep(r)
		}
	}
	pi, err := e.c.GetPayer(e.ctx, "C1")
	keepErr(err)
	keep(pi)
	keepErr(e.c.RemoveMethod(e.ctx, "C1", bank))

	var logs []string
	for _, en := range e.logs.All() {
		var b strings.Builder
		b.WriteString(en.LoggerName + " " + en.Message)
		ctx := en.ContextMap()
		keys := make([]string, 0, len(ctx))
		for k := range ctx {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(&b, " %s=%v", k, ctx[k])
		}
		logs = append(logs, b.String())
	}
	if len(logs) < 20 || len(errs) < 8 || len(values) < 20 {
		t.Fatalf("the run captured too little: %d log lines, %d errors, %d values", len(logs), len(errs), len(values))
	}
	mustHave := []string{"charge sent", "reference=SPLEAKCARD00000000", "status change", "payment method saved", "charge outcome unknown"}
	all := strings.Join(logs, "\n")
	for _, s := range mustHave {
		if !strings.Contains(all, s) {
			t.Fatalf("expected a log line containing %q; logs:\n%s", s, all)
		}
	}

	secrets := []*regexp.Regexp{
		regexp.MustCompile(`4111\D?1111\D?1111\D?1111`),
		regexp.MustCompile(`411111`), // the first six, as gateways echo them
		regexp.MustCompile(`(^|\D)123(\D|$)`),
		regexp.MustCompile(`062\D?000`),
		regexp.MustCompile(`12\D?345\D?678`),
		regexp.MustCompile(`345678`),
	}
	check := func(kind string, texts []string) {
		for _, s := range texts {
			for _, re := range secrets {
				if re.MatchString(s) {
					t.Errorf("%s shows %s: %s", kind, re, s)
				}
			}
		}
	}
	check("log line", logs)
	check("error", errs)
	check("returned value", values)
	if !strings.Contains(strings.Join(values, "\n"), "BSB 062-••• •••• 678") {
		t.Fatal("the bank mask was not among the returned values; the check above proved nothing about it")
	}
}
