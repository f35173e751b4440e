// Package simkit is the plumbing the three simulators (splynx/splynxsim,
// gateways/integrapay/integrapaysim, gateways/ippay/ippaysim) share: one
// fault vocabulary and its injector, a request log, and the small HTTP
// moves a misbehaving server makes (closing a connection unanswered,
// waiting on a request, buffering an answer so a fault can replace it).
//
// It is test, demo and bench code. Production packages must not import
// it; internal/daemon's TestPackagedBuildHasNoSimulators fails when a
// packaged binary links it.
package simkit

import (
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Fault is trouble injected into the requests a rule matches, in words all
// the simulators share. Chances are probabilities in [0,1] drawn from a
// generator seeded with Seed, so a run is repeatable for the same request
// order; 1 means every matching request.
//
// Before handling, the request changes nothing: Drop wins over Fail. After
// handling, its effects have happened (a payment is applied) and only the
// answer misbehaves; which of the after-effects wins when several fire is
// the simulator's call (each documents it).
type Fault struct {
	Method string // only this HTTP method ("" = any)
	Times  int    // the rule disarms after this many hits (0 = never)
	Seed   int64  // seeds the draws of the chances below

	// Before handling.
	Latency time.Duration // wait, then go on
	Drop    float64       // close the connection without an answer
	Fail    float64       // answer Status (and Body) instead of handling
	Status  int           // for Fail and FailAfter; 0 → 500
	Body    string        // for Fail: a raw body instead of the simulator's error shape

	// After handling.
	DropAfter float64       // close the connection without an answer
	FailAfter float64       // answer Status instead of the real answer
	Malformed float64       // send a broken body
	Quirk     float64       // the simulator's own wire quirk (Splynx: ids and money in the other JSON type)
	Hold      time.Duration // wait before answering, so a client with a shorter timeout gives up after the effect

	// Tag carries a simulator's own details (IPpay's echo and void-after);
	// the kit hands it back in the Hit untouched.
	Tag any
}

// Always is the chance of a misbehaviour a simulator spells as a switch:
// 1 when on, else 0.
func Always(on bool) float64 {
	if on {
		return 1
	}
	return 0
}

// chancy reports whether what the fault does depends on a draw.
func (f *Fault) chancy() bool {
	for _, p := range []float64{f.Drop, f.Fail, f.DropAfter, f.FailAfter, f.Malformed, f.Quirk} {
		if p > 0 && p < 1 {
			return true
		}
	}
	return false
}

// Hit is what a fault does to one request.
type Hit struct {
	Latency time.Duration
	Drop    bool
	Fail    bool
	Status  int // never 0
	Body    string

	DropAfter bool
	FailAfter bool
	Malformed bool
	Quirk     bool
	Hold      time.Duration

	Tag any
}

func (h *Hit) something() bool {
	return h.Latency > 0 || h.Drop || h.Fail || h.DropAfter || h.FailAfter || h.Malformed || h.Quirk || h.Hold > 0
}

// Where picks the requests a rule applies to, by the key the simulator
// gives each request (a path below its API root, a message type).
type Where interface {
	// Match reports whether key is covered and how specifically: the
	// highest rank wins, equal ranks go to the rule added first.
	Match(key string) (rank int, ok bool)
	String() string
}

// Prefix matches keys that start with p as plain text ("admin/customers/
// customer" also covers "admin/customers/customer-billing"); the longest
// prefix wins. "" matches everything.
func Prefix(p string) Where { return prefix(strings.Trim(p, "/")) }

type prefix string

func (p prefix) Match(key string) (int, bool) { return len(p), strings.HasPrefix(key, string(p)) }
func (p prefix) String() string               { return string(p) }

// Segments matches keys whose leading "/"-separated segments are those of
// pattern, "*" standing for any one segment ("payers/*/transactions/card"
// covers "payers/P1/transactions/card/x"). All rank the same, so the rule
// added first wins. "" matches everything.
func Segments(pattern string) Where {
	return segments{label: pattern, segs: SplitPath(pattern)}
}

type segments struct {
	label string
	segs  []string
}

func (s segments) Match(key string) (int, bool) {
	segs := SplitPath(key)
	if len(s.segs) > len(segs) {
		return 0, false
	}
	for i, p := range s.segs {
		if p != "*" && p != segs[i] {
			return 0, false
		}
	}
	return 0, true
}

func (s segments) String() string { return s.label }

// OneOf matches keys equal, ignoring case, to one of names (message types
// such as IPpay's TransactionType); no names match everything. All rank
// the same, so the rule added first wins.
func OneOf(names ...string) Where { return oneOf(names) }

type oneOf []string

func (o oneOf) Match(key string) (int, bool) {
	if len(o) == 0 {
		return 0, true
	}
	for _, n := range o {
		if strings.EqualFold(n, key) {
			return 0, true
		}
	}
	return 0, false
}

func (o oneOf) String() string { return strings.Join(o, ",") }

// SplitPath splits a path into its segments, ignoring leading and trailing
// slashes ("" has none).
func SplitPath(p string) []string {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

type rule struct {
	where Where
	f     Fault
	rng   *rand.Rand
	hits  int
}

// Injector holds fault rules and picks the one for each request. Safe for
// concurrent use; the zero value is ready.
type Injector struct {
	mu    sync.Mutex
	rules []*rule
}

func newRule(where Where, f Fault) *rule {
	return &rule{where: where, f: f, rng: rand.New(rand.NewPCG(uint64(f.Seed), 0x5eed))}
}

// Add appends a rule; earlier rules keep their place.
func (in *Injector) Add(where Where, f Fault) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.rules = append(in.rules, newRule(where, f))
}

// Set replaces the rule with the same Where (by String), or adds one.
func (in *Injector) Set(where Where, f Fault) {
	in.mu.Lock()
	defer in.mu.Unlock()
	for i, r := range in.rules {
		if r.where.String() == where.String() {
			in.rules = append(in.rules[:i:i], in.rules[i+1:]...)
			break
		}
	}
	in.rules = append(in.rules, newRule(where, f))
}

// Clear removes every rule.
func (in *Injector) Clear() {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.rules = nil
}

// Take picks the rule for a request, draws what it does and counts the hit;
// nil when no rule matches. A request counts against Times unless the rule
// left it alone because a chance did not fire; a rule disarms at Times.
func (in *Injector) Take(method, key string) *Hit {
	in.mu.Lock()
	defer in.mu.Unlock()
	best, bestRank := -1, 0
	for i, r := range in.rules {
		if r.f.Method != "" && !strings.EqualFold(r.f.Method, method) {
			continue
		}
		rank, ok := r.where.Match(key)
		if ok && (best < 0 || rank > bestRank) {
			best, bestRank = i, rank
		}
	}
	if best < 0 {
		return nil
	}
	r := in.rules[best]
	f := r.f
	roll := func(p float64) bool { return p > 0 && r.rng.Float64() < p }
	h := &Hit{Latency: f.Latency, Status: f.Status, Body: f.Body, Hold: f.Hold, Tag: f.Tag}
	if h.Status == 0 {
		h.Status = http.StatusInternalServerError
	}
	h.Drop = roll(f.Drop)
	h.Fail = !h.Drop && roll(f.Fail)
	if !h.Drop && !h.Fail {
		h.DropAfter = roll(f.DropAfter)
		h.FailAfter = roll(f.FailAfter)
		h.Malformed = roll(f.Malformed)
		h.Quirk = roll(f.Quirk)
	}
	if h.something() || !f.chancy() {
		r.hits++
		if f.Times > 0 && r.hits >= f.Times {
			in.rules = append(in.rules[:best:best], in.rules[best+1:]...)
		}
	}
	return h
}
