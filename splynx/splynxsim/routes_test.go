package splynxsim

import (
	"net/http"
	"strings"
	"testing"
)

// TestRoutes pins what the router answers at its edges (trailing slashes,
// near-miss paths, odd segments, 404 before auth, the method check inside
// a route) and that every request is logged with its status, so the
// router can change without the wire changing.
func TestRoutes(t *testing.T) {
	s, a := newTestSim(t, Options{}, &SeedConfig{Seed: 1, Customers: 2})
	s.ResetRequests()
	for _, c := range []struct {
		method, path string
		auth         bool
		status       int
		code         string
	}{
		{"GET", "admin/customers/customer", true, 200, ""},
		{"GET", "admin/customers/customer/", true, 200, ""},
		{"GET", "admin/customers/customer/1", true, 200, ""},
		{"GET", "admin/customers/customer/1/", true, 200, ""},
		{"PATCH", "admin/customers/customer", true, 405, "METHOD_NOT_ALLOWED"},
		{"GET", "admin/customers/customer/abc", true, 404, "NOT_FOUND"},
		{"GET", "admin/customers/customerx", true, 404, "NOT_FOUND"},
		{"GET", "admin/customers/customer-billing/1", true, 200, ""},
		{"GET", "admin/customers", true, 404, "NOT_FOUND"},
		{"GET", "", true, 404, "NOT_FOUND"},
		{"GET", "admin//customers/customer", true, 404, "NOT_FOUND"},
		{"GET", "admin/customers/customer/../customer", true, 404, "NOT_FOUND"},
		{"GET", "admin%2Fcustomers/customer", true, 200, ""},
		{"GET", "admin/customers/customer", false, 401, ""},
		{"GET", "admin/nothing", false, 404, "NOT_FOUND"},
		{"GET", "admin/api/check", false, 200, ""}, // a route without auth
	} {
		auth := ""
		if c.auth {
			auth = a.authHeader()
		}
		r := a.doAuth(c.method, c.path, nil, auth)
		if r.status != c.status || (c.code != "" && !strings.Contains(string(r.body), `"internal_code":"`+c.code+`"`)) {
			t.Errorf("%s %s (auth %v): %d %s; want %d %s", c.method, c.path, c.auth, r.status, r.body, c.status, c.code)
		}
		log := s.Requests()
		if len(log) == 0 || log[len(log)-1].Status != c.status || log[len(log)-1].Method != c.method {
			t.Errorf("%s %s: last logged request %+v", c.method, c.path, log[len(log)-1:])
		}
	}
	res, err := http.Get(strings.TrimSuffix(a.base, "/api/2.0/") + "/api/2.0")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if log := s.Requests(); res.StatusCode != 404 || log[len(log)-1].Path != "/api/2.0" {
		t.Errorf("outside the API: %d, logged %+v", res.StatusCode, log[len(log)-1])
	}
}
