package ippay

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/splynx-pay/splynx-pay/gateways"
	"github.com/splynx-pay/splynx-pay/gateways/ippay/ippaysim"
	"github.com/splynx-pay/splynx-pay/internal/clock"
)

var update = flag.Bool("update", false, "rewrite golden files")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run Golden -update to create)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// TestGoldenRequests drives the client against the simulator and compares
// the exact XML it sent, one file per case. Card and account numbers in
// these files are the public test numbers.
func TestGoldenRequests(t *testing.T) {
	tests := []struct {
		name string
		run  func(t *testing.T, e *env)
		// voidACH: gateway and client both still use VOIDACH.
		voidACH bool
	}{
		{name: "tokenize_card", run: func(t *testing.T, e *env) { e.saveCard(t) }},
		{name: "tokenize_bank", run: func(t *testing.T, e *env) { e.saveBank(t) }},
		{name: "sale_token", run: func(t *testing.T, e *env) {
			m := e.saveCard(t)
			e.c.Charge(ctx, gateways.ChargeRequest{Reference: "SPGOLDEN0000000001", Method: m, Amount: 8799,
				Description: "Invoice 202401000123", CustomerIP: "203.0.113.7"})
		}},
		{name: "sale_hashed_reference", run: func(t *testing.T, e *env) {
			m := e.saveCard(t)
			e.c.Charge(ctx, gateways.ChargeRequest{Reference: "refill-7332-2026-11-02", Method: m, Amount: 100})
		}},
		{name: "check_token", run: func(t *testing.T, e *env) {
			m := e.saveBank(t)
			e.c.Charge(ctx, gateways.ChargeRequest{Reference: "SPGOLDEN0000000002", Method: m, Amount: 12345})
		}},
		{name: "check_escaping", run: func(t *testing.T, e *env) {
			m := e.saveBank(t)
			m.HolderName = `O'Brien & Søn <"Ltd">`
			m.AccountType = "SAVINGS"
			e.c.Charge(ctx, gateways.ChargeRequest{Reference: "SPGOLDEN0000000003", Method: m, Amount: 500})
		}},
		{name: "enq", run: func(t *testing.T, e *env) {
			e.c.Lookup(ctx, gateways.LookupRequest{Reference: "SPGOLDEN0000000004", Method: gateways.SavedMethod{Kind: gateways.Card}})
		}},
		{name: "void", run: func(t *testing.T, e *env) {
			m := e.saveCard(t)
			o, _ := e.c.Charge(ctx, gateways.ChargeRequest{Reference: "SPGOLDEN0000000005", Method: m, Amount: 2000})
			e.c.Refund(ctx, gateways.RefundRequest{Reference: "SPGOLDEN000000005R", Original: o, Method: m, Amount: 2000})
		}},
		{name: "credit_linked", run: func(t *testing.T, e *env) {
			m := e.saveCard(t)
			o, _ := e.c.Charge(ctx, gateways.ChargeRequest{Reference: "SPGOLDEN0000000006", Method: m, Amount: 2000})
			e.sim.Clock().Advance(24 * time.Hour)
			e.c.Refund(ctx, gateways.RefundRequest{Reference: "SPGOLDEN000000006R", Original: o, Method: m, Amount: 2000})
		}},
		{name: "voidach", run: func(t *testing.T, e *env) {
			m := e.saveBank(t)
			o, _ := e.c.Charge(ctx, gateways.ChargeRequest{Reference: "SPGOLDEN0000000007", Method: m, Amount: 3000})
			e.c.Refund(ctx, gateways.RefundRequest{Reference: "SPGOLDEN000000007R", Original: o, Method: m, Amount: 3000})
		}, voidACH: true},
		{name: "reversal", run: func(t *testing.T, e *env) {
			m := e.saveBank(t)
			o, _ := e.c.Charge(ctx, gateways.ChargeRequest{Reference: "SPGOLDEN0000000008", Method: m, Amount: 3000})
			e.sim.Clock().Advance(24 * time.Hour)
			e.c.Refund(ctx, gateways.RefundRequest{Reference: "SPGOLDEN000000008R", Original: o, Method: m, Amount: 1000})
		}},
		{name: "ping", run: func(t *testing.T, e *env) {
			c, _ := New(Config{URL: e.srv.URL + "/ippay", CardTerminalID: cardTerminal}, WithHTTPClient(e.srv.Client()))
			c.Ping(ctx)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, ippaysim.Options{Fidelity: ippaysim.Fidelity{VoidACH: tc.voidACH}},
				func(c *Config) { c.VoidACH = tc.voidACH })
			tc.run(t, e)
			golden(t, "request_"+tc.name+".xml", []byte(e.wire.last(t)+"\n"))
		})
	}
}

type outcomeView struct {
	Status      gateways.Status `json:"status"`
	Code        string          `json:"code"`
	Reason      gateways.Reason `json:"reason,omitempty"`
	Retryable   bool            `json:"retryable,omitempty"`
	Review      bool            `json:"review,omitempty"`
	Message     string          `json:"message"`
	GatewayID   string          `json:"gateway_id"`
	SecondaryID string          `json:"secondary_id,omitempty"`
	SettlesBy   string          `json:"settles_by,omitempty"`
}

// responseView is what a golden response file is expected to produce.
type responseView struct {
	Response *response    `json:"response,omitempty"`
	Outcome  *outcomeView `json:"outcome,omitempty"`
	Error    string       `json:"error,omitempty"`
}

// TestGoldenResponses parses each testdata/golden/response_*.xml and
// compares what the client makes of it with the .json beside it. Files
// named *check* or *ach* are read as replies to an ACH request.
func TestGoldenResponses(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "golden", "response_*.xml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no response goldens: %v", err)
	}
	sort.Strings(files)
	c, err := New(Config{URL: TestURL, CardTerminalID: "T", SettleDays: 5},
		WithClock(clock.NewFake(time.Date(2026, 11, 6, 10, 0, 0, 0, time.UTC))))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".xml")
		t.Run(name, func(t *testing.T) {
			body, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var v responseView
			r, err := parseResponse(body)
			if err != nil {
				v.Error = err.Error()
			} else {
				v.Response = &r
				kind := gateways.Card
				if strings.Contains(name, "check") || strings.Contains(name, "ach") {
					kind = gateways.Bank
				}
				o := c.outcome(kind, "SPGOLDEN0000000000", "SPGOLDEN0000000000", 1000, r)
				v.Outcome = &outcomeView{o.Status, o.Code, o.Reason, o.Retryable, o.Review, o.Message, o.GatewayID, o.SecondaryID, ""}
				if !o.SettlesBy.IsZero() {
					v.Outcome.SettlesBy = o.SettlesBy.Format(time.RFC3339)
				}
			}
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			enc.SetIndent("", "  ")
			if err := enc.Encode(v); err != nil {
				t.Fatal(err)
			}
			got := buf.Bytes()
			if strings.Contains(string(got), "4111111111111111") || strings.Contains(string(got), "000123456789") {
				t.Errorf("parsed output keeps a card or account number:\n%s", got)
			}
			golden(t, name+".json", got)
		})
	}
}
