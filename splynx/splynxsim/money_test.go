package splynxsim

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/splynx-pay/splynx-pay/internal/money"
)

// moneyFixture is one customer with one unpaid invoice of 100.00 and a
// not-paid proforma of 40.00, on a fresh simulator.
type moneyFixture struct {
	sim       *Sim
	api       *apiCaller
	cust      int64
	invoice   int64
	proforma  int64
	startDep  money.Amount
	invoiceTo money.Amount
}

func newMoneyFixture(t *testing.T) *moneyFixture {
	s, api := newTestSim(t, Options{}, &SeedConfig{})
	cid := s.AddCustomer(Customer{Name: "Money Test"})
	inv := s.AddInvoice(Invoice{CustomerID: cid, Items: []InvoiceItem{{Description: "Internet", Price: 10000}}})
	pf := s.AddProforma(Proforma{CustomerID: cid, Items: []InvoiceItem{{Description: "Top-up", Price: 4000}}})
	return &moneyFixture{sim: s, api: api, cust: cid, invoice: inv, proforma: pf, startDep: -10000, invoiceTo: 10000}
}

func (f *moneyFixture) pay(t *testing.T, body map[string]any) int64 {
	t.Helper()
	b := map[string]any{"customer_id": strconv.FormatInt(f.cust, 10), "payment_type": "3", "date": "2026-11-02",
		"receipt_number": "R-" + strconv.Itoa(len(f.sim.Payments())+1),
		"field_1":        "", "field_2": "", "field_3": "", "field_4": "", "field_5": ""}
	for k, v := range body {
		b[k] = v
	}
	return f.api.mustDo(http.MethodPost, "admin/finance/payments", b, http.StatusCreated).createdID(t)
}

func (f *moneyFixture) state(t *testing.T) (Invoice, Proforma, money.Amount) {
	t.Helper()
	inv, _ := f.sim.Invoice(f.invoice)
	pf, _ := f.sim.Proforma(f.proforma)
	b, _ := f.sim.Billing(f.cust)
	return inv, pf, b.Deposit
}

func TestInvoiceCreationDebitsDeposit(t *testing.T) {
	f := newMoneyFixture(t)
	inv, pf, dep := f.state(t)
	if inv.Total != 10000 || inv.Due != 10000 || inv.Status != "not_paid" || inv.PaymentID != 0 {
		t.Fatalf("new invoice = %+v", inv)
	}
	if pf.Total != 4000 || pf.Status != "not_paid" {
		t.Fatalf("new proforma = %+v", pf)
	}
	if dep != -10000 {
		t.Fatalf("deposit after a 100.00 invoice = %v, want -100.00 (the proforma must not count)", dep)
	}
}

