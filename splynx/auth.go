package splynx

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
)

// Sign returns Splynx's request signature: the upper-case hex HMAC-SHA256 of
// the decimal nonce followed by the API key, keyed by the API secret.
func Sign(secret string, nonce int64, key string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(strconv.AppendInt(nil, nonce, 10))
	m.Write([]byte(key))
	return strings.ToUpper(hex.EncodeToString(m.Sum(nil)))
}

// nonceSource hands out the process's signing nonces. Splynx most likely
// rejects a nonce not larger than the last one it saw for a key, and it sees
// them in arrival order, so two things are needed: every nonce is larger
// than any before it in this process (and, being Unix milliseconds or just
// above, larger than those of an earlier run), and a signed request is only
// issued after the previous signed request's answer has arrived.
type nonceSource struct {
	last atomic.Int64
	turn chan struct{}
}

// processNonces is the one piece of package state: a nonce sequence must be
// shared by every Client in the process, however they were built, or two
// Clients with the same key would undercut each other.
var processNonces = &nonceSource{turn: make(chan struct{}, 1)}

// next returns a nonce larger than every nonce returned before.
func (n *nonceSource) next() int64 {
	for {
		prev := n.last.Load()
		v := time.Now().UnixMilli()
		if v <= prev {
			v = prev + 1
		}
		if n.last.CompareAndSwap(prev, v) {
			return v
		}
	}
}

// acquire waits for the signing turn and returns a fresh nonce; release ends
// the turn and must be called once the signed request's answer has arrived.
func (n *nonceSource) acquire(ctx context.Context) (nonce int64, release func(), err error) {
	select {
	case n.turn <- struct{}{}:
	case <-ctx.Done():
		return 0, nil, ctx.Err()
	}
	var once sync.Once
	return n.next(), func() { once.Do(func() { <-n.turn }) }, nil
}

// authenticator supplies the Authorization header of a request.
type authenticator interface {
	// header returns the header value, an opaque credential identifying
	// it (for reject), and a release to call once the answer's headers
	// are in.
	header(ctx context.Context) (value, credential string, release func(), err error)
	// reject is told that Splynx answered 401 to credential.
	reject(credential string)
	kind() string
}

type signatureAuth struct{ key, secret string }

func (a *signatureAuth) header(ctx context.Context) (string, string, func(), error) {
	nonce, release, err := processNonces.acquire(ctx)
	if err != nil {
		return "", "", nil, fmt.Errorf("waiting to sign a request: %w", err)
	}
	return signedHeader(a.key, a.secret, nonce), strconv.FormatInt(nonce, 10), release, nil
}

func signedHeader(key, secret string, nonce int64) string {
	v := url.Values{}
	v.Set("key", key)
	v.Set("nonce", strconv.FormatInt(nonce, 10))
	v.Set("signature", Sign(secret, nonce, key))
	return "Splynx-EA (" + v.Encode() + ")"
}

func (a *signatureAuth) reject(string) {} // the next attempt takes a fresh nonce anyway
func (a *signatureAuth) kind() string  { return "signature" }

// tokenSet is one access token with its refresh token.
type tokenSet struct {
	access, refresh       string
	accessExp, refreshExp time.Time
}

// tokenResponse is the answer of POST/GET admin/auth/tokens. The id fields
// are not in Splynx's documentation; they are read when a server sends them.
type tokenResponse struct {
	AccessToken  text            `json:"access_token"`
	AccessExp    Int             `json:"access_token_expiration"`
	RefreshToken text            `json:"refresh_token"`
	RefreshExp   Int             `json:"refresh_token_expiration"`
	Permissions  json.RawMessage `json:"permissions"`
	CustomerID   ID              `json:"customer_id"`
	AdminID      ID              `json:"admin_id"`
	Login        text            `json:"login"`
}

// defaultTokenTTL applies when a token answer carries no expiry: Splynx
// documents 30 minutes.
const defaultTokenTTL = 30 * time.Minute

// renewAhead is how long before expiry a token is renewed (the margin
// Splynx's own clients use).
const renewAhead = 5 * time.Second

func (tr tokenResponse) tokens(now time.Time) (tokenSet, error) {
	if tr.AccessToken == "" {
		return tokenSet{}, errors.New("token answer has no access_token")
	}
	ts := tokenSet{access: string(tr.AccessToken), refresh: string(tr.RefreshToken)}
	if tr.AccessExp > 0 {
		ts.accessExp = time.Unix(int64(tr.AccessExp), 0)
	} else {
		ts.accessExp = now.Add(defaultTokenTTL)
	}
	if tr.RefreshExp > 0 {
		ts.refreshExp = time.Unix(int64(tr.RefreshExp), 0)
	} else if ts.refresh != "" {
		ts.refreshExp = ts.accessExp
	}
	return ts, nil
}

