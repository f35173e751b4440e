package ippay

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/splynx-pay/splynx-pay/gateways"
	"github.com/splynx-pay/splynx-pay/gateways/ippay/ippaysim"
)

// Tests for what public IPpay clients showed about the gateway (issue 17),
// each against the simulator in its default behaviour.

var typeRE = regexp.MustCompile(`<TransactionType>([A-Z]+)</TransactionType>`)

// sentTypes lists the TransactionType of every request that reached the
// simulator, in order, with the terminal it named.
func (w *wire) sentTypes() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for _, b := range w.requests {
		m := typeRE.FindSubmatch(b)
		if m == nil {
			out = append(out, "?")
			continue
		}
		out = append(out, string(m[1]))
	}
	return out
}

// One terminal set up, as Splynx's IPpay add-on asks for: cards and ACH
// both go through it, saving, charging, looking up and refunding.
func TestOneTerminalServesCardAndACH(t *testing.T) {
	e := newEnv(t, ippaysim.Options{}, func(c *Config) { c.ACHTerminalID = "" })
	card := e.saveCard(t)
	bank := e.saveBank(t)
	sale, err := e.c.Charge(ctx, gateways.ChargeRequest{Reference: "SPONETERM000000001", Method: card, Amount: 2500})
	if err != nil || sale.Status != gateways.Approved {
		t.Fatalf("sale %+v %v", sale, err)
	}
	check, err := e.c.Charge(ctx, gateways.ChargeRequest{Reference: "SPONETERM000000002", Method: bank, Amount: 4000})
	if err != nil || check.Status != gateways.Pending {
		t.Fatalf("check %+v %v", check, err)
	}
	look, err := e.c.Lookup(ctx, gateways.LookupRequest{Reference: "SPONETERM000000002", Amount: 4000})
	if err != nil || look.Status != gateways.Pending {
		t.Fatalf("lookup without kind %+v %v", look, err)
	}
	r, err := e.c.Refund(ctx, gateways.RefundRequest{Reference: "SPONETERM00000002R", Original: check, Method: bank, Amount: 4000})
	if err != nil || r.Status != gateways.Approved {
		t.Fatalf("ach refund %+v %v", r, err)
	}
	if err := e.c.Ping(ctx); err != nil {
		t.Fatalf("ping: %v", err)
	}
	for _, x := range e.sim.Ledger() {
		if x.TerminalID != cardTerminal {
			t.Errorf("%s %s went to terminal %s, want %s", x.Type, x.TransactionID, x.TerminalID, cardTerminal)
		}
	}
	checks := e.entries("CHECK")
	if len(checks) != 1 || checks[0].Amount != 4000 || checks[0].Refunded != 4000 {
		t.Errorf("CHECK ledger %+v", checks)
	}
	if n := strings.Count(strings.Join(e.wire.sentTypes(), " "), "PING"); n != 1 {
		t.Errorf("%d PINGs for one terminal, want 1", n)
	}

	// A merchant whose card terminal does not take ACH hears so plainly
	// when saving a bank account, and nothing is stored.
	split := newEnv(t, ippaysim.Options{Fidelity: ippaysim.Fidelity{SplitTerminals: true}}, func(c *Config) { c.ACHTerminalID = "" })
	_, err = split.c.SaveMethod(ctx, gateways.SaveMethodRequest{Payer: gateways.Payer{Reference: "C1"},
		Bank: &gateways.BankDetails{Branch: testABA, AccountNumber: testAccount}})
	if !errors.Is(err, gateways.ErrUnauthorized) || !strings.Contains(err.Error(), "996") {
		t.Errorf("bank on a card-only terminal: %v", err)
	}
}

// IPpay no longer supports VOIDACH: a full ACH refund goes straight to a
// REVERSAL, before and after the ACH file cut-off.
func TestACHRefundWithoutVoidACH(t *testing.T) {
	e := newEnv(t, ippaysim.Options{}, nil)
	m := e.saveBank(t)
	o, _ := e.c.Charge(ctx, gateways.ChargeRequest{Reference: "SPNOVOIDACH0000001", Method: m, Amount: 6000})
	r, err := e.c.Refund(ctx, gateways.RefundRequest{Reference: "SPNOVOIDACH000001R", Original: o, Method: m, Amount: 6000})
	if err != nil || r.Status != gateways.Approved || r.GatewayID != "SPNOVOIDACH0000001" {
		t.Fatalf("refund %+v %v", r, err)
	}
	if got := strings.Join(e.wire.sentTypes(), ","); got != "TOKENIZE,CHECK,REVERSAL" {
		t.Errorf("requests %s, want TOKENIZE,CHECK,REVERSAL (no VOIDACH)", got)
	}
	if c := e.entries("CHECK"); len(c) != 1 || c[0].Refunded != 6000 || c[0].State != "pending" {
		t.Errorf("CHECK ledger %+v", c)
	}
	if rv := e.entries("REVERSAL"); len(rv) != 1 || rv[0].Amount != 6000 {
		t.Errorf("REVERSAL ledger %+v", rv)
	}
}

