package integrapay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/splynx-pay/splynx-pay/gateways"
)

type cardPaymentBody struct {
	ProcessType  string
	Reference    string
	Description  string
	Amount       json.Number
	CurrencyCode string
	ServiceDate  string
	Audit        audit
}

type schedulePaymentBody struct {
	Date        string
	Amount      json.Number
	Reference   string
	Description string
	ServiceDate string
	Audit       audit
}

type cardPaymentResponse struct {
	TransactionID     text   `json:"transactionId"`
	Reference         text   `json:"reference"`
	StatusCode        text   `json:"statusCode"`
	SubStatusCode     text   `json:"subStatusCode"`
	StatusDescription text   `json:"statusDescription"`
	ProcessedAmount   amount `json:"processedAmount"`
}

// Charge charges the payer's saved method: a card in real time, a bank
// account by scheduling a single payment for req.DebitDate (today when zero
// or past). It never resends: a timeout, dropped connection, 5xx or
// unreadable answer after the request left is an Unknown outcome for Lookup
// to resolve, and a DuplicateTransaction answer is looked up here.
func (c *Client) Charge(ctx context.Context, req gateways.ChargeRequest) (gateways.Outcome, error) {
	payerRef := req.PayerRef
	if payerRef == "" {
		payerRef = req.Method.Token
	}
	switch {
	case strings.TrimSpace(req.Reference) == "":
		return gateways.Outcome{}, fmt.Errorf("integrapay: charge: %w: empty reference", gateways.ErrInvalidDetails)
	case req.Amount <= 0:
		return gateways.Outcome{}, fmt.Errorf("integrapay: charge %s: %w: amount %d cents is not positive", req.Reference, gateways.ErrInvalidDetails, req.Amount)
	case payerRef == "":
		return gateways.Outcome{}, fmt.Errorf("integrapay: charge %s: %w: no payer reference", req.Reference, gateways.ErrInvalidDetails)
	case req.Method.Kind != gateways.Card && req.Method.Kind != gateways.Bank:
		return gateways.Outcome{}, fmt.Errorf("integrapay: charge %s: %w: method kind %q", req.Reference, gateways.ErrInvalidDetails, req.Method.Kind)
	}
	currency := strings.ToUpper(req.Currency)
	if currency == "" {
		currency = "AUD"
	}
	now := c.clk.Now().In(c.loc)
	au := c.audit(req.Operator, req.CustomerIP)
	log := c.log.With(zap.String("reference", req.Reference), zap.String("payer_ref", payerRef),
		zap.String("kind", string(req.Method.Kind)), zap.Int64("amount_cents", req.Amount))

	var out gateways.Outcome
	var err error
	if req.Method.Kind == gateways.Card {
		body := cardPaymentBody{
			ProcessType:  "COMPLETE",
			Reference:    req.Reference,
			Description:  req.Description,
			Amount:       dollars(req.Amount),
			CurrencyCode: currency,
			ServiceDate:  now.Format(time.RFC3339),
			Audit:        au,
		}
		var resp cardPaymentResponse
		err = c.do(ctx, call{op: "charge card", method: http.MethodPost, path: c.payerPath(payerRef, "transactions", "card"), body: body}, &resp)
		if err == nil {
			out = cardOutcome(req.Reference, req.Amount, resp)
		}
	} else {
		date := now
		if !req.DebitDate.IsZero() {
			if d := req.DebitDate.In(c.loc); d.Format(time.DateOnly) > now.Format(time.DateOnly) {
				date = d
			}
		}
		body := schedulePaymentBody{
			Date:        date.Format(time.DateOnly),
			Amount:      dollars(req.Amount),
			Reference:   req.Reference,
			Description: req.Description,
			ServiceDate: now.Format(time.RFC3339),
			Audit:       au,
		}
		var resp struct {
			ScheduledPaymentID text `json:"scheduledPaymentId"`
		}
		err = c.do(ctx, call{op: "schedule bank debit", method: http.MethodPost, path: c.payerPath(payerRef, "schedules", "payments"), body: body}, &resp)
		if err == nil {
			out = gateways.Outcome{Status: gateways.Pending, Reference: req.Reference, SecondaryID: string(resp.ScheduledPaymentID), Amount: req.Amount}
		}
	}
	if err != nil {
		out, err = c.chargeFailed(ctx, req, payerRef, err, log)
		if err != nil {
			return gateways.Outcome{}, err
		}
	}
	log.Info("charge sent", zap.String("status", string(out.Status)), zap.String("transaction_id", out.GatewayID),
		zap.String("secondary_id", out.SecondaryID), zap.String("code", out.Code), zap.String("reason", string(out.Reason)))
	return out, nil
}

