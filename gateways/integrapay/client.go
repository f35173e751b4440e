// Package integrapay is the IntegraPay (Payrix Australia) REST client behind
// splynx-integrapay. It implements gateways.Gateway: payers are IntegraPay's
// stored customers keyed by our UniqueReference, each with one active bank
// account or card; cards are charged in real time, bank accounts by a single
// scheduled payment that settles (or bounces) days later through the
// transactions/new status feed.
//
// Money is int64 cents inside and decimal dollars with exactly two places on
// the wire. Card numbers, CVVs, BSBs and account numbers go into one request
// body and nowhere else: not into a log line, an error string or a returned
// value. Error bodies from the gateway are scrubbed before they are kept.
//
// Every path this client uses, relative to /businesses/{bid}/, with what
// specs/integrapay.md says of it (C = confirmed by a cited source, I = our
// inference) and what a 404 or 405 from it does. integrapaysim serves the I
// paths only with Options.Inferred; the engine's tests run both ways.
//
//	call                    method path                                   spec          on 404 / 405
//	login                   POST   {auth}/login                           C §2          error, nothing sent
//	create payer            POST   payers                                 C §5.1        error
//	get payer               GET    payers/{ref}                           C §5.3        payer not found (create it)
//	update payer            PUT    payers/{ref}                           C §5.2        error
//	set payer status        PUT    payers/{ref}/status                    C §5.3        error
//	save bank account       PUT    payers/{ref}/accounts/bank-account     C §5.4        error
//	tokenize card           POST   services/tokenize-card                 C §5.5 (S5)   error
//	attach card token       POST   payers/{ref}/accounts/card/token       C §5.5        error
//	remove payment details  DELETE payers/{ref}/accounts                  C §5.3        treated as already removed
//	charge card             POST   payers/{ref}/transactions/card         C §6.1        declined (InvalidPayer: method needs update)
//	schedule bank debit     POST   payers/{ref}/schedules/payments        C §6.3        declined; a lost answer is Unknown and is
//	                                                                                    never re-sent (unique Reference is not known)
//	status feed / ack       GET|POST transactions/new                     C §7.1        error; the next cycle asks again
//	card lookup             GET    transactions/card-payments/?reference= C §7.2        gateways.ErrNotFound: the engine declines
//	                                                                                    the attempt NOT_SENT after its grace period
//	bank lookup             GET    transactions/bank-payments/?reference= I             gateways.ErrInconclusive: the attempt stays
//	scheduled lookup        GET    payers/{ref}/schedules/payments?reference= I         unknown, blocks its document, goes to review
//	                                                                                    after review_unknown_after_days; only the
//	                                                                                    feed resolves it
//	refund                  POST   transactions/{card|bank}-payments/{id}/refunds C §7.6 declined refund, shown to staff
//
// Other unconfirmed choices: a lookup answer may be one object, a list, or a
// wrapped list; refund answers are read as a real-time payment answer when
// they carry a statusCode, and as accepted when they do not; the feed's L
// and LS statuses are late rejections (Late = true); an R after an S is a
// decline the caller recognises by its own state. A 5xx (or 408, Timeout)
// on a charge is Unknown, never a decline.
//
// Payer writes (issue 17): a missing payer may be answered 404
// InvalidPayer/NotFound or 2xx {} (spec §5.3 [?]; one public client relies
// on {}): both are "not found", which leads to POST payers and never to a
// PUT. Whether PUT payers/{ref} merges or replaces is unknown [?], so every
// payer write carries every field the add-on keeps, empty ones too (Phone
// "", Line2 "", Country null when unknown).
package integrapay

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/go-resty/resty/v2"
	"go.uber.org/zap"

	"github.com/splynx-pay/splynx-pay/gateways"
	"github.com/splynx-pay/splynx-pay/internal/clock"
)

// Hosts of the two environments. Login is POST {AuthURL}/login; every REST
// path is {APIURL}/businesses/{BusinessID}/....
const (
	SandboxAuthURL    = "https://sandbox.auth.paymentsapi.io"
	SandboxAPIURL     = "https://sandbox.rest.paymentsapi.io"
	ProductionAuthURL = "https://auth.paymentsapi.io"
	ProductionAPIURL  = "https://rest.paymentsapi.io"
)

