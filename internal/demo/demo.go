// Package demo runs the whole pipeline on one machine with nothing
// installed: the Splynx, IntegraPay and IPpay simulators start in-process
// with seeded data, the daemon's real code syncs them into a temporary
// database (and, through runNight, charges), and a summary says whether
// everything reconciles. It is `make demo` and the `demo` subcommand.
package demo

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"go.uber.org/zap"

	"github.com/splynx-pay/splynx-pay/gateways"
	"github.com/splynx-pay/splynx-pay/gateways/integrapay/integrapaysim"
	"github.com/splynx-pay/splynx-pay/gateways/ippay/ippaysim"
	"github.com/splynx-pay/splynx-pay/internal/clock"
	"github.com/splynx-pay/splynx-pay/internal/config"
	"github.com/splynx-pay/splynx-pay/internal/logging"
	"github.com/splynx-pay/splynx-pay/splynx"
	"github.com/splynx-pay/splynx-pay/splynx/splynxsim"
	"github.com/splynx-pay/splynx-pay/store"
	"github.com/splynx-pay/splynx-pay/web"
)

// Demo credentials of the simulated Splynx API key and gateway terminals.
const (
	APIKey           = "demo-api-key"
	APISecret        = "demo-api-secret"
	IPpayTerminal    = "TESTTERMINAL"
	IPpayACHTerminal = "TESTACH"
)

// Options configure a demo run.
type Options struct {
	Addon, Title, Module, Prefix, Version string
	Kind                                  config.Addon
	// Gateway builds the add-on's gateway client (the daemon's factory),
	// given the simulators' clock.
	Gateway func(s config.Settings, log *zap.Logger, clk clock.Clock) (gateways.Gateway, error)

	Customers, Invoices, Proformas int
	Seed                           int64
	Once                           bool
	Listen                         string // the web pages; default 127.0.0.1:0
	LogLevel                       string // default warn, so the summary stays readable
	Keep                           bool   // keep the temporary database
	// Faults makes the simulated Splynx API misbehave during the sync
	// phase ("error=0.2,drop=0.05", see ParseFaults).
	Faults string
	// IPpaySplitACH sends ACH through a separate terminal (SimConfig).
	IPpaySplitACH bool

	Stdout, Stderr io.Writer
	// Ready, when set, is called with the web base URL once serving.
	Ready func(webURL string)
}

// ParseFlags reads the demo's command-line flags into o.
func (o *Options) ParseFlags(args []string) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	if o.Stderr != nil {
		fs.SetOutput(o.Stderr)
	}
	fs.IntVar(&o.Customers, "customers", 500, "customers to seed")
	fs.IntVar(&o.Invoices, "invoices", 5000, "invoices to seed")
	fs.IntVar(&o.Proformas, "proformas", -1, "proforma invoices to seed (-1: as many as customers)")
	fs.Int64Var(&o.Seed, "seed", 1, "random seed of the simulated data")
	fs.BoolVar(&o.Once, "once", false, "print the summary and exit (non-zero if anything does not reconcile)")
	fs.StringVar(&o.Listen, "listen", "127.0.0.1:0", "address of the demo's web pages")
	fs.StringVar(&o.LogLevel, "log-level", "warn", "log level of the daemon's JSON log on stderr")
	fs.BoolVar(&o.Keep, "keep", false, "keep the temporary database")
	fs.StringVar(&o.Faults, "faults", "", `Splynx API faults while syncing, e.g. "error=0.2,drop=0.05" (see splynx-sim -help)`)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.Proformas < 0 {
		o.Proformas = o.Customers
	}
	return nil
}

