// Package store is the daemon's SQLite database: the mirror of Splynx, the
// sync cursors, the audit log, and (in files owned by the charge engine) the
// charge state machine's persistence.
//
// Writes go through one connection so that the daemon never competes with
// itself for SQLite's single writer lock; reads use a separate pool that WAL
// lets run alongside the writer.
package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"time"

	_ "github.com/mattn/go-sqlite3" // registers the "sqlite3" driver
	"go.uber.org/zap"
)

// DB is an open database with its migrations applied.
type DB struct {
	path  string
	read  *sql.DB
	write *sql.DB
	log   *zap.Logger
	now   func() time.Time
}

// Open opens (creating if needed) the database at path and applies every
// embedded migration it has not seen. It refuses a database whose schema is
// newer than this binary knows (ErrSchemaTooNew), since running old code on a
// new schema could silently misread the charge ledger.
func Open(ctx context.Context, path string, logger *zap.Logger) (*DB, error) {
	if logger == nil {
		logger = zap.NewNop()
	}
	if path == "" {
		return nil, errors.New("store: open: empty database path")
	}
	if dir := filepath.Dir(path); dir != "" {
		st, err := os.Stat(dir)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("store: open %s: directory %s does not exist", path, dir)
		}
		if err != nil {
			return nil, fmt.Errorf("store: open %s: %w", path, err)
		}
		if !st.IsDir() {
			return nil, fmt.Errorf("store: open %s: %s is not a directory", path, dir)
		}
	}
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return nil, fmt.Errorf("store: open %s: is a directory", path)
	}
	if err := privateFiles(path); err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}

	// The writer gets a larger page cache than SQLite's 2 MB default: a
	// full mirror pass inserts into indexes of hundreds of megabytes.
	w, err := sql.Open("sqlite3", dsn(path, "immediate")+"&_cache_size=-16384")
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)

	r, err := sql.Open("sqlite3", dsn(path, "deferred"))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	n := max(4, runtime.NumCPU())
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)

	db := &DB{path: path, read: r, write: w, log: logger.Named("store"), now: time.Now}
	// The first write-connection round trip creates the file and switches it
	// to WAL; a permission problem surfaces here with the path in the message.
	if err := w.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	// Checkpoint in larger steps than SQLite's 1000 pages: each checkpoint
	// syncs the file, and a mirror pass commits hundreds of megabytes.
	if _, err := w.ExecContext(ctx, `PRAGMA wal_autocheckpoint = 8192`); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	if err := db.checkWritable(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	if err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	// A mirror pass that died while loading empty tables left their indexes
	// dropped; build them before anyone queries.
	if err := db.RestoreIndexes(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	return db, nil
}

func dsn(path, txlock string) string {
	u := url.URL{Path: path}
	return "file:" + u.EscapedPath() +
		"?_journal_mode=WAL&_txlock=" + txlock +
		"&_foreign_keys=on&_busy_timeout=10000&_synchronous=NORMAL" +
		// Each connection keeps its 64 most recent prepared statements:
		// a page view's handful of queries then skip SQLite's parser,
		// which was half of their SQLite time (page bench profile).
		"&_stmt_cache_size=64"
}

// checkWritable makes sure the file accepts writes now rather than at the
// first charge: SQLite opens read-only files without complaint.
func (db *DB) checkWritable(ctx context.Context) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT NOT NULL,
		applied_at TEXT NOT NULL)`); err != nil {
		return err
	}
	return tx.Commit()
}

// Path is the database file this DB was opened on.
func (db *DB) Path() string { return db.path }

// Close closes both pools.
func (db *DB) Close() error {
	var errs []error
	if db.read != nil {
		errs = append(errs, db.read.Close())
	}
	if db.write != nil {
		errs = append(errs, db.write.Close())
	}
	return errors.Join(errs...)
}

// Write runs fn in one immediate write transaction and commits it if fn
// returns nil. The write lock is taken at BEGIN, so fn never fails half-way
// because another writer got there first.
func (db *DB) Write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin write: %w", err)
	}
	// The only write connection must never stay inside a transaction, not
	// even when fn panics.
	defer func() {
		if r := recover(); r != nil {
			tx.Rollback()
			panic(r)
		}
	}()
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}

// Ping checks that both the read and the write path answer.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.read.PingContext(ctx); err != nil {
		return fmt.Errorf("store: ping %s: %w", db.path, err)
	}
	var one int
	if err := db.read.QueryRowContext(ctx, `SELECT 1`).Scan(&one); err != nil {
		return fmt.Errorf("store: ping %s: %w", db.path, err)
	}
	if err := db.write.PingContext(ctx); err != nil {
		return fmt.Errorf("store: ping %s: %w", db.path, err)
	}
	return nil
}

// Audit appends one row to the audit log. With a nil tx it writes in its own
// transaction; with a tx it commits or rolls back with the caller's change,
// so the log never claims something that did not happen.
func (db *DB) Audit(ctx context.Context, tx *sql.Tx, event string, fields map[string]any) error {
	if event == "" {
		return errors.New("store: audit: empty event")
	}
	if fields == nil {
		fields = map[string]any{}
	}
	b, err := json.Marshal(fields)
	if err != nil {
		return fmt.Errorf("store: audit %s: encode fields: %w", event, err)
	}
	at := db.now().UTC().Format(time.RFC3339Nano)
	ins := func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO audit_log(at, event, fields_json) VALUES (?, ?, ?)`, at, event, string(b)); err != nil {
			return fmt.Errorf("store: audit %s: %w", event, err)
		}
		return nil
	}
	if tx != nil {
		return ins(tx)
	}
	return db.Write(ctx, ins)
}

