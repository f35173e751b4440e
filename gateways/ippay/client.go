// Package ippay is the IPpay XML gateway client: card and ACH payments by
// token, implementing gateways.Gateway. The facts it relies on, and how sure
// they are, are in specs/ippay.md; ippaysim is the simulator it is tested
// against.
//
// Choices worth knowing before changing anything:
//   - The TransactionID of a charge is TransactionID(reference), so ENQ and
//     every follow-up (VOID, CREDIT, VOIDACH, REVERSAL) find it again without
//     anything but the reference being stored.
//   - Card SALE approved is Approved; ACH CHECK accepted is Pending with
//     SettlesBy = now + SettleDays business days, because IPpay reports
//     neither settlements nor returns through this API. Returns come from a
//     CSV report (returns.go); the engine decides whether a return is late.
//   - The account holder's name, which CHECK, VOIDACH and REVERSAL require,
//     is SavedMethod.HolderName (see holderName).
//   - RemoveMethod sends nothing (there is no token deletion call). Acks of
//     returns-report rows go to an AckStore: the engine's SQLite database
//     (UseAckStore), or memory when the client is used on its own.
//   - Responses are read leniently (root and element names in any case, any
//     order, unknown elements skipped) and masked as they are read.
//
// IPpay has one path (POST {ippay_url}, XML); what varies is the
// TransactionType. What specs/ippay.md says of each one used here (C / C+ =
// confirmed by one / several sources, I = our inference), and what an HTTP
// error (404, 405, any non-200) from the endpoint does:
//
//	use                  request                       spec                          on 404 / 405 / 5xx
//	card charge          SALE, Token, Origin RECURRING C+ (Origin RECURRING: I)      Unknown, resolved by ENQ
//	ACH debit            CHECK, ACH Token              C+                            Unknown, resolved by ENQ
//	look-up              ENQ, same TransactionID       C (request); reply echoing    lookup error: the attempt stays
//	                                                   the original: I; answer for   unknown, blocks its document and goes
//	                                                   an unknown id: ? (below)      to review after review_unknown_after_days
//	save card / bank     TOKENIZE                      C+                            error, nothing saved
//	refund card          VOID, then linked CREDIT      C / C+                        refund not done, shown to staff
//	refund ACH           REVERSAL (VOIDACH first only  C+ (VOIDACH withdrawn: C)     refund not done, shown to staff
//	                     with Config.VoidACH)
//	connection check     PING                          C                             error
//	ACH returns          GET {ippay_returns_url} CSV   I (format is ours)            error; without the setting ACH
//	                                                                                 items mature after SettleDays
//
// ippaysim serves the returns report only with Options.Inferred. An ENQ
// answer is money only when it reads as the plain original success (see
// below).
//
// ENQ for a TransactionID IPpay never received proves nothing (issue 11:
// "not received" only from a confirmed, explicit answer). The public clients
// were read for it (December 2026):
//   - BOP (gitpan/Business-OnlinePayment-IPPay 0.09, IPPay.pm, t/card.t,
//     t/check.t) and UCRM (drphipps/UCRM-Plugin-IPPay, IpPay/*.php) never
//     send ENQ; OMNI (dranes/omnipay-ippay) has no ENQ request either.
//   - BPI (Billing::Payment::IPPay) lists ENQ, but its enq() sends VOID; it
//     reads 025 only after CAPT ("capture a previously authorized
//     transaction only").
//   - AM (activemerchant jetpay.rb, jetpay_v2.rb) maps 025 "Transaction Not
//     Found." and 940 "Record Not Found."; its remote tests against the
//     JetPay test host get 025 for a CAPT of an unknown TransactionID. It
//     has no ENQ.
//
// So 025 is confirmed for follow-ups (CAPT) of an unknown id, but what ENQ
// answers for one is not shown anywhere: it might be 025, another code, or
// an answer that does not distinguish "never received" from "not yet
// visible". Lookup therefore returns gateways.ErrInconclusive for 025, 940
// or a reply without an ActionCode: the attempt stays unknown, blocks its
// document and goes to review, where a person checks IPpay's portal
// (charge.DecideNotCharged frees the document). ippaysim answers 025 only
// with Options.Inferred; by default its answer carries no ActionCode.
//
// How sure each gateway behaviour is, after five public clients were run
// against the simulator (issue 17); [C+] two or more sources, [C] one,
// [?] none or conflicting:
//   - One terminal takes cards and ACH [C+: BOP 0.10 t/check.t sends CHECK to
//     the card test terminal and gets CHECK ACCEPTED; OMNI and Splynx's add-on
//     have one terminal setting]. A separate ACH terminal exists for some
//     merchants [C: OCA]; it is optional here (was: two terminals [I]).
//   - VOIDACH is withdrawn [C: BOP 0.10, quoting the gateway "VOIDACH
//     transactions are no longer supported"]: ACH refunds are REVERSALs;
//     Config.VoidACH tries VOIDACH first (was: VOIDACH first [C+], now stale).
//   - Invalid card number: 900 on the current gateway, 912 on the old JetPay
//     one [C: BOP 0.10 t/card.t]; both are ReasonInvalidCard (was: 912 only).
//   - The gateway assigns a TransactionID when a request has none [C: OCA,
//     AGR]; this client always sends its own for charges and refunds.
//   - ENQ's answer layout is not public [?], and IPpay may void a sale whose
//     answer hit a network error [C: SPEC]. So an ENQ answer is money only
//     when it reads as the plain original success (enqOutcome); a void is a
//     retryable decline, any other text stays unknown for a person.
package ippay

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/go-resty/resty/v2"
	"go.uber.org/zap"

	"github.com/splynx-pay/splynx-pay/gateways"
	"github.com/splynx-pay/splynx-pay/internal/clock"
)

