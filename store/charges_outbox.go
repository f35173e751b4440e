package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Outbox actions.
const (
	OutboxPayment       = "payment"
	OutboxDeletePayment = "delete_payment"
	OutboxRefundPayment = "refund_payment"
	OutboxFee           = "fee"
	OutboxDishonourFee  = "dishonour_fee"
	OutboxStatement     = "statement"
)

// OutboxItem is one row of writeback_outbox: work owed to Splynx.
type OutboxItem struct {
	ID        int64
	AttemptID int64
	Action    string
	Ref       string
	Amount    int64
	Status    string
	Tries     int
	NextTryAt time.Time
	LastError string
	ResultID  int64
	CreatedAt time.Time
	DoneAt    time.Time
}

// Enqueue adds work for Splynx inside tx; an identical (attempt, action,
// ref) row already queued is kept, so applying a change twice queues once.
func Enqueue(ctx context.Context, tx *sql.Tx, it OutboxItem, now time.Time) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO writeback_outbox (attempt_id, action, ref, amount, status, created_at)
 VALUES (?,?,?,?,'pending',?) ON CONFLICT (attempt_id, action, ref) DO NOTHING`,
		it.AttemptID, it.Action, it.Ref, it.Amount, FormatTime(now))
	if err != nil {
		return fmt.Errorf("store: queue %s for attempt %d: %w", it.Action, it.AttemptID, err)
	}
	return nil
}

const outboxCols = `id, attempt_id, action, ref, amount, status, tries, next_try_at, last_error, result_id, created_at, done_at`

func scanOutbox(r scanner) (OutboxItem, error) {
	var o OutboxItem
	var next, created, done string
	err := r.Scan(&o.ID, &o.AttemptID, &o.Action, &o.Ref, &o.Amount, &o.Status, &o.Tries, &next, &o.LastError,
		&o.ResultID, &created, &done)
	o.NextTryAt, o.CreatedAt, o.DoneAt = ParseTime(next), ParseTime(created), ParseTime(done)
	return o, err
}

// DueOutbox returns pending items whose next try is due, oldest first.
func (db *DB) DueOutbox(ctx context.Context, now time.Time, limit int) ([]OutboxItem, error) {
	if limit <= 0 {
		limit = 500
	}
	return queryAll(ctx, db, "list due write-backs", scanOutbox, `SELECT `+outboxCols+` FROM writeback_outbox
 WHERE status = 'pending' AND (next_try_at = '' OR next_try_at <= ?) ORDER BY id LIMIT ?`, FormatTime(now), limit)
}

// ListOutbox returns the outbox rows of an attempt (attemptID 0: all).
func (db *DB) ListOutbox(ctx context.Context, attemptID int64) ([]OutboxItem, error) {
	q, args := `SELECT `+outboxCols+` FROM writeback_outbox`, []any{}
	if attemptID != 0 {
		q += ` WHERE attempt_id = ?`
		args = append(args, attemptID)
	}
	return queryAll(ctx, db, "list write-backs", scanOutbox, q+` ORDER BY id`, args...)
}

// ClaimOutbox leases a due pending item until until for owner (a lease id
// naming the process, see charge.LeaseID), so that two write-back passes
// (the daemon's job and a CLI run) never work on the same item at once. It
// reports whether this caller got it. A holder that dies loses the lease
// when it expires, or at once when ReleaseDeadLeases sees it is dead; the
// next holder searches Splynx first.
func (db *DB) ClaimOutbox(ctx context.Context, id int64, now, until time.Time, owner string) (bool, error) {
	var n int64
	err := db.Write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE writeback_outbox SET next_try_at = ?, lease_owner = ?
 WHERE id = ? AND status = 'pending' AND (next_try_at = '' OR next_try_at <= ?)`, FormatTime(until), owner, id, FormatTime(now))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return false, fmt.Errorf("store: claim write-back %d: %w", id, err)
	}
	return n == 1, nil
}

