package splynx_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/splynx-pay/splynx-pay/splynx"
	"github.com/splynx-pay/splynx-pay/splynx/splynxsim"
)

func TestRetriesAndNoDuplicatePayments(t *testing.T) {
	ctx := context.Background()
	t.Run("GET retried on 5xx and dropped connections", func(t *testing.T) {
		e := newEnv(t, splynxsim.Options{})
		cid := e.sim.AddCustomer(splynxsim.Customer{Login: "c", Name: "C"})
		iid := e.sim.AddInvoice(splynxsim.Invoice{CustomerID: cid, Status: "not_paid", Total: 500, Due: 500, DateCreated: date(2026, 11, 1)})
		c := e.client(t, splynx.AuthAPIKeyToken)
		e.sim.SetFault("admin/finance/invoices", splynxsim.Fault{ErrorRate: 1, Status: 503, Times: 2})
		if inv, err := c.GetInvoice(ctx, iid); err != nil || inv.Due.Amount() != 500 {
			t.Fatalf("%+v %v", inv, err)
		}
		if n := len(e.requests(http.MethodGet, "admin/finance/invoices")); n != 3 {
			t.Errorf("%d attempts, want 3", n)
		}
		e.sim.SetFault("admin/finance/invoices", splynxsim.Fault{DropRate: 1, Times: 1})
		if _, err := c.GetInvoice(ctx, iid); err != nil {
			t.Errorf("after a dropped connection: %v", err)
		}
		e.sim.SetFault("admin/finance/invoices", splynxsim.Fault{ErrorRate: 1, Status: http.StatusTooManyRequests, Times: 1})
		if _, err := c.GetInvoice(ctx, iid); err != nil {
			t.Errorf("after a 429: %v", err)
		}
		// A PUT is idempotent too; a POST of an invoice update would not be.
		e.sim.SetFault("admin/finance/invoices", splynxsim.Fault{ErrorRate: 1, Status: 500, Times: 1, Method: http.MethodPut})
		if err := c.UpdateInvoice(ctx, iid, map[string]any{"note": "retried"}); err != nil {
			t.Errorf("PUT after a 500: %v", err)
		}
		if inv, _ := e.sim.Invoice(iid); inv.Note != "retried" {
			t.Errorf("note %q", inv.Note)
		}
	})
	t.Run("POST payment not repeated on 500", func(t *testing.T) {
		e := newEnv(t, splynxsim.Options{})
		cid := e.sim.AddCustomer(splynxsim.Customer{Login: "c", Name: "C"})
		iid := e.sim.AddInvoice(splynxsim.Invoice{CustomerID: cid, Status: "not_paid", Total: 500, Due: 500, DateCreated: date(2026, 11, 1)})
		c := e.client(t, splynx.AuthAPIKeyToken)
		if err := c.Check(ctx); err != nil {
			t.Fatal(err)
		}
		e.sim.SetFault("admin/finance/payments", splynxsim.Fault{ErrorRate: 1, Status: 500, Method: http.MethodPost})
		_, err := c.CreatePayment(ctx, splynx.PaymentCreate{CustomerID: cid, InvoiceID: iid, PaymentType: 3, ReceiptNumber: "SPAAAA", Amount: 500})
		if err == nil {
			t.Fatal("want an error")
		}
		if n := len(e.requests(http.MethodPost, "admin/finance/payments")); n != 1 {
			t.Errorf("POST sent %d times, want once", n)
		}
		if n := e.sim.Counts().Payments; n != 0 {
			t.Errorf("%d payments stored", n)
		}
	})
	t.Run("DELETE applied then answer lost", func(t *testing.T) {
		e := newEnv(t, splynxsim.Options{})
		cid := e.sim.AddCustomer(splynxsim.Customer{Login: "c", Name: "C"})
		pid, err := e.sim.AddPayment(splynxsim.Payment{CustomerID: cid, PaymentType: 3, ReceiptNumber: "SPEEEE", Amount: 700, Date: date(2026, 11, 1)})
		if err != nil {
			t.Fatal(err)
		}
		c := e.client(t, splynx.AuthAPIKeyToken)
		e.sim.SetFault("admin/finance/payments", splynxsim.Fault{DropAfterRate: 1, Method: http.MethodDelete, Times: 1})
		if err := c.DeletePayment(ctx, pid); err != nil {
			t.Fatalf("delete whose first answer was lost: %v", err)
		}
		if _, ok := e.sim.Payment(pid); ok {
			t.Error("payment still there")
		}
		if n := len(e.requests(http.MethodDelete, "admin/finance/payments")); n != 2 {
			t.Errorf("%d DELETEs, want 2", n)
		}
		if err := c.DeletePayment(ctx, pid); !splynx.IsNotFound(err) {
			t.Errorf("a plain DELETE of a gone payment: %v", err)
		}
	})
	t.Run("POST applied then connection dropped", func(t *testing.T) {
		e := newEnv(t, splynxsim.Options{})
		cid := e.sim.AddCustomer(splynxsim.Customer{Login: "c", Name: "C"})
		iid := e.sim.AddInvoice(splynxsim.Invoice{CustomerID: cid, Status: "not_paid", Total: 500, Due: 500, DateCreated: date(2026, 11, 1)})
		c := e.client(t, splynx.AuthAPIKeyToken)
		if err := c.Check(ctx); err != nil {
			t.Fatal(err)
		}
		e.sim.SetFault("admin/finance/payments", splynxsim.Fault{DropAfterRate: 1, Method: http.MethodPost, Times: 1})
		_, err := c.CreatePayment(ctx, splynx.PaymentCreate{CustomerID: cid, InvoiceID: iid, PaymentType: 3, ReceiptNumber: "SPBBBB", Amount: 500})
		if err == nil {
			t.Fatal("want an error")
		}
		if n := e.sim.Counts().Payments; n != 1 {
			t.Fatalf("%d payments stored, want exactly 1", n)
		}
		found, err := c.FindPaymentsByReceipt(ctx, "SPBBBB")
		if err != nil || len(found) != 1 || int64(found[0].InvoiceID) != iid || found[0].Amount.Amount() != 500 {
			t.Errorf("lookup by receipt: %+v %v", found, err)
		}
	})
}

