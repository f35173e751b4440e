package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"go.uber.org/zap"
)

// A first full pass into empty mirror tables loads much faster without
// their secondary indexes, which are then built once, sorted, at the end.
// The dropped indexes' definitions are kept in mirror_deferred_indexes
// until rebuilt, so a crash in between is repaired by the next Open.
const deferredIndexesTable = `CREATE TABLE IF NOT EXISTS mirror_deferred_indexes (
	name TEXT PRIMARY KEY,
	tbl  TEXT NOT NULL,
	sql  TEXT NOT NULL)`

// DeferIndexes drops the secondary indexes of those of the given mirror
// tables that are empty, remembering them for RestoreIndexes, and returns
// the tables it did this for.
func (db *DB) DeferIndexes(ctx context.Context, tables ...string) ([]string, error) {
	var done []string
	err := db.Write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, deferredIndexesTable); err != nil {
			return err
		}
		for _, t := range tables {
			ok := false
			for _, m := range MirrorTables {
				ok = ok || m == t
			}
			if !ok {
				return fmt.Errorf("unknown mirror table %q", t)
			}
			var any int
			err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM `+t+` LIMIT 1)`).Scan(&any)
			if err != nil {
				return err
			}
			if any > 0 {
				continue
			}
			idx, err := indexDefs(ctx, tx,
				`SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL`, t)
			if err != nil {
				return err
			}
			for _, ix := range idx {
				if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO mirror_deferred_indexes(name, tbl, sql) VALUES (?,?,?)`,
					ix[0], t, ix[1]); err != nil {
					return err
				}
				if _, err := tx.ExecContext(ctx, `DROP INDEX "`+strings.ReplaceAll(ix[0], `"`, `""`)+`"`); err != nil {
					return err
				}
			}
			if len(idx) > 0 {
				done = append(done, t)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: defer mirror indexes: %w", err)
	}
	return done, nil
}

// RestoreIndexes rebuilds every index DeferIndexes dropped.
func (db *DB) RestoreIndexes(ctx context.Context) error {
	var n int
	if err := db.read.QueryRowContext(ctx,
		`SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'mirror_deferred_indexes'`).Scan(&n); err != nil {
		return fmt.Errorf("store: restore mirror indexes: %w", err)
	}
	if n == 0 {
		return nil
	}
	start := time.Now()
	restored := 0
	err := db.Write(ctx, func(tx *sql.Tx) error {
		idx, err := indexDefs(ctx, tx, `SELECT name, sql FROM mirror_deferred_indexes ORDER BY name`)
		if err != nil {
			return err
		}
		for _, ix := range idx {
			q := strings.Replace(ix[1], "CREATE INDEX ", "CREATE INDEX IF NOT EXISTS ", 1)
			q = strings.Replace(q, "CREATE UNIQUE INDEX ", "CREATE UNIQUE INDEX IF NOT EXISTS ", 1)
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return fmt.Errorf("%s: %w", ix[0], err)
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM mirror_deferred_indexes WHERE name = ?`, ix[0]); err != nil {
				return err
			}
			restored++
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: restore mirror indexes: %w", err)
	}
	if restored > 0 {
		db.log.Info("mirror indexes rebuilt", zap.Int("indexes", restored), zap.Duration("took", time.Since(start)))
	}
	return nil
}

// indexDefs reads (name, CREATE statement) pairs selected by q.
func indexDefs(ctx context.Context, tx *sql.Tx, q string, args ...any) ([][2]string, error) {
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var idx [][2]string
	for rows.Next() {
		var n, q string
		if err := rows.Scan(&n, &q); err != nil {
			return nil, err
		}
		idx = append(idx, [2]string{n, q})
	}
	return idx, rows.Err()
}

// DeferredIndexes is the number of mirror indexes DeferIndexes dropped and
// RestoreIndexes has not rebuilt yet (0 once a first pass has ended,
// whether it succeeded or not).
func (db *DB) DeferredIndexes(ctx context.Context) (int, error) {
	var n int
	err := db.read.QueryRowContext(ctx,
		`SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'mirror_deferred_indexes'`).Scan(&n)
	if err != nil || n == 0 {
		return 0, err
	}
	err = db.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM mirror_deferred_indexes`).Scan(&n)
	return n, err
}
