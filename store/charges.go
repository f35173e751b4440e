package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	sqlite3 "github.com/mattn/go-sqlite3"
)

// Kinds of charge.
const (
	KindInvoice  = "invoice"
	KindProforma = "proforma"
	KindRefill   = "refill"
	KindBalance  = "balance"
)

// TimeFormat is how the charge tables store times: fixed width UTC so text
// comparison orders them.
const TimeFormat = "2006-01-02T15:04:05.000Z"

// FormatTime renders t for the charge tables ("" for the zero time).
func FormatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(TimeFormat)
}

// ParseTime reads a FormatTime value ("" → zero).
func ParseTime(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(TimeFormat, s)
	if err != nil {
		return time.Time{}
	}
	return t
}

// ChargeAttempt is one row of charge_attempts.
type ChargeAttempt struct {
	ID              int64
	ChargeKey       string
	Kind            string
	InvoiceID       int64
	ProformaID      int64
	ItemNumber      string
	CustomerID      int64
	Amount          int64
	Fee             int64
	Refunded        int64
	Currency        string
	MethodID        int64
	MethodKind      string
	Reference       string
	GatewayID       string
	SecondaryID     string
	State           AttemptState
	Reason          string
	Code            string
	Message         string
	Retryable       bool
	Review          bool
	AttemptNo       int
	RetryOf         int64
	Retried         bool
	RunID           int64
	SettlesBy       time.Time
	NextRetryAt     time.Time
	NextCheckAt     time.Time
	Checks          int
	SplynxPaymentID int64
	// Superseded: the gateway took this attempt's money after another
	// attempt had paid (or was paying) the document; the money goes to the
	// customer's balance or back, never onto the document a second time.
	Superseded bool
	// RefundDue: a superseded charge whose refund (late_settlement=refund)
	// is still owed; staff may keep the money on the balance instead.
	RefundDue  bool
	CreatedAt  time.Time
	UpdatedAt  time.Time
	SentAt     time.Time
	ResolvedAt time.Time
}

// Receipt is the Splynx payment receipt number for the attempt: the gateway
// transaction id, or our reference while the gateway has given none.
func (a ChargeAttempt) Receipt() string {
	if a.GatewayID != "" {
		return a.GatewayID
	}
	return a.Reference
}

const attemptCols = `id, charge_key, kind, invoice_id, proforma_id, item_number, customer_id, amount, fee, refunded,
 currency, COALESCE(method_id, 0), method_kind, reference, gateway_id, secondary_id, state, reason, code, message,
 retryable, review, attempt_no, COALESCE(retry_of, 0), retried, COALESCE(run_id, 0), settles_by, next_retry_at,
 next_check_at, checks, splynx_payment_id, created_at, updated_at, sent_at, resolved_at, superseded, refund_due`

type scanner = interface{ Scan(...any) error }

