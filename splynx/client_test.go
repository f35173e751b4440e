package splynx_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/splynx-pay/splynx-pay/internal/money"
	"github.com/splynx-pay/splynx-pay/splynx"
	"github.com/splynx-pay/splynx-pay/splynx/splynxsim"
)

const (
	testKey    = "splynxpaykey01"
	testSecret = "s3cr3t-do-not-leak-7781"
)

type env struct {
	sim  *splynxsim.Sim
	srv  *httptest.Server
	logs *observer.ObservedLogs
	log  *zap.Logger
}

// newEnv starts a simulator on a real loopback server and, at the end of
// the test, checks that no log line carried a secret.
func newEnv(t *testing.T, opts splynxsim.Options) *env {
	t.Helper()
	sim := splynxsim.New(opts)
	sim.AddAPIKey(testKey, testSecret)
	sim.AddPaymentMethod(splynxsim.PaymentMethod{ID: 3, Name: "Credit card", IsActive: true})
	srv := httptest.NewServer(sim.Handler())
	core, logs := observer.New(zapcore.DebugLevel)
	e := &env{sim: sim, srv: srv, logs: logs, log: zap.New(core)}
	t.Cleanup(func() {
		srv.Close()
		for _, l := range logs.All() {
			line := l.Message
			for k, v := range l.ContextMap() {
				line += fmt.Sprintf(" %s=%v", k, v)
			}
			for _, secret := range []string{testSecret, "pw-customer-9", "pw-admin-9", "424242"} {
				if strings.Contains(line, secret) {
					t.Errorf("log line leaks a secret: %s", line)
				}
			}
		}
	})
	return e
}

func (e *env) client(t *testing.T, mode splynx.AuthMode, opts ...splynx.Option) *splynx.Client {
	t.Helper()
	return e.clientWith(t, splynx.Config{APIKey: testKey, APISecret: testSecret, Auth: mode}, opts...)
}

func (e *env) clientWith(t *testing.T, cfg splynx.Config, opts ...splynx.Option) *splynx.Client {
	t.Helper()
	cfg.BaseURL = e.srv.URL
	if cfg.Timeout == 0 {
		cfg.Timeout = 5 * time.Second
	}
	opts = append([]splynx.Option{splynx.WithClock(e.sim.Clock()), splynx.WithLogger(e.log),
		splynx.WithRetryWait(time.Millisecond, 5*time.Millisecond)}, opts...)
	c, err := splynx.New(cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (e *env) requests(method, pathPrefix string) []splynxsim.RequestRecord {
	var out []splynxsim.RequestRecord
	for _, r := range e.sim.Requests() {
		if (method == "" || r.Method == method) && strings.HasPrefix(r.Path, pathPrefix) {
			out = append(out, r)
		}
	}
	return out
}

func (e *env) count401() int {
	n := 0
	for _, r := range e.sim.Requests() {
		if r.Status == http.StatusUnauthorized {
			n++
		}
	}
	return n
}

// waitFor polls cond until it holds, for things that happen on another
// goroutine (a page fetched ahead).
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in 5s")
		}
		time.Sleep(time.Millisecond)
	}
}

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

var bothModes = []struct {
	name string
	mode splynx.AuthMode
}{{"token", splynx.AuthAPIKeyToken}, {"signature", splynx.AuthSignature}}

