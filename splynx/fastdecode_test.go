package splynx

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/splynx-pay/splynx-pay/internal/money"
	"github.com/splynx-pay/splynx-pay/splynx/splynxsim"
)

// reference decodes with encoding/json and the records' UnmarshalJSON, the
// path the fast scanner must agree with.
func reference[T any](t *testing.T, raw []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("reference decode of %s: %v", raw, err)
	}
	return v
}

func fastOnly[T any](t *testing.T, raw []byte) T {
	t.Helper()
	var v T
	d, ok := any(&v).(scanDecoder)
	if !ok {
		t.Fatalf("%T has no fast decoder", v)
	}
	if err := decodeFast(raw, d); err != nil {
		t.Fatalf("fast decode of %s: %v", raw, err)
	}
	return v
}

func agree[T any](t *testing.T, raw []byte) {
	t.Helper()
	want := reference[T](t, raw)
	got := fastOnly[T](t, raw)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("fast and reference decoders disagree on %s\n fast %+v\n ref  %+v", raw, got, want)
	}
}

// Every hand-written record of TestRecordsDecodeBothTypings, both typings.
func TestFastDecoderAgreesOnFixtures(t *testing.T) {
	fixtures := map[string][]string{
		"invoice": {
			`{"id":"2614","customer_id":"7332","number":"202201000409","date_created":"2022-04-20","real_create_datetime":"2022-04-20 10:00:00","date_updated":"2022-04-21 00:00:00","date_payment":"2022-04-20","date_till":"2022-05-05","total":"120.0000","due":"0.0000","payment_id":"1821","status":"paid","type":"one_time","payd_from_deposit":"0","is_sent":"1","note":"","memo":"","added_by":"api","items":[{"id":"1","description":"Internet 100","quantity":"1","unit":"","price":"120.0000","tax":"10.0000","period_from":"2022-04-01","period_to":"2022-04-30","categoryIdForTransaction":"2"}],"additional_attributes":[]}`,
			`{"id":2614,"customer_id":7332,"number":202201000409,"total":120,"due":0.005,"payment_id":null,"status":"paid","payd_from_deposit":0,"is_sent":true,"note":null,"items":{"0":{"id":1,"description":"Internet 100","quantity":1,"unit":null,"price":120,"tax":10.0000}},"additional_attributes":null}`,
			` { "id" : "1" , "note" : "say \"hi\" \\ \u00e9 \/", "memo":"line\nbreak", "unknown":{"a":["]","}",{"b":"\"["}]}, "items" : [ ] , "additional_attributes" : { "x" : 1 , "y" : null , "z" : "v", "w": true } } `,
			`{"id":"3","total":"-0.125","due":"1e2","date_created":"0000-00-00","date_updated":"2026-11-02","number":"","status":"pending","items":null}`,
			`{}`,
		},
		"customer": {
			`{"id":"7332","login":"1001","name":"Ann Lee","email":"ann@example.com","billing_email":"","phone":"0400111222","category":"person","status":"active","billing_type":"recurring","partner_id":"3","location_id":"2","parent_id":"0","street_1":"1 Main St","street_2":"","zip_code":"2000","city":"Sydney","date_add":"2025-01-31","last_update":"2026-11-01 08:00:00","additional_attributes":{"autopay":"1","integra_payer_bpay_crn":"123"},"customer_labels":[{"id":1}],"gps":""}`,
			`{"id":7332,"login":1001,"name":"Ann Lee","phone":400111222,"partner_id":3,"location_id":2,"parent_id":null,"street_2":null,"zip_code":2000,"additional_attributes":{"autopay":1,"list":[1,2]}}`,
		},
		"billing": {
			`{"customer_id":"7332","enabled":"1","type":"recurring","deposit":"-363.0000","payment_method":"3","billing_date":"1","billing_due":"15","blocking_period":"0","grace_period":"3","make_invoices":"1","min_balance":"0.0000","billing_person":"","billing_street_1":"","billing_zip_code":"2000","billing_city":"","partner_percent":"0.00","blocking_date":"0000-00-00","send_finance_notification":"0"}`,
			`{"customer_id":7332,"enabled":true,"deposit":-363,"payment_method":3,"billing_date":1,"make_invoices":1,"min_balance":0,"billing_zip_code":2000,"partner_percent":0.00,"blocking_date":"","send_finance_notification":false}`,
		},
		"payment": {
			`{"id":"1821","customer_id":"7332","invoice_id":"2614","request_id":"0","transaction_id":"99","payment_type":"3","receipt_number":"2022-01-00215","date":"2022-04-20","amount":"120.0000","comment":"IntegraPay","note":"","memo":"","field_1":"SPABCDEFGHJKLMNPQ","field_2":"","field_3":"","field_4":"","field_5":"","remind_amount":"0.0000","added_by":"api","real_create_datetime":"2022-04-20 10:00:00","updated_at":"2022-04-20 10:00:00"}`,
			`{"id":1821,"customer_id":7332,"invoice_id":2614,"request_id":null,"payment_type":3,"receipt_number":215,"amount":120.5,"field_2":null,"remind_amount":0}`,
		},
		"proforma": {
			`{"id":"88","customer_id":"7332","number":"PF-88","date_created":"2026-10-01","date_payment":"0000-00-00","date_till":"2026-10-15","total":"55.5000","payment_id":"0","status":"not_paid","items":[],"date_updated":"0000-00-00 00:00:00"}`,
			`{"id":88,"customer_id":7332,"number":"PF-88","total":55.5,"payment_id":0,"status":"not_paid","items":null,"date_updated":null}`,
		},
	}
	for name, cases := range fixtures {
		for i, raw := range cases {
			t.Run(fmt.Sprintf("%s/%d", name, i), func(t *testing.T) {
				switch name {
				case "invoice":
					agree[Invoice](t, []byte(raw))
				case "customer":
					agree[Customer](t, []byte(raw))
				case "billing":
					agree[CustomerBilling](t, []byte(raw))
				case "payment":
					agree[Payment](t, []byte(raw))
				case "proforma":
					agree[Proforma](t, []byte(raw))
				}
			})
		}
	}
}