func TestPaymentRules(t *testing.T) {
	cases := []struct {
		name        string
		payments    []map[string]any
		wantStatus  string
		wantDue     money.Amount
		wantDeposit money.Amount
		wantPaidBy  int // index of the payment that must be invoice.payment_id, -1 none
		wantPfPaid  bool
		wantRemind  []money.Amount
	}{
		{name: "full", payments: []map[string]any{{"invoice_id": "INV", "amount": "100.0000"}},
			wantStatus: "paid", wantDue: 0, wantDeposit: 0, wantPaidBy: 0, wantRemind: []money.Amount{0}},
		{name: "partial", payments: []map[string]any{{"invoice_id": "INV", "amount": 30.5}},
			wantStatus: "not_paid", wantDue: 6950, wantDeposit: -6950, wantPaidBy: -1, wantRemind: []money.Amount{0}},
		{name: "partial then rest", payments: []map[string]any{{"invoice_id": "INV", "amount": "30.50"}, {"invoice_id": "INV", "amount": "69.50"}},
			wantStatus: "paid", wantDue: 0, wantDeposit: 0, wantPaidBy: 1, wantRemind: []money.Amount{0, 0}},
		{name: "excess goes to deposit", payments: []map[string]any{{"invoice_id": "INV", "amount": "150"}},
			wantStatus: "paid", wantDue: 0, wantDeposit: 5000, wantPaidBy: 0, wantRemind: []money.Amount{5000}},
		{name: "refill without invoice", payments: []map[string]any{{"amount": "25.00"}},
			wantStatus: "not_paid", wantDue: 10000, wantDeposit: -7500, wantPaidBy: -1, wantRemind: []money.Amount{2500}},
		{name: "negative refund lowers deposit", payments: []map[string]any{{"amount": "-12.34"}},
			wantStatus: "not_paid", wantDue: 10000, wantDeposit: -11234, wantPaidBy: -1, wantRemind: []money.Amount{-1234}},
		{name: "payment on a paid invoice is all credit", payments: []map[string]any{{"invoice_id": "INV", "amount": "100"}, {"invoice_id": "INV", "amount": "100"}},
			wantStatus: "paid", wantDue: 0, wantDeposit: 10000, wantPaidBy: 0, wantRemind: []money.Amount{0, 10000}},
		{name: "proforma settled by request_id", payments: []map[string]any{{"request_id": "PF", "amount": "40.00"}},
			wantStatus: "not_paid", wantDue: 10000, wantDeposit: -6000, wantPaidBy: -1, wantPfPaid: true, wantRemind: []money.Amount{4000}},
		{name: "proforma underpaid stays open", payments: []map[string]any{{"request_id": "PF", "amount": "39.99"}},
			wantStatus: "not_paid", wantDue: 10000, wantDeposit: -6001, wantPaidBy: -1, wantRemind: []money.Amount{3999}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newMoneyFixture(t)
			f.sim.Clock().Advance(time.Hour)
			var ids []int64
			for _, p := range tc.payments {
				body := map[string]any{}
				for k, v := range p {
					switch v {
					case "INV":
						v = strconv.FormatInt(f.invoice, 10)
					case "PF":
						v = f.proforma
					}
					body[k] = v
				}
				ids = append(ids, f.pay(t, body))
			}
			inv, pf, dep := f.state(t)
			if inv.Status != tc.wantStatus || inv.Due != tc.wantDue || dep != tc.wantDeposit {
				t.Fatalf("invoice %s due %v deposit %v; want %s due %v deposit %v", inv.Status, inv.Due, dep, tc.wantStatus, tc.wantDue, tc.wantDeposit)
			}
			wantPID := int64(0)
			if tc.wantPaidBy >= 0 {
				wantPID = ids[tc.wantPaidBy]
				if inv.DatePayment.Format("2006-01-02") != "2026-11-02" {
					t.Errorf("date_payment = %v", inv.DatePayment)
				}
			}
			if inv.PaymentID != wantPID {
				t.Errorf("invoice payment_id = %d, want %d", inv.PaymentID, wantPID)
			}
			if (pf.Status == "paid") != tc.wantPfPaid {
				t.Errorf("proforma status = %s, want paid=%v", pf.Status, tc.wantPfPaid)
			}
			for i, id := range ids {
				p, _ := f.sim.Payment(id)
				if p.RemindAmount != tc.wantRemind[i] {
					t.Errorf("payment %d remind_amount = %v, want %v", i, p.RemindAmount, tc.wantRemind[i])
				}
			}
			if len(tc.payments) > 0 && !inv.DateUpdated.After(inv.RealCreateDatetime) && inv.Status != "not_paid" {
				t.Errorf("date_updated did not move: %v", inv.DateUpdated)
			}

			// Deleting every payment, newest first and then oldest first,
			// must restore the starting state exactly.
			for i := len(ids) - 1; i >= 0; i-- {
				f.api.mustDo(http.MethodDelete, "admin/finance/payments/"+strconv.FormatInt(ids[i], 10), nil, http.StatusNoContent)
			}
			inv, pf, dep = f.state(t)
			if inv.Status != "not_paid" || inv.Due != 10000 || inv.PaymentID != 0 || !inv.DatePayment.IsZero() || dep != f.startDep || pf.Status != "not_paid" || pf.PaymentID != 0 {
				t.Fatalf("after deleting the payments: invoice %+v proforma %s deposit %v", inv, pf.Status, dep)
			}
			if n := len(f.sim.Payments()); n != 0 {
				t.Fatalf("%d payments left", n)
			}
		})
	}
}

