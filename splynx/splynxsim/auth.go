package splynxsim

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Permission grants an API key actions on one API controller, as Splynx's
// Administration → API keys → Permissions does. Actions are index, view,
// add, update, delete; none listed means all of them.
type Permission struct {
	Controller string
	Actions    []string
}

type apiKey struct {
	basic     bool // "Unsecure access": Basic auth allowed
	secret    string
	perms     []Permission // nil: everything
	lastNonce int64
	used      bool
}

type adminAccount struct {
	id       int64
	password string
	code2FA  string
}

type customerLogin struct {
	id       int64
	password string
}

type session struct {
	kind string // admin | customer
	id   int64
}

// principal is who a request acts as.
type principal struct {
	kind  string // api_key | admin | customer
	key   string
	id    int64
	perms []Permission
}

type token struct {
	access, refresh   string
	accessExp, refExp time.Time
	who               principal
	userAgent         string
}

type authState struct {
	mu        sync.Mutex
	keys      map[string]*apiKey
	admins    map[string]*adminAccount
	nextAdmin int64
	customers map[string]customerLogin
	sessions  map[string]session
	access    map[string]*token
	refresh   map[string]*token
}

func (a *authState) init() {
	a.keys = map[string]*apiKey{}
	a.admins = map[string]*adminAccount{}
	a.customers = map[string]customerLogin{}
	a.sessions = map[string]session{}
	a.access = map[string]*token{}
	a.refresh = map[string]*token{}
}

// AddAPIKey registers an API key. With no permissions the key may do
// everything; otherwise a call outside them is a 403.
func (s *Sim) AddAPIKey(key, secret string, perms ...Permission) {
	s.auth.mu.Lock()
	defer s.auth.mu.Unlock()
	k := &apiKey{secret: secret}
	if len(perms) > 0 {
		k.perms = append([]Permission(nil), perms...)
	}
	s.auth.keys[key] = k
}

// AllowBasicAuth ticks "Unsecure access" on an API key, so that
// `Authorization: Basic base64(key:secret)` works for it (spec §2.3).
func (s *Sim) AllowBasicAuth(key string) {
	s.auth.mu.Lock()
	defer s.auth.mu.Unlock()
	if k, ok := s.auth.keys[key]; ok {
		k.basic = true
	}
}

// AddAdmin registers an administrator; a non-empty twoFACode turns on 2FA
// (the token request must carry it as "code"). Returns the admin id.
func (s *Sim) AddAdmin(login, password, twoFACode string) int64 {
	s.auth.mu.Lock()
	defer s.auth.mu.Unlock()
	s.auth.nextAdmin++
	s.auth.admins[login] = &adminAccount{id: s.auth.nextAdmin, password: password, code2FA: twoFACode}
	return s.auth.nextAdmin
}

// SetCustomerPassword lets a customer log in (auth_type customer) with
// login and password.
func (s *Sim) SetCustomerPassword(customerID int64, login, password string) {
	s.auth.mu.Lock()
	defer s.auth.mu.Unlock()
	for l, c := range s.auth.customers {
		if c.id == customerID {
			delete(s.auth.customers, l)
		}
	}
	s.auth.customers[login] = customerLogin{id: customerID, password: password}
}

// NewSession creates a Splynx PHP session for an admin or customer id and
// returns its id, for auth_type session.
func (s *Sim) NewSession(kind string, id int64) string {
	sid := randomHex(16)
	s.auth.mu.Lock()
	defer s.auth.mu.Unlock()
	s.auth.sessions[sid] = session{kind: kind, id: id}
	return sid
}

// ExpireTokens makes every issued access token expired now (refresh tokens
// stay valid), for tests of mid-listing expiry without moving the clock.
func (s *Sim) ExpireTokens() {
	s.auth.mu.Lock()
	defer s.auth.mu.Unlock()
	now := s.now()
	for _, t := range s.auth.access {
		t.accessExp = now
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Sign computes the Splynx-EA signature: uppercase hex of
// HMAC-SHA256(secret, nonce+key). Exported for tests and tools that talk
// to the simulator without the client.
func Sign(key, secret string, nonce int64) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(strconv.FormatInt(nonce, 10) + key))
	return strings.ToUpper(hex.EncodeToString(m.Sum(nil)))
}

