// Package web serves the add-on's pages under its URL prefix (/integrapay,
// /ippay) behind the Splynx host's nginx: health, status, charges, and the
// customer portal and staff pages.
//
// # Adding a page set
//
// Every page set lives in its own file, web/<area>.go, and is registered
// explicitly — there is no init() registry. To add one:
//
//  1. In web/<area>.go write
//
//     func (s *Server) register<Area>() error
//
//     It takes the typed dependencies it needs from s.opts.Deps (s.Deps()):
//     DB, Splynx, Settings, Gateway, Charge, Clock, Log — checking the ones
//     it cannot work without — keeps them in its own struct (see chargePages
//     in charges.go), adds routes with s.Handle (wrapped in s.RequireAdmin
//     for staff pages; s.HandleExempt for self-authenticating POSTs) and
//     menu entries with s.AddNav.
//
//  2. Add one line for it to the list in registerPages below.
//
//  3. Put its templates in templates/<name>.html; each defines "content"
//     (and optionally "title") and is rendered inside layout.html by
//     s.Render.
//
// A dependency the daemon does not have yet becomes a new typed field of
// Deps, set in internal/daemon/run.go (and internal/demo/demo.go for the
// demo); never a map or an interface{} lookup.
package web

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"sort"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/splynx-pay/splynx-pay/gateways"
	"github.com/splynx-pay/splynx-pay/internal/clock"
	"github.com/splynx-pay/splynx-pay/internal/config"
	"github.com/splynx-pay/splynx-pay/internal/logging"
	"github.com/splynx-pay/splynx-pay/internal/money"
	"github.com/splynx-pay/splynx-pay/splynx"
	"github.com/splynx-pay/splynx-pay/store"
	"github.com/splynx-pay/splynx-pay/sync/charge"
)

//go:embed templates
var templateFS embed.FS

// Deps are what pages need from the daemon, each typed. A field may be
// nil (tests, a daemon without Splynx configured); pages that need it say
// so instead of serving.
type Deps struct {
	DB    *store.DB
	Log   *zap.Logger
	Clock clock.Clock // nil → the real clock
	// Splynx is the API client; the admin gate asks it who holds a session.
	Splynx *splynx.Client
	// Settings reads the module config (with env overrides) now.
	Settings func(ctx context.Context) (config.Settings, error)
	// Gateway builds the gateway client from the current settings.
	Gateway func(ctx context.Context) (gateways.Gateway, error)
	// Charge builds the charge engine from the current settings, the way
	// the daemon's CLI and jobs do. nil → built here from DB, Splynx,
	// Settings and Gateway (in UTC).
	Charge func(ctx context.Context) (*charge.Engine, error)
}

// Options configure a Server.
type Options struct {
	Addon   string // "splynx-integrapay"
	Prefix  string // "/integrapay"
	Version string
	Deps    Deps
	// CSRFKey signs CSRF tokens; empty → random per process (forms then
	// expire on restart, which is acceptable).
	CSRFKey []byte
	// Health reports whether the daemon is well; nil → database ping only.
	Health func(ctx context.Context) Health
	// Bootstrap is shown (redacted) on the status page.
	Bootstrap *config.Bootstrap
	// Demo serves simulated data on 127.0.0.1: the admin gate lets every
	// visitor through. Only internal/demo sets it.
	Demo bool
	// AdminTokenFile holds the admin token (SPLYNXPAY_ADMIN_TOKEN_FILE):
	// "Authorization: Bearer <token>" opens the staff pages and /metrics
	// (RequireAdmin). Empty: no token is accepted.
	AdminTokenFile string
}

// Health is the /healthz answer.
type Health struct {
	OK          bool      `json:"ok"`
	DB          string    `json:"db"`
	LastSync    time.Time `json:"last_sync,omitzero"`
	LastSyncAge string    `json:"last_sync_age,omitempty"`
	Problem     string    `json:"problem,omitempty"`
}

// NavItem is an entry of the page menu.
type NavItem struct {
	Title string
	Path  string // under the prefix, e.g. "/charges"
	Order int
}

