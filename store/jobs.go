package store

// When the background jobs last ran (migration 0012), for the overview's
// health box.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"
)

// JobSettlePoll is the settlement job's read of the gateway's status feed.
const JobSettlePoll = "settle.poll"

// NoteSettlePoll records that the settlement job read the gateway's status
// feed at at. It never fails the job: a failure to note it is logged.
func (db *DB) NoteSettlePoll(ctx context.Context, at time.Time) {
	if err := db.NoteJobRun(ctx, JobSettlePoll, at); err != nil {
		db.log.Warn("cannot note the settlement poll", zap.Error(err))
	}
}

// NoteJobRun records that job ran at at.
func (db *DB) NoteJobRun(ctx context.Context, job string, at time.Time) error {
	return db.Write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO job_runs (job, last_at) VALUES (?, ?)
 ON CONFLICT(job) DO UPDATE SET last_at = excluded.last_at`, job, FormatTime(at))
		if err != nil {
			return fmt.Errorf("store: note job %s: %w", job, err)
		}
		return nil
	})
}

// LastJobRun is when job last ran (zero: never).
func (db *DB) LastJobRun(ctx context.Context, job string) (time.Time, error) {
	var at string
	err := db.read.QueryRowContext(ctx, `SELECT last_at FROM job_runs WHERE job = ?`, job).Scan(&at)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("store: last run of %s: %w", job, err)
	}
	return ParseTime(at), nil
}