// Env is the running demo: what runNight and the summary work with.
type Env struct {
	Kind   config.Addon
	Module string
	Prefix string
	Log    *zap.Logger
	Clock  *clock.Fake

	Splynx        *splynxsim.Sim
	SplynxURL     string
	IntegraPay    *integrapaysim.Sim
	IntegraPayURL string
	IPpay         *ippaysim.Sim
	IPpayURL      string // the XML endpoint

	DB       *store.DB
	Client   *splynx.Client
	Settings config.Settings
	// Gateway is the add-on's real gateway client pointed at its simulator.
	Gateway gateways.Gateway
	// WebURL is the base of the add-on's pages ("http://127.0.0.1:PORT/integrapay").
	WebURL string

	Report *Report
}

// SettingsFunc reads the module config through the Splynx API each call,
// as the daemon does.
func (e *Env) SettingsFunc(ctx context.Context) (config.Settings, error) {
	m, err := e.Client.GetModuleConfig(ctx, e.Module, 0)
	if err != nil {
		return config.Settings{}, fmt.Errorf("read module config: %w", err)
	}
	return config.ParseSettingsFor(e.Kind, m, nil)
}

// Run starts everything, prints the summary, and serves until ctx ends
// (or returns at once with Once).
func Run(ctx context.Context, o Options) error {
	if o.Stdout == nil {
		o.Stdout = os.Stdout
	}
	if o.Stderr == nil {
		o.Stderr = os.Stderr
	}
	if o.Listen == "" {
		o.Listen = "127.0.0.1:0"
	}
	if o.LogLevel == "" {
		o.LogLevel = "warn"
	}
	log, err := logging.New(o.LogLevel, o.Stderr)
	if err != nil {
		return err
	}
	log = log.With(zap.String("addon", o.Addon), zap.Bool("demo", true))
	e := &Env{Kind: o.Kind, Module: o.Module, Prefix: o.Prefix, Log: log, Report: &Report{}}
	var servers servers
	defer servers.close()

	start := time.Now()
	sims := NewSims(SimConfig{Seed: o.Seed, Customers: o.Customers, Invoices: o.Invoices, Proformas: o.Proformas, APIKey: APIKey, APISecret: APISecret,
		IPpaySplitACH: o.IPpaySplitACH})
	base, err := servers.serve("127.0.0.1:0", sims.Handler())
	if err != nil {
		return fmt.Errorf("demo: simulators: %w", err)
	}
	urls := SimURLs(base)
	sims.Configure(urls)
	e.Clock, e.Splynx, e.IntegraPay, e.IPpay = sims.Clock, sims.Splynx, sims.IntegraPay, sims.IPpay
	e.SplynxURL, e.IntegraPayURL, e.IPpayURL = urls.Splynx, urls.IntegraPay, urls.IPpay
	e.Report.Time("seed and start simulators", time.Since(start))

	dir, err := os.MkdirTemp("", "splynx-pay-demo-")
	if err != nil {
		return fmt.Errorf("demo: temporary directory: %w", err)
	}
	if !o.Keep {
		defer os.RemoveAll(dir)
	}
	dbPath := filepath.Join(dir, o.Addon+".db")
	if e.DB, err = store.Open(ctx, dbPath, log); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	defer e.DB.Close()
	if e.Client, err = splynx.New(splynx.Config{BaseURL: e.SplynxURL, APIKey: APIKey, APISecret: APISecret, UserAgent: "splynx-pay-demo/" + o.Version},
		splynx.WithLogger(log.Named("splynx")), splynx.WithClock(e.Clock)); err != nil {
		return fmt.Errorf("demo: splynx client: %w", err)
	}
	if e.Settings, err = e.SettingsFunc(ctx); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	if err := e.Settings.Validate(); err != nil {
		return fmt.Errorf("demo: simulator settings: %w", err)
	}
	if o.Gateway != nil {
		if e.Gateway, err = o.Gateway(e.Settings, log.Named("gateway"), e.Clock); err != nil {
			return fmt.Errorf("demo: gateway client: %w", err)
		}
	}

	if o.Faults != "" {
		f, path, err := ParseFaults(o.Faults, o.Seed)
		if err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		e.Splynx.SetFault(path, f)
		e.Report.Note(mirrorSection+" under Splynx API faults", "faults", o.Faults)
	}
	if err := syncAndReconcile(ctx, e, o.Faults != ""); err != nil {
		return err
	}
	// The charge night talks to a well-behaved Splynx: its own fault
	// handling is the charge engine's tests' business.
	e.Splynx.ClearFaults()
	nightStart := time.Now()
	if err := runNight(ctx, e, o.Stdout); err != nil {
		e.Report.Fail("night", "charge run", err)
	}
	e.Report.Time("charge night", time.Since(nightStart))

	srv, err := web.New(web.Options{
		Addon: o.Addon + " (demo)", Prefix: o.Prefix, Version: o.Version,
		Deps: web.Deps{DB: e.DB, Log: log, Clock: e.Clock, Splynx: e.Client, Settings: e.SettingsFunc,
			Gateway: func(context.Context) (gateways.Gateway, error) { return e.Gateway, nil }},
		Demo: true,
	})
	if err != nil {
		return fmt.Errorf("demo: web pages: %w", err)
	}
	webBase, err := servers.serve(o.Listen, srv.Handler())
	if err != nil {
		return fmt.Errorf("demo: web pages on %s: %w", o.Listen, err)
	}
	e.WebURL = webBase + o.Prefix

	printSummary(o, e, dbPath)
	portalLogins(ctx, e, o.Stdout, 3)
	var result error
	if e.Report.Failed() {
		result = errors.New("demo: the mirror or the ledger does not reconcile (✗ above)")
	}
	if o.Ready != nil {
		o.Ready(e.WebURL)
	}
	if o.Once {
		return result
	}
	// Even when something did not reconcile the pages stay up, to look
	// into it; the exit status still says so.
	fmt.Fprintln(o.Stdout, "Serving until Ctrl-C.")
	<-ctx.Done()
	return result
}

