package splynx_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/splynx-pay/splynx-pay/internal/money"
	"github.com/splynx-pay/splynx-pay/splynx"
	"github.com/splynx-pay/splynx-pay/splynx/splynxsim"
)

// byIDEnv seeds n customers with one invoice and one proforma each; the
// invoice of customer i is due i.00.
func byIDEnv(t *testing.T, opts splynxsim.Options, n int) (*env, *splynx.Client, []int64, []int64) {
	t.Helper()
	e := newEnv(t, opts)
	var invs, pfs []int64
	for i := 1; i <= n; i++ {
		c := e.sim.AddCustomer(splynxsim.Customer{Name: "C", Email: "c@example.com"})
		amt := money.Amount(i * 100)
		invs = append(invs, e.sim.AddInvoice(splynxsim.Invoice{CustomerID: c, Total: amt, Status: "not_paid",
			Items: []splynxsim.InvoiceItem{{Description: "Internet", Quantity: 1, Price: amt}}}))
		pfs = append(pfs, e.sim.AddProforma(splynxsim.Proforma{CustomerID: c, Total: amt, Status: "not_paid",
			Items: []splynxsim.InvoiceItem{{Description: "Internet", Quantity: 1, Price: amt}}}))
	}
	return e, e.client(t, splynx.AuthAPIKeyToken), invs, pfs
}

// listRequests counts the GETs of path's list and of its records.
func listRequests(e *env, path string) (lists, gets int) {
	for _, r := range e.sim.Requests() {
		switch {
		case r.Method != http.MethodGet:
		case r.Path == path:
			lists++
		case strings.HasPrefix(r.Path, path+"/"):
			gets++
		}
	}
	return lists, gets
}

// One request reads exactly the asked invoices (and proformas) out of many,
// with their current status and due; an id Splynx does not have is simply
// not in the answer.
func TestInvoicesByIDOneRequest(t *testing.T) {
	e, c, invs, pfs := byIDEnv(t, splynxsim.Options{}, 250)
	ctx := context.Background()
	var ask []int64
	for i := 3; i < len(invs); i += 3 { // 83 scattered ids
		ask = append(ask, invs[i])
	}
	e.sim.UpdateInvoice(invs[6], func(inv *splynxsim.Invoice) { inv.Due = money.MustParse("1.25") })
	e.sim.ResetRequests()
	got, err := c.InvoicesByID(ctx, append(ask, 999999))
	if err != nil {
		t.Fatal(err)
	}
	if lists, gets := listRequests(e, "admin/finance/invoices"); lists != 1 || gets != 0 {
		t.Fatalf("%d list and %d single requests, want 1 and 0", lists, gets)
	}
	var gotIDs []int64
	for _, inv := range got {
		gotIDs = append(gotIDs, int64(inv.ID))
		want := money.Amount(slices.Index(invs, int64(inv.ID))+1) * 100
		if int64(inv.ID) == invs[6] {
			want = money.MustParse("1.25")
		}
		if inv.Status != "not_paid" || money.Amount(inv.Due) != want {
			t.Errorf("invoice %d: %s due %s, want not_paid due %s", inv.ID, inv.Status, money.Amount(inv.Due), want)
		}
	}
	if !slices.Equal(gotIDs, ask) {
		t.Fatalf("got ids %v, want %v", gotIDs, ask)
	}
	pf, err := c.ProformasByID(ctx, []int64{pfs[0], pfs[9]})
	if err != nil || len(pf) != 2 || int64(pf[0].ID) != pfs[0] || pf[1].Total != 1000 {
		t.Fatalf("proformas %+v, %v", pf, err)
	}
}

// What a list leaves out is left out of the answer, without an error: the
// caller must not take it as deleted (the record is still there by GET).
func TestInvoicesByIDMissingIsNotAnError(t *testing.T) {
	e, c, invs, _ := byIDEnv(t, splynxsim.Options{}, 5)
	e.sim.HideFromLists(true, invs[1])
	got, err := c.InvoicesByID(context.Background(), invs)
	if err != nil || len(got) != 4 || slices.ContainsFunc(got, func(inv splynx.Invoice) bool { return int64(inv.ID) == invs[1] }) {
		t.Fatalf("got %d invoices, %v; want the 4 not hidden", len(got), err)
	}
	if inv, err := c.GetInvoice(context.Background(), invs[1]); err != nil || inv.Status != "not_paid" {
		t.Fatalf("hidden invoice by GET: %+v, %v", inv, err)
	}
}

// A Splynx that refuses IN, an answer with a record that was not asked for
// (a search that was ignored) or twice, and a list longer than one request
// may carry are errors, not a short answer.
func TestInvoicesByIDRefusals(t *testing.T) {
	ctx := context.Background()
	e, c, invs, _ := byIDEnv(t, splynxsim.Options{NoInSearch: true}, 3)
	_, err := c.InvoicesByID(ctx, invs)
	var ae *splynx.APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusBadRequest {
		t.Fatalf("IN refused: %v, want the 400", err)
	}

	e, c, invs, _ = byIDEnv(t, splynxsim.Options{}, 3)
	for name, body := range map[string]string{
		"not asked": `[{"id":"1","status":"not_paid","due":"1.00"},{"id":"77","status":"not_paid","due":"5.00"}]`,
		"twice":     `[{"id":"2","status":"not_paid","due":"2.00"},{"id":"2","status":"paid","due":"0"}]`,
		"malformed": `[{"id":"1","status":"not_paid","due":"1.00"},{"id"`,
		"an object": `{"error":"no"}`,
	} {
		e.sim.SetFault("admin/finance/invoices", splynxsim.Fault{ErrorRate: 1, Status: http.StatusOK, Body: body})
		if got, err := c.InvoicesByID(ctx, invs); err == nil {
			t.Errorf("%s: got %+v, want an error", name, got)
		}
	}
	e.sim.ClearFaults()
	e.sim.ResetRequests()
	many := make([]int64, splynx.MaxIDsPerSearch+1)
	for i := range many {
		many[i] = int64(i + 1)
	}
	if _, err := c.InvoicesByID(ctx, many); err == nil || len(e.sim.Requests()) != 0 {
		t.Fatalf("%d ids: %v after %d requests, want an error before any", len(many), err, len(e.sim.Requests()))
	}
}
