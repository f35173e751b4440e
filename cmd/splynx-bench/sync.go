package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/splynx-pay/splynx-pay/splynx"
	"github.com/splynx-pay/splynx-pay/splynx/splynxsim"
	"github.com/splynx-pay/splynx-pay/store"
	"github.com/splynx-pay/splynx-pay/sync/mirror"
)

func init() { register("sync", runSyncBench) }

type syncBench struct {
	customers, invoices, proformas int
	seed                           int64
	simURL, simBin                 string
	apiKey, apiSecret              string
	dbPath                         string
	pageSize, batchSize, streams   int
	changePct                      float64
	verbose                        bool
	cpuProfile, incProfile         string
	latency                        string
	lat                            splynxsim.Latency
	refuseBilling                  bool
	historyMonths                  int
}

func runSyncBench(ctx context.Context, args []string, stdout io.Writer) error {
	var b syncBench
	fs := flag.NewFlagSet("sync", flag.ContinueOnError)
	fs.IntVar(&b.customers, "customers", 10000, "customers in the simulator")
	fs.IntVar(&b.invoices, "invoices", 100000, "invoices in the simulator")
	fs.IntVar(&b.proformas, "proformas", -1, "proformas in the simulator (-1: customers/2)")
	fs.Int64Var(&b.seed, "seed", 1, "simulator seed")
	fs.StringVar(&b.simURL, "sim-url", "", "use a running splynx-sim at this URL instead of starting one")
	fs.StringVar(&b.simBin, "sim-bin", "", "splynx-sim binary to start (default: build ./cmd/splynx-sim, or run this binary's own simulator)")
	fs.StringVar(&b.apiKey, "api-key", "bench-key", "Splynx API key")
	fs.StringVar(&b.apiSecret, "api-secret", "bench-secret", "Splynx API secret")
	fs.StringVar(&b.dbPath, "db", "", "database file (default: a fresh one in a temp directory, removed afterwards)")
	fs.IntVar(&b.pageSize, "page", 1000, "records per Splynx list request")
	fs.IntVar(&b.batchSize, "batch", 1000, "records per write transaction")
	fs.IntVar(&b.streams, "streams", 1, "entity listings run side by side (1 or 3)")
	fs.Float64Var(&b.changePct, "change", 1, "percent of customers and invoices changed before the incremental pass")
	fs.BoolVar(&b.verbose, "v", false, "log the engine's progress lines")
	fs.StringVar(&b.cpuProfile, "cpuprofile", "", "write a CPU profile of the full pass to this file")
	fs.StringVar(&b.incProfile, "incprofile", "", "write a CPU profile of the incremental pass to this file")
	fs.StringVar(&b.latency, "latency", "", `the simulator's latency model, e.g. "page=80ms,record=40us": then only the first sync is measured, at the default Splynx pressure limits, against a raw fetch at the same limits`)
	fs.BoolVar(&b.refuseBilling, "refuse-billing", false, "the simulator refuses the customer-billing list (405)")
	fs.IntVar(&b.historyMonths, "history-months", mirror.DefaultHistoryMonths, "the mirror's history window for paid documents (setting mirror_history_months)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var err error
	if b.lat, err = splynxsim.ParseLatency(b.latency); err != nil {
		return fmt.Errorf("-latency: %w", err)
	}
	if b.proformas < 0 {
		b.proformas = b.customers / 2
	}
	return b.run(ctx, stdout)
}

func (b *syncBench) run(ctx context.Context, stdout io.Writer) error {
	tmp, err := os.MkdirTemp("", "splynx-bench-sync-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	simURL, simDesc, stopSim, err := b.startSim(ctx, tmp)
	if err != nil {
		return err
	}
	defer stopSim()
	fmt.Fprintf(stdout, "simulator: %s at %s (%d customers, %d invoices, %d proformas)\n",
		simDesc, simURL, b.customers, b.invoices, b.proformas)
	if !b.lat.IsZero() {
		fmt.Fprintf(stdout, "simulator latency: %s per answer\n", b.lat)
	}
	if b.refuseBilling {
		fmt.Fprintln(stdout, "simulator refuses the customer-billing list (405)")
	}
	fmt.Fprintf(stdout, "load average at start: %s\n", loadAvg())

	logger := zap.NewNop()
	if b.verbose {
		cfg := zap.NewDevelopmentConfig()
		cfg.Level = zap.NewAtomicLevelAt(zapcore.InfoLevel)
		logger, _ = cfg.Build()
	}
	rec := &recorder{base: &http.Transport{MaxIdleConnsPerHost: 16, DisableCompression: true}}
	client, err := splynx.New(splynx.Config{BaseURL: simURL, APIKey: b.apiKey, APISecret: b.apiSecret, Timeout: 2 * time.Minute},
		splynx.WithHTTPClient(&http.Client{Transport: rec}), splynx.WithLogger(logger))
	if err != nil {
		return err
	}
	if err := client.Check(ctx); err != nil {
		return fmt.Errorf("simulator check: %w", err)
	}
	if b.lat.IsZero() {
		// Against the in-memory simulator the bench measures the sync's
		// own work (decoding, SQLite), not the politeness limits: at 20
		// requests a second they alone would make 1,150 pages take 58 s.
		client.SetLimits(64, 1e6)
		fmt.Fprintln(stdout, "Splynx pressure limits lifted (64 concurrent, no rate limit): the sync's own cost is measured")
	} else {
		fmt.Fprintf(stdout, "Splynx pressure limits: the defaults, %d concurrent, %d requests/s\n",
			splynx.DefaultMaxConcurrent, splynx.DefaultRequestsPerSecond)
	}

	dbPath := b.dbPath
	if dbPath == "" {
		dbPath = filepath.Join(tmp, "mirror.db")
	}
	db, err := store.Open(ctx, dbPath, logger)
	if err != nil {
		return err
	}
	defer db.Close()
	eng := mirror.New(db, client, mirror.Options{Logger: logger, PageSize: b.pageSize, BatchSize: b.batchSize,
		Streams: b.streams, ProgressEvery: 5 * time.Second, HistoryMonths: b.historyMonths})
	// The documents the history window keeps, as Splynx counts them now.
	wantInv, wantPro, err := b.inWindow(ctx, client)
	if err != nil {
		return fmt.Errorf("counting documents in the history window: %w", err)
	}

	// Full pass into the empty database, recording its requests for the raw fetch.
	if b.cpuProfile != "" {
		f, err := os.Create(b.cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
	}
	rec.on.Store(true)
	fullCPU0 := cpuTime()
	fullStart := time.Now()
	full, err := eng.Full(ctx)
	full.Duration = time.Since(fullStart) // all of it, as a caller waits
	fullCPU := cpuTime() - fullCPU0
	rec.on.Store(false)
	if b.cpuProfile != "" {
		pprof.StopCPUProfile()
	}
	if err != nil {
		return err
	}
	counts, err := db.Counts(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "full pass: %s, %d records (%d customers, %d billing, %d invoices, %d items, %d proformas), %d requests, %.0f records/s\n",
		round(full.Duration), full.Records(), counts.Customers, counts.Billing, counts.Invoices, counts.InvoiceItems,
		counts.Proformas, len(rec.reqs), float64(full.Records())/full.Duration.Seconds())
	if counts.Customers != b.customers || counts.Invoices != wantInv || counts.Proformas != wantPro {
		return fmt.Errorf("mirror counts %+v differ from the simulator's (%d customers, %d invoices and %d proformas in the %d-month history window)",
			counts, b.customers, wantInv, wantPro, b.historyMonths)
	}
	fmt.Fprintf(stdout, "history window %d months: %d of %d invoices and %d of %d proformas kept, as Splynx counts them\n",
		b.historyMonths, wantInv, b.invoices, wantPro, b.proformas)
	pages := ceilDiv(b.customers, b.pageSize) + ceilDiv(b.invoices, b.pageSize) + ceilDiv(b.proformas, b.pageSize)
	fmt.Fprintf(stdout, "full pass requests to Splynx: %d (%d GET, %d other) = %.2fx the %d pages of customers + invoices + proformas\n",
		rec.all.Load(), len(rec.reqs), rec.all.Load()-int64(len(rec.reqs)), float64(rec.all.Load())/float64(pages), pages)
	rssFirst := maxRSS()

	distinct := map[string]bool{}
	for _, q := range rec.reqs {
		distinct[q.url] = true
	}
	fmt.Fprintf(stdout, "full pass network: %d GETs (%d distinct), %s to headers, %s reading bodies\n",
		len(rec.reqs), len(distinct),
		time.Duration(rec.wait.Load()).Round(time.Millisecond), time.Duration(rec.read.Load()).Round(time.Millisecond))
	if !b.lat.IsZero() {
		return b.latencyFigures(ctx, stdout, rec, full.Duration, len(distinct), pages, rssFirst)
	}
	rawCPU0 := cpuTime()
	// A first sync lists its three entities side by side (Engine.Full):
	// the raw fetch does too.
	raw, bytes, err := rec.replay(ctx, max(b.streams, 3))
	rawCPU := cpuTime() - rawCPU0
	if err != nil {
		return fmt.Errorf("raw fetch: %w", err)
	}
	fmt.Fprintf(stdout, "raw fetch: %s for the same %d distinct requests, %.1f MB of bodies\n", round(raw), len(distinct), float64(bytes)/1e6)

	changedC, changedI, err := b.change(ctx, client, db)
	if err != nil {
		return fmt.Errorf("changing records: %w", err)
	}
	rec.wait.Store(0)
	rec.read.Store(0)
	if b.incProfile != "" {
		f, err := os.Create(b.incProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
	}
	incStart := time.Now()
	inc, err := eng.Incremental(ctx)
	if b.incProfile != "" {
		pprof.StopCPUProfile()
	}
	if err != nil {
		return err
	}
	inc.Duration = time.Since(incStart)
	fmt.Fprintf(stdout, "incremental pass after changing %d customers and %d invoices: %s, %d records, %d requests (%s to headers, %s reading bodies)\n",
		changedC, changedI, round(inc.Duration), inc.Records(), inc.Requests,
		time.Duration(rec.wait.Load()).Round(time.Millisecond), time.Duration(rec.read.Load()).Round(time.Millisecond))
	if inc.Customers < changedC || inc.Invoices < changedI {
		return fmt.Errorf("incremental pass wrote %d customers and %d invoices, fewer than the %d and %d changed",
			inc.Customers, inc.Invoices, changedC, changedI)
	}

	// The daily full pass over a mirror that is already current: not a
	// target, but what a running daemon pays every day.
	againStart := time.Now()
	again, err := eng.Full(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "second full pass over the current mirror: %s, %d deleted\n", round(time.Since(againStart)), again.Deleted)

	rss := maxRSS() // peak over every pass, and before the floor, which is no part of a sync
	// The floor reads the mirror from its file, not through a long WAL.
	if err := db.Checkpoint(ctx); err != nil {
		return err
	}
	floorCPU0 := cpuTime()
	floor, err := measureStoreFloor(ctx, dbPath, tmp)
	floorCPU := cpuTime() - floorCPU0
	if err != nil {
		return fmt.Errorf("store floor: %w", err)
	}
	fmt.Fprintf(stdout, "store floor: the finished mirror's rows copied inside SQLite into a fresh database %s, its %d indexes built %s: %s\n",
		round(floor.copyRows), floor.nIndexes, round(floor.indexes), round(floor.total()))
	ratio := full.Duration.Seconds() / raw.Seconds()
	floorRatio := full.Duration.Seconds() / (raw + floor.total()).Seconds()
	incPct := 100 * inc.Duration.Seconds() / full.Duration.Seconds()
	rssMB := float64(rss) / 1024
	fmt.Fprintln(stdout)
	fmt.Fprintf(stdout, "%-30s %-16s %-16s %s\n", "measure", "value", "target", "result")
	fmt.Fprintf(stdout, "%-30s %-16s %-16s %s\n", "full sync wall time", round(full.Duration), "", "")
	fmt.Fprintf(stdout, "%-30s %-16s %-16s %s\n", "raw fetch wall time", round(raw), "", "")
	fmt.Fprintf(stdout, "%-30s %-16s %-16s %s\n", "store floor", round(floor.total()), "", "(SQLite alone; a sync cannot beat it)")
	fmt.Fprintf(stdout, "%-30s %-16s %-16s %s\n", "full sync / (raw + floor)", fmt.Sprintf("%.2fx", floorRatio), "<= 1.50x", verdict(floorRatio <= 1.5))
	fmt.Fprintf(stdout, "%-30s %-16s %-16s %s\n", "  full sync / raw fetch", fmt.Sprintf("%.2fx", ratio), "", "")
	// On a shared machine the wall times stretch with the load; the CPU
	// this process spent (the simulator's is in its own) stretches less.
	fmt.Fprintf(stdout, "%-30s %-16s %-16s %s\n", "  CPU: sync / (raw + floor)",
		fmt.Sprintf("%.2fx", fullCPU.Seconds()/(rawCPU+floorCPU).Seconds()), "",
		fmt.Sprintf("(%s / (%s + %s) of this process's CPU)", round(fullCPU), round(rawCPU), round(floorCPU)))
	fmt.Fprintf(stdout, "%-30s %-16s %-16s %s\n", "peak RSS (this process, all)", fmt.Sprintf("%.0f MB", rssMB), "<= 150 MB", verdict(rssMB <= 150))
	if b.refuseBilling {
		fmt.Fprintf(stdout, "%-30s %-16s %-16s %s\n", "full pass requests / pages", fmt.Sprintf("%.2fx", float64(rec.all.Load())/float64(pages)),
			"<= 2.00x", verdict(float64(rec.all.Load()) <= 2*float64(pages)))
	}
	fmt.Fprintf(stdout, "%-30s %-16s %-16s %s\n", fmt.Sprintf("incremental (%.3g%% changed)", b.changePct),
		fmt.Sprintf("%s = %.1f%%", round(inc.Duration), incPct), "<= 5% of full", verdict(incPct <= 5))
	return nil
}

func verdict(ok bool) string {
	if ok {
		return "PASS"
	}
	return "MISS"
}

func round(d time.Duration) time.Duration {
	if d > 10*time.Second {
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(time.Millisecond)
}

// maxRSS is this process's peak resident set in KiB (Linux ru_maxrss).
func maxRSS() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return int64(ru.Maxrss)
}

// startSim returns the simulator's base URL. It never runs the simulator
// inside this process, whose peak RSS is one of the measures.
func (b *syncBench) startSim(ctx context.Context, tmp string) (url, desc string, stop func(), err error) {
	if b.simURL != "" {
		return b.simURL, "running", func() {}, nil
	}
	bin := b.simBin
	args := b.simArgs()
	switch {
	case bin != "":
		desc = "process " + bin
	case dirExists(filepath.Join(moduleRoot(), "cmd", "splynx-sim")):
		bin = filepath.Join(tmp, "splynx-sim")
		build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/splynx-sim")
		build.Dir = moduleRoot()
		if out, err := build.CombinedOutput(); err != nil {
			return "", "", nil, fmt.Errorf("build splynx-sim: %v\n%s", err, out)
		}
		desc = "process splynx-sim"
	default:
		// No splynx-sim yet: this binary serves the simulator itself.
		self, err := os.Executable()
		if err != nil {
			return "", "", nil, err
		}
		bin = self
		args = append([]string{simSubcommand}, args...)
		desc = "process splynx-bench " + simSubcommand
	}
	cmd := exec.Command(bin, args...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return "", "", nil, err
	}
	if err := cmd.Start(); err != nil {
		return "", "", nil, fmt.Errorf("start simulator: %w", err)
	}
	stop = func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	}
	urlc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "LISTENING "); ok {
				urlc <- strings.TrimSpace(u)
				break
			}
		}
		io.Copy(io.Discard, out)
	}()
	select {
	case u := <-urlc:
		return u, desc, stop, nil
	case <-time.After(15 * time.Minute):
	case <-ctx.Done():
	}
	stop()
	return "", "", nil, errors.New("simulator did not print LISTENING")
}