func TestPaymentsLifecycle(t *testing.T) {
	for _, o := range []splynxsim.Options{{}, {IDsAsNumbers: true, MoneyAsNumbers: true}} {
		t.Run(fmt.Sprintf("numbers=%v", o.IDsAsNumbers), func(t *testing.T) {
			e := newEnv(t, o)
			ctx := context.Background()
			cid := e.sim.AddCustomer(splynxsim.Customer{Login: "c", Name: "C"})
			iid := e.sim.AddInvoice(splynxsim.Invoice{CustomerID: cid, Status: "not_paid", Total: 12000, Due: 12000, DateCreated: date(2026, 11, 1)})
			c := e.client(t, splynx.AuthAPIKeyToken)
			pid, err := c.CreatePayment(ctx, splynx.PaymentCreate{CustomerID: cid, InvoiceID: iid, PaymentType: 3,
				ReceiptNumber: "SPCCCC", Amount: 12000, Date: date(2026, 11, 2), Comment: "IntegraPay", Field1: "SPCCCC"})
			if err != nil {
				t.Fatal(err)
			}
			post := e.requests(http.MethodPost, "admin/finance/payments")[0].Body
			for _, want := range []string{`"amount":"120.00"`, `"field_5":""`, `"date":"2026-11-02"`, `"invoice_id":` + fmt.Sprint(iid)} {
				if !strings.Contains(post, want) {
					t.Errorf("payment body %s lacks %s", post, want)
				}
			}
			p, err := c.GetPayment(ctx, pid)
			if err != nil {
				t.Fatal(err)
			}
			if int64(p.ID) != pid || int64(p.InvoiceID) != iid || p.Amount.Amount() != 12000 || p.ReceiptNumber != "SPCCCC" ||
				p.Field1 != "SPCCCC" || p.Date.String() != "2026-11-02" || p.PaymentType != 3 {
				t.Errorf("payment %+v", p)
			}
			inv, err := c.GetInvoice(ctx, iid)
			if err != nil {
				t.Fatal(err)
			}
			if inv.Status != "paid" || inv.Due.Amount() != 0 || int64(inv.PaymentID) != pid || inv.DatePayment.IsZero() {
				t.Errorf("invoice after payment %+v", inv)
			}
			rels, err := c.ListInvoiceRelations(ctx, iid)
			if err != nil {
				t.Fatal(err)
			}
			if len(rels) != 1 || rels[0].Amount.Amount() != 12000 || int64(rels[0].InvoiceID) != iid {
				t.Errorf("relations %+v", rels)
			}
			n := 0
			for p, err := range c.ListPayments(ctx, splynx.Search{Main: []splynx.Cond{splynx.Eq("customer_id", fmt.Sprint(cid))}}) {
				if err != nil {
					t.Fatal(err)
				}
				if int64(p.ID) != pid {
					t.Errorf("listed payment %d", p.ID)
				}
				n++
			}
			if n != 1 {
				t.Errorf("listed %d payments", n)
			}
			if err := c.DeletePayment(ctx, pid); err != nil {
				t.Fatal(err)
			}
			if _, err := c.GetPayment(ctx, pid); !splynx.IsNotFound(err) {
				t.Errorf("deleted payment: %v", err)
			}
			if inv, _ := c.GetInvoice(ctx, iid); inv.Status != "not_paid" || inv.Due.Amount() != 12000 {
				t.Errorf("invoice after delete %+v", inv)
			}
			// Top-up with no invoice lands on the deposit (the open invoice already debited it).
			if _, err := c.CreatePayment(ctx, splynx.PaymentCreate{CustomerID: cid, PaymentType: 3, ReceiptNumber: "SPDDDD", Amount: 2550}); err != nil {
				t.Fatal(err)
			}
			b, err := c.GetCustomerBilling(ctx, cid)
			if err != nil || b.Deposit.Amount() != -12000+2550 {
				t.Errorf("deposit after top-up %+v %v", b, err)
			}
		})
	}
}