// Gateway URLs. The setting ippay_url overrides them.
const (
	TestURL = "https://testgtwy.ippay.com/ippay"
	LiveURL = "https://gtwy.ippay.com/ippay"
)

// Defaults for Config fields left zero.
const (
	DefaultTimeout    = 30 * time.Second
	DefaultSettleDays = 5
	DefaultSEC        = "WEB"
)

const maxBody = 1 << 20

// Config is the IPpay connection. One terminal serves cards and ACH (BOP's
// own tests send CHECK to the card test terminal; OMNI and Splynx's IPpay
// add-on have one terminal setting), so CardTerminalID alone is enough.
// ACHTerminalID is only for merchants IPpay gave a separate ACH terminal
// (OCA supports that); empty, ACH goes through the card terminal.
type Config struct {
	URL            string
	CardTerminalID string
	ACHTerminalID  string
	// VoidACH makes a full ACH refund try VOIDACH before the REVERSAL. Off
	// by default: IPpay answers VOIDACH "no longer supported" (BOP 0.10),
	// and a withdrawn call is one more request that can go unanswered.
	VoidACH bool
	// SEC is the NACHA entry class sent on CHECK: WEB when customers
	// authorise online, PPD for standing written authorisations.
	SEC string
	// SettleDays is how many business days after a CHECK is accepted the
	// debit counts as settled if no return has arrived.
	SettleDays int
	// ReturnsURL is an optional CSV returns report fetched by Changes.
	ReturnsURL string
	Timeout    time.Duration
}

// Client talks to IPpay. It implements gateways.Gateway.
type Client struct {
	cfg   Config
	http  *resty.Client
	log   *zap.Logger
	clock clock.Clock

	acksMu sync.Mutex
	acks   gateways.AckStore // returns already applied; see Ack
}

var (
	_ gateways.Gateway      = (*Client)(nil)
	_ gateways.AckStoreUser = (*Client)(nil)
)

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient sets the underlying HTTP client (transport, proxy, TLS).
// Config.Timeout still applies.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) {
		// A copy: New sets the timeout on it, which must not change a
		// client the caller shares with others.
		cp := *hc
		c.http = resty.NewWithClient(&cp)
	}
}

// WithLogger sets the logger; nil means no logging.
func WithLogger(l *zap.Logger) Option {
	return func(c *Client) {
		if l != nil {
			c.log = l
		}
	}
}

// WithAckStore keeps acknowledged returns in s (see Ack).
func WithAckStore(s gateways.AckStore) Option {
	return func(c *Client) { c.UseAckStore(s) }
}

