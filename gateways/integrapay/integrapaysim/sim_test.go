package integrapaysim_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/splynx-pay/splynx-pay/gateways/integrapay/integrapaysim"
)

type rig struct {
	t   *testing.T
	sim *integrapaysim.Sim
	srv *httptest.Server
	tok string
}

// newRig serves the inferred paths too (most tests here exercise them);
// newStrictRig serves only what the spec confirms.
func newRig(t *testing.T) *rig {
	return newRigWith(t, integrapaysim.Options{Inferred: true})
}

func newStrictRig(t *testing.T) *rig {
	return newRigWith(t, integrapaysim.Options{})
}

func newRigWith(t *testing.T, o integrapaysim.Options) *rig {
	sim := integrapaysim.New(o)
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	r := &rig{t: t, sim: sim, srv: srv}
	r.login()
	return r
}

func (r *rig) login() {
	r.t.Helper()
	status, body := r.do("POST", "/login", `{"username":"splynx-sim","password":"sim-password-0001"}`, "")
	if status != 200 {
		r.t.Fatalf("login: %d %v", status, body)
	}
	r.tok = body["access_token"].(string)
}

// at moves the clock and logs in again (tokens live an hour).
func (r *rig) at(t time.Time) {
	r.sim.Clock().Set(t)
	r.login()
}

// do sends a request and decodes a JSON object answer (nil for arrays).
func (r *rig) do(method, path, body, tok string) (int, map[string]any) {
	r.t.Helper()
	req, _ := http.NewRequest(method, r.srv.URL+path, strings.NewReader(body))
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return resp.StatusCode, out
}

func (r *rig) api(method, rel, body string) (int, map[string]any) {
	r.t.Helper()
	return r.do(method, "/businesses/90129/"+rel, body, r.tok)
}

func (r *rig) list(rel string) []map[string]any {
	r.t.Helper()
	req, _ := http.NewRequest("GET", r.srv.URL+"/businesses/90129/"+rel, nil)
	req.Header.Set("Authorization", "Bearer "+r.tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out []map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		r.t.Fatalf("GET %s: %v", rel, err)
	}
	return out
}

func TestAuthAndErrors(t *testing.T) {
	r := newRig(t)
	cases := []struct {
		name, method, path, body, tok string
		status                        int
		code, detail                  string
	}{
		{"missing password", "POST", "/login", `{"Username":"splynx-sim"}`, "", 400, "BadRequest", "Password"},
		{"wrong password", "POST", "/login", `{"Username":"splynx-sim","Password":"nope-nope-nope"}`, "", 401, "Unauthorized", ""},
		{"no bearer", "GET", "/businesses/90129/payers/C1", "", "", 401, "Unauthorized", ""},
		{"unknown token", "GET", "/businesses/90129/payers/C1", "", "forged", 401, "InvalidApiToken", ""},
		{"other business", "GET", "/businesses/90024/payers/C1", "", r.tok, 403, "InvalidBusiness", "BusinessId"},
		{"unknown payer", "GET", "/businesses/90129/payers/C1", "", r.tok, 404, "InvalidPayer", "UniqueReference"},
		{"unknown path", "GET", "/businesses/90129/nothing", "", r.tok, 404, "NotFound", "nothing"},
		{"payer without name", "POST", "/businesses/90129/payers", `{"UniqueReference":"C1"}`, r.tok, 400, "BadRequest", "FamilyOrBusinessName"},
		{"not json", "POST", "/businesses/90129/payers", `{`, r.tok, 400, "BadRequest", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, body := r.do(tc.method, tc.path, tc.body, tc.tok)
			if status != tc.status || body["errorCode"] != tc.code || body["errorDetail"] != tc.detail || body["errorMessage"] == "" {
				t.Fatalf("got %d %v", status, body)
			}
		})
	}
	// A numeric username is accepted, as one plugin sends it.
	r.sim.AddCredentials("2232", "numeric-user-pass", "2232")
	if status, _ := r.do("POST", "/login", `{"Username":2232,"Password":"numeric-user-pass"}`, ""); status != 200 {
		t.Fatalf("numeric username: %d", status)
	}
	// Tokens expire on the simulator's clock.
	r.sim.Clock().Advance(time.Hour)
	if status, body := r.api("GET", "payers/C1", ""); status != 401 || body["errorCode"] != "InvalidApiToken" {
		t.Fatalf("expired token: %d %v", status, body)
	}
}