func scanAttempt(r scanner) (ChargeAttempt, error) {
	var a ChargeAttempt
	var state, settles, nextRetry, nextCheck, created, updated, sent, resolved string
	err := r.Scan(&a.ID, &a.ChargeKey, &a.Kind, &a.InvoiceID, &a.ProformaID, &a.ItemNumber, &a.CustomerID,
		&a.Amount, &a.Fee, &a.Refunded, &a.Currency, &a.MethodID, &a.MethodKind, &a.Reference, &a.GatewayID,
		&a.SecondaryID, &state, &a.Reason, &a.Code, &a.Message, &a.Retryable, &a.Review, &a.AttemptNo,
		&a.RetryOf, &a.Retried, &a.RunID, &settles, &nextRetry, &nextCheck, &a.Checks, &a.SplynxPaymentID,
		&created, &updated, &sent, &resolved, &a.Superseded, &a.RefundDue)
	if err != nil {
		return a, err
	}
	a.State = AttemptState(state)
	a.SettlesBy, a.NextRetryAt, a.NextCheckAt = ParseTime(settles), ParseTime(nextRetry), ParseTime(nextCheck)
	a.CreatedAt, a.UpdatedAt, a.SentAt, a.ResolvedAt = ParseTime(created), ParseTime(updated), ParseTime(sent), ParseTime(resolved)
	return a, nil
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// IsUniqueViolation reports whether err is a SQLite UNIQUE constraint failure.
func IsUniqueViolation(err error) bool {
	var se sqlite3.Error
	if errors.As(err, &se) {
		return se.ExtendedCode == sqlite3.ErrConstraintUnique || se.ExtendedCode == sqlite3.ErrConstraintPrimaryKey
	}
	return false
}

// InsertAttempt writes a new attempt in state created inside tx and sets
// a.ID. A live attempt of the same charge gives ErrLiveAttempt.
func InsertAttempt(ctx context.Context, tx *sql.Tx, a *ChargeAttempt, now time.Time) error {
	if a.Amount <= 0 {
		return fmt.Errorf("store: insert charge attempt %s: amount %d is not positive", a.ChargeKey, a.Amount)
	}
	if a.AttemptNo == 0 {
		a.AttemptNo = 1
	}
	a.State = StateCreated
	a.CreatedAt, a.UpdatedAt = now, now
	res, err := tx.ExecContext(ctx, `INSERT INTO charge_attempts
 (charge_key, kind, invoice_id, proforma_id, item_number, customer_id, amount, fee, currency, method_id, method_kind,
  reference, state, attempt_no, retry_of, run_id, created_at, updated_at)
 VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		a.ChargeKey, a.Kind, a.InvoiceID, a.ProformaID, a.ItemNumber, a.CustomerID, a.Amount, a.Fee, a.Currency,
		nullID(a.MethodID), a.MethodKind, a.Reference, string(StateCreated), a.AttemptNo, nullID(a.RetryOf),
		nullID(a.RunID), FormatTime(now), FormatTime(now))
	if err != nil {
		if IsUniqueViolation(err) && strings.Contains(err.Error(), "charge_key") {
			return fmt.Errorf("%w: %s", ErrLiveAttempt, a.ChargeKey)
		}
		return fmt.Errorf("store: insert charge attempt %s: %w", a.ChargeKey, err)
	}
	a.ID, err = res.LastInsertId()
	return err
}

// CreateAttempt is InsertAttempt in its own transaction.
func (db *DB) CreateAttempt(ctx context.Context, a *ChargeAttempt, now time.Time) error {
	return db.Write(ctx, func(tx *sql.Tx) error { return InsertAttempt(ctx, tx, a, now) })
}

// GetAttempt reads one attempt.
func (db *DB) GetAttempt(ctx context.Context, id int64) (ChargeAttempt, error) {
	return db.oneAttempt(ctx, `WHERE id = ?`, id)
}

// AttemptByReference finds the attempt with our reference.
func (db *DB) AttemptByReference(ctx context.Context, ref string) (ChargeAttempt, error) {
	return db.oneAttempt(ctx, `WHERE reference = ?`, ref)
}

// AttemptByGatewayID finds the newest attempt carrying the gateway's id.
func (db *DB) AttemptByGatewayID(ctx context.Context, gid string) (ChargeAttempt, error) {
	return db.oneAttempt(ctx, `WHERE gateway_id = ? ORDER BY id DESC LIMIT 1`, gid)
}

func (db *DB) oneAttempt(ctx context.Context, where string, args ...any) (ChargeAttempt, error) {
	a, err := scanAttempt(db.read.QueryRowContext(ctx, `SELECT `+attemptCols+` FROM charge_attempts `+where, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return a, fmt.Errorf("%w: charge attempt %v", ErrNotFound, args)
	}
	if err != nil {
		return a, fmt.Errorf("store: read charge attempt %v: %w", args, err)
	}
	return a, nil
}

// AttemptFilter selects attempts. Zero fields do not filter.
type AttemptFilter struct {
	States     []AttemptState
	RunID      int64
	CustomerID int64
	ChargeKey  string
	ChargeKeys []string // any of these charges
	// CheckDue selects rows whose next_check_at is empty or ≤ this time.
	CheckDue time.Time
	// RetryDue selects declined, retryable, not yet retried rows whose
	// next_retry_at ≤ this time.
	RetryDue time.Time
	// UpdatedBefore selects rows not touched since this time.
	UpdatedBefore time.Time
	Limit         int
	Desc          bool
}

// ListAttempts returns the attempts matching f ordered by id.
func (db *DB) ListAttempts(ctx context.Context, f AttemptFilter) ([]ChargeAttempt, error) {
	var where []string
	var args []any
	if len(f.States) > 0 {
		ph := make([]string, len(f.States))
		for i, s := range f.States {
			ph[i] = "?"
			args = append(args, string(s))
		}
		where = append(where, "state IN ("+strings.Join(ph, ",")+")")
	}
	if f.RunID != 0 {
		where = append(where, "run_id = ?")
		args = append(args, f.RunID)
	}
	if f.CustomerID != 0 {
		where = append(where, "customer_id = ?")
		args = append(args, f.CustomerID)
	}
	if f.ChargeKey != "" {
		where = append(where, "charge_key = ?")
		args = append(args, f.ChargeKey)
	}
	if len(f.ChargeKeys) > 0 {
		where = append(where, "charge_key IN (?"+strings.Repeat(",?", len(f.ChargeKeys)-1)+")")
		for _, k := range f.ChargeKeys {
			args = append(args, k)
		}
	}
	if !f.CheckDue.IsZero() {
		where = append(where, "(next_check_at = '' OR next_check_at <= ?)")
		args = append(args, FormatTime(f.CheckDue))
	}
	if !f.RetryDue.IsZero() {
		where = append(where, "state = 'declined' AND retryable = 1 AND retried = 0 AND next_retry_at <> '' AND next_retry_at <= ?")
		args = append(args, FormatTime(f.RetryDue))
	}
	if !f.UpdatedBefore.IsZero() {
		where = append(where, "updated_at <= ?")
		args = append(args, FormatTime(f.UpdatedBefore))
	}
	q := `SELECT ` + attemptCols + ` FROM charge_attempts`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	if f.Desc {
		q += " ORDER BY id DESC"
	} else {
		q += " ORDER BY id"
	}
	if f.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", f.Limit)
	}
	return queryAll(ctx, db, "list charge attempts", scanAttempt, q, args...)
}

// LatestAttempt returns the newest attempt of a charge (ErrNotFound if none).
func (db *DB) LatestAttempt(ctx context.Context, chargeKey string) (ChargeAttempt, error) {
	// IN (?), not = ?: with an ORDER BY, SQLite marks an "= ?" term's
	// value as one the plan may depend on, and the driver clears the
	// bindings before each run, so the statement would be prepared anew
	// every time (the pay page asks this on every view).
	return db.oneAttempt(ctx, `WHERE charge_key IN (?) ORDER BY id DESC LIMIT 1`, chargeKey)
}

// OtherLiveAttempt returns another attempt of a's charge that is live or
// recorded (it paid, or may be paying, the document); ID 0 when none.
func (db *DB) OtherLiveAttempt(ctx context.Context, a ChargeAttempt) (ChargeAttempt, error) {
	o, err := db.oneAttempt(ctx, `WHERE charge_key = ? AND id <> ? AND superseded = 0
 AND state IN ('created','sending','unknown','review','pending','approved','recorded') ORDER BY id DESC LIMIT 1`, a.ChargeKey, a.ID)
	if errors.Is(err, ErrNotFound) {
		return ChargeAttempt{}, nil
	}
	return o, err
}

// StateTotal counts the attempts in one state and sums their amounts.
type StateTotal struct {
	State  AttemptState
	Count  int64
	Amount int64 // minor units
}

// AttemptTotals counts and sums the attempts per state, by state.
func (db *DB) AttemptTotals(ctx context.Context) ([]StateTotal, error) {
	return queryAll(ctx, db, "attempt totals", func(sc scanner) (t StateTotal, err error) {
		err = sc.Scan(&t.State, &t.Count, &t.Amount)
		return t, err
	}, `SELECT state, COUNT(*), SUM(amount) FROM charge_attempts GROUP BY state ORDER BY state`)
}
