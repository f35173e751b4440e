package config

import (
	"strings"
	"testing"
)

// fuzzKeys are the module keys a fuzzed value goes to (by index).
var fuzzKeys = []string{"payment_method_card", "currency", "customer_identifier", "auto_charge", "retry_days",
	"max_attempts", "charge_concurrency", "service_fee_percent", "refund_mode", "dishonour_fee", "splynx_url",
	"integrapay_environment", "integrapay_api_url", "backup_keep", "ippay_ach_settle_days", "ippay_ach_sec"}

// FuzzModuleConfig: module config values come from whoever can edit the
// module in Splynx. Any value parses or fails with a config error, never a
// panic; a valid result validates without panicking; and the secret never
// shows in an error, the config dump or the redacted entries.
// Seeds: testdata/fuzz/FuzzModuleConfig.
func FuzzModuleConfig(f *testing.F) {
	f.Fuzz(func(t *testing.T, idx uint8, value, secret string) {
		key := fuzzKeys[int(idx)%len(fuzzKeys)]
		module := map[string]string{key: value, "integrapay_password": secret, "integrapay_username": "u", "integrapay_business_id": "1"}
		// The same config with another secret is the control: text that
		// shows the secret's characters there too (a default of 1000.00
		// holding the secret 000.00, a quoted value) is no leak.
		controlModule := map[string]string{key: value, "integrapay_password": "control-secret-value", "integrapay_username": "u", "integrapay_business_id": "1"}
		for _, k := range []Addon{IntegraPay, IPpay} {
			s, err := ParseSettingsFor(k, module, nil)
			cs, cerr := ParseSettingsFor(k, controlModule, nil)
			leak := len(strings.TrimSpace(secret)) >= 6 && !strings.Contains(value, strings.TrimSpace(secret))
			if err != nil {
				if leak && strings.Contains(err.Error(), strings.TrimSpace(secret)) && (cerr == nil || cerr.Error() != err.Error()) {
					t.Fatalf("error shows the secret: %v", err)
				}
				continue
			}
			_ = s.Validate()
			control := map[string]string{}
			if cerr == nil {
				for _, e := range cs.Redacted() {
					control[e.Name] = e.Value
				}
			}
			for _, e := range s.Redacted() {
				if leak && strings.Contains(e.Value, strings.TrimSpace(secret)) && control[e.Name] != e.Value {
					t.Fatalf("redacted entry %s shows the secret: %q", e.Name, e.Value)
				}
			}
		}
	})
}