func TestAuthSchemes(t *testing.T) {
	for _, m := range bothModes {
		t.Run(m.name, func(t *testing.T) {
			e := newEnv(t, splynxsim.Options{})
			id := e.sim.AddCustomer(splynxsim.Customer{Login: "ann", Name: "Ann", Status: "active"})
			c := e.client(t, m.mode)
			ctx := context.Background()
			if err := c.Check(ctx); err != nil {
				t.Fatal(err)
			}
			for range 3 {
				cu, err := c.GetCustomer(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				if cu.Login != "ann" || int64(cu.ID) != id {
					t.Fatalf("customer %+v", cu)
				}
			}
			var schemes []string
			var lastNonce int64
			for _, r := range e.sim.Requests() {
				schemes = append(schemes, r.Method+" "+r.Path+" "+r.AuthScheme)
				if r.AuthScheme == "signature" {
					if r.Nonce <= lastNonce {
						t.Errorf("nonce %d after %d", r.Nonce, lastNonce)
					}
					lastNonce = r.Nonce
				}
			}
			cp := fmt.Sprintf("admin/customers/customer/%d", id)
			var want []string
			if m.mode == splynx.AuthAPIKeyToken {
				want = []string{"POST admin/auth/tokens none", "GET admin/api/check token",
					"GET " + cp + " token", "GET " + cp + " token", "GET " + cp + " token"}
				login := e.requests(http.MethodPost, "admin/auth/tokens")[0]
				if !strings.Contains(login.Body, `"auth_type":"api_key"`) || strings.Contains(login.Body, testSecret) {
					t.Errorf("token login body %s", login.Body)
				}
			} else {
				want = []string{"GET admin/api/check signature", "GET " + cp + " signature",
					"GET " + cp + " signature", "GET " + cp + " signature"}
			}
			if !slices.Equal(schemes, want) {
				t.Errorf("requests\n got %q\nwant %q", schemes, want)
			}
			if n := e.count401(); n != 0 {
				t.Errorf("%d answers were 401", n)
			}
			if got := c.Identity().AuthType; got != map[splynx.AuthMode]string{splynx.AuthAPIKeyToken: "api_key", splynx.AuthSignature: "signature"}[m.mode] {
				t.Errorf("identity auth type %q", got)
			}
		})
	}
}

func TestPeopleLogins(t *testing.T) {
	e := newEnv(t, splynxsim.Options{})
	ctx := context.Background()
	cid := e.sim.AddCustomer(splynxsim.Customer{Login: "bob", Name: "Bob", Status: "active"})
	other := e.sim.AddCustomer(splynxsim.Customer{Login: "eve", Name: "Eve", Status: "active"})
	e.sim.SetCustomerPassword(cid, "bob", "pw-customer-9")
	adminID := e.sim.AddAdmin("root", "pw-admin-9", "424242")
	c := e.client(t, splynx.AuthAPIKeyToken)

	t.Run("customer", func(t *testing.T) {
		cc, err := c.LoginCustomer(ctx, "bob", "pw-customer-9")
		if err != nil {
			t.Fatal(err)
		}
		if id := cc.Identity(); id.AuthType != "customer" || id.CustomerID != cid {
			t.Errorf("identity %+v", id)
		}
		if cu, err := cc.GetCustomer(ctx, cid); err != nil || cu.Login != "bob" {
			t.Errorf("own record: %+v %v", cu, err)
		}
		if _, err := cc.GetCustomer(ctx, other); !splynx.IsForbidden(err) {
			t.Errorf("other customer's record: want forbidden, got %v", err)
		}
		_, err = c.LoginCustomer(ctx, "bob", "wrong-password-1")
		if !splynx.IsUnauthorized(err) || strings.Contains(err.Error(), "wrong-password-1") {
			t.Errorf("bad password: %v", err)
		}
	})
	t.Run("admin 2FA", func(t *testing.T) {
		_, err := c.LoginAdmin(ctx, "root", "pw-admin-9", "")
		var ae *splynx.APIError
		if !errors.As(err, &ae) || ae.InternalCode != "MISSED_TWO_FACTOR_CODE" {
			t.Errorf("without code: %v", err)
		}
		_, err = c.LoginAdmin(ctx, "root", "pw-admin-9", "000000")
		if !errors.As(err, &ae) || ae.InternalCode != "INVALID_TWO_FACTOR_CODE" {
			t.Errorf("wrong code: %v", err)
		}
		ac, err := c.LoginAdmin(ctx, "root", "pw-admin-9", "424242")
		if err != nil {
			t.Fatal(err)
		}
		if id := ac.Identity(); id.AuthType != "admin" || id.AdminID != adminID {
			t.Errorf("identity %+v", id)
		}
		if _, err := ac.GetCustomer(ctx, other); err != nil {
			t.Errorf("admin reads a customer: %v", err)
		}
		if err := ac.Logout(ctx); err != nil {
			t.Errorf("logout: %v", err)
		}
	})
	t.Run("session", func(t *testing.T) {
		sid := e.sim.NewSession("customer", cid)
		sc, err := c.LoginSession(ctx, sid)
		if err != nil {
			t.Fatal(err)
		}
		if id := sc.Identity(); id.CustomerID != cid {
			t.Errorf("identity %+v", id)
		}
		if _, err := c.LoginSession(ctx, "no-such-session"); !splynx.IsUnauthorized(err) {
			t.Errorf("unknown session: %v", err)
		}
	})
	for _, r := range e.requests(http.MethodPost, "admin/auth/tokens") {
		if r.AuthScheme != "none" {
			t.Errorf("token login sent an Authorization header (%s)", r.AuthScheme)
		}
	}
}

// A person's token is renewed with its refresh token once it is near
// expiry; after the refresh token is gone the client says so clearly.
func TestPersonTokenRenewal(t *testing.T) {
	e := newEnv(t, splynxsim.Options{TokenTTL: 10 * time.Minute, RefreshTTL: time.Hour})
	ctx := context.Background()
	cid := e.sim.AddCustomer(splynxsim.Customer{Login: "bob", Name: "Bob"})
	e.sim.SetCustomerPassword(cid, "bob", "pw-customer-9")
	cc, err := e.client(t, splynx.AuthAPIKeyToken).LoginCustomer(ctx, "bob", "pw-customer-9")
	if err != nil {
		t.Fatal(err)
	}
	e.sim.Clock().Advance(11 * time.Minute)
	if _, err := cc.GetCustomer(ctx, cid); err != nil {
		t.Fatalf("after renewal: %v", err)
	}
	if n := len(e.requests(http.MethodGet, "admin/auth/tokens/")); n != 1 {
		t.Errorf("%d renewals, want 1", n)
	}
	e.sim.Clock().Advance(2 * time.Hour)
	_, err = cc.GetCustomer(ctx, cid)
	if !splynx.IsUnauthorized(err) {
		t.Errorf("after the refresh token expired: want unauthorized, got %v", err)
	}
}

func TestTokenExpiresMidListing(t *testing.T) {
	for _, how := range []string{"clock", "server-side"} {
		t.Run(how, func(t *testing.T) {
			e := newEnv(t, splynxsim.Options{})
			cid := e.sim.AddCustomer(splynxsim.Customer{Login: "c1", Name: "C1"})
			var want []int64
			for i := range 25 {
				want = append(want, e.sim.AddInvoice(splynxsim.Invoice{CustomerID: cid, Status: "not_paid",
					Total: money.Amount(1000 + i), Due: money.Amount(1000 + i), DateCreated: date(2026, 10, 1)}))
			}
			c := e.client(t, splynx.AuthAPIKeyToken)
			var got []int64
			for inv, err := range c.ListInvoices(context.Background(), splynx.Search{Limit: 10}) {
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, int64(inv.ID))
				if len(got) == 10 { // between page 1 and page 2
					// Page 2 was requested ahead; let it finish so the
					// expiry falls cleanly between pages 2 and 3.
					waitFor(t, func() bool { return len(e.requests(http.MethodGet, "admin/finance/invoices")) == 2 })
					if how == "clock" {
						e.sim.Clock().Advance(31 * time.Minute)
					} else {
						e.sim.ExpireTokens()
					}
				}
			}
			if !slices.Equal(got, want) {
				t.Fatalf("listed %v, want %v", got, want)
			}
			pages := e.requests(http.MethodGet, "admin/finance/invoices")
			if how == "clock" {
				// Renewed ahead of expiry (for page 3): no request was refused.
				if n := e.count401(); n != 0 {
					t.Errorf("%d answers were 401", n)
				}
				if n := len(e.requests(http.MethodGet, "admin/auth/tokens/")); n != 1 {
					t.Errorf("%d renewals, want 1", n)
				}
				if len(pages) != 3 {
					t.Errorf("%d page requests, want 3", len(pages))
				}
			} else {
				// Page 3 refused once with EXPIRED_ACCESS_TOKEN, logged in again, repeated.
				if n := e.count401(); n != 1 {
					t.Errorf("%d answers were 401, want 1", n)
				}
				if n := len(e.requests(http.MethodPost, "admin/auth/tokens")); n != 2 {
					t.Errorf("%d token logins, want 2", n)
				}
				if len(pages) != 4 {
					t.Errorf("%d page requests, want 4 (one refused)", len(pages))
				}
			}
		})
	}
}