// Hosts returns the auth and API base URLs of an environment: "sandbox"
// (also "" and "test") or "production" (also "live").
func Hosts(environment string) (authURL, apiURL string, err error) {
	switch strings.ToLower(strings.TrimSpace(environment)) {
	case "", "sandbox", "test":
		return SandboxAuthURL, SandboxAPIURL, nil
	case "production", "live":
		return ProductionAuthURL, ProductionAPIURL, nil
	}
	return "", "", fmt.Errorf("integrapay: %w: environment %q is neither sandbox nor production", gateways.ErrNotConfigured, environment)
}

// DefaultTimeout bounds each HTTP request when Config.Timeout is zero. Card
// payments wait for the card schemes, so this is generous.
const DefaultTimeout = 60 * time.Second

// tokenMargin is how long before expires_in the bearer token is replaced, so
// a request never leaves with a token that dies on the way.
const tokenMargin = 60 * time.Second

// feedPageSize is the take= of transactions/new (the API's default and max
// seen in the wild).
const feedPageSize = 500

// maxFeedPages stops a feed that never ends from looping forever.
const maxFeedPages = 200

// Config holds the merchant's API credentials and hosts.
type Config struct {
	AuthURL    string // default SandboxAuthURL; a trailing "/login" is tolerated
	APIURL     string // default SandboxAPIURL
	Username   string // "Api Username"
	Password   string // "Api User Key"
	BusinessID string
	Timeout    time.Duration // per HTTP request; default DefaultTimeout
	// Operator is the Audit.Username sent with mutating calls when the
	// request names none (default "splynx-pay").
	Operator string
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient sets the underlying HTTP client (its Timeout is left alone;
// each request carries its own deadline).
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.hc = hc } }

// WithLogger sets the logger (nil means no logging).
func WithLogger(l *zap.Logger) Option { return func(c *Client) { c.log = l } }

// WithClock sets the clock used for token expiry, service dates and
// debit dates.
func WithClock(clk clock.Clock) Option { return func(c *Client) { c.clk = clk } }

// Client talks to one IntegraPay business. Safe for concurrent use.
type Client struct {
	cfg Config
	hc  *http.Client
	rc  *resty.Client
	log *zap.Logger
	clk clock.Clock
	loc *time.Location

	authMu   sync.Mutex // held during login so only one renewal runs at a time
	token    string
	tokenExp time.Time
}

var _ gateways.Gateway = (*Client)(nil)

// New checks the configuration and returns a client. It does not log in;
// Ping does.
func New(cfg Config, opts ...Option) (*Client, error) {
	if cfg.AuthURL == "" {
		cfg.AuthURL = SandboxAuthURL
	}
	if cfg.APIURL == "" {
		cfg.APIURL = SandboxAPIURL
	}
	cfg.AuthURL = strings.TrimSuffix(strings.TrimRight(cfg.AuthURL, "/"), "/login")
	cfg.APIURL = strings.TrimRight(cfg.APIURL, "/")
	var missing []string
	if cfg.Username == "" {
		missing = append(missing, "username")
	}
	if cfg.Password == "" {
		missing = append(missing, "password")
	}
	if cfg.BusinessID == "" {
		missing = append(missing, "business id")
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("integrapay: %w: missing %s", gateways.ErrNotConfigured, strings.Join(missing, ", "))
	}
	for _, u := range []string{cfg.AuthURL, cfg.APIURL} {
		p, err := url.Parse(u)
		if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			return nil, fmt.Errorf("integrapay: %w: bad URL %q", gateways.ErrNotConfigured, u)
		}
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Operator == "" {
		cfg.Operator = "splynx-pay"
	}
	c := &Client{cfg: cfg}
	for _, o := range opts {
		o(c)
	}
	if c.log == nil {
		c.log = zap.NewNop()
	}
	c.log = c.log.Named("integrapay").With(zap.String("business_id", cfg.BusinessID))
	if c.clk == nil {
		c.clk = clock.Real{}
	}
	if c.hc == nil {
		c.hc = &http.Client{}
	}
	c.loc = Sydney()
	c.rc = resty.NewWithClient(c.hc).
		SetLogger(quietLogger{}).
		SetResponseBodyLimit(16 << 20)
	return c, nil
}

