// Package splynx is a client for the Splynx REST API v2: signed and token
// authentication, PHP-style search parameters, streaming paged listings and
// typed records that tolerate Splynx's loose JSON types.
package splynx

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-resty/resty/v2"
	"go.uber.org/zap"

	"github.com/splynx-pay/splynx-pay/internal/clock"
)

// Version goes into the default User-Agent.
const Version = "0.1.0"

// AuthMode chooses how requests authenticate.
type AuthMode int

const (
	// AuthAPIKeyToken signs once to get an access token (auth_type api_key)
	// and sends the token on every call, renewing it before expiry. Safe for
	// concurrent use at full speed.
	AuthAPIKeyToken AuthMode = iota
	// AuthSignature signs every request with a fresh nonce. Because a
	// server may reject a nonce that arrives after a larger one, signed
	// requests of the whole process are sent one at a time.
	AuthSignature
)

func (m AuthMode) String() string {
	switch m {
	case AuthAPIKeyToken:
		return "api_key token"
	case AuthSignature:
		return "signature"
	}
	return fmt.Sprintf("AuthMode(%d)", int(m))
}

// Config is what a Client needs to reach Splynx.
type Config struct {
	BaseURL    string        // https://splynx.example.com; a trailing /api/2.0 is tolerated
	APIKey     string        // the add-on's own API key
	APISecret  string        // its secret; never logged nor put in errors
	Auth       AuthMode      // default AuthAPIKeyToken
	Timeout    time.Duration // per request (including reading the body); default 30s
	UserAgent  string        // constant (tokens are bound to it); default "splynx-pay/<Version>"
	MaxRetries int           // for idempotent calls on 5xx and transport errors; default 3, <0 for none
}

// Option adjusts a Client.
type Option func(*options)

type options struct {
	hc        *http.Client
	log       *zap.Logger
	clk       clock.Clock
	retryMin  time.Duration
	retryMax  time.Duration
	pageLimit int
}

// WithHTTPClient sets the http.Client (transport, proxies, TLS). Its own
// Timeout, if any, also applies.
func WithHTTPClient(hc *http.Client) Option { return func(o *options) { o.hc = hc } }

// WithLogger sets the logger (nil means no logging).
func WithLogger(l *zap.Logger) Option { return func(o *options) { o.log = l } }

// WithClock sets the clock used to judge token expiry (the simulator's fake
// clock in tests).
func WithClock(c clock.Clock) Option { return func(o *options) { o.clk = c } }

// WithRetryWait sets the backoff between retries of idempotent calls: the
// first wait is about min, doubling up to max (default 200ms..5s).
func WithRetryWait(min, max time.Duration) Option {
	return func(o *options) { o.retryMin, o.retryMax = min, max }
}

// Client talks to one Splynx instance. It is safe for concurrent use.
type Client struct {
	cfg      Config
	base     string // scheme://host[/prefix]/api/2.0/
	rc       *resty.Client
	log      *zap.Logger
	clk      clock.Clock
	retryMin time.Duration
	retryMax time.Duration
	auth     authenticator
	secrets  []string // literal values to mask in anything we report
	pressure *pressure
}