// tokenAuth keeps an access token fresh. Renewal and login happen one at a
// time; callers arriving meanwhile wait and then use the new token.
type tokenAuth struct {
	c        *Client
	authType string
	// login obtains a brand-new token; nil for people's tokens, which can
	// only be renewed (the password is not kept).
	login func(ctx context.Context) (tokenResponse, error)
	turn  chan struct{}

	mu       sync.Mutex
	tok      tokenSet
	stale    bool // Splynx said 401 to tok.access
	identity Identity
	seen     []string // every token ever held, to mask in messages
}

func newTokenAuth(c *Client, authType string, login func(context.Context) (tokenResponse, error)) *tokenAuth {
	return &tokenAuth{c: c, authType: authType, login: login, turn: make(chan struct{}, 1),
		identity: Identity{AuthType: authType}}
}

func (a *tokenAuth) kind() string { return a.authType + " token" }

func (a *tokenAuth) usable(now time.Time) (string, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.tok.access != "" && !a.stale && now.Add(renewAhead).Before(a.tok.accessExp) {
		return a.tok.access, true
	}
	return "", false
}

func (a *tokenAuth) header(ctx context.Context) (string, string, func(), error) {
	if tok, ok := a.usable(a.c.clk.Now()); ok {
		return tokenHeader(tok), tok, func() {}, nil
	}
	select {
	case a.turn <- struct{}{}:
	case <-ctx.Done():
		return "", "", nil, fmt.Errorf("waiting for a token: %w", ctx.Err())
	}
	defer func() { <-a.turn }()
	if tok, ok := a.usable(a.c.clk.Now()); ok { // someone renewed it while we waited
		return tokenHeader(tok), tok, func() {}, nil
	}
	if err := a.refresh(ctx); err != nil {
		return "", "", nil, err
	}
	tok, _ := a.usable(a.c.clk.Now())
	if tok == "" {
		return "", "", nil, errors.New("token obtained but already expired (is the clock right?)")
	}
	return tokenHeader(tok), tok, func() {}, nil
}

func tokenHeader(tok string) string { return "Splynx-EA (access_token=" + tok + ")" }

// refresh renews the token with the refresh token when it can, and logs in
// again when it cannot or renewal fails. Called holding the turn.
func (a *tokenAuth) refresh(ctx context.Context) error {
	now := a.c.clk.Now()
	a.mu.Lock()
	cur, stale := a.tok, a.stale
	a.mu.Unlock()
	canRenew := cur.refresh != "" && now.Add(renewAhead).Before(cur.refreshExp)
	// After a 401 the token was refused outright: log in afresh when we
	// can rather than renew something Splynx may have banned.
	if canRenew && (!stale || a.login == nil) {
		tr, err := a.c.renewToken(ctx, cur.refresh)
		if err == nil {
			return a.store(tr, now)
		}
		if a.login == nil {
			return fmt.Errorf("renewing %s token: %w", a.authType, err)
		}
		a.c.log.Info("splynx token renewal failed, logging in again", zap.String("error", a.c.mask(err.Error())))
	}
	if a.login == nil {
		return &APIError{Method: http.MethodGet, Path: "admin/auth/tokens/***", Status: http.StatusUnauthorized,
			InternalCode: "EXPIRED_REFRESH_TOKEN", Message: "the " + a.authType + " session has expired; log in again"}
	}
	tr, err := a.login(ctx)
	if err != nil {
		return fmt.Errorf("getting an access token with the API key: %w", err)
	}
	return a.store(tr, now)
}

func (a *tokenAuth) store(tr tokenResponse, now time.Time) error {
	ts, err := tr.tokens(now)
	if err != nil {
		return fmt.Errorf("%s token: %w", a.authType, err)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.tok, a.stale = ts, false
	a.seen = append(a.seen, ts.access, ts.refresh)
	if len(a.seen) > 16 {
		a.seen = a.seen[len(a.seen)-16:]
	}
	if tr.CustomerID != 0 {
		a.identity.CustomerID = int64(tr.CustomerID)
	}
	if tr.AdminID != 0 {
		a.identity.AdminID = int64(tr.AdminID)
	}
	if tr.Login != "" {
		a.identity.Login = string(tr.Login)
	}
	if len(tr.Permissions) > 0 {
		a.identity.Permissions = tr.Permissions
	}
	return nil
}

func (a *tokenAuth) reject(credential string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if credential != "" && credential == a.tok.access {
		a.stale = true
	}
}

func (a *tokenAuth) mask(s string) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, t := range a.seen {
		if len(t) >= 4 {
			s = strings.ReplaceAll(s, t, "***")
		}
	}
	return s
}

