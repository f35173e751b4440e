package charge

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"go.uber.org/zap"

	"github.com/splynx-pay/splynx-pay/gateways"
	"github.com/splynx-pay/splynx-pay/internal/money"
	"github.com/splynx-pay/splynx-pay/store"
)

// RetryStats counts what Retry did.
type RetryStats struct {
	Due      int
	Charged  int
	Skipped  int
	Attempts []store.ChargeAttempt
}

// Retry charges again every retryable decline whose retry date has come
// (retry_days), as a new attempt of the same charge with a new reference,
// until max_attempts. The document is re-read from Splynx first, as always.
func (e *Engine) Retry(ctx context.Context) (RetryStats, error) {
	var st RetryStats
	due, err := e.db.ListAttempts(ctx, store.AttemptFilter{RetryDue: e.now()})
	if err != nil {
		return st, err
	}
	st.Due = len(due)
	if len(due) == 0 {
		return st, nil
	}
	runID, err := e.db.CreateRun(ctx, store.ChargeRun{Source: SourceRetry, Mode: "invoices", StartedBy: "retry schedule"}, e.now())
	if err != nil {
		return st, err
	}
	var p store.RunProgress
	p.Total = len(due)
	var lines []store.LogLine
	for _, prev := range due {
		if ctx.Err() != nil {
			break
		}
		it := Item{Kind: prev.Kind, ChargeKey: prev.ChargeKey, InvoiceID: prev.InvoiceID, ProformaID: prev.ProformaID,
			Number: prev.ItemNumber, CustomerID: prev.CustomerID, Amount: prev.Amount - prev.Fee}
		if prev.AttemptNo >= e.set.MaxAttempts {
			continue
		}
		a, skip, err := e.chargeItem(ctx, runID, it, &prev)
		if errors.Is(err, ErrCrashed) {
			return st, err
		}
		p.Done++
		line := e.itemLine(it, a, skip, err)
		lines = append(lines, line)
		if a == nil {
			st.Skipped++
			p.Skipped++
			continue
		}
		st.Charged++
		st.Attempts = append(st.Attempts, *a)
		switch a.State {
		case store.StateApproved:
			p.Approved++
			p.AmountApproved += a.Amount
		case store.StatePending:
			p.Pending++
			p.AmountPending += a.Amount
		case store.StateDeclined:
			p.Declined++
			p.AmountDeclined += a.Amount
		default:
			p.Unknown++
			p.AmountUnkn += a.Amount
		}
	}
	dbctx := context.WithoutCancel(ctx)
	if err := e.db.AddRunLines(dbctx, runID, lines); err != nil {
		return st, err
	}
	return st, e.db.FinishRun(dbctx, runID, "done", p, "", e.now())
}

// ChargeOne charges a single document or refill now (portal payment,
// direct payment link, admin "pay from profile", balance refill) through the
// same claim-send-store path as a run. For a refill it.Amount is the amount.
func (e *Engine) ChargeOne(ctx context.Context, it Item, source, startedBy string) (*store.ChargeAttempt, string, error) {
	switch it.Kind {
	case store.KindInvoice:
		it.ChargeKey = fmt.Sprintf("invoice:%d", it.InvoiceID)
	case store.KindProforma:
		it.ChargeKey = fmt.Sprintf("proforma:%d", it.ProformaID)
	case store.KindBalance:
		it.ChargeKey = fmt.Sprintf("balance:%d", it.CustomerID)
	case store.KindRefill:
		// Every refill is its own charge, unless the caller names it (a
		// payment form's one-time key, so a double submit is one charge).
		if it.ChargeKey == "" {
			it.ChargeKey = "refill:" + NewReference()
		}
	default:
		return nil, "", fmt.Errorf("charge: unknown kind %q", it.Kind)
	}
	dbctx := context.WithoutCancel(ctx)
	runID, err := e.db.CreateRun(dbctx, store.ChargeRun{Source: source, Mode: "single", StartedBy: startedBy,
		FiltersJSON: Filters{CustomerID: it.CustomerID, IDs: nonZero(it.InvoiceID, it.ProformaID)}.JSON()}, e.now())
	if err != nil {
		return nil, "", err
	}
	a, skip, err := e.chargeItem(ctx, runID, it, nil)
	if errors.Is(err, ErrCrashed) {
		return nil, "", err
	}
	pr := &progress{}
	pr.p.Total = 1
	pr.add(a, skip, e.itemLine(it, a, skip, err))
	p, lines, _ := pr.take()
	_ = e.db.AddRunLines(dbctx, runID, lines)
	status := "done"
	if err != nil {
		status = "failed"
	}
	if ferr := e.db.FinishRun(dbctx, runID, status, p, errString(err), e.now()); ferr != nil && err == nil {
		err = ferr
	}
	return a, skip, err
}

