package wire_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/splynx-pay/splynx-pay/internal/config"
	"github.com/splynx-pay/splynx-pay/internal/wire"
	"github.com/splynx-pay/splynx-pay/sync/charge"
)

// businessValues holds, for every setting the engine acts on, a valid value
// other than the default. notPolicy lists the settings the engine must not
// see. A new setting goes in one of the two or this test fails.
var (
	businessValues = map[string]string{
		"payment_method_card": "7", "payment_method_bank": "8", "currency": "USD", "customer_identifier": "login",
		"auto_charge": "1", "charge_blocked_customers": "1", "charge_disabled_customers": "1",
		"autopay_attribute": "pay_auto", "retry_days": "2,5,9", "max_attempts": "5", "charge_concurrency": "3",
		"gateway_rate_limit": "20", "service_fee_percent": "1.5", "fee_vat_percent": "10",
		"fee_transaction_category": "4", "add_fee_to_request": "1", "payment_statements": "1",
		"payment_statement_grouping": "day", "refund_mode": "negative", "dishonour_fee": "9.90",
		"review_unknown_after_days": "5", "late_settlement": "refund", "auto_charge_max_age_days": "30",
		"auto_charge_due_reached": "1", "payment_account_id": "12",
	}
	notPolicy = []string{"splynx_url", "integrapay_", "ippay_",
		// the pages' own settings (customer sessions, refills, direct
		// links, metrics): web reads them, the engine does not
		"portal_", "refill_", "direct_pay_", "metrics_token", "card_entry",
		// the mirror's own settings (Splynx request pressure, history window)
		"splynx_max_concurrent_requests", "splynx_requests_per_second", "mirror_history_months",
		// the daemon's own housekeeping
		"backup_keep", "charge_run_lines_keep_days"}
)

func policyFor(t *testing.T, k config.Addon, module map[string]string) charge.Policy {
	t.Helper()
	s, err := config.ParseSettingsFor(k, module, nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := wire.ChargePolicy(s)
	if err != nil {
		t.Fatalf("%s defaults %v: %v", k, module, err)
	}
	return p
}

// Every field of the policy comes from a setting, every business setting
// reaches the policy, and no credential does.
func TestChargePolicyCoversEveryBusinessSetting(t *testing.T) {
	base := policyFor(t, config.IntegraPay, nil)
	pt := reflect.TypeOf(base)
	covered := map[string]string{}
	for _, sp := range config.SpecsFor("") {
		val, business := businessValues[sp.Key]
		if !business {
			if !hasAnyPrefix(sp.Key, notPolicy) {
				t.Errorf("setting %s is neither mapped into charge.Policy nor listed as none of the engine's business", sp.Key)
			}
			continue
		}
		p := policyFor(t, config.IntegraPay, map[string]string{sp.Key: val})
		changed := 0
		for i := 0; i < pt.NumField(); i++ {
			if !reflect.DeepEqual(reflect.ValueOf(p).Field(i).Interface(), reflect.ValueOf(base).Field(i).Interface()) {
				changed++
				covered[pt.Field(i).Name] = sp.Key
			}
		}
		if changed != 1 {
			t.Errorf("setting %s=%s changed %d policy fields, want 1", sp.Key, val, changed)
		}
	}
	for i := 0; i < pt.NumField(); i++ {
		if _, ok := covered[pt.Field(i).Name]; !ok {
			t.Errorf("charge.Policy.%s is set by no setting", pt.Field(i).Name)
		}
	}
	if len(covered) != len(businessValues) {
		t.Errorf("%d policy fields covered by %d business settings", len(covered), len(businessValues))
	}
}

// The currency is the add-on's own default, not a fallback of the engine's.
func TestChargePolicyCurrencyPerAddon(t *testing.T) {
	if c := policyFor(t, config.IPpay, nil).Currency; c != "USD" {
		t.Errorf("ippay currency %q, want USD", c)
	}
	if c := policyFor(t, config.IntegraPay, nil).Currency; c != "AUD" {
		t.Errorf("integrapay currency %q, want AUD", c)
	}
}

func TestChargePolicyRejectsInvalid(t *testing.T) {
	good, err := config.ParseSettingsFor(config.IPpay, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		key string
		mod func(*config.Settings)
	}{
		{"currency", func(s *config.Settings) { s.Currency = "" }},
		{"currency", func(s *config.Settings) { s.Currency = "EUR" }},
		{"customer_identifier", func(s *config.Settings) { s.CustomerIdentifier = "email" }},
		{"autopay_attribute", func(s *config.Settings) { s.AutopayAttribute = "" }},
		{"retry_days", func(s *config.Settings) { s.RetryDays = nil }},
		{"retry_days", func(s *config.Settings) { s.RetryDays = []int{0, 3} }},
		{"max_attempts", func(s *config.Settings) { s.MaxAttempts = 0 }},
		{"charge_concurrency", func(s *config.Settings) { s.ChargeConcurrency = 0 }},
		{"gateway_rate_limit", func(s *config.Settings) { s.GatewayRateLimit = -1 }},
		{"service_fee_percent", func(s *config.Settings) { s.ServiceFeePercent = -5 }},
		{"dishonour_fee", func(s *config.Settings) { s.DishonourFee = -1 }},
		{"payment_statement_grouping", func(s *config.Settings) { s.PaymentStatementGrouping = "" }},
		{"refund_mode", func(s *config.Settings) { s.RefundMode = "" }},
		{"review_unknown_after_days", func(s *config.Settings) { s.ReviewUnknownAfterDays = 0 }},
		{"late_settlement", func(s *config.Settings) { s.LateSettlement = "keep" }},
		{"auto_charge_max_age_days", func(s *config.Settings) { s.AutoChargeMaxAgeDays = -1 }},
	}
	for _, c := range cases {
		s := good
		s.RetryDays = append([]int(nil), good.RetryDays...)
		c.mod(&s)
		if _, err := wire.ChargePolicy(s); err == nil || !strings.Contains(err.Error(), c.key) {
			t.Errorf("%s: error %v, want one naming %s", c.key, err, c.key)
		}
	}
	if _, err := wire.ChargePolicy(config.Settings{}); err == nil {
		t.Error("empty settings (no defaults applied) mapped without an error")
	}
}

func hasAnyPrefix(key string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(key, p) {
			return true
		}
	}
	return false
}
