package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/splynx-pay/splynx-pay/gateways"
	"github.com/splynx-pay/splynx-pay/gateways/integrapay"
	"github.com/splynx-pay/splynx-pay/gateways/integrapay/integrapaysim"
	"github.com/splynx-pay/splynx-pay/internal/config"
	"github.com/splynx-pay/splynx-pay/internal/money"
	"github.com/splynx-pay/splynx-pay/internal/simstack"
	"github.com/splynx-pay/splynx-pay/internal/wire"
	"github.com/splynx-pay/splynx-pay/splynx"
	"github.com/splynx-pay/splynx-pay/splynx/splynxsim"
	"github.com/splynx-pay/splynx-pay/store"
	"github.com/splynx-pay/splynx-pay/sync/charge"
	"github.com/splynx-pay/splynx-pay/sync/mirror"
)

// chargeSimSubcommand serves splynxsim and integrapaysim (with the charge
// latency) in a child process, so the bench's peak RSS is the engine's own.
const chargeSimSubcommand = "_chargesim"

func init() {
	register("charge", runChargeBench)
	register(chargeSimSubcommand, runChargeSim)
}

type chargeBench struct {
	invoices, sample, concurrency int
	latency                       time.Duration
	splynxLatency                 string
	rate                          float64
	dbPath                        string
	writeBack, verbose            bool
}

func runChargeBench(ctx context.Context, args []string, stdout io.Writer) error {
	var b chargeBench
	fs := flag.NewFlagSet("charge", flag.ContinueOnError)
	fs.IntVar(&b.invoices, "invoices", 20000, "invoices charged by the measured run (one customer each)")
	fs.IntVar(&b.sample, "sample", 200, "invoices charged one at a time to extrapolate the sequential run (0: skip)")
	fs.IntVar(&b.concurrency, "concurrency", 16, "gateway calls at once")
	fs.DurationVar(&b.latency, "latency", 150*time.Millisecond, "gateway simulator latency per charge")
	fs.StringVar(&b.splynxLatency, "splynx-latency", "", `the Splynx simulator's latency model, e.g. "page=80ms,record=40us" (default: none)`)
	fs.Float64Var(&b.rate, "rate", -1, "gateway rate limit per second (-1: none; the gateway_rate_limit setting caps production runs)")
	fs.StringVar(&b.dbPath, "db", "", "database file (default: a fresh one in a temp directory)")
	fs.BoolVar(&b.writeBack, "writeback", false, "also time the Splynx write-back of every approved charge")
	fs.BoolVar(&b.verbose, "v", false, "log the engine's lines")
	if err := fs.Parse(args); err != nil {
		return err
	}
	return b.run(ctx, stdout)
}

const (
	benchKey    = "bench-key"
	benchSecret = "bench-secret"
)