func TestCaseInsensitiveKeysAndCamelCaseAnswers(t *testing.T) {
	for _, keys := range []string{
		`{"UniqueReference":"C1","FamilyOrBusinessName":"Citizen","GivenName":"Jane","Address":{"Line1":"1 Test St","Suburb":"Testville"}}`,
		`{"uniqueReference":"C1","familyOrBusinessName":"Citizen","givenName":"Jane","address":{"line1":"1 Test St","suburb":"Testville"}}`,
	} {
		r := newRig(t)
		if status, body := r.api("POST", "payers", keys); status != 200 || body["uniqueReference"] != "C1" || body["statusCode"] != "A" {
			t.Fatalf("create: %d %v", status, body)
		}
		status, body := r.api("GET", "payers/C1", "")
		addr, _ := body["address"].(map[string]any)
		if status != 200 || body["familyOrBusinessName"] != "Citizen" || body["givenName"] != "Jane" || addr["suburb"] != "Testville" {
			t.Fatalf("get: %d %v", status, body)
		}
		if status, body := r.api("POST", "payers", keys); status != 409 || body["errorCode"] != "DuplicatePayer" {
			t.Fatalf("duplicate: %d %v", status, body)
		}
		if status, _ := r.api("PUT", "payers/C1/accounts/bank-account", `{"accountBranch":"062000","accountNumber":"12345678","accountName":"J CITIZEN"}`); status != 200 {
			t.Fatalf("camelCase bank account: %d", status)
		}
		if v, _ := r.sim.Payer("C1"); v.Method != "bank" || v.AccountType != "CHEQUE" {
			t.Fatalf("payer %+v", v)
		}
	}
}

func TestSchedulesDebitRunsAndFeed(t *testing.T) {
	r := newRig(t) // Monday 2026-11-02 20:00 Sydney
	r.api("POST", "payers", `{"UniqueReference":"C1","FamilyOrBusinessName":"Citizen"}`)
	r.api("PUT", "payers/C1/accounts/bank-account", `{"AccountBranch":"062000","AccountNumber":"12345678","AccountName":"J CITIZEN","AccountType":"SAVINGS"}`)
	cases := []struct {
		name, body string
		status     int
		code       string
	}{
		{"past date", `{"Date":"2026-11-01","Amount":10.00,"Reference":"A"}`, 400, "BadRequest"},
		{"three decimals", `{"Date":"2026-11-02","Amount":10.005,"Reference":"A"}`, 400, "BadRequest"},
		{"no date", `{"Amount":10.00,"Reference":"A"}`, 400, "BadRequest"},
		{"saturday", `{"Date":"2026-11-07","Amount":10.00,"Reference":"SAT"}`, 200, ""},
		{"reused reference", `{"Date":"2026-11-09","Amount":10.00,"Reference":"SAT"}`, 409, "DuplicateTransaction"},
		{"cancel me", `{"Date":"2026-11-09","Amount":11.00,"Reference":"DEL"}`, 200, ""},
	}
	ids := map[string]string{}
	for _, tc := range cases {
		status, body := r.api("POST", "payers/C1/schedules/payments", tc.body)
		if status != tc.status || (tc.code != "" && body["errorCode"] != tc.code) {
			t.Fatalf("%s: %d %v", tc.name, status, body)
		}
		if status == 200 {
			ids[tc.name], _ = body["scheduledPaymentId"].(string)
		}
	}
	if got := r.list("payers/C1/schedules/payments?reference=DEL"); len(got) != 1 || got[0]["scheduledPaymentId"] != ids["cancel me"] {
		t.Fatalf("schedule lookup: %v", got)
	}
	if status, _ := r.api("DELETE", "payers/C1/schedules/payments/"+ids["cancel me"], ""); status != 200 {
		t.Fatal("delete")
	}
	// Saturday's payment is taken by Monday's run, settled on Wednesday.
	r.at(time.Date(2026, 11, 8, 12, 0, 0, 0, time.UTC)) // Sunday 23:00 Sydney
	if feed := r.list("transactions/new"); len(feed) != 0 {
		t.Fatalf("feed on Sunday: %v", feed)
	}
	r.at(time.Date(2026, 11, 8, 14, 0, 0, 0, time.UTC)) // Monday 01:00 Sydney
	feed := r.list("transactions/new")
	if len(feed) != 1 || feed[0]["statusCode"] != "P" || feed[0]["reference"] != "SAT" || feed[0]["type"] != "PDB" {
		t.Fatalf("feed on Monday: %v", feed)
	}
	id := feed[0]["transactionId"].(string)
	// Acknowledging a status the transaction never had is refused.
	if status, _ := r.api("POST", "transactions/new", `{"TransactionId":"`+id+`","StatusCode":"S"}`); status != 400 {
		t.Fatalf("ack of a future status: %d", status)
	}
	r.at(time.Date(2026, 11, 10, 14, 0, 0, 0, time.UTC)) // Wednesday 01:00 Sydney
	// Acknowledging the old P does not hide the new S.
	r.api("POST", "transactions/new", `{"transactionId":`+id+`,"statusCode":"P"}`)
	feed = r.list("transactions/new")
	if len(feed) != 1 || feed[0]["statusCode"] != "S" {
		t.Fatalf("feed on Wednesday: %v", feed)
	}
	r.api("POST", "transactions/new", `{"TransactionId":"`+id+`","StatusCode":"S"}`)
	if feed := r.list("transactions/new"); len(feed) != 0 {
		t.Fatalf("feed after ack: %v", feed)
	}
	var statuses []string
	for _, e := range r.sim.Ledger() {
		statuses = append(statuses, e.Reference+":"+e.Status)
	}
	if strings.Join(statuses, ",") != "SAT:S" {
		t.Fatalf("ledger %v (the cancelled payment must be gone)", statuses)
	}
}

