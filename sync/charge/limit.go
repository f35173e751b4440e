package charge

import (
	"context"
	"sync"
	"time"
)

// limiter is a token bucket: at most burst calls at once, refilled at r per
// second. (golang.org/x/time/rate would do, but this module's go.mod line
// "go 1.26" is older than the "go 1.26.0" x/time v0.16.0 declares, so the
// build refuses it until go.mod is fixed at integration.)
type limiter struct {
	mu     sync.Mutex
	every  time.Duration
	burst  int
	tokens float64
	last   time.Time
}

func newLimiter(perSecond float64, burst int) *limiter {
	return &limiter{every: time.Duration(float64(time.Second) / perSecond), burst: burst,
		tokens: float64(burst), last: time.Now()}
}

// Wait blocks until a call may go, or ctx ends.
func (l *limiter) Wait(ctx context.Context) error {
	for {
		l.mu.Lock()
		now := time.Now()
		l.tokens += float64(now.Sub(l.last)) / float64(l.every)
		if l.tokens > float64(l.burst) {
			l.tokens = float64(l.burst)
		}
		l.last = now
		if l.tokens >= 1 {
			l.tokens--
			l.mu.Unlock()
			return nil
		}
		wait := time.Duration((1 - l.tokens) * float64(l.every))
		l.mu.Unlock()
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}
