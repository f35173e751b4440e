// Package web serves the add-on's pages under its URL prefix (/integrapay,
// /ippay) behind the Splynx host's nginx: health, status, and the pages
// other parts register (charges, payment links, portal pages).
//
// Pages registered from other files of this package (web/charges*.go) do
// so with RegisterPages in an init function; they get the Server, whose
// Deps give them the store, the settings and the gateway, and they add
// routes with Handle and menu entries with AddNav. Their templates live in
// templates/<name>.html, define "content" (and optionally "title"), and
// are rendered inside layout.html by Render.
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
	"github.com/splynx-pay/splynx-pay/store"
)

//go:embed templates
var templateFS embed.FS

// Deps are what pages need from the daemon.
type Deps struct {
	DB    *store.DB
	Log   *zap.Logger
	Clock clock.Clock
	// Settings reads the module config (with env overrides) now.
	Settings func(ctx context.Context) (config.Settings, error)
	// Gateway builds the gateway client from the current settings.
	Gateway func(ctx context.Context) (gateways.Gateway, error)
	// Services holds the daemon's other components by name ("splynx" →
	// *splynx.Client, "charge" → *charge.Engine), so pages in this package
	// can use them without web importing the daemon.
	Services map[string]any
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

	mu     sync.Mutex
	pages  map[string]*template.Template
	nav    []NavItem
	exempt map[string]bool
	admins adminGate
}

var pageSetups []func(*Server) error

// RegisterPages adds a page set up when each Server is built. Call it from
// an init function in this package.
func RegisterPages(setup func(*Server) error) { pageSetups = append(pageSetups, setup) }

// New builds the server and its registered pages.
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
		defer s.mu.Unlock()
		return s.exempt[r.URL.Path]
	}
	var err error
	s.layout, err = template.New("layout.html").Funcs(s.funcs()).ParseFS(templateFS, "templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("web: parse layout: %w", err)
	}
	if err := s.parsePages(); err != nil {
		return nil, err
	}
	if s.opts.Prefix != "" {
		// Local checks (systemd, doctor) hit the daemon directly, without
		// nginx's prefix.
		s.mux.HandleFunc("GET /healthz", s.healthz)
	}
	s.Handle("GET /healthz", http.HandlerFunc(s.healthz))
	s.setupStatic()
	s.Handle("GET /status", s.RequireAdmin(http.HandlerFunc(s.status)))
	// GET /{$} is the customers' balance refill (portal.go), which sends
	// administrators on to /status.
	s.AddNav(NavItem{Title: "Status", Path: "/status", Order: 0})
	for _, setup := range pageSetups {
		if err := setup(s); err != nil {
			return nil, fmt.Errorf("web: set up pages: %w", err)
		}
	}
	return s, nil
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
