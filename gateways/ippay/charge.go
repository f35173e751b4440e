package ippay

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"go.uber.org/zap"

	"github.com/splynx-pay/splynx-pay/gateways"
	"github.com/splynx-pay/splynx-pay/internal/clock"
)

// Charge sends SALE (card token, Origin RECURRING) or CHECK (ACH token) with
// TransactionID(req.Reference). It never sends twice: an exchange that may
// have reached IPpay but gave no readable answer is Unknown, to be resolved
// with Lookup (ENQ on the same TransactionID).
func (c *Client) Charge(ctx context.Context, req gateways.ChargeRequest) (gateways.Outcome, error) {
	if err := checkCharge(req); err != nil {
		return gateways.Outcome{}, err
	}
	kind := req.Method.Kind
	tid, err := c.terminal(kind)
	if err != nil {
		return gateways.Outcome{}, err
	}
	txid := TransactionID(req.Reference)
	r := &request{
		TerminalID:    tid,
		TransactionID: txid,
		TotalAmount:   strconv.FormatInt(req.Amount, 10),
		UserIPAddress: req.CustomerIP,
		UDField1:      req.Reference,
	}
	if kind == gateways.Bank {
		r.TransactionType = "CHECK"
		r.CardName = holderName(req.Method, req.PayerRef)
		r.ACH = &ach{Type: accountType(req.Method.AccountType), SEC: c.cfg.SEC, CheckNumber: checkNumber(req.Reference), Token: req.Method.Token}
	} else {
		r.TransactionType = "SALE"
		// Stored-credential rebills are RECURRING: issuers then treat an
		// updated expiry more kindly (UCRM's observation).
		r.Origin = "RECURRING"
		r.Token = req.Method.Token
		r.OrderNumber = orderNumber(req.Description)
	}
	resp, err := c.post(ctx, r)
	if err != nil {
		var se *sendError
		if errors.As(err, &se) && !se.Sent {
			return gateways.Outcome{}, fmt.Errorf("ippay: charge %s: nothing sent: %w", req.Reference, err)
		}
		return unknown(req.Reference, txid, req.Amount, err), nil
	}
	if resp.ActionCode == "094" {
		// Duplicate transmission: an earlier attempt with this ID got
		// there. Its own result is the answer, never a new charge.
		c.log.Info("ippay duplicate, looking up", zap.String("reference", req.Reference), zap.String("transaction_id", txid))
		o, lerr := c.Lookup(ctx, gateways.LookupRequest{Reference: req.Reference, Method: req.Method, GatewayID: txid, Amount: req.Amount})
		if lerr != nil {
			return unknown(req.Reference, txid, req.Amount, fmt.Errorf("ippay: duplicate TransactionID %s, ENQ: %w", txid, lerr)), nil
		}
		return o, nil
	}
	o := c.outcome(kind, req.Reference, txid, req.Amount, resp)
	c.log.Info("ippay charge", zap.String("reference", req.Reference), zap.String("transaction_id", txid),
		zap.String("status", string(o.Status)), zap.String("code", o.Code), zap.Bool("review", o.Review))
	return o, nil
}

func checkCharge(req gateways.ChargeRequest) error {
	switch {
	case req.Reference == "":
		return fmt.Errorf("ippay: charge without a reference: %w", gateways.ErrInvalidDetails)
	case req.Amount <= 0:
		return fmt.Errorf("ippay: charge %s: amount %d is not positive: %w", req.Reference, req.Amount, gateways.ErrInvalidDetails)
	case req.Method.Token == "":
		return fmt.Errorf("ippay: charge %s: saved method has no token: %w", req.Reference, gateways.ErrInvalidDetails)
	case req.Currency != "" && !strings.EqualFold(req.Currency, "USD"):
		return fmt.Errorf("ippay: charge %s: currency %s: %w", req.Reference, req.Currency, gateways.ErrUnsupported)
	}
	return nil
}

func unknown(ref, txid string, amount int64, err error) gateways.Outcome {
	return gateways.Outcome{Status: gateways.Unknown, Reference: ref, GatewayID: txid, Amount: amount, Err: err}
}

