package web

// Customer payment pages (issue 13): who the visitor is, our own session,
// rendering in the portal's look, and the one accessor to the daemon's
// components. The pages themselves are in portal_methods.go (payment
// credentials), portal_pay.go (invoices, pay, results, balance refill,
// widget) and directpay.go (links without login).
//
// Who is the visitor: the Splynx portal's session cookie (the pages are
// served on the Splynx host under the add-on's prefix, so the browser sends
// it) is exchanged with Splynx (auth_type session) for the customer id;
// without it, or when Splynx does not accept it, our login form checks the
// portal login and password (auth_type customer). Either way the visitor
// then holds our own session: a random id in an HttpOnly, SameSite=Lax
// cookie (Secure behind TLS), kept hashed in SQLite with an idle timeout.
// Every handler takes the customer id from that session, never from the
// request, and checks that what it touches belongs to that customer.

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"
	"golang.org/x/time/rate"

	"github.com/splynx-pay/splynx-pay/gateways"
	"github.com/splynx-pay/splynx-pay/internal/config"
	"github.com/splynx-pay/splynx-pay/splynx"
	"github.com/splynx-pay/splynx-pay/store"
	"github.com/splynx-pay/splynx-pay/sync/charge"
)

// PortalCookie holds our own customer session id.
const PortalCookie = "splynxpay_sid"

// Defaults where the settings leave a value zero (tests build Settings by hand).
const (
	defaultPortalCookie = "PHPSESSID"
	defaultIdle         = 30 * time.Minute
	// sessionTouchEvery: an active session's last_seen is written at most this often.
	sessionTouchEvery = time.Minute
	defaultRatePerMin = 30
)

// portal is the customer page set.
type portal struct {
	s     *Server
	pages map[string]*template.Template

	limMu    sync.Mutex
	limiters map[string]*ipLimit

	docs docCache // what pay pages show of documents (portal_docs.go)

	frags  fragments          // expiry options and blank forms (portal_methods.go)
	fields *template.Template // base.html alone: the card and bank form fields

	namesMu sync.Mutex
	names   map[int64]seenName // the menu's customer names, for nameTTL

	// The backend (settings read from Splynx, gateway, engine) is reused
	// for backendTTL: reading the module config on every page view would
	// add two Splynx round trips to each. An older one keeps serving while
	// a new one is built in the background (no page view waits for Splynx
	// for it), up to backendMaxAge; a failed rebuild is tried again
	// backendRetry later.
	beMu     sync.Mutex
	be       *backend
	beAt     time.Time // when be was built
	beTried  time.Time // when the last background rebuild started
	beUpdate bool      // a background rebuild is under way
}

const (
	backendTTL    = 30 * time.Second
	backendMaxAge = 5 * time.Minute
	backendRetry  = 5 * time.Second
)

type ipLimit struct {
	lim  *rate.Limiter
	seen time.Time
}

// registerPortal registers the customer pages.
func (s *Server) registerPortal() error {
	p := &portal{s: s, pages: map[string]*template.Template{}, limiters: map[string]*ipLimit{}}
	if err := p.parse(); err != nil {
		return err
	}
	// The prefix root is the balance refill for a customer; administrators
	// arriving there are sent to the status page as before.
	s.Handle("GET /{$}", p.customer(p.refillPage))
	s.Handle("POST /{$}", p.customer(p.refill))
	s.Handle("GET /login", http.HandlerFunc(p.loginPage))
	s.Handle("POST /login", http.HandlerFunc(p.login))
	s.Handle("POST /logout", http.HandlerFunc(p.logout))
	s.Handle("GET /methods", p.customer(p.methodsPage))
	s.Handle("POST /methods/card", p.customer(p.addCard))
	s.Handle("POST /methods/bank", p.customer(p.addBank))
	s.Handle("POST /methods/{id}/remove", p.customer(p.removeMethod))
	s.Handle("GET /invoices", p.customer(p.invoicesPage))
	s.Handle("GET /pay/{kind}/{id}", p.customer(p.payPage))
	s.Handle("POST /pay/{kind}/{id}", p.customer(p.pay))
	s.Handle("GET /payments/{id}", p.customer(p.resultPage))
	s.Handle("GET /widget", http.HandlerFunc(p.widget))
	s.Handle("POST /methods/hosted/bank", p.customer(p.addBankHosted))
	s.Handle("GET /hosted/return", http.HandlerFunc(p.hostedReturn))
	p.setupDirect()
	return nil
}

