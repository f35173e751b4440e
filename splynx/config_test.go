package splynx

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseModuleConfigShapes(t *testing.T) {
	cases := []struct {
		name    string
		answer  string
		partner int64
		want    map[string]string
	}{
		{"flat", `{"currency":"AUD","payment_method_card":3,"auto_charge":true,"dishonour_fee":"2.50","splynx_url":null}`, 0,
			map[string]string{"currency": "AUD", "payment_method_card": "3", "auto_charge": "1", "dishonour_fee": "2.50", "splynx_url": ""}},
		{"ini sections, default partner", `{"common":{"currency":"AUD","retry_days":"3,7"},"default_partners_settings":{"payment_method_card":"3"},"2":{"payment_method_card":"7"}}`, 0,
			map[string]string{"currency": "AUD", "retry_days": "3,7", "payment_method_card": "3"}},
		{"ini sections, partner override", `{"common":{"currency":"AUD"},"default_partners_settings":{"payment_method_card":"3","fee":"1"},"2":{"payment_method_card":"7"},"5":{"fee":"9"}}`, 2,
			map[string]string{"currency": "AUD", "payment_method_card": "7", "fee": "1"}},
		{"partners wrapped", `{"api":{"api_key":"x"},"per_partner_options":{"default":{"payment_method_bank":"2"},"4":{"payment_method_bank":"8"}}}`, 4,
			map[string]string{"api_key": "x", "payment_method_bank": "8"}},
		{"key value list", `[{"key":"currency","value":"USD"},{"key":"max_attempts","value":3},{"key":"auto_charge","value":false}]`, 0,
			map[string]string{"currency": "USD", "max_attempts": "3", "auto_charge": "0"}},
		{"key value list per partner", `[{"key":"pm","value":"3","partner_id":"0"},{"key":"pm","value":"9","partner_id":"6"},{"key":"cur","value":"AUD"},{"key":"pm","value":"1","partner_id":"7"}]`, 6,
			map[string]string{"pm": "9", "cur": "AUD"}},
		{"name value list", `[{"name":"currency","value":"AUD"}]`, 0, map[string]string{"currency": "AUD"}},
		{"list value kept as JSON", `{"retry":[3,7],"common":{"x":"1"}}`, 0, map[string]string{"retry": "[3,7]", "x": "1"}},
		{"empty object", `{}`, 0, map[string]string{}},
		{"empty list", `[]`, 0, map[string]string{}},
		{"null", `null`, 0, map[string]string{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseModuleConfig([]byte(tc.answer), tc.partner)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %v\nwant %v", got, tc.want)
			}
		})
	}
	for _, bad := range []string{`"text"`, `12`, `[1,2]`, `{"a":}`} {
		if _, err := parseModuleConfig([]byte(bad), 0); err == nil {
			t.Errorf("%s: want an error", bad)
		}
	}
}

func TestAPIErrorShapes(t *testing.T) {
	cases := []struct {
		name   string
		status int
		body   string
		want   APIError
		text   string
	}{
		{"splynx error", 404, `{"error":{"message":"Not found","code":404,"internal_code":"NOT_FOUND"}}`,
			APIError{Status: 404, Code: 404, InternalCode: "NOT_FOUND", Message: "Not found"},
			"GET admin/x: 404 NOT_FOUND: Not found"},
		{"yii list", 422, `[{"field":"customer_id","message":"Customer is invalid."},{"field":"amount","message":"Amount must be a number."}]`,
			APIError{Status: 422, Fields: []FieldError{{"customer_id", "Customer is invalid."}, {"amount", "Amount must be a number."}}},
			"GET admin/x: 422 (customer_id: Customer is invalid.; amount: Amount must be a number.)"},
		{"field object", 422, `{"amount":["Amount is required.","Amount must be positive."],"date":"Bad date"}`,
			APIError{Status: 422, Fields: []FieldError{{"amount", "Amount is required."}, {"amount", "Amount must be positive."}, {"date", "Bad date"}}},
			"GET admin/x: 422 (amount: Amount is required.; amount: Amount must be positive.; date: Bad date)"},
		{"string list", 422, `["Something is wrong"]`,
			APIError{Status: 422, Fields: []FieldError{{"", "Something is wrong"}}}, "GET admin/x: 422 (Something is wrong)"},
		{"error string", 400, `{"error":"Bad request"}`, APIError{Status: 400, Message: "Bad request"}, "GET admin/x: 400: Bad request"},
		{"yii exception", 500, `{"name":"Exception","message":"Boom","code":0,"status":500}`,
			APIError{Status: 500, Message: "Boom"}, "GET admin/x: 500: Boom"},
		{"plain text", 502, "<html>\n<h1>Bad   gateway</h1></html>", APIError{Status: 502}, "GET admin/x: 502: <html> <h1>Bad gateway</h1></html>"},
		{"empty", 503, "", APIError{Status: 503}, "GET admin/x: 503"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := newAPIError("GET", "admin/x", tc.status, []byte(tc.body))
			tc.want.Method, tc.want.Path, tc.want.Body = "GET", "admin/x", tc.body
			if !reflect.DeepEqual(*got, tc.want) {
				t.Errorf("got  %#v\nwant %#v", *got, tc.want)
			}
			if got.Error() != tc.text {
				t.Errorf("text %q\nwant %q", got.Error(), tc.text)
			}
		})
	}
}

func TestScrubSecrets(t *testing.T) {
	in := `{"access_token":"abcd1234","refresh_token":"zz\"yy","password":"hunter22","login":"bob","nested":{"secret":"s3"}} ` +
		`Authorization: Splynx-EA (access_token=tok123) key=k1&nonce=5&signature=ABCDEF`
	got := scrubText(in)
	for _, leak := range []string{"abcd1234", `zz\"yy`, "hunter22", `"s3"`, "tok123", "ABCDEF", "key=k1"} {
		if strings.Contains(got, leak) {
			t.Errorf("%q survived scrubbing: %s", leak, got)
		}
	}
	if !strings.Contains(got, `"login":"bob"`) || !strings.Contains(got, "nonce=5") {
		t.Errorf("scrubbing removed harmless text: %s", got)
	}
	e := newAPIError("POST", "admin/auth/tokens", 401, []byte(`{"error":{"message":"Bad password hunter22 for {\"password\":\"hunter22\"}","code":401,"internal_code":"INVALID_USER"}}`))
	if strings.Contains(e.Body, `"password":"hunter22"`) {
		t.Errorf("body keeps the password: %s", e.Body)
	}
}
