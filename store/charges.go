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

	sqlite3 "github.com/mattn/go-sqlite3"
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
	// (the status feed can still resolve it).
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

// Kinds of charge.
const (
	KindInvoice  = "invoice"
	KindProforma = "proforma"
	KindRefill   = "refill"
	KindBalance  = "balance"
)

// Errors of the charge tables.
var (
	// ErrLiveAttempt: another attempt of the same charge is live.
	ErrLiveAttempt = errors.New("store: a live attempt exists for this charge")
	// ErrStateChanged: the guarded UPDATE matched nothing; the row moved.
	ErrStateChanged = errors.New("store: charge attempt is no longer in the expected state")
	// ErrBadTransition: the state machine does not allow the move.
	ErrBadTransition = errors.New("store: illegal charge state transition")
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
 next_check_at, checks, splynx_payment_id, created_at, updated_at, sent_at, resolved_at, superseded`

type scanner interface{ Scan(...any) error }

func scanAttempt(r scanner) (ChargeAttempt, error) {
	var a ChargeAttempt
	var state, settles, nextRetry, nextCheck, created, updated, sent, resolved string
	err := r.Scan(&a.ID, &a.ChargeKey, &a.Kind, &a.InvoiceID, &a.ProformaID, &a.ItemNumber, &a.CustomerID,
		&a.Amount, &a.Fee, &a.Refunded, &a.Currency, &a.MethodID, &a.MethodKind, &a.Reference, &a.GatewayID,
		&a.SecondaryID, &state, &a.Reason, &a.Code, &a.Message, &a.Retryable, &a.Review, &a.AttemptNo,
		&a.RetryOf, &a.Retried, &a.RunID, &settles, &nextRetry, &nextCheck, &a.Checks, &a.SplynxPaymentID,
		&created, &updated, &sent, &resolved, &a.Superseded)
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
	a, err := scanAttempt(db.SQL().QueryRowContext(ctx, `SELECT `+attemptCols+` FROM charge_attempts `+where, args...))
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
	rows, err := db.SQL().QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: list charge attempts: %w", err)
	}
	defer rows.Close()
	var out []ChargeAttempt
	for rows.Next() {
		a, err := scanAttempt(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list charge attempts: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// LatestAttempt returns the newest attempt of a charge (ErrNotFound if none).
func (db *DB) LatestAttempt(ctx context.Context, chargeKey string) (ChargeAttempt, error) {
	return db.oneAttempt(ctx, `WHERE charge_key = ? ORDER BY id DESC LIMIT 1`, chargeKey)
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
