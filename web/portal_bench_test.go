package web

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/splynx-pay/splynx-pay/internal/config"
	"github.com/splynx-pay/splynx-pay/internal/money"
	"github.com/splynx-pay/splynx-pay/splynx/splynxsim"
	"github.com/splynx-pay/splynx-pay/store"
)

// BenchmarkCustomerPages: 50 customers at once over loopback, each
// loading the invoice list, a pay page (which re-reads the invoice from the
// simulated Splynx, no added latency) and the widget. Reports p50/p99 per
// page, the pay page's p99 on each customer's first view (the one that
// waits for Splynx), Splynx requests per page view, and the process's peak
// RSS while it runs (simulators included; the pages served are not kept).
// Targets (issue 13): p99 ≤ 50 ms, RSS ≤ 150 MB.
func BenchmarkCustomerPages(b *testing.B) {
	const customers, rounds = 50, 20
	siteLogLevel = "info"
	defer func() { siteLogLevel = "debug" }()
	ps := newPortalSite(b, config.IntegraPay)
	type visitor struct {
		c   *http.Client
		pay string
	}
	var vs []visitor
	for i := range customers {
		id := ps.sp.AddCustomer(splynxsim.Customer{Name: fmt.Sprintf("Bench Customer %d", i), Login: fmt.Sprintf("bench%d", i), Status: "active"})
		var inv int64
		for j := range 5 {
			inv = ps.sp.AddInvoice(splynxsim.Invoice{CustomerID: id, Total: money.Amount(1000 + 100*j)})
		}
		sid := fmt.Sprintf("bench-session-%d-0123456789abcdef", i)
		if err := ps.db.CreatePortalSession(context.Background(), sid, store.PortalSession{CustomerID: id, Via: "login"}, ps.clk.Now()); err != nil {
			b.Fatal(err)
		}
		tr := &http.Transport{MaxIdleConnsPerHost: 4}
		b.Cleanup(tr.CloseIdleConnections)
		c := &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		c.Jar = newJar(ps.srv.URL, sid)
		vs = append(vs, visitor{c, fmt.Sprintf("/pay/invoice/%d", inv)})
	}
	ps.mirror()
	ps.served.discard = true
	pages := []string{"invoices", "pay", "widget"}
	var (
		mu    sync.Mutex
		lat   = map[string][]time.Duration{}
		first []time.Duration // each customer's first pay page view
		fails int
	)
	ps.sp.ResetRequests()
	peak := rssWatch(b)
	cpu0 := cpuTime()
	b.ResetTimer()
	for range b.N {
		var wg sync.WaitGroup
		for _, v := range vs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for round := range rounds {
					for _, pg := range pages {
						p := map[string]string{"invoices": "/invoices", "pay": v.pay, "widget": "/widget"}[pg]
						start := time.Now()
						resp, err := v.c.Get(ps.url(p))
						d := time.Since(start)
						ok := err == nil && resp.StatusCode == http.StatusOK
						if err == nil {
							io.Copy(io.Discard, resp.Body)
							resp.Body.Close()
						}
						mu.Lock()
						lat[pg] = append(lat[pg], d)
						if pg == "pay" && round == 0 {
							first = append(first, d)
						}
						if !ok {
							fails++
						}
						mu.Unlock()
					}
				}
			}()
		}
		wg.Wait()
	}
	b.StopTimer()
	cpu := cpuTime() - cpu0
	if fails > 0 {
		b.Fatalf("%d requests failed", fails)
	}
	views := 0
	for _, pg := range pages {
		l := lat[pg]
		views += len(l)
		sort.Slice(l, func(i, j int) bool { return l[i] < l[j] })
		b.ReportMetric(float64(l[len(l)/2].Microseconds())/1000, pg+"-p50-ms")
		b.ReportMetric(float64(l[len(l)*99/100].Microseconds())/1000, pg+"-p99-ms")
	}
	sort.Slice(first, func(i, j int) bool { return first[i] < first[j] })
	b.ReportMetric(float64(first[len(first)*99/100].Microseconds())/1000, "pay-first-view-p99-ms")
	// Splynx requests per view: the pay page's reads of the invoice (a
	// single GET or an id search of several, docbatch.go) and anything
	// else the pages asked.
	reads, all := 0, 0
	for _, rq := range ps.sp.Requests() {
		all++
		if rq.Method == http.MethodGet && (rq.Path == "admin/finance/invoices" || strings.HasPrefix(rq.Path, "admin/finance/invoices/")) {
			reads++
		}
	}
	b.ReportMetric(float64(reads)/float64(len(lat["pay"])), "splynx-reads/pay-view")
	b.ReportMetric(float64(all)/float64(views), "splynx-req/view")
	// CPU time of the whole process (pages, simulators and the 50 clients)
	// per view: what the load of the machine does not change much.
	b.ReportMetric(float64(cpu.Microseconds())/float64(views), "cpu-µs/view")
	b.ReportMetric(float64(peak())/(1<<20), "peak-rss-MB")
}

// newJar is a cookie jar holding our session cookie for the site, and
// keeping what the site sets (its CSRF cookie) as a browser does: a jar that
// dropped it would have the site mint a new one on every view.
func newJar(base, sid string) http.CookieJar {
	_ = base
	return &fixedJar{cookies: []*http.Cookie{{Name: PortalCookie, Value: sid}}}
}

type fixedJar struct {
	mu      sync.Mutex
	cookies []*http.Cookie
}

func (j *fixedJar) SetCookies(_ *url.URL, cs []*http.Cookie) {
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, c := range cs {
		j.cookies = slices.DeleteFunc(j.cookies, func(o *http.Cookie) bool { return o.Name == c.Name })
		if c.MaxAge >= 0 && c.Value != "" {
			j.cookies = append(j.cookies, &http.Cookie{Name: c.Name, Value: c.Value})
		}
	}
}

func (j *fixedJar) Cookies(*url.URL) []*http.Cookie {
	j.mu.Lock()
	defer j.mu.Unlock()
	return slices.Clone(j.cookies)
}

// rssWatch samples the process's resident set size until the benchmark
// ends and returns a function giving the peak in bytes.
func rssWatch(b *testing.B) func() int64 {
	var mu sync.Mutex
	var peak int64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			if v := rss(); v > 0 {
				mu.Lock()
				peak = max(peak, v)
				mu.Unlock()
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	var once sync.Once
	b.Cleanup(func() { once.Do(func() { close(stop); <-done }) })
	return func() int64 {
		once.Do(func() { close(stop); <-done })
		mu.Lock()
		defer mu.Unlock()
		return peak
	}
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// rss reads VmRSS from /proc (Linux); 0 elsewhere.
func rss() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}
