package store

// Persistence of the charge state machine (DESIGN.md, "The charge"). Every
// state change is one immediate write transaction whose UPDATE is guarded by
// the state the caller believes the row is in; when the guard matches no row
// someone else moved it first and the caller gets ErrStateChanged.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// AttemptState is the state of one charge attempt.
type AttemptState string

// Charge attempt states (DESIGN.md).
const (
	StateCreated AttemptState = "created"
	StateSending AttemptState = "sending"
	StateUnknown AttemptState = "unknown"
	// StateReview: still unknown after the review_unknown_after_days
	// setting; blocks new charges of the document until a person decides
	// (the status feed, or a conclusive answer to the look-up asked again
	// every 6 hours, can still resolve it).
	StateReview   AttemptState = "review"
	StatePending  AttemptState = "pending"
	StateApproved AttemptState = "approved"
	StateDeclined AttemptState = "declined"
	StateRecorded AttemptState = "recorded"
	StateReversed AttemptState = "reversed"
)

// Live reports whether an attempt in this state blocks another attempt of the
// same charge (the partial unique index charge_attempts_one_live).
func (s AttemptState) Live() bool {
	switch s {
	case StateCreated, StateSending, StateUnknown, StateReview, StatePending, StateApproved:
		return true
	}
	return false
}

// allowed lists the legal transitions. created→declined exists for a run
// cancelled before the request left: nothing was sent, the row says so.
// declined→pending|approved is the gateway's status feed showing that a
// charge we held as declined (or never received) was taken after all.
var allowed = map[AttemptState][]AttemptState{
	StateCreated:  {StateSending, StateDeclined},
	StateSending:  {StateApproved, StatePending, StateDeclined, StateUnknown},
	StateUnknown:  {StateApproved, StatePending, StateDeclined, StateReview},
	StateReview:   {StateApproved, StatePending, StateDeclined},
	StatePending:  {StateApproved, StateDeclined},
	StateDeclined: {StatePending, StateApproved},
	StateApproved: {StateRecorded, StateReversed},
	StateRecorded: {StateReversed},
}

// CanTransition reports whether from → to is a legal move.
func CanTransition(from, to AttemptState) bool {
	for _, s := range allowed[from] {
		if s == to {
			return true
		}
	}
	return false
}

// Errors of the charge tables.
var (
	// ErrLiveAttempt: another attempt of the same charge is live.
	ErrLiveAttempt = errors.New("store: a live attempt exists for this charge")
	// ErrStateChanged: the guarded UPDATE matched nothing; the row moved.
	ErrStateChanged = errors.New("store: charge attempt is no longer in the expected state")
	// ErrBadTransition: the state machine does not allow the move.
	ErrBadTransition = errors.New("store: illegal charge state transition")
)

// Change is what a transition writes besides the state. Empty strings and
// zero times keep the stored value, so a later lookup never erases an id the
// gateway gave earlier.
type Change struct {
	GatewayID       string
	SecondaryID     string
	Reason          string
	Code            string
	Message         string
	Retryable       bool
	Review          bool
	SettlesBy       time.Time
	NextRetryAt     time.Time
	NextCheckAt     time.Time
	SplynxPaymentID int64
	// Amount, when > 0, corrects the charged amount to what the gateway processed.
	Amount int64
	// Sent stamps sent_at (created → sending).
	Sent bool
	// Resolved stamps resolved_at.
	Resolved bool
	// BumpChecks counts a reconciler lookup.
	BumpChecks bool
	// Supersede marks the attempt superseded (never cleared).
	Supersede bool
}

