package daemon

import (
	"context"
	"time"

	"go.uber.org/zap"

	"github.com/splynx-pay/splynx-pay/internal/config"
)

// The database's housekeeping: what grows with every run and is only
// needed for a while. Today that is the charge runs' log lines (one per
// invoice of each run); the runs' totals, the attempts and the audit trail
// (append-only) are kept.

var jobPrune = Job{
	Name: "prune",
	// 03:20 local time: before the daily backup, so the copy is the
	// smaller one.
	Schedule: func(b config.Bootstrap) string { return "CRON_TZ=" + b.TimeZone + " 20 3 * * *" },
	Run:      pruneJob,
}

// defaultRunLinesKeepDays is charge_run_lines_keep_days' default, used
// when the settings cannot be read.
const defaultRunLinesKeepDays = 90

// pruneJob deletes the log lines of charge runs older than
// charge_run_lines_keep_days (by the app's clock).
func pruneJob(ctx context.Context, app *App) error {
	keep := defaultRunLinesKeepDays
	if s, err := app.Settings(ctx); err == nil {
		keep = s.RunLinesKeepDays
	} else {
		app.Log.Warn("prune: settings unreadable; keeping the default days of run logs", zap.Int("days", keep), zap.Error(err))
	}
	if keep == 0 {
		return nil
	}
	start := time.Now()
	cutoff := app.Clock.Now().AddDate(0, 0, -keep)
	n, err := app.DB.PruneRunLines(ctx, cutoff)
	if n > 0 || err != nil {
		app.Log.Info("charge run logs pruned", zap.Int64("lines", n), zap.Int("keep_days", keep),
			zap.Time("before", cutoff), zap.Duration("took", time.Since(start)), zap.Error(err))
	}
	return err
}
