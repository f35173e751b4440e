package splynx_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/splynx-pay/splynx-pay/internal/money"
	"github.com/splynx-pay/splynx-pay/splynx"
	"github.com/splynx-pay/splynx-pay/splynx/splynxsim"
)

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
