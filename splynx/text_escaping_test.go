package splynx_test

import (
	"context"
	"testing"

	"github.com/splynx-pay/splynx-pay/internal/money"
	"github.com/splynx-pay/splynx-pay/splynx"
	"github.com/splynx-pay/splynx-pay/splynx/splynxsim"
)

// TestTextWithQuotesAndMarkupSurvivesListing: names and document numbers
// are typed by people, so they can hold quotes, backslashes and markup.
// One such invoice once made the simulator write invalid JSON, and the
// whole page failed to decode (issue 15, injection from Splynx data).
func TestTextWithQuotesAndMarkupSurvivesListing(t *testing.T) {
	texts := []string{`"><img src=x onerror=alert(1)>`, `a\b`, `end\`, `<b>PF</b>&]]>`, `=HYPERLINK("x")`, "tab\there", `ünï "cödé"`}
	e := newEnv(t, splynxsim.Options{})
	want := map[int64]string{}
	for _, s := range texts {
		cid := e.sim.AddCustomer(splynxsim.Customer{Login: "c", Name: s})
		want[e.sim.AddInvoice(splynxsim.Invoice{CustomerID: cid, Number: s, Total: money.MustParse("1.00")})] = s
		want[-e.sim.AddProforma(splynxsim.Proforma{CustomerID: cid, Number: s, Total: money.MustParse("1.00")})] = s
	}
	c := e.client(t, splynx.AuthAPIKeyToken)
	ctx := context.Background()
	n := 0
	for inv, err := range c.ListInvoices(ctx, splynx.Search{Limit: 3}) {
		if err != nil {
			t.Fatal(err)
		}
		if inv.Number != want[int64(inv.ID)] {
			t.Errorf("invoice %d: number %q, want %q", inv.ID, inv.Number, want[int64(inv.ID)])
		}
		n++
	}
	for pf, err := range c.ListProformas(ctx, splynx.Search{Limit: 3}) {
		if err != nil {
			t.Fatal(err)
		}
		if pf.Number != want[-int64(pf.ID)] {
			t.Errorf("proforma %d: number %q, want %q", pf.ID, pf.Number, want[-int64(pf.ID)])
		}
		n++
	}
	for cu, err := range c.ListCustomers(ctx, splynx.Search{Limit: 3}) {
		if err != nil {
			t.Fatal(err)
		}
		if cu.Name != texts[int(cu.ID)-1] {
			t.Errorf("customer %d: name %q", cu.ID, cu.Name)
		}
		n++
	}
	if n != 3*len(texts) {
		t.Fatalf("listed %d records, want %d", n, 3*len(texts))
	}
}