// With Config.VoidACH the client tries VOIDACH first: on a gateway that
// still takes it the item is voided; on one that refuses it the REVERSAL
// follows and the refund still goes through.
func TestVoidACHOptIn(t *testing.T) {
	for _, simVoids := range []bool{true, false} {
		e := newEnv(t, ippaysim.Options{Fidelity: ippaysim.Fidelity{VoidACH: simVoids}}, func(c *Config) { c.VoidACH = true })
		m := e.saveBank(t)
		o, _ := e.c.Charge(ctx, gateways.ChargeRequest{Reference: "SPVOIDACHOPT000001", Method: m, Amount: 3000})
		r, err := e.c.Refund(ctx, gateways.RefundRequest{Reference: "SPVOIDACHOPT00001R", Original: o, Method: m, Amount: 3000})
		if err != nil || r.Status != gateways.Approved {
			t.Fatalf("gateway voids=%v: refund %+v %v", simVoids, r, err)
		}
		c := e.entries("CHECK")
		got := strings.Join(e.wire.sentTypes(), ",")
		switch {
		case simVoids && (got != "TOKENIZE,CHECK,VOIDACH" || c[0].State != "voided"):
			t.Errorf("voidach taken: requests %s, state %s", got, c[0].State)
		case !simVoids && (got != "TOKENIZE,CHECK,VOIDACH,REVERSAL" || c[0].Refunded != 3000):
			t.Errorf("voidach refused: requests %s, refunded %d", got, c[0].Refunded)
		}
	}
}

// The current gateway answers a bad card number 900; the old JetPay one
// 912. Both are an invalid card the customer must correct.
func TestInvalidCardCodes(t *testing.T) {
	const unknownBIN = "4000300020001000" // passes Luhn; the gateway refuses it
	for _, legacy := range []bool{false, true} {
		e := newEnv(t, ippaysim.Options{Fidelity: ippaysim.Fidelity{LegacyInvalidCard: legacy, InvalidCards: []string{unknownBIN}}}, nil)
		_, err := e.c.SaveMethod(ctx, gateways.SaveMethodRequest{Payer: gateways.Payer{Reference: "C9"},
			Card: &gateways.CardDetails{Number: unknownBIN, ExpMonth: 12, ExpYear: 2029}})
		want := "900"
		if legacy {
			want = "912"
		}
		if !errors.Is(err, gateways.ErrInvalidDetails) || !strings.Contains(err.Error(), want) {
			t.Errorf("legacy=%v: save refused card: %v, want ErrInvalidDetails with %s", legacy, err, want)
		}
		if strings.Contains(err.Error(), unknownBIN) {
			t.Errorf("card number in the error: %v", err)
		}
		if reason, retry := declineReason(want); reason != gateways.ReasonInvalidCard || retry {
			t.Errorf("%s maps to %s retry=%v", want, reason, retry)
		}
	}
}

// IPpay may void a sale on its side when its answer was lost (spec §8).
// The ENQ that resolves the lost answer must then not read as approved.
func TestENQDoesNotHideAVoid(t *testing.T) {
	e := newEnv(t, ippaysim.Options{}, nil)
	m := e.saveCard(t)
	e.sim.SetFault(ippaysim.Fault{Types: []string{"SALE"}, Count: 1, LoseResponse: true, VoidAfter: true})
	o, err := e.c.Charge(ctx, gateways.ChargeRequest{Reference: "SPAUTOVOID00000001", Method: m, Amount: 2500})
	if err != nil || o.Status != gateways.Unknown {
		t.Fatalf("lost answer: %+v %v", o, err)
	}
	l, err := e.c.Lookup(ctx, gateways.LookupRequest{Reference: "SPAUTOVOID00000001", Method: m, Amount: 2500})
	if err != nil || l.Status != gateways.Declined || l.Code != CodeVoided || !l.Retryable {
		t.Fatalf("ENQ of a voided sale: %+v %v; want declined %s, retryable", l, err, CodeVoided)
	}
	if s := e.entries("SALE"); len(s) != 1 || s[0].State != "voided" {
		t.Errorf("sale ledger %+v", s)
	}

	// A sale partly credited since: the money may be back with the
	// customer, so the answer is not an approval; a person looks.
	ok, _ := e.c.Charge(ctx, gateways.ChargeRequest{Reference: "SPAUTOVOID00000002", Method: m, Amount: 3000})
	e.sim.Clock().Advance(24 * time.Hour) // settled: a refund is a CREDIT
	if _, err := e.c.Refund(ctx, gateways.RefundRequest{Reference: "SPAUTOVOID0000002R", Original: ok, Method: m, Amount: 1000}); err != nil {
		t.Fatal(err)
	}
	l, err = e.c.Lookup(ctx, gateways.LookupRequest{Reference: "SPAUTOVOID00000002", Method: m, Amount: 3000})
	if err != nil || l.Status != gateways.Unknown || l.Err == nil || !strings.Contains(l.Err.Error(), "PARTIALLY REFUNDED") {
		t.Errorf("ENQ of a credited sale: %+v %v; want unknown", l, err)
	}

	// A plain approval still resolves as approved.
	e.sim.SetFault(ippaysim.Fault{Types: []string{"SALE"}, Count: 1, LoseResponse: true})
	e.c.Charge(ctx, gateways.ChargeRequest{Reference: "SPAUTOVOID00000003", Method: m, Amount: 2000})
	l, err = e.c.Lookup(ctx, gateways.LookupRequest{Reference: "SPAUTOVOID00000003", Method: m, Amount: 2000})
	if err != nil || l.Status != gateways.Approved {
		t.Errorf("ENQ of an approved sale: %+v %v", l, err)
	}
}
