package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/splynx-pay/splynx-pay/store"
)

func init() { register("floor", runFloor) }

// runFloor measures the store floor of an existing mirror database (one a
// sync benchmark kept with -db, or a copy of a live add-on's).
func runFloor(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("floor", flag.ContinueOnError)
	src := fs.String("db", "", "the mirror database to copy (read only)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *src == "" {
		return errors.New("floor: -db is required")
	}
	tmp, err := os.MkdirTemp(filepath.Dir(*src), "splynx-bench-floor-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	f, err := measureStoreFloor(ctx, *src, tmp)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "store floor of %s: rows copied inside SQLite %s, %d indexes built %s: %s\n",
		*src, round(f.copyRows), f.nIndexes, round(f.indexes), round(f.total()))
	return nil
}

// storeFloor is what SQLite alone needs to hold a mirror: the rows of the
// finished mirror at src copied into a fresh database with the shipped
// schema, inside SQLite (INSERT ... SELECT across an attached file: no Go,
// no value binding, no decoding, no network), the secondary indexes dropped
// first and built afterwards, as a first full pass does. No sync into the
// same schema on the same machine can store faster than this.
type storeFloor struct {
	copyRows, indexes time.Duration
	nIndexes          int
}

func (f storeFloor) total() time.Duration { return f.copyRows + f.indexes }

func measureStoreFloor(ctx context.Context, src, tmp string) (storeFloor, error) {
	var f storeFloor
	path := filepath.Join(tmp, "floor.db")
	// store.Open creates the shipped schema and settings.
	fresh, err := store.Open(ctx, path, zap.NewNop())
	if err != nil {
		return f, err
	}
	fresh.Close()
	defer os.Remove(path)

	db, err := sql.Open("sqlite3", "file:"+path+"?_journal_mode=WAL&_synchronous=NORMAL&_cache_size=-16384")
	if err != nil {
		return f, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1) // ATTACH and PRAGMAs hold for one connection
	if _, err := db.ExecContext(ctx, `PRAGMA wal_autocheckpoint = 8192`); err != nil {
		return f, err
	}
	in := "'" + strings.Join(store.MirrorTables, "','") + "'"
	rows, err := db.QueryContext(ctx, `SELECT name, sql FROM sqlite_master
		WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN (`+in+`) ORDER BY name`)
	if err != nil {
		return f, err
	}
	var idx [][2]string
	for rows.Next() {
		var n, q string
		if err := rows.Scan(&n, &q); err != nil {
			rows.Close()
			return f, err
		}
		idx = append(idx, [2]string{n, q})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return f, err
	}
	for _, ix := range idx {
		if _, err := db.ExecContext(ctx, `DROP INDEX "`+ix[0]+`"`); err != nil {
			return f, err
		}
	}
	if _, err := db.ExecContext(ctx, `ATTACH DATABASE ? AS src`, src); err != nil {
		return f, fmt.Errorf("attach %s: %w", src, err)
	}

	start := time.Now()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return f, err
	}
	for _, t := range slices.Backward(store.MirrorTables) { // parents first
		if _, err := tx.ExecContext(ctx, `INSERT INTO main.`+t+` SELECT * FROM src.`+t); err != nil {
			tx.Rollback()
			return f, fmt.Errorf("copy %s: %w", t, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return f, err
	}
	f.copyRows = time.Since(start)

	start = time.Now()
	for _, ix := range idx {
		if _, err := db.ExecContext(ctx, ix[1]); err != nil {
			return f, fmt.Errorf("%s: %w", ix[0], err)
		}
	}
	f.indexes, f.nIndexes = time.Since(start), len(idx)

	// The copy must be whole, or the floor would be too low.
	for _, t := range store.MirrorTables {
		var a, b int64
		if err := db.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM main.`+t+`), (SELECT COUNT(*) FROM src.`+t+`)`).Scan(&a, &b); err != nil {
			return f, err
		}
		if a != b {
			return f, fmt.Errorf("floor copy of %s holds %d rows, the mirror %d", t, a, b)
		}
	}
	return f, nil
}
