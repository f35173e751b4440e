package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	sqlite3 "github.com/mattn/go-sqlite3"
)

// ProbeSize is how much the storage probe writes per commit.
const ProbeSize = 64 << 10

// ProbeWrite commits a small write through the writer connection, so it
// fails exactly when the daemon's own writes would: the disk full, the
// file or its folder read-only, or the database locked by another process
// past the busy timeout. The error is one short line saying which.
func (db *DB) ProbeWrite(ctx context.Context) error {
	err := db.Write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO storage_probe(id, at, pad) VALUES (1, ?, zeroblob(?))
 ON CONFLICT(id) DO UPDATE SET at = excluded.at, pad = excluded.pad`, db.now().UTC().Format(time.RFC3339Nano), ProbeSize)
		return err
	})
	if err == nil {
		return nil
	}
	return StorageProblem(err)
}

// StorageProblem names what keeps the database from writing, in a few
// words: "disk full", "read-only", "locked by another process", or the
// error itself.
func StorageProblem(err error) error {
	var se sqlite3.Error
	if errors.As(err, &se) {
		switch se.Code {
		case sqlite3.ErrFull:
			return fmt.Errorf("database cannot write: disk full (%w)", err)
		case sqlite3.ErrReadonly, sqlite3.ErrPerm, sqlite3.ErrCantOpen:
			return fmt.Errorf("database cannot write: read-only (%w)", err)
		case sqlite3.ErrBusy, sqlite3.ErrLocked:
			return fmt.Errorf("database cannot write: locked by another process (%w)", err)
		case sqlite3.ErrIoErr:
			return fmt.Errorf("database cannot write: I/O error, disk full or read-only (%w)", err)
		}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("database cannot write: no answer in time, locked by another process or a stalled disk (%w)", err)
	}
	return fmt.Errorf("database cannot write: %w", err)
}
