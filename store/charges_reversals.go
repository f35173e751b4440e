package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Reversal is one row of reversals.
type Reversal struct {
	ID              int64
	AttemptID       int64
	Kind            string // dishonour | chargeback | refund
	Reference       string
	GatewayID       string
	Amount          int64
	Reason          string
	Code            string
	SplynxPaymentID int64
	State           string // requested | done | failed
	CreatedAt       time.Time
}

// Reversal states.
const (
	ReversalRequested = "requested"
	ReversalDone      = "done"
	ReversalFailed    = "failed"
)

// InsertReversal records a reversal inside tx; a duplicate is ignored and
// reported by the false result.
func InsertReversal(ctx context.Context, tx *sql.Tx, r Reversal, now time.Time) (bool, error) {
	if r.State == "" {
		r.State = ReversalDone
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO reversals (attempt_id, kind, reference, gateway_id, amount, reason, code,
 splynx_payment_id, state, created_at) VALUES (?,?,?,?,?,?,?,?,?,?) ON CONFLICT (attempt_id, kind, reference) DO NOTHING`,
		r.AttemptID, r.Kind, r.Reference, r.GatewayID, r.Amount, r.Reason, r.Code, r.SplynxPaymentID, r.State, FormatTime(now))
	if err != nil {
		if IsUniqueViolation(err) {
			return false, fmt.Errorf("%w: a refund of attempt %d is already in progress", ErrLiveAttempt, r.AttemptID)
		}
		return false, fmt.Errorf("store: record %s of attempt %d: %w", r.Kind, r.AttemptID, err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// FinishReversal moves a requested reversal to done or failed inside tx.
func FinishReversal(ctx context.Context, tx *sql.Tx, attemptID int64, reference, state, gatewayID string) error {
	res, err := tx.ExecContext(ctx, `UPDATE reversals SET state = ?, gateway_id = COALESCE(NULLIF(?, ''), gateway_id)
 WHERE attempt_id = ? AND reference = ? AND state = 'requested'`, state, gatewayID, attemptID, reference)
	if err != nil {
		return fmt.Errorf("store: finish reversal %s: %w", reference, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%w: reversal %s is not requested", ErrStateChanged, reference)
	}
	return nil
}

// ListReversals returns reversals (attemptID 0: all).
func (db *DB) ListReversals(ctx context.Context, attemptID int64) ([]Reversal, error) {
	q, args := `SELECT id, attempt_id, kind, reference, gateway_id, amount, reason, code, splynx_payment_id, state, created_at FROM reversals`, []any{}
	if attemptID != 0 {
		q += ` WHERE attempt_id = ?`
		args = append(args, attemptID)
	}
	return queryAll(ctx, db, "list reversals", func(sc scanner) (Reversal, error) {
		var r Reversal
		var created string
		err := sc.Scan(&r.ID, &r.AttemptID, &r.Kind, &r.Reference, &r.GatewayID, &r.Amount, &r.Reason, &r.Code,
			&r.SplynxPaymentID, &r.State, &created)
		r.CreatedAt = ParseTime(created)
		return r, err
	}, q+` ORDER BY id`, args...)
}
