package web

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/splynx-pay/splynx-pay/splynx"
	"github.com/splynx-pay/splynx-pay/splynx/splynxsim"
)

// Through nginx, the status page is for Splynx administrators only, as
// Splynx itself says from the visitor's session.
func TestStatusNeedsAdminThroughProxy(t *testing.T) {
	sim := splynxsim.New(splynxsim.Options{})
	sim.AddAPIKey("k", "s")
	adminID := sim.AddAdmin("boss", "pw", "")
	custID := sim.AddCustomer(splynxsim.Customer{Login: "c1", Name: "C One", Status: "active"})
	api := httptest.NewServer(sim.Handler())
	defer api.Close()
	sp, err := splynx.New(splynx.Config{BaseURL: api.URL, APIKey: "k", APISecret: "s"}, splynx.WithClock(sim.Clock()))
	if err != nil {
		t.Fatal(err)
	}
	_, srv := newTestServer(t, Options{Deps: Deps{DB: openDB(t), Splynx: sp}})

	cases := []struct {
		name    string
		proxied bool
		session string
		want    int
	}{
		{"on the server, with the admin token (operator)", false, "", http.StatusOK},
		{"proxied, no session", true, "", http.StatusForbidden},
		{"proxied, unknown session", true, "not-a-session", http.StatusForbidden},
		{"proxied, customer session", true, sim.NewSession("customer", custID), http.StatusForbidden},
		{"proxied, administrator session", true, sim.NewSession("admin", adminID), http.StatusOK},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", srv.URL+"/integrapay/status", nil)
			if tc.proxied {
				req.Header.Set("X-Forwarded-For", "203.0.113.9")
				req.Header.Set("X-Real-IP", "203.0.113.9")
			}
			if tc.session != "" {
				req.AddCookie(&http.Cookie{Name: SplynxSessionCookie, Value: tc.session})
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.want)
			}
		})
	}
}

// Only the demo's explicit option opens the admin pages to every visitor;
// without it a proxied visitor with no session is turned away.
func TestDemoOptionOpensAdminGate(t *testing.T) {
	for _, tc := range []struct {
		demo bool
		want int
	}{{false, http.StatusForbidden}, {true, http.StatusOK}} {
		_, srv := newTestServer(t, Options{Demo: tc.demo, Deps: Deps{DB: openDB(t)}})
		req, _ := http.NewRequest("GET", srv.URL+"/integrapay/status", nil)
		req.Header.Set("X-Forwarded-For", "203.0.113.9")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("Demo=%v: status %d, want %d", tc.demo, resp.StatusCode, tc.want)
		}
	}
}