// New checks cfg and returns a Client. It makes no request; call Check to
// verify the URL and credentials.
func New(cfg Config, opts ...Option) (*Client, error) {
	o := options{retryMin: 200 * time.Millisecond, retryMax: 5 * time.Second}
	for _, opt := range opts {
		opt(&o)
	}
	base, err := normalizeBase(cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	if cfg.APIKey == "" || cfg.APISecret == "" {
		return nil, errors.New("splynx: config: APIKey and APISecret are required")
	}
	if cfg.Auth != AuthAPIKeyToken && cfg.Auth != AuthSignature {
		return nil, fmt.Errorf("splynx: config: unknown auth mode %d", int(cfg.Auth))
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = "splynx-pay/" + Version
	}
	if cfg.MaxRetries == 0 {
		cfg.MaxRetries = 3
	} else if cfg.MaxRetries < 0 {
		cfg.MaxRetries = 0
	}
	if o.log == nil {
		o.log = zap.NewNop()
	}
	if o.clk == nil {
		o.clk = clock.Real{}
	}
	hc := o.hc
	if hc == nil {
		hc = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	}
	c := &Client{
		cfg:      cfg,
		base:     base,
		log:      o.log.Named("splynx"),
		clk:      o.clk,
		retryMin: o.retryMin,
		retryMax: o.retryMax,
		secrets:  []string{cfg.APISecret, cfg.APIKey},
		pressure: newPressure(),
	}
	c.rc = newResty(hc, cfg.UserAgent, c.log)
	switch cfg.Auth {
	case AuthSignature:
		c.auth = &signatureAuth{key: cfg.APIKey, secret: cfg.APISecret}
	default:
		c.auth = newTokenAuth(c, "api_key", c.apiKeyLogin)
	}
	return c, nil
}

func newResty(hc *http.Client, ua string, log *zap.Logger) *resty.Client {
	rc := resty.NewWithClient(hc)
	rc.SetRetryCount(0) // retries are ours: resty would also retry POSTs
	rc.SetHeader("User-Agent", ua)
	rc.SetHeader("Accept", "application/json")
	rc.SetLogger(restyLogger{log})
	rc.SetDisableWarn(true)
	return rc
}

func normalizeBase(raw string) (string, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return "", errors.New("splynx: config: BaseURL is required")
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", errors.New("splynx: config: BaseURL is not a URL")
	}
	if u.User != nil || u.RawQuery != "" {
		return "", errors.New("splynx: config: BaseURL must not carry credentials or a query")
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("splynx: config: BaseURL %q is not an http(s) URL", u.String())
	}
	p := strings.TrimRight(u.Path, "/")
	p = strings.TrimSuffix(p, "/api/2.0")
	u.Path = p + "/api/2.0/"
	return u.String(), nil
}

// call is one logical API request; do may send it several times.
type call struct {
	method string
	path   string // relative to /api/2.0/, already escaped
	show   string // path as it may appear in errors and logs (secrets masked); "" = path
	query  string // encoded query, no leading '?'
	body   any    // JSON body or nil
	// safe marks a non-idempotent request that may be repeated on a 5xx or
	// transport error (a token login creates nothing lasting).
	safe   bool
	noAuth bool
	// auth overrides the client's authenticator.
	auth authenticator
	// signBody builds the body around a fresh nonce, taken in the signing
	// turn on every attempt (the api_key token login).
	signBody func(nonce int64) any
	// secrets are extra literal values to mask in errors (a password).
	secrets []string
}

func (cl call) shown() string {
	if cl.show != "" {
		return cl.show
	}
	return cl.path
}

func (cl call) retryable() bool {
	switch cl.method {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete, http.MethodOptions:
		return true
	}
	return cl.safe
}

// response is a 2xx answer whose body the caller must Close.
type response struct {
	status int
	header http.Header
	body   io.ReadCloser
}

