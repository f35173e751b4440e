// Package gateways is the gateway-neutral vocabulary the charge engine uses.
// IntegraPay (gateways/integrapay) and IPpay (gateways/ippay) implement
// Gateway; nothing here knows either of them, Splynx, the store or the engine.
//
// The rules every implementation keeps:
//   - Card numbers, CVVs, BSBs, routing and account numbers pass through
//     memory once, to the gateway. They never appear in an error string, a
//     log line or a returned value (only a token and a mask do). The detail
//     types below print themselves masked.
//   - Charge never retries a request that may have reached the gateway. When
//     the outcome cannot be known (timeout, dropped connection, 5xx after the
//     body was sent) it returns Status Unknown; the caller resolves it with
//     Lookup using the same Reference before anything is sent again.
//   - A duplicate-reference answer from the gateway means "look it up", and
//     the implementation does that lookup itself before returning.
package gateways

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// MethodKind is the kind of a saved payment method.
type MethodKind string

// Payment method kinds.
const (
	Card MethodKind = "card"
	Bank MethodKind = "bank" // BECS direct debit (AU) or ACH (US)
)

// Payer is the Splynx customer as a gateway needs to know them.
type Payer struct {
	// Reference is the stable identifier of the customer on the gateway side
	// (IntegraPay's UniqueReference), derived from the Splynx customer id or
	// login according to the add-on's "customer identifier" setting.
	Reference  string
	CustomerID int64
	GivenName  string
	FamilyName string // or business name
	Email      string
	Phone      string
	Street     string
	City       string
	State      string
	PostCode   string
	Country    string // ISO alpha-2, e.g. "AU", "US"
}

// CardDetails is a card as entered by the customer. It is used for one call
// and dropped; String masks it.
type CardDetails struct {
	Number   string
	ExpMonth int
	ExpYear  int // four digits
	CVV      string
	Holder   string
}

// String never shows the number or the CVV.
func (c CardDetails) String() string {
	return fmt.Sprintf("card %s exp %02d/%04d", MaskPAN(c.Number), c.ExpMonth, c.ExpYear)
}

// GoString keeps %#v from printing the fields.
func (c CardDetails) GoString() string { return c.String() }

// BankDetails is a bank account as entered by the customer. It is used for
// one call and dropped; String masks it.
type BankDetails struct {
	// Branch is the BSB (AU, 6 digits) or the ABA routing number (US, 9 digits).
	Branch        string
	AccountNumber string
	AccountName   string
	// AccountType: "CHEQUE"/"SAVINGS" (AU) or "CHECKING"/"SAVINGS" (US).
	AccountType string
}

// String never shows the branch or account number in full.
func (b BankDetails) String() string {
	return fmt.Sprintf("bank account %s", MaskAccount(b.AccountNumber))
}

// GoString keeps %#v from printing the fields.
func (b BankDetails) GoString() string { return b.String() }

// Authorisation records the customer's consent to be debited: the DDR
// service agreement (AU) or the ACH authorisation (US).
type Authorisation struct {
	AcceptedAt time.Time
	IP         string
	// SEC is the NACHA entry class for ACH ("WEB" when authorised online,
	// "PPD" for standing written authorisations). Empty for AU.
	SEC string
}

// SaveMethodRequest saves a card or a bank account for a payer. Exactly one
// of Card, Bank and HostedToken is set.
type SaveMethodRequest struct {
	Payer         Payer
	Card          *CardDetails
	Bank          *BankDetails
	Authorisation Authorisation
	// HostedToken, instead of Card or Bank, records what a completed hosted
	// page (HostedPages) saved: the gateway reads the token and checks it
	// belongs to Payer. Gateways without hosted pages refuse it.
	HostedToken string
}

// SavedMethod is what we keep of a saved payment method: never the number.
type SavedMethod struct {
	Kind MethodKind
	// Token is the gateway's handle to charge it: the IPpay token, or for
	// IntegraPay the payer's UniqueReference (IntegraPay keeps one active
	// method per payer and charges the payer).
	Token string
	// Mask is what a person sees: "Visa •••• 1111", "BSB 123-456 •••• 678".
	Mask  string
	Brand string // card brand, if known
	// HolderName is the account holder (bank) or cardholder, when known.
	// IPpay needs the account holder's name on every ACH request.
	HolderName string
	ExpMonth   int
	ExpYear    int
	// AccountType is CHECKING/SAVINGS/CHEQUE for bank methods.
	AccountType string
}

// ChargeRequest charges a saved method.
type ChargeRequest struct {
	// Reference is our idempotency key, persisted before the call and reused
	// for every retry and lookup of this attempt. References are 18
	// uppercase alphanumerics ("SP" + 16), unique across installs.
	Reference   string
	Method      SavedMethod
	PayerRef    string // the payer's Reference (IntegraPay paths use it)
	Amount      int64  // minor units, > 0
	Currency    string // "AUD", "USD"
	Description string // e.g. "Invoice 202401000123"
	// DebitDate is the day a bank debit should be taken (IntegraPay
	// schedules); zero means the next debit run.
	DebitDate time.Time
	// CustomerIP and Operator go into the gateway's audit fields.
	CustomerIP string
	Operator   string
}

// Status is the state of a charge as the gateway reports it.
type Status string

// Charge statuses.
const (
	// Approved: the money is ours (card approved, bank debit settled).
	Approved Status = "approved"
	// Pending: accepted, not settled (BECS P, card debit C, ACH accepted).
	Pending Status = "pending"
	// Declined: the gateway said no; see Reason and Retryable.
	Declined Status = "declined"
	// Unknown: the request may have been applied; resolve with Lookup.
	Unknown Status = "unknown"
)

// Reason is a normalized decline reason.
type Reason string

