package splynxsim

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/splynx-pay/splynx-pay/internal/money"
)

func ids(t *testing.T, r resp) []int64 {
	t.Helper()
	var out []int64
	for _, m := range r.list(t) {
		id, err := strconv.ParseInt(str(m["id"]), 10, 64)
		if err != nil {
			t.Fatalf("id %v: %v", m["id"], err)
		}
		out = append(out, id)
	}
	return out
}

func day(s string) time.Time {
	t, err := time.Parse("2006-01-02 15:04:05", s)
	if err != nil {
		t, _ = time.Parse("2006-01-02", s)
	}
	return t
}

func TestSearchOperators(t *testing.T) {
	s, api := newTestSim(t, Options{}, &SeedConfig{Partners: 3})
	people := []Customer{
		{Name: "Ann Lee", Email: "ann@example.com", Status: "active", PartnerID: 1, AdditionalAttributes: map[string]string{"autopay": "0"}},
		{Name: "Bob Ray", Email: "bob@example.org", Status: "blocked", PartnerID: 2},
		{Name: "Cat Wu", Email: "cat@example.com", Status: "active", PartnerID: 2, AdditionalAttributes: map[string]string{"autopay": "1"}},
		{Name: "Dan Oak", Email: "dan@example.net", Status: "disabled", PartnerID: 3},
		{Name: "Eve Ash", Email: "EVE@example.com", Status: "new", PartnerID: 1},
	}
	for _, p := range people {
		s.AddCustomer(p)
	}
	totals := []string{"10.00", "99.99", "100.00", "100.01", "250.50", "9.50"}
	for i, tot := range totals {
		s.AddInvoice(Invoice{CustomerID: int64(i%5 + 1), Total: money.MustParse(tot),
			DateCreated: day(fmt.Sprintf("2026-10-%02d", i+1)), RealCreateDatetime: day(fmt.Sprintf("2026-10-%02d 10:00:00", i+1)),
			DateUpdated: day(fmt.Sprintf("2026-10-%02d 12:30:00", i+1))})
	}
	cases := []struct {
		path string
		want []int64
	}{
		{"admin/customers/customer?main_attributes%5Bstatus%5D=active", []int64{1, 3}},
		{"admin/customers/customer?main_attributes%5Bstatus%5D%5B0%5D=%21%3D&main_attributes%5Bstatus%5D%5B1%5D=active", []int64{2, 4, 5}},
		{"admin/customers/customer?main_attributes%5Bstatus%5D%5B0%5D=%3C%3E&main_attributes%5Bstatus%5D%5B1%5D=active", []int64{2, 4, 5}},
		{"admin/customers/customer?main_attributes%5Bemail%5D%5B0%5D=LIKE&main_attributes%5Bemail%5D%5B1%5D=%25%40example.com", []int64{1, 3, 5}},
		{"admin/customers/customer?main_attributes%5Bname%5D%5B0%5D=LIKE&main_attributes%5Bname%5D%5B1%5D=_a%25", []int64{3, 4}},
		{"admin/customers/customer?main_attributes%5Bpartner_id%5D%5B0%5D=IN&main_attributes%5Bpartner_id%5D%5B1%5D%5B0%5D=2&main_attributes%5Bpartner_id%5D%5B1%5D%5B1%5D=3", []int64{2, 3, 4}},
		{"admin/customers/customer?main_attributes%5Bpartner_id%5D=2&main_attributes%5Bstatus%5D=active", []int64{3}},
		{"admin/customers/customer?additional_attributes%5Bautopay%5D=0", []int64{1}},
		{"admin/customers/customer?additional_attributes%5Bautopay%5D%5B0%5D=%21%3D&additional_attributes%5Bautopay%5D%5B1%5D=0", []int64{2, 3, 4, 5}},
		{"admin/customers/customer?main_attributes%5Bid%5D%5B0%5D=%3E&main_attributes%5Bid%5D%5B1%5D=3", []int64{4, 5}},
		{"admin/customers/customer?main_attributes%5Bid%5D%5B0%5D=BETWEEN&main_attributes%5Bid%5D%5B1%5D=2&main_attributes%5Bid%5D%5B2%5D=4", []int64{2, 3, 4}},
		{"admin/customers/customer?order%5Bname%5D=DESC", []int64{5, 4, 3, 2, 1}},
		{"admin/customers/customer?order%5Bid%5D=DESC&limit=2&offset=1", []int64{4, 3}},
		// Money compares numerically, not as text ("9.50" < "10.00").
		{"admin/finance/invoices?main_attributes%5Btotal%5D%5B0%5D=%3E%3D&main_attributes%5Btotal%5D%5B1%5D=100", []int64{3, 4, 5}},
		{"admin/finance/invoices?main_attributes%5Btotal%5D%5B0%5D=%3C&main_attributes%5Btotal%5D%5B1%5D=10", []int64{6}},
		{"admin/finance/invoices?main_attributes%5Btotal%5D%5B0%5D=%3C%3D&main_attributes%5Btotal%5D%5B1%5D=99.99", []int64{1, 2, 6}},
		{"admin/finance/invoices?main_attributes%5Btotal%5D%5B0%5D=BETWEEN&main_attributes%5Btotal%5D%5B1%5D=99.99&main_attributes%5Btotal%5D%5B2%5D=100.01", []int64{2, 3, 4}},
		{"admin/finance/invoices?order%5Btotal%5D=ASC", []int64{6, 1, 2, 3, 4, 5}},
		// Dates compare as text: a date-only bound against a datetime column.
		{"admin/finance/invoices?main_attributes%5Bdate_updated%5D%5B0%5D=%3E%3D&main_attributes%5Bdate_updated%5D%5B1%5D=2026-10-04", []int64{4, 5, 6}},
		{"admin/finance/invoices?main_attributes%5Breal_create_datetime%5D%5B0%5D=%3E&main_attributes%5Breal_create_datetime%5D%5B1%5D=2026-10-05%2010%3A00%3A00", []int64{6}},
		{"admin/finance/invoices?main_attributes%5Bdate_created%5D%5B0%5D=%3C&main_attributes%5Bdate_created%5D%5B1%5D=2026-10-03", []int64{1, 2}},
		{"admin/finance/invoices?main_attributes%5Bstatus%5D=not_paid&main_attributes%5Bcustomer_id%5D=1", []int64{1, 6}},
		{"admin/finance/invoices?main_attributes%5Bnumber%5D%5B0%5D=LIKE&main_attributes%5Bnumber%5D%5B1%5D=%2500000003", []int64{3}},
	}
	for _, tc := range cases {
		r := api.mustDo(http.MethodGet, tc.path, nil, 200)
		if got := ids(t, r); !slices.Equal(got, tc.want) {
			t.Errorf("%s\n got %v\nwant %v", tc.path, got, tc.want)
		}
	}
	bad := []string{
		"admin/customers/customer?main_attributes%5Bnope%5D=1",
		"admin/customers/customer?main_attributes%5Bid%5D%5B0%5D=SOUNDS&main_attributes%5Bid%5D%5B1%5D=1",
		"admin/customers/customer?order%5Bid%5D=SIDEWAYS",
		"admin/customers/customer?limit=-1",
	}
	for _, p := range bad {
		if r := api.do(http.MethodGet, p, nil); r.status != 400 {
			t.Errorf("%s: status %d, want 400", p, r.status)
		}
	}
}