func nonZero(ids ...int64) []int64 {
	var out []int64
	for _, id := range ids {
		if id != 0 {
			out = append(out, id)
		}
	}
	return out
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// SaveMethod saves a card or bank account with the gateway and keeps its
// token and mask (never the number) with the authorisation record.
func (e *Engine) SaveMethod(ctx context.Context, req gateways.SaveMethodRequest, authText string) (store.SavedMethodRow, error) {
	if req.Payer.Reference == "" {
		req.Payer.Reference = e.payerRef(req.Payer.CustomerID, "")
	}
	sm, err := e.gw.SaveMethod(ctx, req)
	if err != nil {
		return store.SavedMethodRow{}, fmt.Errorf("charge: save payment method of customer %d: %w", req.Payer.CustomerID, err)
	}
	row := store.SavedMethodRow{CustomerID: req.Payer.CustomerID, Kind: string(sm.Kind), Token: sm.Token,
		PayerRef: req.Payer.Reference, Mask: sm.Mask, Brand: sm.Brand, HolderName: sm.HolderName, ExpMonth: sm.ExpMonth, ExpYear: sm.ExpYear,
		AccountType: sm.AccountType, AuthAcceptedAt: req.Authorisation.AcceptedAt, AuthIP: req.Authorisation.IP,
		AuthText: authText, AuthSEC: req.Authorisation.SEC}
	id, err := e.db.SaveMethod(context.WithoutCancel(ctx), row, e.now())
	if err != nil {
		return row, err
	}
	return e.db.GetMethod(ctx, id)
}

// RemoveMethod stops a saved method being charged, at the gateway and here.
func (e *Engine) RemoveMethod(ctx context.Context, methodID int64) error {
	m, err := e.db.GetMethod(ctx, methodID)
	if err != nil {
		return err
	}
	if err := e.gw.RemoveMethod(ctx, m.PayerRef, methodOf(m)); err != nil && !errors.Is(err, gateways.ErrNotFound) {
		return fmt.Errorf("charge: remove payment method %d: %w", methodID, err)
	}
	return e.db.Write(ctx, func(tx *sql.Tx) error {
		return store.SetMethodStatus(ctx, tx, methodID, store.MethodRemoved, "removed", e.now())
	})
}

// Refund refunds amount (all when 0) of a recorded charge: the gateway
// first, then Splynx through the outbox (the payment deleted for a full
// refund when refund_mode is delete, otherwise a negative payment).
func (e *Engine) Refund(ctx context.Context, attemptID, amount int64, reason string) (store.Reversal, error) {
	a, err := e.db.GetAttempt(ctx, attemptID)
	if err != nil {
		return store.Reversal{}, err
	}
	if a.State != store.StateRecorded {
		return store.Reversal{}, fmt.Errorf("charge: refund %s: attempt is %s, only recorded charges can be refunded", a.Reference, a.State)
	}
	left := a.Amount - a.Refunded
	if amount == 0 {
		amount = left
	}
	if amount <= 0 || amount > left {
		return store.Reversal{}, fmt.Errorf("charge: refund %s: amount %s is not within the %s left", a.Reference,
			money.Amount(amount), money.Amount(left))
	}
	m, err := e.db.GetMethod(ctx, a.MethodID)
	if err != nil {
		return store.Reversal{}, err
	}
	ref := NewReference()
	now := e.now()
	rv := store.Reversal{AttemptID: a.ID, Kind: "refund", Reference: ref, Amount: amount, Reason: reason,
		SplynxPaymentID: a.SplynxPaymentID, State: store.ReversalRequested}
	dbctx := context.WithoutCancel(ctx)
	// The intent is on disk before the gateway hears of it.
	if err := e.db.Write(dbctx, func(tx *sql.Tx) error {
		_, err := store.InsertReversal(dbctx, tx, rv, now)
		return err
	}); err != nil {
		return store.Reversal{}, fmt.Errorf("charge: refund %s: %w", a.Reference, err)
	}
	o, err := e.gw.Refund(dbctx, gateways.RefundRequest{Reference: ref, Original: gateways.Outcome{Status: gateways.Approved,
		Reference: a.Reference, GatewayID: a.GatewayID, SecondaryID: a.SecondaryID, Amount: a.Amount},
		Method: methodOf(m), PayerRef: m.PayerRef, Amount: amount, Reason: reason})
	failed := err != nil || (o.Status != gateways.Approved && o.Status != gateways.Pending)
	if failed && (err != nil || o.Status == gateways.Declined) {
		// Declined, or refused before sending: nothing was refunded.
		_ = e.db.Write(dbctx, func(tx *sql.Tx) error {
			return store.FinishReversal(dbctx, tx, a.ID, ref, store.ReversalFailed, "")
		})
		if err != nil {
			return store.Reversal{}, fmt.Errorf("charge: refund %s: %w", a.Reference, err)
		}
		return store.Reversal{}, fmt.Errorf("charge: refund %s: gateway said %s (%s %s)", a.Reference, o.Status, o.Code,
			gateways.ScrubDigits(o.Message))
	}
	if failed {
		// Unknown: the row stays requested for a person to check with the
		// gateway; no second refund can start meanwhile.
		return store.Reversal{}, fmt.Errorf("charge: refund %s (ref %s): outcome unknown, check with the gateway", a.Reference, ref)
	}
	full := amount == left && a.Refunded == 0
	rv.GatewayID, rv.State = o.GatewayID, store.ReversalDone
	err = e.db.Write(dbctx, func(tx *sql.Tx) error {
		if err := store.FinishReversal(dbctx, tx, a.ID, ref, store.ReversalDone, o.GatewayID); err != nil {
			return err
		}
		if err := store.AddRefunded(dbctx, tx, a.ID, amount, now); err != nil {
			return err
		}
		if err := e.db.Audit(dbctx, tx, "charge.refund", map[string]any{"attempt_id": a.ID, "reference": a.Reference,
			"refund_reference": ref, "customer_id": a.CustomerID, "amount": money.Amount(amount).String(),
			"full": full, "reason": reason}); err != nil {
			return err
		}
		if full {
			if err := store.Transition(dbctx, tx, a.ID, []store.AttemptState{store.StateRecorded}, store.StateReversed,
				store.Change{Reason: "refunded", Message: reason}, now); err != nil {
				return err
			}
		}
		if full && e.set.RefundMode != "negative" {
			return store.Enqueue(dbctx, tx, store.OutboxItem{AttemptID: a.ID, Action: store.OutboxDeletePayment}, now)
		}
		return store.Enqueue(dbctx, tx, store.OutboxItem{AttemptID: a.ID, Action: store.OutboxRefundPayment, Ref: ref, Amount: amount}, now)
	})
	if err != nil {
		// The gateway refunded; the local record failed. Say so loudly with
		// the ids a person needs.
		e.log.Error("refund done at the gateway but not recorded", zap.String("reference", a.Reference),
			zap.String("refund_reference", ref), zap.String("gateway_id", o.GatewayID), zap.Error(err))
		return rv, fmt.Errorf("charge: refund %s done at the gateway (ref %s) but not recorded: %w", a.Reference, ref, err)
	}
	e.log.Info("charge refunded", zap.String("reference", a.Reference), zap.String("refund_reference", ref),
		zap.String("amount", money.Amount(amount).String()), zap.Bool("full", full))
	return rv, nil
}

// RetryNow charges a declined attempt again at once (an admin's "retry"),
// as a new attempt of the same charge with a new reference.
func (e *Engine) RetryNow(ctx context.Context, attemptID int64, startedBy string) (*store.ChargeAttempt, string, error) {
	prev, err := e.db.GetAttempt(ctx, attemptID)
	if err != nil {
		return nil, "", err
	}
	if prev.State != store.StateDeclined || prev.Retried {
		return nil, "", fmt.Errorf("charge: retry %s: attempt is %s%s; only a declined attempt not yet retried can be retried",
			prev.Reference, prev.State, map[bool]string{true: " and already retried"}[prev.Retried])
	}
	runID, err := e.db.CreateRun(context.WithoutCancel(ctx), store.ChargeRun{Source: SourceAdmin, Mode: "single",
		StartedBy: startedBy, FiltersJSON: Filters{CustomerID: prev.CustomerID, IDs: nonZero(prev.InvoiceID, prev.ProformaID)}.JSON()}, e.now())
	if err != nil {
		return nil, "", err
	}
	it := Item{Kind: prev.Kind, ChargeKey: prev.ChargeKey, InvoiceID: prev.InvoiceID, ProformaID: prev.ProformaID,
		Number: prev.ItemNumber, CustomerID: prev.CustomerID, Amount: prev.Amount - prev.Fee}
	a, skip, err := e.chargeItem(ctx, runID, it, &prev)
	pr := &progress{}
	pr.p.Total = 1
	pr.add(a, skip, e.itemLine(it, a, skip, err))
	p, lines, _ := pr.take()
	dbctx := context.WithoutCancel(ctx)
	_ = e.db.AddRunLines(dbctx, runID, lines)
	status := "done"
	if err != nil {
		status = "failed"
	}
	_ = e.db.FinishRun(dbctx, runID, status, p, errString(err), e.now())
	return a, skip, err
}

// PayerUpserter is implemented by gateways that keep payer details
// (IntegraPay).
type PayerUpserter interface {
	UpsertPayer(ctx context.Context, p gateways.Payer) error
}

func payerHash(p gateways.Payer) string {
	h := sha256.Sum256([]byte(strings.Join([]string{p.GivenName, p.FamilyName, p.Email, p.Phone, p.Street, p.City,
		p.State, p.PostCode}, "\x1f")))
	return hex.EncodeToString(h[:8])
}

// PayerFromCustomer builds the gateway payer from a mirrored customer.
func PayerFromCustomer(c store.Customer, ref, country string) gateways.Payer {
	given, family := c.Name, ""
	if i := strings.LastIndex(strings.TrimSpace(c.Name), " "); i > 0 {
		given, family = strings.TrimSpace(c.Name[:i]), strings.TrimSpace(c.Name[i+1:])
	}
	street := strings.TrimSpace(strings.TrimSpace(c.Street1) + " " + strings.TrimSpace(c.Street2))
	email := c.Email
	if c.BillingEmail != "" {
		email = c.BillingEmail
	}
	return gateways.Payer{Reference: ref, CustomerID: c.ID, GivenName: given, FamilyName: family, Email: email,
		Phone: c.Phone, Street: street, City: c.City, PostCode: c.ZipCode, Country: country}
}

// SyncPayers pushes changed names, emails, phones and addresses of
// customers with an active saved method to gateways that keep payers.
// It returns how many payers were updated.
func (e *Engine) SyncPayers(ctx context.Context) (int, error) {
	up, ok := e.gw.(PayerUpserter)
	if !ok {
		return 0, nil
	}
	country := "AU"
	if e.set.Currency == "USD" {
		country = "US"
	}
	methods, err := e.db.ListMethods(ctx, 0, store.MethodActive)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, m := range methods {
		c, err := e.db.GetCustomer(ctx, m.CustomerID)
		if err != nil {
			continue // not mirrored (yet)
		}
		p := PayerFromCustomer(c, m.PayerRef, country)
		h := payerHash(p)
		if h == m.PayerHash {
			continue
		}
		// The first look only records the fingerprint: the payer was
		// created from these details when the method was saved.
		if m.PayerHash != "" {
			if err := up.UpsertPayer(ctx, p); err != nil {
				return n, fmt.Errorf("charge: update payer %s: %w", m.PayerRef, err)
			}
			n++
			e.log.Info("payer updated at the gateway", zap.Int64("customer_id", c.ID), zap.String("payer", m.PayerRef))
		}
		if err := e.db.SetPayerHash(ctx, m.ID, h, e.now()); err != nil {
			return n, err
		}
	}
	return n, nil
}

// Cycle runs one maintenance pass in the order that makes each step see
// the previous one's result: reconcile unknowns, settle, write back, retry,
// then write back what the retries approved.
func (e *Engine) Cycle(ctx context.Context) error {
	var errs []error
	if _, err := e.Reconcile(ctx); err != nil {
		errs = append(errs, fmt.Errorf("reconcile: %w", err))
	}
	if _, err := e.Settle(ctx); err != nil {
		errs = append(errs, fmt.Errorf("settle: %w", err))
	}
	if _, err := e.WriteBack(ctx); err != nil {
		errs = append(errs, fmt.Errorf("write-back: %w", err))
	}
	if _, err := e.Retry(ctx); err != nil {
		errs = append(errs, fmt.Errorf("retry: %w", err))
	}
	if _, err := e.WriteBack(ctx); err != nil {
		errs = append(errs, fmt.Errorf("write-back: %w", err))
	}
	return errors.Join(errs...)
}
