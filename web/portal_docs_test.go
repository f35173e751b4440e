package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/splynx-pay/splynx-pay/gateways"
	"github.com/splynx-pay/splynx-pay/internal/config"
	"github.com/splynx-pay/splynx-pay/internal/money"
	"github.com/splynx-pay/splynx-pay/splynx/splynxsim"
	"github.com/splynx-pay/splynx-pay/sync/charge"
)

// invoiceReads counts the simulated Splynx's reads of one invoice.
func (ps *portalSite) invoiceReads(id int64) int {
	n := 0
	for _, r := range ps.sp.Requests() {
		if r.Method == http.MethodGet && r.Path == fmt.Sprintf("admin/finance/invoices/%d", id) {
			n++
		}
	}
	return n
}

// Views of a pay page within a few seconds share one Splynx read; the
// confirm POST always reads the invoice again, so an amount changed in
// Splynx since the view is shown again rather than charged, and the charge
// is of the amount Splynx has now.
func TestPayPageViewsShareAReadButConfirmReadsAgain(t *testing.T) {
	ps := newPortalSite(t, config.IntegraPay)
	c := ps.visitor(ps.johnSID)
	ps.post(c, "/methods", "/methods/card", cardValues(testCard))
	pay := fmt.Sprintf("/pay/invoice/%d", ps.inv1)
	ps.sp.ResetRequests()
	for range 3 {
		if a := ps.get(c, pay); a.code != http.StatusOK || !strings.Contains(a.body, "Pay 25.00") {
			t.Fatalf("pay page: %d %.300s", a.code, a.body)
		}
	}
	if n := ps.invoiceReads(ps.inv1); n != 1 {
		t.Fatalf("three views read the invoice %d times from Splynx, want 1", n)
	}
	// Staff add a line in Splynx after the customer opened the page.
	ps.sp.UpdateInvoice(ps.inv1, func(inv *splynxsim.Invoice) { inv.Total, inv.Due = money.MustParse("27.50"), money.MustParse("27.50") })
	a := ps.post(c, pay, pay, url.Values{"use": {"saved"}, "amount": {"25.00"}})
	if a.code != http.StatusConflict || !strings.Contains(a.body, "The amount due has changed to 27.50") {
		t.Fatalf("confirm of the amount seen: %d %.400s", a.code, a.body)
	}
	if n, _ := ps.ledger(); n != 0 {
		t.Fatal("a stale amount was charged")
	}
	if n := ps.invoiceReads(ps.inv1); n != 2 {
		t.Fatalf("the confirm did not read the invoice from Splynx (%d reads)", n)
	}
	// The page the customer sees next is what the confirm read.
	if a := ps.get(c, pay); !strings.Contains(a.body, "Pay 27.50") {
		t.Fatalf("pay page after the change: %.300s", a.body)
	}
	res := ps.follow(c, ps.post(c, pay, pay, url.Values{"use": {"saved"}, "amount": {"27.50"}}))
	if !strings.Contains(res.body, "Payment approved") {
		t.Fatalf("result: %.400s", res.body)
	}
	if n, cents := ps.ledger(); n != 1 || cents != 2750 {
		t.Fatalf("ledger: %d charges, %d cents", n, cents)
	}
	// Paid: the next view goes to the result, not a pay form from before.
	if a := ps.get(c, pay); a.code != http.StatusSeeOther {
		t.Fatalf("pay page after paying: %d %.300s", a.code, a.body)
	}
}

// A pay page for a document the mirror knows as another customer's is
// refused without asking Splynx; one the mirror does not know yet is read.
func TestPayPageOfAnotherCustomerCostsSplynxNothing(t *testing.T) {
	ps := newPortalSite(t, config.IntegraPay)
	c := ps.visitor(ps.johnSID)
	ps.get(c, "/invoices")
	ps.sp.ResetRequests()
	if a := ps.get(c, fmt.Sprintf("/pay/invoice/%d", ps.janeInv)); a.code != http.StatusNotFound || strings.Contains(a.body, "99.00") {
		t.Fatalf("Jane's invoice: %d %.300s", a.code, a.body)
	}
	if n := ps.invoiceReads(ps.janeInv); n != 0 {
		t.Fatalf("Jane's invoice was read %d times from Splynx", n)
	}
	// Not mirrored yet: Splynx is asked (and says it is Jane's).
	fresh := ps.sp.AddInvoice(splynxsim.Invoice{CustomerID: ps.jane, Number: "2026110099", Total: money.MustParse("5.00")})
	if a := ps.get(c, fmt.Sprintf("/pay/invoice/%d", fresh)); a.code != http.StatusNotFound {
		t.Fatalf("Jane's new invoice: %d", a.code)
	}
	if n := ps.invoiceReads(fresh); n != 1 {
		t.Fatalf("an unmirrored invoice was read %d times, want 1", n)
	}
	// A new invoice of John's not mirrored yet can be paid.
	mine := ps.sp.AddInvoice(splynxsim.Invoice{CustomerID: ps.john, Number: "2026110100", Total: money.MustParse("6.00")})
	if a := ps.get(c, fmt.Sprintf("/pay/invoice/%d", mine)); a.code != http.StatusOK || !strings.Contains(a.body, "6.00") {
		t.Fatalf("John's new invoice: %d %.300s", a.code, a.body)
	}
}