// Normalized decline reasons.
const (
	ReasonNone              Reason = ""
	ReasonInsufficientFunds Reason = "insufficient_funds"
	ReasonInvalidAccount    Reason = "invalid_account"
	ReasonAccountClosed     Reason = "account_closed"
	ReasonAuthorityRevoked  Reason = "authority_revoked"
	ReasonPayerDeceased     Reason = "payer_deceased"
	ReasonInvalidCard       Reason = "invalid_card"
	ReasonExpiredCard       Reason = "expired_card"
	ReasonLostOrStolen      Reason = "lost_or_stolen_card"
	ReasonDoNotHonor        Reason = "do_not_honor"
	ReasonChargeback        Reason = "chargeback"
	ReasonFraud             Reason = "fraud_suspected"
	ReasonLimitExceeded     Reason = "limit_exceeded"
	ReasonTechnical         Reason = "technical_failure"
	ReasonInvalidRequest    Reason = "invalid_request"
	// ReasonPayerInactive: the gateway's payer (the holder of the saved
	// method) is not active; the method needs updating before a new charge.
	ReasonPayerInactive Reason = "payer_inactive"
	ReasonOther         Reason = "other"
)

// Outcome is the result of a charge, a lookup or a status change.
type Outcome struct {
	Status    Status
	Reference string // ours
	// GatewayID is the gateway's transaction id; it becomes the Splynx
	// payment's receipt number. Empty while a bank debit is only scheduled.
	GatewayID string
	// SecondaryID is a second gateway id worth keeping (IntegraPay's RT id or
	// scheduledPaymentId, IPpay's Approval code).
	SecondaryID string
	Amount      int64 // minor units actually processed, when the gateway says
	Reason      Reason
	Code        string // raw gateway code: R1, 051, ...
	Message     string // gateway text, masked
	Retryable   bool   // a later attempt can succeed (declines only)
	Review      bool   // approved or pending but flagged for a person to check
	// SettlesBy, for a Pending outcome of a gateway that has no settlement
	// feed (IPpay ACH), is when the item counts as settled if no return has
	// arrived. Zero means: wait for a status change.
	SettlesBy time.Time
	// Err says why the outcome is Unknown (timeout, reset, 5xx).
	Err error
}

// Final reports whether the outcome will not change by itself (it can still
// be reversed later by a dishonour or chargeback).
func (o Outcome) Final() bool { return o.Status == Approved || o.Status == Declined }

// LookupRequest finds a charge by our reference.
type LookupRequest struct {
	Reference string
	Method    SavedMethod
	PayerRef  string
	GatewayID string // if already known
	Amount    int64
}

// StatusChange is a change of a charge's status reported by the gateway:
// settlement, rejection, or a late dishonour/chargeback after settlement.
type StatusChange struct {
	Outcome Outcome // Reference and/or GatewayID identify the charge
	// Late is true for a rejection after the charge had settled.
	Late bool
	At   time.Time
	// AckID is passed back to Ack once the change has been applied.
	AckID string
}

// RefundRequest refunds all or part of an approved charge.
type RefundRequest struct {
	Reference string // a new reference of our own for the refund
	Original  Outcome
	Method    SavedMethod
	PayerRef  string
	Amount    int64 // minor units, ≤ the original
	Reason    string
}

// Gateway is a payment gateway as the charge engine sees it.
type Gateway interface {
	// Name is the gateway's display name ("IntegraPay", "IPpay").
	Name() string
	// SaveMethod stores a card or bank account for the payer and returns its
	// token and mask. Validation failures return ErrInvalidDetails without
	// calling the gateway.
	SaveMethod(ctx context.Context, req SaveMethodRequest) (SavedMethod, error)
	// RemoveMethod stops the saved method from being charged.
	RemoveMethod(ctx context.Context, payerRef string, m SavedMethod) error
	// Charge charges a saved method. An error means nothing was sent (bad
	// request, missing configuration); every other result is an Outcome,
	// Unknown included.
	Charge(ctx context.Context, req ChargeRequest) (Outcome, error)
	// Lookup asks the gateway for the charge made with req.Reference. It
	// returns ErrNotFound only when a channel the spec confirms answered
	// explicitly that the gateway has no such charge; when every channel it
	// could ask is inferred (or answered 404/405 for a path we guessed) it
	// returns ErrInconclusive, which proves nothing either way.
	// ErrNotFound means the gateway never received it.
	Lookup(ctx context.Context, req LookupRequest) (Outcome, error)
	// Changes returns status changes not yet acknowledged.
	Changes(ctx context.Context) ([]StatusChange, error)
	// Ack acknowledges a change so it is not returned again (until the
	// status changes again).
	Ack(ctx context.Context, ch StatusChange) error
	// Refund refunds an approved charge (void before settlement where the
	// gateway needs that).
	Refund(ctx context.Context, req RefundRequest) (Outcome, error)
	// Ping checks connectivity and credentials.
	Ping(ctx context.Context) error
}

// Errors shared by implementations; wrap them with %w.
var (
	ErrNotFound       = errors.New("gateway: not found")
	ErrInvalidDetails = errors.New("gateway: invalid payment details")
	ErrNotConfigured  = errors.New("gateway: not configured")
	ErrUnsupported    = errors.New("gateway: not supported")
	ErrUnauthorized   = errors.New("gateway: credentials rejected")
	ErrUnreachable    = errors.New("gateway: unreachable")
	// ErrInconclusive: a lookup could not tell whether the gateway has the
	// charge (only unconfirmed paths could be asked, or they answered 404 or
	// 405). The charge stays unresolved; nothing may be sent again.
	ErrInconclusive = errors.New("gateway: lookup inconclusive")
)
