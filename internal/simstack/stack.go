// Package simstack assembles the whole simulated world a test (or the demo,
// or the benchmark) runs the add-on against: one clock, the simulated
// Splynx, one add-on's simulated gateway, each on its own HTTP server, the
// Splynx and gateway clients pointed at them, and a store database.
//
// It links all the simulators, so nothing in the packaged binaries may
// import it (internal/daemon's TestPackagedBuildHasNoSimulators).
package simstack

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/splynx-pay/splynx-pay/gateways"
	"github.com/splynx-pay/splynx-pay/gateways/integrapay"
	"github.com/splynx-pay/splynx-pay/gateways/integrapay/integrapaysim"
	"github.com/splynx-pay/splynx-pay/gateways/ippay"
	"github.com/splynx-pay/splynx-pay/gateways/ippay/ippaysim"
	"github.com/splynx-pay/splynx-pay/internal/clock"
	"github.com/splynx-pay/splynx-pay/internal/config"
	"github.com/splynx-pay/splynx-pay/splynx"
	"github.com/splynx-pay/splynx-pay/splynx/splynxsim"
	"github.com/splynx-pay/splynx-pay/store"
)

// The simulated IPpay terminals the stack configures: one for cards, one
// for ACH.
const (
	IPpayCardTerminal = "TESTTERMINAL"
	IPpayACHTerminal  = "TESTACH"
	// IPpaySEC and IPpaySettleDays are the IPpay client's ACH settings.
	IPpaySEC        = "WEB"
	IPpaySettleDays = 3
)

// DefaultStart is where the fake clock starts: Monday 2026-11-02 09:00 UTC,
// the simulators' default.
var DefaultStart = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)

// Options say which stack to build. The zero value is an IntegraPay stack
// with the inferred paths off, on a fake clock at DefaultStart, with API
// key "k"/"s" and a database in a temporary directory.
type Options struct {
	// Addon picks the gateway: config.IntegraPay (the default) or config.IPpay.
	Addon config.Addon
	// Inferred makes the gateway simulator also serve what the specs do
	// not confirm; for IPpay it also points the client at the returns report.
	Inferred bool
	// Start is the fake clock's start (zero: DefaultStart).
	Start time.Time

	// APIKey and APISecret are the Splynx API key the simulator accepts
	// and the client uses (zero: "k", "s").
	APIKey, APISecret string
	// PaymentMethods are added to the simulated Splynx in order.
	PaymentMethods []splynxsim.PaymentMethod
	// Seed, when set, seeds the simulated Splynx.
	Seed *splynxsim.SeedConfig

	// Simulator options; their Clock is set by the stack, and the
	// gateways' Inferred is on when either it or Options.Inferred is.
	SplynxSim     splynxsim.Options
	IntegraPaySim integrapaysim.Options
	IPpaySim      ippaysim.Options

	// ServerClients makes both clients use the test servers' own
	// http.Client; SplynxHTTP and GatewayHTTP, when set, win over it.
	ServerClients bool
	SplynxHTTP    *http.Client
	GatewayHTTP   *http.Client
	// SplynxTimeout is the Splynx client's timeout (zero: the client's default).
	SplynxTimeout time.Duration
	// SplynxOptions are added after the stack's own (clock, HTTP client).
	SplynxOptions []splynx.Option
	// GatewayTimeout and GatewayOperator go into the gateway client's
	// config (zero: the client's defaults).
	GatewayTimeout  time.Duration
	GatewayOperator string
	// GatewayLog, when set, is the gateway client's logger.
	GatewayLog *zap.Logger

	// DBPath is the database file (zero: pay.db in a temporary directory);
	// DBLog is the store's logger.
	DBPath string
	DBLog  *zap.Logger
}

// Sims are the simulators on one fake clock, without servers.
type Sims struct {
	Clock      *clock.Fake
	Splynx     *splynxsim.Sim
	IntegraPay *integrapaysim.Sim // nil unless built
	IPpay      *ippaysim.Sim      // nil unless built
}

// NewSims builds the clock, the simulated Splynx (API key, payment
// methods, seed; the key as given, not defaulted) and the simulated gateways of the add-ons given, IPpay's
// with its two terminals. The stack uses it for its one add-on; the demo
// for both.
func NewSims(opts Options, addons ...config.Addon) *Sims {
	if opts.Start.IsZero() {
		opts.Start = DefaultStart
	}
	s := &Sims{Clock: clock.NewFake(opts.Start)}
	spo := opts.SplynxSim
	spo.Clock = s.Clock
	s.Splynx = splynxsim.New(spo)
	for _, a := range addons {
		switch a {
		case config.IntegraPay:
			o := opts.IntegraPaySim
			o.Clock, o.Inferred = s.Clock, o.Inferred || opts.Inferred
			s.IntegraPay = integrapaysim.New(o)
		case config.IPpay:
			o := opts.IPpaySim
			o.Clock, o.Inferred = s.Clock, o.Inferred || opts.Inferred
			s.IPpay = ippaysim.New(o)
		}
	}
	s.Splynx.AddAPIKey(opts.APIKey, opts.APISecret)
	for _, m := range opts.PaymentMethods {
		s.Splynx.AddPaymentMethod(m)
	}
	if opts.Seed != nil {
		s.Splynx.Seed(*opts.Seed)
	}
	if s.IPpay != nil {
		s.IPpay.AddTerminal(IPpayCardTerminal, false)
		s.IPpay.AddTerminal(IPpayACHTerminal, true)
	}
	return s
}

