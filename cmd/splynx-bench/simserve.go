package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/splynx-pay/splynx-pay/internal/clock"
	"github.com/splynx-pay/splynx-pay/splynx/splynxsim"
)

// simSubcommand serves splynxsim in a child process of the sync bench when
// no splynx-sim binary is available, so the bench's RSS is its own.
const simSubcommand = "_sim"

func init() { register(simSubcommand, runSimServe) }

func runSimServe(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet(simSubcommand, flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:0", "listen address")
	customers := fs.Int("customers", 100, "customers")
	invoices := fs.Int("invoices", 1000, "invoices")
	proformas := fs.Int("proformas", 50, "proformas")
	seed := fs.Int64("seed", 1, "seed")
	key := fs.String("api-key", "bench-key", "API key")
	secret := fs.String("api-secret", "bench-secret", "API secret")
	latency := fs.String("latency", "", "latency model, as splynx-sim's -latency")
	refuse := fs.Bool("refuse-billing-list", false, "answer the billing list with 405")
	if err := fs.Parse(args); err != nil {
		return err
	}
	lat, err := splynxsim.ParseLatency(*latency)
	if err != nil {
		return fmt.Errorf("-latency: %w", err)
	}
	// Start at the wall clock: the client judges token expiry by real time.
	sim := splynxsim.New(splynxsim.Options{Clock: clock.NewFake(time.Now().UTC().Truncate(time.Second)),
		Latency: lat, RefuseBillingList: *refuse})
	sim.SetRequestLog(false)
	sim.Seed(splynxsim.SeedConfig{Seed: *seed, Customers: *customers, Invoices: *invoices, Proformas: *proformas})
	sim.AddAPIKey(*key, *secret)
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	// The simulator's clock follows real time from here on, so records
	// changed later carry later update stamps, as in Splynx.
	go func() {
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		last := time.Now()
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-t.C:
				sim.Clock().Advance(now.Sub(last))
				last = now
			}
		}
	}()
	srv := &http.Server{Handler: sim.Handler(), ReadHeaderTimeout: 10 * time.Second}
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