// AuditEntry is one audit log row.
type AuditEntry struct {
	ID     int64
	At     time.Time
	Event  string
	Fields map[string]any
}

// AuditLog returns the newest audit rows first, optionally only one event
// kind (event == "" means all).
func (db *DB) AuditLog(ctx context.Context, event string, limit int) ([]AuditEntry, error) {
	if limit <= 0 {
		limit = 100
	}
	q := `SELECT id, at, event, fields_json FROM audit_log`
	args := []any{}
	if event != "" {
		q += ` WHERE event = ?`
		args = append(args, event)
	}
	q += ` ORDER BY id DESC LIMIT ?`
	args = append(args, limit)
	rows, err := db.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: read audit log: %w", err)
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var e AuditEntry
		var at, fj string
		if err := rows.Scan(&e.ID, &at, &e.Event, &fj); err != nil {
			return nil, fmt.Errorf("store: read audit log: %w", err)
		}
		e.At, _ = time.Parse(time.RFC3339Nano, at)
		if err := json.Unmarshal([]byte(fj), &e.Fields); err != nil {
			return nil, fmt.Errorf("store: read audit log row %d: %w", e.ID, err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// Checkpoint copies the write-ahead log into the database file as far as
// readers allow, without waiting for them. A bulk writer calls it at the end
// of its work so that the next small transaction does not pay for the
// checkpoint of everything before it.
func (db *DB) Checkpoint(ctx context.Context) error {
	if _, err := db.write.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		return fmt.Errorf("store: checkpoint %s: %w", db.path, err)
	}
	return nil
}

// privateFiles keeps the database (saved methods' tokens, customers'
// names and addresses, the charge ledger) from other users whatever the
// umask: a new file is created empty with mode 0600 before SQLite opens it,
// and SQLite gives its -wal and -shm files the database file's mode; an
// existing file, -wal or -shm open to other users loses those bits.
func privateFiles(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	switch {
	case err == nil:
		return f.Close()
	case !errors.Is(err, fs.ErrExist):
		return err
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		st, err := os.Stat(p)
		if err != nil || st.Mode().Perm()&0o007 == 0 {
			continue
		}
		if err := os.Chmod(p, st.Mode().Perm()&^0o007); err != nil {
			return fmt.Errorf("%s is open to other users (mode %04o) and cannot be changed: %w", p, st.Mode().Perm(), err)
		}
	}
	return nil
}
