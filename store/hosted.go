package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// HostedPage is a gateway hosted page we created (card_entry = hosted).
type HostedPage struct {
	Token       string
	CustomerID  int64
	Kind        string // HPP | EDDR
	Purpose     string // method | pay
	AttemptID   int64
	Save        bool
	Direct      bool
	BrowserHash string
	CreatedAt   time.Time
	ExpiresAt   time.Time
	DoneAt      time.Time
	MethodID    int64
	Next        string // our page to go to after a saved method
}

// CreateHostedPage records a hosted page before the browser is sent to it.
func (db *DB) CreateHostedPage(ctx context.Context, h HostedPage, now time.Time) error {
	return db.Write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO hosted_pages (token, customer_id, kind, purpose, attempt_id, save, direct, browser_hash,
 created_at, expires_at, next) VALUES (?,?,?,?,?,?,?,?,?,?,?)`, h.Token, h.CustomerID, h.Kind, h.Purpose, nullID(h.AttemptID), h.Save, h.Direct,
			h.BrowserHash, FormatTime(now), FormatTime(h.ExpiresAt), h.Next)
		if err != nil {
			return fmt.Errorf("store: record hosted page of customer %d: %w", h.CustomerID, err)
		}
		return nil
	})
}

// HostedPageByToken returns the hosted page with token (ErrNotFound when we
// never created it).
func (db *DB) HostedPageByToken(ctx context.Context, token string) (HostedPage, error) {
	var h HostedPage
	var created, expires, done string
	err := db.read.QueryRowContext(ctx, `SELECT token, customer_id, kind, purpose, COALESCE(attempt_id, 0), save, direct, browser_hash,
 created_at, expires_at, done_at, COALESCE(method_id, 0), next FROM hosted_pages WHERE token = ?`, token).
		Scan(&h.Token, &h.CustomerID, &h.Kind, &h.Purpose, &h.AttemptID, &h.Save, &h.Direct, &h.BrowserHash, &created, &expires, &done, &h.MethodID, &h.Next)
	if errors.Is(err, sql.ErrNoRows) {
		return h, fmt.Errorf("%w: hosted page", ErrNotFound)
	}
	if err != nil {
		return h, fmt.Errorf("store: read hosted page: %w", err)
	}
	h.CreatedAt, h.ExpiresAt, h.DoneAt = ParseTime(created), ParseTime(expires), ParseTime(done)
	return h, nil
}

// FinishHostedPage marks a hosted page as handled, with the method it
// saved (0: none). It reports false when it was already handled.
func (db *DB) FinishHostedPage(ctx context.Context, token string, methodID int64, now time.Time) (bool, error) {
	var n int64
	err := db.Write(ctx, func(tx *sql.Tx) error {
		r, err := tx.ExecContext(ctx, `UPDATE hosted_pages SET done_at = ?, method_id = ? WHERE token = ? AND done_at = ''`,
			FormatTime(now), nullID(methodID), token)
		if err != nil {
			return fmt.Errorf("store: finish hosted page: %w", err)
		}
		n, err = r.RowsAffected()
		return err
	})
	return n == 1, err
}
