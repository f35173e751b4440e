package ippay

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/splynx-pay/splynx-pay/gateways"
	"github.com/splynx-pay/splynx-pay/gateways/ippay/ippaysim"
)

const (
	cardTerminal = "CARDTERM01"
	achTerminal  = "ACHTERM01"
	testPAN      = "4111111111111111"
	testABA      = "111000025"
	testAccount  = "000123456789"
)

// wire records what crossed the wire between the client and the simulator.
type wire struct {
	mu       sync.Mutex
	requests [][]byte
	types    []string // Content-Type of each request
}

func (w *wire) last(t *testing.T) string {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.requests) == 0 {
		t.Fatal("no request reached the simulator")
	}
	return string(w.requests[len(w.requests)-1])
}

func (w *wire) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.requests)
}

type env struct {
	sim  *ippaysim.Sim
	srv  *httptest.Server
	c    *Client
	logs *observer.ObservedLogs
	wire *wire
}

func newEnv(t *testing.T, opts ippaysim.Options, edit func(*Config)) *env {
	t.Helper()
	// The client tests cover the returns report, an inferred source.
	opts.Inferred = true
	sim := ippaysim.New(opts)
	sim.AddTerminal(cardTerminal, false)
	sim.AddTerminal(achTerminal, true)
	w := &wire{}
	h := sim.Handler()
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			b, _ := io.ReadAll(r.Body)
			w.mu.Lock()
			w.requests = append(w.requests, b)
			w.types = append(w.types, r.Header.Get("Content-Type"))
			w.mu.Unlock()
			r.Body = io.NopCloser(bytes.NewReader(b))
		}
		h.ServeHTTP(rw, r)
	}))
	t.Cleanup(srv.Close)
	core, logs := observer.New(zapcore.DebugLevel)
	cfg := Config{URL: srv.URL + "/ippay", CardTerminalID: cardTerminal, ACHTerminalID: achTerminal,
		SEC: "WEB", SettleDays: 5, Timeout: 5 * time.Second}
	if edit != nil {
		edit(&cfg)
	}
	c, err := New(cfg, WithLogger(zap.New(core)), WithClock(sim.Clock()), WithHTTPClient(srv.Client()))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return &env{sim: sim, srv: srv, c: c, logs: logs, wire: w}
}

func (e *env) saveCard(t *testing.T) gateways.SavedMethod {
	t.Helper()
	m, err := e.c.SaveMethod(context.Background(), gateways.SaveMethodRequest{
		Payer: gateways.Payer{Reference: "C7332"},
		Card:  &gateways.CardDetails{Number: testPAN, ExpMonth: 12, ExpYear: 2029, Holder: "Jo Smith"},
	})
	if err != nil {
		t.Fatalf("save card: %v", err)
	}
	return m
}

func (e *env) saveBank(t *testing.T) gateways.SavedMethod {
	t.Helper()
	m, err := e.c.SaveMethod(context.Background(), gateways.SaveMethodRequest{
		Payer: gateways.Payer{Reference: "C7332", GivenName: "Jo", FamilyName: "Smith"},
		Bank:  &gateways.BankDetails{Branch: testABA, AccountNumber: testAccount, AccountType: "CHECKING"},
	})
	if err != nil {
		t.Fatalf("save bank: %v", err)
	}
	return m
}

// entries returns the simulator's ledger entries of one type.
func (e *env) entries(typ string) []ippaysim.Entry {
	var out []ippaysim.Entry
	for _, x := range e.sim.Ledger() {
		if x.Type == typ {
			out = append(out, x)
		}
	}
	return out
}

// assertNoSecrets fails if a card, account or routing number appears in
// any captured log line (message or field) or in the given strings.
func (e *env) assertNoSecrets(t *testing.T, extra ...string) {
	t.Helper()
	var all []string
	for _, l := range e.logs.All() {
		all = append(all, l.Message)
		for k, v := range l.ContextMap() {
			all = append(all, k+"="+toString(v))
		}
	}
	all = append(all, extra...)
	for _, s := range all {
		for _, secret := range []string{testPAN, "411111111111", testAccount, "123456789", testABA} {
			if strings.Contains(s, secret) {
				t.Errorf("secret %q leaked in %q", secret, s)
			}
		}
	}
}

func toString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case error:
		return x.Error()
	}
	return ""
}
