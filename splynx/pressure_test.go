package splynx_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/splynx-pay/splynx-pay/splynx"
	"github.com/splynx-pay/splynx-pay/splynx/splynxsim"
)

// front puts a handler in front of the simulator.
func front(t *testing.T, sim *splynxsim.Sim, h func(w http.ResponseWriter, r *http.Request, next http.Handler)) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h(w, r, sim.Handler()) }))
	t.Cleanup(srv.Close)
	return srv.URL
}

// A 429 with Retry-After is retried no sooner than Splynx asked, though
// the client's own backoff is a few milliseconds.
func TestRetryAfterIsHonoured(t *testing.T) {
	for _, status := range []int{http.StatusTooManyRequests, http.StatusServiceUnavailable} {
		sim := splynxsim.New(splynxsim.Options{})
		sim.AddAPIKey(testKey, testSecret)
		sim.Seed(splynxsim.SeedConfig{Seed: 1, Customers: 3})
		var mu sync.Mutex
		var times []time.Time
		url := front(t, sim, func(w http.ResponseWriter, r *http.Request, next http.Handler) {
			if r.URL.Path != "/api/2.0/admin/customers/customer/2" {
				next.ServeHTTP(w, r)
				return
			}
			mu.Lock()
			times = append(times, time.Now())
			first := len(times) == 1
			mu.Unlock()
			if first {
				w.Header().Set("Retry-After", "1")
				w.WriteHeader(status)
				return
			}
			next.ServeHTTP(w, r)
		})
		c, err := splynx.New(splynx.Config{BaseURL: url, APIKey: testKey, APISecret: testSecret, Auth: splynx.AuthSignature,
			Timeout: 5 * time.Second}, splynx.WithClock(sim.Clock()), splynx.WithRetryWait(time.Millisecond, 5*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		cust, err := c.GetCustomer(context.Background(), 2)
		if err != nil || cust.ID != 2 {
			t.Fatalf("%d: customer %+v, %v", status, cust, err)
		}
		if len(times) != 2 || times[1].Sub(times[0]) < time.Second {
			t.Fatalf("%d: %d requests, retried after %v; want the retry a second after", status, len(times), times[len(times)-1].Sub(times[0]))
		}
	}
}

// No more requests are open at once than SetLimits allows (token auth:
// signed requests go one at a time anyway).
func TestConcurrentRequestsAreBounded(t *testing.T) {
	sim := splynxsim.New(splynxsim.Options{})
	sim.AddAPIKey(testKey, testSecret)
	sim.Seed(splynxsim.SeedConfig{Seed: 1, Customers: 20})
	var open, most atomic.Int32
	url := front(t, sim, func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		n := open.Add(1)
		defer open.Add(-1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		time.Sleep(20 * time.Millisecond)
		next.ServeHTTP(w, r)
	})
	c, err := splynx.New(splynx.Config{BaseURL: url, APIKey: testKey, APISecret: testSecret,
		Timeout: 5 * time.Second}, splynx.WithClock(sim.Clock()))
	if err != nil {
		t.Fatal(err)
	}
	c.SetLimits(2, 1000)
	var wg sync.WaitGroup
	for id := int64(1); id <= 12; id++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.GetCustomerBilling(context.Background(), id); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if m := most.Load(); m != 2 {
		t.Fatalf("at most %d requests open at once, want 2", m)
	}
}
