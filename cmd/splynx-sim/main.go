// Command splynx-sim serves the Splynx, IntegraPay and IPpay simulators as
// one standalone process, for end-to-end runs of the daemon and for
// benchmarks. All three share one listener and one fake clock:
//
//	http://ADDR/api/2.0/...            Splynx REST API v2 (the Splynx URL is http://ADDR)
//	http://ADDR/integrapay/...         IntegraPay auth + REST (auth URL = API URL)
//	http://ADDR/ippay/ippay            IPpay XML gateway
//	http://ADDR/ippay/returns.csv      IPpay ACH returns report
//
// Once listening it prints, on stdout, first
//
//	LISTENING http://127.0.0.1:PORT
//
// then one "NAME URL" line per simulator, and serves until SIGTERM/SIGINT.
// The simulators' clock follows the wall clock (tokens and settlement
// dates must make sense to a daemon on the real clock) unless -fixed-clock.
// The module config of both add-ons in the simulated Splynx already points
// at the gateway simulators, so `SPLYNXPAY_ALLOW_HTTP=true
// SPLYNXPAY_SPLYNX_URL=http://ADDR splynx-integrapay run` works against it
// (the simulators answer http; without the development setting the daemon
// refuses http URLs).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/splynx-pay/splynx-pay/internal/demo"
	"github.com/splynx-pay/splynx-pay/splynx/splynxsim"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "splynx-sim:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("splynx-sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:8400", "address to listen on (port 0 picks a free one)")
	cfg := demo.SimConfig{}
	fs.IntVar(&cfg.Customers, "customers", 500, "customers to seed")
	fs.IntVar(&cfg.Invoices, "invoices", 5000, "invoices to seed")
	fs.IntVar(&cfg.Proformas, "proformas", -1, "proforma invoices to seed (-1: as many as customers)")
	fs.Int64Var(&cfg.Seed, "seed", 1, "random seed of the data and of fault injection")
	fs.StringVar(&cfg.APIKey, "api-key", "sim-api-key", "API key the simulated Splynx accepts")
	fs.StringVar(&cfg.APISecret, "api-secret", "sim-api-secret", "its secret")
	fs.BoolVar(&cfg.Inferred, "inferred", false, "IntegraPay also serves the paths the spec does not confirm (bank-payments and schedule look-ups, L statuses)")
	fixed := fs.Bool("fixed-clock", false, "keep the simulators' clock at 2026-11-02 09:00 UTC instead of following the wall clock")
	ctl := fs.Bool("control", false, "serve the control API under /_sim/ (ledgers, gateway faults, clock, invoices) for splynx-chaos; see control.go")
	faults := fs.String("faults", "", `Splynx API faults, e.g. "error=0.2,drop=0.05,latency=10ms" (keys: error, status, drop, drop_after, malformed, wrong_types, latency, path)`)
	latency := fs.String("latency", "", `Splynx answers wait page + record × records in the answer, e.g. "page=80ms,record=40us" (a single-record GET counts one record, a count or write none)`)
	refuseBilling := fs.Bool("refuse-billing-list", false, "Splynx answers the customer-billing list with 405, as a stricter Splynx does (only customer-billing/{id} is confirmed)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	fault, path, err := parseFaults(*faults, cfg.Seed)
	if err != nil {
		return err
	}
	lat, err := splynxsim.ParseLatency(*latency)
	if err != nil {
		return fmt.Errorf("-latency: %w", err)
	}
	if cfg.Proformas < 0 {
		cfg.Proformas = cfg.Customers
	}
	start := time.Now()
	cfg.RealTime = !*fixed && !*ctl
	sims := demo.NewSims(cfg)
	defer sims.Close()
	handler := sims.Handler()
	if *ctl {
		c := startControl(sims)
		defer c.close()
		handler = c.handler(handler)
	}
	if *faults != "" {
		sims.Splynx.SetFault(path, fault)
	}
	sims.Splynx.SetLatency(lat)
	sims.Splynx.SetRefuseBillingList(*refuseBilling)
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	base := "http://" + ln.Addr().String()
	urls := demo.SimURLs(base)
	sims.Configure(urls)
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()

	fmt.Fprintf(stdout, "LISTENING %s\n", base)
	fmt.Fprintf(stdout, "SPLYNX %s api_key=%s\n", urls.Splynx, cfg.APIKey)
	fmt.Fprintf(stdout, "INTEGRAPAY %s\n", urls.IntegraPay)
	fmt.Fprintf(stdout, "IPPAY %s\n", urls.IPpay)
	fmt.Fprintf(stdout, "IPPAY_RETURNS %s\n", urls.IPpayReturns)
	fmt.Fprintf(stderr, "splynx-sim: %d customers, %d invoices, %d proformas seeded in %s\n",
		cfg.Customers, cfg.Invoices, cfg.Proformas, time.Since(start).Round(time.Millisecond))

	select {
	case <-ctx.Done():
	case err := <-errc:
		return err
	}
	// Requests in flight get a second to finish. A client's connection
	// that never sent a request (a cancelled prefetch, say) would hold
	// Shutdown for 5 s, so what is left then is closed: this is a simulator.
	shut, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := srv.Shutdown(shut); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return srv.Close()
}

// parseFaults is the demo's fault syntax, shared so both take the same flag.
var parseFaults = demo.ParseFaults
