package simstack

import (
	"context"
	"os"
	"testing"

	"github.com/splynx-pay/splynx-pay/internal/config"
	"github.com/splynx-pay/splynx-pay/splynx/splynxsim"
)

// Each add-on's stack answers over real HTTP: the Splynx client's key is
// the one the simulated Splynx accepts, the gateway client reaches its
// simulator, and the database takes writes.
func TestStackServesEachAddon(t *testing.T) {
	for _, a := range []config.Addon{config.IntegraPay, config.IPpay} {
		t.Run(string(a), func(t *testing.T) {
			ctx := context.Background()
			s := Start(t, Options{Addon: a, PaymentMethods: []splynxsim.PaymentMethod{{ID: 3, Name: "Credit card", IsActive: true}}})
			if (s.IntegraPay != nil) != (a == config.IntegraPay) || (s.IPpay != nil) != (a == config.IPpay) {
				t.Fatalf("%s stack built IntegraPay=%v IPpay=%v", a, s.IntegraPay != nil, s.IPpay != nil)
			}
			id := s.Splynx.AddCustomer(splynxsim.Customer{Name: "Stack Test", Email: "s@example.com"})
			c, err := s.SplynxClient.GetCustomer(ctx, id)
			if err != nil || c.Name != "Stack Test" {
				t.Fatalf("customer %d through the client: %+v, %v", id, c, err)
			}
			if err := s.Gateway.Ping(ctx); err != nil {
				t.Fatalf("%s ping: %v", s.Gateway.Name(), err)
			}
			if s.DB.Path() != s.DBPath {
				t.Fatalf("db at %s, stack says %s", s.DB.Path(), s.DBPath)
			}
		})
	}
}

// New without a DB path makes its own temporary directory and close
// removes it; an unknown add-on is an error that leaves nothing running.
func TestNewCleansUp(t *testing.T) {
	s, close, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.DBPath); err != nil {
		t.Fatalf("database file: %v", err)
	}
	close()
	if _, err := os.Stat(s.DBPath); !os.IsNotExist(err) {
		t.Fatalf("after close the database file is still there (%v)", err)
	}
	if s, close, err := New(Options{Addon: "paypal"}); err == nil || s != nil || close != nil {
		t.Fatalf("unknown add-on: %v, %v", s, err)
	}
}
