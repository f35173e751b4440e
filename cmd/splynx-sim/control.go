package main

// The control API (-control): what an outside checker such as splynx-chaos
// needs from the simulators while the daemon runs as its own process. It
// is off by default and lives under /_sim/, a prefix none of the
// simulated APIs uses:
//
//	GET  /_sim/ledger                 the gateways' and Splynx's ledgers (chaos.Ledgers)
//	POST /_sim/fault?target=T&path=P  inject a fault (JSON body: the
//	                                  simulator's Fault struct; T is splynx,
//	                                  integrapay or ippay)
//	POST /_sim/clear                  clear every fault
//	POST /_sim/advance?by=36h         move the simulators' clock forward
//	POST /_sim/expire-tokens          expire Splynx and IntegraPay tokens
//	POST /_sim/invoices               add invoices (JSON [{customer_id, total}])
//	POST /_sim/portal-logins          give customers a portal password (JSON
//	                                  {"customer_ids": [...], "password": "..."});
//	                                  answers their logins, in order
//
// With -control the shared clock follows the wall clock plus an offset
// that /_sim/advance grows, so settlement can be hurried without freezing
// time for token expiry and latency.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/splynx-pay/splynx-pay/gateways/integrapay/integrapaysim"
	"github.com/splynx-pay/splynx-pay/gateways/ippay/ippaysim"
	"github.com/splynx-pay/splynx-pay/internal/chaos"
	"github.com/splynx-pay/splynx-pay/internal/demo"
	"github.com/splynx-pay/splynx-pay/splynx/splynxsim"
)

type control struct {
	sims *demo.Sims

	mu     sync.Mutex
	offset time.Duration
	stop   chan struct{}
	done   chan struct{}
}

// startControl makes the clock follow wall time plus the offset; stop it
// with close.
func startControl(sims *demo.Sims) *control {
	c := &control{sims: sims, stop: make(chan struct{}), done: make(chan struct{})}
	sims.Clock.Set(time.Now())
	go func() {
		defer close(c.done)
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-c.stop:
				return
			case now := <-t.C:
				c.tick(now)
			}
		}
	}()
	return c
}

func (c *control) tick(now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if want := now.Add(c.offset); want.After(c.sims.Clock.Now()) {
		c.sims.Clock.Set(want)
	}
}

func (c *control) close() {
	close(c.stop)
	<-c.done
}

// handler serves /_sim/ and passes everything else to next.
func (c *control) handler(next http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", next)
	mux.HandleFunc("GET /_sim/ledger", c.ledger)
	mux.HandleFunc("POST /_sim/fault", c.fault)
	mux.HandleFunc("POST /_sim/clear", func(w http.ResponseWriter, r *http.Request) {
		c.sims.Splynx.ClearFaults()
		c.sims.IntegraPay.ClearFaults()
		c.sims.IPpay.ClearFaults()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /_sim/advance", func(w http.ResponseWriter, r *http.Request) {
		d, err := time.ParseDuration(r.URL.Query().Get("by"))
		if err != nil || d <= 0 {
			http.Error(w, "by: want a positive duration such as 36h", http.StatusBadRequest)
			return
		}
		c.mu.Lock()
		c.offset += d
		c.mu.Unlock()
		c.tick(time.Now())
		fmt.Fprintln(w, c.sims.Clock.Now().Format(time.RFC3339))
	})
	mux.HandleFunc("POST /_sim/expire-tokens", func(w http.ResponseWriter, r *http.Request) {
		c.sims.Splynx.ExpireTokens()
		c.sims.IntegraPay.RevokeTokens()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /_sim/invoices", c.invoices)
	mux.HandleFunc("POST /_sim/portal-logins", c.portalLogins)
	return mux
}

func (c *control) ledger(w http.ResponseWriter, r *http.Request) {
	l := chaos.Ledgers{Now: c.sims.Clock.Now(), Payments: c.sims.Splynx.Payments(),
		IntegraPay: c.sims.IntegraPay.Ledger(), IPpay: c.sims.IPpay.Ledger()}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(l)
}

func (c *control) fault(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16))
	dec.DisallowUnknownFields()
	var err error
	switch q.Get("target") {
	case "splynx":
		var f splynxsim.Fault
		if err = dec.Decode(&f); err == nil {
			c.sims.Splynx.SetFault(q.Get("path"), f)
		}
	case "integrapay":
		var f integrapaysim.Fault
		if err = dec.Decode(&f); err == nil {
			c.sims.IntegraPay.SetFault(q.Get("path"), f)
		}
	case "ippay":
		var f ippaysim.Fault
		if err = dec.Decode(&f); err == nil {
			c.sims.IPpay.SetFault(f)
		}
	default:
		err = fmt.Errorf("target %q: want splynx, integrapay or ippay", q.Get("target"))
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// invoices adds not-paid invoices dated yesterday by the wall clock, so a
// daemon on the real clock counts them as due however far the simulators'
// clock was advanced.
func (c *control) invoices(w http.ResponseWriter, r *http.Request) {
	var rows []chaos.NewInvoice
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<22)).Decode(&rows); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	day := time.Now().UTC().Add(-24 * time.Hour).Truncate(24 * time.Hour)
	ids := make([]int64, 0, len(rows))
	for _, row := range rows {
		if _, ok := c.sims.Splynx.Customer(row.CustomerID); !ok || row.Total <= 0 {
			http.Error(w, fmt.Sprintf("customer %d, total %s: want a known customer and a positive total", row.CustomerID, row.Total), http.StatusBadRequest)
			return
		}
		ids = append(ids, c.sims.Splynx.AddInvoice(splynxsim.Invoice{CustomerID: row.CustomerID, Total: row.Total, Status: "not_paid",
			DateCreated: day, Items: []splynxsim.InvoiceItem{{Description: "Chaos service", Quantity: 1, Price: row.Total}}}))
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(ids)
}

// portalLogins lets customers log in to the customer pages (auth_type
// customer) with one password, as a checker's simulated customers do.
func (c *control) portalLogins(w http.ResponseWriter, r *http.Request) {
	var req struct {
		CustomerIDs []int64 `json:"customer_ids"`
		Password    string  `json:"password"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&req); err != nil || req.Password == "" {
		http.Error(w, "want {\"customer_ids\": [...], \"password\": \"...\"}", http.StatusBadRequest)
		return
	}
	logins := make([]string, 0, len(req.CustomerIDs))
	for _, id := range req.CustomerIDs {
		cu, ok := c.sims.Splynx.Customer(id)
		if !ok {
			http.Error(w, fmt.Sprintf("customer %d: not known", id), http.StatusBadRequest)
			return
		}
		c.sims.Splynx.SetCustomerPassword(id, cu.Login, req.Password)
		logins = append(logins, cu.Login)
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(logins)
}