func TestDeleteOlderPaymentKeepsLaterOne(t *testing.T) {
	f := newMoneyFixture(t)
	a := f.pay(t, map[string]any{"invoice_id": f.invoice, "amount": "40"})
	b := f.pay(t, map[string]any{"invoice_id": f.invoice, "amount": "60"})
	f.api.mustDo(http.MethodDelete, "admin/finance/payments/"+strconv.FormatInt(a, 10), nil, http.StatusNoContent)
	inv, _, dep := f.state(t)
	if inv.Status != "not_paid" || inv.Due != 4000 || dep != -4000 {
		t.Fatalf("after deleting the first payment: %s due %v deposit %v", inv.Status, inv.Due, dep)
	}
	f.api.mustDo(http.MethodDelete, "admin/finance/payments/"+strconv.FormatInt(b, 10), nil, http.StatusNoContent)
	inv, _, dep = f.state(t)
	if inv.Due != 10000 || dep != -10000 || inv.PaymentID != 0 {
		t.Fatalf("after deleting both: due %v deposit %v payment_id %d", inv.Due, dep, inv.PaymentID)
	}
}

func TestInvoiceDeleteRules(t *testing.T) {
	f := newMoneyFixture(t)
	pid := f.pay(t, map[string]any{"invoice_id": f.invoice, "amount": "10"})
	r := f.api.mustDo(http.MethodDelete, "admin/finance/invoices/"+strconv.FormatInt(f.invoice, 10), nil, http.StatusBadRequest)
	if got := str(r.object(t)["error"].(map[string]any)["internal_code"]); got != "ENTITY_CANNOT_BE_DELETED" {
		t.Fatalf("internal_code = %s", got)
	}
	f.api.mustDo(http.MethodDelete, "admin/finance/payments/"+strconv.FormatInt(pid, 10), nil, http.StatusNoContent)
	f.api.mustDo(http.MethodDelete, "admin/finance/invoices/"+strconv.FormatInt(f.invoice, 10), nil, http.StatusNoContent)
	inv, _, dep := f.state(t)
	if inv.Status != "deleted" || dep != 0 {
		t.Fatalf("deleted invoice status %s, deposit %v (want deleted, 0)", inv.Status, dep)
	}
	// A payment cannot target a deleted invoice.
	r = f.api.mustDo(http.MethodPost, "admin/finance/payments", map[string]any{"customer_id": f.cust, "invoice_id": f.invoice,
		"payment_type": 3, "amount": "1", "date": "2026-11-02"}, http.StatusUnprocessableEntity)
	if errs := r.list(t); len(errs) != 1 || errs[0]["field"] != "invoice_id" {
		t.Fatalf("422 body = %s", r.body)
	}
}

func TestLastUpdateMovesOnMoneyChanges(t *testing.T) {
	f := newMoneyFixture(t)
	before, _ := f.sim.Customer(f.cust)
	f.sim.Clock().Advance(2 * time.Hour)
	f.pay(t, map[string]any{"amount": "5"})
	after, _ := f.sim.Customer(f.cust)
	if !after.LastUpdate.After(before.LastUpdate) {
		t.Fatalf("customer last_update %v did not move past %v after a payment", after.LastUpdate, before.LastUpdate)
	}
	f.sim.Clock().Advance(time.Hour)
	f.api.mustDo(http.MethodPut, "admin/customers/customer-billing/"+strconv.FormatInt(f.cust, 10), map[string]any{"payment_method": "2"}, http.StatusAccepted)
	again, _ := f.sim.Customer(f.cust)
	if !again.LastUpdate.After(after.LastUpdate) {
		t.Fatalf("last_update did not move on a billing change")
	}
	if b, _ := f.sim.Billing(f.cust); b.PaymentMethod != 2 {
		t.Fatalf("payment_method = %d", b.PaymentMethod)
	}
}