// parseEA reads the parameters of `Splynx-EA (k=v&k=v)`.
func parseEA(h string) (url.Values, bool) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(h), "Splynx-EA")
	if !ok {
		return nil, false
	}
	rest = strings.TrimSpace(rest)
	rest = strings.TrimPrefix(rest, "(")
	rest = strings.TrimSuffix(rest, ")")
	v, err := url.ParseQuery(rest)
	if err != nil {
		return nil, false
	}
	return v, true
}

func describeAuth(h string) (scheme, key string, nonce int64) {
	if h == "" {
		return "none", "", 0
	}
	if strings.HasPrefix(h, "Basic ") {
		return "basic", "", 0
	}
	v, ok := parseEA(h)
	if !ok {
		return "other", "", 0
	}
	if v.Has("access_token") {
		return "token", "", 0
	}
	n, _ := strconv.ParseInt(v.Get("nonce"), 10, 64)
	return "signature", v.Get("key"), n
}

// checkSignature verifies a signature and consumes the nonce: it must be
// larger than the last one accepted for the key (a repeated or smaller nonce
// is rejected, which is what the spec infers Splynx does).
func (s *Sim) checkSignature(key, nonceStr, sig string) (principal, string, string) {
	nonce, err := strconv.ParseInt(strings.TrimSpace(nonceStr), 10, 64)
	if err != nil || key == "" || sig == "" {
		return principal{}, "UNAUTHORIZED", "Invalid authorization parameters"
	}
	s.auth.mu.Lock()
	defer s.auth.mu.Unlock()
	k, ok := s.auth.keys[key]
	if !ok || !hmac.Equal([]byte(Sign(key, k.secret, nonce)), []byte(sig)) {
		return principal{}, "UNAUTHORIZED", "Invalid signature"
	}
	if k.used && nonce <= k.lastNonce {
		return principal{}, "UNAUTHORIZED", "Nonce is too small"
	}
	k.used, k.lastNonce = true, nonce
	return principal{kind: "api_key", key: key, perms: k.perms}, "", ""
}

func (s *Sim) authenticate(c *rctx) bool {
	h := c.r.Header.Get("Authorization")
	if h == "" {
		c.fail(http.StatusUnauthorized, "MISSED_AUTHORIZATION_HEADER", "Authorization header is missing")
		return false
	}
	if user, pass, ok := c.r.BasicAuth(); ok {
		s.auth.mu.Lock()
		k, found := s.auth.keys[user]
		good := found && k.basic && hmac.Equal([]byte(k.secret), []byte(pass))
		var perms []Permission
		if good {
			perms = k.perms
		}
		s.auth.mu.Unlock()
		if !good {
			c.fail(http.StatusUnauthorized, "UNAUTHORIZED", "Basic authorization is not allowed for this key")
			return false
		}
		c.who = &principal{kind: "api_key", key: user, perms: perms}
		return true
	}
	v, ok := parseEA(h)
	if !ok {
		c.fail(http.StatusUnauthorized, "UNAUTHORIZED", "Unsupported authorization scheme")
		return false
	}
	if v.Has("access_token") {
		at := v.Get("access_token")
		if at == "" {
			c.fail(http.StatusUnauthorized, "EMPTY_ACCESS_TOKEN", "Access token is empty")
			return false
		}
		s.auth.mu.Lock()
		t, ok := s.auth.access[at]
		var who principal
		var expired bool
		if ok {
			who, expired = t.who, !s.now().Before(t.accessExp)
		}
		s.auth.mu.Unlock()
		switch {
		case !ok:
			c.fail(http.StatusUnauthorized, "UNAUTHORIZED", "Access token is invalid")
			return false
		case expired:
			c.fail(http.StatusUnauthorized, "EXPIRED_ACCESS_TOKEN", "Access token is expired")
			return false
		}
		c.who = &who
		return true
	}
	who, code, msg := s.checkSignature(v.Get("key"), v.Get("nonce"), v.Get("signature"))
	if code != "" {
		c.fail(http.StatusUnauthorized, code, msg)
		return false
	}
	c.who = &who
	return true
}