// outcome reads a SALE/CHECK reply (or the ENQ echo of one).
func (c *Client) outcome(kind gateways.MethodKind, ref, txid string, amount int64, r response) gateways.Outcome {
	o := gateways.Outcome{
		Reference:   ref,
		GatewayID:   txid,
		SecondaryID: r.Approval,
		Amount:      amount,
		Code:        r.ActionCode,
		Message:     r.text(),
		// AdditionalInfo's meaning is undocumented; OCA even treats it as a
		// failure. A person decides.
		Review: r.HasAdditionalInfo,
	}
	if r.TransactionID != "" {
		o.GatewayID = r.TransactionID
	}
	if !r.ok() {
		o.Status = gateways.Declined
		o.Reason, o.Retryable = declineReason(r.ActionCode)
		if r.ActionCode == "000" {
			// 000 with an ErrMsg: the request itself was faulty.
			o.Reason, o.Retryable = gateways.ReasonInvalidRequest, false
		}
		return o
	}
	if kind == gateways.Bank {
		// "CHECK ACCEPTED" only means the item goes into the ACH file.
		// Returns come days later and IPpay has no feed for settlements,
		// so the item counts as settled once SettleDays pass quietly.
		o.Status = gateways.Pending
		o.SettlesBy = clock.AddBusinessDays(c.clock.Now(), c.cfg.SettleDays)
		return o
	}
	o.Status = gateways.Approved
	return o
}

// declineReason maps an ActionCode (JetPay/IPpay table, spec §7) to a
// normalized reason and whether a later attempt may succeed.
func declineReason(code string) (gateways.Reason, bool) {
	switch code {
	case "051":
		return gateways.ReasonInsufficientFunds, true
	case "061", "065", "750":
		return gateways.ReasonLimitExceeded, true
	case "005":
		// Generic soft decline; card schemes allow a later retry.
		return gateways.ReasonDoNotHonor, true
	case "001", "002":
		return gateways.ReasonDoNotHonor, false
	case "054", "101", "917":
		return gateways.ReasonExpiredCard, false
	case "014", "923", "924", "052", "053":
		return gateways.ReasonInvalidAccount, false
	case "041", "043", "004", "200":
		return gateways.ReasonLostOrStolen, false
	case "900", "912", "914", "905", "913", "015", "122":
		// 900 is the current gateway's invalid card number, 912 the old
		// JetPay gateway's (BOP 0.10 t/card.t).
		return gateways.ReasonInvalidCard, false
	case "057", "058", "062", "100":
		return gateways.ReasonOther, false
	case "091", "096", "987", "989", "992", "999", "006":
		return gateways.ReasonTechnical, true
	case "003", "901", "925", "926", "996":
		// The merchant's terminal is refused: a configuration problem that
		// a later attempt, once fixed, gets past.
		return gateways.ReasonTechnical, true
	case "012", "013", "019", "030", "920", "921", "930", "931", "932", "933", "981":
		return gateways.ReasonInvalidRequest, false
	case "942", "943":
		return gateways.ReasonOther, false
	}
	return gateways.ReasonOther, false
}

// orderNumber keeps the description short: with IPpay's dynamic descriptor
// product OrderNumber reaches the customer's statement, which holds 25
// characters.
func orderNumber(desc string) string {
	desc = strings.TrimSpace(desc)
	if len(desc) > 25 {
		desc = desc[:25]
	}
	return strings.ToValidUTF8(desc, "")
}

func accountType(t string) string {
	if strings.EqualFold(t, "SAVINGS") {
		return "SAVINGS"
	}
	return "CHECKING"
}

// holderName is the CardName IPpay requires on CHECK, VOIDACH and REVERSAL:
// the account holder SaveMethod kept in HolderName. Without it the payer
// reference stands in: ACH does not match names.
func holderName(m gateways.SavedMethod, payerRef string) string {
	if n := strings.TrimSpace(m.HolderName); n != "" {
		return n
	}
	if payerRef != "" {
		return payerRef
	}
	return "ACCOUNT HOLDER"
}

