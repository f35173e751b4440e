package store

// Integrity checks, online backup and restore of the database file.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	sqlite3 "github.com/mattn/go-sqlite3"
)

// ErrCorrupt is wrapped by the errors of QuickCheck and Open when SQLite
// finds the file damaged.
var ErrCorrupt = errors.New("database file is damaged")

// IsCorrupt says whether err means the file itself is damaged (as opposed
// to locked, missing or read-only).
func IsCorrupt(err error) bool {
	if errors.Is(err, ErrCorrupt) {
		return true
	}
	var se sqlite3.Error
	return errors.As(err, &se) && (se.Code == sqlite3.ErrCorrupt || se.Code == sqlite3.ErrNotADB)
}

// QuickCheck runs PRAGMA quick_check (structure, not index contents): fast
// enough for every start. A damaged file gives an error wrapping
// ErrCorrupt with SQLite's first finding.
func (db *DB) QuickCheck(ctx context.Context) error {
	return check(ctx, db.read, "quick_check")
}

// IntegrityCheck runs the full PRAGMA integrity_check (indexes too); the
// doctor runs it.
func (db *DB) IntegrityCheck(ctx context.Context) error {
	return check(ctx, db.read, "integrity_check")
}

// CheckFile runs integrity_check on a file opened read-only (a backup
// before it is restored).
func CheckFile(ctx context.Context, path string) error {
	if _, err := os.Stat(path); err != nil {
		return err
	}
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		return err
	}
	defer db.Close()
	return check(ctx, db, "integrity_check")
}

func check(ctx context.Context, db *sql.DB, pragma string) error {
	rows, err := db.QueryContext(ctx, "PRAGMA "+pragma)
	if err != nil {
		if IsCorrupt(err) {
			return fmt.Errorf("%w: %s", ErrCorrupt, checkLine(err.Error()))
		}
		return fmt.Errorf("%s: %w", pragma, err)
	}
	defer rows.Close()
	var found []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return fmt.Errorf("%w: %s", ErrCorrupt, checkLine(err.Error()))
		}
		if s != "ok" {
			found = append(found, s)
		}
	}
	if err := rows.Err(); err != nil {
		if IsCorrupt(err) {
			return fmt.Errorf("%w: %s", ErrCorrupt, checkLine(err.Error()))
		}
		return err
	}
	if len(found) > 0 {
		more := ""
		if len(found) > 1 {
			more = fmt.Sprintf(" (and %d more findings)", len(found)-1)
		}
		return fmt.Errorf("%w: %s: %s%s", ErrCorrupt, pragma, checkLine(found[0]), more)
	}
	return nil
}

func checkLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// Backup writes a consistent copy of the database to dest with SQLite's
// online backup API while the daemon keeps working: the copy is one read
// snapshot (WAL lets writers go on meanwhile). It is written beside dest
// and renamed into place, mode 0600, so a half-written backup never has
// dest's name.
func (db *DB) Backup(ctx context.Context, dest string) error {
	tmp := dest + ".part"
	_ = os.Remove(tmp)
	// Created 0600 before SQLite writes a byte, so no umask lets another
	// user read the copy while it is written.
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("store: backup to %s: %w", dest, err)
	}
	f.Close()
	if err := db.backupTo(ctx, tmp); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("store: backup to %s: %w", dest, err)
	}
	if err := os.Chmod(tmp, 0o600); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	if err := syncFile(tmp); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, dest); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("store: backup to %s: %w", dest, err)
	}
	return nil
}

func (db *DB) backupTo(ctx context.Context, tmp string) error {
	dst, err := sql.Open("sqlite3", "file:"+tmp+"?_journal_mode=DELETE")
	if err != nil {
		return err
	}
	defer dst.Close()
	dconn, err := dst.Conn(ctx)
	if err != nil {
		return err
	}
	defer dconn.Close()
	sconn, err := db.read.Conn(ctx)
	if err != nil {
		return err
	}
	defer sconn.Close()
	err = dconn.Raw(func(dc any) error {
		return sconn.Raw(func(sc any) error {
			dsq, ok1 := dc.(*sqlite3.SQLiteConn)
			ssq, ok2 := sc.(*sqlite3.SQLiteConn)
			if !ok1 || !ok2 {
				return errors.New("not a go-sqlite3 connection")
			}
			bk, err := dsq.Backup("main", ssq, "main")
			if err != nil {
				return err
			}
			// One step: the whole copy comes from a single read snapshot.
			if _, err := bk.Step(-1); err != nil {
				_ = bk.Finish()
				return err
			}
			return bk.Finish()
		})
	})
	if err != nil {
		return err
	}
	// The copy carries the live file's WAL mode in its header; a backup
	// is one self-contained file, so switch it to a rollback journal
	// (opening it then needs no -wal or -shm beside it, even read-only).
	_, err = dconn.ExecContext(ctx, "PRAGMA journal_mode=DELETE")
	return err
}

func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// Restore replaces the database at dbPath with the backup file after
// checking the backup's integrity. The current file (and its WAL) is kept
// beside it as <db>.before-restore-<time>. The caller makes sure no process
// has the database open.
func Restore(ctx context.Context, backup, dbPath string, now time.Time) (kept string, err error) {
	if err := CheckFile(ctx, backup); err != nil {
		return "", fmt.Errorf("store: restore: backup %s is not usable: %w", backup, err)
	}
	tmp := dbPath + ".restore-part"
	if err := copyFile(backup, tmp); err != nil {
		_ = os.Remove(tmp)
		return "", fmt.Errorf("store: restore: copy %s: %w", backup, err)
	}
	if _, err := os.Stat(dbPath); err == nil {
		kept = dbPath + ".before-restore-" + now.UTC().Format("20060102T150405Z")
		for _, suf := range []string{"", "-wal", "-shm"} {
			if err := os.Rename(dbPath+suf, kept+suf); err != nil && !errors.Is(err, os.ErrNotExist) {
				_ = os.Remove(tmp)
				return "", fmt.Errorf("store: restore: keep the current database: %w", err)
			}
		}
	}
	if err := os.Rename(tmp, dbPath); err != nil {
		return kept, fmt.Errorf("store: restore: %w", err)
	}
	return kept, nil
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// Backups lists the backup files in dir whose names start with prefix,
// newest first (names carry a sortable time stamp).
func Backups(dir, prefix string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		n := e.Name()
		if e.Type().IsRegular() && strings.HasPrefix(n, prefix) && strings.HasSuffix(n, ".db") {
			out = append(out, filepath.Join(dir, n))
		}
	}
	sort.Sort(sort.Reverse(sort.StringSlice(out)))
	return out, nil
}

// PruneBackups removes all but the newest keep backups; it returns the
// files removed.
func PruneBackups(dir, prefix string, keep int) ([]string, error) {
	bs, err := Backups(dir, prefix)
	if err != nil || len(bs) <= keep {
		return nil, err
	}
	var gone []string
	for _, b := range bs[keep:] {
		if err := os.Remove(b); err != nil {
			return gone, err
		}
		gone = append(gone, b)
	}
	return gone, nil
}