func TestConcurrentSigning(t *testing.T) {
	e := newEnv(t, splynxsim.Options{})
	id := e.sim.AddCustomer(splynxsim.Customer{Login: "c", Name: "C"})
	// Two Clients on the same key: the nonce sequence is the process's, not the Client's.
	clients := []*splynx.Client{e.client(t, splynx.AuthSignature), e.client(t, splynx.AuthSignature)}
	const goroutines, calls = 32, 4
	var wg sync.WaitGroup
	errs := make(chan error, goroutines*calls)
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := clients[g%len(clients)]
			for range calls {
				if _, err := c.GetCustomer(context.Background(), id); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	reqs := e.requests("", "admin/customers/customer")
	if len(reqs) != goroutines*calls {
		t.Fatalf("%d requests reached the server, want %d", len(reqs), goroutines*calls)
	}
	seen := map[int64]bool{}
	var last int64
	for _, r := range reqs {
		if r.AuthScheme != "signature" || seen[r.Nonce] {
			t.Fatalf("request %+v: repeated nonce or not signed", r)
		}
		if r.Nonce <= last {
			t.Errorf("nonce %d arrived after %d", r.Nonce, last)
		}
		seen[r.Nonce], last = true, r.Nonce
	}
	if n := e.count401(); n != 0 {
		t.Errorf("%d answers were 401", n)
	}
}

// Calls made from inside a listing loop share the signing turn and the
// token with the page fetched ahead; nothing may deadlock or be refused.
func TestCallsInsideListing(t *testing.T) {
	for _, m := range bothModes {
		t.Run(m.name, func(t *testing.T) {
			e := newEnv(t, splynxsim.Options{})
			cid := e.sim.AddCustomer(splynxsim.Customer{Login: "c", Name: "C"})
			for range 12 {
				e.sim.AddInvoice(splynxsim.Invoice{CustomerID: cid, Status: "not_paid", Total: 100, Due: 100, DateCreated: date(2026, 10, 1)})
			}
			c := e.client(t, m.mode)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			n := 0
			for inv, err := range c.ListInvoices(ctx, splynx.Search{Limit: 5}) {
				if err != nil {
					t.Fatal(err)
				}
				if _, err := c.GetCustomer(ctx, int64(inv.CustomerID)); err != nil {
					t.Fatal(err)
				}
				n++
			}
			if n != 12 || e.count401() != 0 {
				t.Errorf("listed %d, %d refused", n, e.count401())
			}
		})
	}
}

func TestConcurrentTokenRenewal(t *testing.T) {
	e := newEnv(t, splynxsim.Options{})
	id := e.sim.AddCustomer(splynxsim.Customer{Login: "c", Name: "C"})
	c := e.client(t, splynx.AuthAPIKeyToken)
	ctx := context.Background()
	if _, err := c.GetCustomer(ctx, id); err != nil {
		t.Fatal(err)
	}
	e.sim.Clock().Advance(40 * time.Minute)
	var wg sync.WaitGroup
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.GetCustomer(ctx, id); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := len(e.requests(http.MethodGet, "admin/auth/tokens/")); n != 1 {
		t.Errorf("%d renewals for 32 concurrent calls, want 1", n)
	}
	if n := e.count401(); n != 0 {
		t.Errorf("%d answers were 401", n)
	}
}

func TestWrongSecret(t *testing.T) {
	for _, m := range bothModes {
		t.Run(m.name, func(t *testing.T) {
			e := newEnv(t, splynxsim.Options{})
			const wrong = "wrong-secret-value-42"
			c := e.clientWith(t, splynx.Config{APIKey: testKey, APISecret: wrong, Auth: m.mode})
			_, err := c.GetCustomer(context.Background(), 1)
			if !splynx.IsUnauthorized(err) {
				t.Fatalf("want unauthorized, got %v", err)
			}
			msg := err.Error()
			if strings.Contains(msg, wrong) || strings.Contains(msg, testKey) || strings.Contains(msg, "signature=") && !strings.Contains(msg, "signature=***") {
				t.Errorf("error leaks credentials: %s", msg)
			}
			if !strings.Contains(msg, "401") {
				t.Errorf("error does not say 401: %s", msg)
			}
			// One retry with a fresh nonce, then the error.
			if n := e.count401(); n != 2 {
				t.Errorf("%d attempts, want 2", n)
			}
		})
	}
}

func TestLooseTypes(t *testing.T) {
	for _, o := range []splynxsim.Options{
		{}, {IDsAsNumbers: true}, {MoneyAsNumbers: true}, {IDsAsNumbers: true, MoneyAsNumbers: true},
	} {
		t.Run(fmt.Sprintf("ids-numbers=%v/money-numbers=%v", o.IDsAsNumbers, o.MoneyAsNumbers), func(t *testing.T) {
			e := newEnv(t, o)
			ctx := context.Background()
			cid := e.sim.AddCustomer(splynxsim.Customer{Login: "1001", Name: "Ann", Status: "active", BillingType: "recurring",
				PartnerID: 3, LocationID: 2, ZipCode: "2000", DateAdd: date(2025, 1, 31),
				AdditionalAttributes: map[string]string{"autopay": "1"}})
			e.sim.SetBilling(cid, func(b *splynxsim.Billing) {
				b.Enabled, b.Deposit, b.PaymentMethod = true, money.MustParse("-363.455"), 3
			})
			c := e.client(t, splynx.AuthAPIKeyToken)
			b, err := c.GetCustomerBilling(ctx, cid)
			if err != nil {
				t.Fatal(err)
			}
			if int64(b.CustomerID) != cid || !bool(b.Enabled) || b.Deposit.Amount() != -36346 || b.PaymentMethod != 3 {
				t.Errorf("billing %+v", b)
			}
			iid := e.sim.AddInvoice(splynxsim.Invoice{CustomerID: cid, Number: "202611000001", Status: "not_paid", Type: "recurring",
				Total: money.MustParse("120.50"), Due: money.MustParse("100.25"), DateCreated: date(2026, 11, 1), DateTill: date(2026, 11, 15),
				Items: []splynxsim.InvoiceItem{{Description: "Internet", Quantity: 1, Price: money.MustParse("120.50"), TaxPercent: 1000,
					PeriodFrom: date(2026, 11, 1), PeriodTo: date(2026, 11, 30)}}})
			pid := e.sim.AddProforma(splynxsim.Proforma{CustomerID: cid, Status: "not_paid", Total: money.MustParse("55.55"), DateCreated: date(2026, 11, 1)})

			cu, err := c.GetCustomer(ctx, cid)
			if err != nil {
				t.Fatal(err)
			}
			if int64(cu.ID) != cid || cu.Login != "1001" || cu.PartnerID != 3 || cu.LocationID != 2 || cu.ZipCode != "2000" ||
				cu.DateAdd.String() != "2025-01-31" || cu.AdditionalAttributes["autopay"] != "1" || cu.LastUpdate.IsZero() {
				t.Errorf("customer %+v", cu)
			}
			// The invoice debited the balance.
			if b, err := c.GetCustomerBilling(ctx, cid); err != nil || b.Deposit.Amount() != -36346-12050 {
				t.Errorf("billing after invoice %+v %v", b, err)
			}
			inv, err := c.GetInvoice(ctx, iid)
			if err != nil {
				t.Fatal(err)
			}
			if int64(inv.ID) != iid || int64(inv.CustomerID) != cid || inv.Number != "202611000001" || inv.Total.Amount() != 12050 ||
				inv.Due.Amount() != 10025 || inv.Status != "not_paid" || !inv.DatePayment.IsZero() || inv.PaymentID != 0 ||
				inv.DateTill.String() != "2026-11-15" || len(inv.Items) != 1 || inv.Items[0].Price.Amount() != 12050 ||
				inv.Items[0].PeriodTo.String() != "2026-11-30" {
				t.Errorf("invoice %+v", inv)
			}
			pf, err := c.GetProforma(ctx, pid)
			if err != nil {
				t.Fatal(err)
			}
			if pf.Total.Amount() != 5555 || pf.Status != "not_paid" {
				t.Errorf("proforma %+v", pf)
			}
			var listed []splynx.Invoice
			for inv, err := range c.ListInvoices(ctx, splynx.Search{}) {
				if err != nil {
					t.Fatal(err)
				}
				listed = append(listed, inv)
			}
			if len(listed) != 1 || listed[0].Due != inv.Due {
				t.Errorf("listed %+v", listed)
			}
		})
	}
}

// Faults that flip the wire types of some answers mid-run must not break
// a listing.
func TestWrongTypesFault(t *testing.T) {
	e := newEnv(t, splynxsim.Options{})
	cid := e.sim.AddCustomer(splynxsim.Customer{Login: "c", Name: "C"})
	var sum money.Amount
	for i := range 30 {
		amt := money.Amount(1001 + i)
		sum += amt
		e.sim.AddInvoice(splynxsim.Invoice{CustomerID: cid, Status: "not_paid", Total: amt, Due: amt, DateCreated: date(2026, 10, 1)})
	}
	e.sim.SetFault("admin/finance/invoices", splynxsim.Fault{WrongTypesRate: 0.5, Seed: 7})
	c := e.client(t, splynx.AuthAPIKeyToken)
	var got money.Amount
	for inv, err := range c.ListInvoices(context.Background(), splynx.Search{Limit: 4}) {
		if err != nil {
			t.Fatal(err)
		}
		got += inv.Due.Amount()
	}
	if got != sum {
		t.Errorf("sum of due %s, want %s", got, sum)
	}
}

func TestMalformedPage(t *testing.T) {
	e := newEnv(t, splynxsim.Options{})
	cid := e.sim.AddCustomer(splynxsim.Customer{Login: "c", Name: "C"})
	for range 3 {
		e.sim.AddInvoice(splynxsim.Invoice{CustomerID: cid, Status: "not_paid", Total: 100, Due: 100, DateCreated: date(2026, 10, 1)})
	}
	e.sim.SetFault("admin/finance/invoices", splynxsim.Fault{MalformedRate: 1})
	c := e.client(t, splynx.AuthAPIKeyToken)
	var listErr error
	for _, err := range c.ListInvoices(context.Background(), splynx.Search{}) {
		if err != nil {
			listErr = err
		}
	}
	if listErr == nil || !strings.Contains(listErr.Error(), "list invoices (offset 0)") {
		t.Errorf("truncated page: %v", listErr)
	}
	if _, err := c.GetInvoice(context.Background(), 1); err == nil || !strings.Contains(err.Error(), "decoding answer") {
		t.Errorf("truncated record: %v", err)
	}
}

func TestSearchAndCount(t *testing.T) {
	for _, head := range []int{http.StatusOK, http.StatusNoContent} {
		t.Run(fmt.Sprint("HEAD ", head), func(t *testing.T) {
			e := newEnv(t, splynxsim.Options{HeadStatus: head})
			ctx := context.Background()
			cid := e.sim.AddCustomer(splynxsim.Customer{Login: "c", Name: "C"})
			statuses := []string{"not_paid", "paid", "pending", "not_paid", "deleted", "not_paid", "pending"}
			wantIDs := map[int64]bool{}
			for i, st := range statuses {
				amt := money.Amount(1000 * (i + 1))
				id := e.sim.AddInvoice(splynxsim.Invoice{CustomerID: cid, Status: st, Total: amt, Due: amt,
					DateCreated: date(2026, 10, 1+i)})
				if (st == "not_paid" || st == "pending") && i >= 1 && i <= 5 {
					wantIDs[id] = true
				}
			}
			c := e.client(t, splynx.AuthAPIKeyToken)
			s := splynx.Search{Main: []splynx.Cond{
				splynx.In("status", "not_paid", "pending"),
				splynx.Between("date_created", "2026-10-02", "2026-10-06"),
			}, Order: []splynx.OrderBy{splynx.Desc("id")}}
			n, err := c.CountInvoices(ctx, s)
			if err != nil {
				t.Fatal(err)
			}
			if n != len(wantIDs) {
				t.Errorf("count %d, want %d", n, len(wantIDs))
			}
			var got []int64
			for inv, err := range c.ListInvoices(ctx, s) {
				if err != nil {
					t.Fatal(err)
				}
				if !wantIDs[int64(inv.ID)] {
					t.Errorf("unexpected invoice %d (%s, %s)", inv.ID, inv.Status, inv.DateCreated)
				}
				got = append(got, int64(inv.ID))
			}
			if len(got) != len(wantIDs) || !slices.IsSortedFunc(got, func(a, b int64) int { return int(b - a) }) {
				t.Errorf("listed %v, want %d ids in descending order", got, len(wantIDs))
			}
			// The server received exactly the encoder's query.
			s.Limit = splynx.DefaultPageSize
			lists := e.requests(http.MethodGet, "admin/finance/invoices")
			if len(lists) != 1 || lists[0].Query != s.Encode() {
				t.Errorf("query sent %q, want %q", lists[0].Query, s.Encode())
			}
			heads := e.requests(http.MethodHead, "admin/finance/invoices")
			if len(heads) != 1 || heads[0].Status != head {
				t.Errorf("HEAD requests %+v", heads)
			}
			if n, err := c.CountCustomers(ctx, splynx.Search{}); err != nil || n != 1 {
				t.Errorf("customers count %d %v", n, err)
			}
		})
	}
}

func TestPagingStopsOnShortAndEmptyPage(t *testing.T) {
	for _, total := range []int{0, 7, 10, 23} {
		t.Run(fmt.Sprint(total), func(t *testing.T) {
			e := newEnv(t, splynxsim.Options{})
			for i := range total {
				e.sim.AddCustomer(splynxsim.Customer{Login: fmt.Sprintf("c%d", i), Name: "N"})
			}
			c := e.client(t, splynx.AuthAPIKeyToken)
			n := 0
			for _, err := range c.ListCustomers(context.Background(), splynx.Search{Limit: 5}) {
				if err != nil {
					t.Fatal(err)
				}
				n++
			}
			if n != total {
				t.Errorf("listed %d, want %d", n, total)
			}
			wantPages := total/5 + 1
			if got := len(e.requests(http.MethodGet, "admin/customers/customer")); got != wantPages {
				t.Errorf("%d page requests, want %d", got, wantPages)
			}
			// Stopping early costs at most the page fetched ahead (which a
			// short first page never triggers).
			e.sim.ResetRequests()
			for range c.ListCustomers(context.Background(), splynx.Search{Limit: 5}) {
				break
			}
			time.Sleep(20 * time.Millisecond)
			if got := len(e.requests(http.MethodGet, "admin/customers/customer")); got > 2 || (total < 5 && got != 1) {
				t.Errorf("early stop: %d page requests", got)
			}
		})
	}
}

// A server that ignores offset must not make a listing loop forever. Real
// Splynx and splynxsim both honour offset, so this peer is a bare handler
// that answers every page with the same full page.
func TestListingStopsWhenOffsetIgnored(t *testing.T) {
	var pages atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pages.Add(1)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `[{"id":"1","login":"a"},{"id":"2","login":"b"}]`)
	}))
	defer srv.Close()
	c, err := splynx.New(splynx.Config{BaseURL: srv.URL, APIKey: testKey, APISecret: testSecret, Auth: splynx.AuthSignature})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	var listErr error
	for _, err := range c.ListCustomers(context.Background(), splynx.Search{Limit: 2}) {
		if err != nil {
			listErr = err
			break
		}
		n++
	}
	if listErr == nil || !strings.Contains(listErr.Error(), "ignore offset") || n != 2 || pages.Load() > 3 {
		t.Errorf("listed %d in %d pages, err %v", n, pages.Load(), listErr)
	}
}

