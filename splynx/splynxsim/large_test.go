package splynxsim

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// TestLargeSeedAndPaging checks the sizes the benchmark uses: 100k
// customers and 1M invoices seed in seconds, stay lean in memory, and a
// page deep into the listing costs the same as the first. Heavy, so it
// runs only with SPLYNXSIM_LARGE=1.
func TestLargeSeedAndPaging(t *testing.T) {
	if os.Getenv("SPLYNXSIM_LARGE") == "" {
		t.Skip("set SPLYNXSIM_LARGE=1 to seed 100k customers and 1M invoices")
	}
	runtime.GC()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	s := New(Options{})
	start := time.Now()
	s.Seed(SeedConfig{Seed: 1, Customers: 100000, Invoices: 1000000, Proformas: 50000})
	seedTime := time.Since(start)
	runtime.GC()
	runtime.ReadMemStats(&m1)
	t.Logf("seed: %v, counts %+v, live heap %d MiB", seedTime, s.Counts(), (m1.HeapAlloc-m0.HeapAlloc)>>20)
	if seedTime > 15*time.Second {
		t.Errorf("seeding took %v", seedTime)
	}
	s.AddAPIKey(testKey, testSecret)
	s.SetRequestLog(false)
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	api := &apiCaller{t: t, base: srv.URL + "/api/2.0/", key: testKey, secret: testSecret, nonce: new(atomic.Int64), ua: "large"}
	timePage := func(q string) time.Duration {
		const n = 20
		st := time.Now()
		for range n {
			r := api.do(http.MethodGet, q, nil)
			if r.status != 200 {
				t.Fatalf("%s: %d", q, r.status)
			}
		}
		return time.Since(st) / n
	}
	first := timePage("admin/finance/invoices?order%5Bid%5D=ASC&limit=500&offset=0")
	deep := timePage("admin/finance/invoices?order%5Bid%5D=ASC&limit=500&offset=999000")
	filtered := timePage("admin/finance/invoices?main_attributes%5Bdate_updated%5D%5B0%5D=%3E%3D&main_attributes%5Bdate_updated%5D%5B1%5D=2025-01-01&limit=500&offset=400000")
	perCustomer := time.Now()
	for cid := 1; cid <= 200; cid++ {
		api.mustDo(http.MethodGet, fmt.Sprintf("admin/finance/invoices?main_attributes%%5Bcustomer_id%%5D=%d&main_attributes%%5Bstatus%%5D=not_paid", cid), nil, 200)
	}
	t.Logf("page of 500: first %v, deep %v, filtered (cached) %v; per-customer unpaid query %v",
		first, deep, filtered, time.Since(perCustomer)/200)
	if deep > 5*first+20*time.Millisecond {
		t.Errorf("deep page %v vs first %v: paging is not O(page)", deep, first)
	}
	// Whole listing throughput, raw bytes.
	st := time.Now()
	total := 0
	for off := 0; off < 1000000; off += 1000 {
		req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("%sadmin/finance/invoices?limit=1000&offset=%d", api.base, off), nil)
		req.Header.Set("Authorization", api.authHeader())
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, res.Body)
		res.Body.Close()
		total += int(n)
	}
	el := time.Since(st)
	t.Logf("listed 1M invoices in %v (%.0f records/s, %d MiB of JSON)", el, 1e6/el.Seconds(), total>>20)
}
