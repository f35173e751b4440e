package splynxsim

import (
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/splynx-pay/splynx-pay/internal/simkit"
)

// Latency models the time a real Splynx (PHP rendering from MySQL on the
// ISP's server) takes to answer, so that a benchmark can show the sync at
// Splynx-like speeds as well as against the in-memory simulator.
//
// Every request that reaches an API route waits Page, plus Record for each
// record in the answer, before the answer is sent:
//
//   - a list page waits Page + Record × (records in the page);
//   - a single-record GET (customer/7, invoices/12) counts as a page of one
//     record: Page + Record;
//   - anything else (a HEAD count, a write, a config read, an error) counts
//     as a page of no records: Page.
//
// The wait happens after the simulator's lock is released, so slow answers
// overlap as they would on a Splynx serving several PHP workers.
type Latency struct {
	Page, Record time.Duration
}

// IsZero reports whether l adds no delay.
func (l Latency) IsZero() bool { return l.Page <= 0 && l.Record <= 0 }

// For is the delay of an answer holding n records.
func (l Latency) For(n int) time.Duration { return l.Page + time.Duration(n)*l.Record }

// String renders l in ParseLatency's syntax.
func (l Latency) String() string { return "page=" + l.Page.String() + ",record=" + l.Record.String() }

// ParseLatency reads "page=80ms,record=40us" (either key may be left out;
// durations in Go syntax, not negative). An empty string is no latency.
func ParseLatency(s string) (Latency, error) {
	var l Latency
	s = strings.TrimSpace(s)
	if s == "" {
		return l, nil
	}
	seen := map[string]bool{}
	for _, part := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || v == "" {
			return Latency{}, fmt.Errorf("latency %q: %q is not key=duration (e.g. page=80ms,record=40us)", s, part)
		}
		if seen[k] {
			return Latency{}, fmt.Errorf("latency %q: %s given twice", s, k)
		}
		seen[k] = true
		d, err := time.ParseDuration(v)
		if err != nil {
			return Latency{}, fmt.Errorf("latency %q: %s=%s is not a duration (e.g. 80ms, 40us)", s, k, v)
		}
		if d < 0 {
			return Latency{}, fmt.Errorf("latency %q: %s=%s is negative", s, k, v)
		}
		switch k {
		case "page":
			l.Page = d
		case "record":
			l.Record = d
		default:
			return Latency{}, fmt.Errorf("latency %q: unknown key %q (keys: page, record)", s, k)
		}
	}
	return l, nil
}

// latencyState is the simulator's latency model and the ledger of the
// delays it applied.
type latencyState struct {
	model  atomic.Pointer[Latency]
	served atomic.Int64 // total delay applied, ns
	waits  atomic.Int64 // answers delayed
}

// SetLatency replaces the latency model (a zero Latency turns it off);
// Options.Latency sets it at construction.
func (s *Sim) SetLatency(l Latency) {
	if l.IsZero() {
		s.latency.model.Store(nil)
		return
	}
	s.latency.model.Store(&l)
}

// LatencyServed returns the total delay the latency model applied and to
// how many answers, since the simulator started.
func (s *Sim) LatencyServed() (total time.Duration, answers int64) {
	return time.Duration(s.latency.served.Load()), s.latency.waits.Load()
}

// delay waits, on real time, what the latency model says c's answer costs.
// A request whose client gave up stops waiting.
func (s *Sim) delay(c *rctx) {
	l := s.latency.model.Load()
	if l == nil {
		return
	}
	d := l.For(max(0, c.records))
	s.latency.served.Add(int64(d))
	s.latency.waits.Add(1)
	simkit.Wait(c.r, d)
}

// SetRefuseBillingList turns Options.RefuseBillingList on or off for a
// simulator built elsewhere (splynx-sim's -refuse-billing-list). Call it
// before serving requests.
func (s *Sim) SetRefuseBillingList(on bool) { s.opts.RefuseBillingList = on }