func TestValidationErrors(t *testing.T) {
	for _, shape := range []string{"yii", "error", "text"} {
		t.Run(shape, func(t *testing.T) {
			e := newEnv(t, splynxsim.Options{ValidationShape: shape})
			c := e.client(t, splynx.AuthAPIKeyToken)
			// A payment for a customer that does not exist is refused by validation.
			_, err := c.CreatePayment(context.Background(), splynx.PaymentCreate{CustomerID: 999999, PaymentType: 1,
				ReceiptNumber: "R-1", Amount: 1000, Date: date(2026, 11, 2)})
			if !splynx.IsValidation(err) {
				t.Fatalf("want a validation error, got %v", err)
			}
			var ae *splynx.APIError
			if !errors.As(err, &ae) || ae.Status != http.StatusUnprocessableEntity || ae.Method != http.MethodPost ||
				ae.Path != "admin/finance/payments" || ae.Body == "" {
				t.Fatalf("error %#v", ae)
			}
			switch shape {
			case "yii":
				if len(ae.Fields) == 0 || ae.Fields[0].Field == "" || ae.Fields[0].Message == "" {
					t.Errorf("fields %+v", ae.Fields)
				}
			case "error":
				if ae.InternalCode != "INVALID_INPUT_DATA" || ae.Message == "" {
					t.Errorf("error %+v", ae)
				}
			case "text":
				if !strings.Contains(err.Error(), "customer_id") {
					t.Errorf("plain-text body not shown: %v", err)
				}
			}
			if len(e.sim.Payments()) != 0 {
				t.Error("a refused payment was stored")
			}
		})
	}
}