// do sends cl and returns the first 2xx answer. Non-2xx answers become
// *APIError. Idempotent (or safe) calls are retried on 5xx, 429 and
// transport errors with backoff; any call is repeated once after a 401
// with fresh credentials, since a 401 means Splynx did not act on it.
func (c *Client) do(ctx context.Context, cl call) (*response, error) {
	if ctx == nil {
		return nil, errors.New("splynx: nil context")
	}
	auth := cl.auth
	if auth == nil {
		auth = c.auth
	}
	var (
		attempt      int
		authRetried  bool
		maybeApplied bool // an earlier attempt may have reached Splynx
	)
	for {
		attempt++
		resp, cancel, credential, err := c.send(ctx, cl, auth)
		if err != nil {
			var ae *authSetupError
			if errors.As(err, &ae) {
				// Getting credentials has its own retries; a failure
				// there is final for this call.
				return nil, ae.err
			}
			if ctx.Err() != nil {
				return nil, fmt.Errorf("%s %s: %w", cl.method, cl.shown(), ctx.Err())
			}
			if credential != "" || cl.noAuth {
				maybeApplied = true
			}
			if cl.retryable() && attempt <= c.cfg.MaxRetries {
				c.log.Warn("splynx request failed, retrying", zap.String("method", cl.method),
					zap.String("path", cl.shown()), zap.Int("attempt", attempt), zap.String("error", c.mask(err.Error())))
				if werr := c.backoff(ctx, attempt); werr != nil {
					return nil, fmt.Errorf("%s %s: %w", cl.method, cl.shown(), werr)
				}
				continue
			}
			return nil, err
		}
		status := resp.StatusCode()
		raw := resp.RawBody()
		if status >= 200 && status < 300 {
			return &response{status: status, header: resp.Header(), body: &cancelOnClose{ReadCloser: raw, cancel: cancel}}, nil
		}
		body, _ := io.ReadAll(io.LimitReader(raw, maxErrorBody))
		_, _ = io.Copy(io.Discard, io.LimitReader(raw, 64<<10)) // let the connection be reused
		raw.Close()
		cancel()
		apiErr := newAPIError(cl.method, cl.shown(), status, body)
		apiErr.Message = c.mask(apiErr.Message, cl.secrets...)
		apiErr.Body = c.mask(apiErr.Body, cl.secrets...)
		for i := range apiErr.Fields {
			apiErr.Fields[i].Message = c.mask(apiErr.Fields[i].Message, cl.secrets...)
		}
		switch {
		case status == http.StatusUnauthorized && (!cl.noAuth || cl.signBody != nil) && !authRetried:
			authRetried = true
			c.log.Info("splynx rejected credentials, retrying with fresh ones",
				zap.String("method", cl.method), zap.String("path", cl.shown()),
				zap.String("code", apiErr.InternalCode), zap.String("auth", auth.kind()))
			if !cl.noAuth {
				auth.reject(credential)
			}
			continue
		case (status >= 500 || status == http.StatusTooManyRequests) && cl.retryable() && attempt <= c.cfg.MaxRetries:
			maybeApplied = maybeApplied || status >= 500
			wait := retryAfter(resp.Header(), time.Now())
			if wait > maxRetryAfter {
				return nil, apiErr
			}
			c.log.Warn("splynx server error, retrying", zap.String("method", cl.method),
				zap.String("path", cl.shown()), zap.Int("status", status), zap.Int("attempt", attempt),
				zap.Duration("retry_after", wait))
			if werr := c.backoffAtLeast(ctx, attempt, wait); werr != nil {
				return nil, fmt.Errorf("%s %s: %w", cl.method, cl.shown(), werr)
			}
			continue
		case status == http.StatusNotFound && cl.method == http.MethodDelete && maybeApplied:
			// The first DELETE went through but its answer was lost.
			return &response{status: http.StatusNoContent, header: resp.Header(), body: io.NopCloser(strings.NewReader(""))}, nil
		}
		return nil, apiErr
	}
}

// send makes one HTTP exchange and returns once the answer's headers are
// in (the body is left to the caller), with the credential it used.
func (c *Client) send(ctx context.Context, cl call, auth authenticator) (resp *resty.Response, cancel context.CancelFunc, credential string, err error) {
	rctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	req := c.rc.R().SetContext(rctx).SetDoNotParseResponse(true)
	release := func() {}
	if !cl.noAuth {
		var header string
		header, credential, release, err = auth.header(ctx)
		if err != nil {
			cancel()
			return nil, nil, "", &authSetupError{err}
		}
		req.SetHeader("Authorization", header)
	}
	slot, err := c.pressure.acquire(rctx)
	if err != nil {
		release()
		cancel()
		return nil, nil, "", fmt.Errorf("%s %s: waiting for a request slot: %w", cl.method, cl.shown(), err)
	}
	ctxCancel := cancel
	cancel = func() { ctxCancel(); slot() } // the slot is held until the body is read
	body := cl.body
	if cl.signBody != nil {
		nonce, rel, err := processNonces.acquire(ctx)
		if err != nil {
			cancel()
			return nil, nil, "", fmt.Errorf("waiting to sign a request: %w", err)
		}
		release = rel
		body = cl.signBody(nonce)
	}
	if body != nil {
		req.SetHeader("Content-Type", "application/json")
		req.SetBody(body)
	}
	u := c.base + cl.path
	if cl.query != "" {
		u += "?" + cl.query
	}
	start := time.Now()
	resp, err = req.Execute(cl.method, u)
	// Splynx has judged the nonce once headers are back: the next signed
	// request may be sent.
	release()
	if ce := c.log.Check(zap.DebugLevel, "splynx request"); ce != nil {
		st := 0
		if resp != nil && resp.RawResponse != nil {
			st = resp.StatusCode()
		}
		ce.Write(zap.String("method", cl.method), zap.String("path", cl.shown()),
			zap.Int("status", st), zap.Duration("took", time.Since(start)))
	}
	if err != nil || resp == nil || resp.RawResponse == nil {
		cancel()
		if err == nil {
			err = errors.New("no response")
		}
		return nil, nil, credential, fmt.Errorf("%s %s: %w", cl.method, cl.shown(), c.transportError(err))
	}
	return resp, cancel, credential, nil
}