func (c *rctx) action() string {
	switch c.method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		if c.rest != "" || (c.route.prefix == "admin/customers/customer-payment-accounts" && strings.Contains(c.query, "id=")) {
			return "view"
		}
		return "index"
	case http.MethodPost:
		return "add"
	case http.MethodPut, http.MethodPatch:
		return "update"
	case http.MethodDelete:
		return "delete"
	}
	return c.method
}

func (s *Sim) authorize(c *rctx) bool {
	who := c.who
	switch who.kind {
	case "admin":
		return true
	case "customer":
		// A customer token reaches only the customer's own record; the
		// portal API is out of scope.
		if c.route.prefix == "admin/customers/customer" && (c.method == http.MethodGet) && c.rest == strconv.FormatInt(who.id, 10) {
			return true
		}
		c.fail(http.StatusForbidden, "FORBIDDEN", "Access denied for customer")
		return false
	}
	if who.perms == nil {
		return true
	}
	act := c.action()
	for _, p := range who.perms {
		if p.Controller != c.route.controller {
			continue
		}
		if len(p.Actions) == 0 {
			return true
		}
		for _, a := range p.Actions {
			if a == act {
				return true
			}
		}
	}
	c.fail(http.StatusForbidden, "FORBIDDEN", "You are not allowed to "+act+" "+c.route.controller)
	return false
}

// hTokens serves admin/auth/tokens: POST logs in, GET /<refresh> renews,
// DELETE /<refresh> logs out.
func (s *Sim) hTokens(c *rctx) {
	switch {
	case c.method == http.MethodPost && c.rest == "":
		s.login(c)
	case c.method == http.MethodGet && c.rest != "":
		s.renew(c)
	case c.method == http.MethodDelete && c.rest != "":
		s.auth.mu.Lock()
		t, ok := s.auth.refresh[c.rest]
		if ok {
			delete(s.auth.refresh, t.refresh)
			delete(s.auth.access, t.access)
		}
		s.auth.mu.Unlock()
		if !ok {
			c.notFound()
			return
		}
		c.noContent()
	default:
		c.methodNotAllowed()
	}
}

func (s *Sim) login(c *rctx) {
	b, ok := c.decode()
	if !ok {
		return
	}
	var who principal
	switch b.str("auth_type") {
	case "api_key":
		var code, msg string
		who, code, msg = s.checkSignature(b.str("key"), b.str("nonce"), b.str("signature"))
		if code != "" {
			c.fail(http.StatusUnauthorized, code, msg)
			return
		}
	case "admin":
		s.auth.mu.Lock()
		a, ok := s.auth.admins[b.str("login")]
		s.auth.mu.Unlock()
		if !ok || a.password != b.str("password") {
			c.fail(http.StatusUnauthorized, "INVALID_USER", "Invalid login or password")
			return
		}
		if a.code2FA != "" {
			switch code := b.str("code"); {
			case code == "":
				c.fail(http.StatusUnauthorized, "MISSED_TWO_FACTOR_CODE", "Two-factor code is required")
				return
			case code != a.code2FA:
				c.fail(http.StatusUnauthorized, "INVALID_TWO_FACTOR_CODE", "Two-factor code is invalid")
				return
			}
		}
		who = principal{kind: "admin", id: a.id}
	case "customer":
		s.auth.mu.Lock()
		cu, ok := s.auth.customers[b.str("login")]
		s.auth.mu.Unlock()
		if !ok || cu.password != b.str("password") {
			c.fail(http.StatusUnauthorized, "INVALID_USER", "Invalid login or password")
			return
		}
		who = principal{kind: "customer", id: cu.id}
	case "session":
		s.auth.mu.Lock()
		se, ok := s.auth.sessions[b.str("session_id")]
		s.auth.mu.Unlock()
		if !ok {
			c.fail(http.StatusUnauthorized, "INVALID_USER", "Session is not valid")
			return
		}
		who = principal{kind: se.kind, id: se.id}
	default:
		c.fail(http.StatusBadRequest, "INVALID_AUTH_TYPE", "Unknown auth_type")
		return
	}
	t := s.issue(who, c.r.UserAgent())
	s.writeToken(c, t, true)
	c.status = http.StatusCreated
}