func TestNonJSONErrorBody(t *testing.T) {
	e := newEnv(t, splynxsim.Options{})
	html := "<html><body><h1>502 Bad Gateway</h1>" + strings.Repeat("x", 10000) + "</body></html>"
	e.sim.SetFault("admin/finance/invoices", splynxsim.Fault{ErrorRate: 1, Status: http.StatusBadGateway, Body: html})
	c := e.clientWith(t, splynx.Config{APIKey: testKey, APISecret: testSecret, MaxRetries: 2})
	_, err := c.GetInvoice(context.Background(), 1)
	var ae *splynx.APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusBadGateway {
		t.Fatalf("got %v", err)
	}
	if len(ae.Body) > 4096 || !strings.HasPrefix(ae.Body, "<html>") {
		t.Errorf("body kept %d bytes: %.40q", len(ae.Body), ae.Body)
	}
	if len(err.Error()) > 400 || !strings.Contains(err.Error(), "502 Bad Gateway") {
		t.Errorf("error text %q", err.Error())
	}
	if n := len(e.requests(http.MethodGet, "admin/finance/invoices")); n != 3 {
		t.Errorf("%d attempts, want 3 (first + 2 retries)", n)
	}
}

func TestRetriesAndNoDuplicatePayments(t *testing.T) {
	ctx := context.Background()
	t.Run("GET retried on 5xx and dropped connections", func(t *testing.T) {
		e := newEnv(t, splynxsim.Options{})
		cid := e.sim.AddCustomer(splynxsim.Customer{Login: "c", Name: "C"})
		iid := e.sim.AddInvoice(splynxsim.Invoice{CustomerID: cid, Status: "not_paid", Total: 500, Due: 500, DateCreated: date(2026, 11, 1)})
		c := e.client(t, splynx.AuthAPIKeyToken)
		e.sim.SetFault("admin/finance/invoices", splynxsim.Fault{ErrorRate: 1, Status: 503, Times: 2})
		if inv, err := c.GetInvoice(ctx, iid); err != nil || inv.Due.Amount() != 500 {
			t.Fatalf("%+v %v", inv, err)
		}
		if n := len(e.requests(http.MethodGet, "admin/finance/invoices")); n != 3 {
			t.Errorf("%d attempts, want 3", n)
		}
		e.sim.SetFault("admin/finance/invoices", splynxsim.Fault{DropRate: 1, Times: 1})
		if _, err := c.GetInvoice(ctx, iid); err != nil {
			t.Errorf("after a dropped connection: %v", err)
		}
		e.sim.SetFault("admin/finance/invoices", splynxsim.Fault{ErrorRate: 1, Status: http.StatusTooManyRequests, Times: 1})
		if _, err := c.GetInvoice(ctx, iid); err != nil {
			t.Errorf("after a 429: %v", err)
		}
		// A PUT is idempotent too; a POST of an invoice update would not be.
		e.sim.SetFault("admin/finance/invoices", splynxsim.Fault{ErrorRate: 1, Status: 500, Times: 1, Method: http.MethodPut})
		if err := c.UpdateInvoice(ctx, iid, map[string]any{"note": "retried"}); err != nil {
			t.Errorf("PUT after a 500: %v", err)
		}
		if inv, _ := e.sim.Invoice(iid); inv.Note != "retried" {
			t.Errorf("note %q", inv.Note)
		}
	})
	t.Run("POST payment not repeated on 500", func(t *testing.T) {
		e := newEnv(t, splynxsim.Options{})
		cid := e.sim.AddCustomer(splynxsim.Customer{Login: "c", Name: "C"})
		iid := e.sim.AddInvoice(splynxsim.Invoice{CustomerID: cid, Status: "not_paid", Total: 500, Due: 500, DateCreated: date(2026, 11, 1)})
		c := e.client(t, splynx.AuthAPIKeyToken)
		if err := c.Check(ctx); err != nil {
			t.Fatal(err)
		}
		e.sim.SetFault("admin/finance/payments", splynxsim.Fault{ErrorRate: 1, Status: 500, Method: http.MethodPost})
		_, err := c.CreatePayment(ctx, splynx.PaymentCreate{CustomerID: cid, InvoiceID: iid, PaymentType: 3, ReceiptNumber: "SPAAAA", Amount: 500})
		if err == nil {
			t.Fatal("want an error")
		}
		if n := len(e.requests(http.MethodPost, "admin/finance/payments")); n != 1 {
			t.Errorf("POST sent %d times, want once", n)
		}
		if n := e.sim.Counts().Payments; n != 0 {
			t.Errorf("%d payments stored", n)
		}
	})
	t.Run("DELETE applied then answer lost", func(t *testing.T) {
		e := newEnv(t, splynxsim.Options{})
		cid := e.sim.AddCustomer(splynxsim.Customer{Login: "c", Name: "C"})
		pid, err := e.sim.AddPayment(splynxsim.Payment{CustomerID: cid, PaymentType: 3, ReceiptNumber: "SPEEEE", Amount: 700, Date: date(2026, 11, 1)})
		if err != nil {
			t.Fatal(err)
		}
		c := e.client(t, splynx.AuthAPIKeyToken)
		e.sim.SetFault("admin/finance/payments", splynxsim.Fault{DropAfterRate: 1, Method: http.MethodDelete, Times: 1})
		if err := c.DeletePayment(ctx, pid); err != nil {
			t.Fatalf("delete whose first answer was lost: %v", err)
		}
		if _, ok := e.sim.Payment(pid); ok {
			t.Error("payment still there")
		}
		if n := len(e.requests(http.MethodDelete, "admin/finance/payments")); n != 2 {
			t.Errorf("%d DELETEs, want 2", n)
		}
		if err := c.DeletePayment(ctx, pid); !splynx.IsNotFound(err) {
			t.Errorf("a plain DELETE of a gone payment: %v", err)
		}
	})
	t.Run("POST applied then connection dropped", func(t *testing.T) {
		e := newEnv(t, splynxsim.Options{})
		cid := e.sim.AddCustomer(splynxsim.Customer{Login: "c", Name: "C"})
		iid := e.sim.AddInvoice(splynxsim.Invoice{CustomerID: cid, Status: "not_paid", Total: 500, Due: 500, DateCreated: date(2026, 11, 1)})
		c := e.client(t, splynx.AuthAPIKeyToken)
		if err := c.Check(ctx); err != nil {
			t.Fatal(err)
		}
		e.sim.SetFault("admin/finance/payments", splynxsim.Fault{DropAfterRate: 1, Method: http.MethodPost, Times: 1})
		_, err := c.CreatePayment(ctx, splynx.PaymentCreate{CustomerID: cid, InvoiceID: iid, PaymentType: 3, ReceiptNumber: "SPBBBB", Amount: 500})
		if err == nil {
			t.Fatal("want an error")
		}
		if n := e.sim.Counts().Payments; n != 1 {
			t.Fatalf("%d payments stored, want exactly 1", n)
		}
		found, err := c.FindPaymentsByReceipt(ctx, "SPBBBB")
		if err != nil || len(found) != 1 || int64(found[0].InvoiceID) != iid || found[0].Amount.Amount() != 500 {
			t.Errorf("lookup by receipt: %+v %v", found, err)
		}
	})
}