func TestTransactionsAndStatements(t *testing.T) {
	e := newEnv(t, splynxsim.Options{})
	ctx := context.Background()
	cid := e.sim.AddCustomer(splynxsim.Customer{Login: "c", Name: "C"})
	c := e.client(t, splynx.AuthAPIKeyToken)
	tid, err := c.CreateTransaction(ctx, splynx.TransactionCreate{CustomerID: cid, Type: "debit", Price: 150,
		Description: "Card fee", Category: 4, Date: date(2026, 11, 2)})
	if err != nil {
		t.Fatal(err)
	}
	txs := e.sim.Transactions()
	if len(txs) != 1 || txs[0].ID != tid || txs[0].Total != 150 || txs[0].Type != "debit" || txs[0].Category != 4 {
		t.Errorf("transactions %+v", txs)
	}
	// Finding a transaction by its comment: only the customer's own, only
	// an exact comment.
	other := e.sim.AddCustomer(splynxsim.Customer{Login: "o", Name: "O"})
	for _, tc := range []splynx.TransactionCreate{
		{CustomerID: cid, Type: "debit", Price: 990, Description: "Dishonour fee", Comment: "SP42 dishonour-fee"},
		{CustomerID: cid, Type: "debit", Price: 150, Description: "Card fee", Comment: "SP42 service-fee"},
		{CustomerID: other, Type: "debit", Price: 990, Description: "Dishonour fee", Comment: "SP42 dishonour-fee"},
		{CustomerID: cid, Type: "debit", Price: 990, Description: "Dishonour fee", Comment: "SP42 dishonour-fee again"},
	} {
		tc.Category, tc.Date = 4, date(2026, 11, 3)
		if _, err := c.CreateTransaction(ctx, tc); err != nil {
			t.Fatal(err)
		}
	}
	found, err := c.FindTransactionsByComment(ctx, cid, "SP42 dishonour-fee")
	if err != nil {
		t.Fatal(err)
	}
	if len(found) != 1 || int64(found[0].CustomerID) != cid || found[0].Total != 990 || found[0].Comment != "SP42 dishonour-fee" ||
		found[0].Type != "debit" || found[0].Description != "Dishonour fee" {
		t.Errorf("found %+v", found)
	}
	if found, err := c.FindTransactionsByComment(ctx, cid, "SP43 dishonour-fee"); err != nil || len(found) != 0 {
		t.Errorf("found %+v %v for a comment no transaction has", found, err)
	}
	if _, err := c.FindTransactionsByComment(ctx, cid, ""); err == nil {
		t.Error("an empty comment was accepted")
	}
	sid, err := c.CreateBankStatement(ctx, splynx.BankStatement{Title: "IntegraPay 11/2026", PaymentType: 3, Status: "success"})
	if err != nil {
		t.Fatal(err)
	}
	rid, err := c.CreateBankStatementRecord(ctx, splynx.BankStatementRecord{BankStatementsProcessID: splynx.ID(sid),
		Amount: 1250, Status: "new", CustomerID: splynx.ID(cid), PaymentDate: splynx.NewDate(date(2026, 11, 2)), Comment: "IntegraPay"})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.UpdateBankStatementRecord(ctx, rid, map[string]any{"status": "processed"}); err != nil {
		t.Fatal(err)
	}
	recs := e.sim.BankStatementRecords()
	if len(recs) != 1 || recs[0].Status != "processed" || recs[0].Amount != 1250 {
		t.Errorf("statement records %+v", recs)
	}
	n := 0
	for st, err := range c.ListBankStatements(ctx, splynx.Search{}) {
		if err != nil {
			t.Fatal(err)
		}
		if int64(st.ID) != sid || st.Title != "IntegraPay 11/2026" {
			t.Errorf("statement %+v", st)
		}
		n++
	}
	if n != 1 {
		t.Errorf("%d statements", n)
	}
}
