package gateways

import (
	"context"
	"time"
)

// Hosted pages: the gateway's own web page collects the card or bank
// account (and takes a payment), so the numbers never reach us. IntegraPay
// offers them (HPP for cards, eDDR for bank accounts or cards); a gateway
// that has none does not implement HostedPages.

// HostedKind is the kind of hosted page.
type HostedKind string

// Hosted page kinds.
const (
	// HostedCard is a card page (IntegraPay HPP). With a Charge it takes a
	// payment; with SavePayer the card stays on the payer.
	HostedCard HostedKind = "HPP"
	// HostedBank is a bank account page with the debit agreement accepted on
	// it (IntegraPay eDDR).
	HostedBank HostedKind = "EDDR"
)

// HostedPageTTL is how long a hosted page's token can be used (IntegraPay:
// 20 minutes).
const HostedPageTTL = 20 * time.Minute

// HostedCharge is the payment a hosted page takes.
type HostedCharge struct {
	// Reference is our reference, persisted before the page is created; the
	// gateway's transaction carries it, so a lookup by reference finds it.
	Reference   string
	Amount      int64 // minor units, > 0
	Currency    string
	Description string
}

// HostedRequest asks for a hosted page.
type HostedRequest struct {
	Kind  HostedKind
	Payer Payer
	// SavePayer keeps the details on the payer for later charges.
	SavePayer bool
	// ReturnURL is where the browser goes afterwards; the gateway adds
	// ?webPageToken={token}.
	ReturnURL  string
	Charge     *HostedCharge
	CustomerIP string
	Operator   string
}

// HostedPage is a created page: send the browser to URL.
type HostedPage struct {
	Token     string
	URL       string
	ExpiresAt time.Time
}

// HostedResult is what the gateway says of a hosted page's token.
type HostedResult struct {
	Token  string
	Kind   HostedKind
	Status string // the gateway's word, upper case (PROCESSED_SUCCESSFUL, WAITING, ...)
	// Open: the page can still be completed (not opened yet, or open now).
	Open bool
	// Completed: the page was completed. That alone says nothing of a
	// payment: read Charge.
	Completed bool
	// PayerRef is the payer the page was made for.
	PayerRef string
	// Method is what the page saved, as far as the answer shows it (Token
	// is the payer reference). Nil when nothing was saved.
	Method *SavedMethod
	// Charge is the payment the page made, nil when there is none.
	Charge *Outcome
	// AcceptedAt and AcceptedIP are when and from where the customer
	// completed the page (the debit agreement of an eDDR page).
	AcceptedAt time.Time
	AcceptedIP string
	Message    string // the gateway's description of the status
}

// HostedPages is implemented by gateways that offer hosted pages.
type HostedPages interface {
	// CreateHostedPage creates a page. An error means no page the
	// customer can use exists.
	CreateHostedPage(ctx context.Context, req HostedRequest) (HostedPage, error)
	// LookupHostedPage reads a token's state. ErrNotFound: the gateway
	// does not know the token.
	LookupHostedPage(ctx context.Context, token string) (HostedResult, error)
	// HostedOrigin is the scheme://host the pages are served from, for a
	// Content-Security-Policy form-action that lets our forms lead there.
	HostedOrigin() string
}
