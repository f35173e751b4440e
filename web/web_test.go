package web

import (
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/splynx-pay/splynx-pay/internal/clock"
	"github.com/splynx-pay/splynx-pay/internal/config"
	"github.com/splynx-pay/splynx-pay/internal/wire"
	"github.com/splynx-pay/splynx-pay/store"
	"github.com/splynx-pay/splynx-pay/sync/charge"

	_ "github.com/mattn/go-sqlite3"
)

func newTestServer(t *testing.T, opts Options) (*Server, *httptest.Server) {
	t.Helper()
	if opts.Prefix == "" {
		opts.Prefix = "/integrapay"
	}
	opts.Addon = "splynx-integrapay"
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	s.Handle("POST /echo", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "changed "+r.PostFormValue("v"))
	}))
	srv := httptest.NewServer(operator(t, s))
	t.Cleanup(srv.Close)
	return s, srv
}

func cookieClient(t testing.TB) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

var tokenRE = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

func TestCSRF(t *testing.T) {
	s, srv := newTestServer(t, Options{CSRFKey: []byte("0123456789abcdef0123456789abcdef")})
	s.Handle("GET /form", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `<form method="post"><input type="hidden" name="csrf_token" value="`+CSRFToken(r)+`"></form>`)
	}))
	c := cookieClient(t)
	resp, err := c.Get(srv.URL + "/integrapay/form")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := tokenRE.FindSubmatch(body)
	if m == nil {
		t.Fatalf("no token in %s", body)
	}
	token := string(m[1])
	u, _ := url.Parse(srv.URL + "/integrapay/")
	if len(c.Jar.Cookies(u)) != 1 {
		t.Fatalf("cookie not set for the prefix: %v", c.Jar.Cookies(u))
	}
	other := New2(t, []byte("another key another key another!"))

	cases := []struct {
		name   string
		client *http.Client
		form   url.Values
		header string
		want   int
	}{
		{"no token", c, url.Values{"v": {"1"}}, "", http.StatusForbidden},
		{"wrong token", c, url.Values{"v": {"1"}, "csrf_token": {"AAAA" + token[4:]}}, "", http.StatusForbidden},
		{"token signed with another key", c, url.Values{"v": {"1"}, "csrf_token": {other}}, "", http.StatusForbidden},
		{"token without the cookie", cookieClient(t), url.Values{"v": {"1"}, "csrf_token": {token}}, "", http.StatusForbidden},
		{"form token", c, url.Values{"v": {"1"}, "csrf_token": {token}}, "", http.StatusOK},
		{"header token", c, url.Values{"v": {"2"}}, token, http.StatusOK},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest("POST", srv.URL+"/integrapay/echo", strings.NewReader(tc.form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if tc.header != "" {
				req.Header.Set(CSRFHeader, tc.header)
			}
			resp, err := tc.client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d (%s), want %d", resp.StatusCode, b, tc.want)
			}
			if tc.want == http.StatusOK && string(b) != "changed "+tc.form.Get("v") {
				t.Fatalf("handler answered %q", b)
			}
			if tc.want != http.StatusOK && strings.Contains(string(b), "changed") {
				t.Fatal("handler ran without a valid token")
			}
		})
	}
}

// New2 mints a token for a fresh cookie under another key.
func New2(t *testing.T, key []byte) string {
	return newCSRF(key, "/").token(strings.Repeat("x", 43))
}

func TestExemptPathTakesPostsWithoutToken(t *testing.T) {
	s, srv := newTestServer(t, Options{})
	s.HandleExempt("/hook", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	resp, err := http.Post(srv.URL+"/integrapay/hook", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
}

func openDB(t *testing.T) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "t.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestHealthAndStatus(t *testing.T) {
	db := openDB(t)
	boot := config.Bootstrap{SplynxURL: "https://s.example.com", SplynxAPIKey: "k", SplynxAPISecret: "boot-secret-value"}
	settings := func(context.Context) (config.Settings, error) {
		return config.ParseSettingsFor(config.IntegraPay, map[string]string{
			"integrapay_username": "user1", "integrapay_password": "pw-secret-value", "payment_method_card": "3",
		}, nil)
	}
	_, srv := newTestServer(t, Options{Deps: Deps{DB: db, Settings: settings}, Bootstrap: &boot, Version: "v9"})

	for _, p := range []string{"/healthz", "/integrapay/healthz"} {
		resp, err := http.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), `"ok":true`) {
			t.Fatalf("%s: %d %s", p, resp.StatusCode, b)
		}
	}
	db.Close()
	resp, err := http.Get(srv.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("closed database still healthy: %d", resp.StatusCode)
	}

	db2 := openDB(t)
	_, srv2 := newTestServer(t, Options{Deps: Deps{DB: db2, Settings: settings}, Bootstrap: &boot, Version: "v9"})
	resp, err = http.Get(srv2.URL + "/integrapay/status")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	page := string(b)
	for _, want := range []string{"<h1>Status</h1>", "integrapay_username", "user1", "splynx", "SPLYNXPAY_SPLYNX_URL", "&lt;redacted&gt;"} {
		if !strings.Contains(page, want) {
			t.Errorf("status page lacks %q", want)
		}
	}
	for _, secret := range []string{"pw-secret-value", "boot-secret-value"} {
		if strings.Contains(page, secret) {
			t.Errorf("status page shows secret %q", secret)
		}
	}
	if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Error("security headers missing")
	}
}