// Whole pages as splynxsim renders them, in every typing, through scanPage.
func TestFastDecoderAgreesOnSimulatorPages(t *testing.T) {
	for _, o := range []splynxsim.Options{{}, {IDsAsNumbers: true}, {MoneyAsNumbers: true}, {IDsAsNumbers: true, MoneyAsNumbers: true}} {
		t.Run(fmt.Sprintf("ids=%v/money=%v", o.IDsAsNumbers, o.MoneyAsNumbers), func(t *testing.T) {
			sim := splynxsim.New(o)
			sim.AddAPIKey("k", "secret-k")
			for i := range 12 {
				cid := sim.AddCustomer(splynxsim.Customer{Login: fmt.Sprint(1000 + i), Name: fmt.Sprintf("Name \"%d\" \\ é", i),
					Status: []string{"new", "active", "blocked", "disabled"}[i%4], ZipCode: "0800", DateAdd: time.Date(2025, 1, 1+i, 0, 0, 0, 0, time.UTC),
					AdditionalAttributes: map[string]string{"autopay": fmt.Sprint(i % 2)}})
				sim.SetBilling(cid, func(b *splynxsim.Billing) { b.Deposit = money.Amount(-1234567 + i*1001) })
				amt := money.Amount(99999 + i*37)
				sim.AddInvoice(splynxsim.Invoice{CustomerID: cid, Status: []string{"not_paid", "paid", "pending"}[i%3], Total: amt, Due: amt / 2,
					Note: "n\t" + fmt.Sprint(i), DateCreated: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC),
					Items: []splynxsim.InvoiceItem{{Description: "Item ] }", Quantity: int64(i + 1), Price: amt, TaxPercent: 1550}}})
				sim.AddProforma(splynxsim.Proforma{CustomerID: cid, Status: "not_paid", Total: amt, DateCreated: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)})
			}
			srv := httptest.NewServer(sim.Handler())
			defer srv.Close()
			nonce := int64(0)
			get := func(path string) []byte {
				nonce++
				req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/2.0/"+path, nil)
				req.Header.Set("Authorization", signedHeader("k", "secret-k", nonce))
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				if resp.StatusCode != 200 {
					t.Fatalf("%s: %d %s", path, resp.StatusCode, b)
				}
				return b
			}
			checkPage[Invoice](t, get("admin/finance/invoices"))
			checkPage[Customer](t, get("admin/customers/customer"))
			checkPage[Proforma](t, get("admin/finance/proforma-invoices"))
			checkPage[CustomerBilling](t, get("admin/customers/customer-billing"))
		})
	}
}