func (b *syncBench) simArgs() []string {
	args := []string{"-listen", "127.0.0.1:0", "-customers", strconv.Itoa(b.customers), "-invoices", strconv.Itoa(b.invoices),
		"-proformas", strconv.Itoa(b.proformas), "-seed", strconv.FormatInt(b.seed, 10),
		"-api-key", b.apiKey, "-api-secret", b.apiSecret}
	if !b.lat.IsZero() {
		args = append(args, "-latency", b.lat.String())
	}
	if b.refuseBilling {
		args = append(args, "-refuse-billing-list")
	}
	return args
}

func moduleRoot() string {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "."
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "."
	}
	return filepath.Dir(mod)
}

func dirExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

// change edits changePct% of customers and invoices through the API, as an
// operator would in Splynx, so that their update stamps move. The ids come
// from the mirror, which holds exactly Splynx's after the full pass.
func (b *syncBench) change(ctx context.Context, c *splynx.Client, db *store.DB) (customers, invoices int, err error) {
	type job struct {
		invoice bool
		id      int64
	}
	var jobs []job
	for _, t := range []struct {
		n       int
		invoice bool
	}{{b.customers, false}, {b.invoices, true}} {
		step := stepFor(t.n, b.changePct)
		ids, err := mirroredIDs(ctx, db, t.invoice)
		if err != nil {
			return 0, 0, err
		}
		for i, id := range ids {
			if i%step == 0 {
				jobs = append(jobs, job{t.invoice, id})
				if t.invoice {
					invoices++
				} else {
					customers++
				}
			}
		}
	}
	ch := make(chan job)
	var firstErr error
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range ch {
				var err error
				if j.invoice {
					err = c.UpdateInvoice(ctx, j.id, map[string]any{"note": "bench change " + strconv.FormatInt(j.id, 10)})
				} else {
					err = c.UpdateCustomer(ctx, j.id, map[string]any{"name": "Bench Changed " + strconv.FormatInt(j.id, 10)})
				}
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	for _, j := range jobs {
		select {
		case ch <- j:
		case <-ctx.Done():
		}
	}
	close(ch)
	wg.Wait()
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	return customers, invoices, firstErr
}

func stepFor(n int, pct float64) int {
	if pct <= 0 || n == 0 {
		return n + 1
	}
	s := int(100 / pct)
	return max(1, s)
}

// recorder is the splynx client's transport: while on, it notes every GET
// (URL and headers) so that the same requests can be replayed raw.
type recorder struct {
	base *http.Transport
	on   atomic.Bool
	all  atomic.Int64 // every request while on, whatever its method
	wait atomic.Int64 // time to response headers
	read atomic.Int64 // time blocked reading bodies
	mu   sync.Mutex
	reqs []recorded
}

type recorded struct {
	url    string
	header http.Header
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	if r.on.Load() {
		r.all.Add(1)
	}
	on := r.on.Load() && req.Method == http.MethodGet
	var q recorded
	if on {
		q = recorded{url: req.URL.String(), header: req.Header.Clone()}
	}
	start := time.Now()
	resp, err := r.base.RoundTrip(req)
	r.wait.Add(int64(time.Since(start)))
	// Only answered pages are replayed: a refused billing list (405) is
	// no part of the raw fetch.
	if on && err == nil && resp.StatusCode == http.StatusOK {
		r.mu.Lock()
		r.reqs = append(r.reqs, q)
		r.mu.Unlock()
	}
	if err == nil {
		resp.Body = &timedBody{ReadCloser: resp.Body, r: r}
	}
	return resp, err
}

type timedBody struct {
	io.ReadCloser
	r *recorder
}

func (t *timedBody) Read(p []byte) (int, error) {
	start := time.Now()
	n, err := t.ReadCloser.Read(p)
	t.r.read.Add(int64(time.Since(start)))
	return n, err
}

// streamOf groups requests as the engine's listings do (customers, billing
// and payment methods in one; invoices; proformas).
func streamOf(u string) int {
	switch {
	case strings.Contains(u, "/finance/invoices"):
		return 1
	case strings.Contains(u, "/finance/proforma-invoices"):
		return 2
	}
	return 0
}

// replay sends the recorded requests again, with the pass's concurrency,
// reading each body to the end and throwing it away: the cost of the
// transfer alone, without decoding or storing.
func (r *recorder) replay(ctx context.Context, streams int) (time.Duration, int64, error) {
	groups := make([][]recorded, 3)
	seen := map[string]bool{}
	for _, q := range r.reqs {
		if seen[q.url] {
			continue // a retry of the client: the raw fetch asks each page once
		}
		seen[q.url] = true
		g := streamOf(q.url)
		groups[g] = append(groups[g], q)
	}
	hc := &http.Client{Transport: r.base}
	var total atomic.Int64
	var firstErr error
	var mu sync.Mutex
	sem := make(chan struct{}, max(1, streams))
	var wg sync.WaitGroup
	start := time.Now()
	for _, g := range groups {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			for _, q := range g {
				n, err := fetch(ctx, hc, q)
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					return
				}
				total.Add(n)
			}
		}()
	}
	wg.Wait()
	return time.Since(start), total.Load(), firstErr
}

