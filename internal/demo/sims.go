package demo

import (
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/splynx-pay/splynx-pay/gateways/integrapay/integrapaysim"
	"github.com/splynx-pay/splynx-pay/gateways/ippay/ippaysim"
	"github.com/splynx-pay/splynx-pay/internal/addon"
	"github.com/splynx-pay/splynx-pay/internal/config"
	"github.com/splynx-pay/splynx-pay/internal/simstack"
	"github.com/splynx-pay/splynx-pay/splynx/splynxsim"
)

// Module names of the two add-ons in Splynx.
var (
	IntegraPayModule = addon.IntegraPay.Module
	IPpayModule      = addon.IPpay.Module
)

// Sims are the three simulators on one clock, served from one listener.
type Sims struct {
	simstack.Sims // Clock, Splynx, IntegraPay, IPpay

	splitACH bool
	stop     chan struct{}
	done     chan struct{}
}

// SimConfig sizes and seeds the simulated Splynx.
type SimConfig struct {
	Seed                           int64
	Customers, Invoices, Proformas int
	APIKey, APISecret              string
	// RealTime starts the shared clock at the current time and keeps it
	// following the wall clock, for a daemon that runs on the real clock
	// against the simulators (tokens the simulated Splynx issues expire
	// relative to its own clock). Stop it with Close.
	RealTime bool
	// Inferred makes the IntegraPay simulator also serve the paths and
	// behaviours the spec does not confirm (integrapaysim.Options.Inferred).
	// The IPpay simulator always serves its returns report here, because
	// the demo's module config points ippay_returns_url at it.
	Inferred bool
	// IPpaySplitACH configures a separate IPpay ACH terminal
	// (ippay_ach_terminal_id = IPpayACHTerminal), as some merchants have.
	// Off, the default: one terminal takes cards and ACH (issue 17).
	IPpaySplitACH bool
}

// NewSims builds and seeds the simulators. The shared fake clock starts at
// Monday 2026-11-02 09:00 UTC, the simulators' default.
func NewSims(cfg SimConfig) *Sims {
	start := simstack.DefaultStart
	if cfg.RealTime {
		start = time.Now()
	}
	s := &Sims{splitACH: cfg.IPpaySplitACH,
		Sims: *simstack.NewSims(simstack.Options{Start: start, APIKey: cfg.APIKey, APISecret: cfg.APISecret,
			Seed:          &splynxsim.SeedConfig{Seed: cfg.Seed, Customers: cfg.Customers, Invoices: cfg.Invoices, Proformas: cfg.Proformas},
			IntegraPaySim: integrapaysim.Options{Inferred: cfg.Inferred},
			IPpaySim:      ippaysim.Options{Inferred: true}}, config.IntegraPay, config.IPpay)}
	if cfg.RealTime {
		s.stop, s.done = make(chan struct{}), make(chan struct{})
		go s.follow()
	}
	return s
}

func (s *Sims) follow() {
	defer close(s.done)
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case now := <-t.C:
			// Only forward: a test may have moved the clock ahead on purpose.
			if now.After(s.Clock.Now()) {
				s.Clock.Set(now)
			}
		}
	}
}

// Close stops a RealTime clock.
func (s *Sims) Close() {
	if s.stop != nil {
		close(s.stop)
		<-s.done
		s.stop = nil
	}
}

// Handler serves the three simulators under one origin:
//
//	/api/2.0/...      Splynx (so the origin itself is the Splynx URL)
//	/integrapay/...   IntegraPay auth and REST API
//	/ippay/ippay      IPpay XML gateway; /ippay/returns.csv its ACH returns
func (s *Sims) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/integrapay/", http.StripPrefix("/integrapay", s.IntegraPay.Handler()))
	mux.Handle("/ippay/", http.StripPrefix("/ippay", s.IPpay.Handler()))
	mux.Handle("/", s.Splynx.Handler())
	return mux
}

// URLs are where the simulators answer, given the listener's base URL.
type URLs struct {
	Splynx, IntegraPay, IPpay, IPpayReturns string
}

// SimURLs derives the simulators' URLs from the base ("http://127.0.0.1:8400").
func SimURLs(base string) URLs {
	base = strings.TrimRight(base, "/")
	return URLs{Splynx: base, IntegraPay: base + "/integrapay", IPpay: base + "/ippay/ippay", IPpayReturns: base + "/ippay/returns.csv"}
}

// Configure writes both add-ons' module config into the simulated Splynx,
// pointing their gateways at the simulators.
func (s *Sims) Configure(u URLs) {
	s.Splynx.SetModuleConfig(IntegraPayModule, 0, ModuleConfig(config.IntegraPay, u))
	ipp := ModuleConfig(config.IPpay, u)
	if s.splitACH {
		ipp["ippay_ach_terminal_id"] = IPpayACHTerminal
	}
	s.Splynx.SetModuleConfig(IPpayModule, 0, ipp)
}

// ModuleConfig is an add-on's module config with working simulator
// credentials.
func ModuleConfig(k config.Addon, u URLs) map[string]string {
	m := map[string]string{
		"payment_method_card": "3",
		"payment_method_bank": "2",
		"splynx_url":          u.Splynx,
	}
	switch k {
	case config.IntegraPay:
		m["currency"] = "AUD"
		m["integrapay_username"] = integrapaysim.DefaultUsername
		m["integrapay_password"] = integrapaysim.DefaultPassword
		m["integrapay_business_id"] = integrapaysim.DefaultBusinessID
		m["integrapay_auth_url"] = u.IntegraPay
		m["integrapay_api_url"] = u.IntegraPay
		// SPLYNXPAY_SETTING_CARD_ENTRY=hosted make demo: new cards and bank
		// accounts are entered on the simulator's hosted pages.
		if v := os.Getenv("SPLYNXPAY_SETTING_CARD_ENTRY"); v != "" {
			m["card_entry"] = v
		}
	case config.IPpay:
		m["currency"] = "USD"
		m["ippay_terminal_id"] = IPpayTerminal
		m["ippay_ach_terminal_id"] = "" // one terminal for card and ACH
		m["ippay_url"] = u.IPpay
		m["ippay_returns_url"] = u.IPpayReturns
	}
	return m
}