// parse builds each portal page from layout.html, portal/base.html and
// the page's own file.
func (p *portal) parse() error {
	names, err := fs.Glob(templateFS, "templates/portal/*.html")
	if err != nil {
		return fmt.Errorf("web: list portal templates: %w", err)
	}
	for _, n := range names {
		base := path.Base(n)
		if base == "base.html" {
			continue
		}
		t, err := template.Must(p.s.layout.Clone()).Funcs(p.funcs()).ParseFS(templateFS, "templates/portal/base.html", n)
		if err != nil {
			return fmt.Errorf("web: parse portal/%s: %w", base, err)
		}
		p.pages[base] = t
	}
	// The card and bank form fields on their own, for formFields.
	if p.fields, err = template.Must(p.s.layout.Clone()).Funcs(p.funcs()).ParseFS(templateFS, "templates/portal/base.html"); err != nil {
		return fmt.Errorf("web: parse portal/base.html: %w", err)
	}
	return nil
}

func (p *portal) funcs() template.FuncMap {
	return template.FuncMap{
		"list": func(v ...string) []string { return v },
		"add":  func(a, b int) int { return a + b },
		// options renders a select's options once per list and choice.
		"options": p.options,
		// formfields renders a blank card or bank form once.
		"formfields": p.formFields,
	}
}

// backend is what the customer pages use of the daemon.
type backend struct {
	db  *store.DB
	sp  *splynx.Client
	set config.Settings
	gw  gateways.Gateway
	en  *charge.Engine
}

// backend is the one accessor of the page set to the daemon's components:
// the database, the Splynx client, the settings and the charge engine.
func (p *portal) backend(ctx context.Context) (*backend, error) {
	p.beMu.Lock()
	defer p.beMu.Unlock()
	age := time.Since(p.beAt)
	switch {
	case p.be != nil && age < backendTTL:
		return p.be, nil
	case p.be != nil && age < backendMaxAge:
		if !p.beUpdate && time.Since(p.beTried) >= backendRetry {
			p.beUpdate, p.beTried = true, time.Now()
			go p.rebuildBackend(context.WithoutCancel(ctx))
		}
		return p.be, nil
	}
	b, err := p.newBackend(splynx.Interactive(ctx))
	if err != nil {
		return nil, err
	}
	p.be, p.beAt = b, time.Now()
	return b, nil
}

// rebuildBackend replaces the backend in the background.
func (p *portal) rebuildBackend(ctx context.Context) {
	ctx, cancel := context.WithTimeout(splynx.Interactive(ctx), time.Minute)
	defer cancel()
	b, err := p.newBackend(ctx)
	p.beMu.Lock()
	defer p.beMu.Unlock()
	p.beUpdate = false
	if err != nil {
		p.s.Logger().Warn("portal: reload settings (the previous ones stay in use)", zap.Error(err))
		return
	}
	p.be, p.beAt = b, time.Now()
}

func (p *portal) newBackend(ctx context.Context) (*backend, error) {
	d := p.s.Deps()
	sp := d.Splynx
	if d.DB == nil || sp == nil || d.Settings == nil || d.Gateway == nil {
		return nil, errors.New("portal: database, Splynx client, settings or gateway missing")
	}
	set, err := d.Settings(ctx)
	if err != nil {
		return nil, fmt.Errorf("portal: settings: %w", err)
	}
	gw, err := d.Gateway(ctx)
	if err != nil {
		return nil, fmt.Errorf("portal: gateway: %w", err)
	}
	ctor := d.Charge
	if ctor == nil {
		ctor = engineFrom(d)
	}
	en, err := ctor(ctx)
	if err != nil {
		return nil, fmt.Errorf("portal: charge engine: %w", err)
	}
	return &backend{db: d.DB, sp: sp, set: set, gw: gw, en: en}, nil
}

