package store

import (
	"context"
	"fmt"
	"testing"
	"time"
)

func countRunLines(t *testing.T, db *DB, runID int64) int {
	t.Helper()
	var n int
	if err := db.read.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM charge_run_lines WHERE run_id = ?`, runID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// Old finished runs lose their log lines (more than one batch of them),
// their summary rows stay; recent runs and a run still going keep theirs.
func TestPruneRunLines(t *testing.T) {
	ctx := context.Background()
	db := openChargeDB(t)
	lines := func(n int) []LogLine {
		ls := make([]LogLine, n)
		for i := range ls {
			ls[i] = LogLine{Section: LogOutput, Line: fmt.Sprintf("INV-%d - Customer id : 7 - approved", i)}
		}
		return ls
	}
	mk := func(started time.Time, status string, n int) int64 {
		id, err := db.CreateRun(ctx, ChargeRun{Source: "auto"}, started)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.AddRunLines(ctx, id, lines(n)); err != nil {
			t.Fatal(err)
		}
		if status != "running" {
			if err := db.FinishRun(ctx, id, status, RunProgress{Total: n, Done: n, Approved: n}, "", started.Add(time.Minute)); err != nil {
				t.Fatal(err)
			}
		}
		return id
	}
	cutoff := t0.AddDate(0, 0, -90)
	old := mk(cutoff.AddDate(0, 0, -10), "done", pruneBatch+700) // more than one batch
	oldInterrupted := mk(cutoff.Add(-time.Hour), "interrupted", 40)
	oldRunning := mk(cutoff.AddDate(0, 0, -1), "running", 30)
	recent := mk(cutoff.Add(time.Hour), "done", 50)

	n, err := db.PruneRunLines(ctx, cutoff)
	if err != nil {
		t.Fatal(err)
	}
	if n != pruneBatch+700+40 {
		t.Errorf("pruned %d lines, want %d", n, pruneBatch+700+40)
	}
	for _, c := range []struct {
		id   int64
		want int
	}{{old, 0}, {oldInterrupted, 0}, {oldRunning, 30}, {recent, 50}} {
		if got := countRunLines(t, db, c.id); got != c.want {
			t.Errorf("run %d has %d lines, want %d", c.id, got, c.want)
		}
	}
	// The summary stays: totals and status of the pruned run.
	if r, err := db.GetRun(ctx, old); err != nil || r.Status != "done" || r.Progress.Approved != pruneBatch+700 {
		t.Errorf("pruned run's summary: %+v, %v", r, err)
	}
	if n, err := db.PruneRunLines(ctx, cutoff); err != nil || n != 0 {
		t.Errorf("second prune: %d, %v", n, err)
	}
}
