package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/time/rate"

	"github.com/splynx-pay/splynx-pay/splynx"
	"github.com/splynx-pay/splynx-pay/store"
)

// inWindow counts, in Splynx, the invoices and proformas the mirror's
// history window keeps: those created since the cutoff, and older ones
// neither paid nor deleted.
func (b *syncBench) inWindow(ctx context.Context, c *splynx.Client) (invoices, proformas int, err error) {
	cutoff := store.FormatDate(time.Now().AddDate(0, -b.historyMonths, 0))
	recent := splynx.Search{Main: []splynx.Cond{splynx.Where("date_created", ">=", cutoff)}}
	open := splynx.Search{Main: []splynx.Cond{splynx.Where("date_created", "<", cutoff),
		{Field: "status", Op: "NOT IN", Values: []string{"paid", "deleted"}}}}
	for _, t := range []struct {
		count func(context.Context, splynx.Search) (int, error)
		n     *int
	}{{c.CountInvoices, &invoices}, {c.CountProformas, &proformas}} {
		a, err := t.count(ctx, recent)
		if err != nil {
			return 0, 0, err
		}
		o, err := t.count(ctx, open)
		if err != nil {
			return 0, 0, err
		}
		*t.n = a + o
	}
	return invoices, proformas, nil
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// latencyFigures compares a first sync against a simulator with the
// latency model with the raw fetch of the same pages under the same
// pressure limits (the client's defaults: concurrent requests and requests
// per second), which is all a sync could hope for against that Splynx.
func (b *syncBench) latencyFigures(ctx context.Context, stdout io.Writer, rec *recorder, full time.Duration,
	distinct, pages int, rss int64) error {
	raw, bytes, n, err := rec.replayLimited(ctx, splynx.DefaultMaxConcurrent, splynx.DefaultRequestsPerSecond)
	if err != nil {
		return fmt.Errorf("raw fetch: %w", err)
	}
	fmt.Fprintf(stdout, "raw fetch: %s for the same %d distinct requests (%d concurrent, %d/s), %.1f MB of bodies\n",
		round(raw), n, splynx.DefaultMaxConcurrent, splynx.DefaultRequestsPerSecond, float64(bytes)/1e6)
	rateFloor := time.Duration(float64(distinct) / splynx.DefaultRequestsPerSecond * float64(time.Second))
	fmt.Fprintf(stdout, "at %d requests/s the %d requests need at least %s whatever the latency\n",
		splynx.DefaultRequestsPerSecond, distinct, round(rateFloor))
	ratio := full.Seconds() / raw.Seconds()
	rssMB := float64(rss) / 1024
	fmt.Fprintln(stdout)
	fmt.Fprintf(stdout, "%-30s %-16s %-16s %s\n", "measure", "value", "target", "result")
	fmt.Fprintf(stdout, "%-30s %-16s %-16s %s\n", "first sync wall time", round(full), "", "")
	fmt.Fprintf(stdout, "%-30s %-16s %-16s %s\n", "raw fetch, same limits", round(raw), "", "")
	fmt.Fprintf(stdout, "%-30s %-16s %-16s %s\n", "first sync / raw fetch", fmt.Sprintf("%.2fx", ratio), "<= 1.15x", verdict(ratio <= 1.15))
	fmt.Fprintf(stdout, "%-30s %-16s %-16s %s\n", "peak RSS (this process)", fmt.Sprintf("%.0f MB", rssMB), "<= 150 MB", verdict(rssMB <= 150))
	if b.refuseBilling {
		fmt.Fprintf(stdout, "%-30s %-16s %-16s %s\n", "full pass requests / pages", fmt.Sprintf("%.2fx", float64(rec.all.Load())/float64(pages)),
			"<= 2.00x", verdict(float64(rec.all.Load()) <= 2*float64(pages)))
	}
	fmt.Fprintf(stdout, "load average at end: %s\n", loadAvg())
	return nil
}

// replayLimited sends each distinct recorded GET once from concurrent
// workers under a rate limiter, as the Splynx client's pressure limits do.
func (r *recorder) replayLimited(ctx context.Context, concurrent int, perSecond float64) (time.Duration, int64, int, error) {
	seen := map[string]bool{}
	var qs []recorded
	for _, q := range r.reqs {
		if !seen[q.url] {
			seen[q.url] = true
			qs = append(qs, q)
		}
	}
	hc := &http.Client{Transport: r.base}
	lim := rate.NewLimiter(rate.Limit(perSecond), max(1, int(perSecond)/4))
	work := make(chan recorded)
	var total atomic.Int64
	var mu sync.Mutex
	var firstErr error
	var wg sync.WaitGroup
	start := time.Now()
	for range concurrent {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for q := range work {
				if err := lim.Wait(ctx); err != nil {
					mu.Lock()
					firstErr = err
					mu.Unlock()
					continue
				}
				n, err := fetch(ctx, hc, q)
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
				}
				total.Add(n)
			}
		}()
	}
	for _, q := range qs {
		work <- q
	}
	close(work)
	wg.Wait()
	return time.Since(start), total.Load(), len(qs), firstErr
}

// loadAvg is the machine's load average (1, 5, 15 minutes), for the record:
// the bench shares its cores.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// cpuTime is the CPU time (user + system) this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