func (b *chargeBench) run(ctx context.Context, stdout io.Writer) error {
	tmp, err := os.MkdirTemp("", "splynx-bench-charge-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	total := b.invoices + b.sample
	if _, err := splynxsim.ParseLatency(b.splynxLatency); err != nil {
		return err
	}
	base, stop, err := startChargeSim(ctx, total, b.latency, b.splynxLatency)
	if err != nil {
		return err
	}
	defer stop()
	fmt.Fprintf(stdout, "simulators (child process) at %s: %d customers with one invoice each, charge latency %s, Splynx latency %q\n",
		base, total, b.latency, b.splynxLatency)

	logger := zap.NewNop()
	if b.verbose {
		logger, _ = zap.NewDevelopment()
	}
	hc := &http.Client{Transport: &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 128, IdleConnTimeout: time.Minute}}
	sp, err := splynx.New(splynx.Config{BaseURL: base, APIKey: benchKey, APISecret: benchSecret, Timeout: time.Minute},
		splynx.WithHTTPClient(hc), splynx.WithLogger(logger))
	if err != nil {
		return err
	}
	gw, err := integrapay.New(integrapay.Config{AuthURL: base + "/integrapay", APIURL: base + "/integrapay",
		Username: integrapaysim.DefaultUsername, Password: integrapaysim.DefaultPassword,
		BusinessID: integrapaysim.DefaultBusinessID, Timeout: time.Minute, Operator: "bench"},
		integrapay.WithHTTPClient(hc), integrapay.WithLogger(logger))
	if err != nil {
		return err
	}
	dbPath := b.dbPath
	if dbPath == "" {
		dbPath = filepath.Join(tmp, "charge.db")
	}
	db, err := store.Open(ctx, dbPath, logger)
	if err != nil {
		return err
	}
	defer db.Close()

	start := time.Now()
	if _, err := mirror.New(db, sp, mirror.Options{Logger: logger}).Full(ctx); err != nil {
		return fmt.Errorf("mirror: %w", err)
	}
	fmt.Fprintf(stdout, "mirror full sync: %s\n", round(time.Since(start)))

	set, err := config.ParseSettingsFor(config.IntegraPay, map[string]string{"payment_method_card": "3",
		"payment_method_bank": "2"}, nil)
	if err != nil {
		return err
	}
	pol, err := wire.ChargePolicy(set)
	if err != nil {
		return err
	}
	// The bench measures the engine, not the pacing, at its own concurrency.
	pol.GatewayRateLimit, pol.ChargeConcurrency = 0, b.concurrency
	en := charge.New(db, sp, gw, charge.Options{Policy: pol, Logger: logger})
	start = time.Now()
	if err := saveMethods(ctx, db, en, b.concurrency); err != nil {
		return fmt.Errorf("saving methods: %w", err)
	}
	fmt.Fprintf(stdout, "saved %d cards through the gateway: %s (not measured)\n", total, round(time.Since(start)))

	ids, err := mirroredIDs(ctx, db, true)
	if err != nil {
		return err
	}
	if len(ids) != total {
		return fmt.Errorf("mirror holds %d invoices, want %d", len(ids), total)
	}

	var seqPer time.Duration
	if b.sample > 0 {
		res, err := en.Run(ctx, charge.Filters{IDs: ids[:b.sample]}, charge.RunOptions{Source: charge.SourceCLI,
			Concurrency: 1, RateLimit: b.rate})
		if err != nil {
			return err
		}
		if res.Progress.Approved != b.sample {
			return fmt.Errorf("sequential sample approved %d of %d", res.Progress.Approved, b.sample)
		}
		seqPer = res.Duration / time.Duration(b.sample)
		fmt.Fprintf(stdout, "sequential sample: %d invoices in %s (%s each)\n", b.sample, round(res.Duration), seqPer.Round(time.Microsecond))
	}

	runtime.GC()
	res, err := en.Run(ctx, charge.Filters{}, charge.RunOptions{Source: charge.SourceCLI, Concurrency: b.concurrency,
		RateLimit: b.rate})
	if err != nil {
		return err
	}
	rss := maxRSS()
	p := res.Progress
	if p.Approved != b.invoices {
		return fmt.Errorf("measured run approved %d of %d (progress %+v)", p.Approved, b.invoices, p)
	}
	fmt.Fprintf(stdout, "measured run: %d invoices approved (%s) in %s\n", p.Approved, money.Amount(p.AmountApproved), round(res.Duration))

	if b.writeBack {
		start := time.Now()
		st, err := en.WriteBack(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "write-back: %d Splynx payments in %s\n", st.Payments, round(time.Since(start)))
	}

	limit := time.Duration(int64(b.invoices) * int64(b.latency) / int64(b.concurrency))
	pct := 100 * limit.Seconds() / res.Duration.Seconds()
	rssMB := float64(rss) / 1024
	fmt.Fprintln(stdout)
	fmt.Fprintf(stdout, "%-44s %-22s %-14s %s\n", "measure", "value", "target", "result")
	fmt.Fprintf(stdout, "%-44s %-22s %-14s %s\n", fmt.Sprintf("charge run, %d invoices, concurrency %d", b.invoices, b.concurrency),
		round(res.Duration), "", "")
	fmt.Fprintf(stdout, "%-44s %-22s %-14s %s\n", "limit (invoices × latency ÷ concurrency)", round(limit), "", "")
	fmt.Fprintf(stdout, "%-44s %-22s %-14s %s\n", "throughput vs the limit", fmt.Sprintf("%.1f%%", pct), ">= 85%", verdict(pct >= 85))
	if b.sample > 0 {
		seq := seqPer * time.Duration(b.invoices)
		fmt.Fprintf(stdout, "%-44s %-22s %-14s %s\n", fmt.Sprintf("sequential (extrapolated from %d)", b.sample),
			round(seq), "", fmt.Sprintf("%.1fx slower", seq.Seconds()/res.Duration.Seconds()))
	}
	fmt.Fprintf(stdout, "%-44s %-22s %-14s %s\n", "peak RSS (this process; simulators apart)", fmt.Sprintf("%.0f MB", rssMB),
		"<= 200 MB", verdict(rssMB <= 200))
	return nil
}