// servers runs the demo's HTTP listeners.
type servers struct {
	mu   sync.Mutex
	list []*http.Server
}

func (s *servers) serve(addr string, h http.Handler) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", err
	}
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	s.mu.Lock()
	s.list = append(s.list, hs)
	s.mu.Unlock()
	return "http://" + ln.Addr().String(), nil
}

func (s *servers) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, hs := range s.list {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		_ = hs.Shutdown(ctx)
		cancel()
	}
}

func printSummary(o Options, e *Env, dbPath string) {
	w := o.Stdout
	fmt.Fprintf(w, "\n%s demo — simulated Splynx, IntegraPay and IPpay on 127.0.0.1 (seed %d)\n", o.Addon, o.Seed)
	e.Report.Write(w)
	fmt.Fprintln(w, "\nPages")
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "  charge (preview, run) and history\t%s/charges\n", e.WebURL)
	fmt.Fprintf(tw, "  first run's charges, refunds\t%s/charges/1\n", e.WebURL)
	fmt.Fprintf(tw, "  first run's log (download)\t%s/charges/1/log\n", e.WebURL)
	printStaffPages(tw, e)
	fmt.Fprintf(tw, "  status\t%s/status\n", e.WebURL)
	fmt.Fprintf(tw, "  health\t%s/healthz\n", e.WebURL)
	fmt.Fprintf(tw, "  Splynx API (simulated)\t%s/api/2.0/  key %s\n", e.SplynxURL, APIKey)
	fmt.Fprintf(tw, "  IntegraPay (simulated)\t%s\n", e.IntegraPayURL)
	fmt.Fprintf(tw, "  IPpay (simulated)\t%s\n", e.IPpayURL)
	if o.Keep {
		fmt.Fprintf(tw, "  database\t%s\n", dbPath)
	}
	tw.Flush()
	if e.Report.Failed() {
		fmt.Fprintln(w, "\nRESULT: does NOT reconcile")
	} else {
		fmt.Fprintln(w, "\nRESULT: everything reconciles ✓")
	}
}

// oneLine keeps a failure on its row of the summary.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