// chargeFailed decides what a failed charge request means: an error when it
// certainly was not applied and is not the payer's fault (login, rate limit,
// configuration), a Declined outcome when the gateway refused it, Unknown
// when it may have been applied, and the looked-up charge on a duplicate.
func (c *Client) chargeFailed(ctx context.Context, req gateways.ChargeRequest, payerRef string, err error, log *zap.Logger) (gateways.Outcome, error) {
	if maybeApplied(err) {
		log.Warn("charge outcome unknown", zap.Error(err))
		return gateways.Outcome{Status: gateways.Unknown, Reference: req.Reference, Err: err}, nil
	}
	var ae *APIError
	if !errors.As(err, &ae) {
		return gateways.Outcome{}, fmt.Errorf("integrapay: charge %s: %w", req.Reference, err)
	}
	switch {
	case ae.Code == "DuplicateTransaction":
		log.Info("duplicate reference, looking the charge up")
		got, lerr := c.Lookup(ctx, gateways.LookupRequest{Reference: req.Reference, Method: req.Method, PayerRef: payerRef, Amount: req.Amount})
		if lerr != nil {
			// The gateway has something under this reference that we
			// cannot see yet; the reconciler tries again later.
			return gateways.Outcome{Status: gateways.Unknown, Reference: req.Reference, Err: fmt.Errorf("integrapay: charge %s: duplicate reference, lookup failed: %w", req.Reference, lerr)}, nil
		}
		return got, nil
	case ae.Status == http.StatusTooManyRequests || ae.Code == "TooManyRequests" || ae.Code == "TooManyTransactions",
		errors.Is(ae, gateways.ErrUnauthorized), errors.Is(ae, gateways.ErrNotConfigured):
		return gateways.Outcome{}, fmt.Errorf("integrapay: charge %s not sent: %w", req.Reference, err)
	}
	reason, retry := errorCodeOutcome(ae.Code)
	return gateways.Outcome{
		Status:    gateways.Declined,
		Reference: req.Reference,
		Reason:    reason,
		Code:      ae.Code,
		Message:   ae.Message,
		Retryable: retry,
	}, nil
}