// saveMethods saves a test card for every mirrored customer, concurrently.
func saveMethods(ctx context.Context, db *store.DB, en *charge.Engine, conc int) error {
	type cust struct {
		id   int64
		name string
	}
	var cs []cust
	for after := int64(0); ; {
		page, err := db.ListCustomers(ctx, store.CustomerFilter{AfterID: after, Limit: 10000})
		if err != nil {
			return err
		}
		if len(page) == 0 {
			break
		}
		for _, c := range page {
			cs = append(cs, cust{c.ID, c.Name})
		}
		after = page[len(page)-1].ID
	}
	work := make(chan cust)
	errc := make(chan error, conc)
	var wg sync.WaitGroup
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range work {
				_, err := en.SaveMethod(ctx, gateways.SaveMethodRequest{
					Payer: gateways.Payer{Reference: fmt.Sprint(c.id), CustomerID: c.id, GivenName: "Bench",
						FamilyName: c.name, Email: "bench@example.com", Country: "AU"},
					Card:          &gateways.CardDetails{Number: "4111111111111111", ExpMonth: 12, ExpYear: 2030, CVV: "123"},
					Authorisation: gateways.Authorisation{AcceptedAt: time.Now(), IP: "192.0.2.1"}}, "bench")
				if err != nil {
					select {
					case errc <- err:
					default:
					}
					return
				}
			}
		}()
	}
	for _, c := range cs {
		select {
		case work <- c:
		case err := <-errc:
			close(work)
			wg.Wait()
			return err
		}
	}
	close(work)
	wg.Wait()
	select {
	case err := <-errc:
		return err
	default:
		return nil
	}
}

// startChargeSim runs this binary's _chargesim subcommand and returns its URL.
func startChargeSim(ctx context.Context, customers int, latency time.Duration, splynxLatency string) (string, func(), error) {
	self, err := os.Executable()
	if err != nil {
		return "", nil, err
	}
	cmd := exec.Command(self, chargeSimSubcommand, "-customers", fmt.Sprint(customers), "-latency", latency.String(),
		"-splynx-latency", splynxLatency)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return "", nil, err
	}
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	stop := func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
		}
	}
	urlc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "LISTENING "); ok {
				urlc <- u
			}
		}
	}()
	select {
	case u := <-urlc:
		return u, stop, nil
	case <-time.After(2 * time.Minute):
	case <-ctx.Done():
	}
	stop()
	return "", nil, errors.New("charge simulators did not start")
}

// runChargeSim serves Splynx at / and IntegraPay at /integrapay/, seeded
// with one unpaid invoice per customer, charges delayed by -latency.
func runChargeSim(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet(chargeSimSubcommand, flag.ContinueOnError)
	customers := fs.Int("customers", 1000, "customers, one unpaid invoice each")
	latency := fs.Duration("latency", 150*time.Millisecond, "latency of charge requests")
	spLatency := fs.String("splynx-latency", "", "the Splynx simulator's latency model")
	listen := fs.String("listen", "127.0.0.1:0", "listen address")
	if err := fs.Parse(args); err != nil {
		return err
	}
	// The simulators' clock follows real time: the clients' tokens and the
	// engine's stamps are on the real clock.
	sims := simstack.NewSims(simstack.Options{Start: time.Now(), APIKey: benchKey, APISecret: benchSecret,
		PaymentMethods: []splynxsim.PaymentMethod{{ID: 2, Name: "Bank transfer", IsActive: true}, {ID: 3, Name: "Credit card", IsActive: true}}},
		config.IntegraPay)
	clk, sp, ip := sims.Clock, sims.Splynx, sims.IntegraPay
	go func() {
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		last := time.Now()
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-t.C:
				clk.Advance(now.Sub(last))
				last = now
			}
		}
	}()
	sp.SetRequestLog(false)
	l, err := splynxsim.ParseLatency(*spLatency)
	if err != nil {
		return err
	}
	for i := range *customers {
		id := sp.AddCustomer(splynxsim.Customer{Name: fmt.Sprintf("Customer %d", i+1), Email: "bench@example.com"})
		// Cents 00..99 except the simulator's decline triggers.
		cents := (i % 20) * 5
		amt := money.Amount(2000 + i%50*100 + cents)
		sp.AddInvoice(splynxsim.Invoice{CustomerID: id, Total: amt, Status: "not_paid",
			Items: []splynxsim.InvoiceItem{{Description: "Internet", Quantity: 1, Price: amt}}})
	}
	ip.SetFault("payers/*/transactions/card", integrapaysim.Fault{Latency: *latency})
	sp.SetLatency(l) // after seeding: the seed is not Splynx's work
	mux := http.NewServeMux()
	mux.Handle("/integrapay/", http.StripPrefix("/integrapay", ip.Handler()))
	mux.Handle("/", sp.Handler())
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	fmt.Fprintf(stdout, "LISTENING http://%s\n", ln.Addr())
	if err := srv.Serve(ln); err != nil && err != http.ErrServerClosed {
		return err
	}
	return nil
}