// need is backend for a handler: false (and the page said so) when the
// daemon cannot serve payments now.
func (p *portal) need(w http.ResponseWriter, r *http.Request) (*backend, bool) {
	b, err := p.backend(r.Context())
	if err != nil {
		p.fail(w, r, http.StatusServiceUnavailable, "Payments are not available right now. Please try again later.", err)
		return nil, false
	}
	return b, true
}

// kind says which add-on serves the pages.
func (p *portal) kind(set config.Settings) config.Addon {
	switch {
	case set.Addon != "":
		return set.Addon
	case strings.Contains(p.s.Prefix(), "ippay") || set.Currency == "USD":
		return config.IPpay
	}
	return config.IntegraPay
}

func (p *portal) now() time.Time { return p.s.Deps().Clock.Now() }

// visitor is the customer behind a request.
type visitor struct {
	CustomerID int64
	Name       string
	Via        string
	sid        string
}

type visitorKey struct{}

func visitorOf(r *http.Request) visitor {
	v, _ := r.Context().Value(visitorKey{}).(visitor)
	return v
}

// customer runs h for an identified customer; anyone else gets the login
// form (an administrator at the prefix root: the status page).
func (p *portal) customer(h func(w http.ResponseWriter, r *http.Request, b *backend, v visitor)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, ok := p.need(w, r)
		if !ok {
			return
		}
		v, admin, err := p.identify(w, r, b)
		if err != nil {
			p.s.Logger().Warn("portal: identify visitor", zap.Error(err))
		}
		if v.CustomerID == 0 {
			if admin && r.URL.Path == p.s.Prefix()+"/" {
				http.Redirect(w, r, p.s.Prefix()+"/status", http.StatusSeeOther)
				return
			}
			if r.Method != http.MethodGet {
				p.fail(w, r, http.StatusUnauthorized, "Your session has ended. Please log in again.", nil)
				return
			}
			http.Redirect(w, r, p.s.Prefix()+"/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		v.Name = p.customerName(r.Context(), b, v.CustomerID)
		p.allowHostedForms(w, b)
		h(w, r.WithContext(context.WithValue(r.Context(), visitorKey{}, v)), b, v)
	})
}

type seenName struct {
	name string
	at   time.Time
}

// nameTTL: a customer's name in the page menu is read from the mirror at
// most this often (one query less on every page view).
const nameTTL = time.Minute

// customerName is the customer's name as the mirror has it ("" if not).
func (p *portal) customerName(ctx context.Context, b *backend, id int64) string {
	now := time.Now()
	p.namesMu.Lock()
	n, ok := p.names[id]
	p.namesMu.Unlock()
	if ok && now.Sub(n.at) < nameTTL {
		return n.name
	}
	c, err := b.db.GetCustomer(ctx, id)
	if err != nil {
		return ""
	}
	p.namesMu.Lock()
	if p.names == nil || len(p.names) >= 10000 {
		p.names = map[int64]seenName{}
	}
	p.names[id] = seenName{c.Name, now}
	p.namesMu.Unlock()
	return c.Name
}

