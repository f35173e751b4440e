package integrapaysim_test

import (
	"net/http/httptest"
	"testing"

	"github.com/splynx-pay/splynx-pay/gateways/integrapay/integrapaysim"
)

// Real clients send references as numbers and expiry as numeric strings.
func TestFidelityNumbersAndNumericStrings(t *testing.T) {
	r := newRig(t)
	st, body := r.api("POST", "payers", `{"UniqueReference": 73320, "GroupReference": 7, "FamilyOrBusinessName": "Beast", "GivenName": "Tofu", "Email": "t@example.com"}`)
	if st != 200 || body["uniqueReference"] != "73320" || body["groupReference"] != "7" {
		t.Fatalf("numeric references: %d %v", st, body)
	}
	if st, body := r.api("GET", "payers/73320", ""); st != 200 || body["familyOrBusinessName"] != "Beast" {
		t.Fatalf("get: %d %v", st, body)
	}
	st, body = r.api("POST", "services/tokenize-card", `{"Card": {"CardNumber": "4111111111111111", "CardholderName": "Tofu Beast", "ExpiryYear": "2029", "ExpiryMonth": "07"}}`)
	if st != 200 || body["token"] == nil {
		t.Fatalf("numeric-string expiry: %d %v", st, body)
	}
	if st, body := r.api("PUT", "payers/73320/accounts/card", `{"CardNumber": "4111111111111111", "CardholderName": "T", "ExpiryYear": "twenty", "ExpiryMonth": 7}`); st != 400 {
		t.Errorf("non-numeric expiry accepted: %d %v", st, body)
	}
	if st, body := r.api("POST", "payers", `{"UniqueReference": {"x": 1}, "FamilyOrBusinessName": "B"}`); st != 400 {
		t.Errorf("object reference accepted: %d %v", st, body)
	}
}

// POST transactions/card-payments/token (spec §6.2): anonymous, linked to
// an existing payer, and saving a new payer.
func TestFidelityCardPaymentWithToken(t *testing.T) {
	r := newRig(t)
	_, tk := r.api("POST", "services/tokenize-card", `{"Card": {"CardNumber": "4111111111111111", "CardholderName": "Tofu Beast", "ExpiryYear": 2029, "ExpiryMonth": 7}}`)
	tok, _ := tk["token"].(string)
	pay := func(ref, payer string) (int, map[string]any) {
		body := `{"ProcessType": "COMPLETE", "Reference": "` + ref + `", "Description": "Invoice", "Amount": 12.50, "CurrencyCode": "AUD", "CardToken": "` + tok + `"`
		if payer != "" {
			body += `, "Payer": ` + payer
		}
		return r.api("POST", "transactions/card-payments/token", body+`, "Audit": {"Username": "t", "UserIP": "1.2.3.4"}}`)
	}
	st, body := pay("TOK-1", "")
	if st != 200 || body["statusCode"] != "S" || body["processedAmount"] != 12.5 {
		t.Fatalf("anonymous: %d %v", st, body)
	}
	st, body = pay("TOK-2", `{"uniqueReference": 9001, "familyOrBusinessName": "Beast", "givenName": "Tofu", "savePayer": true}`)
	if st != 200 || body["statusCode"] != "S" {
		t.Fatalf("save payer: %d %v", st, body)
	}
	if _, ok := r.sim.Payer("9001"); !ok {
		t.Error("savePayer created no payer")
	}
	if st, acc := r.api("GET", "payers/9001/accounts", ""); st != 200 || acc["card"] == nil {
		t.Errorf("saved payer has no card: %d %v", st, acc)
	}
	if st, body := pay("TOK-2", ""); st != 409 || body["errorCode"] != "DuplicateTransaction" {
		t.Errorf("duplicate reference: %d %v", st, body)
	}
	if st, _ := r.api("POST", "transactions/card-payments/token", `{"ProcessType": "COMPLETE", "Reference": "TOK-3", "Amount": 1, "CardToken": "nope"}`); st != 400 {
		t.Errorf("unknown token: %d", st)
	}
	var refs []string
	for _, e := range r.sim.Ledger() {
		refs = append(refs, e.Reference+"/"+e.PayerRef+"/"+e.Status)
	}
	if len(refs) != 2 || refs[0] != "TOK-1//S" || refs[1] != "TOK-2/9001/S" {
		t.Errorf("ledger %v", refs)
	}
}

// A missing payer: 404 InvalidPayer by default, 200 {} with the option.
func TestFidelityMissingPayer(t *testing.T) {
	r := newRig(t)
	if st, body := r.api("GET", "payers/nobody", ""); st != 404 || body["errorCode"] != "InvalidPayer" {
		t.Errorf("default: %d %v", st, body)
	}
	sim := integrapaysim.New(integrapaysim.Options{Fidelity: integrapaysim.Fidelity{MissingPayerEmpty: true}})
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	e := &rig{t: t, sim: sim, srv: srv}
	e.login()
	for _, c := range []struct{ method, path string }{{"GET", "payers/nobody"}, {"PUT", "payers/nobody"}, {"GET", "payers/nobody/accounts"}} {
		if st, body := e.api(c.method, c.path, `{"FamilyOrBusinessName": "X"}`); st != 200 || len(body) != 0 {
			t.Errorf("empty mode %s %s: %d %v", c.method, c.path, st, body)
		}
	}
	if _, ok := sim.Payer("nobody"); ok {
		t.Error("PUT on a missing payer created it")
	}
}