// Transition moves attempt id from one of the states in from to to, inside
// tx. It returns ErrStateChanged when the row is not in any of from.
func Transition(ctx context.Context, tx *sql.Tx, id int64, from []AttemptState, to AttemptState, c Change, now time.Time) error {
	if len(from) == 0 {
		return fmt.Errorf("%w: no source state for attempt %d → %s", ErrBadTransition, id, to)
	}
	args := []any{string(to), c.GatewayID, c.SecondaryID, c.Reason, c.Code, c.Message, c.Retryable, c.Review,
		FormatTime(c.SettlesBy), FormatTime(c.NextRetryAt), FormatTime(c.NextCheckAt), c.SplynxPaymentID, c.Amount,
		FormatTime(now)}
	sent, resolved, checks, superseded := "sent_at", "resolved_at", "checks", "superseded"
	if c.Supersede {
		superseded = "1"
	}
	if c.Sent {
		sent = "?"
		args = append(args, FormatTime(now))
	}
	if c.Resolved {
		resolved = "?"
		args = append(args, FormatTime(now))
	}
	if c.BumpChecks {
		checks = "checks + 1"
	}
	args = append(args, id)
	ph := make([]string, 0, len(from))
	for _, f := range from {
		if f != to && !CanTransition(f, to) {
			return fmt.Errorf("%w: %s → %s (attempt %d)", ErrBadTransition, f, to, id)
		}
		ph = append(ph, "?")
		args = append(args, string(f))
	}
	q := `UPDATE charge_attempts SET state = ?,
 gateway_id = COALESCE(NULLIF(?, ''), gateway_id),
 secondary_id = COALESCE(NULLIF(?, ''), secondary_id),
 reason = COALESCE(NULLIF(?, ''), reason),
 code = COALESCE(NULLIF(?, ''), code),
 message = COALESCE(NULLIF(?, ''), message),
 retryable = ?, review = ?,
 settles_by = COALESCE(NULLIF(?, ''), settles_by),
 next_retry_at = COALESCE(NULLIF(?, ''), next_retry_at),
 next_check_at = ?,
 splynx_payment_id = COALESCE(NULLIF(?, 0), splynx_payment_id),
 amount = COALESCE(NULLIF(?, 0), amount),
 updated_at = ?, sent_at = ` + sent + `, resolved_at = ` + resolved + `, checks = ` + checks + `,
 superseded = ` + superseded + `
 WHERE id = ? AND state IN (` + strings.Join(ph, ",") + `)`
	res, err := tx.ExecContext(ctx, q, args...)
	if err != nil {
		if IsUniqueViolation(err) {
			return fmt.Errorf("%w: attempt %d → %s", ErrLiveAttempt, id, to)
		}
		return fmt.Errorf("store: move charge attempt %d to %s: %w", id, to, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("store: move charge attempt %d to %s: %w", id, to, err)
	}
	if n == 0 {
		return fmt.Errorf("%w: attempt %d expected %v → %s", ErrStateChanged, id, from, to)
	}
	return nil
}

// TransitionAttempt is Transition in its own transaction; then, if not nil,
// runs within the same transaction (outbox rows, method status, ...).
func (db *DB) TransitionAttempt(ctx context.Context, id int64, from []AttemptState, to AttemptState, c Change, now time.Time, then func(tx *sql.Tx) error) error {
	return db.Write(ctx, func(tx *sql.Tx) error {
		if err := Transition(ctx, tx, id, from, to, c, now); err != nil {
			return err
		}
		if then != nil {
			return then(tx)
		}
		return nil
	})
}

// SetNextCheck records a reconciler look that changed nothing.
func (db *DB) SetNextCheck(ctx context.Context, id int64, state AttemptState, next time.Time, now time.Time) error {
	return db.Write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE charge_attempts SET next_check_at = ?, checks = checks + 1, updated_at = ?
 WHERE id = ? AND state = ?`, FormatTime(next), FormatTime(now), id, string(state))
		return err
	})
}

// MarkRetried flags a declined attempt whose retry has been created (in tx).
func MarkRetried(ctx context.Context, tx *sql.Tx, id int64) error {
	res, err := tx.ExecContext(ctx, `UPDATE charge_attempts SET retried = 1 WHERE id = ? AND state = 'declined' AND retried = 0`, id)
	if err != nil {
		return fmt.Errorf("store: mark attempt %d retried: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%w: attempt %d already retried", ErrStateChanged, id)
	}
	return nil
}

// AddRefunded adds amount to the attempt's refunded total (in tx).
func AddRefunded(ctx context.Context, tx *sql.Tx, id, amount int64, now time.Time) error {
	res, err := tx.ExecContext(ctx, `UPDATE charge_attempts SET refunded = refunded + ?, updated_at = ?
 WHERE id = ? AND refunded + ? <= amount`, amount, FormatTime(now), id, amount)
	if err != nil {
		return fmt.Errorf("store: add refund to attempt %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: refund of %d on attempt %d exceeds what is left", amount, id)
	}
	return nil
}
