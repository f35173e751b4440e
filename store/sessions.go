package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// PortalSession is a customer's session on the payment pages.
type PortalSession struct {
	CustomerID int64
	Via        string // splynx | login
	IP         string
	Origin     string // via=splynx: hash of the Splynx portal session
	CreatedAt  time.Time
	LastSeen   time.Time
}

// sessionKey is what the table keeps of a session id.
func sessionKey(id string) string {
	h := sha256.Sum256([]byte(id))
	return hex.EncodeToString(h[:])
}

// CreatePortalSession stores a new session under id (the random value the
// browser holds; only its hash is written).
func (db *DB) CreatePortalSession(ctx context.Context, id string, s PortalSession, now time.Time) error {
	return db.Write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO portal_sessions (id_hash, customer_id, via, ip, origin, created_at, last_seen)
 VALUES (?,?,?,?,?,?,?)`, sessionKey(id), s.CustomerID, s.Via, s.IP, s.Origin, FormatTime(now), FormatTime(now))
		if err != nil {
			return fmt.Errorf("store: create portal session of customer %d: %w", s.CustomerID, err)
		}
		return nil
	})
}

// PortalSessionByID returns the session if it was seen within idle of now
// (ErrNotFound otherwise, and for an unknown id). A session seen more than
// touchEvery ago has its last_seen moved to now, so an active visitor stays
// in without a write on every click.
func (db *DB) PortalSessionByID(ctx context.Context, id string, idle, touchEvery time.Duration, now time.Time) (PortalSession, error) {
	var s PortalSession
	var created, seen string
	key := sessionKey(id)
	err := db.read.QueryRowContext(ctx, `SELECT customer_id, via, ip, origin, created_at, last_seen FROM portal_sessions WHERE id_hash = ?`, key).
		Scan(&s.CustomerID, &s.Via, &s.IP, &s.Origin, &created, &seen)
	if errors.Is(err, sql.ErrNoRows) {
		return s, fmt.Errorf("%w: portal session", ErrNotFound)
	}
	if err != nil {
		return s, fmt.Errorf("store: read portal session: %w", err)
	}
	s.CreatedAt, s.LastSeen = ParseTime(created), ParseTime(seen)
	if now.Sub(s.LastSeen) > idle {
		_ = db.DeletePortalSession(ctx, id)
		return PortalSession{}, fmt.Errorf("%w: portal session expired", ErrNotFound)
	}
	if now.Sub(s.LastSeen) > touchEvery {
		err := db.Write(ctx, func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE portal_sessions SET last_seen = ? WHERE id_hash = ?`, FormatTime(now), key)
			return err
		})
		if err != nil {
			return s, fmt.Errorf("store: touch portal session: %w", err)
		}
		s.LastSeen = now
	}
	return s, nil
}

// DeletePortalSession ends a session (log out).
func (db *DB) DeletePortalSession(ctx context.Context, id string) error {
	return db.Write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM portal_sessions WHERE id_hash = ?`, sessionKey(id))
		if err != nil {
			return fmt.Errorf("store: delete portal session: %w", err)
		}
		return nil
	})
}

// PurgePortalSessions deletes sessions not seen since before cutoff and
// returns how many.
func (db *DB) PurgePortalSessions(ctx context.Context, cutoff time.Time) (int64, error) {
	var n int64
	err := db.Write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM portal_sessions WHERE last_seen < ?`, FormatTime(cutoff))
		if err != nil {
			return fmt.Errorf("store: purge portal sessions: %w", err)
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}
