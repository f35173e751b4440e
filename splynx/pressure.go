package splynx

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Splynx is PHP and MySQL on the ISP's own server: the client bounds how
// many requests it has open at once and how many it starts per second, and
// a 429 or 503 with Retry-After waits at least that long before a retry.
//
// Two kinds of work share those limits. Bulk work (mirror passes, charge
// runs, write-backs) is thousands of requests back to back; it is paced by
// splynx_requests_per_second. A request a person is waiting for (a customer
// opening a pay page, logging in, confirming a payment; marked with
// Interactive) is one request per click: it must not queue behind a sync's
// backlog, yet customers together must not be able to push Splynx harder
// than the ISP allowed. So:
//   - splynx_max_concurrent_requests bounds everything: interactive and
//     bulk requests take their slots from the same pool (what protects
//     Splynx's PHP workers holds whatever the mix), and a free slot goes to
//     a waiting interactive request first;
//   - interactive requests do not wait for the bulk rate: they have their
//     own budget of the same sustained rate, with a burst of
//     interactiveBurstSeconds of it (customers arrive together, e.g. after
//     the invoice e-mails go out), so a sync and customers at their peaks
//     can start at most twice splynx_requests_per_second between them.

// Default pressure limits (settings splynx_max_concurrent_requests and
// splynx_requests_per_second).
const (
	DefaultMaxConcurrent     = 4
	DefaultRequestsPerSecond = 20
)

// interactiveBurstSeconds: interactive requests may start this many
// seconds' worth of the rate at once.
const interactiveBurstSeconds = 5

// maxRetryAfter caps a Retry-After wait: a longer one fails the call (the
// next sync tries again) rather than holding a pass for hours.
const maxRetryAfter = 5 * time.Minute

type interactiveKey struct{}

// Interactive marks ctx as the context of a request a person is waiting
// for: its Splynx requests take the next free request slot before bulk work
// and are paced by their own rate budget, not the sync's (see above).
func Interactive(ctx context.Context) context.Context {
	return context.WithValue(ctx, interactiveKey{}, true)
}

// IsInteractive reports whether ctx was marked by Interactive.
func IsInteractive(ctx context.Context) bool {
	v, _ := ctx.Value(interactiveKey{}).(bool)
	return v
}

type pressure struct {
	mu    sync.Mutex
	slots int // requests open at once, at most
	used  int
	// Requests waiting for a slot, in arrival order; interactive first.
	waitI, waitB []chan struct{}
	bulk         *rate.Limiter
	inter        *rate.Limiter
}

func newPressure() *pressure {
	p := &pressure{}
	p.set(DefaultMaxConcurrent, DefaultRequestsPerSecond)
	return p
}

func (p *pressure) set(concurrent int, perSecond float64) {
	if concurrent <= 0 {
		concurrent = DefaultMaxConcurrent
	}
	if perSecond <= 0 {
		perSecond = DefaultRequestsPerSecond
	}
	burst := max(1, int(perSecond)/4)
	iburst := max(1, int(perSecond*interactiveBurstSeconds))
	p.mu.Lock()
	defer p.mu.Unlock()
	p.slots = concurrent
	if p.bulk == nil {
		p.bulk = rate.NewLimiter(rate.Limit(perSecond), burst)
		p.inter = rate.NewLimiter(rate.Limit(perSecond), iburst)
	} else {
		p.bulk.SetLimit(rate.Limit(perSecond))
		p.bulk.SetBurst(burst)
		p.inter.SetLimit(rate.Limit(perSecond))
		p.inter.SetBurst(iburst)
	}
	p.grantLocked() // more slots: waiters may go now
}

// acquire waits for the rate budget of ctx's kind of work, then for a
// request slot; release (safe to call more than once) gives the slot back.
func (p *pressure) acquire(ctx context.Context) (release func(), err error) {
	inter := IsInteractive(ctx)
	p.mu.Lock()
	lim := p.bulk
	if inter {
		lim = p.inter
	}
	p.mu.Unlock()
	if err := lim.Wait(ctx); err != nil {
		return nil, err
	}
	var once sync.Once
	release = func() { once.Do(p.free) }
	p.mu.Lock()
	if p.used < p.slots && len(p.waitI) == 0 && (inter || len(p.waitB) == 0) {
		p.used++
		p.mu.Unlock()
		return release, nil
	}
	ch := make(chan struct{})
	if inter {
		p.waitI = append(p.waitI, ch)
	} else {
		p.waitB = append(p.waitB, ch)
	}
	p.mu.Unlock()
	select {
	case <-ch:
		return release, nil
	case <-ctx.Done():
		p.mu.Lock()
		select {
		case <-ch: // granted meanwhile: give it on
			p.mu.Unlock()
			release()
		default:
			p.waitI, p.waitB = drop(p.waitI, ch), drop(p.waitB, ch)
			p.mu.Unlock()
		}
		return nil, ctx.Err()
	}
}

func (p *pressure) free() {
	p.mu.Lock()
	p.used--
	p.grantLocked()
	p.mu.Unlock()
}

// grantLocked hands free slots to waiters, interactive ones first.
func (p *pressure) grantLocked() {
	for p.used < p.slots {
		var ch chan struct{}
		switch {
		case len(p.waitI) > 0:
			ch, p.waitI = p.waitI[0], p.waitI[1:]
		case len(p.waitB) > 0:
			ch, p.waitB = p.waitB[0], p.waitB[1:]
		default:
			return
		}
		p.used++
		close(ch)
	}
}

func drop(q []chan struct{}, ch chan struct{}) []chan struct{} {
	for i, c := range q {
		if c == ch {
			return append(q[:i:i], q[i+1:]...)
		}
	}
	return q
}

// SetLimits changes how many requests the client keeps open at once and
// how many it starts per second (0: the defaults, 4 and 20). Requests in
// flight are not affected.
func (c *Client) SetLimits(concurrent int, perSecond float64) { c.pressure.set(concurrent, perSecond) }

// retryAfter reads a Retry-After header (seconds or an HTTP date); 0 when
// absent or unreadable.
func retryAfter(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