// cardOutcome reads a real-time card answer (statuses S F R N V).
func cardOutcome(ref string, requested int64, r cardPaymentResponse) gateways.Outcome {
	o := gateways.Outcome{
		Reference: ref,
		GatewayID: string(r.TransactionID),
		Code:      string(r.SubStatusCode),
		Message:   gateways.ScrubDigits(string(r.StatusDescription)),
	}
	switch strings.ToUpper(string(r.StatusCode)) {
	case "S":
		o.Status = gateways.Approved
		o.Amount = requested
		if r.ProcessedAmount.set {
			o.Amount = r.ProcessedAmount.cents
			// A partial approval is money we did not expect: flag it.
			o.Review = o.Amount != requested
		}
	case "F":
		o.Status = gateways.Declined
		o.Reason, o.Retryable = gateways.ReasonOther, false
		if o.Code != "" {
			o.Reason, o.Retryable = RejectionReason(o.Code)
		}
	case "R":
		// Real-time R is "unable to process, retry later" (bank down,
		// technical failure); a new attempt needs a new reference.
		o.Status = gateways.Declined
		o.Reason, o.Retryable = gateways.ReasonTechnical, true
		if o.Code != "" {
			o.Reason, o.Retryable = RejectionReason(o.Code)
		}
	case "N", "P", "C":
		o.Status = gateways.Pending
	case "V":
		// 3-D Secure needs the cardholder at a browser; a stored-card
		// charge by the daemon cannot complete it.
		o.Status = gateways.Declined
		o.Reason = gateways.ReasonOther
		o.Code = "V"
		if o.Message == "" {
			o.Message = "verification (3-D Secure) required; not possible for a stored card"
		}
	default:
		o.Status = gateways.Unknown
		o.Err = fmt.Errorf("integrapay: charge %s: %w: status %q", ref, ErrMalformed, string(r.StatusCode))
	}
	if o.Status == gateways.Declined && o.Code == "" {
		o.Code = strings.ToUpper(string(r.StatusCode))
	}
	return o
}

// recordOutcome reads a stored transaction (feed, lookup).
func recordOutcome(t transaction) (gateways.Outcome, bool) {
	st, reason, retry, late := statusOutcome(string(t.StatusCode), string(t.SubStatusCode))
	o := gateways.Outcome{
		Status:    st,
		Reference: string(t.Reference),
		GatewayID: string(t.TransactionID),
		Reason:    reason,
		Retryable: retry,
		Code:      string(t.SubStatusCode),
		Message:   gateways.ScrubDigits(string(t.StatusDescription)),
	}
	if strings.HasPrefix(strings.ToUpper(string(t.SecondaryTransactionID)), "RT") {
		// Real-time card payments answer with the RT id, which is what
		// Charge returned and Splynx shows; keep it as the main id so a
		// lookup and the charge agree, and the numeric id second.
		o.GatewayID, o.SecondaryID = string(t.SecondaryTransactionID), string(t.TransactionID)
	} else if t.ScheduledPaymentID != "" {
		o.SecondaryID = string(t.ScheduledPaymentID)
	}
	if t.Amount.set {
		o.Amount = t.Amount.cents
	} else if t.AmountRequested.set {
		o.Amount = t.AmountRequested.cents
	}
	if st == gateways.Declined && o.Code == "" {
		o.Code = strings.ToUpper(string(t.StatusCode))
	}
	if st == gateways.Unknown {
		o.Err = fmt.Errorf("integrapay: transaction %s: %w: status %q", t.TransactionID, ErrMalformed, string(t.StatusCode))
	}
	return o, late
}