// Server is the add-on's HTTP handler.
type Server struct {
	opts   Options
	log    *zap.Logger
	mux    *http.ServeMux
	csrf   *csrf
	layout *template.Template

	navTmpl *template.Template // the menu (fragments.go)
	frags   fragments

	mu     sync.Mutex
	pages  map[string]*template.Template
	nav    []NavItem
	exempt map[string]bool
	admins adminGate
	routes []string // every pattern given to Handle, for the gate's tests
}

// New builds the server and its pages (registerPages).
func New(opts Options) (*Server, error) {
	opts.Prefix = "/" + strings.Trim(opts.Prefix, "/")
	if opts.Prefix == "/" {
		opts.Prefix = ""
	}
	if opts.Deps.Clock == nil {
		opts.Deps.Clock = clock.Real{}
	}
	s := &Server{
		opts:   opts,
		log:    logging.Component(opts.Deps.Log, "web"),
		mux:    http.NewServeMux(),
		pages:  map[string]*template.Template{},
		exempt: map[string]bool{},
	}
	s.csrf = newCSRF(opts.CSRFKey, opts.Prefix+"/")
	s.csrf.exempt = func(r *http.Request) bool {
		s.mu.Lock()
		ex := s.exempt[r.URL.Path]
		s.mu.Unlock()
		// A browser never adds an Authorization header to a cross-site
		// form, so a POST carrying the admin token is no forgery.
		ok, _ := s.adminBearer(r)
		return ex || ok
	}
	s.navTmpl = template.Must(template.New("nav").Funcs(s.funcs()).Parse(navTmpl))
	var err error
	s.layout, err = template.New("layout.html").Funcs(s.funcs()).ParseFS(templateFS, "templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("web: parse layout: %w", err)
	}
	if err := s.parsePages(); err != nil {
		return nil, err
	}
	if err := s.registerPages(); err != nil {
		return nil, err
	}
	return s, nil
}

// registerPages registers every page set of the site, one line each; the
// menu order comes from each set's NavItem.Order, not from this list. To
// add pages, write web/<area>.go with a register<Area> method (see the
// package comment) and add its line here.
func (s *Server) registerPages() error {
	for _, p := range []struct {
		name     string
		register func() error
	}{
		{"static", s.registerStatic},            // static.go: <prefix>/static/ (site.css)
		{"status", s.registerStatus},            // status.go: /healthz, /status
		{"charges", s.registerCharges},          // charges.go: Charge, history, run detail, refunds
		{"portal", s.registerPortal},            // portal*.go, directpay*.go: customer pages, / (refill), direct-pay links, widget
		{"staff style", s.registerStaffStyle},   // staff.go: /admin/staff.css
		{"customer tab", s.registerCustomerTab}, // admin_customer.go: /admin/customer (pay, retry, refund, methods by phone)
		{"overview", s.registerOverview},        // overview.go: /admin, /admin/overview.csv
		{"audit", s.registerAudit},              // audit.go: /admin/audit, /admin/audit.csv
		{"metrics", s.registerMetrics},          // metrics.go: /metrics (Prometheus)
	} {
		if err := p.register(); err != nil {
			return fmt.Errorf("web: set up %s pages: %w", p.name, err)
		}
	}
	return nil
}

func (s *Server) parsePages() error {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return fmt.Errorf("web: list templates: %w", err)
	}
	for _, n := range names {
		base := path.Base(n)
		if base == "layout.html" {
			continue
		}
		t, err := template.Must(s.layout.Clone()).ParseFS(templateFS, n)
		if err != nil {
			return fmt.Errorf("web: parse %s: %w", base, err)
		}
		s.pages[base] = t
	}
	return nil
}

// Deps returns what the daemon gave the server.
func (s *Server) Deps() Deps { return s.opts.Deps }

// Prefix is the add-on's URL prefix ("/integrapay").
func (s *Server) Prefix() string { return s.opts.Prefix }

// Logger is the web component's logger.
func (s *Server) Logger() *zap.Logger { return s.log }