// Name implements gateways.Gateway.
func (c *Client) Name() string { return "IntegraPay" }

// Ping logs in, which proves the hosts answer and the credentials work.
func (c *Client) Ping(ctx context.Context) error {
	c.authMu.Lock()
	defer c.authMu.Unlock()
	return c.loginLocked(ctx)
}

// Sydney is the time zone of IntegraPay's debit runs and dates. It falls
// back to AEST when the system has no zone database.
func Sydney() *time.Location {
	if loc, err := time.LoadLocation("Australia/Sydney"); err == nil {
		return loc
	}
	return time.FixedZone("AEST", 10*3600)
}

// APIError is a non-2xx answer (or a 2xx carrying an errorCode). Message and
// Detail are scrubbed of anything that looks like a card or account number.
type APIError struct {
	Op      string // what we were doing: "charge card", "get payer", ...
	Method  string
	Path    string // relative to the business, e.g. "payers/C42/transactions/card"
	Status  int
	Code    string // errorCode: BadRequest, DuplicateTransaction, ...
	Message string
	Detail  string
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "integrapay: %s: %s %s: HTTP %d", e.Op, e.Method, e.Path, e.Status)
	if e.Code != "" {
		b.WriteString(" " + e.Code)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.Detail != "" {
		b.WriteString(" (" + e.Detail + ")")
	}
	return b.String()
}

// Is lets callers test an APIError against the gateways sentinels.
func (e *APIError) Is(target error) bool {
	switch target {
	case gateways.ErrUnauthorized:
		return e.Status == http.StatusUnauthorized || e.Code == "Unauthorized" || e.Code == "InvalidApiToken"
	case gateways.ErrNotFound:
		return e.Status == http.StatusNotFound || e.Code == "NotFound" || e.Code == "InvalidPayer" ||
			e.Code == "InvalidTransaction" || e.Code == "InvalidScheduledPayment"
	case gateways.ErrNotConfigured:
		return e.Code == "InvalidBusiness" || e.Code == "Forbidden" || e.Status == http.StatusForbidden
	}
	return false
}

// ErrMalformed wraps a 2xx answer whose body could not be read.
var ErrMalformed = errors.New("integrapay: malformed response")

// loginError marks a failure to obtain a token: nothing else was sent.
type loginError struct{ err error }

func (e *loginError) Error() string { return e.err.Error() }
func (e *loginError) Unwrap() error { return e.err }

// notSentError marks a request that never left (connection refused, DNS).
type notSentError struct{ err error }

func (e *notSentError) Error() string { return e.err.Error() }
func (e *notSentError) Unwrap() error { return e.err }

// maybeApplied reports whether a failed request may still have been acted on
// by the gateway, which is what decides between an error and Unknown.
func maybeApplied(err error) bool {
	var le *loginError
	var ns *notSentError
	if errors.As(err, &le) || errors.As(err, &ns) {
		return false
	}
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Status >= 500 || ae.Status == http.StatusRequestTimeout || ae.Code == "Timeout"
	}
	return true
}

// rawBody receives a 2xx body undecoded, for answers whose shape varies.
type rawBody []byte

// call is one REST request relative to /businesses/{bid}/.
type call struct {
	op     string
	method string
	path   string
	query  url.Values
	body   any
	// idempotent calls are repeated after a transport error, 429 or 5xx;
	// everything else is sent exactly once (bar the 401 re-login).
	idempotent bool
	// secrets are values in the body that an error answer must not echo
	// back into our errors, even when too short for ScrubDigits (a CVV).
	secrets []string
}

