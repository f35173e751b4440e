package daemon

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/splynx-pay/splynx-pay/internal/clock"
	"github.com/splynx-pay/splynx-pay/internal/config"
	"github.com/splynx-pay/splynx-pay/store"
)

// The prune job keeps charge_run_lines_keep_days of run logs by the app's
// clock, keeps everything when the setting is 0, and the job is scheduled.
func TestPruneJobKeepsRecentRunLogs(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "p.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Date(2026, 12, 3, 3, 20, 0, 0, time.UTC)
	runWith := func(daysAgo, lines int) int64 {
		at := now.AddDate(0, 0, -daysAgo)
		id, err := db.CreateRun(ctx, store.ChargeRun{Source: "auto"}, at)
		if err != nil {
			t.Fatal(err)
		}
		ls := make([]store.LogLine, lines)
		for i := range ls {
			ls[i] = store.LogLine{Section: store.LogError, Line: "INV-1 - Customer id : 1 - skipped: no saved method"}
		}
		if err := db.AddRunLines(ctx, id, ls); err != nil {
			t.Fatal(err)
		}
		if err := db.FinishRun(ctx, id, "done", store.RunProgress{Total: lines}, "", at.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		return id
	}
	old, edge, recent := runWith(40, 30), runWith(29, 20), runWith(1, 10)
	keep := 0
	app := &App{Addon: testAddon, DB: db, Log: nopLogger(), Clock: clock.NewFake(now),
		Settings: func(context.Context) (config.Settings, error) {
			s, err := config.ParseSettingsFor(config.IntegraPay, nil, nil)
			s.RunLinesKeepDays = keep
			return s, err
		}}
	lines := func(id int64) int {
		l1, _ := db.RunLog(ctx, id, store.LogError)
		return len(l1)
	}
	if err := pruneJob(ctx, app); err != nil || lines(old) != 30 {
		t.Fatalf("keep 0 pruned: %d lines left, %v", lines(old), err)
	}
	keep = 30
	if err := pruneJob(ctx, app); err != nil {
		t.Fatal(err)
	}
	if lines(old) != 0 || lines(edge) != 20 || lines(recent) != 10 {
		t.Fatalf("after prune: old %d, 29 days %d, recent %d lines", lines(old), lines(edge), lines(recent))
	}
	if r, err := db.GetRun(ctx, old); err != nil || r.Progress.Total != 30 {
		t.Fatalf("pruned run's totals lost: %+v %v", r, err)
	}
	if s, err := config.ParseSettingsFor(config.IPpay, nil, nil); err != nil || s.RunLinesKeepDays != defaultRunLinesKeepDays {
		t.Fatalf("default keep days %d, %v", s.RunLinesKeepDays, err)
	}
	found := false
	for _, j := range jobs {
		found = found || j.Name == "prune"
	}
	if !found {
		t.Fatal("the prune job is not scheduled")
	}
}
