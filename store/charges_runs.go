package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// ChargeRun is one row of charge_runs: a batch of charges and its progress.
type ChargeRun struct {
	ID          int64
	Source      string // auto | admin | cli | retry | portal
	Mode        string // invoices | balance | single
	FiltersJSON string
	StartedBy   string
	Status      string // running | done | cancelled | failed | interrupted
	Progress    RunProgress
	Error       string
	StartedAt   time.Time
	FinishedAt  time.Time
}

// RunProgress counts a run's items and money (minor units).
type RunProgress struct {
	Total, Done, Skipped                      int
	Approved, Pending, Declined, Unknown      int
	AmountPlanned, AmountApproved             int64
	AmountPending, AmountDeclined, AmountUnkn int64
}

// CreateRun inserts a run in state running and returns its id.
func (db *DB) CreateRun(ctx context.Context, r ChargeRun, now time.Time) (int64, error) {
	var id int64
	err := db.Write(ctx, func(tx *sql.Tx) error {
		if r.FiltersJSON == "" {
			r.FiltersJSON = "{}"
		}
		if r.Mode == "" {
			r.Mode = "invoices"
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO charge_runs (source, mode, filters_json, started_by, status, started_at)
 VALUES (?,?,?,?,'running',?)`, r.Source, r.Mode, r.FiltersJSON, r.StartedBy, FormatTime(now))
		if err != nil {
			return err
		}
		id, err = res.LastInsertId()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: create charge run: %w", err)
	}
	return id, nil
}

// SaveRunProgress writes the counters of a running run.
func (db *DB) SaveRunProgress(ctx context.Context, id int64, p RunProgress) error {
	err := db.Write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE charge_runs SET total=?, done=?, skipped=?, approved=?, pending=?, declined=?,
 unknown=?, amount_planned=?, amount_approved=?, amount_pending=?, amount_declined=?, amount_unknown=? WHERE id=?`,
			p.Total, p.Done, p.Skipped, p.Approved, p.Pending, p.Declined, p.Unknown, p.AmountPlanned,
			p.AmountApproved, p.AmountPending, p.AmountDeclined, p.AmountUnkn, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: save progress of charge run %d: %w", id, err)
	}
	return nil
}

// FinishRun closes a running run with its final counters.
func (db *DB) FinishRun(ctx context.Context, id int64, status string, p RunProgress, runErr string, now time.Time) error {
	if err := db.SaveRunProgress(ctx, id, p); err != nil {
		return err
	}
	err := db.Write(ctx, func(tx *sql.Tx) error {
		// A run another process took for dead still gets its true end.
		_, err := tx.ExecContext(ctx, `UPDATE charge_runs SET status=?, error=?, finished_at=? WHERE id=? AND status IN ('running','interrupted')`,
			status, runErr, FormatTime(now), id)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: finish charge run %d: %w", id, err)
	}
	return nil
}

// InterruptStaleRuns marks runs still 'running' that started before cutoff
// and have not touched an attempt since as interrupted (their process
// died); it returns how many.
func (db *DB) InterruptStaleRuns(ctx context.Context, cutoff, now time.Time) (int, error) {
	var n int64
	err := db.Write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE charge_runs SET status='interrupted', finished_at=?
 WHERE status='running' AND started_at < ?
 AND COALESCE((SELECT MAX(updated_at) FROM charge_attempts WHERE run_id = charge_runs.id), '') < ?`,
			FormatTime(now), FormatTime(cutoff), FormatTime(cutoff))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}

const runCols = `id, source, mode, filters_json, started_by, status, total, done, skipped, approved, pending, declined,
 unknown, amount_planned, amount_approved, amount_pending, amount_declined, amount_unknown, error, started_at, finished_at`

func scanRun(r scanner) (ChargeRun, error) {
	var x ChargeRun
	var started, finished string
	p := &x.Progress
	err := r.Scan(&x.ID, &x.Source, &x.Mode, &x.FiltersJSON, &x.StartedBy, &x.Status, &p.Total, &p.Done, &p.Skipped,
		&p.Approved, &p.Pending, &p.Declined, &p.Unknown, &p.AmountPlanned, &p.AmountApproved, &p.AmountPending,
		&p.AmountDeclined, &p.AmountUnkn, &x.Error, &started, &finished)
	x.StartedAt, x.FinishedAt = ParseTime(started), ParseTime(finished)
	return x, err
}

// GetRun reads one run.
func (db *DB) GetRun(ctx context.Context, id int64) (ChargeRun, error) {
	r, err := scanRun(db.read.QueryRowContext(ctx, `SELECT `+runCols+` FROM charge_runs WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("%w: charge run %d", ErrNotFound, id)
	}
	if err != nil {
		return r, fmt.Errorf("store: read charge run %d: %w", id, err)
	}
	return r, nil
}

// ListRuns returns the newest runs first.
func (db *DB) ListRuns(ctx context.Context, limit int) ([]ChargeRun, error) {
	if limit <= 0 {
		limit = 100
	}
	return queryAll(ctx, db, "list charge runs", scanRun, `SELECT `+runCols+` FROM charge_runs ORDER BY id DESC LIMIT ?`, limit)
}

// LastRunOf is the newest run of a source (auto: the nightly runs); ok is
// false when there is none.
func (db *DB) LastRunOf(ctx context.Context, source string) (r ChargeRun, ok bool, err error) {
	r, err = scanRun(db.read.QueryRowContext(ctx, `SELECT `+runCols+` FROM charge_runs WHERE source = ? ORDER BY id DESC LIMIT 1`, source))
	if errors.Is(err, sql.ErrNoRows) {
		return r, false, nil
	}
	if err != nil {
		return r, false, fmt.Errorf("store: last %s charge run: %w", source, err)
	}
	return r, true, nil
}

// Run log sections.
const (
	LogError  = "error"
	LogOutput = "output"
)

// LogLine is one line of a run log.
type LogLine struct {
	Section string
	Line    string
}

// AddRunLines appends lines to a run's log.
func (db *DB) AddRunLines(ctx context.Context, runID int64, lines []LogLine) error {
	if len(lines) == 0 {
		return nil
	}
	err := db.Write(ctx, func(tx *sql.Tx) error {
		st, err := tx.PrepareContext(ctx, `INSERT INTO charge_run_lines (run_id, section, line) VALUES (?,?,?)`)
		if err != nil {
			return err
		}
		defer st.Close()
		for _, l := range lines {
			if _, err := st.ExecContext(ctx, runID, l.Section, l.Line); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: append to log of charge run %d: %w", runID, err)
	}
	return nil
}

// RunLog returns a run's log lines of one section in order.
func (db *DB) RunLog(ctx context.Context, runID int64, section string) ([]string, error) {
	return queryAll(ctx, db, fmt.Sprintf("read log of charge run %d", runID), func(sc scanner) (s string, err error) {
		err = sc.Scan(&s)
		return s, err
	}, `SELECT line FROM charge_run_lines WHERE run_id = ? AND section = ? ORDER BY id`, runID, section)
}

// pruneBatch is how many run log lines one pruning transaction deletes, so
// the daily prune never holds the write lock for long.
const pruneBatch = 5000

// PruneRunLines deletes the log lines of runs that started before cutoff
// and are no longer running; the runs' rows (their totals, who started
// them) and the attempts stay. It deletes in batches and returns how many
// lines went. A run's log is for the days after it; a nightly run over a
// few thousand invoices writes a line for each, so kept forever they
// would soon be most of the database.
func (db *DB) PruneRunLines(ctx context.Context, cutoff time.Time) (int64, error) {
	var total int64
	for {
		var n int64
		err := db.Write(ctx, func(tx *sql.Tx) error {
			res, err := tx.ExecContext(ctx, `DELETE FROM charge_run_lines WHERE id IN (
 SELECT l.id FROM charge_runs r JOIN charge_run_lines l ON l.run_id = r.id
 WHERE r.started_at < ? AND r.status <> 'running' LIMIT ?)`, FormatTime(cutoff), pruneBatch)
			if err != nil {
				return err
			}
			n, err = res.RowsAffected()
			return err
		})
		if err != nil {
			return total, fmt.Errorf("store: prune charge run logs before %s: %w", FormatTime(cutoff), err)
		}
		total += n
		if n < pruneBatch || ctx.Err() != nil {
			return total, ctx.Err()
		}
	}
}
