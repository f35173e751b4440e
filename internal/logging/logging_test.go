package logging

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/splynx-pay/splynx-pay/gateways"
)

type payer struct{ name, account string }

func (p payer) MarshalLogObject(e zapcore.ObjectEncoder) error {
	e.AddString("name", p.name)
	e.AddString("account_number", p.account)
	e.AddString("note", "paid from 062000123456789")
	return nil
}

type cardStringer struct{}

func (cardStringer) String() string { return "card 4111 1111 1111 1111" }

// A log line may carry any of these; none of the secrets may reach the
// output, while ids, dates and masks stay readable.
func TestRedaction(t *testing.T) {
	cases := []struct {
		name    string
		log     func(*zap.Logger)
		want    map[string]any // fields that must have exactly these values
		forbids []string
	}{
		{"secret keys", func(l *zap.Logger) {
			l.Info("login", zap.String("password", "hunter2"), zap.String("api_key", "K123"),
				zap.String("X-Api-Secret", "shh"), zap.String("accessToken", "tok"), zap.String("Authorization", "Splynx-EA (key=1)"),
				zap.String("card_mask", "Visa •••• 1111"), zap.Int64("invoice_id", 123456789))
		}, map[string]any{"password": Redacted, "api_key": Redacted, "X-Api-Secret": Redacted, "accessToken": Redacted,
			"Authorization": Redacted, "card_mask": "Visa •••• 1111", "invoice_id": float64(123456789)},
			[]string{"hunter2", "K123", "shh", `"tok"`, "Splynx-EA"}},
		{"card and bank numbers in strings", func(l *zap.Logger) {
			l.Info("charge 4111-1111-1111-1111 declined", zap.String("body", "<PAN>4111111111111111</PAN><ABA>021000021</ABA>"),
				zap.String("bsb", "062-000"), zap.String("when", "2026-11-02 09:00:00"))
		}, map[string]any{"msg": "charge •••• 1111 declined", "bsb": Redacted, "when": "2026-11-02 09:00:00",
			"body": "<PAN>•••• 1111</PAN><ABA>••••021</ABA>"},
			[]string{"4111111111111111", "4111-1111-1111-1111", "021000021", "062-000"}},
		{"errors and stringers", func(l *zap.Logger) {
			l.Error("gateway", zap.Error(errors.New("echo: account 123456789 rejected")), zap.Stringer("card", cardStringer{}),
				zap.Stringer("method", cardStringer{}))
		}, map[string]any{"error": "echo: account ••••789 rejected", "card": Redacted, "method": "card •••• 1111"},
			[]string{"123456789", "4111 1111"}},
		{"nested objects and maps", func(l *zap.Logger) {
			l.Info("payer", zap.Object("payer", payer{"Ann", "987654321"}),
				zap.Any("settings", map[string]any{"integrapay_password": "pw", "ippay_terminal_id": "TESTTERMINAL", "list": []string{"4111111111111111"}}))
		}, map[string]any{
			"payer":    map[string]any{"name": "Ann", "account_number": Redacted, "note": "paid from ••••789"},
			"settings": map[string]any{"integrapay_password": Redacted, "ippay_terminal_id": "TESTTERMINAL", "list": []any{"•••• 1111"}},
		}, []string{"987654321", `"pw"`, "4111111111111111", "062000123456789"}},
		{"card and bank structs logged by reflection", func(l *zap.Logger) {
			l.Info("save", zap.Any("req", struct {
				Card gateways.CardDetails
				Bank gateways.BankDetails
			}{gateways.CardDetails{Number: "4111111111111111", CVV: "737", ExpMonth: 12, ExpYear: 2030},
				gateways.BankDetails{Branch: "062-000", AccountNumber: "12345678", AccountName: "A Person"}}))
		}, map[string]any{"req": map[string]any{
			"Card": Redacted, // the key alone marks it
			"Bank": map[string]any{"Branch": "••••000", "AccountNumber": Redacted, "AccountName": "A Person", "AccountType": ""},
		}}, []string{"4111111111111111", "737", "12345678", "062-000"}},
		{"gateway ids stay readable", func(l *zap.Logger) {
			l.Info("charge sent", zap.String("transaction_id", "2272290"), zap.String("secondary_id", "213813"),
				zap.String("scheduled_payment_id", "2138130"), zap.String("gatewayId", "RT724943"),
				zap.String("reference", "SPKFHA3BSWNW66V2E7"), zap.String("receipt", "22722901"),
				zap.String("payment_id", "4111111111111111"), zap.String("account_number", "12345678"))
		}, map[string]any{"transaction_id": "2272290", "secondary_id": "213813", "scheduled_payment_id": "2138130",
			"gatewayId": "RT724943", "reference": "SPKFHA3BSWNW66V2E7", "receipt": "22722901",
			"payment_id": "•••• 1111", "account_number": Redacted}, []string{"4111111111111111", "12345678"}},
		{"fields bound with With", func(l *zap.Logger) {
			l.With(zap.String("token", "abc"), zap.String("customer", "Bob 5555555555554444")).Info("x")
		}, map[string]any{"token": Redacted, "customer": "Bob •••• 4444"}, []string{"abc", "5555555555554444"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			l, err := New("debug", &buf)
			if err != nil {
				t.Fatal(err)
			}
			tc.log(l)
			out := buf.String()
			for _, f := range tc.forbids {
				if strings.Contains(out, f) {
					t.Errorf("output contains %q:\n%s", f, out)
				}
			}
			var line map[string]any
			if err := json.Unmarshal([]byte(strings.TrimSpace(out)), &line); err != nil {
				t.Fatalf("not one JSON line: %v\n%s", err, out)
			}
			for k, v := range tc.want {
				if got, _ := json.Marshal(line[k]); string(got) != mustJSON(v) {
					t.Errorf("%s = %s, want %s", k, got, mustJSON(v))
				}
			}
		})
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestLevel(t *testing.T) {
	var buf bytes.Buffer
	l, err := New("warn", &buf)
	if err != nil {
		t.Fatal(err)
	}
	l.Info("hidden")
	l.Warn("shown")
	if strings.Contains(buf.String(), "hidden") || !strings.Contains(buf.String(), "shown") {
		t.Fatalf("level not applied: %s", buf.String())
	}
	if _, err := New("loud", &buf); err == nil {
		t.Fatal("bad level accepted")
	}
}

func TestSecretKey(t *testing.T) {
	for key, want := range map[string]bool{
		"password": true, "integrapay_password": true, "api_key": true, "X-Api-Key": true, "cardNumber": true,
		"cvv": true, "bsb": true, "aba": true, "routing_number": true, "account_number": true, "token": true,
		"card_mask": false, "company": false, "invoice_id": false, "reference": false, "account_id": false, "spanish": false,
	} {
		if got := SecretKey(key); got != want {
			t.Errorf("SecretKey(%q) = %v, want %v", key, got, want)
		}
	}
}