func fetch(ctx context.Context, hc *http.Client, q recorded) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, q.url, nil)
	if err != nil {
		return 0, err
	}
	req.Header = q.header.Clone()
	resp, err := hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	if err != nil {
		return n, err
	}
	if resp.StatusCode != http.StatusOK {
		return n, fmt.Errorf("GET %s: status %d", req.URL.Path, resp.StatusCode)
	}
	return n, nil
}

// mirroredIDs lists the ids of every mirrored invoice (or customer), by id.
func mirroredIDs(ctx context.Context, db *store.DB, invoices bool) ([]int64, error) {
	var ids []int64
	for {
		var page []int64
		var after int64
		if len(ids) > 0 {
			after = ids[len(ids)-1]
		}
		if invoices {
			invs, err := db.ListInvoices(ctx, store.InvoiceFilter{AfterID: after, Limit: 10000})
			if err != nil {
				return nil, err
			}
			for _, v := range invs {
				page = append(page, v.ID)
			}
		} else {
			cs, err := db.ListCustomers(ctx, store.CustomerFilter{AfterID: after, Limit: 10000})
			if err != nil {
				return nil, err
			}
			for _, c := range cs {
				page = append(page, c.ID)
			}
		}
		if len(page) == 0 {
			return ids, nil
		}
		ids = append(ids, page...)
	}
}