// identify finds the customer: our session first, then the Splynx portal
// session. admin reports a Splynx administrator's session.
func (p *portal) identify(w http.ResponseWriter, r *http.Request, b *backend) (v visitor, admin bool, err error) {
	ctx := r.Context()
	now := p.now()
	idle := time.Duration(b.set.PortalIdleMinutes) * time.Minute
	if idle <= 0 {
		idle = defaultIdle
	}
	var splynxSID string
	if ck, err := r.Cookie(portalCookieName(b.set)); err == nil {
		splynxSID = ck.Value
	}
	if ck, err := r.Cookie(PortalCookie); err == nil && ck.Value != "" {
		s, err := b.db.PortalSessionByID(ctx, ck.Value, idle, sessionTouchEvery, now)
		switch {
		case err == nil && splynxSID != "" && s.Origin != originTag(splynxSID):
			// The browser's Splynx portal session is not the one our session
			// was made with (another portal login in this browser, or a
			// session id planted in it): ask Splynx again.
			_ = b.db.DeletePortalSession(ctx, ck.Value)
		case err == nil:
			return visitor{CustomerID: s.CustomerID, Via: s.Via, sid: ck.Value}, false, nil
		case !errors.Is(err, store.ErrNotFound):
			return v, false, err
		}
	}
	if splynxSID == "" {
		return v, false, nil
	}
	lctx, cancel := context.WithTimeout(splynx.Interactive(ctx), 15*time.Second)
	defer cancel()
	who, err := b.sp.LoginSession(lctx, splynxSID)
	if err != nil {
		return v, false, fmt.Errorf("splynx session exchange: %w", err)
	}
	// No Logout here: whether revoking this token also ends the visitor's
	// portal session is not known (specs/splynx-api.md §2.2), and the
	// token expires by itself (30 minutes).
	id := who.Identity()
	if id.CustomerID == 0 {
		return v, id.AdminID != 0, nil
	}
	sid, err := p.startSession(w, r, b, id.CustomerID, "splynx", originTag(splynxSID))
	if err != nil {
		return v, false, err
	}
	return visitor{CustomerID: id.CustomerID, Via: "splynx", sid: sid}, false, nil
}

// portalCookieName is the Splynx portal's session cookie.
func portalCookieName(set config.Settings) string {
	if set.PortalSessionCookie == "" {
		return defaultPortalCookie
	}
	return set.PortalSessionCookie
}

// originTag ties a session made from a Splynx portal session to it (a
// hash, never the Splynx session id itself).
func originTag(splynxSID string) string {
	h := sha256.Sum256([]byte("splynx-session:" + splynxSID))
	return "splynx:" + hex.EncodeToString(h[:8])
}

// startSession creates our session for the customer and sets its cookie.
// origin is originTag of the Splynx portal session it came from, if any.
func (p *portal) startSession(w http.ResponseWriter, r *http.Request, b *backend, customerID int64, via, origin string) (string, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	sid := base64.RawURLEncoding.EncodeToString(raw)
	if err := b.db.CreatePortalSession(context.WithoutCancel(r.Context()), sid, store.PortalSession{CustomerID: customerID, Via: via,
		IP: clientIP(r), Origin: origin}, p.now()); err != nil {
		return "", err
	}
	// Sessions idle past the timeout are cleared as new ones start.
	idle := time.Duration(b.set.PortalIdleMinutes) * time.Minute
	if idle <= 0 {
		idle = defaultIdle
	}
	if n, err := b.db.PurgePortalSessions(context.WithoutCancel(r.Context()), p.now().Add(-idle)); err != nil {
		p.s.Logger().Warn("portal: purge idle sessions", zap.Error(err))
	} else if n > 0 {
		p.s.Logger().Info("portal: idle sessions purged", zap.Int64("sessions", n))
	}
	http.SetCookie(w, &http.Cookie{Name: PortalCookie, Value: sid, Path: p.s.Prefix() + "/", HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: isHTTPS(r)})
	p.s.Logger().Info("portal session started", zap.Int64("customer_id", customerID), zap.String("via", via), zap.String("ip", clientIP(r)))
	return sid, nil
}

// clientIP is the visitor's address: nginx on the same host passes it in
// X-Real-IP / X-Forwarded-For; from anywhere else those headers are not
// trusted.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		if v := strings.TrimSpace(r.Header.Get("X-Real-IP")); net.ParseIP(v) != nil {
			return v
		}
		if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
			parts := strings.Split(xff, ",")
			if v := strings.TrimSpace(parts[len(parts)-1]); net.ParseIP(v) != nil {
				return v
			}
		}
	}
	return host
}

