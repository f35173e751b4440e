package splynx_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/splynx-pay/splynx-pay/splynx"
	"github.com/splynx-pay/splynx-pay/splynx/splynxsim"
)

// heapSampler records the peak live heap while a pass runs, so "memory
// stays flat" is a measured number rather than a promise.
type heapSampler struct {
	stop chan struct{}
	done sync.WaitGroup
	peak atomic.Uint64
}

func startHeapSampler(every time.Duration) *heapSampler {
	h := &heapSampler{stop: make(chan struct{})}
	h.done.Add(1)
	go func() {
		defer h.done.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc > h.peak.Load() {
				h.peak.Store(ms.HeapAlloc)
			}
			select {
			case <-h.stop:
				return
			case <-t.C:
			}
		}
	}()
	return h
}

func (h *heapSampler) Stop() uint64 {
	close(h.stop)
	h.done.Wait()
	return h.peak.Load()
}

func baselineHeap() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// BenchmarkListInvoices streams SPLYNX_BENCH_INVOICES invoices (default
// 100000; `make bench` asks for 1,000,000) from splynxsim over loopback,
// once decoded into typed records by the client and once fetched raw (the
// same page requests, bodies copied to io.Discard). The ratio of the two
// rates is the price of decoding. Heap figures are above the baseline taken
// after seeding (the simulator's own data lives in this process too): the
// peak HeapAlloc seen during the timed passes, and the live heap measured
// in an untimed pass, which is the one that shows memory staying flat.
func BenchmarkListInvoices(b *testing.B) {
	n := 100000
	if v := os.Getenv("SPLYNX_BENCH_INVOICES"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n <= 0 {
			b.Fatalf("SPLYNX_BENCH_INVOICES=%q: want a positive number", v)
		}
	}
	sim := splynxsim.New(splynxsim.Options{})
	sim.SetRequestLog(false)
	customers := max(n/10, 1)
	sim.Seed(splynxsim.SeedConfig{Seed: 1, Customers: customers, Invoices: n})
	if got := sim.Counts().Invoices; got != n {
		b.Fatalf("seeded %d invoices, want %d", got, n)
	}
	sim.AddAPIKey("bench", "bench-secret")
	sim.AddAPIKey("bench-raw", "bench-raw-secret")
	srv := httptest.NewServer(sim.Handler())
	defer srv.Close()

	ctx := context.Background()
	c, err := splynx.New(splynx.Config{BaseURL: srv.URL, APIKey: "bench", APISecret: "bench-secret", Timeout: time.Minute},
		splynx.WithClock(sim.Clock()))
	if err != nil {
		b.Fatal(err)
	}
	if err := c.Check(ctx); err != nil { // log in before timing
		b.Fatal(err)
	}
	hc := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone(), Timeout: time.Minute}
	var rawNonce int64 = 1

	rawPass := func(perPage func()) (int64, error) {
		var bytes int64
		for offset := 0; ; offset += splynx.DefaultPageSize {
			q := splynx.Search{Order: []splynx.OrderBy{splynx.Asc("id")}, Limit: splynx.DefaultPageSize, Offset: offset}
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/api/2.0/admin/finance/invoices?"+q.Encode(), nil)
			if err != nil {
				return bytes, err
			}
			rawNonce++
			req.Header.Set("Authorization", fmt.Sprintf("Splynx-EA (key=bench-raw&nonce=%d&signature=%s)",
				rawNonce, splynx.Sign("bench-raw-secret", rawNonce, "bench-raw")))
			resp, err := hc.Do(req)
			if err != nil {
				return bytes, err
			}
			m, err := io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if err != nil || resp.StatusCode != http.StatusOK {
				return bytes, fmt.Errorf("page at %d: status %d: %v", offset, resp.StatusCode, err)
			}
			bytes += m
			if perPage != nil {
				perPage()
			}
			if offset+splynx.DefaultPageSize >= n {
				return bytes, nil
			}
		}
	}
	decodePass := func(perPage func()) (int, error) {
		count := 0
		var sum int64
		for inv, err := range c.ListInvoices(ctx, splynx.Search{}) {
			if err != nil {
				return count, err
			}
			count++
			sum += int64(inv.Total)
			if perPage != nil && count%splynx.DefaultPageSize == 0 {
				perPage()
			}
		}
		if sum == 0 {
			return count, fmt.Errorf("decoded totals sum to 0")
		}
		return count, nil
	}

	base := baselineHeap()
	var rawDur, decDur time.Duration
	var rawPeak, decPeak uint64
	var rawBytes int64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		hs := startHeapSampler(5 * time.Millisecond)
		start := time.Now()
		nb, err := rawPass(nil)
		rawDur += time.Since(start)
		rawPeak = max(rawPeak, hs.Stop())
		if err != nil {
			b.Fatalf("raw fetch: %v", err)
		}
		rawBytes += nb

		baselineHeap()
		hs = startHeapSampler(5 * time.Millisecond)
		start = time.Now()
		got, err := decodePass(nil)
		decDur += time.Since(start)
		decPeak = max(decPeak, hs.Stop())
		if err != nil {
			b.Fatalf("decoded listing: %v", err)
		}
		if got != n {
			b.Fatalf("listed %d invoices, want %d", got, n)
		}
	}
	b.StopTimer()

	// HeapAlloc sampled during the timed passes includes garbage the GC
	// has not collected yet, which grows with GOGC headroom, not with the
	// listing. The live heap is measured in one more, untimed pass that
	// collects every 20 pages and reads what survives.
	liveDuring := func(pass func(perPage func()) error) (uint64, error) {
		var peak uint64
		pages := 0
		err := pass(func() {
			pages++
			if pages%20 == 0 {
				runtime.GC()
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapAlloc)
			}
		})
		return peak, err
	}
	base = baselineHeap()
	rawLive, err := liveDuring(func(f func()) error { _, err := rawPass(f); return err })
	if err != nil {
		b.Fatal(err)
	}
	decLive, err := liveDuring(func(f func()) error { _, err := decodePass(f); return err })
	if err != nil {
		b.Fatal(err)
	}

	records := float64(n) * float64(b.N)
	rawRate := records / rawDur.Seconds()
	decRate := records / decDur.Seconds()
	above := func(p uint64) float64 {
		if p < base {
			return 0
		}
		return float64(p-base) / (1 << 20)
	}
	b.ReportMetric(decRate, "records/s")
	b.ReportMetric(rawRate, "raw-records/s")
	b.ReportMetric(rawRate/decRate, "raw/decoded")
	b.ReportMetric(above(decPeak), "peak-heap-MiB")
	b.ReportMetric(above(rawPeak), "raw-peak-heap-MiB")
	b.ReportMetric(above(decLive), "live-heap-MiB")
	b.ReportMetric(above(rawLive), "raw-live-heap-MiB")
	b.ReportMetric(float64(rawBytes)/float64(b.N)/float64(n), "bytes/record")
	b.Logf("%d invoices: decoded %.0f rec/s (heap peak +%.1f MiB, live +%.2f MiB), raw %.0f rec/s (peak +%.1f MiB, live +%.2f MiB), raw/decoded %.2f, baseline heap %.1f MiB",
		n, decRate, above(decPeak), above(decLive), rawRate, above(rawPeak), above(rawLive), rawRate/decRate, float64(base)/(1<<20))
}