func TestPagingAndHeadCounts(t *testing.T) {
	for _, hs := range []int{0, 200} {
		t.Run(fmt.Sprint("head ", hs), func(t *testing.T) {
			s, api := newTestSim(t, Options{HeadStatus: hs}, &SeedConfig{Seed: 9, Customers: 40, Invoices: 1234, Proformas: 20})
			want := hs
			if want == 0 {
				want = 204
			}
			r := api.mustDo(http.MethodHead, "admin/finance/invoices", nil, want)
			if r.header.Get("X-total-count") != "1234" || len(r.body) != 0 {
				t.Fatalf("HEAD count %q body %q", r.header.Get("X-total-count"), r.body)
			}
			var all []int64
			for off := 0; ; off += 100 {
				page := ids(t, api.mustDo(http.MethodGet, fmt.Sprintf("admin/finance/invoices?order%%5Bid%%5D=ASC&limit=100&offset=%d", off), nil, 200))
				all = append(all, page...)
				if len(page) < 100 {
					break
				}
			}
			if len(all) != 1234 || !slices.IsSorted(all) || all[0] != 1 || all[1233] != 1234 {
				t.Fatalf("paged %d ids, sorted=%v", len(all), slices.IsSorted(all))
			}
			// A filtered count equals the filtered listing, page by page.
			q := "main_attributes%5Bstatus%5D=not_paid&main_attributes%5Bdate_updated%5D%5B0%5D=%3E%3D&main_attributes%5Bdate_updated%5D%5B1%5D=2026-01-01"
			cnt := api.mustDo(http.MethodHead, "admin/finance/invoices?"+q, nil, want).header.Get("X-total-count")
			var filtered []int64
			for off := 0; ; off += 7 {
				page := ids(t, api.mustDo(http.MethodGet, fmt.Sprintf("admin/finance/invoices?%s&limit=7&offset=%d", q, off), nil, 200))
				filtered = append(filtered, page...)
				if len(page) < 7 {
					break
				}
			}
			var brute []int64
			for id := int64(1); id <= 1234; id++ {
				inv, _ := s.Invoice(id)
				if inv.Status == "not_paid" && inv.DateUpdated.Format("2006-01-02 15:04:05") >= "2026-01-01" {
					brute = append(brute, id)
				}
			}
			if cnt != strconv.Itoa(len(brute)) || !slices.Equal(filtered, brute) || len(brute) == 0 {
				t.Fatalf("count %s, paged %d, brute force %d", cnt, len(filtered), len(brute))
			}
			// Descending by id, past the end, and an empty page.
			desc := ids(t, api.mustDo(http.MethodGet, "admin/finance/invoices?order%5Bid%5D=DESC&limit=3", nil, 200))
			if !slices.Equal(desc, []int64{1234, 1233, 1232}) {
				t.Fatalf("desc = %v", desc)
			}
			if r := api.mustDo(http.MethodGet, "admin/finance/invoices?limit=10&offset=5000", nil, 200); string(r.body) != "[]" {
				t.Fatalf("past the end: %s", r.body)
			}
			if c := api.mustDo(http.MethodHead, "admin/customers/customer?main_attributes%5Bstatus%5D=active", nil, want).header.Get("X-total-count"); c == "" || c == "0" {
				t.Fatalf("active customers count %q", c)
			}
		})
	}
}

