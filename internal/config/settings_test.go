package config

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseSettingsSourcesAndDefaults(t *testing.T) {
	module := map[string]string{
		"payment_method_card":    "3",
		"payment_method_bank":    "2",
		"integrapay_username":    "api-user",
		"integrapay_password":    "hunter2-pw",
		"integrapay_business_id": "10001",
		"service_fee_percent":    "1.5",
		"retry_days":             "2, 5,9",
		"api_key":                "ignored: Splynx keeps it here",
		"ippay_terminal_id":      "ignored for integrapay",
	}
	env := map[string]string{
		"SPLYNXPAY_SETTING_AUTO_CHARGE":            "1",
		"SPLYNXPAY_SETTING_INTEGRAPAY_ENVIRONMENT": "production",
		"PATH": "/usr/bin",
	}
	s, err := ParseSettingsFor(IntegraPay, module, env)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name     string
		got, exp any
	}{
		{"card method", s.PaymentMethodCard, int64(3)},
		{"currency default", s.Currency, "AUD"},
		{"auto charge from env", s.AutoCharge, true},
		{"fee", s.ServiceFeePercent, int64(150)},
		{"retry days", s.RetryDays, []int{2, 5, 9}},
		{"max attempts", s.MaxAttempts, 3},
		{"auth url from environment", s.IntegraPayAuthURL, "https://auth.paymentsapi.io"},
		{"api url from environment", s.IntegraPayAPIURL, "https://rest.paymentsapi.io"},
		{"ippay key ignored", s.IPpayTerminalID, ""},
		{"source splynx", s.Source["integrapay_username"], SourceSplynx},
		{"source env", s.Source["auto_charge"], SourceEnv},
		{"source default", s.Source["max_attempts"], SourceDefault},
		{"no ippay keys", s.Source["ippay_terminal_id"], ""},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.exp) {
			t.Errorf("%s: got %#v, want %#v", c.name, c.got, c.exp)
		}
	}
	for _, e := range s.Redacted() {
		if strings.Contains(e.Value, "hunter2") {
			t.Fatalf("redacted dump shows the password: %+v", e)
		}
		if e.Name == "integrapay_password" && e.Value != Redacted {
			t.Fatalf("password entry = %+v", e)
		}
	}
}

func TestParseSettingsIPpayDefaults(t *testing.T) {
	s, err := ParseSettingsFor(IPpay, map[string]string{"ippay_terminal_id": "TESTTERMINAL", "payment_method_card": "3"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.Currency != "USD" || s.IPpayURL != "https://testgtwy.ippay.com/ippay" || s.IPpayACHSEC != "WEB" || s.IPpayACHSettleDays != 5 {
		t.Fatalf("ippay defaults: %+v", s)
	}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestParseSettingsErrors(t *testing.T) {
	cases := []struct {
		name   string
		kind   Addon
		module map[string]string
		env    map[string]string
		want   string
	}{
		{"bad flag", IntegraPay, map[string]string{"auto_charge": "maybe"}, nil,
			`config: auto_charge="maybe": want 0 or 1`},
		{"bad flag from env names the variable", IntegraPay, nil, map[string]string{"SPLYNXPAY_SETTING_AUTO_CHARGE": "2"},
			`config: SPLYNXPAY_SETTING_AUTO_CHARGE="2": want 0 or 1`},
		{"bad method id", IntegraPay, map[string]string{"payment_method_card": "card"}, nil,
			`config: payment_method_card="card": want a whole number ≥ 0`},
		{"bad retry days", IPpay, map[string]string{"retry_days": "7,3"}, nil,
			`config: retry_days="7,3": want increasing day counts from 1 to 90, e.g. 3,7`},
		{"fee over 100", IPpay, map[string]string{"service_fee_percent": "150"}, nil,
			`config: service_fee_percent="150": want a percentage from 0 to 100, e.g. 1.5`},
		{"bad environment", IntegraPay, map[string]string{"integrapay_environment": "live"}, nil,
			`config: integrapay_environment="live": want sandbox or production`},
		{"bad override url", IPpay, map[string]string{"ippay_url": "gtwy.ippay.com"}, nil,
			`config: ippay_url="gtwy.ippay.com": want an http:// or https:// URL`},
		{"bad dishonour fee", IPpay, map[string]string{"dishonour_fee": "five"}, nil,
			`config: dishonour_fee="five": want an amount such as 5.00`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseSettingsFor(tc.kind, tc.module, tc.env)
			if err == nil || err.Error() != tc.want {
				t.Fatalf("got  %v\nwant %s", err, tc.want)
			}
		})
	}
}

func TestSettingsValidateMissingCredentials(t *testing.T) {
	cases := []struct {
		name   string
		kind   Addon
		module map[string]string
		want   string
	}{
		{"integrapay username", IntegraPay, map[string]string{"payment_method_card": "3"},
			"config: integrapay_username: not set; the IntegraPay API username (Splynx: Config → Integrations → Modules list → Edit, or SPLYNXPAY_SETTING_INTEGRAPAY_USERNAME)"},
		{"integrapay password", IntegraPay, map[string]string{"payment_method_card": "3", "integrapay_username": "u"},
			"config: integrapay_password: not set; the IntegraPay API password (Splynx: Config → Integrations → Modules list → Edit, or SPLYNXPAY_SETTING_INTEGRAPAY_PASSWORD)"},
		{"ippay terminal", IPpay, map[string]string{"payment_method_card": "3"},
			"config: ippay_terminal_id: not set; the IPpay terminal id (Splynx: Config → Integrations → Modules list → Edit, or SPLYNXPAY_SETTING_IPPAY_TERMINAL_ID)"},
		{"payment method", IPpay, map[string]string{"ippay_terminal_id": "T"},
			"config: payment_method_card: not set; the Splynx payment method id (Config → Finance → Payment methods) that card payments are recorded under"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := ParseSettingsFor(tc.kind, tc.module, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Validate(); err == nil || err.Error() != tc.want {
				t.Fatalf("got  %v\nwant %s", err, tc.want)
			}
		})
	}
}

func TestChanged(t *testing.T) {
	a, _ := ParseSettingsFor(IPpay, map[string]string{"max_attempts": "3"}, nil)
	b, _ := ParseSettingsFor(IPpay, map[string]string{"max_attempts": "4", "ippay_terminal_id": "T"}, nil)
	if got := Changed(a, b); !reflect.DeepEqual(got, []string{"ippay_terminal_id", "max_attempts"}) {
		t.Fatalf("Changed = %v", got)
	}
	if got := Changed(b, b); len(got) != 0 {
		t.Fatalf("Changed(b, b) = %v", got)
	}
}
