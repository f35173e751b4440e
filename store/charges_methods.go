package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

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
	m, err := scanMethod(db.read.QueryRowContext(ctx, `SELECT `+methodCols+` FROM saved_methods WHERE id = ?`, id))
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
	m, err := scanMethod(db.read.QueryRowContext(ctx, `SELECT `+methodCols+` FROM saved_methods
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
	return queryAll(ctx, db, "list saved methods", scanMethod, q+" ORDER BY id", args...)
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