// Lookup sends ENQ for the charge's TransactionID and reads the answer
// conservatively (see enqOutcome). No public source shows what ENQ answers
// for a TransactionID IPpay never received (see the package doc), so 025,
// 940 or a reply without an ActionCode prove nothing: Lookup returns
// ErrInconclusive, never ErrNotFound, and the charge is never sent again on
// its word. The ENQ reply layout is not public. For ACH the settlement date is counted from
// now, as the original acceptance time is not in the reply (later, never
// earlier, than the truth).
func (c *Client) Lookup(ctx context.Context, req gateways.LookupRequest) (gateways.Outcome, error) {
	txid := req.GatewayID
	if txid == "" {
		if req.Reference == "" {
			return gateways.Outcome{}, fmt.Errorf("ippay: lookup without reference or transaction id: %w", gateways.ErrInvalidDetails)
		}
		txid = TransactionID(req.Reference)
	}
	kinds := []gateways.MethodKind{req.Method.Kind}
	if req.Method.Kind == "" {
		// Kind unknown: ask each terminal; the item lives on one of them.
		kinds = []gateways.MethodKind{gateways.Card, gateways.Bank}
	}
	var inconclusive error
	asked := map[string]bool{}
	for _, kind := range kinds {
		tid, err := c.terminal(kind)
		if err != nil {
			if len(kinds) > 1 {
				continue
			}
			return gateways.Outcome{}, err
		}
		if asked[tid] {
			continue
		}
		asked[tid] = true
		r, err := c.post(ctx, &request{TransactionType: "ENQ", TerminalID: tid, TransactionID: txid})
		if err != nil {
			return gateways.Outcome{}, fmt.Errorf("ippay: lookup %s: %w", req.Reference, err)
		}
		switch r.ActionCode {
		case "", "025", "940":
			// "Not found" for an ENQ is our guess, not a confirmed answer.
			inconclusive = fmt.Errorf("ippay: ENQ %s answers %q %s, which is not known to mean \"never received\": %w",
				txid, r.ActionCode, r.text(), gateways.ErrInconclusive)
			continue
		case "921", "003", "901", "925", "926", "996", "091", "096", "987", "989", "992", "999":
			// The enquiry itself failed; it says nothing about the charge.
			return gateways.Outcome{}, fmt.Errorf("ippay: ENQ %s failed: %s %s", txid, r.ActionCode, r.text())
		}
		if req.Method.Kind == "" && (r.Approval == "000000" || strings.Contains(strings.ToUpper(r.ResponseText), "CHECK")) {
			kind = gateways.Bank
		}
		o := c.enqOutcome(kind, req.Reference, txid, req.Amount, r)
		c.log.Info("ippay lookup", zap.String("reference", req.Reference), zap.String("transaction_id", txid),
			zap.String("status", string(o.Status)), zap.String("code", o.Code))
		return o, nil
	}
	if inconclusive == nil {
		return gateways.Outcome{}, fmt.Errorf("ippay: lookup %s: no terminal to ask: %w", req.Reference, gateways.ErrNotConfigured)
	}
	c.log.Info("ippay lookup: inconclusive", zap.String("reference", req.Reference), zap.String("transaction_id", txid))
	return gateways.Outcome{}, inconclusive
}