func (s *Sim) issue(who principal, ua string) *token {
	now := s.now()
	t := &token{
		access: randomHex(20), refresh: randomHex(20),
		accessExp: now.Add(s.opts.TokenTTL), refExp: now.Add(s.opts.RefreshTTL),
		who: who, userAgent: ua,
	}
	s.auth.mu.Lock()
	s.auth.access[t.access] = t
	s.auth.refresh[t.refresh] = t
	s.auth.mu.Unlock()
	return t
}

func (s *Sim) renew(c *rctx) {
	s.auth.mu.Lock()
	t, ok := s.auth.refresh[c.rest]
	var code string
	switch {
	case !ok:
		code = "NOT_FOUND"
	case !s.now().Before(t.refExp):
		code = "EXPIRED_REFRESH_TOKEN"
	case t.userAgent != c.r.UserAgent():
		code = "USER_AGENT_CHANGED"
	default:
		delete(s.auth.refresh, t.refresh)
		delete(s.auth.access, t.access)
	}
	s.auth.mu.Unlock()
	switch code {
	case "NOT_FOUND":
		c.fail(http.StatusNotFound, code, "Refresh token not found")
		return
	case "":
	default:
		c.fail(http.StatusUnauthorized, code, "Cannot renew token")
		return
	}
	nt := s.issue(t.who, t.userAgent)
	s.writeToken(c, nt, false)
	c.status = http.StatusOK
}

func (s *Sim) writeToken(c *rctx, t *token, withPerms bool) {
	w := &c.w
	w.open()
	w.str("access_token", t.access)
	w.num("access_token_expiration", t.accessExp.Unix())
	w.str("refresh_token", t.refresh)
	w.num("refresh_token_expiration", t.refExp.Unix())
	if withPerms {
		w.key("permissions")
		w.openArr()
		for _, p := range t.who.perms {
			w.open()
			w.str("controller", p.Controller)
			w.key("actions")
			w.openArr()
			for _, a := range p.Actions {
				w.strVal(a)
			}
			w.closeArr()
			w.close()
		}
		w.closeArr()
	}
	switch t.who.kind {
	case "customer":
		w.id("customer_id", t.who.id)
	case "admin":
		w.id("admin_id", t.who.id)
	}
	w.close()
	c.out = w.bytes()
}

func (s *Sim) hCheck(c *rctx) {
	if c.method != http.MethodGet {
		c.methodNotAllowed()
		return
	}
	w := &c.w
	w.open()
	w.str("status", "ok")
	w.str("message", "API is valid")
	w.boolean("same_server", false)
	w.close()
	c.ok(http.StatusOK)
}

// hTwoFactorStatus tells a login page whether to ask for a 2FA code.
func (s *Sim) hTwoFactorStatus(c *rctx) {
	if c.method != http.MethodPost {
		c.methodNotAllowed()
		return
	}
	b, ok := c.decode()
	if !ok {
		return
	}
	s.auth.mu.Lock()
	a, found := s.auth.admins[b.str("login")]
	on := found && a.code2FA != ""
	s.auth.mu.Unlock()
	c.w.open()
	c.w.boolean("two_factor_enabled", on)
	c.w.close()
	c.ok(http.StatusOK)
}