// UseAckStore keeps acknowledged returns in s from now on; the charge
// engine calls it with its database.
func (c *Client) UseAckStore(s gateways.AckStore) {
	if s != nil {
		c.acksMu.Lock()
		c.acks = s
		c.acksMu.Unlock()
	}
}

func (c *Client) ackStore() gateways.AckStore {
	c.acksMu.Lock()
	defer c.acksMu.Unlock()
	return c.acks
}

// WithClock sets the clock used for ACH settlement dates and card expiry.
func WithClock(cl clock.Clock) Option {
	return func(c *Client) {
		if cl != nil {
			c.clock = cl
		}
	}
}

// New checks the configuration and returns a client.
func New(cfg Config, opts ...Option) (*Client, error) {
	if strings.TrimSpace(cfg.URL) == "" {
		return nil, fmt.Errorf("ippay: URL is empty (use %s for testing or %s live): %w", TestURL, LiveURL, gateways.ErrNotConfigured)
	}
	if cfg.CardTerminalID == "" && cfg.ACHTerminalID == "" {
		return nil, fmt.Errorf("ippay: no terminal ID set (ippay_terminal_id / ippay_ach_terminal_id): %w", gateways.ErrNotConfigured)
	}
	if cfg.SEC == "" {
		cfg.SEC = DefaultSEC
	}
	cfg.SEC = strings.ToUpper(cfg.SEC)
	switch cfg.SEC {
	case "WEB", "PPD", "CCD", "TEL":
	default:
		return nil, fmt.Errorf("ippay: SEC code %q is not one of WEB, PPD, CCD, TEL: %w", cfg.SEC, gateways.ErrNotConfigured)
	}
	if cfg.SettleDays <= 0 {
		cfg.SettleDays = DefaultSettleDays
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	c := &Client{cfg: cfg, log: zap.NewNop(), clock: clock.Real{}, acks: &gateways.MemoryAcks{}}
	for _, o := range opts {
		o(c)
	}
	if c.http == nil {
		c.http = resty.New()
	}
	// A payment POST is never retried by the transport: a retry with the
	// same TransactionID is a duplicate, and one with a new ID a second
	// charge. Unknown outcomes are resolved with ENQ by the caller.
	c.http.SetRetryCount(0).
		SetTimeout(cfg.Timeout).
		SetResponseBodyLimit(maxBody).
		SetLogger(quietLogger{})
	c.log = c.log.Named("ippay")
	return c, nil
}

// Name is the gateway's display name.
func (c *Client) Name() string { return "IPpay" }

// terminal picks the Terminal ID for a method kind.
func (c *Client) terminal(kind gateways.MethodKind) (string, error) {
	if kind == gateways.Bank {
		if c.cfg.ACHTerminalID != "" {
			return c.cfg.ACHTerminalID, nil
		}
		if c.cfg.CardTerminalID != "" {
			return c.cfg.CardTerminalID, nil
		}
	} else if c.cfg.CardTerminalID != "" {
		return c.cfg.CardTerminalID, nil
	}
	return "", fmt.Errorf("ippay: no terminal ID for %s payments: %w", kind, gateways.ErrNotConfigured)
}

// sendError is a failed exchange. Sent tells whether the request may have
// reached the gateway: false only when the connection was never made.
type sendError struct {
	Sent bool
	Err  error
}

func (e *sendError) Error() string { return e.Err.Error() }
func (e *sendError) Unwrap() error { return e.Err }

// post sends one request and parses the reply. Any error is a *sendError.
// Neither the request body nor the raw reply ever reaches a log or an
// error unmasked.
func (c *Client) post(ctx context.Context, req *request) (response, error) {
	if err := ctx.Err(); err != nil {
		return response{}, &sendError{Err: fmt.Errorf("ippay: %s not sent: %w", req.TransactionType, err)}
	}
	body, err := req.encode()
	if err != nil {
		return response{}, &sendError{Err: err}
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	start := time.Now()
	what := "ippay: " + req.TransactionType
	if req.TransactionID != "" {
		what += " " + req.TransactionID
	}
	resp, err := c.http.R().
		SetContext(ctx).
		SetHeader("Content-Type", "text/xml").
		SetHeader("Accept", "text/xml, application/xml").
		SetBody(body).
		Post(c.cfg.URL)
	elapsed := time.Since(start)
	if err != nil {
		se := &sendError{Sent: !neverConnected(err), Err: fmt.Errorf("%s: %s: %w", what, cleanText(err.Error()), transportErr(err))}
		c.log.Warn("ippay request failed", zap.String("type", req.TransactionType), zap.String("transaction_id", req.TransactionID),
			zap.Bool("may_have_applied", se.Sent), zap.Duration("elapsed", elapsed), zap.String("error", se.Err.Error()))
		return response{}, se
	}
	raw := resp.Body()
	if resp.StatusCode() != http.StatusOK {
		se := &sendError{Sent: true, Err: fmt.Errorf("%s: HTTP %d: %s", what, resp.StatusCode(), cleanText(string(raw)))}
		c.log.Warn("ippay http error", zap.String("type", req.TransactionType), zap.String("transaction_id", req.TransactionID),
			zap.Int("status", resp.StatusCode()), zap.String("body", cleanText(string(raw))))
		return response{}, se
	}
	r, err := parseResponse(raw)
	if err != nil {
		se := &sendError{Sent: true, Err: fmt.Errorf("%s: %w (body: %s)", what, err, cleanText(string(raw)))}
		c.log.Warn("ippay unreadable response", zap.String("type", req.TransactionType), zap.String("transaction_id", req.TransactionID),
			zap.String("error", se.Err.Error()))
		return response{}, se
	}
	fields := []zap.Field{zap.String("type", req.TransactionType), zap.String("transaction_id", req.TransactionID),
		zap.String("action_code", r.ActionCode), zap.String("text", r.text()), zap.Duration("elapsed", elapsed)}
	if r.HasAdditionalInfo {
		fields = append(fields, zap.String("additional_info", cleanText(r.AdditionalInfo)))
	}
	c.log.Debug("ippay response", fields...)
	return r, nil
}

// neverConnected reports whether err happened before a connection existed,
// so the gateway cannot have seen the request.
func neverConnected(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var dns *net.DNSError
	return errors.As(err, &dns)
}

// transportErr keeps the cause's identity (deadline, cancel) for errors.Is
// and tags connection failures as ErrUnreachable.
func transportErr(err error) error {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return context.DeadlineExceeded
	case errors.Is(err, context.Canceled):
		return context.Canceled
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return context.DeadlineExceeded
	}
	return gateways.ErrUnreachable
}

// whitelistHint is what an admin needs to hear when IPpay drops us: its
// firewall only lets allow-listed IPs through.
const whitelistHint = "ask IPpay to whitelist this server's IP"

// Ping sends PING on each configured terminal.
func (c *Client) Ping(ctx context.Context) error {
	seen := map[string]bool{}
	for _, tid := range []string{c.cfg.CardTerminalID, c.cfg.ACHTerminalID} {
		if tid == "" || seen[tid] {
			continue
		}
		seen[tid] = true
		r, err := c.post(ctx, &request{TransactionType: "PING", TerminalID: tid})
		if err != nil {
			if errors.Is(err, context.Canceled) {
				return err
			}
			if errors.Is(err, gateways.ErrUnreachable) {
				return fmt.Errorf("ippay: ping terminal %s failed (%s): %w", tid, whitelistHint, err)
			}
			return fmt.Errorf("ippay: ping terminal %s failed (%s): %w: %w", tid, whitelistHint, err, gateways.ErrUnreachable)
		}
		if !r.ok() {
			if terminalRejected(r.ActionCode) {
				return fmt.Errorf("ippay: PING terminal %s: %s %s: %w", tid, r.ActionCode, r.text(), gateways.ErrUnauthorized)
			}
			return fmt.Errorf("ippay: PING terminal %s: %s %s", tid, r.ActionCode, r.text())
		}
	}
	return nil
}

func terminalRejected(code string) bool {
	switch code {
	case "003", "901", "925", "926", "996":
		return true
	}
	return false
}

// quietLogger keeps resty from printing request details to stderr; the
// client logs each exchange itself, masked.
type quietLogger struct{}

func (quietLogger) Errorf(string, ...any) {}
func (quietLogger) Warnf(string, ...any)  {}
func (quietLogger) Debugf(string, ...any) {}