// Refund refunds a charge, choosing the operation by trying:
//   - card: VOID (whole amount, needs the original Approval) while the sale
//     is in the open batch; when IPpay refuses the VOID (settled) a linked
//     CREDIT on the original TransactionID;
//   - ACH: a linked REVERSAL that credits the account. Only with
//     Config.VoidACH is VOIDACH (whole amount) tried first, which IPpay
//     says it no longer supports; refused, the REVERSAL follows.
//
// A partial refund skips the void. Every step uses the original
// TransactionID, so Outcome.GatewayID is the original's. An exchange that
// may have applied returns Unknown and nothing further is tried.
func (c *Client) Refund(ctx context.Context, req gateways.RefundRequest) (gateways.Outcome, error) {
	orig := req.Original
	origTx := orig.GatewayID
	if origTx == "" && orig.Reference != "" {
		origTx = TransactionID(orig.Reference)
	}
	amount := req.Amount
	if amount == 0 {
		amount = orig.Amount
	}
	switch {
	case origTx == "":
		return gateways.Outcome{}, fmt.Errorf("ippay: refund %s: original transaction unknown: %w", req.Reference, gateways.ErrInvalidDetails)
	case amount <= 0:
		return gateways.Outcome{}, fmt.Errorf("ippay: refund %s: amount %d is not positive: %w", req.Reference, amount, gateways.ErrInvalidDetails)
	case orig.Amount > 0 && amount > orig.Amount:
		return gateways.Outcome{}, fmt.Errorf("ippay: refund %s: %d exceeds the charge's %d: %w", req.Reference, amount, orig.Amount, gateways.ErrInvalidDetails)
	case req.Method.Token == "":
		return gateways.Outcome{}, fmt.Errorf("ippay: refund %s: saved method has no token: %w", req.Reference, gateways.ErrInvalidDetails)
	}
	kind := req.Method.Kind
	tid, err := c.terminal(kind)
	if err != nil {
		return gateways.Outcome{}, err
	}
	full := orig.Amount == 0 || amount == orig.Amount
	base := request{TerminalID: tid, TransactionID: origTx, TotalAmount: strconv.FormatInt(amount, 10)}
	var first, second request
	if kind == gateways.Bank {
		base.CardName = holderName(req.Method, req.PayerRef)
		// CheckNumber repeats the original item's, derived from its reference.
		ref := orig.Reference
		if ref == "" {
			ref = origTx
		}
		base.ACH = &ach{Type: accountType(req.Method.AccountType), SEC: c.cfg.SEC, CheckNumber: checkNumber(ref), Token: req.Method.Token}
		first, second = base, base
		first.TransactionType, second.TransactionType = "VOIDACH", "REVERSAL"
		full = full && c.cfg.VoidACH
	} else {
		base.Token = req.Method.Token
		first, second = base, base
		first.TransactionType, second.TransactionType = "VOID", "CREDIT"
		first.Approval = orig.SecondaryID
		if first.Approval == "" {
			full = false // VOID needs the approval code
		}
	}
	if full {
		o, done, err := c.refundStep(ctx, req.Reference, amount, &first)
		if done || err != nil {
			return o, err
		}
		c.log.Info("ippay void refused, refunding instead", zap.String("reference", req.Reference),
			zap.String("transaction_id", origTx), zap.String("code", o.Code), zap.String("text", o.Message))
	}
	o, _, err := c.refundStep(ctx, req.Reference, amount, &second)
	return o, err
}

// refundStep sends one refund operation. done is false when IPpay refused
// it, so the next operation may be tried.
func (c *Client) refundStep(ctx context.Context, ref string, amount int64, r *request) (gateways.Outcome, bool, error) {
	resp, err := c.post(ctx, r)
	if err != nil {
		var se *sendError
		if errors.As(err, &se) && !se.Sent {
			return gateways.Outcome{}, true, fmt.Errorf("ippay: refund %s: nothing sent: %w", ref, err)
		}
		return unknown(ref, r.TransactionID, amount, err), true, nil
	}
	o := gateways.Outcome{Reference: ref, GatewayID: r.TransactionID, SecondaryID: resp.Approval, Amount: amount,
		Code: resp.ActionCode, Message: resp.text(), Review: resp.HasAdditionalInfo}
	if !resp.ok() {
		o.Status = gateways.Declined
		o.Reason, o.Retryable = declineReason(resp.ActionCode)
		c.log.Info("ippay refund refused", zap.String("reference", ref), zap.String("type", r.TransactionType),
			zap.String("transaction_id", r.TransactionID), zap.String("code", o.Code))
		return o, false, nil
	}
	// A void cancels the charge outright; CREDIT "RETURN ACCEPTED" and an
	// accepted REVERSAL are refunds the gateway has taken on.
	o.Status = gateways.Approved
	c.log.Info("ippay refund", zap.String("reference", ref), zap.String("type", r.TransactionType),
		zap.String("transaction_id", r.TransactionID), zap.Int64("amount", amount))
	return o, true, nil
}