// do sends c and decodes a 2xx body into out (nil: ignore the body).
func (c *Client) do(ctx context.Context, cl call, out any) error {
	var payload []byte
	if cl.body != nil {
		var err error
		if payload, err = json.Marshal(cl.body); err != nil {
			return fmt.Errorf("integrapay: %s: encode request: %w", cl.op, err)
		}
	}
	u := c.cfg.APIURL + "/businesses/" + url.PathEscape(c.cfg.BusinessID) + "/" + cl.path
	if len(cl.query) > 0 {
		u += "?" + cl.query.Encode()
	}
	attempts := 1
	if cl.idempotent {
		attempts = 3
	}
	reauthed := false
	var err error
	for i := 0; i < attempts; i++ {
		if i > 0 {
			select {
			case <-ctx.Done():
				return fmt.Errorf("integrapay: %s: %w", cl.op, ctx.Err())
			case <-time.After(time.Duration(i) * 200 * time.Millisecond):
			}
		}
		var tok string
		if tok, err = c.bearer(ctx); err != nil {
			return err
		}
		var status int
		var body []byte
		status, body, err = c.send(ctx, cl, u, tok, payload)
		if err == nil && status == http.StatusUnauthorized && !reauthed {
			// The token died early (revoked, clock skew): log in again once
			// and resend; a 401 means the request was not processed.
			reauthed = true
			c.dropToken(tok)
			c.log.Info("token rejected, logging in again", zap.String("op", cl.op))
			if tok, err = c.bearer(ctx); err != nil {
				return err
			}
			status, body, err = c.send(ctx, cl, u, tok, payload)
		}
		if err != nil {
			if !maybeApplied(err) || cl.idempotent {
				continue
			}
			return err
		}
		if apiErr := c.checkResponse(cl, status, body); apiErr != nil {
			err = apiErr
			if cl.idempotent && (status >= 500 || status == http.StatusTooManyRequests) {
				continue
			}
			return err
		}
		if out == nil {
			return nil
		}
		if rb, ok := out.(*rawBody); ok {
			*rb = body
			return nil
		}
		if uerr := json.Unmarshal(body, out); uerr != nil {
			return fmt.Errorf("integrapay: %s: %w (%d bytes)", cl.op, ErrMalformed, len(body))
		}
		return nil
	}
	return err
}

// send performs one HTTP exchange. Transport failures are wrapped with
// gateways.ErrUnreachable; the URL in them names only ids, never details.
func (c *Client) send(ctx context.Context, cl call, u, tok string, payload []byte) (int, []byte, error) {
	if err := ctx.Err(); err != nil {
		// Cancelled before anything left: certainly not applied.
		return 0, nil, &notSentError{fmt.Errorf("integrapay: %s: %w", cl.op, err)}
	}
	rctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	req := c.rc.R().SetContext(rctx).
		SetHeader("Accept", "application/json").
		SetAuthToken(tok)
	if payload != nil {
		req.SetHeader("Content-Type", "application/json").SetBody(payload)
	}
	resp, err := req.Execute(cl.method, u)
	if err != nil {
		return 0, nil, transportError(cl.op, err)
	}
	return resp.StatusCode(), resp.Body(), nil
}

func transportError(op string, err error) error {
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Op == "dial" {
		return &notSentError{fmt.Errorf("integrapay: %s: %w: %v", op, gateways.ErrUnreachable, oe.Err)}
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return &notSentError{fmt.Errorf("integrapay: %s: %w: %v", op, gateways.ErrUnreachable, dnsErr)}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("integrapay: %s: %w: timed out waiting for the response: %w", op, gateways.ErrUnreachable, context.DeadlineExceeded)
	}
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("integrapay: %s: %w", op, context.Canceled)
	}
	return fmt.Errorf("integrapay: %s: %w: %v", op, gateways.ErrUnreachable, gateways.ScrubDigits(err.Error()))
}

type errorBody struct {
	ErrorCode    string `json:"errorCode"`
	ErrorMessage string `json:"errorMessage"`
	ErrorDetail  string `json:"errorDetail"`
}

// checkResponse turns an error status (or a 2xx carrying errorCode) into an
// *APIError.
func (c *Client) checkResponse(cl call, status int, body []byte) error {
	var eb errorBody
	parsed := false
	if t := bytes.TrimSpace(body); len(t) > 0 && t[0] == '{' {
		parsed = json.Unmarshal(t, &eb) == nil
	}
	if status >= 200 && status < 300 && eb.ErrorCode == "" {
		return nil
	}
	ae := &APIError{Op: cl.op, Method: cl.method, Path: cl.path, Status: status}
	if parsed && eb.ErrorCode != "" {
		ae.Code = eb.ErrorCode
		ae.Message = clip(scrub(eb.ErrorMessage, cl.secrets), 300)
		ae.Detail = clip(scrub(eb.ErrorDetail, cl.secrets), 200)
	} else {
		ae.Message = clip(scrub(strings.TrimSpace(string(body)), cl.secrets), 200)
	}
	return ae
}

