package splynx_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/splynx-pay/splynx-pay/internal/money"
	"github.com/splynx-pay/splynx-pay/splynx"
	"github.com/splynx-pay/splynx-pay/splynx/splynxsim"
)

func TestRecordUpdates(t *testing.T) {
	e := newEnv(t, splynxsim.Options{})
	ctx := context.Background()
	cid := e.sim.AddCustomer(splynxsim.Customer{Login: "c", Name: "C"})
	iid := e.sim.AddInvoice(splynxsim.Invoice{CustomerID: cid, Status: "not_paid", Total: 100, Due: 100, DateCreated: date(2026, 11, 1)})
	e.sim.AddAdditionalField(splynxsim.AdditionalField{Module: "customers", Name: "autopay", Title: "Autopay", Type: "string"})
	c := e.client(t, splynx.AuthAPIKeyToken)
	if err := c.UpdateCustomer(ctx, cid, map[string]any{"additional_attributes": map[string]string{"autopay": "0"}}); err != nil {
		t.Fatal(err)
	}
	if cu, _ := e.sim.Customer(cid); cu.AdditionalAttributes["autopay"] != "0" {
		t.Errorf("customer after update %+v", cu)
	}
	if err := c.UpdateInvoice(ctx, iid, map[string]any{"status": "pending"}); err != nil {
		t.Fatal(err)
	}
	if inv, _ := e.sim.Invoice(iid); inv.Status != "pending" {
		t.Errorf("invoice status %q", inv.Status)
	}
	if err := c.UpdateInvoice(ctx, 999999, map[string]any{"status": "pending"}); !splynx.IsNotFound(err) {
		t.Errorf("unknown invoice: %v", err)
	}
}

func TestPaymentAccounts(t *testing.T) {
	e := newEnv(t, splynxsim.Options{})
	ctx := context.Background()
	cid := e.sim.AddCustomer(splynxsim.Customer{Login: "c", Name: "C"})
	acc := e.sim.AddPaymentAccountDef(splynxsim.PaymentAccountDef{Title: "IntegraPay", Fields: [10]string{"Token", "Mask"}})
	c := e.client(t, splynx.AuthAPIKeyToken)
	if _, err := c.GetPaymentAccount(ctx, cid, acc); !splynx.IsNotFound(err) {
		t.Errorf("before put: %v", err)
	}
	pa := splynx.PaymentAccount{AccountID: splynx.ID(acc), CustomerID: splynx.ID(cid), Fields: [10]string{"tok_abc", "•••• 1111"}}
	if err := c.PutPaymentAccount(ctx, pa); err != nil {
		t.Fatal(err)
	}
	got, err := c.GetPaymentAccount(ctx, cid, acc)
	if err != nil {
		t.Fatal(err)
	}
	if got != pa {
		t.Errorf("got %+v want %+v", got, pa)
	}
	if put := e.requests(http.MethodPut, "admin/customers/customer-payment-accounts"); len(put) != 1 ||
		put[0].Query != fmt.Sprintf("id=%d--%d", cid, acc) {
		t.Errorf("PUT requests %+v", put)
	}
	defs, err := c.ListPaymentAccountDefs(ctx)
	if err != nil || len(defs) != 1 || int64(defs[0].ID) != acc || defs[0].Title != "IntegraPay" || defs[0].Fields[1] != "Mask" {
		t.Errorf("definitions %+v %v", defs, err)
	}
	all, err := c.ListPaymentAccounts(ctx, cid)
	if err != nil || len(all) != 1 || all[0] != pa {
		t.Errorf("customer's accounts %+v %v", all, err)
	}
	if err := c.DeletePaymentAccount(ctx, cid, acc); err != nil {
		t.Fatal(err)
	}
	if _, ok := e.sim.PaymentAccount(cid, acc); ok {
		t.Error("account data still stored after delete")
	}
}

func TestCustomerBillingList(t *testing.T) {
	for _, off := range []bool{false, true} {
		t.Run(fmt.Sprintf("NoBillingList=%v", off), func(t *testing.T) {
			e := newEnv(t, splynxsim.Options{NoBillingList: off})
			ctx := context.Background()
			var ids []int64
			for i := range 3 {
				id := e.sim.AddCustomer(splynxsim.Customer{Login: fmt.Sprint("c", i), Name: "C"})
				e.sim.SetBilling(id, func(b *splynxsim.Billing) { b.Deposit = money.Amount(100 * (i + 1)); b.PaymentMethod = 3 })
				ids = append(ids, id)
			}
			c := e.client(t, splynx.AuthAPIKeyToken)
			var got []int64
			var deposits money.Amount
			var listErr error
			for b, err := range c.ListCustomerBilling(ctx, splynx.Search{}) {
				if err != nil {
					listErr = err
					break
				}
				got = append(got, int64(b.CustomerID))
				deposits += b.Deposit.Amount()
			}
			if off {
				if !splynx.IsNotFound(listErr) && !splynx.IsMethodNotAllowed(listErr) {
					t.Fatalf("want a detectable not-found, got %v", listErr)
				}
				return
			}
			if listErr != nil {
				t.Fatal(listErr)
			}
			if !slices.Equal(got, ids) || deposits != 600 {
				t.Errorf("billing %v deposits %s", got, deposits)
			}
		})
	}
}