// Lookup finds the charge made with req.Reference. Cards are looked up
// through transactions/card-payments/?reference= (confirmed, spec §7.2): its
// "none" is an answer (gateways.ErrNotFound). Bank debits can only be asked
// about through paths no source confirms (transactions/bank-payments/ and
// payers/{ref}/schedules/payments): a match there is used, but a miss, a 404
// or a 405 proves nothing, so a bank lookup that finds nothing returns
// gateways.ErrInconclusive and the caller waits for the transactions/new feed.
func (c *Client) Lookup(ctx context.Context, req gateways.LookupRequest) (gateways.Outcome, error) {
	if req.Reference == "" {
		return gateways.Outcome{}, fmt.Errorf("integrapay: lookup: %w: empty reference", gateways.ErrInvalidDetails)
	}
	payerRef := req.PayerRef
	if payerRef == "" {
		payerRef = req.Method.Token
	}
	kinds := []gateways.MethodKind{req.Method.Kind}
	if req.Method.Kind == "" {
		kinds = []gateways.MethodKind{gateways.Card, gateways.Bank}
	}
	var result error
	for _, k := range kinds {
		if k != gateways.Bank {
			o, err := c.findTransaction(ctx, "transactions/card-payments/", req.Reference)
			if err == nil {
				c.log.Info("charge looked up", zap.String("reference", req.Reference), zap.String("transaction_id", o.GatewayID), zap.String("status", string(o.Status)))
				return o, nil
			}
			if !errors.Is(err, gateways.ErrNotFound) {
				return gateways.Outcome{}, err
			}
			if result == nil {
				result = fmt.Errorf("integrapay: lookup %s: %w", req.Reference, gateways.ErrNotFound)
			}
			continue
		}
		o, err := c.findTransaction(ctx, "transactions/bank-payments/", req.Reference)
		if err == nil {
			c.log.Info("charge looked up", zap.String("reference", req.Reference), zap.String("transaction_id", o.GatewayID), zap.String("status", string(o.Status)), zap.String("path", "inferred"))
			return o, nil
		}
		if !inferredMiss(err) {
			return gateways.Outcome{}, err
		}
		if payerRef != "" {
			o, err := c.findScheduled(ctx, payerRef, req.Reference)
			if err == nil {
				c.log.Info("charge looked up", zap.String("reference", req.Reference), zap.String("scheduled_payment_id", o.SecondaryID), zap.String("status", string(o.Status)), zap.String("path", "inferred"))
				return o, nil
			}
			if !inferredMiss(err) {
				return gateways.Outcome{}, err
			}
		}
		// Only unconfirmed paths could be asked: a bank debit we cannot
		// see may still be scheduled or settled.
		result = fmt.Errorf("integrapay: lookup %s: bank debit not found through unconfirmed paths: %w", req.Reference, gateways.ErrInconclusive)
	}
	c.log.Info("charge not found", zap.String("reference", req.Reference), zap.Bool("conclusive", errors.Is(result, gateways.ErrNotFound)))
	return gateways.Outcome{}, result
}

// inferredMiss reports whether an answer from an unconfirmed path means
// only "this path did not find it": a miss, 404 or 405.
func inferredMiss(err error) bool {
	if errors.Is(err, gateways.ErrNotFound) {
		return true
	}
	var ae *APIError
	return errors.As(err, &ae) && (ae.Status == http.StatusNotFound || ae.Status == http.StatusMethodNotAllowed)
}

func (c *Client) findTransaction(ctx context.Context, path, ref string) (gateways.Outcome, error) {
	var raw rawBody
	err := c.do(ctx, call{op: "look up transaction", method: http.MethodGet, path: path, query: url.Values{"reference": {ref}}, idempotent: true}, &raw)
	if err != nil {
		return gateways.Outcome{}, err
	}
	list, err := decodeList[transaction](raw)
	if err != nil {
		return gateways.Outcome{}, fmt.Errorf("integrapay: look up %s: %w", ref, ErrMalformed)
	}
	// Several rows can carry the reference (the gateway's own re-attempts
	// of a rejected debit); the latest one says where the money is.
	var found *transaction
	for i := range list {
		if string(list[i].Reference) == ref && list[i].TransactionID != "" {
			found = &list[i]
		}
	}
	if found == nil {
		return gateways.Outcome{}, fmt.Errorf("integrapay: look up %s: %w", ref, gateways.ErrNotFound)
	}
	o, _ := recordOutcome(*found)
	o.Reference = ref
	return o, nil
}

type scheduledPayment struct {
	ScheduledPaymentID text   `json:"scheduledPaymentId"`
	Reference          text   `json:"reference"`
	Date               text   `json:"date"`
	Amount             amount `json:"amount"`
	Status             text   `json:"status"`
}

