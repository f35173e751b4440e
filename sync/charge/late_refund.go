package charge

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/splynx-pay/splynx-pay/gateways"
	"github.com/splynx-pay/splynx-pay/internal/money"
	"github.com/splynx-pay/splynx-pay/store"
)

// lateRefundEvery is how long Settle waits between tries of a refund that
// late_settlement=refund owes and the gateway refused.
const lateRefundEvery = 6 * time.Hour

const lateRefundReason = "taken after the document was paid by another charge"

// refundLate refunds a superseded charge recorded on the balance. A refund
// done clears the debt; a refusal is audited and left owed (refund_due) for
// retryLateRefunds; an unknown outcome stays 'requested' for a person, and
// nothing is sent again meanwhile. It reports whether the refund was done.
func (e *Engine) refundLate(ctx context.Context, attemptID int64) bool {
	dbctx := context.WithoutCancel(ctx)
	a, err := e.db.GetAttempt(dbctx, attemptID)
	if err != nil {
		e.log.Error("charge: late-settlement refund: read attempt", zap.Int64("attempt_id", attemptID), zap.Error(err))
		return false
	}
	if _, err := e.Refund(ctx, a.ID, 0, lateRefundReason); err != nil {
		e.log.Error("charge: refund of a superseded charge failed; the money stays on the balance and it is tried again later",
			zap.Int64("attempt_id", a.ID), zap.String("reference", a.Reference), zap.Error(err))
		_ = e.db.Audit(dbctx, nil, "charge.late_settlement_refund_failed", map[string]any{"attempt_id": a.ID,
			"reference": a.Reference, "customer_id": a.CustomerID, "amount": money.Amount(a.Amount - a.Refunded).String(),
			"error": gateways.ScrubDigits(err.Error())})
		return false
	}
	if err := e.db.Write(dbctx, func(tx *sql.Tx) error { return store.SetRefundDue(dbctx, tx, a.ID, false, e.now()) }); err != nil {
		e.log.Error("charge: late-settlement refund done but not noted", zap.String("reference", a.Reference), zap.Error(err))
	}
	return true
}

// retryLateRefunds tries again each late-settlement refund still owed,
// at most once per lateRefundEvery, until it is done or a person decides
// (KeepLateSettlement). It returns how many it tried.
func (e *Engine) retryLateRefunds(ctx context.Context) (int, error) {
	if e.set.LateSettlement != "refund" {
		return 0, nil
	}
	ids, err := e.db.LateRefundsDue(ctx, e.now().Add(-lateRefundEvery))
	if err != nil {
		return 0, fmt.Errorf("charge: settle: late-settlement refunds: %w", err)
	}
	for _, id := range ids {
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		if e.stopping() {
			break
		}
		e.refundLate(ctx, id)
	}
	return len(ids), nil
}

// KeepLateSettlement records a person's decision that a superseded
// charge's money stays on the customer's balance: its owed refund is no
// longer tried. The decision and who made it are audited.
func (e *Engine) KeepLateSettlement(ctx context.Context, attemptID int64, by string) error {
	a, err := e.db.GetAttempt(ctx, attemptID)
	if err != nil {
		return err
	}
	if !a.Superseded {
		return fmt.Errorf("charge: %s is not a superseded charge; nothing to keep", a.Reference)
	}
	return e.db.Write(ctx, func(tx *sql.Tx) error {
		if err := store.SetRefundDue(ctx, tx, a.ID, false, e.now()); err != nil {
			return err
		}
		return e.db.Audit(ctx, tx, "charge.late_settlement_kept", map[string]any{"attempt_id": a.ID,
			"reference": a.Reference, "customer_id": a.CustomerID, "amount": money.Amount(a.Amount - a.Refunded).String(), "by": by})
	})
}