// Stack is the assembled world.
type Stack struct {
	Addon config.Addon
	Sims

	// SplynxURL and GatewayURL are the simulators' servers.
	SplynxURL, GatewayURL string

	SplynxClient *splynx.Client
	Gateway      gateways.Gateway

	DB     *store.DB
	DBPath string
}

// New builds a stack; close stops its servers and closes its database.
func New(opts Options) (s *Stack, close func(), err error) {
	var closers []func()
	closeAll := func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
	defer func() {
		if err != nil {
			closeAll() // the returns below leave close nil
			s, close = nil, nil
		}
	}()
	if opts.Addon == "" {
		opts.Addon = config.IntegraPay
	}
	if opts.APIKey == "" && opts.APISecret == "" {
		opts.APIKey, opts.APISecret = "k", "s"
	}
	if opts.Addon != config.IntegraPay && opts.Addon != config.IPpay {
		return nil, nil, fmt.Errorf("simstack: unknown add-on %q", opts.Addon)
	}
	s = &Stack{Addon: opts.Addon, Sims: *NewSims(opts, opts.Addon)}
	serve := func(h http.Handler) *httptest.Server {
		srv := httptest.NewServer(h)
		closers = append(closers, srv.Close)
		return srv
	}
	pick := func(srv *httptest.Server, own *http.Client) *http.Client {
		if own != nil {
			return own
		}
		if opts.ServerClients {
			return srv.Client()
		}
		return nil
	}

	spSrv := serve(s.Splynx.Handler())
	s.SplynxURL = spSrv.URL
	spOpts := []splynx.Option{splynx.WithClock(s.Clock)}
	if c := pick(spSrv, opts.SplynxHTTP); c != nil {
		spOpts = append(spOpts, splynx.WithHTTPClient(c))
	}
	s.SplynxClient, err = splynx.New(splynx.Config{BaseURL: spSrv.URL, APIKey: opts.APIKey, APISecret: opts.APISecret,
		Timeout: opts.SplynxTimeout}, append(spOpts, opts.SplynxOptions...)...)
	if err != nil {
		return nil, nil, fmt.Errorf("splynx client: %w", err)
	}

	switch opts.Addon {
	case config.IntegraPay:
		srv := serve(s.IntegraPay.Handler())
		s.GatewayURL = srv.URL
		gwOpts := []integrapay.Option{integrapay.WithClock(s.Clock)}
		if c := pick(srv, opts.GatewayHTTP); c != nil {
			gwOpts = append(gwOpts, integrapay.WithHTTPClient(c))
		}
		if opts.GatewayLog != nil {
			gwOpts = append(gwOpts, integrapay.WithLogger(opts.GatewayLog))
		}
		s.Gateway, err = integrapay.New(integrapay.Config{AuthURL: srv.URL, APIURL: srv.URL, Username: integrapaysim.DefaultUsername,
			Password: integrapaysim.DefaultPassword, BusinessID: integrapaysim.DefaultBusinessID, Timeout: opts.GatewayTimeout,
			Operator: opts.GatewayOperator}, gwOpts...)
	case config.IPpay:
		srv := serve(s.IPpay.Handler())
		s.GatewayURL = srv.URL
		gwOpts := []ippay.Option{ippay.WithClock(s.Clock)}
		if c := pick(srv, opts.GatewayHTTP); c != nil {
			gwOpts = append(gwOpts, ippay.WithHTTPClient(c))
		}
		if opts.GatewayLog != nil {
			gwOpts = append(gwOpts, ippay.WithLogger(opts.GatewayLog))
		}
		returns := ""
		if opts.Inferred {
			returns = srv.URL + "/returns.csv"
		}
		s.Gateway, err = ippay.New(ippay.Config{URL: srv.URL + "/ippay", CardTerminalID: IPpayCardTerminal, ACHTerminalID: IPpayACHTerminal,
			SEC: IPpaySEC, SettleDays: IPpaySettleDays, ReturnsURL: returns, Timeout: opts.GatewayTimeout}, gwOpts...)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%s client: %w", opts.Addon, err)
	}

	s.DBPath = opts.DBPath
	if s.DBPath == "" {
		dir, err := os.MkdirTemp("", "simstack-")
		if err != nil {
			return nil, nil, err
		}
		closers = append(closers, func() { os.RemoveAll(dir) })
		s.DBPath = filepath.Join(dir, "pay.db")
	}
	if s.DB, err = store.Open(context.Background(), s.DBPath, opts.DBLog); err != nil {
		return nil, nil, fmt.Errorf("store: %w", err)
	}
	db := s.DB
	closers = append(closers, func() { db.Close() })
	return s, closeAll, nil
}

// Start builds a stack for a test (its database in the test's temporary
// directory unless DBPath says otherwise) and closes it when the test ends.
func Start(tb testing.TB, opts Options) *Stack {
	tb.Helper()
	if opts.DBPath == "" {
		opts.DBPath = filepath.Join(tb.TempDir(), "pay.db")
	}
	s, close, err := New(opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(close)
	return s
}
