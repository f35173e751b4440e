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

// Default pressure limits (settings splynx_max_concurrent_requests and
// splynx_requests_per_second).
const (
	DefaultMaxConcurrent     = 4
	DefaultRequestsPerSecond = 20
)

// maxRetryAfter caps a Retry-After wait: a longer one fails the call (the
// next sync tries again) rather than holding a pass for hours.
const maxRetryAfter = 5 * time.Minute

type pressure struct {
	mu  sync.Mutex
	sem chan struct{}
	lim *rate.Limiter
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
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.sem == nil || cap(p.sem) != concurrent {
		p.sem = make(chan struct{}, concurrent) // slots taken from the old one go back to it
	}
	if p.lim == nil {
		p.lim = rate.NewLimiter(rate.Limit(perSecond), max(1, int(perSecond)/4))
	} else {
		p.lim.SetLimit(rate.Limit(perSecond))
		p.lim.SetBurst(max(1, int(perSecond)/4))
	}
}

// acquire waits for a request slot and the rate limiter; release (safe to
// call more than once) gives the slot back.
func (p *pressure) acquire(ctx context.Context) (release func(), err error) {
	p.mu.Lock()
	sem, lim := p.sem, p.lim
	p.mu.Unlock()
	select {
	case sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	var once sync.Once
	release = func() { once.Do(func() { <-sem }) }
	if err := lim.Wait(ctx); err != nil {
		release()
		return nil, err
	}
	return release, nil
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
