package integrapay_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/splynx-pay/splynx-pay/gateways"
	"github.com/splynx-pay/splynx-pay/gateways/integrapay"
	"github.com/splynx-pay/splynx-pay/gateways/integrapay/integrapaysim"
)

func withMissingPayerEmpty() envOpt {
	return func(o *integrapaysim.Options, _ *integrapay.Config) { o.Fidelity.MissingPayerEmpty = true }
}

// payerWrites lists the payer writes the simulator received as
// "METHOD path", in order.
func (e *env) payerWrites() []string {
	var out []string
	for _, r := range e.sim.Requests() {
		if (r.Method == http.MethodPost || r.Method == http.MethodPut) && strings.Contains(r.Path, "/payers") {
			out = append(out, r.Method+" "+r.Path[strings.Index(r.Path, "/payers"):])
		}
	}
	return out
}

// Whether IntegraPay answers a missing payer with 404 InvalidPayer or with
// 2xx {} is not known (spec §5.3). Either way saving a method for a new
// customer creates the payer and never "updates" one that is not there.
func TestMissingPayerEitherAnswer(t *testing.T) {
	for _, empty := range []bool{false, true} {
		var opts []envOpt
		if empty {
			opts = append(opts, withMissingPayerEmpty())
		}
		e := newEnv(t, opts...)
		if _, err := e.c.GetPayer(e.ctx, "C404"); !errors.Is(err, gateways.ErrNotFound) {
			t.Fatalf("empty=%v: get missing payer: %v", empty, err)
		}
		if _, err := e.c.SaveMethod(e.ctx, gateways.SaveMethodRequest{Payer: testPayer("C404"), Bank: bankDetails()}); err != nil {
			t.Fatalf("empty=%v: save method: %v", empty, err)
		}
		want := []string{"POST /payers", "PUT /payers/C404/accounts/bank-account"}
		if got := e.payerWrites(); !reflect.DeepEqual(got, want) {
			t.Errorf("empty=%v: writes %v, want %v", empty, got, want)
		}
		if v, ok := e.sim.Payer("C404"); !ok || v.Method != "bank" || v.FamilyName != "Citizen" {
			t.Errorf("empty=%v: payer at the gateway %+v %v", empty, v, ok)
		}
	}
}

// Whether PUT payers/{ref} merges or replaces omitted fields is not known
// (spec §5.3), so an update always carries every field the add-on keeps,
// empty ones included: a phone the customer removed is removed at the
// gateway under either rule.
func TestPayerUpdateSendsWholePayer(t *testing.T) {
	e := newEnv(t)
	p := testPayer("C77")
	if err := e.c.UpsertPayer(e.ctx, p); err != nil {
		t.Fatal(err)
	}
	p.Phone, p.Country, p.Email = "", "", "jane.new@example.com"
	if err := e.c.UpsertPayer(e.ctx, p); err != nil {
		t.Fatal(err)
	}
	reqs := e.sim.Requests()
	last := reqs[len(reqs)-1]
	if last.Method != http.MethodPut || !strings.HasSuffix(last.Path, "/payers/C77") {
		t.Fatalf("last request %s %s, want the PUT", last.Method, last.Path)
	}
	want := `{"UniqueReference": "C77", "FamilyOrBusinessName": "Citizen", "GivenName": "Jane",
	  "Email": "jane.new@example.com", "Phone": "",
	  "Address": {"Line1": "1 Test St", "Line2": "", "Suburb": "Testville", "State": "QLD", "PostCode": "4001", "Country": null},
	  "Audit": {"Username": "splynx-test"}}`
	var got, exp any
	if err := json.Unmarshal(last.Body, &got); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(want), &exp); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, exp) {
		t.Errorf("PUT body\n got %s\nwant %s", last.Body, want)
	}
	if v, _ := e.sim.Payer("C77"); v.Phone != "" || v.Email != "jane.new@example.com" {
		t.Errorf("gateway holds %+v", v)
	}
}
