package integrapay_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/splynx-pay/splynx-pay/gateways"
	"github.com/splynx-pay/splynx-pay/gateways/integrapay"
	"github.com/splynx-pay/splynx-pay/gateways/integrapay/integrapaysim"
	"github.com/splynx-pay/splynx-pay/internal/clock"
)

// Known test numbers: none of them may show up outside a request body.
const (
	testPAN     = "4111111111111111"
	testCVV     = "123"
	testBSB     = "062000"
	testAccount = "12345678"
)

type env struct {
	t    *testing.T
	sim  *integrapaysim.Sim
	srv  *httptest.Server
	c    *integrapay.Client
	clk  *clock.Fake
	logs *observer.ObservedLogs
	ctx  context.Context
}

type envOpt func(*integrapaysim.Options, *integrapay.Config)

func withTimeout(d time.Duration) envOpt {
	return func(_ *integrapaysim.Options, c *integrapay.Config) { c.Timeout = d }
}

func withLookupShape(shape string) envOpt {
	return func(o *integrapaysim.Options, _ *integrapay.Config) { o.LookupShape = shape }
}

// withInferred makes the simulator serve the unconfirmed paths too.
func withInferred() envOpt {
	return func(o *integrapaysim.Options, _ *integrapay.Config) { o.Inferred = true }
}

func newEnv(t *testing.T, opts ...envOpt) *env {
	t.Helper()
	clk := clock.NewFake(time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)) // Monday 20:00 in Sydney
	so := integrapaysim.Options{Clock: clk}
	cfg := integrapay.Config{
		Username:   integrapaysim.DefaultUsername,
		Password:   integrapaysim.DefaultPassword,
		BusinessID: integrapaysim.DefaultBusinessID,
		Timeout:    5 * time.Second,
		Operator:   "splynx-test",
	}
	for _, o := range opts {
		o(&so, &cfg)
	}
	sim := integrapaysim.New(so)
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	cfg.AuthURL, cfg.APIURL = srv.URL, srv.URL
	core, logs := observer.New(zapcore.DebugLevel)
	c, err := integrapay.New(cfg, integrapay.WithLogger(zap.New(core)), integrapay.WithClock(clk), integrapay.WithHTTPClient(srv.Client()))
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, sim: sim, srv: srv, c: c, clk: clk, logs: logs, ctx: context.Background()}
}

func testPayer(ref string) gateways.Payer {
	return gateways.Payer{Reference: ref, CustomerID: 42, GivenName: "Jane", FamilyName: "Citizen",
		Email: "jane@example.com", Phone: "0733332222", Street: "1 Test St", City: "Testville",
		State: "QLD", PostCode: "4001", Country: "AU"}
}

func bankDetails() *gateways.BankDetails {
	return &gateways.BankDetails{Branch: testBSB, AccountNumber: testAccount, AccountName: "J CITIZEN", AccountType: "CHEQUE"}
}

func cardDetails() *gateways.CardDetails {
	return &gateways.CardDetails{Number: testPAN, ExpMonth: 11, ExpYear: 2029, CVV: testCVV, Holder: "JANE CITIZEN"}
}

// saveBank creates payer ref with a bank account and returns the method.
func (e *env) saveBank(ref string) gateways.SavedMethod {
	e.t.Helper()
	m, err := e.c.SaveMethod(e.ctx, gateways.SaveMethodRequest{Payer: testPayer(ref), Bank: bankDetails()})
	if err != nil {
		e.t.Fatalf("save bank for %s: %v", ref, err)
	}
	return m
}

// saveCard creates payer ref with a card and returns the method.
func (e *env) saveCard(ref string) gateways.SavedMethod {
	e.t.Helper()
	m, err := e.c.SaveMethod(e.ctx, gateways.SaveMethodRequest{Payer: testPayer(ref), Card: cardDetails()})
	if err != nil {
		e.t.Fatalf("save card for %s: %v", ref, err)
	}
	return m
}

func (e *env) charge(ref string, m gateways.SavedMethod, cents int64) gateways.Outcome {
	e.t.Helper()
	o, err := e.c.Charge(e.ctx, gateways.ChargeRequest{Reference: ref, Method: m, PayerRef: m.Token, Amount: cents,
		Currency: "AUD", Description: "Invoice " + ref})
	if err != nil {
		e.t.Fatalf("charge %s: %v", ref, err)
	}
	return o
}

// entries returns the ledger rows carrying reference.
func (e *env) entries(ref string) []integrapaysim.Entry {
	var out []integrapaysim.Entry
	for _, en := range e.sim.Ledger() {
		if en.Reference == ref {
			out = append(out, en)
		}
	}
	return out
}

// changes polls the feed and fails the test on error.
func (e *env) changes() []gateways.StatusChange {
	e.t.Helper()
	ch, err := e.c.Changes(e.ctx)
	if err != nil {
		e.t.Fatalf("changes: %v", err)
	}
	return ch
}

// ackAll acknowledges every change.
func (e *env) ackAll(chs []gateways.StatusChange) {
	e.t.Helper()
	for _, ch := range chs {
		if err := e.c.Ack(e.ctx, ch); err != nil {
			e.t.Fatalf("ack %s: %v", ch.AckID, err)
		}
	}
}

// byRef picks the change for reference.
func byRef(chs []gateways.StatusChange, ref string) (gateways.StatusChange, bool) {
	for _, c := range chs {
		if c.Outcome.Reference == ref {
			return c, true
		}
	}
	return gateways.StatusChange{}, false
}
