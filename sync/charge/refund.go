package charge

import (
	"context"
	"database/sql"
	"fmt"

	"go.uber.org/zap"

	"github.com/splynx-pay/splynx-pay/gateways"
	"github.com/splynx-pay/splynx-pay/internal/money"
	"github.com/splynx-pay/splynx-pay/store"
)

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
