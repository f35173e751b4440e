package splynxsim

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestStatusCodesAndErrorShapes(t *testing.T) {
	_, api := newTestSim(t, Options{}, &SeedConfig{Seed: 1, Customers: 3, Invoices: 3})
	cases := []struct {
		method, path string
		body         any
		status       int
		code         string
	}{
		{http.MethodGet, "admin/customers/customer/999", nil, 404, "NOT_FOUND"},
		{http.MethodGet, "admin/customers/customer/abc", nil, 404, "NOT_FOUND"},
		{http.MethodGet, "admin/finance/invoices/999", nil, 404, "NOT_FOUND"},
		{http.MethodGet, "admin/nothing/here", nil, 404, "NOT_FOUND"},
		{http.MethodPatch, "admin/finance/invoices/1", nil, 405, "METHOD_NOT_ALLOWED"},
		{http.MethodDelete, "admin/finance/invoices", nil, 405, "METHOD_NOT_ALLOWED"},
		{http.MethodPost, "admin/customers/customer-billing/1", map[string]any{}, 405, "METHOD_NOT_ALLOWED"},
		{http.MethodPost, "admin/finance/payments", "{not json", 400, "BAD_REQUEST"},
		{http.MethodGet, "admin/api/check", nil, 200, ""},
		{http.MethodPut, "admin/customers/customer/2", map[string]any{"email": "new@example.com", "additional_attributes": map[string]any{"autopay": "0"}}, 202, ""},
		{http.MethodDelete, "admin/customers/customer/3", nil, 204, ""},
		{http.MethodGet, "admin/customers/customer/3", nil, 404, "NOT_FOUND"},
	}
	for _, tc := range cases {
		r := api.do(tc.method, tc.path, tc.body)
		if r.status != tc.status {
			t.Errorf("%s %s: %d, want %d: %s", tc.method, tc.path, r.status, tc.status, r.body)
			continue
		}
		if tc.code != "" {
			if got := errCode(t, r); got != tc.code {
				t.Errorf("%s %s: internal_code %s, want %s", tc.method, tc.path, got, tc.code)
			}
		}
	}
	c := api.mustDo(http.MethodGet, "admin/customers/customer/2", nil, 200).object(t)
	if c["email"] != "new@example.com" || c["additional_attributes"].(map[string]any)["autopay"] != "0" {
		t.Fatalf("PUT customer not applied: %v", c)
	}
	r := api.mustDo(http.MethodPost, "admin/customers/customer", map[string]any{"name": "New Person", "email": "np@example.com", "partner_id": "1"}, 201)
	if id := r.createdID(t); id != 4 {
		t.Fatalf("new customer id %d, want 4 (ids are never reused)", id)
	}
}

func TestValidationShapes(t *testing.T) {
	cases := []struct {
		shape string
		check func(t *testing.T, r resp)
	}{
		{"", func(t *testing.T, r resp) {
			errs := r.list(t)
			fields := map[string]bool{}
			for _, e := range errs {
				fields[str(e["field"])] = e["message"] != ""
			}
			if !fields["customer_id"] || !fields["payment_type"] || !fields["amount"] {
				t.Fatalf("yii body %s", r.body)
			}
		}},
		{"error", func(t *testing.T, r resp) {
			if errCode(t, r) != "INVALID_INPUT_DATA" {
				t.Fatalf("error body %s", r.body)
			}
		}},
		{"text", func(t *testing.T, r resp) {
			if !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") || !strings.Contains(string(r.body), "customer_id") {
				t.Fatalf("text body %q", r.body)
			}
		}},
	}
	for _, tc := range cases {
		_, api := newTestSim(t, Options{ValidationShape: tc.shape}, &SeedConfig{})
		r := api.mustDo(http.MethodPost, "admin/finance/payments", map[string]any{"comment": "no customer"}, 422)
		tc.check(t, r)
	}
}

