package store

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"
)

// Money events reach the trail from the charge tables themselves, with the
// run's starter as who; rows cannot be changed or removed afterwards.
func TestAuditTrailRecordsMoneyEventsAndIsAppendOnly(t *testing.T) {
	ctx := context.Background()
	db := openChargeDB(t)
	runID, err := db.CreateRun(ctx, ChargeRun{Source: "admin", Mode: "single", StartedBy: "admin alice",
		FiltersJSON: `{"customer_id":7}`}, t0)
	if err != nil {
		t.Fatal(err)
	}
	a := newAttempt("invoice:1", "SPAAAAAAAAAAAAAAAA")
	a.RunID, a.ItemNumber = runID, "INV-1"
	if err := db.CreateAttempt(ctx, a, t0); err != nil {
		t.Fatal(err)
	}
	for _, s := range [][2]AttemptState{{StateCreated, StateSending}, {StateSending, StatePending}, {StatePending, StateApproved}} {
		if err := db.TransitionAttempt(ctx, a.ID, []AttemptState{s[0]}, s[1], Change{}, t0, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.TransitionAttempt(ctx, a.ID, []AttemptState{StateApproved}, StateRecorded, Change{SplynxPaymentID: 55}, t0, nil); err != nil {
		t.Fatal(err)
	}
	if err := db.Write(ctx, func(tx *sql.Tx) error { return AddRefunded(ctx, tx, a.ID, 600, t0) }); err != nil {
		t.Fatal(err)
	}
	if err := db.AddTrail(ctx, nil, TrailEntry{Actor: "admin alice", Kind: "staff.refund", CustomerID: 7, Subject: "attempt",
		SubjectID: a.ID, Amount: 600}); err != nil {
		t.Fatal(err)
	}
	rows, err := db.ListTrail(ctx, TrailFilter{CustomerID: 7})
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for i := len(rows) - 1; i >= 0; i-- {
		kinds = append(kinds, rows[i].Kind+"/"+rows[i].Actor)
	}
	want := "run.started/admin alice charge.pending/admin alice settlement/admin alice charge.written_back/admin alice refund/system staff.refund/admin alice"
	if got := strings.Join(kinds, " "); got != want {
		t.Fatalf("trail:\n got %s\nwant %s", got, want)
	}
	if rows[1].Amount != 600 || !strings.Contains(rows[1].Detail, "partial") {
		t.Errorf("refund row: %+v", rows[1])
	}
	if !strings.Contains(rows[2].Detail, "Splynx payment 55") {
		t.Errorf("write-back row: %+v", rows[2])
	}
	if staff, _ := db.ListTrail(ctx, TrailFilter{Kind: "staff."}); len(staff) != 1 {
		t.Errorf("staff. prefix filter: %d rows", len(staff))
	}
	for _, q := range []string{`UPDATE audit_trail SET actor = 'someone else'`, `DELETE FROM audit_trail`} {
		err := db.Write(ctx, func(tx *sql.Tx) error { _, err := tx.ExecContext(ctx, q); return err })
		if err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: %v", q, err)
		}
	}
	if after, _ := db.ListTrail(ctx, TrailFilter{}); len(after) != len(rows) || after[0].Actor != "admin alice" {
		t.Errorf("the trail changed: %d rows", len(after))
	}
}

func TestOverviewClassifiesOutcomes(t *testing.T) {
	ctx := context.Background()
	db := openChargeDB(t)
	mk := func(key, ref string, amount int64, path []AttemptState, c Change) {
		t.Helper()
		a := newAttempt(key, ref)
		a.Amount = amount
		if err := db.CreateAttempt(ctx, a, t0); err != nil {
			t.Fatal(err)
		}
		for i := 1; i < len(path); i++ {
			cc := Change{}
			if i == len(path)-1 {
				cc = c
			}
			if err := db.TransitionAttempt(ctx, a.ID, []AttemptState{path[i-1]}, path[i], cc, t0, nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	mk("invoice:1", "SP1AAAAAAAAAAAAAAA", 1000, []AttemptState{StateCreated, StateSending, StateApproved, StateRecorded}, Change{})
	mk("invoice:2", "SP2AAAAAAAAAAAAAAA", 200, []AttemptState{StateCreated, StateSending, StatePending}, Change{SettlesBy: t0.AddDate(0, 0, 3)})
	mk("invoice:3", "SP3AAAAAAAAAAAAAAA", 30, []AttemptState{StateCreated, StateSending, StateDeclined}, Change{Reason: "insufficient_funds"})
	mk("invoice:4", "SP4AAAAAAAAAAAAAAA", 4, []AttemptState{StateCreated, StateSending, StatePending, StateDeclined},
		Change{Reason: "account_closed", SettlesBy: t0.AddDate(0, 0, 2)})
	days, err := db.DailyMoney(ctx, t0.AddDate(0, 0, -59), t0)
	if err != nil {
		t.Fatal(err)
	}
	if len(days) != 60 {
		t.Fatalf("%d days", len(days))
	}
	d := days[59]
	if d.Day != "2026-11-02" || d.Settled != 1000 || d.Pending != 200 || d.Declined != 30 || d.Dishonoured != 4 || d.Count != 4 {
		t.Fatalf("today: %+v", d)
	}
	if days[0].Total() != 0 {
		t.Fatalf("first day: %+v", days[0])
	}
	rs, err := db.FailureReasons(ctx, t0.AddDate(0, 0, -59))
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 2 || rs[0].Reason != "insufficient_funds" || rs[0].Amount != 30 || rs[1].Outcome != "dishonoured" {
		t.Fatalf("reasons: %+v", rs)
	}
	pd, err := db.PendingDebits(ctx)
	if err != nil || len(pd) != 1 || pd[0].Day != "2026-11-05" || pd[0].Amount != 200 {
		t.Fatalf("pending: %+v %v", pd, err)
	}
	b, err := db.Backlog(ctx)
	if err != nil || b.Pending != 1 || b.SettledTotal != 1000 || !b.LastSettlement.Equal(t0) {
		t.Fatalf("backlog: %+v %v", b, err)
	}
}

func TestNoteSettingsRecordsChangesNotSecrets(t *testing.T) {
	ctx := context.Background()
	db := openChargeDB(t)
	secret := map[string]bool{"integrapay_password": true}
	if ch, err := db.NoteSettings(ctx, map[string]string{"max_attempts": "3", "integrapay_password": "hunter2"}, secret, t0); err != nil || len(ch) != 0 {
		t.Fatalf("first look: %v %v", ch, err)
	}
	ch, err := db.NoteSettings(ctx, map[string]string{"max_attempts": "5", "integrapay_password": "hunter3"}, secret, t0.Add(time.Hour))
	if err != nil || strings.Join(ch, ",") != "integrapay_password,max_attempts" {
		t.Fatalf("changes: %v %v", ch, err)
	}
	if ch, _ := db.NoteSettings(ctx, map[string]string{"max_attempts": "5", "integrapay_password": "hunter3"}, secret, t0.Add(2*time.Hour)); len(ch) != 0 {
		t.Fatalf("unchanged settings noted: %v", ch)
	}
	rows, _ := db.ListTrail(ctx, TrailFilter{Kind: "setting.changed"})
	all := ""
	for _, r := range rows {
		all += r.Detail + "\n"
	}
	if len(rows) != 2 || !strings.Contains(all, `max_attempts: "3" → "5"`) || strings.Contains(all, "hunter") {
		t.Fatalf("rows:\n%s", all)
	}
	var stored string
	_ = db.SQL().QueryRowContext(ctx, `SELECT group_concat(value) FROM settings_seen`).Scan(&stored)
	if strings.Contains(stored, "hunter") {
		t.Fatal("a secret is stored in clear")
	}
}
