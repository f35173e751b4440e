package integrapay_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/splynx-pay/splynx-pay/gateways"
	"github.com/splynx-pay/splynx-pay/gateways/integrapay"
)

var update = flag.Bool("update", false, "rewrite testdata/requests/*.json from the bodies the client sends")

// TestRequestGoldens runs every mutating call once and compares the body the
// simulator received with testdata/requests/<call>.json. The files are the
// exact bytes sent, indented; only the fake test card/bank numbers appear.
func TestRequestGoldens(t *testing.T) {
	e := newEnv(t)
	ip := gateways.Authorisation{AcceptedAt: e.clk.Now(), IP: "203.0.113.7"}
	p1, p2 := testPayer("SPLYNX-000101"), testPayer("SPLYNX-000102")
	p2.GivenName, p2.FamilyName, p2.Email = "", "Acme Pty Ltd", "accounts@acme.example"

	bank, err := e.c.SaveMethod(e.ctx, gateways.SaveMethodRequest{Payer: p1, Bank: bankDetails(), Authorisation: ip})
	must(t, err)
	p1.Email = "jane.citizen@example.com"
	must(t, e.c.UpsertPayer(e.ctx, p1))
	card, err := e.c.SaveMethod(e.ctx, gateways.SaveMethodRequest{Payer: p2, Card: cardDetails(), Authorisation: ip})
	must(t, err)
	co, err := e.c.Charge(e.ctx, gateways.ChargeRequest{Reference: "SPGOLDEN0000000001", Method: card, PayerRef: card.Token,
		Amount: 3375, Currency: "AUD", Description: "Invoice 202611000123", CustomerIP: "203.0.113.7", Operator: "admin:jsmith"})
	must(t, err)
	_, err = e.c.Charge(e.ctx, gateways.ChargeRequest{Reference: "SPGOLDEN0000000002", Method: bank, PayerRef: bank.Token,
		Amount: 5000, Description: "Invoice 202611000124", DebitDate: time.Date(2026, 11, 4, 0, 0, 0, 0, integrapay.Sydney())})
	must(t, err)
	chs := e.changes()
	if len(chs) != 1 {
		t.Fatalf("changes = %+v", chs)
	}
	must(t, e.c.Ack(e.ctx, chs[0]))
	_, err = e.c.Refund(e.ctx, gateways.RefundRequest{Reference: "SPGOLDEN000000R001", Original: co, Method: card, PayerRef: card.Token, Amount: 1000, Reason: "Goodwill credit"})
	must(t, err)
	e.clk.Advance(4 * 24 * time.Hour)
	settled, ok := byRef(e.changes(), "SPGOLDEN0000000002")
	if !ok {
		t.Fatal("bank debit not settled")
	}
	_, err = e.c.Refund(e.ctx, gateways.RefundRequest{Reference: "SPGOLDEN000000R002", Original: settled.Outcome, Method: bank, PayerRef: bank.Token, Amount: 5000})
	must(t, err)
	must(t, e.c.SetPayerStatus(e.ctx, p1.Reference, "S"))
	must(t, e.c.RemoveMethod(e.ctx, card.Token, card))

	const biz = "/businesses/90129/"
	cases := []struct{ name, method, path string }{
		{"login", "POST", "/login"},
		{"create_payer", "POST", biz + "payers"},
		{"update_payer", "PUT", biz + "payers/SPLYNX-000101"},
		{"set_payer_status", "PUT", biz + "payers/SPLYNX-000101/status"},
		{"save_bank_account", "PUT", biz + "payers/SPLYNX-000101/accounts/bank-account"},
		{"tokenize_card", "POST", biz + "services/tokenize-card"},
		{"attach_card", "POST", biz + "payers/SPLYNX-000102/accounts/card/token"},
		{"charge_card", "POST", biz + "payers/SPLYNX-000102/transactions/card"},
		{"schedule_payment", "POST", biz + "payers/SPLYNX-000101/schedules/payments"},
		{"ack_status_change", "POST", biz + "transactions/new"},
		{"refund_card", "POST", biz + "transactions/card-payments/" + co.GatewayID + "/refunds"},
		{"refund_bank", "POST", biz + "transactions/bank-payments/" + settled.Outcome.GatewayID + "/refunds"},
		{"remove_method", "DELETE", biz + "payers/SPLYNX-000102/accounts"},
	}
	reqs := e.sim.Requests()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var body []byte
			for _, r := range reqs {
				if r.Method == tc.method && r.Path == tc.path {
					body = r.Body
					break
				}
			}
			if body == nil {
				t.Fatalf("no %s %s received", tc.method, tc.path)
			}
			var got bytes.Buffer
			if err := json.Indent(&got, body, "", "  "); err != nil {
				t.Fatalf("body is not JSON: %v", err)
			}
			got.WriteByte('\n')
			file := filepath.Join("testdata", "requests", tc.name+".json")
			if *update {
				must(t, os.MkdirAll(filepath.Dir(file), 0o755))
				must(t, os.WriteFile(file, got.Bytes(), 0o644))
			}
			want, err := os.ReadFile(file)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got.Bytes(), want) {
				t.Fatalf("%s body differs from %s\n got: %s\nwant: %s", tc.name, file, got.Bytes(), want)
			}
			// Indentation aside, the file is byte for byte what was sent.
			var compact bytes.Buffer
			must(t, json.Compact(&compact, want))
			if !bytes.Equal(compact.Bytes(), body) {
				t.Fatalf("sent %s, golden compacts to %s", body, compact.Bytes())
			}
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