func TestPaymentCreateAndSearchByReceipt(t *testing.T) {
	s, api := newTestSim(t, Options{}, &SeedConfig{Seed: 3, Customers: 20, Invoices: 200})
	cid := s.AddCustomer(Customer{Name: "Receipt"})
	inv := s.AddInvoice(Invoice{CustomerID: cid, Total: 5000})
	body := map[string]any{"customer_id": cid, "invoice_id": inv, "payment_type": "3", "receipt_number": "SPABCDEFGHJKLMNPQ",
		"date": "2026-11-02", "amount": "50.00", "comment": "IntegraPay", "field_1": "TXN-1", "field_2": "", "field_3": "", "field_4": "", "field_5": ""}
	id := api.mustDo(http.MethodPost, "admin/finance/payments", body, 201).createdID(t)
	found := api.mustDo(http.MethodGet, "admin/finance/payments?main_attributes%5Breceipt_number%5D=SPABCDEFGHJKLMNPQ", nil, 200).list(t)
	if len(found) != 1 || str(found[0]["id"]) != itoa(id) || found[0]["field_1"] != "TXN-1" || found[0]["amount"] != "50.0000" || found[0]["added_by"] != "api" {
		t.Fatalf("search by receipt: %v", found)
	}
	// PUT of the amount re-books the payment exactly.
	api.mustDo(http.MethodPut, "admin/finance/payments/"+itoa(id), map[string]any{"amount": "20"}, 202)
	got, _ := s.Invoice(inv)
	b, _ := s.Billing(cid)
	if got.Status != "not_paid" || got.Due != 3000 || b.Deposit != -3000 {
		t.Fatalf("after PUT amount: %s due %v deposit %v", got.Status, got.Due, b.Deposit)
	}
	// Relations show which payment settles the invoice.
	rel := api.mustDo(http.MethodGet, "admin/finance/invoice-relations?invoice_id="+itoa(inv), nil, 200).list(t)
	if len(rel) != 1 || rel[0]["type"] != "payment" || rel[0]["amount"] != "20.0000" || str(rel[0]["invoice_id"]) != itoa(inv) {
		t.Fatalf("relations: %v", rel)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestInvoicePutRules(t *testing.T) {
	s, api := newTestSim(t, Options{}, &SeedConfig{})
	cid := s.AddCustomer(Customer{Name: "Put"})
	open := s.AddInvoice(Invoice{CustomerID: cid, Total: 1000})
	paid := s.AddInvoice(Invoice{CustomerID: cid, Total: 2000})
	if _, err := s.AddPayment(Payment{CustomerID: cid, InvoiceID: paid, PaymentType: 1, Amount: 2000}); err != nil {
		t.Fatal(err)
	}
	s.Clock().Advance(time.Minute)
	api.mustDo(http.MethodPut, "admin/finance/invoices/"+itoa(open), map[string]any{"status": "pending", "memo": "charging"}, 202)
	inv, _ := s.Invoice(open)
	if inv.Status != "pending" || inv.Memo != "charging" || !inv.DateUpdated.Equal(s.Clock().Now()) {
		t.Fatalf("pending PUT: %+v", inv)
	}
	api.mustDo(http.MethodPut, "admin/finance/invoices/"+itoa(open), map[string]any{"status": "not_paid"}, 202)
	api.mustDo(http.MethodPut, "admin/finance/invoices/"+itoa(paid), map[string]any{"note": "thanks"}, 202)
	api.mustDo(http.MethodPut, "admin/finance/invoices/"+itoa(paid), map[string]any{"status": "not_paid"}, 422)
	api.mustDo(http.MethodPut, "admin/finance/invoices/"+itoa(paid), map[string]any{"items": []any{map[string]any{"description": "x", "price": "1"}}}, 422)
	api.mustDo(http.MethodPut, "admin/finance/invoices/"+itoa(open), map[string]any{"status": "deleted"}, 422)
	// Pending invoices are paid by a covering payment too.
	api.mustDo(http.MethodPut, "admin/finance/invoices/"+itoa(open), map[string]any{"status": "pending"}, 202)
	api.mustDo(http.MethodPost, "admin/finance/payments", map[string]any{"customer_id": cid, "invoice_id": open, "payment_type": 1, "amount": "10", "date": "2026-11-02"}, 201)
	if inv, _ := s.Invoice(open); inv.Status != "paid" {
		t.Fatalf("pending invoice after payment: %s", inv.Status)
	}
	// POST an invoice with items: total computed, deposit debited.
	r := api.mustDo(http.MethodPost, "admin/finance/invoices", map[string]any{"customer_id": cid, "items": []any{
		map[string]any{"description": "Plan", "quantity": 2, "price": "10.00", "tax": "10"},
	}}, 201)
	ni, _ := s.Invoice(r.createdID(t))
	if ni.Total != 2200 || ni.Due != 2200 || len(ni.Items) != 1 || ni.Items[0].TaxPercent != 1000 {
		t.Fatalf("posted invoice: %+v", ni)
	}
	if b, _ := s.Billing(cid); b.Deposit != -2200 {
		t.Fatalf("deposit %v, want -22.00", b.Deposit)
	}
}

func TestModuleConfigShapes(t *testing.T) {
	for _, shape := range []string{"flat", "nested"} {
		t.Run(shape, func(t *testing.T) {
			s, api := newTestSim(t, Options{ConfigShape: shape}, &SeedConfig{Partners: 2})
			s.SetModuleConfig(ModuleIntegraPay, 2, map[string]string{"integrapay_business_id": "55555"})
			base := "admin/config/config?module=add-on&path=" + ModuleIntegraPay
			r := api.mustDo(http.MethodGet, base, nil, 200).object(t)
			if shape == "flat" {
				if r["integrapay_username"] != SeedIntegraPayUsername || r["currency"] != "AUD" || r["integrapay_business_id"] != SeedIntegraPayBusinessID {
					t.Fatalf("flat: %v", r)
				}
				p2 := api.mustDo(http.MethodGet, base+"&partner_id=2", nil, 200).object(t)
				if p2["integrapay_business_id"] != "55555" || p2["integrapay_password"] != SeedIntegraPayPassword {
					t.Fatalf("partner 2: %v", p2)
				}
			} else {
				common := r["common"].(map[string]any)
				def := r["default_partners_settings"].(map[string]any)
				p2 := r["2"].(map[string]any)
				if common["currency"] != "AUD" || def["integrapay_username"] != SeedIntegraPayUsername || p2["integrapay_business_id"] != "55555" {
					t.Fatalf("nested: %v", r)
				}
			}
			// PUT flat values: existing keys stay in their block.
			api.mustDo(http.MethodPut, base, map[string]any{"retry_days": "2,4", "integrapay_username": "other"}, 202)
			api.mustDo(http.MethodPut, base+"&partner_id=2", map[string]any{"payment_method_card": "7"}, 202)
			if got := s.ModuleConfig(ModuleIntegraPay, 0); got["retry_days"] != "2,4" || got["integrapay_username"] != "other" || got["payment_method_card"] != "3" {
				t.Fatalf("after PUT: %v", got)
			}
			if got := s.ModuleConfig(ModuleIntegraPay, 2); got["payment_method_card"] != "7" {
				t.Fatalf("partner 2 after PUT: %v", got)
			}
			// PUT nested blocks.
			api.mustDo(http.MethodPut, base, map[string]any{"common": map[string]any{"auto_charge": "0"}}, 202)
			if s.ModuleConfig(ModuleIntegraPay, 0)["auto_charge"] != "0" {
				t.Fatal("nested PUT not applied")
			}
			one := api.mustDo(http.MethodGet, base+"&key=currency", nil, 200).object(t)
			if len(one) != 1 || one["currency"] != "AUD" {
				t.Fatalf("key=currency: %v", one)
			}
			api.mustDo(http.MethodGet, "admin/config/config?module=add-on&path=nope", nil, 404)
			ipp := s.ModuleConfig(ModuleIPpay, 0)
			if ipp["ippay_terminal_id"] != SeedIPpayTerminalID || ipp["ippay_ach_terminal_id"] != "" || ipp["currency"] != "USD" {
				t.Fatalf("ippay config: %v", ipp)
			}
		})
	}
}

func TestReferenceEndpoints(t *testing.T) {
	s, api := newTestSim(t, Options{}, &SeedConfig{Seed: 2, Customers: 3, Partners: 2, Locations: 2})
	if l := api.mustDo(http.MethodGet, "admin/administration/partners", nil, 200).list(t); len(l) != 2 || l[0]["name"] != "Main" {
		t.Fatalf("partners %v", l)
	}
	api.mustDo(http.MethodGet, "admin/administration/locations/2", nil, 200)
	api.mustDo(http.MethodGet, "admin/administration/locations/9", nil, 404)
	if m := api.mustDo(http.MethodGet, "admin/config/modules", nil, 200).list(t); len(m) != 2 {
		t.Fatalf("modules %v", m)
	}
	api.mustDo(http.MethodGet, "admin/config/modules/"+ModuleIPpay, nil, 200)
	// Payment methods: list, create.
	pm := api.mustDo(http.MethodPost, "admin/finance/payment-methods", map[string]any{"name": "IntegraPay", "is_active": "1", "name_1": "Gateway txn id"}, 201).createdID(t)
	if pm != 7 {
		t.Fatalf("new payment method id %d, want 7", pm)
	}
	if l := api.mustDo(http.MethodGet, "admin/finance/payment-methods", nil, 200).list(t); len(l) != 6 || l[5]["name_1"] != "Gateway txn id" {
		t.Fatalf("methods %v", l)
	}
	// Additional fields.
	api.mustDo(http.MethodPost, "admin/config/additional-fields/customers", map[string]any{"name": "integrapay_payer_id", "title": "IntegraPay payer", "type": "string"}, 201)
	api.mustDo(http.MethodPost, "admin/config/additional-fields/customers", map[string]any{"name": "integrapay_payer_id", "title": "dup", "type": "string"}, 422)
	api.mustDo(http.MethodGet, "admin/config/additional-fields/customers--integrapay_payer_id", nil, 200)
	c := api.mustDo(http.MethodGet, "admin/customers/customer/1", nil, 200).object(t)
	if _, ok := c["additional_attributes"].(map[string]any)["integrapay_payer_id"]; !ok {
		t.Fatalf("new AF not rendered on customers: %v", c["additional_attributes"])
	}
	// Payment accounts.
	if d := api.mustDo(http.MethodGet, "admin/customers/customer-payment-accounts", nil, 200).list(t); len(d) != 2 || d[0]["title"] != "IntegraPay" {
		t.Fatalf("definitions %v", d)
	}
	api.mustDo(http.MethodGet, "admin/customers/customer-payment-accounts?id=1--1", nil, 404)
	api.mustDo(http.MethodPut, "admin/customers/customer-payment-accounts?id=1--1", map[string]any{"field_1": "PAYER-1", "field_4": "•••• 1111"}, 202)
	a := api.mustDo(http.MethodGet, "admin/customers/customer-payment-accounts?id=1--1", nil, 200).object(t)
	if a["field_1"] != "PAYER-1" || a["field_4"] != "•••• 1111" || str(a["customer_id"]) != "1" {
		t.Fatalf("account %v", a)
	}
	if l := api.mustDo(http.MethodGet, "admin/customers/customer-payment-accounts?id=1", nil, 200).list(t); len(l) != 1 {
		t.Fatalf("customer accounts %v", l)
	}
	if l := api.mustDo(http.MethodGet, "admin/customers/customer-payment-account-data", nil, 200).list(t); len(l) != 1 {
		t.Fatalf("account data %v", l)
	}
	api.mustDo(http.MethodDelete, "admin/customers/customer-payment-accounts?id=1--1", nil, 204)
	if _, ok := s.PaymentAccount(1, 1); ok {
		t.Fatal("account not deleted")
	}
	// Transactions move the deposit.
	before, _ := s.Billing(1)
	tid := api.mustDo(http.MethodPost, "admin/finance/transactions", map[string]any{"customer_id": 1, "type": "debit", "price": "2.50",
		"description": "Card fee", "category": 4, "date": "2026-11-02"}, 201).createdID(t)
	after, _ := s.Billing(1)
	if after.Deposit != before.Deposit-250 {
		t.Fatalf("debit moved deposit %v → %v", before.Deposit, after.Deposit)
	}
	api.mustDo(http.MethodPost, "admin/finance/transactions", map[string]any{"customer_id": 1, "type": "debit", "price": "2.50"}, 422)
	api.mustDo(http.MethodDelete, "admin/finance/transactions/"+itoa(tid), nil, 204)
	if b, _ := s.Billing(1); b.Deposit != before.Deposit {
		t.Fatal("deleting the transaction did not restore the deposit")
	}
	// Payment statements.
	sid := api.mustDo(http.MethodPost, "admin/finance/bank-statements", map[string]any{"title": "IntegraPay 11/2026", "status": "success", "handler": "integrapay"}, 201).createdID(t)
	rid := api.mustDo(http.MethodPost, "admin/finance/bank-statements-records", map[string]any{"bank_statements_process_id": sid, "amount": "12.00",
		"status": "new", "customer_id": 1, "payment_date": "2026-11-02", "comment": "IntegraPay"}, 201).createdID(t)
	api.mustDo(http.MethodPut, "admin/finance/bank-statements-records/"+itoa(rid), map[string]any{"status": "processed", "payment_id": 5}, 202)
	recs := api.mustDo(http.MethodGet, "admin/finance/bank-statements-records?main_attributes%5Bbank_statements_process_id%5D="+itoa(sid), nil, 200).list(t)
	if len(recs) != 1 || recs[0]["status"] != "processed" || str(recs[0]["payment_id"]) != "5" {
		t.Fatalf("records %v", recs)
	}
	api.mustDo(http.MethodPost, "admin/finance/bank-statements-records", map[string]any{"bank_statements_process_id": 999, "amount": "1"}, 422)
	// Billing list, and its absence.
	if l := api.mustDo(http.MethodGet, "admin/customers/customer-billing?main_attributes%5Bpayment_method%5D%5B0%5D=IN&main_attributes%5Bpayment_method%5D%5B1%5D%5B0%5D=1&main_attributes%5Bpayment_method%5D%5B1%5D%5B1%5D=2&main_attributes%5Bpayment_method%5D%5B1%5D%5B2%5D=3&main_attributes%5Bpayment_method%5D%5B1%5D%5B3%5D=5&main_attributes%5Bpayment_method%5D%5B1%5D%5B4%5D=6", nil, 200).list(t); len(l) != 3 {
		t.Fatalf("billing list %d", len(l))
	}
	_, off := newTestSim(t, Options{NoBillingList: true}, &SeedConfig{Customers: 1})
	off.mustDo(http.MethodGet, "admin/customers/customer-billing", nil, 404)
	off.mustDo(http.MethodGet, "admin/customers/customer-billing/1", nil, 200)
}

func TestFaults(t *testing.T) {
	s, api := newTestSim(t, Options{}, &SeedConfig{Seed: 4, Customers: 3, Invoices: 10})
	cid := s.AddCustomer(Customer{Name: "Faulty"})
	inv := s.AddInvoice(Invoice{CustomerID: cid, Total: 1000})
	pay := map[string]any{"customer_id": cid, "invoice_id": inv, "payment_type": 3, "amount": "10", "date": "2026-11-02", "receipt_number": "R1"}

	s.SetFault("admin/finance/invoices", Fault{ErrorRate: 1, Status: 503, Times: 2})
	for range 2 {
		if r := api.do(http.MethodGet, "admin/finance/invoices", nil); r.status != 503 || errCode(t, r) != "SERVER_ERROR" {
			t.Fatalf("error fault: %d %s", r.status, r.body)
		}
	}
	api.mustDo(http.MethodGet, "admin/finance/invoices", nil, 200) // disarmed after Times

	s.SetFault("admin/finance/invoices", Fault{ErrorRate: 1, Status: 502, Body: "<html>Bad Gateway</html>"})
	if r := api.do(http.MethodGet, "admin/finance/invoices/1", nil); r.status != 502 || !strings.Contains(string(r.body), "Bad Gateway") {
		t.Fatalf("html body fault: %d %s", r.status, r.body)
	}
	api.mustDo(http.MethodGet, "admin/customers/customer", nil, 200) // other paths unaffected
	s.ClearFaults()

	s.SetFault("admin/finance/payments", Fault{DropRate: 1, Method: http.MethodPost, Times: 1})
	if r := api.do(http.MethodPost, "admin/finance/payments", pay); r.status != -1 {
		t.Fatalf("dropped connection returned %d", r.status)
	}
	if len(s.Payments()) != 0 && s.Payments()[len(s.Payments())-1].ReceiptNumber == "R1" {
		t.Fatal("a request dropped before handling created a payment")
	}
	s.SetFault("admin/finance/payments", Fault{DropAfterRate: 1, Method: http.MethodPost, Times: 1})
	if r := api.do(http.MethodPost, "admin/finance/payments", pay); r.status != -1 {
		t.Fatalf("drop-after returned %d", r.status)
	}
	got := api.mustDo(http.MethodGet, "admin/finance/payments?main_attributes%5Breceipt_number%5D=R1", nil, 200).list(t)
	if len(got) != 1 {
		t.Fatalf("drop-after must apply the payment: found %d", len(got))
	}

	s.SetFault("admin/finance/invoices", Fault{MalformedRate: 1, Times: 1})
	if r := api.do(http.MethodGet, "admin/finance/invoices/1", nil); r.status != 200 || strings.HasSuffix(string(r.body), "}") {
		t.Fatalf("malformed: %d %s", r.status, r.body)
	}
	s.SetFault("admin/finance/invoices", Fault{WrongTypesRate: 1, Times: 1})
	if r := api.do(http.MethodGet, "admin/finance/invoices/1", nil); !strings.Contains(string(r.body), `"id":1,`) {
		t.Fatalf("wrong types: %s", r.body)
	}
	s.SetFault("", Fault{Latency: 30 * time.Millisecond, Times: 1})
	st := time.Now()
	api.mustDo(http.MethodGet, "admin/api/check", nil, 200)
	if time.Since(st) < 30*time.Millisecond {
		t.Fatal("latency not applied")
	}
	// Rates are repeatable for a seed.
	run := func() []int {
		s.SetFault("admin/customers", Fault{ErrorRate: 0.5, Seed: 11})
		var out []int
		for range 20 {
			out = append(out, api.do(http.MethodGet, "admin/customers/customer", nil).status)
		}
		return out
	}
	a, b := run(), run()
	fails := 0
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("fault sequence differs at %d", i)
		}
		if a[i] == 500 {
			fails++
		}
	}
	if fails == 0 || fails == 20 {
		t.Fatalf("ErrorRate 0.5 failed %d of 20", fails)
	}
	s.ClearFaults()

	// The request log saw all of it.
	log := s.Requests()
	var drops, signed int
	for _, r := range log {
		if r.Status == -1 {
			drops++
		}
		if r.AuthScheme == "signature" && r.Key == testKey && r.Nonce > 0 {
			signed++
		}
	}
	if drops != 2 || signed < 10 {
		t.Fatalf("request log: %d drops, %d signed of %d", drops, signed, len(log))
	}
	s.SetRequestLog(false)
	api.mustDo(http.MethodGet, "admin/api/check", nil, 200)
	if len(s.Requests()) != len(log) {
		t.Fatal("request log still recording when off")
	}
}

