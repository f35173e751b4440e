package splynxsim

import (
	"net/http/httptest"
	"testing"
)

// BenchmarkRenderInvoicePage measures the simulator side of a listing: one
// page of 500 seeded invoices rendered to JSON (no HTTP).
func BenchmarkRenderInvoicePage(b *testing.B) {
	s := New(Options{})
	s.SetRequestLog(false)
	s.Seed(SeedConfig{Seed: 1, Customers: 10000, Invoices: 100000})
	s.AddAPIKey(testKey, testSecret)
	q, _ := parseListQuery("order%5Bid%5D=ASC&limit=500&offset=50000")
	v := s.docView("invoices", true)
	_ = v.prepare(q)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c := &rctx{s: s, method: "GET", query: "order%5Bid%5D=ASC&limit=500&offset=50000", r: httptest.NewRequest("GET", "/", nil), header: map[string][]string{}}
		list(c, &s.invoices, v, func(w *jw, r *docRec) { s.renderDoc(w, r, true) })
	}
}
