package web

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// testAdminToken is the admin token of the test sites.
const testAdminToken = "test-admin-token-0123456789abcdef"

// writeAdminToken writes content to a token file of the given mode in a
// temporary directory and returns its path.
func writeAdminToken(t testing.TB, content string, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "admin-token")
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil { // past the umask
		t.Fatal(err)
	}
	return p
}

// operator serves s for the page tests the way the operator on the server
// reaches the daemon: a GET that did not come through nginx (no forwarding
// headers) and names no one carries the admin token, as the doctor and a
// documented curl do. POSTs are left alone: they are a browser's forms,
// which never carry the token (and so must pass the CSRF check). The gate itself is tested below against
// the bare handler, where nothing is added.
func operator(t testing.TB, s *Server) http.Handler {
	t.Helper()
	s.opts.AdminTokenFile = writeAdminToken(t, testAdminToken+"\n", 0o640)
	next := s.Handler()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		proxied := r.Header.Get("X-Forwarded-For") != "" || r.Header.Get("X-Real-IP") != "" || r.Header.Get("Forwarded") != ""
		if _, err := r.Cookie(SplynxSessionCookie); err != nil && !proxied && safeMethod(r.Method) && r.Header.Get("Authorization") == "" {
			r.Header.Set("Authorization", "Bearer "+testAdminToken)
		}
		next.ServeHTTP(w, r)
	})
}

// openToAnyone reports whether a registered route ("GET /integrapay/x")
// may be reached without a staff credential: securityRoutes
// (security_test.go) classes it as a customer page (which checks the
// customer's own session), a direct payment link or a public file. A route
// missing there, or classed staff-only, must refuse requests without the
// admin token.
func openToAnyone(pattern, prefix string) bool {
	if method, p, ok := strings.Cut(pattern, " "); ok {
		pattern = method + " " + strings.TrimPrefix(p, prefix)
	}
	switch securityRoutes[pattern] {
	case customerRoute, linkRoute, publicRoute:
		return true
	}
	return false
}

// routeRequest builds a request for a registered pattern ("POST
// /integrapay/charges/{id}/cancel") with every wildcard set to 1.
func routeRequest(base, pattern string) *http.Request {
	method, p, ok := strings.Cut(pattern, " ")
	if !ok {
		method, p = "GET", pattern
	}
	p = regexp.MustCompile(`\{[^}]+\}`).ReplaceAllString(p, "1")
	p = strings.TrimSuffix(p, "{$}")
	var body io.Reader
	if method == "POST" {
		body = strings.NewReader(url.Values{"confirm": {"1"}, "id": {"1"}}.Encode())
	}
	req, _ := http.NewRequest(method, base+p, body)
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	return req
}

// Where a request comes from is no credential: on loopback, straight to the
// daemon (no nginx headers), every staff, admin and metrics route refuses a
// request without the admin token, or with a wrong one, or when the token
// file is missing, empty, too short or open to everyone; with the right
// token each works. POSTs carry a valid CSRF token, so only the admin gate
// can refuse them. The table is every route the server registered.
func TestAdminRoutesNeedTokenNotLoopback(t *testing.T) {
	st := newStaffSite(t)
	s := st.server
	// One token file whose content and mode each case sets; the server reads
	// it on every request.
	tokenFile := filepath.Join(t.TempDir(), "admin-token")
	s.opts.AdminTokenFile = tokenFile
	srv := httptest.NewServer(s.Handler()) // bare: nothing added to requests
	t.Cleanup(srv.Close)
	// The same pages with no token file configured.
	unset, err := New(Options{Addon: "splynx-integrapay", Prefix: "/integrapay", Deps: s.Deps(), CSRFKey: s.csrf.key})
	if err != nil {
		t.Fatal(err)
	}
	unsetSrv := httptest.NewServer(unset.Handler())
	t.Cleanup(unsetSrv.Close)
	setFile := func(content string, mode os.FileMode) {
		t.Helper()
		os.Remove(tokenFile)
		if mode == 0 {
			return // missing
		}
		if err := os.WriteFile(tokenFile, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(tokenFile, mode); err != nil {
			t.Fatal(err)
		}
	}
	s.mu.Lock()
	routes := append([]string(nil), s.routes...)
	s.mu.Unlock()
	var gated int
	c := cookieClient(t)
	csrfFor := func(base string, req *http.Request) {
		if req.Method == "GET" {
			return
		}
		resp, err := c.Get(base + "/integrapay/healthz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		u, _ := url.Parse(base + "/integrapay/")
		for _, ck := range c.Jar.Cookies(u) {
			if ck.Name == CSRFCookie {
				req.Header.Set(CSRFHeader, s.csrf.token(ck.Value))
			}
		}
	}
	send := func(base string, req *http.Request) int {
		t.Helper()
		csrfFor(base, req)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	refused := func(code int) bool { return code == http.StatusUnauthorized || code == http.StatusForbidden }
	for _, pat := range routes {
		if openToAnyone(pat, "/integrapay") {
			continue
		}
		gated++
		t.Run(pat, func(t *testing.T) {
			for _, tc := range []struct {
				name, file string
				mode       os.FileMode // 0: no file
				sent       string
				ok         bool
				base       string
			}{
				{"no token", testAdminToken, 0o640, "", false, srv.URL},
				{"right token", testAdminToken + "\n", 0o640, testAdminToken, true, srv.URL},
				{"right token, file 0600", testAdminToken, 0o600, testAdminToken, true, srv.URL},
				{"wrong token", testAdminToken, 0o640, "wrong-admin-token-0123456789abcdef", false, srv.URL},
				{"token's prefix", testAdminToken, 0o640, testAdminToken[:20], false, srv.URL},
				{"missing file", "", 0, testAdminToken, false, srv.URL},
				{"empty file", "", 0o640, "x", false, srv.URL},
				{"short token", "short", 0o640, "short", false, srv.URL},
				{"world-readable file", testAdminToken, 0o644, testAdminToken, false, srv.URL},
				{"no file setting", testAdminToken, 0o640, testAdminToken, false, unsetSrv.URL},
			} {
				setFile(tc.file, tc.mode)
				req := routeRequest(tc.base, pat)
				if tc.sent != "" {
					req.Header.Set("Authorization", "Bearer "+tc.sent)
				}
				code := send(tc.base, req)
				if tc.ok && refused(code) {
					t.Errorf("%s: %d, want the route to work", tc.name, code)
				}
				if !tc.ok && !refused(code) {
					t.Errorf("%s: %d from loopback, want 401 or 403", tc.name, code)
				}
			}
		})
	}
	// The staff, admin, charge, status and metrics pages at least.
	if gated < 20 {
		t.Fatalf("only %d gated routes among %v", gated, routes)
	}
}
