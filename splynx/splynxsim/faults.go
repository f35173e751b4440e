package splynxsim

import (
	"math/rand/v2"
	"net/http"
	"strings"
	"time"
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

type faultState struct {
	f    Fault
	rng  *rand.Rand
	hits int
}

type faultHit struct {
	latency    time.Duration
	drop       bool
	fail       bool
	status     int
	body       string
	malformed  bool
	wrongTypes bool
	dropAfter  bool
}

// SetFault injects f on every path starting with pathPrefix (e.g.
// "admin/finance/invoices"; "" for all). Matching is by plain prefix, so
// "admin/customers/customer" also covers customer-billing; the longest
// matching prefix wins. Setting a prefix again replaces its fault.
func (s *Sim) SetFault(pathPrefix string, f Fault) {
	s.fmu.Lock()
	defer s.fmu.Unlock()
	s.faults[strings.Trim(pathPrefix, "/")] = &faultState{f: f, rng: rand.New(rand.NewPCG(uint64(f.Seed), 0x5eed))}
}

// ClearFaults removes every fault.
func (s *Sim) ClearFaults() {
	s.fmu.Lock()
	defer s.fmu.Unlock()
	s.faults = map[string]*faultState{}
}

func (s *Sim) pickFault(rel, method string) *faultHit {
	s.fmu.Lock()
	defer s.fmu.Unlock()
	var best *faultState
	bestKey := ""
	for k, fs := range s.faults {
		if !(k == "" || rel == k || strings.HasPrefix(rel, k+"/") || strings.HasPrefix(rel, k)) {
			continue
		}
		if fs.f.Method != "" && !strings.EqualFold(fs.f.Method, method) {
			continue
		}
		if best == nil || len(k) > len(bestKey) {
			best, bestKey = fs, k
		}
	}
	if best == nil {
		return nil
	}
	f := best.f
	roll := func(p float64) bool { return p > 0 && best.rng.Float64() < p }
	h := &faultHit{latency: f.Latency, status: f.Status, body: f.Body}
	if h.status == 0 {
		h.status = http.StatusInternalServerError
	}
	h.drop = roll(f.DropRate)
	h.fail = !h.drop && roll(f.ErrorRate)
	if !h.drop && !h.fail {
		h.dropAfter = roll(f.DropAfterRate)
		h.malformed = roll(f.MalformedRate)
		h.wrongTypes = roll(f.WrongTypesRate)
	}
	if h.drop || h.fail || h.dropAfter || h.malformed || h.wrongTypes || h.latency > 0 {
		best.hits++
		if f.Times > 0 && best.hits >= f.Times {
			delete(s.faults, bestKey)
		}
	}
	return h
}

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

func (s *Sim) record(r RequestRecord) {
	s.lmu.Lock()
	defer s.lmu.Unlock()
	if !s.logOn {
		return
	}
	if len(s.log) < s.opts.RequestLogCap {
		s.log = append(s.log, r)
		return
	}
	s.log[s.logAt] = r
	s.logAt = (s.logAt + 1) % len(s.log)
}

// Requests returns the logged requests, oldest first.
func (s *Sim) Requests() []RequestRecord {
	s.lmu.Lock()
	defer s.lmu.Unlock()
	out := make([]RequestRecord, 0, len(s.log))
	out = append(out, s.log[s.logAt:]...)
	return append(out, s.log[:s.logAt]...)
}

// ResetRequests empties the request log.
func (s *Sim) ResetRequests() {
	s.lmu.Lock()
	defer s.lmu.Unlock()
	s.log, s.logAt = nil, 0
}

// SetRequestLog turns the request log on or off (off for benchmarks).
func (s *Sim) SetRequestLog(on bool) {
	s.lmu.Lock()
	defer s.lmu.Unlock()
	s.logOn = on
}