// The settings behind the pages are reloaded in the background: a page
// view after backendTTL is served with the previous settings while the
// new ones load, and a failed reload keeps them.
func TestPortalSettingsReloadInBackground(t *testing.T) {
	ps := newPortalSite(t, config.IntegraPay)
	var calls atomic.Int32
	block := make(chan struct{})
	fail := atomic.Bool{}
	set := ps.set
	s, err := New(Options{Addon: "splynx-integrapay", Prefix: ps.prefix, Deps: Deps{DB: ps.db, Clock: ps.clk, Splynx: ps.spc,
		Settings: func(ctx context.Context) (config.Settings, error) {
			if calls.Add(1) > 1 {
				<-block
			}
			if fail.Load() {
				return config.Settings{}, fmt.Errorf("module config unreadable")
			}
			return set, nil
		},
		Gateway: func(context.Context) (gateways.Gateway, error) { return nil, nil },
		Charge:  func(context.Context) (*charge.Engine, error) { return ps.en, nil }}})
	if err != nil {
		t.Fatal(err)
	}
	p := &portal{s: s}
	b1, err := p.backend(t.Context())
	if err != nil || calls.Load() != 1 {
		t.Fatalf("first backend: %v, %d settings reads", err, calls.Load())
	}
	if b, _ := p.backend(t.Context()); b != b1 || calls.Load() != 1 {
		t.Fatal("the backend was rebuilt within backendTTL")
	}
	age := func(d time.Duration) {
		p.beMu.Lock()
		p.beAt, p.beTried = time.Now().Add(-d), time.Time{}
		p.beMu.Unlock()
	}
	age(backendTTL + time.Second)
	// The reload blocks in Settings: the view does not wait for it.
	if b, err := p.backend(t.Context()); err != nil || b != b1 {
		t.Fatalf("view during a reload: %v, same backend %v", err, b == b1)
	}
	waitFor(t, func() bool { return calls.Load() == 2 })
	if b, _ := p.backend(t.Context()); b != b1 || calls.Load() != 2 {
		t.Fatalf("a second reload started (%d settings reads)", calls.Load())
	}
	block <- struct{}{}
	waitFor(t, func() bool { b, _ := p.backend(t.Context()); return b != b1 })
	b2, _ := p.backend(t.Context())

	// A failed reload keeps the settings in use; past backendMaxAge the
	// page says payments are unavailable rather than run on old settings.
	fail.Store(true)
	age(backendTTL + time.Second)
	if b, err := p.backend(t.Context()); err != nil || b != b2 {
		t.Fatalf("view during a failing reload: %v", err)
	}
	block <- struct{}{}
	waitFor(t, func() bool { p.beMu.Lock(); defer p.beMu.Unlock(); return !p.beUpdate && calls.Load() == 3 })
	if b, err := p.backend(t.Context()); err != nil || b != b2 {
		t.Fatalf("after a failed reload: %v", err)
	}
	age(backendMaxAge + time.Second)
	go func() { block <- struct{}{} }()
	if _, err := p.backend(t.Context()); err == nil {
		t.Fatal("settings older than backendMaxAge were used")
	}
}

func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if ok() {
			return
		}
	}
	t.Fatal("timed out")
}

// A sync that has used up splynx_requests_per_second does not hold back a
// customer's pay page: the page's read of the invoice has its own budget
// and takes the next free request slot.
func TestPayPageDoesNotWaitForTheSyncBudget(t *testing.T) {
	ps := newPortalSite(t, config.IntegraPay)
	c := ps.visitor(ps.johnSID)
	ps.get(c, "/invoices") // the session
	ps.spc.SetLimits(4, 2) // two bulk requests a second
	t.Cleanup(func() { ps.spc.SetLimits(0, 0) })
	// The sync: four workers, two requests each (four seconds at 2/s).
	const workers, each = 4, 2
	var done atomic.Int32
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				_, _ = ps.spc.GetCustomer(context.Background(), ps.jane)
				done.Add(1)
			}
		}()
	}
	waitFor(t, func() bool { return done.Load() >= 1 }) // the sync has the budget
	before := done.Load()
	a := ps.get(c, fmt.Sprintf("/pay/invoice/%d", ps.inv1))
	waited := done.Load() - before
	if a.code != http.StatusOK || !strings.Contains(a.body, "Pay 25.00") {
		t.Fatalf("pay page: %d %.300s", a.code, a.body)
	}
	// Behind the sync's queue the page would see about four of its
	// requests (two seconds) finish first.
	if waited > 1 {
		t.Fatalf("the pay page waited while %d of the sync's requests went first", waited)
	}
	wg.Wait()
}