func TestListCacheSeesChanges(t *testing.T) {
	s, api := newTestSim(t, Options{}, &SeedConfig{Seed: 5, Customers: 10, Invoices: 50})
	q := "admin/finance/invoices?main_attributes%5Bstatus%5D=not_paid&limit=1000"
	before := ids(t, api.mustDo(http.MethodGet, q, nil, 200))
	if len(before) == 0 {
		t.Skip("seed produced no unpaid invoice")
	}
	inv, _ := s.Invoice(before[0])
	api.mustDo(http.MethodPost, "admin/finance/payments", map[string]any{"customer_id": inv.CustomerID, "invoice_id": inv.ID,
		"payment_type": 3, "amount": inv.Due.String(), "date": "2026-11-02"}, 201)
	after := ids(t, api.mustDo(http.MethodGet, q, nil, 200))
	if slices.Contains(after, inv.ID) || len(after) != len(before)-1 {
		t.Fatalf("paid invoice still listed as not_paid: before %d after %d", len(before), len(after))
	}
	// The customer_id index follows inserts.
	byCust := "admin/finance/invoices?main_attributes%5Bcustomer_id%5D=" + strconv.FormatInt(inv.CustomerID, 10)
	n1 := len(ids(t, api.mustDo(http.MethodGet, byCust, nil, 200)))
	nid := s.AddInvoice(Invoice{CustomerID: inv.CustomerID, Total: 100})
	got := ids(t, api.mustDo(http.MethodGet, byCust, nil, 200))
	if len(got) != n1+1 || got[len(got)-1] != nid {
		t.Fatalf("customer invoices %v after adding %d (had %d)", got, nid, n1)
	}
	for _, id := range got {
		if x, _ := s.Invoice(id); x.CustomerID != inv.CustomerID {
			t.Fatalf("invoice %d of customer %d listed for %d", id, x.CustomerID, inv.CustomerID)
		}
	}
}