// Without the daemon's health check (the demo), health and status read the
// mirror's last pass from its cursor.
func TestDefaultHealthReadsLastPass(t *testing.T) {
	db := openDB(t)
	at := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	if err := db.CursorSet(context.Background(), nil, store.Cursor{Entity: "mirror", LastRun: at, LastFull: at}); err != nil {
		t.Fatal(err)
	}
	_, srv := newTestServer(t, Options{Deps: Deps{DB: db, Clock: clock.NewFake(at.Add(90 * time.Second))}})
	resp, err := http.Get(srv.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	var h Health
	json.NewDecoder(resp.Body).Decode(&h)
	resp.Body.Close()
	if !h.OK || !h.LastSync.Equal(at) || h.LastSyncAge != "1m30s" {
		t.Fatalf("health %+v", h)
	}
	resp, err = http.Get(srv.URL + "/integrapay/status")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), "Last pass 2026-11-02 09:00:00 UTC (1m30s ago)") {
		t.Fatalf("status page lacks the last pass:\n%s", b)
	}
}

func TestStylesheetIsServedAndPagesUseNoInlineStyle(t *testing.T) {
	_, srv := newTestServer(t, Options{})
	resp, err := http.Get(srv.URL + "/integrapay/static/site.css")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/css") || !strings.Contains(string(b), ".banner") {
		t.Fatalf("site.css: %d %q %.80s", resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}
	csp := resp.Header.Get("Content-Security-Policy")
	if strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "style-src 'self'") {
		t.Fatalf("CSP %q", csp)
	}
	for _, p := range []string{"/integrapay/static/nope.css", "/integrapay/static/", "/integrapay/static/..%2fserver.go"} {
		r, err := http.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		if r.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", p, r.StatusCode)
		}
	}
	r, err := http.Get(srv.URL + "/integrapay/healthz")
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	for _, n := range []string{"layout.html", "status.html", "charges.html"} {
		b, _ := templateFS.ReadFile("templates/" + n)
		if strings.Contains(string(b), "style=") || strings.Contains(string(b), "<style") || strings.Contains(string(b), "<script") {
			t.Errorf("%s has inline style or script, which the CSP blocks", n)
		}
	}
}

// A request outside the prefix (a browser's /favicon.ico) must not set a
// new CSRF cookie: it would replace the one the open form's token is for.
func TestCSRFCookieOnlyUnderThePrefix(t *testing.T) {
	_, srv := newTestServer(t, Options{})
	resp, err := http.Get(srv.URL + "/favicon.ico")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if len(resp.Cookies()) != 0 {
		t.Fatalf("/favicon.ico set %v", resp.Cookies())
	}
	resp, err = http.Get(srv.URL + "/integrapay/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if len(resp.Cookies()) != 1 || resp.Cookies()[0].Name != CSRFCookie {
		t.Fatalf("/integrapay/healthz set %v", resp.Cookies())
	}
}

// rawSQL opens a second connection to a store's file, for tests that look
// at rows directly (store keeps its own pool to itself).
func rawSQL(t testing.TB, db *store.DB) *sql.DB {
	t.Helper()
	raw, err := sql.Open("sqlite3", "file:"+db.Path()+"?_busy_timeout=10000")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	return raw
}

// mustPolicy maps test settings onto the engine's policy as the daemon does.
func mustPolicy(t testing.TB, set config.Settings) charge.Policy {
	t.Helper()
	p, err := wire.ChargePolicy(set)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