// Handle registers h for pattern under the prefix: "GET /charges" serves
// /integrapay/charges. Method-less patterns and wildcards work as in
// net/http.ServeMux.
func (s *Server) Handle(pattern string, h http.Handler) {
	method, p, ok := strings.Cut(pattern, " ")
	if !ok {
		method, p = "", pattern
	}
	full := s.opts.Prefix + p
	if method != "" {
		full = method + " " + full
	}
	s.mux.Handle(full, h)
	s.mu.Lock()
	s.routes = append(s.routes, full)
	s.mu.Unlock()
}

// HandleExempt is Handle for endpoints that authenticate every request
// themselves (signed Splynx webhooks) and so take POSTs without a CSRF
// token. p is an exact path under the prefix.
func (s *Server) HandleExempt(p string, h http.Handler) {
	s.mu.Lock()
	s.exempt[s.opts.Prefix+p] = true
	s.mu.Unlock()
	s.Handle(p, h)
}

// AddNav adds a menu entry.
func (s *Server) AddNav(n NavItem) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nav = append(s.nav, n)
	sort.SliceStable(s.nav, func(i, j int) bool { return s.nav[i].Order < s.nav[j].Order })
}

// Handler is the whole site with its middleware.
func (s *Server) Handler() http.Handler {
	return s.recover(securityHeaders(s.csrf.middleware(s.mux)))
}

// Page is what every template receives.
type Page struct {
	Title   string
	Addon   string
	Prefix  string
	Version string
	Nav     []NavItem
	Current string
	CSRF    string
	Now     time.Time
	Data    any
}

// Render executes templates/<page> inside the layout.
func (s *Server) Render(w http.ResponseWriter, r *http.Request, page, title string, data any) {
	t, ok := s.pages[page]
	if !ok {
		s.log.Error("unknown template", zap.String("page", page))
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	s.mu.Lock()
	nav := append([]NavItem(nil), s.nav...)
	s.mu.Unlock()
	p := Page{
		Title: title, Addon: s.opts.Addon, Prefix: s.opts.Prefix, Version: s.opts.Version,
		Nav: nav, Current: strings.TrimPrefix(r.URL.Path, s.opts.Prefix), CSRF: CSRFToken(r),
		Now: s.opts.Deps.Clock.Now(), Data: data,
	}
	var buf strings.Builder
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		s.log.Error("render page", zap.String("page", page), zap.Error(err))
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write([]byte(buf.String()))
}

// Error shows a neutral message; the detail goes to the log only, since
// it can name internals.
func (s *Server) Error(w http.ResponseWriter, r *http.Request, status int, public string, err error) {
	if err != nil {
		s.log.Warn("request failed", zap.String("path", r.URL.Path), zap.Int("status", status), zap.Error(err))
	}
	http.Error(w, public, status)
}

func (s *Server) funcs() template.FuncMap {
	return template.FuncMap{
		"money": func(cents int64) string { return money.Amount(cents).String() },
		"path":  func(p string) string { return s.opts.Prefix + p },
		// navlinks is the menu, rendered once per menu and current page.
		"navlinks": s.navLinks,
		"when": func(t time.Time) string {
			if t.IsZero() {
				return "never"
			}
			return t.Format("2006-01-02 15:04:05 MST")
		},
		"ago": func(t time.Time) string {
			if t.IsZero() {
				return "never"
			}
			return s.opts.Deps.Clock.Now().Sub(t).Round(time.Second).String() + " ago"
		},
		// scrub masks anything that looks like a card or account number, for
		// text that came from a gateway or Splynx.
		"scrub": logging.Scrub,
	}
}

func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		// Splynx shows add-on pages in its own modals, so framing by the
		// same site must work; anyone else may not frame them.
		// No inline style or script: the stylesheet is served from /static.
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'self'")
		h.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

func (s *Server) recover(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.Error("panic serving request", zap.String("path", r.URL.Path), zap.String("panic", fmt.Sprint(v)))
				http.Error(w, "internal error", http.StatusInternalServerError)
			}
		}()
		next.ServeHTTP(w, r)
	})
}

var errNoDB = errors.New("no database")