// findScheduled finds a payment still waiting for its debit run. The path
// is not confirmed by any source (see the package comment).
func (c *Client) findScheduled(ctx context.Context, payerRef, ref string) (gateways.Outcome, error) {
	var raw rawBody
	err := c.do(ctx, call{op: "look up scheduled payment", method: http.MethodGet, path: c.payerPath(payerRef, "schedules", "payments"), query: url.Values{"reference": {ref}}, idempotent: true}, &raw)
	if err != nil {
		return gateways.Outcome{}, err
	}
	list, err := decodeList[scheduledPayment](raw)
	if err != nil {
		return gateways.Outcome{}, fmt.Errorf("integrapay: look up scheduled %s: %w", ref, ErrMalformed)
	}
	for _, s := range list {
		if string(s.Reference) != ref {
			continue
		}
		switch strings.ToUpper(string(s.Status)) {
		case "DELETED", "CANCELLED", "CANCELED":
			continue
		}
		o := gateways.Outcome{Status: gateways.Pending, Reference: ref, SecondaryID: string(s.ScheduledPaymentID)}
		if s.Amount.set {
			o.Amount = s.Amount.cents
		}
		return o, nil
	}
	return gateways.Outcome{}, fmt.Errorf("integrapay: look up scheduled %s: %w", ref, gateways.ErrNotFound)
}

// Refund refunds an approved charge through
// transactions/{bank|card}-payments/{id}/refunds.
func (c *Client) Refund(ctx context.Context, req gateways.RefundRequest) (gateways.Outcome, error) {
	id := req.Original.GatewayID
	switch {
	case req.Reference == "":
		return gateways.Outcome{}, fmt.Errorf("integrapay: refund: %w: empty reference", gateways.ErrInvalidDetails)
	case id == "":
		return gateways.Outcome{}, fmt.Errorf("integrapay: refund %s: %w: original has no transaction id", req.Reference, gateways.ErrInvalidDetails)
	case req.Amount <= 0 || (req.Original.Amount > 0 && req.Amount > req.Original.Amount):
		return gateways.Outcome{}, fmt.Errorf("integrapay: refund %s: %w: amount %d cents", req.Reference, gateways.ErrInvalidDetails, req.Amount)
	}
	kind := "card-payments"
	if req.Method.Kind == gateways.Bank {
		kind = "bank-payments"
	}
	desc := req.Reason
	if desc == "" {
		desc = "Refund of " + req.Original.Reference
	}
	body := struct {
		Reference   string
		Description string
		Amount      json.Number
		Audit       audit
	}{req.Reference, desc, dollars(req.Amount), c.audit("", "")}
	var resp cardPaymentResponse
	err := c.do(ctx, call{op: "refund", method: http.MethodPost, path: "transactions/" + kind + "/" + url.PathEscape(id) + "/refunds", body: body}, &resp)
	log := c.log.With(zap.String("reference", req.Reference), zap.String("original_reference", req.Original.Reference), zap.String("transaction_id", id))
	if err != nil {
		if maybeApplied(err) {
			log.Warn("refund outcome unknown", zap.Error(err))
			return gateways.Outcome{Status: gateways.Unknown, Reference: req.Reference, Err: err}, nil
		}
		var ae *APIError
		if errors.As(err, &ae) && ae.Status >= 400 && ae.Status < 500 && ae.Status != http.StatusTooManyRequests && !errors.Is(ae, gateways.ErrUnauthorized) {
			log.Info("refund refused", zap.String("code", ae.Code))
			return gateways.Outcome{Status: gateways.Declined, Reference: req.Reference, Code: ae.Code, Message: ae.Message, Reason: gateways.ReasonInvalidRequest}, nil
		}
		return gateways.Outcome{}, fmt.Errorf("integrapay: refund %s not sent: %w", req.Reference, err)
	}
	o := gateways.Outcome{Status: gateways.Approved, Reference: req.Reference, GatewayID: string(resp.TransactionID), Amount: req.Amount}
	if resp.StatusCode != "" {
		// The refund answer's shape is unconfirmed: read a status if there
		// is one, otherwise a 2xx means accepted.
		o = cardOutcome(req.Reference, req.Amount, resp)
	}
	log.Info("refund sent", zap.String("status", string(o.Status)), zap.String("refund_id", o.GatewayID))
	return o, nil
}