// allow applies the per-IP rate limit of the pages open without a session
// (direct links, the login form).
func (p *portal) allow(w http.ResponseWriter, r *http.Request, perMinute int) bool {
	if perMinute <= 0 {
		perMinute = defaultRatePerMin
	}
	ip := clientIP(r)
	now := time.Now()
	p.limMu.Lock()
	l, ok := p.limiters[ip]
	if !ok || l.lim.Burst() != perMinute {
		l = &ipLimit{lim: rate.NewLimiter(rate.Every(time.Minute/time.Duration(perMinute)), perMinute)}
		p.limiters[ip] = l
	}
	l.seen = now
	if len(p.limiters) > 10000 {
		for k, o := range p.limiters {
			if now.Sub(o.seen) > 10*time.Minute {
				delete(p.limiters, k)
			}
		}
	}
	ok = l.lim.AllowN(now, 1)
	p.limMu.Unlock()
	if !ok {
		p.s.Logger().Warn("portal: rate limited", zap.String("ip", ip), zap.String("path", r.URL.Path))
		w.Header().Set("Retry-After", "60")
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusTooManyRequests)
		fmt.Fprintln(w, "Too many requests from your address. Please wait a minute and try again.")
		return false
	}
	return true
}

// nav is the customer menu.
var portalNav = []NavItem{
	{Title: "Make a payment", Path: "/invoices"},
	{Title: "Payment method", Path: "/methods"},
	{Title: "Top up balance", Path: "/"},
}

// portalPage is what portal templates get as .Data's envelope.
type portalPage struct {
	Visitor visitor
	Gateway string // "IntegraPay", "IPpay"
	Kind    string // integrapay | ippay
	Refresh int    // seconds; 0 = no refresh
	Body    any
}