// transportError strips the request URL (which may hold a refresh token)
// from net/http errors and masks any secret left in the text.
func (c *Client) transportError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return &scrubbedError{msg: c.mask(ue.Op + ": " + ue.Err.Error()), err: ue.Err}
	}
	return &scrubbedError{msg: c.mask(err.Error()), err: err}
}

// authSetupError marks a failure to obtain credentials before sending.
type authSetupError struct{ err error }

func (e *authSetupError) Error() string { return e.err.Error() }
func (e *authSetupError) Unwrap() error { return e.err }

type scrubbedError struct {
	msg string
	err error
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.err }

func (c *Client) mask(s string, extra ...string) string {
	for _, v := range append(extra, c.secrets...) {
		if len(v) >= 4 {
			s = strings.ReplaceAll(s, v, "***")
		}
	}
	if t, ok := c.auth.(*tokenAuth); ok {
		s = t.mask(s)
	}
	return scrubText(s)
}

func (c *Client) backoff(ctx context.Context, attempt int) error {
	return c.backoffAtLeast(ctx, attempt, 0)
}

// backoffAtLeast waits as backoff does, but at least least (a server's
// Retry-After).
func (c *Client) backoffAtLeast(ctx context.Context, attempt int, least time.Duration) error {
	d := c.retryMin << (attempt - 1)
	if d > c.retryMax || d <= 0 {
		d = c.retryMax
	}
	d = d/2 + rand.N(d/2+1) // jitter so parallel retries spread out
	d = max(d, least)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelOnClose) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

// maxBody caps a single-record answer; lists are streamed instead.
const maxBody = 32 << 20

// getJSON sends cl and decodes the answer into out.
func (c *Client) getJSON(ctx context.Context, cl call, out any) error {
	resp, err := c.do(ctx, cl)
	if err != nil {
		return err
	}
	defer resp.body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.body, maxBody+1))
	if err != nil {
		return fmt.Errorf("%s %s: reading answer: %w", cl.method, cl.shown(), c.transportError(err))
	}
	if len(b) > maxBody {
		return fmt.Errorf("%s %s: answer larger than %d bytes", cl.method, cl.shown(), maxBody)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("%s %s: decoding answer: %w", cl.method, cl.shown(), err)
	}
	return nil
}

// restyLogger sends resty's own messages to zap at debug level, masked.
type restyLogger struct{ log *zap.Logger }

func (l restyLogger) Errorf(format string, v ...any) {
	l.log.Debug("resty", zap.String("msg", scrubText(fmt.Sprintf(format, v...))))
}
func (l restyLogger) Warnf(format string, v ...any) {
	l.log.Debug("resty", zap.String("msg", scrubText(fmt.Sprintf(format, v...))))
}
func (l restyLogger) Debugf(format string, v ...any) {
	l.log.Debug("resty", zap.String("msg", scrubText(fmt.Sprintf(format, v...))))
}
