package charge

import (
	"context"
	"testing"
	"time"
)

func TestLimiterPacesCalls(t *testing.T) {
	cases := []struct {
		rate     float64
		burst, n int
		min, max time.Duration
	}{
		{rate: 100, burst: 1, n: 21, min: 190 * time.Millisecond, max: 600 * time.Millisecond},
		{rate: 100, burst: 10, n: 10, min: 0, max: 50 * time.Millisecond}, // the burst goes at once
		{rate: 50, burst: 5, n: 15, min: 190 * time.Millisecond, max: 700 * time.Millisecond},
	}
	for _, c := range cases {
		l := newLimiter(c.rate, c.burst)
		start := time.Now()
		for range c.n {
			if err := l.Wait(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		if d := time.Since(start); d < c.min || d > c.max {
			t.Errorf("rate %v burst %d: %d calls took %s, want %s..%s", c.rate, c.burst, c.n, d, c.min, c.max)
		}
	}
	l := newLimiter(1, 1)
	_ = l.Wait(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := l.Wait(ctx); err == nil {
		t.Fatal("Wait ignored the cancelled context")
	}
}
