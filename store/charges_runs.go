package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ChargeRun is one row of charge_runs: a batch of charges and its progress.
type ChargeRun struct {
	ID          int64
	Source      string // auto | admin | cli | retry | portal
	Mode        string // invoices | balance | single
	FiltersJSON string
	StartedBy   string
	Status      string // running | done | cancelled | failed | interrupted
	Progress    RunProgress
	Error       string
	StartedAt   time.Time
	FinishedAt  time.Time
}

// RunProgress counts a run's items and money (minor units).
type RunProgress struct {
	Total, Done, Skipped                      int
	Approved, Pending, Declined, Unknown      int
	AmountPlanned, AmountApproved             int64
	AmountPending, AmountDeclined, AmountUnkn int64
}

// CreateRun inserts a run in state running and returns its id.
func (db *DB) CreateRun(ctx context.Context, r ChargeRun, now time.Time) (int64, error) {
	var id int64
	err := db.Write(ctx, func(tx *sql.Tx) error {
		if r.FiltersJSON == "" {
			r.FiltersJSON = "{}"
		}
		if r.Mode == "" {
			r.Mode = "invoices"
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO charge_runs (source, mode, filters_json, started_by, status, started_at)
 VALUES (?,?,?,?,'running',?)`, r.Source, r.Mode, r.FiltersJSON, r.StartedBy, FormatTime(now))
		if err != nil {
			return err
		}
		id, err = res.LastInsertId()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: create charge run: %w", err)
	}
	return id, nil
}

// SaveRunProgress writes the counters of a running run.
func (db *DB) SaveRunProgress(ctx context.Context, id int64, p RunProgress) error {
	err := db.Write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE charge_runs SET total=?, done=?, skipped=?, approved=?, pending=?, declined=?,
 unknown=?, amount_planned=?, amount_approved=?, amount_pending=?, amount_declined=?, amount_unknown=? WHERE id=?`,
			p.Total, p.Done, p.Skipped, p.Approved, p.Pending, p.Declined, p.Unknown, p.AmountPlanned,
			p.AmountApproved, p.AmountPending, p.AmountDeclined, p.AmountUnkn, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: save progress of charge run %d: %w", id, err)
	}
	return nil
}

// FinishRun closes a running run with its final counters.
func (db *DB) FinishRun(ctx context.Context, id int64, status string, p RunProgress, runErr string, now time.Time) error {
	if err := db.SaveRunProgress(ctx, id, p); err != nil {
		return err
	}
	err := db.Write(ctx, func(tx *sql.Tx) error {
		// A run another process took for dead still gets its true end.
		_, err := tx.ExecContext(ctx, `UPDATE charge_runs SET status=?, error=?, finished_at=? WHERE id=? AND status IN ('running','interrupted')`,
			status, runErr, FormatTime(now), id)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: finish charge run %d: %w", id, err)
	}
	return nil
}

// InterruptStaleRuns marks runs still 'running' that started before cutoff
// and have not touched an attempt since as interrupted (their process
// died); it returns how many.
func (db *DB) InterruptStaleRuns(ctx context.Context, cutoff, now time.Time) (int, error) {
	var n int64
	err := db.Write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE charge_runs SET status='interrupted', finished_at=?
 WHERE status='running' AND started_at < ?
 AND COALESCE((SELECT MAX(updated_at) FROM charge_attempts WHERE run_id = charge_runs.id), '') < ?`,
			FormatTime(now), FormatTime(cutoff), FormatTime(cutoff))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}

const runCols = `id, source, mode, filters_json, started_by, status, total, done, skipped, approved, pending, declined,
 unknown, amount_planned, amount_approved, amount_pending, amount_declined, amount_unknown, error, started_at, finished_at`

func scanRun(r scanner) (ChargeRun, error) {
	var x ChargeRun
	var started, finished string
	p := &x.Progress
	err := r.Scan(&x.ID, &x.Source, &x.Mode, &x.FiltersJSON, &x.StartedBy, &x.Status, &p.Total, &p.Done, &p.Skipped,
		&p.Approved, &p.Pending, &p.Declined, &p.Unknown, &p.AmountPlanned, &p.AmountApproved, &p.AmountPending,
		&p.AmountDeclined, &p.AmountUnkn, &x.Error, &started, &finished)
	x.StartedAt, x.FinishedAt = ParseTime(started), ParseTime(finished)
	return x, err
}

// GetRun reads one run.
func (db *DB) GetRun(ctx context.Context, id int64) (ChargeRun, error) {
	r, err := scanRun(db.SQL().QueryRowContext(ctx, `SELECT `+runCols+` FROM charge_runs WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("%w: charge run %d", ErrNotFound, id)
	}
	if err != nil {
		return r, fmt.Errorf("store: read charge run %d: %w", id, err)
	}
	return r, nil
}

// ListRuns returns the newest runs first.
func (db *DB) ListRuns(ctx context.Context, limit int) ([]ChargeRun, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := db.SQL().QueryContext(ctx, `SELECT `+runCols+` FROM charge_runs ORDER BY id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("store: list charge runs: %w", err)
	}
	defer rows.Close()
	var out []ChargeRun
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list charge runs: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Run log sections.
const (
	LogError  = "error"
	LogOutput = "output"
)

// LogLine is one line of a run log.
type LogLine struct {
	Section string
	Line    string
}

// AddRunLines appends lines to a run's log.
func (db *DB) AddRunLines(ctx context.Context, runID int64, lines []LogLine) error {
	if len(lines) == 0 {
		return nil
	}
	err := db.Write(ctx, func(tx *sql.Tx) error {
		st, err := tx.PrepareContext(ctx, `INSERT INTO charge_run_lines (run_id, section, line) VALUES (?,?,?)`)
		if err != nil {
			return err
		}
		defer st.Close()
		for _, l := range lines {
			if _, err := st.ExecContext(ctx, runID, l.Section, l.Line); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: append to log of charge run %d: %w", runID, err)
	}
	return nil
}

// RunLog returns a run's log lines of one section in order.
func (db *DB) RunLog(ctx context.Context, runID int64, section string) ([]string, error) {
	rows, err := db.SQL().QueryContext(ctx, `SELECT line FROM charge_run_lines WHERE run_id = ? AND section = ? ORDER BY id`, runID, section)
	if err != nil {
		return nil, fmt.Errorf("store: read log of charge run %d: %w", runID, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// Saved method statuses.
const (
	MethodActive      = "active"
	MethodNeedsUpdate = "needs_update"
	MethodRemoved     = "removed"
)

// SavedMethodRow is one row of saved_methods: a token and a mask, never a number.
type SavedMethodRow struct {
	ID             int64
	CustomerID     int64
	Kind           string // card | bank
	Token          string
	PayerRef       string
	Mask           string
	Brand          string
	HolderName     string // account holder (bank) or cardholder, when known
	ExpMonth       int
	ExpYear        int
	AccountType    string
	Status         string
	StatusReason   string
	AuthAcceptedAt time.Time
	AuthIP         string
	AuthText       string
	AuthSEC        string
	PayerHash      string
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

const methodCols = `id, customer_id, kind, token, payer_ref, mask, brand, holder_name, exp_month, exp_year, account_type, status,
 status_reason, auth_accepted_at, auth_ip, auth_text, auth_sec, payer_hash, created_at, updated_at`

func scanMethod(r scanner) (SavedMethodRow, error) {
	var m SavedMethodRow
	var acc, created, updated string
	err := r.Scan(&m.ID, &m.CustomerID, &m.Kind, &m.Token, &m.PayerRef, &m.Mask, &m.Brand, &m.HolderName, &m.ExpMonth, &m.ExpYear,
		&m.AccountType, &m.Status, &m.StatusReason, &acc, &m.AuthIP, &m.AuthText, &m.AuthSEC, &m.PayerHash, &created, &updated)
	m.AuthAcceptedAt, m.CreatedAt, m.UpdatedAt = ParseTime(acc), ParseTime(created), ParseTime(updated)
	return m, err
}

// SaveMethod stores a new active method for the customer, retiring the one
// it replaces, and returns its id.
func (db *DB) SaveMethod(ctx context.Context, m SavedMethodRow, now time.Time) (int64, error) {
	var id int64
	err := db.Write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE saved_methods SET status='removed', status_reason='replaced', updated_at=?
 WHERE customer_id=? AND status='active'`, FormatTime(now), m.CustomerID); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO saved_methods (customer_id, kind, token, payer_ref, mask, brand, holder_name,
 exp_month, exp_year, account_type, status, auth_accepted_at, auth_ip, auth_text, auth_sec, payer_hash, created_at, updated_at)
 VALUES (?,?,?,?,?,?,?,?,?,?,'active',?,?,?,?,?,?,?)`, m.CustomerID, m.Kind, m.Token, m.PayerRef, m.Mask, m.Brand, m.HolderName,
			m.ExpMonth, m.ExpYear, m.AccountType, FormatTime(m.AuthAcceptedAt), m.AuthIP, m.AuthText, m.AuthSEC,
			m.PayerHash, FormatTime(now), FormatTime(now))
		if err != nil {
			return err
		}
		id, err = res.LastInsertId()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: save payment method of customer %d: %w", m.CustomerID, err)
	}
	return id, nil
}

// GetMethod reads one saved method.
func (db *DB) GetMethod(ctx context.Context, id int64) (SavedMethodRow, error) {
	m, err := scanMethod(db.SQL().QueryRowContext(ctx, `SELECT `+methodCols+` FROM saved_methods WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return m, fmt.Errorf("%w: saved method %d", ErrNotFound, id)
	}
	if err != nil {
		return m, fmt.Errorf("store: read saved method %d: %w", id, err)
	}
	return m, nil
}

// ActiveMethod returns the customer's active method (ErrNotFound if none).
func (db *DB) ActiveMethod(ctx context.Context, customerID int64) (SavedMethodRow, error) {
	m, err := scanMethod(db.SQL().QueryRowContext(ctx, `SELECT `+methodCols+` FROM saved_methods
 WHERE customer_id = ? AND status = 'active'`, customerID))
	if errors.Is(err, sql.ErrNoRows) {
		return m, fmt.Errorf("%w: active method of customer %d", ErrNotFound, customerID)
	}
	if err != nil {
		return m, fmt.Errorf("store: read active method of customer %d: %w", customerID, err)
	}
	return m, nil
}

// ListMethods returns saved methods; customerID 0 lists all, statuses empty all.
func (db *DB) ListMethods(ctx context.Context, customerID int64, statuses ...string) ([]SavedMethodRow, error) {
	q := `SELECT ` + methodCols + ` FROM saved_methods WHERE 1=1`
	var args []any
	if customerID != 0 {
		q += " AND customer_id = ?"
		args = append(args, customerID)
	}
	if len(statuses) > 0 {
		q += " AND status IN (" + strings.TrimSuffix(strings.Repeat("?,", len(statuses)), ",") + ")"
		for _, s := range statuses {
			args = append(args, s)
		}
	}
	rows, err := db.SQL().QueryContext(ctx, q+" ORDER BY id", args...)
	if err != nil {
		return nil, fmt.Errorf("store: list saved methods: %w", err)
	}
	defer rows.Close()
	var out []SavedMethodRow
	for rows.Next() {
		m, err := scanMethod(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list saved methods: %w", err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// SetMethodStatus changes a saved method's status inside tx.
func SetMethodStatus(ctx context.Context, tx *sql.Tx, id int64, status, reason string, now time.Time) error {
	_, err := tx.ExecContext(ctx, `UPDATE saved_methods SET status=?, status_reason=?, updated_at=? WHERE id=? AND status <> 'removed'`,
		status, reason, FormatTime(now), id)
	if err != nil {
		return fmt.Errorf("store: set saved method %d to %s: %w", id, status, err)
	}
	return nil
}

// SetPayerHash records the payer details last pushed to the gateway.
func (db *DB) SetPayerHash(ctx context.Context, id int64, hash string, now time.Time) error {
	return db.Write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE saved_methods SET payer_hash=?, updated_at=? WHERE id=?`, hash, FormatTime(now), id)
		return err
	})
}

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
	rows, err := db.SQL().QueryContext(ctx, `SELECT `+outboxCols+` FROM writeback_outbox
 WHERE status = 'pending' AND (next_try_at = '' OR next_try_at <= ?) ORDER BY id LIMIT ?`, FormatTime(now), limit)
	if err != nil {
		return nil, fmt.Errorf("store: list due write-backs: %w", err)
	}
	defer rows.Close()
	var out []OutboxItem
	for rows.Next() {
		o, err := scanOutbox(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list due write-backs: %w", err)
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// ListOutbox returns the outbox rows of an attempt (attemptID 0: all).
func (db *DB) ListOutbox(ctx context.Context, attemptID int64) ([]OutboxItem, error) {
	q, args := `SELECT `+outboxCols+` FROM writeback_outbox`, []any{}
	if attemptID != 0 {
		q += ` WHERE attempt_id = ?`
		args = append(args, attemptID)
	}
	rows, err := db.SQL().QueryContext(ctx, q+` ORDER BY id`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: list write-backs: %w", err)
	}
	defer rows.Close()
	var out []OutboxItem
	for rows.Next() {
		o, err := scanOutbox(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, rows.Err()
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
	rows, err := db.SQL().QueryContext(ctx, `SELECT DISTINCT lease_owner FROM writeback_outbox
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
	rows, err := db.SQL().QueryContext(ctx, q+` ORDER BY id`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: list reversals: %w", err)
	}
	defer rows.Close()
	var out []Reversal
	for rows.Next() {
		var r Reversal
		var created string
		if err := rows.Scan(&r.ID, &r.AttemptID, &r.Kind, &r.Reference, &r.GatewayID, &r.Amount, &r.Reason, &r.Code,
			&r.SplynxPaymentID, &r.State, &created); err != nil {
			return nil, err
		}
		r.CreatedAt = ParseTime(created)
		out = append(out, r)
	}
	return out, rows.Err()
}