// ErrWriteBackBusy: a write-back pass holds the item right now.
var ErrWriteBackBusy = errors.New("store: write-back in progress")

// CancelPaymentWriteBack cancels, in tx, the queued Splynx payment (and
// service fee) of an attempt rejected before its write-back. It fails with
// ErrWriteBackBusy when a pass holds the payment (its lease runs past now)
// or the payment was already written.
func CancelPaymentWriteBack(ctx context.Context, tx *sql.Tx, attemptID int64, now time.Time) error {
	res, err := tx.ExecContext(ctx, `UPDATE writeback_outbox SET status = 'done', result_id = 0, done_at = ?,
 last_error = 'cancelled: rejected before the write-back'
 WHERE attempt_id = ? AND action = 'payment' AND status = 'pending' AND (next_try_at = '' OR next_try_at <= ?)`,
		FormatTime(now), attemptID, FormatTime(now))
	if err != nil {
		return fmt.Errorf("store: cancel write-back of attempt %d: %w", attemptID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%w: payment of attempt %d", ErrWriteBackBusy, attemptID)
	}
	_, err = tx.ExecContext(ctx, `UPDATE writeback_outbox SET status = 'done', result_id = 0, done_at = ?,
 last_error = 'cancelled: rejected before the write-back'
 WHERE attempt_id = ? AND action = 'fee' AND status = 'pending'`, FormatTime(now), attemptID)
	return err
}

// ReleaseDeadLeases makes pending items leased (until after now) by an owner
// that dead reports as gone due at once, and returns how many it freed.
func (db *DB) ReleaseDeadLeases(ctx context.Context, now time.Time, dead func(owner string) bool) (int, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT DISTINCT lease_owner FROM writeback_outbox
 WHERE status = 'pending' AND lease_owner <> '' AND next_try_at > ?`, FormatTime(now))
	if err != nil {
		return 0, fmt.Errorf("store: list write-back leases: %w", err)
	}
	var owners []string
	for rows.Next() {
		var o string
		if err := rows.Scan(&o); err != nil {
			rows.Close()
			return 0, err
		}
		if dead(o) {
			owners = append(owners, o)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	var freed int64
	for _, o := range owners {
		err := db.Write(ctx, func(tx *sql.Tx) error {
			res, err := tx.ExecContext(ctx, `UPDATE writeback_outbox SET next_try_at = '', lease_owner = ''
 WHERE status = 'pending' AND lease_owner = ? AND next_try_at > ?`, o, FormatTime(now))
			if err != nil {
				return err
			}
			n, _ := res.RowsAffected()
			freed += n
			return nil
		})
		if err != nil {
			return int(freed), fmt.Errorf("store: release write-back leases of %s: %w", o, err)
		}
	}
	return int(freed), nil
}

// CompleteOutbox marks an item done inside tx with the Splynx id it produced.
func CompleteOutbox(ctx context.Context, tx *sql.Tx, id, resultID int64, now time.Time) error {
	res, err := tx.ExecContext(ctx, `UPDATE writeback_outbox SET status='done', result_id=?, done_at=?, last_error=''
 WHERE id=? AND status='pending'`, resultID, FormatTime(now), id)
	if err != nil {
		return fmt.Errorf("store: complete write-back %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%w: write-back %d is not pending", ErrStateChanged, id)
	}
	return nil
}

// FailOutbox records a failed try; after maxTries the item is parked as failed.
func (db *DB) FailOutbox(ctx context.Context, id int64, msg string, next time.Time, maxTries int, now time.Time) error {
	return db.Write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE writeback_outbox SET tries = tries + 1, last_error = ?, next_try_at = ?,
 status = CASE WHEN ? > 0 AND tries + 1 >= ? THEN 'failed' ELSE status END WHERE id = ? AND status = 'pending'`,
			msg, FormatTime(next), maxTries, maxTries, id)
		return err
	})
}