func (a *tokenAuth) snapshot() (tokenSet, Identity) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.tok, a.identity
}

// apiKeyLogin gets a token with auth_type=api_key, signing a fresh nonce on
// every attempt.
func (c *Client) apiKeyLogin(ctx context.Context) (tokenResponse, error) {
	var tr tokenResponse
	err := c.getJSON(ctx, call{
		method: http.MethodPost, path: "admin/auth/tokens", noAuth: true, safe: true,
		signBody: func(nonce int64) any {
			return map[string]any{
				"auth_type": "api_key",
				"key":       c.cfg.APIKey,
				"nonce":     nonce,
				"signature": Sign(c.cfg.APISecret, nonce, c.cfg.APIKey),
			}
		},
	}, &tr)
	return tr, err
}

func (c *Client) renewToken(ctx context.Context, refresh string) (tokenResponse, error) {
	var tr tokenResponse
	err := c.getJSON(ctx, call{
		method: http.MethodGet, path: "admin/auth/tokens/" + url.PathEscape(refresh),
		show: "admin/auth/tokens/***", noAuth: true,
	}, &tr)
	return tr, err
}

// LoginCustomer logs a customer in with their portal login and password and
// returns a Client acting as that customer (auth_type customer). The
// password is not kept: when the session cannot be renewed any more the
// Client's calls fail with an IsUnauthorized error.
func (c *Client) LoginCustomer(ctx context.Context, login, password string) (*Client, error) {
	return c.personLogin(ctx, "customer", map[string]any{"auth_type": "customer", "login": login, "password": password}, password)
}

// LoginAdmin logs an administrator in (auth_type admin); code2FA is sent
// when not empty.
func (c *Client) LoginAdmin(ctx context.Context, login, password, code2FA string) (*Client, error) {
	body := map[string]any{"auth_type": "admin", "login": login, "password": password}
	if code2FA != "" {
		body["code"] = code2FA
	}
	return c.personLogin(ctx, "admin", body, password, code2FA)
}

// LoginSession exchanges a Splynx PHP session id (of an admin or a
// customer) for a token (auth_type session).
func (c *Client) LoginSession(ctx context.Context, sessionID string) (*Client, error) {
	return c.personLogin(ctx, "session", map[string]any{"auth_type": "session", "session_id": sessionID}, sessionID)
}

func (c *Client) personLogin(ctx context.Context, authType string, body map[string]any, secrets ...string) (*Client, error) {
	var tr tokenResponse
	err := c.getJSON(ctx, call{
		method: http.MethodPost, path: "admin/auth/tokens", noAuth: true, safe: true,
		body: body, secrets: secrets,
	}, &tr)
	if err != nil {
		return nil, fmt.Errorf("splynx: %s login: %w", authType, err)
	}
	cc := *c
	ta := newTokenAuth(&cc, authType, nil)
	cc.auth = ta
	if err := ta.store(tr, c.clk.Now()); err != nil {
		return nil, err
	}
	return &cc, nil
}

// Identity is what a token login says about who holds the token.
type Identity struct {
	AuthType    string // api_key | admin | customer | session
	CustomerID  int64  // set when the token belongs to a customer and the server says so
	AdminID     int64  // set when the token belongs to an administrator and the server says so
	Login       string
	Permissions json.RawMessage
}

// Identity says who the Client acts as. For a Client made by New it is the
// API key (AuthType "api_key" or "signature"); for LoginCustomer /
// LoginAdmin / LoginSession it carries what the token answer said.
func (c *Client) Identity() Identity {
	switch a := c.auth.(type) {
	case *tokenAuth:
		_, id := a.snapshot()
		return id
	default:
		return Identity{AuthType: "signature"}
	}
}

// Logout revokes the Client's refresh token (token modes only).
func (c *Client) Logout(ctx context.Context) error {
	a, ok := c.auth.(*tokenAuth)
	if !ok {
		return nil
	}
	ts, _ := a.snapshot()
	if ts.refresh == "" {
		return nil
	}
	resp, err := c.do(ctx, call{method: http.MethodDelete, path: "admin/auth/tokens/" + url.PathEscape(ts.refresh),
		show: "admin/auth/tokens/***"})
	if err != nil {
		return fmt.Errorf("splynx: logout: %w", err)
	}
	resp.body.Close()
	a.mu.Lock()
	a.tok = tokenSet{}
	a.mu.Unlock()
	return nil
}