// scrub masks card and account numbers, then any whole digit run equal to
// one of secrets.
func scrub(s string, secrets []string) string {
	for _, sec := range secrets {
		if sec == "" {
			continue
		}
		var b strings.Builder
		for i := 0; i < len(s); {
			j := strings.Index(s[i:], sec)
			if j < 0 {
				b.WriteString(s[i:])
				break
			}
			start, end := i+j, i+j+len(sec)
			whole := (start == 0 || !isDigit(s[start-1])) && (end == len(s) || !isDigit(s[end]))
			b.WriteString(s[i:start])
			if whole {
				b.WriteString("•••")
			} else {
				b.WriteString(sec)
			}
			i = end
		}
		s = b.String()
	}
	return gateways.ScrubDigits(s)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// bearer returns a token valid for at least tokenMargin, logging in if needed.
func (c *Client) bearer(ctx context.Context) (string, error) {
	c.authMu.Lock()
	defer c.authMu.Unlock()
	if c.token != "" && c.clk.Now().Before(c.tokenExp.Add(-tokenMargin)) {
		return c.token, nil
	}
	if err := c.loginLocked(ctx); err != nil {
		return "", err
	}
	return c.token, nil
}

// dropToken forgets tok unless another request already replaced it.
func (c *Client) dropToken(tok string) {
	c.authMu.Lock()
	defer c.authMu.Unlock()
	if c.token == tok {
		c.token = ""
	}
}

type loginRequest struct {
	Username string
	Password string
}

type loginResponse struct {
	AccessToken string `json:"access_token"`
	ExpiresIn   int64  `json:"expires_in"`
	TokenType   string `json:"token_type"`
}

func (c *Client) loginLocked(ctx context.Context) error {
	payload, err := json.Marshal(loginRequest{Username: c.cfg.Username, Password: c.cfg.Password})
	if err != nil {
		return &loginError{fmt.Errorf("integrapay: login: encode: %w", err)}
	}
	rctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	resp, err := c.rc.R().SetContext(rctx).
		SetHeader("Accept", "application/json").
		SetHeader("Content-Type", "application/json").
		SetBody(payload).
		Post(c.cfg.AuthURL + "/login")
	if err != nil {
		return &loginError{transportError("login", err)}
	}
	cl := call{op: "login", method: http.MethodPost, path: "login"}
	if apiErr := c.checkResponse(cl, resp.StatusCode(), resp.Body()); apiErr != nil {
		var ae *APIError
		if errors.As(apiErr, &ae) && (ae.Status == http.StatusBadRequest || ae.Status == http.StatusUnauthorized || ae.Status == http.StatusForbidden) {
			// A bad or missing credential: say so in the sentinel's terms.
			return &loginError{fmt.Errorf("%w: %w", gateways.ErrUnauthorized, apiErr)}
		}
		return &loginError{apiErr}
	}
	var lr loginResponse
	if err := json.Unmarshal(resp.Body(), &lr); err != nil || lr.AccessToken == "" {
		return &loginError{fmt.Errorf("integrapay: login: %w: no access_token", ErrMalformed)}
	}
	ttl := time.Duration(lr.ExpiresIn) * time.Second
	if ttl <= 0 {
		ttl = time.Hour
	}
	c.token = lr.AccessToken
	c.tokenExp = c.clk.Now().Add(ttl)
	c.log.Info("logged in", zap.Duration("expires_in", ttl))
	return nil
}

// quietLogger keeps resty from printing request details on its own.
type quietLogger struct{}

func (quietLogger) Errorf(string, ...any) {}
func (quietLogger) Warnf(string, ...any)  {}
func (quietLogger) Debugf(string, ...any) {}
