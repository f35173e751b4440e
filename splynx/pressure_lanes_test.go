package splynx

import (
	"context"
	"sync"
	"testing"
	"time"
)

// waiting is how many requests wait for a slot (interactive, bulk).
func (p *pressure) waiting() (int, int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.waitI), len(p.waitB)
}

// A freed slot goes to a waiting interactive request before bulk requests
// that were waiting longer; the slot count still bounds both.
func TestInteractiveRequestsTakeTheNextSlot(t *testing.T) {
	p := newPressure()
	p.set(1, 1000)
	ctx := context.Background()
	hold, err := p.acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var order []string
	var wg sync.WaitGroup
	start := func(name string, ctx context.Context) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rel, err := p.acquire(ctx)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			order = append(order, name)
			mu.Unlock()
			rel()
		}()
	}
	until := func(i, b int) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
			if wi, wb := p.waiting(); wi == i && wb == b {
				return
			}
		}
		t.Fatalf("waiters never reached %d interactive, %d bulk", i, b)
	}
	start("bulk1", ctx)
	until(0, 1)
	start("bulk2", ctx)
	until(0, 2)
	start("customer", Interactive(ctx))
	until(1, 2)
	hold()
	hold() // a second release gives back nothing more
	wg.Wait()
	if len(order) != 3 || order[0] != "customer" || order[1] != "bulk1" || order[2] != "bulk2" {
		t.Fatalf("slots went to %v", order)
	}
	if p.used != 0 {
		t.Fatalf("%d slots still taken", p.used)
	}
}

// Interactive requests are paced by their own budget: a sync that used up
// the requests per second does not hold a customer's page back, and
// customers together get the same sustained rate with a few seconds of
// burst.
func TestInteractiveRequestsHaveTheirOwnRate(t *testing.T) {
	p := newPressure()
	p.set(4, 1) // one request a second: burst 1 for bulk, 5 interactive
	ctx := context.Background()
	// short: a wait for the next token (about a second) is refused at once.
	short := func() context.Context {
		c, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		t.Cleanup(cancel)
		return c
	}
	rel, err := p.acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rel()
	if _, err := p.acquire(short()); err == nil {
		t.Fatal("a second bulk request in the same second was let through")
	}
	for i := range interactiveBurstSeconds {
		rel, err := p.acquire(Interactive(short()))
		if err != nil {
			t.Fatalf("interactive request %d: %v", i+1, err)
		}
		rel()
	}
	if _, err := p.acquire(Interactive(short())); err == nil {
		t.Fatal("interactive requests beyond their burst were let through")
	}
}

// A request that gives up while waiting for a slot leaves the queue, and a
// slot granted just as it gave up is passed on.
func TestGivingUpWhileWaitingFreesTheTurn(t *testing.T) {
	p := newPressure()
	p.set(1, 1000)
	hold, _ := p.acquire(context.Background())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { _, err := p.acquire(ctx); done <- err }()
	for wi, wb := p.waiting(); wb == 0 && wi == 0; wi, wb = p.waiting() {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; err == nil {
		t.Fatal("a cancelled wait got a slot")
	}
	if wi, wb := p.waiting(); wi+wb != 0 {
		t.Fatalf("%d waiters left", wi+wb)
	}
	hold()
	rel, err := p.acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	rel()
	if p.used != 0 {
		t.Fatalf("%d slots still taken", p.used)
	}
}