// render shows a portal page with the customer menu.
func (p *portal) render(w http.ResponseWriter, r *http.Request, status int, page, title string, pp portalPage) {
	t, ok := p.pages[page]
	if !ok {
		p.s.Logger().Error("unknown portal template", zap.String("page", page))
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if pp.Visitor.CustomerID == 0 {
		pp.Visitor = visitorOf(r)
	}
	addon := "Payments"
	if pp.Gateway != "" {
		addon = "Payments · " + pp.Gateway
	}
	nav := portalNav
	if pp.Visitor.CustomerID == 0 {
		nav = nil
	}
	pg := Page{Title: title, Addon: addon, Prefix: p.s.Prefix(), Version: p.s.opts.Version, Nav: nav,
		Current: strings.TrimPrefix(r.URL.Path, p.s.Prefix()), CSRF: CSRFToken(r), Now: p.now(), Data: pp}
	if pg.Current == "" {
		pg.Current = "/"
	}
	buf := pageBufs.Get().(*bytes.Buffer)
	defer func() { buf.Reset(); pageBufs.Put(buf) }()
	if err := t.ExecuteTemplate(buf, "layout", pg); err != nil {
		p.s.Logger().Error("render portal page", zap.String("page", page), zap.Error(err))
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// pageBufs are the buffers pages are rendered into (a page is written
// only once it rendered whole).
var pageBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// fail shows a plain message page; err (internal detail) goes to the log.
func (p *portal) fail(w http.ResponseWriter, r *http.Request, status int, msg string, err error) {
	if err != nil {
		p.s.Logger().Warn("portal request failed", zap.String("path", r.URL.Path), zap.Int("status", status),
			zap.Int64("customer_id", visitorOf(r).CustomerID), zap.Error(err))
	}
	p.render(w, r, status, "message.html", "Payments", portalPage{Body: msg})
}

// gatewayName is the gateway's display name for headings.
func (b *backend) gatewayName() string { return b.gw.Name() }

type loginData struct {
	Next, Login, Error string
}

// safeNext keeps a post-login redirect on our own pages.
func (p *portal) safeNext(next string) string {
	u, err := url.Parse(next)
	if err != nil || u.IsAbs() || u.Host != "" || !strings.HasPrefix(u.Path, p.s.Prefix()+"/") || strings.Contains(u.Path, "//") {
		return p.s.Prefix() + "/invoices"
	}
	return u.RequestURI()
}

func (p *portal) loginPage(w http.ResponseWriter, r *http.Request) {
	b, ok := p.need(w, r)
	if !ok {
		return
	}
	next := p.safeNext(r.URL.Query().Get("next"))
	// Opened from the Splynx portal: the portal session is enough.
	if v, _, _ := p.identify(w, r, b); v.CustomerID != 0 {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	p.render(w, r, http.StatusOK, "login.html", "Log in", portalPage{Gateway: b.gatewayName(), Body: loginData{Next: next}})
}

func (p *portal) login(w http.ResponseWriter, r *http.Request) {
	b, ok := p.need(w, r)
	if !ok {
		return
	}
	if !p.allow(w, r, b.set.DirectPayRateLimit) {
		return
	}
	d := loginData{Next: p.safeNext(r.PostFormValue("next")), Login: strings.TrimSpace(r.PostFormValue("login"))}
	password := r.PostFormValue("password")
	if d.Login == "" || password == "" {
		d.Error = "Enter your portal login and password."
		p.render(w, r, http.StatusBadRequest, "login.html", "Log in", portalPage{Gateway: b.gatewayName(), Body: d})
		return
	}
	ctx, cancel := context.WithTimeout(splynx.Interactive(r.Context()), 15*time.Second)
	defer cancel()
	who, err := b.sp.LoginCustomer(ctx, d.Login, password)
	var id splynx.Identity
	if err == nil {
		id = who.Identity()
		_ = who.Logout(ctx)
	}
	if err != nil || id.CustomerID == 0 {
		if err != nil && !splynx.IsUnauthorized(err) {
			p.s.Logger().Warn("portal: customer login", zap.Error(err))
			d.Error = "We could not check your login right now. Please try again in a few minutes."
		} else {
			d.Error = "The login or password is not right."
		}
		p.render(w, r, http.StatusUnauthorized, "login.html", "Log in", portalPage{Gateway: b.gatewayName(), Body: d})
		return
	}
	// A session id the browser held before the login (planted by someone
	// else, or the visitor's own earlier one) ends here: the login always
	// gets a fresh id, so a fixed id never becomes a logged-in one.
	if ck, err := r.Cookie(PortalCookie); err == nil && ck.Value != "" {
		if err := b.db.DeletePortalSession(context.WithoutCancel(r.Context()), ck.Value); err != nil {
			p.s.Logger().Warn("portal: end the session held before login", zap.Error(err))
		}
	}
	// The session remembers the Splynx portal cookie it was made beside, so
	// that a different portal login in this browser later is noticed.
	origin := ""
	if ck, err := r.Cookie(portalCookieName(b.set)); err == nil && ck.Value != "" {
		origin = originTag(ck.Value)
	}
	if _, err := p.startSession(w, r, b, id.CustomerID, "login", origin); err != nil {
		p.fail(w, r, http.StatusInternalServerError, "Something went wrong. Please try again.", err)
		return
	}
	http.Redirect(w, r, d.Next, http.StatusSeeOther)
}

func (p *portal) logout(w http.ResponseWriter, r *http.Request) {
	if ck, err := r.Cookie(PortalCookie); err == nil && ck.Value != "" {
		if db := p.s.Deps().DB; db != nil {
			_ = db.DeletePortalSession(r.Context(), ck.Value)
		}
	}
	http.SetCookie(w, &http.Cookie{Name: PortalCookie, Value: "", Path: p.s.Prefix() + "/", MaxAge: -1, HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: isHTTPS(r)})
	p.render(w, r, http.StatusOK, "message.html", "Logged out", portalPage{Visitor: visitor{}, Body: "You are logged out of the payment pages."})
}