func TestFaultsCountAndMatchPatterns(t *testing.T) {
	r := newRig(t)
	r.sim.SetFault("payers/*", integrapaysim.Fault{Method: "GET", Status: 503, Times: 2})
	for i, want := range []int{503, 503, 404} {
		if status, _ := r.api("GET", "payers/C"+string(rune('1'+i)), ""); status != want {
			t.Fatalf("request %d: %d, want %d", i, status, want)
		}
	}
	r.sim.SetFault("login", integrapaysim.Fault{Status: 429, Times: 1})
	if status, body := r.do("POST", "/login", `{"Username":"splynx-sim","Password":"sim-password-0001"}`, ""); status != 429 || body["errorCode"] != "TooManyRequests" {
		t.Fatalf("login 429: %d %v", status, body)
	}
	// Faults on other paths leave these alone.
	if status, _ := r.api("POST", "payers", `{"UniqueReference":"C9","FamilyOrBusinessName":"X"}`); status != 200 {
		t.Fatalf("create: %d", status)
	}
}

// TestInferredPathsOffByDefault: without Options.Inferred the unconfirmed
// look-ups answer 404 like any unknown path, and a reused schedule Reference
// is a second debit (whether the gateway refuses it is not known).
func TestInferredPathsOffByDefault(t *testing.T) {
	r := newStrictRig(t)
	r.api("POST", "payers", `{"UniqueReference":"C1","FamilyOrBusinessName":"Citizen"}`)
	r.api("PUT", "payers/C1/accounts/bank-account", `{"AccountBranch":"062000","AccountNumber":"12345678","AccountName":"J CITIZEN","AccountType":"SAVINGS"}`)
	for i := 0; i < 2; i++ {
		if status, body := r.api("POST", "payers/C1/schedules/payments", `{"Date":"2026-11-09","Amount":10.00,"Reference":"TWICE"}`); status != 200 {
			t.Fatalf("schedule %d: %d %v", i, status, body)
		}
	}
	for _, p := range []string{"payers/C1/schedules/payments?reference=TWICE", "payers/C1/schedules/payments/213813",
		"transactions/bank-payments/?reference=TWICE"} {
		if status, body := r.api("GET", p, ""); status != 404 || body["errorCode"] != "NotFound" {
			t.Fatalf("GET %s: %d %v", p, status, body)
		}
	}
	if status, _ := r.api("DELETE", "payers/C1/schedules/payments/213813", ""); status != 404 {
		t.Fatalf("DELETE schedule: %d", status)
	}
	n := 0
	for _, en := range r.sim.Ledger() {
		if en.Reference == "TWICE" {
			n++
		}
	}
	if n != 2 {
		t.Fatalf("ledger rows for TWICE = %d, want 2", n)
	}
}
