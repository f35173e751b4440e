package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Cursor is the sync position of one entity (customers, invoices, ...).
type Cursor struct {
	Entity     string
	LastSeen   time.Time // largest Splynx timestamp seen (Splynx's clock)
	LastFull   time.Time // when the last successful full pass ended (our clock)
	LastRun    time.Time // when the last successful pass of any kind ended (our clock)
	Generation int64     // number of the latest full pass started
	LastID     int64     // largest id seen, for entities followed by id
}

// CursorGet reads an entity's cursor; an entity never synced has a zero Cursor.
func (db *DB) CursorGet(ctx context.Context, entity string) (Cursor, error) {
	c := Cursor{Entity: entity}
	var seen, full, run string
	err := db.read.QueryRowContext(ctx,
		`SELECT last_seen, last_full, last_run, generation, last_id FROM sync_cursors WHERE entity = ?`, entity).
		Scan(&seen, &full, &run, &c.Generation, &c.LastID)
	if errors.Is(err, sql.ErrNoRows) {
		return c, nil
	}
	if err != nil {
		return c, fmt.Errorf("store: read %s cursor: %w", entity, err)
	}
	c.LastSeen = parseDateTime(seen)
	c.LastFull, _ = time.Parse(time.RFC3339Nano, full)
	c.LastRun, _ = time.Parse(time.RFC3339Nano, run)
	return c, nil
}

// CursorSet writes an entity's cursor inside tx (nil tx: its own transaction).
func (db *DB) CursorSet(ctx context.Context, tx *sql.Tx, c Cursor) error {
	if c.Entity == "" {
		return errors.New("store: write cursor: empty entity")
	}
	fmtT := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339Nano)
	}
	set := func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO sync_cursors(entity, last_seen, last_full, last_run, generation, last_id, updated_at)
			VALUES (?,?,?,?,?,?,?) ON CONFLICT(entity) DO UPDATE SET last_seen=excluded.last_seen,
			last_full=excluded.last_full, last_run=excluded.last_run, generation=excluded.generation,
			last_id=excluded.last_id, updated_at=excluded.updated_at`,
			c.Entity, FormatDateTime(c.LastSeen), fmtT(c.LastFull), fmtT(c.LastRun), c.Generation, c.LastID,
			db.now().UTC().Format(time.RFC3339Nano))
		if err != nil {
			return fmt.Errorf("store: write %s cursor: %w", c.Entity, err)
		}
		return nil
	}
	if tx != nil {
		return set(tx)
	}
	return db.Write(ctx, set)
}