func checkPage[T any](t *testing.T, page []byte) {
	t.Helper()
	want := reference[[]T](t, page)
	var got []T
	s := scanner{b: page}
	err := s.elems(func() error {
		raw, err := s.value()
		if err != nil {
			return err
		}
		got = append(got, fastOnly[T](t, raw))
		return nil
	})
	if err != nil || len(got) != 12 {
		t.Fatalf("%T page: %d records, %v", got, len(got), err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%T page: fast and reference decoders disagree\n fast %+v\n ref  %+v", got, got[0], want[0])
	}
	var viaPage []T
	n, stopped, keyed, err := scanPage(page, func(v T, _ error) bool { viaPage = append(viaPage, v); return true })
	if err != nil || n != 12 || stopped || keyed || !reflect.DeepEqual(viaPage, want) {
		t.Errorf("scanPage: n=%d stopped=%v keyed=%v err=%v", n, stopped, keyed, err)
	}
}

func TestScanPageShapes(t *testing.T) {
	collect := func(page string) ([]Invoice, bool, error) {
		var out []Invoice
		_, _, keyed, err := scanPage([]byte(page), func(v Invoice, _ error) bool { out = append(out, v); return true })
		return out, keyed, err
	}
	cases := []struct {
		page    string
		ids     []ID
		keyed   bool
		wantErr bool
	}{
		{`[]`, nil, false, false},
		{"  [ \n ]  ", nil, false, false},
		{`[{"id":"1"},{"id":2}]`, []ID{1, 2}, false, false},
		// An escaped key is beyond the fast path; the record still decodes.
		{`[{"id":"1","n\u006fte":"x"},{"id":"2"}]`, []ID{1, 2}, false, false},
		{`{"0":{"id":"1"}}`, nil, true, false},
		{`[{"id":"1"},{"id":"2"`, []ID{1}, false, true},    // truncated, as the simulator's malformed fault sends
		{`[{"id":"1"}] x`, []ID{1}, false, true},           // trailing garbage
		{`[{"id":"1"},,{"id":"2"}]`, []ID{1}, false, true}, // missing element
		{`[{"id":"1"},{"id":"x7"}]`, []ID{1}, false, true}, // a bad id is an error, not a zero
		{`[{"id":"1","total":"12,50"}]`, nil, false, true},
		{`["a"]`, nil, false, true},
		{`<html>`, nil, false, true},
	}
	for _, tc := range cases {
		got, keyed, err := collect(tc.page)
		var ids []ID
		for _, inv := range got {
			ids = append(ids, inv.ID)
		}
		if keyed != tc.keyed || (err != nil) != tc.wantErr || !reflect.DeepEqual(ids, tc.ids) {
			t.Errorf("%s: ids %v keyed %v err %v", tc.page, ids, keyed, err)
		}
	}
	// The escaped key was decoded by the fallback.
	got, _, _ := collect(`[{"id":"1","n\u006fte":"x"}]`)
	if len(got) != 1 || got[0].Note != "x" {
		t.Errorf("fallback decode %+v", got)
	}
}

// The allocation-free money and id readers must match money.Parse and the
// general path on every input, including the ones they hand over.
func TestPlainNumbersMatchGeneralPath(t *testing.T) {
	inputs := []string{"0", "-0", "1", "007", "100.0000", "-363.4550", "0.125", "-0.125", "0.124999", "5.", ".5", "-.5",
		"12345678901234.56", "1234567890123456.78", "12345678901234567.1", "1.005", "99.995", "-99.995", "1e2", "+5", "",
		"12a", "1.2.3", "-", ".", " 5", "5 ", "9223372036854775807", "-9223372036854775808", "123456789012345678"}
	rng := rand.New(rand.NewPCG(1, 2))
	const digits = "0123456789"
	for range 2000 {
		var b strings.Builder
		if rng.IntN(4) == 0 {
			b.WriteByte('-')
		}
		for range 1 + rng.IntN(17) {
			b.WriteByte(digits[rng.IntN(10)])
		}
		if rng.IntN(2) == 0 {
			b.WriteByte('.')
			for range rng.IntN(6) {
				b.WriteByte(digits[rng.IntN(10)])
			}
		}
		inputs = append(inputs, b.String())
	}
	for _, in := range inputs {
		for _, quoted := range []bool{false, true} {
			raw := in
			if quoted {
				raw = `"` + in + `"`
			}
			if a, ok := plainMoney([]byte(raw)); ok {
				want, err := money.Parse(in)
				if err != nil || want != a {
					t.Errorf("plainMoney(%s) = %d, money.Parse = %d, %v", raw, a, want, err)
				}
			}
			if n, ok := plainInt([]byte(raw)); ok {
				s, _ := scalarText([]byte(raw))
				slow, err := strconv.ParseInt(s, 10, 64) // what the general path does
				if err != nil || slow != n {
					t.Errorf("plainInt(%s) = %d, general %d, %v", raw, n, slow, err)
				}
			}
		}
	}
	// Forms the fast readers decline still decode through the general path.
	for in, want := range map[string]money.Amount{`"+5"`: 500, `1e2`: 10000, `" 5 "`: 500, `".5"`: 50} {
		var m Money
		if err := m.UnmarshalJSON([]byte(in)); err != nil || m.Amount() != want {
			t.Errorf("Money %s = %d, %v; want %d", in, m, err, want)
		}
	}
}
