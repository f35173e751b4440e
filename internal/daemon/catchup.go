package daemon

import (
	"context"
	"time"

	"github.com/robfig/cron/v3"
	"go.uber.org/zap"

	"github.com/splynx-pay/splynx-pay/sync/charge"
)

// catchUpLookback is how far back a start looks for a nightly run that
// did not happen: a daemon down longer than that still catches up once,
// since one run charges everything that is due.
const catchUpLookback = 8 * 24 * time.Hour

// lastFire is the newest time at or before now when the schedule fired
// (within catchUpLookback); ok is false when it did not fire in that time,
// or fires more than once an hour (nothing to catch up: the next firing is
// near).
func lastFire(s cron.Schedule, now time.Time) (t time.Time, ok bool) {
	first := s.Next(now.Add(-catchUpLookback))
	if first.IsZero() || first.After(now) || s.Next(first).Sub(first) < time.Hour {
		return time.Time{}, false
	}
	for t = first; ; {
		n := s.Next(t)
		if n.IsZero() || n.After(now) {
			return t, true
		}
		t = n
	}
}

// nightlyMissed reports whether the nightly charge run that the schedule
// last fired for has not finished: the daemon was down at that time, or
// stopped, crashed or lost its database in the middle of the run (its row
// is cancelled, interrupted, failed or still running). A nightly run is
// safe to repeat: the planner never charges a document that already has a
// live or approved attempt.
func nightlyMissed(ctx context.Context, app *App, s cron.Schedule) (fired time.Time, missed bool) {
	fired, ok := lastFire(s, app.Clock.Now())
	if !ok {
		return fired, false
	}
	r, found, err := app.DB.LastRunOf(ctx, charge.SourceAuto)
	if err != nil {
		app.Log.Warn("nightly charge: cannot read the last run; not catching up", zap.Error(err))
		return fired, false
	}
	return fired, !found || r.StartedAt.Before(fired) || r.Status != "done"
}

// catchUpNightly runs the nightly charge job once (through the scheduler's
// wrapped job, so it cannot overlap a scheduled one) when nightlyMissed
// says the last scheduled run did not finish.
func catchUpNightly(ctx context.Context, app *App, s cron.Schedule, run func()) {
	if set, err := app.Settings(ctx); err != nil || !set.AutoCharge {
		return // the job itself says why it does not charge
	}
	fired, missed := nightlyMissed(ctx, app, s)
	if !missed {
		if !fired.IsZero() {
			app.Log.Info("nightly charge: the last scheduled run finished; nothing to catch up", zap.Time("scheduled", fired))
		}
		return
	}
	app.Log.Warn("nightly charge: the run scheduled for this time did not finish (daemon down, stopped or crashed); running it now",
		zap.Time("scheduled", fired))
	run()
}