func TestPaymentsLifecycle(t *testing.T) {
	for _, o := range []splynxsim.Options{{}, {IDsAsNumbers: true, MoneyAsNumbers: true}} {
		t.Run(fmt.Sprintf("numbers=%v", o.IDsAsNumbers), func(t *testing.T) {
			e := newEnv(t, o)
			ctx := context.Background()
			cid := e.sim.AddCustomer(splynxsim.Customer{Login: "c", Name: "C"})
			iid := e.sim.AddInvoice(splynxsim.Invoice{CustomerID: cid, Status: "not_paid", Total: 12000, Due: 12000, DateCreated: date(2026, 11, 1)})
			c := e.client(t, splynx.AuthAPIKeyToken)
			pid, err := c.CreatePayment(ctx, splynx.PaymentCreate{CustomerID: cid, InvoiceID: iid, PaymentType: 3,
				ReceiptNumber: "SPCCCC", Amount: 12000, Date: date(2026, 11, 2), Comment: "IntegraPay", Field1: "SPCCCC"})
			if err != nil {
				t.Fatal(err)
			}
			post := e.requests(http.MethodPost, "admin/finance/payments")[0].Body
			for _, want := range []string{`"amount":"120.00"`, `"field_5":""`, `"date":"2026-11-02"`, `"invoice_id":` + fmt.Sprint(iid)} {
				if !strings.Contains(post, want) {
					t.Errorf("payment body %s lacks %s", post, want)
				}
			}
			p, err := c.GetPayment(ctx, pid)
			if err != nil {
				t.Fatal(err)
			}
			if int64(p.ID) != pid || int64(p.InvoiceID) != iid || p.Amount.Amount() != 12000 || p.ReceiptNumber != "SPCCCC" ||
				p.Field1 != "SPCCCC" || p.Date.String() != "2026-11-02" || p.PaymentType != 3 {
				t.Errorf("payment %+v", p)
			}
			inv, err := c.GetInvoice(ctx, iid)
			if err != nil {
				t.Fatal(err)
			}
			if inv.Status != "paid" || inv.Due.Amount() != 0 || int64(inv.PaymentID) != pid || inv.DatePayment.IsZero() {
				t.Errorf("invoice after payment %+v", inv)
			}
			rels, err := c.ListInvoiceRelations(ctx, iid)
			if err != nil {
				t.Fatal(err)
			}
			if len(rels) != 1 || rels[0].Amount.Amount() != 12000 || int64(rels[0].InvoiceID) != iid {
				t.Errorf("relations %+v", rels)
			}
			n := 0
			for p, err := range c.ListPayments(ctx, splynx.Search{Main: []splynx.Cond{splynx.Eq("customer_id", fmt.Sprint(cid))}}) {
				if err != nil {
					t.Fatal(err)
				}
				if int64(p.ID) != pid {
					t.Errorf("listed payment %d", p.ID)
				}
				n++
			}
			if n != 1 {
				t.Errorf("listed %d payments", n)
			}
			if err := c.DeletePayment(ctx, pid); err != nil {
				t.Fatal(err)
			}
			if _, err := c.GetPayment(ctx, pid); !splynx.IsNotFound(err) {
				t.Errorf("deleted payment: %v", err)
			}
			if inv, _ := c.GetInvoice(ctx, iid); inv.Status != "not_paid" || inv.Due.Amount() != 12000 {
				t.Errorf("invoice after delete %+v", inv)
			}
			// Top-up with no invoice lands on the deposit (the open invoice already debited it).
			if _, err := c.CreatePayment(ctx, splynx.PaymentCreate{CustomerID: cid, PaymentType: 3, ReceiptNumber: "SPDDDD", Amount: 2550}); err != nil {
				t.Fatal(err)
			}
			b, err := c.GetCustomerBilling(ctx, cid)
			if err != nil || b.Deposit.Amount() != -12000+2550 {
				t.Errorf("deposit after top-up %+v %v", b, err)
			}
		})
	}
}

func TestRecordUpdates(t *testing.T) {
	e := newEnv(t, splynxsim.Options{})
	ctx := context.Background()
	cid := e.sim.AddCustomer(splynxsim.Customer{Login: "c", Name: "C"})
	iid := e.sim.AddInvoice(splynxsim.Invoice{CustomerID: cid, Status: "not_paid", Total: 100, Due: 100, DateCreated: date(2026, 11, 1)})
	e.sim.AddAdditionalField(splynxsim.AdditionalField{Module: "customers", Name: "autopay", Title: "Autopay", Type: "string"})
	c := e.client(t, splynx.AuthAPIKeyToken)
	if err := c.UpdateCustomer(ctx, cid, map[string]any{"additional_attributes": map[string]string{"autopay": "0"}}); err != nil {
		t.Fatal(err)
	}
	if cu, _ := e.sim.Customer(cid); cu.AdditionalAttributes["autopay"] != "0" {
		t.Errorf("customer after update %+v", cu)
	}
	if err := c.UpdateInvoice(ctx, iid, map[string]any{"status": "pending"}); err != nil {
		t.Fatal(err)
	}
	if inv, _ := e.sim.Invoice(iid); inv.Status != "pending" {
		t.Errorf("invoice status %q", inv.Status)
	}
	if err := c.UpdateInvoice(ctx, 999999, map[string]any{"status": "pending"}); !splynx.IsNotFound(err) {
		t.Errorf("unknown invoice: %v", err)
	}
}

