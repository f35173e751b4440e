package splynxsim

import (
	"time"

	"github.com/splynx-pay/splynx-pay/internal/simkit"
)

// Fault describes trouble injected on requests whose path (below
// /api/2.0/) starts with a prefix. Rates are probabilities in [0,1], drawn
// from a generator seeded with Seed, so a run is repeatable for the same
// request order.
type Fault struct {
	Latency        time.Duration // added before handling (real time)
	ErrorRate      float64       // answer Status without touching state
	DropRate       float64       // close the connection before handling
	MalformedRate  float64       // handle, then send a truncated JSON body
	WrongTypesRate float64       // handle, then flip ids/money between strings and numbers
	// DropAfterRate handles the request (state changes happen) and then
	// closes the connection without a response: the "timeout after the
	// payment was applied" case.
	DropAfterRate float64
	Status        int    // for ErrorRate; 0 → 500
	Body          string // for ErrorRate: a raw (e.g. HTML) body instead of the JSON error
	Method        string // only this HTTP method ("" = all)
	Times         int    // the fault disarms after this many hits (0 = never)
	Seed          int64
}

// kit says f in the shared vocabulary: ErrorRate is Fail, DropRate Drop,
// DropAfterRate DropAfter, MalformedRate Malformed, WrongTypesRate Quirk.
func (f Fault) kit() simkit.Fault {
	return simkit.Fault{Method: f.Method, Times: f.Times, Seed: f.Seed, Latency: f.Latency,
		Drop: f.DropRate, Fail: f.ErrorRate, Status: f.Status, Body: f.Body,
		DropAfter: f.DropAfterRate, Malformed: f.MalformedRate, Quirk: f.WrongTypesRate}
}

// SetFault injects f on every path starting with pathPrefix (e.g.
// "admin/finance/invoices"; "" for all). Matching is by plain prefix, so
// "admin/customers/customer" also covers customer-billing; the longest
// matching prefix wins. Setting a prefix again replaces its fault.
func (s *Sim) SetFault(pathPrefix string, f Fault) { s.Inject(pathPrefix, f.kit()) }

// Inject is SetFault in the shared vocabulary; Quirk flips ids and money
// between JSON strings and numbers. Of the after-effects, DropAfter wins;
// Malformed and Quirk combine; FailAfter and Hold do nothing here.
func (s *Sim) Inject(pathPrefix string, f simkit.Fault) { s.faults.Set(simkit.Prefix(pathPrefix), f) }

// ClearFaults removes every fault.
func (s *Sim) ClearFaults() { s.faults.Clear() }

// RequestRecord is one request as the simulator saw it.
type RequestRecord struct {
	Time       time.Time // simulator clock
	Method     string
	Path       string // below /api/2.0/
	Query      string // raw
	AuthScheme string // signature | token | none | other
	Key        string // API key of a signed request
	Nonce      int64  // nonce of a signed request
	UserAgent  string
	Body       string // first 2 KiB
	Status     int    // -1 when the connection was dropped
}

func (s *Sim) record(r RequestRecord) { s.log.Add(r) }

// Requests returns the logged requests, oldest first.
func (s *Sim) Requests() []RequestRecord { return s.log.All() }

// ResetRequests empties the request log.
func (s *Sim) ResetRequests() { s.log.Reset() }

// SetRequestLog turns the request log on or off (off for benchmarks).
func (s *Sim) SetRequestLog(on bool) { s.log.SetOn(on) }
