package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// ErrSchemaTooNew means the database was migrated by a newer build than this
// one. Opening it anyway could misread rows the newer code wrote.
var ErrSchemaTooNew = errors.New("database schema is newer than this program; upgrade the package or point it at another database")

type migration struct {
	version int
	name    string
	sql     string
}

// migrations lists the embedded files in version order. Names are
// NNNN_name.sql; a duplicate version is a build mistake and fails loudly.
func migrations() ([]migration, error) {
	ents, err := fs.ReadDir(migrationFS, "migrations")
	if err != nil {
		return nil, fmt.Errorf("store: read migrations: %w", err)
	}
	var out []migration
	seen := map[int]string{}
	for _, e := range ents {
		name := e.Name()
		if !strings.HasSuffix(name, ".sql") {
			continue
		}
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("store: migration %q: name must be NNNN_name.sql", name)
		}
		if prev, dup := seen[v]; dup {
			return nil, fmt.Errorf("store: migrations %q and %q share version %d", prev, name, v)
		}
		seen[v] = name
		b, err := migrationFS.ReadFile("migrations/" + name)
		if err != nil {
			return nil, fmt.Errorf("store: read migration %s: %w", name, err)
		}
		out = append(out, migration{version: v, name: strings.TrimSuffix(name, ".sql"), sql: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	return out, nil
}

// KnownSchemaVersion is the newest migration embedded in this binary.
func KnownSchemaVersion() int {
	ms, err := migrations()
	if err != nil || len(ms) == 0 {
		return 0
	}
	return ms[len(ms)-1].version
}

// SchemaVersion is the newest migration applied to the database.
func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	var v sql.NullInt64
	if err := db.read.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, fmt.Errorf("store: read schema version: %w", err)
	}
	return int(v.Int64), nil
}

// Migrate applies, in order, every embedded migration newer than the
// database, each in its own transaction together with its schema_migrations
// row, so a failure leaves the database at the last good version.
func (db *DB) Migrate(ctx context.Context) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	known := 0
	if len(ms) > 0 {
		known = ms[len(ms)-1].version
	}
	return db.migrateTo(ctx, ms, known)
}

func (db *DB) migrateTo(ctx context.Context, ms []migration, known int) error {
	var cur sql.NullInt64
	if err := db.write.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&cur); err != nil {
		return fmt.Errorf("store: read schema version: %w", err)
	}
	if int(cur.Int64) > known {
		return fmt.Errorf("%w (database version %d, this program knows up to %d)", ErrSchemaTooNew, cur.Int64, known)
	}
	for _, m := range ms {
		if m.version <= int(cur.Int64) {
			continue
		}
		start := time.Now()
		apply := db.Write
		if strings.HasPrefix(m.sql, fkOffMarker) {
			apply = db.writeNoFK
		}
		err := apply(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, m.sql); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations(version, name, applied_at) VALUES (?, ?, ?)`,
				m.version, m.name, db.now().UTC().Format(time.RFC3339))
			return err
		})
		if err != nil {
			return fmt.Errorf("store: apply migration %s: %w", m.name, err)
		}
		db.log.Info("migration applied", zap.String("migration", m.name), zap.Int("version", m.version),
			zap.Duration("took", time.Since(start)))
	}
	return nil
}

// fkOffMarker opens a migration that rebuilds a table other tables refer
// to (SQLite cannot change a CHECK constraint in place). It runs with
// foreign keys off, as SQLite's documented table rebuild requires, and
// commits only if PRAGMA foreign_key_check then finds nothing.
const fkOffMarker = "-- migrate: foreign_keys off"

func (db *DB) writeNoFK(ctx context.Context, fn func(tx *sql.Tx) error) error {
	conn, err := db.write.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `PRAGMA foreign_keys = OFF`); err != nil {
		return err
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `PRAGMA foreign_keys = ON`) //nolint:errcheck // restored on the same connection
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // after Commit a no-op
	if err := fn(tx); err != nil {
		return err
	}
	rows, err := tx.QueryContext(ctx, `PRAGMA foreign_key_check`)
	if err != nil {
		return err
	}
	bad := rows.Next()
	rows.Close()
	if bad {
		return fmt.Errorf("store: foreign key check failed after the rebuild")
	}
	return tx.Commit()
}