func TestRequestLogIsCapped(t *testing.T) {
	s, api := newTestSim(t, Options{RequestLogCap: 5}, &SeedConfig{})
	for range 12 {
		api.mustDo(http.MethodGet, "admin/api/check", nil, 200)
	}
	api.mustDo(http.MethodGet, "admin/finance/payment-methods", nil, 200)
	log := s.Requests()
	if len(log) != 5 || log[4].Path != "admin/finance/payment-methods" || log[0].Path != "admin/api/check" {
		t.Fatalf("log %+v", log)
	}
}

func TestFormEncodedPayment(t *testing.T) {
	s, api := newTestSim(t, Options{}, &SeedConfig{})
	cid := s.AddCustomer(Customer{Name: "Form"})
	inv := s.AddInvoice(Invoice{CustomerID: cid, Total: 1500})
	form := "customer_id=" + itoa(cid) + "&invoice_id=" + itoa(inv) + "&payment_type=2&amount=15.00&date=2026-11-02&receipt_number=F1" +
		"&additional_attributes%5Bsource%5D=form"
	req, _ := http.NewRequest(http.MethodPost, api.base+"admin/finance/payments", strings.NewReader(form))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", api.authHeader())
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 201 {
		t.Fatalf("form POST: %d", res.StatusCode)
	}
	if got, _ := s.Invoice(inv); got.Status != "paid" {
		t.Fatalf("invoice %s after form payment", got.Status)
	}
}

func TestOptionsAndBasicAuth(t *testing.T) {
	s, api := newTestSim(t, Options{}, &SeedConfig{Customers: 1})
	o := api.mustDo(http.MethodOptions, "admin/customers/customer", nil, 200).object(t)
	attrs, _ := o["attributes"].([]any)
	afs, _ := o["additional_attributes"].([]any)
	if len(attrs) < 10 || len(afs) != 1 || afs[0].(map[string]any)["name"] != "autopay" {
		t.Fatalf("OPTIONS: %v", o)
	}
	basic := func() int {
		req, _ := http.NewRequest(http.MethodGet, api.base+"admin/customers/customer/1", nil)
		req.SetBasicAuth(testKey, testSecret)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if st := basic(); st != 401 {
		t.Fatalf("Basic without unsecure access: %d", st)
	}
	s.AllowBasicAuth(testKey)
	if st := basic(); st != 200 {
		t.Fatalf("Basic with unsecure access: %d", st)
	}
}