func TestReferenceData(t *testing.T) {
	e := newEnv(t, splynxsim.Options{IDsAsNumbers: true})
	ctx := context.Background()
	for _, m := range []splynxsim.PaymentMethod{{Name: "Cash", IsActive: true}, {Name: "Bank transfer", IsActive: true}} {
		e.sim.AddPaymentMethod(m)
	}
	e.sim.AddPartner(splynxsim.Partner{Name: "North"})
	e.sim.AddPartner(splynxsim.Partner{Name: "South"})
	e.sim.AddLocation(splynxsim.Location{Name: "Sydney"})
	e.sim.AddLocation(splynxsim.Location{Name: "Perth"})
	cid := e.sim.AddCustomer(splynxsim.Customer{Login: "c", Name: "C"})
	e.sim.AddProforma(splynxsim.Proforma{CustomerID: cid, Status: "not_paid", Total: 1500, DateCreated: date(2026, 11, 1)})
	e.sim.AddProforma(splynxsim.Proforma{CustomerID: cid, Status: "paid", Total: 2500, DateCreated: date(2026, 11, 1)})
	c := e.client(t, splynx.AuthAPIKeyToken)
	methods, err := c.ListPaymentMethods(ctx)
	if err != nil {
		t.Fatal(err)
	}
	names := map[int64]string{}
	for _, m := range methods {
		names[int64(m.ID)] = m.Name
	}
	if len(methods) != 3 || !slices.Contains(slices.Collect(maps.Values(names)), "Cash") || !slices.Contains(slices.Collect(maps.Values(names)), "Bank transfer") {
		t.Errorf("payment methods %+v", methods)
	}
	id, err := c.CreatePaymentMethod(ctx, splynx.PaymentMethod{Name: "IntegraPay", IsActive: true, Name1: "Gateway txn id"})
	if err != nil {
		t.Fatal(err)
	}
	if methods, _ = c.ListPaymentMethods(ctx); !slices.ContainsFunc(methods, func(m splynx.PaymentMethod) bool {
		return int64(m.ID) == id && m.Name1 == "Gateway txn id" && bool(m.IsActive)
	}) {
		t.Errorf("created method %d not listed: %+v", id, methods)
	}
	partners, err := c.ListPartners(ctx)
	if err != nil || len(partners) < 2 || partners[0].Name == "" {
		t.Errorf("partners %+v %v", partners, err)
	}
	locations, err := c.ListLocations(ctx)
	if err != nil || len(locations) < 2 {
		t.Errorf("locations %+v %v", locations, err)
	}
	if err := c.CreateAdditionalField(ctx, "customers", splynx.AdditionalField{Name: "integrapay_payer", Title: "IntegraPay payer", Type: "string"}); err != nil {
		t.Fatal(err)
	}
	afs, err := c.ListAdditionalFields(ctx, "customers")
	if err != nil || !slices.ContainsFunc(afs, func(f splynx.AdditionalField) bool {
		return f.Name == "integrapay_payer" && f.Title == "IntegraPay payer"
	}) {
		t.Errorf("additional fields %+v %v", afs, err)
	}
	n := 0
	for pf, err := range c.ListProformas(ctx, splynx.Search{}) {
		if err != nil {
			t.Fatal(err)
		}
		if pf.Total == 0 {
			t.Errorf("proforma %+v", pf)
		}
		n++
	}
	if cnt, err := c.CountProformas(ctx, splynx.Search{}); err != nil || cnt != n || n != 2 {
		t.Errorf("proformas listed %d counted %d %v", n, cnt, err)
	}
}

func TestTransactionsAndStatements(t *testing.T) {
	e := newEnv(t, splynxsim.Options{})
	ctx := context.Background()
	cid := e.sim.AddCustomer(splynxsim.Customer{Login: "c", Name: "C"})
	c := e.client(t, splynx.AuthAPIKeyToken)
	tid, err := c.CreateTransaction(ctx, splynx.TransactionCreate{CustomerID: cid, Type: "debit", Price: 150,
		Description: "Card fee", Category: 4, Date: date(2026, 11, 2)})
	if err != nil {
		t.Fatal(err)
	}
	txs := e.sim.Transactions()
	if len(txs) != 1 || txs[0].ID != tid || txs[0].Total != 150 || txs[0].Type != "debit" || txs[0].Category != 4 {
		t.Errorf("transactions %+v", txs)
	}
	// Finding a transaction by its comment: only the customer's own, only
	// an exact comment.
	other := e.sim.AddCustomer(splynxsim.Customer{Login: "o", Name: "O"})
	for _, tc := range []splynx.TransactionCreate{
		{CustomerID: cid, Type: "debit", Price: 990, Description: "Dishonour fee", Comment: "SP42 dishonour-fee"},
		{CustomerID: cid, Type: "debit", Price: 150, Description: "Card fee", Comment: "SP42 service-fee"},
		{CustomerID: other, Type: "debit", Price: 990, Description: "Dishonour fee", Comment: "SP42 dishonour-fee"},
		{CustomerID: cid, Type: "debit", Price: 990, Description: "Dishonour fee", Comment: "SP42 dishonour-fee again"},
	} {
		tc.Category, tc.Date = 4, date(2026, 11, 3)
		if _, err := c.CreateTransaction(ctx, tc); err != nil {
			t.Fatal(err)
		}
	}
	found, err := c.FindTransactionsByComment(ctx, cid, "SP42 dishonour-fee")
	if err != nil {
		t.Fatal(err)
	}
	if len(found) != 1 || int64(found[0].CustomerID) != cid || found[0].Total != 990 || found[0].Comment != "SP42 dishonour-fee" ||
		found[0].Type != "debit" || found[0].Description != "Dishonour fee" {
		t.Errorf("found %+v", found)
	}
	if found, err := c.FindTransactionsByComment(ctx, cid, "SP43 dishonour-fee"); err != nil || len(found) != 0 {
		t.Errorf("found %+v %v for a comment no transaction has", found, err)
	}
	if _, err := c.FindTransactionsByComment(ctx, cid, ""); err == nil {
		t.Error("an empty comment was accepted")
	}
	sid, err := c.CreateBankStatement(ctx, splynx.BankStatement{Title: "IntegraPay 11/2026", PaymentType: 3, Status: "success"})
	if err != nil {
		t.Fatal(err)
	}
	rid, err := c.CreateBankStatementRecord(ctx, splynx.BankStatementRecord{BankStatementsProcessID: splynx.ID(sid),
		Amount: 1250, Status: "new", CustomerID: splynx.ID(cid), PaymentDate: splynx.NewDate(date(2026, 11, 2)), Comment: "IntegraPay"})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.UpdateBankStatementRecord(ctx, rid, map[string]any{"status": "processed"}); err != nil {
		t.Fatal(err)
	}
	recs := e.sim.BankStatementRecords()
	if len(recs) != 1 || recs[0].Status != "processed" || recs[0].Amount != 1250 {
		t.Errorf("statement records %+v", recs)
	}
	n := 0
	for st, err := range c.ListBankStatements(ctx, splynx.Search{}) {
		if err != nil {
			t.Fatal(err)
		}
		if int64(st.ID) != sid || st.Title != "IntegraPay 11/2026" {
			t.Errorf("statement %+v", st)
		}
		n++
	}
	if n != 1 {
		t.Errorf("%d statements", n)
	}
}