func TestSeedIsDeterministicAndBalanced(t *testing.T) {
	cfg := SeedConfig{Seed: 77, Customers: 300, Invoices: 5000, Proformas: 400, Partners: 3, Locations: 4}
	a, b := New(Options{}), New(Options{})
	a.Seed(cfg)
	b.Seed(cfg)
	if a.Counts() != b.Counts() {
		t.Fatalf("counts differ: %+v vs %+v", a.Counts(), b.Counts())
	}
	for _, id := range []int64{1, 150, 300} {
		ca, _ := a.Customer(id)
		cb, _ := b.Customer(id)
		ba, _ := a.Billing(id)
		bb, _ := b.Billing(id)
		if ca.Name != cb.Name || ca.Email != cb.Email || ba != bb {
			t.Fatalf("customer %d differs between runs", id)
		}
	}
	// Ledger invariant: deposit == Σ payments − Σ totals of live invoices.
	dep := map[int64]money.Amount{}
	for _, p := range a.Payments() {
		dep[p.CustomerID] += p.Amount
	}
	statuses := map[string]int{}
	partial := 0
	for id := int64(1); id <= 5000; id++ {
		inv, ok := a.Invoice(id)
		if !ok {
			t.Fatalf("invoice %d missing", id)
		}
		statuses[inv.Status]++
		if inv.Status != "deleted" {
			dep[inv.CustomerID] -= inv.Total
		}
		if inv.Status == "not_paid" && inv.Due < inv.Total {
			partial++
		}
		if inv.Total < 1000 || inv.Total > 20000 || itemsTotal(inv.Items) != inv.Total {
			t.Fatalf("invoice %d total %v items %v", id, inv.Total, itemsTotal(inv.Items))
		}
		if inv.Status == "paid" && (inv.Due != 0 || inv.PaymentID == 0) {
			t.Fatalf("paid invoice %d: %+v", id, inv)
		}
	}
	for id := int64(1); id <= 300; id++ {
		bl, _ := a.Billing(id)
		if bl.Deposit != dep[id] {
			t.Fatalf("customer %d deposit %v, ledger says %v", id, bl.Deposit, dep[id])
		}
	}
	if statuses["paid"] < 4000 || statuses["not_paid"] < 100 || statuses["deleted"] < 20 || partial < 50 {
		t.Fatalf("unrealistic spread: %v, partial %d", statuses, partial)
	}
	methods := map[int64]int{}
	custStatus := map[string]int{}
	for id := int64(1); id <= 300; id++ {
		bl, _ := a.Billing(id)
		methods[bl.PaymentMethod]++
		c, _ := a.Customer(id)
		custStatus[c.Status]++
	}
	if len(methods) < 5 || custStatus["active"] < 200 || custStatus["blocked"] == 0 || custStatus["new"] == 0 {
		t.Fatalf("spread: methods %v statuses %v", methods, custStatus)
	}
}

func TestLooseTypeOptions(t *testing.T) {
	cases := []struct {
		opts      Options
		id, total string
	}{
		{Options{}, `"id":"1"`, `"total":"120.0000"`},
		{Options{IDsAsNumbers: true}, `"id":1`, `"total":"120.0000"`},
		{Options{MoneyAsNumbers: true}, `"id":"1"`, `"total":120`},
		{Options{IDsAsNumbers: true, MoneyAsNumbers: true}, `"id":1`, `"total":120`},
	}
	for _, tc := range cases {
		s, api := newTestSim(t, tc.opts, &SeedConfig{})
		cid := s.AddCustomer(Customer{Name: "Loose"})
		s.AddInvoice(Invoice{CustomerID: cid, Total: 12000, DatePayment: time.Time{}})
		body := string(api.mustDo(http.MethodGet, "admin/finance/invoices/1", nil, 200).body)
		if !strings.Contains(body, tc.id) || !strings.Contains(body, tc.total) || !strings.Contains(body, `"date_payment":"0000-00-00"`) {
			t.Errorf("%+v: %s", tc.opts, body)
		}
	}
}