func TestPaymentAccounts(t *testing.T) {
	e := newEnv(t, splynxsim.Options{})
	ctx := context.Background()
	cid := e.sim.AddCustomer(splynxsim.Customer{Login: "c", Name: "C"})
	acc := e.sim.AddPaymentAccountDef(splynxsim.PaymentAccountDef{Title: "IntegraPay", Fields: [10]string{"Token", "Mask"}})
	c := e.client(t, splynx.AuthAPIKeyToken)
	if _, err := c.GetPaymentAccount(ctx, cid, acc); !splynx.IsNotFound(err) {
		t.Errorf("before put: %v", err)
	}
	pa := splynx.PaymentAccount{AccountID: splynx.ID(acc), CustomerID: splynx.ID(cid), Fields: [10]string{"tok_abc", "•••• 1111"}}
	if err := c.PutPaymentAccount(ctx, pa); err != nil {
		t.Fatal(err)
	}
	got, err := c.GetPaymentAccount(ctx, cid, acc)
	if err != nil {
		t.Fatal(err)
	}
	if got != pa {
		t.Errorf("got %+v want %+v", got, pa)
	}
	if put := e.requests(http.MethodPut, "admin/customers/customer-payment-accounts"); len(put) != 1 ||
		put[0].Query != fmt.Sprintf("id=%d--%d", cid, acc) {
		t.Errorf("PUT requests %+v", put)
	}
	defs, err := c.ListPaymentAccountDefs(ctx)
	if err != nil || len(defs) != 1 || int64(defs[0].ID) != acc || defs[0].Title != "IntegraPay" || defs[0].Fields[1] != "Mask" {
		t.Errorf("definitions %+v %v", defs, err)
	}
	all, err := c.ListPaymentAccounts(ctx, cid)
	if err != nil || len(all) != 1 || all[0] != pa {
		t.Errorf("customer's accounts %+v %v", all, err)
	}
	if err := c.DeletePaymentAccount(ctx, cid, acc); err != nil {
		t.Fatal(err)
	}
	if _, ok := e.sim.PaymentAccount(cid, acc); ok {
		t.Error("account data still stored after delete")
	}
}

func TestModulesList(t *testing.T) {
	e := newEnv(t, splynxsim.Options{IDsAsNumbers: true})
	ctx := context.Background()
	c := e.client(t, splynx.AuthAPIKeyToken)
	m := splynx.Module{Module: "splynx_addon_integrapay", Title: "IntegraPay", Root: `controllers\admin\FinanceController`,
		Type: "simple", Icon: "fa-credit-card", Path: "integrapay", Status: "enabled"}
	if err := c.CreateModule(ctx, m); err != nil {
		t.Fatal(err)
	}
	if err := c.CreateModule(ctx, m); !splynx.IsValidation(err) {
		t.Errorf("duplicate module: %v", err)
	}
	got, err := c.GetModule(ctx, m.Module)
	if err != nil || got != m {
		t.Errorf("got %+v %v\nwant %+v", got, err, m)
	}
	if err := c.UpdateModule(ctx, m.Module, map[string]any{"status": "disabled"}); err != nil {
		t.Fatal(err)
	}
	list, err := c.ListModules(ctx)
	if err != nil || len(list) != 1 || list[0].Status != "disabled" {
		t.Errorf("modules %+v %v", list, err)
	}
	if _, err := c.GetModule(ctx, "nope"); !splynx.IsNotFound(err) {
		t.Errorf("unknown module: %v", err)
	}
}

func TestModuleConfig(t *testing.T) {
	const module = "splynx_addon_integrapay"
	for _, shape := range []string{"flat", "nested"} {
		t.Run(shape, func(t *testing.T) {
			e := newEnv(t, splynxsim.Options{ConfigShape: shape})
			ctx := context.Background()
			e.sim.SetModuleConfig(module, 0, map[string]string{"currency": "AUD", "payment_method_card": "3", "retry_days": "3,7"})
			e.sim.SetModuleConfig(module, 2, map[string]string{"payment_method_card": "7"})
			c := e.client(t, splynx.AuthAPIKeyToken)
			def, err := c.GetModuleConfig(ctx, module, 0)
			if err != nil {
				t.Fatal(err)
			}
			if def["currency"] != "AUD" || def["payment_method_card"] != "3" || def["retry_days"] != "3,7" {
				t.Errorf("default partner %v", def)
			}
			p2, err := c.GetModuleConfig(ctx, module, 2)
			if err != nil {
				t.Fatal(err)
			}
			if p2["payment_method_card"] != "7" || p2["currency"] != "AUD" {
				t.Errorf("partner 2 %v", p2)
			}
			if err := c.PutModuleConfig(ctx, module, 0, map[string]string{"auto_charge": "1"}); err != nil {
				t.Fatal(err)
			}
			if after, err := c.GetModuleConfig(ctx, module, 0); err != nil || after["auto_charge"] != "1" || after["currency"] != "AUD" {
				t.Errorf("after put %v %v", after, err)
			}
		})
	}
}

func TestCustomerBillingList(t *testing.T) {
	for _, off := range []bool{false, true} {
		t.Run(fmt.Sprintf("NoBillingList=%v", off), func(t *testing.T) {
			e := newEnv(t, splynxsim.Options{NoBillingList: off})
			ctx := context.Background()
			var ids []int64
			for i := range 3 {
				id := e.sim.AddCustomer(splynxsim.Customer{Login: fmt.Sprint("c", i), Name: "C"})
				e.sim.SetBilling(id, func(b *splynxsim.Billing) { b.Deposit = money.Amount(100 * (i + 1)); b.PaymentMethod = 3 })
				ids = append(ids, id)
			}
			c := e.client(t, splynx.AuthAPIKeyToken)
			var got []int64
			var deposits money.Amount
			var listErr error
			for b, err := range c.ListCustomerBilling(ctx, splynx.Search{}) {
				if err != nil {
					listErr = err
					break
				}
				got = append(got, int64(b.CustomerID))
				deposits += b.Deposit.Amount()
			}
			if off {
				if !splynx.IsNotFound(listErr) && !splynx.IsMethodNotAllowed(listErr) {
					t.Fatalf("want a detectable not-found, got %v", listErr)
				}
				return
			}
			if listErr != nil {
				t.Fatal(listErr)
			}
			if !slices.Equal(got, ids) || deposits != 600 {
				t.Errorf("billing %v deposits %s", got, deposits)
			}
		})
	}
}

func TestConfigErrors(t *testing.T) {
	for _, cfg := range []splynx.Config{
		{},
		{BaseURL: "ftp://x", APIKey: "k", APISecret: "secret-value-1"},
		{BaseURL: "https://x", APIKey: "k"},
		{BaseURL: "https://user:pw-in-url-1@x", APIKey: "k", APISecret: "secret-value-1"},
	} {
		if _, err := splynx.New(cfg); err == nil {
			t.Errorf("%+v: want an error", cfg)
		} else if strings.Contains(err.Error(), "secret-value-1") || strings.Contains(err.Error(), "pw-in-url-1") {
			t.Errorf("error leaks secret: %v", err)
		}
	}
	// A base URL that already ends in /api/2.0 works the same.
	e := newEnv(t, splynxsim.Options{})
	c, err := splynx.New(splynx.Config{BaseURL: e.srv.URL + "/api/2.0/", APIKey: testKey, APISecret: testSecret},
		splynx.WithClock(e.sim.Clock()))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Check(context.Background()); err != nil {
		t.Error(err)
	}
}

func TestContextAndTimeout(t *testing.T) {
	e := newEnv(t, splynxsim.Options{})
	e.sim.SetFault("admin/finance/invoices", splynxsim.Fault{Latency: 2 * time.Second})
	c := e.clientWith(t, splynx.Config{APIKey: testKey, APISecret: testSecret, Timeout: 100 * time.Millisecond, MaxRetries: -1})
	start := time.Now()
	_, err := c.GetInvoice(context.Background(), 1)
	if err == nil || time.Since(start) > time.Second {
		t.Errorf("timeout not applied: %v after %s", err, time.Since(start))
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.GetCustomer(ctx, 1); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: %v", err)
	}
}
