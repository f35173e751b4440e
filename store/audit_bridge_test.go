package store

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"
)

// The engine's audit_log events reach the staff trail (migration 0011):
// who from "by", what in words, the amount from the attempt row in minor
// units, the time in the trail's fixed-width format. Events the charge
// triggers already record, and the mirror's, are not copied.
func TestAuditLogEventsReachTheTrail(t *testing.T) {
	ctx := context.Background()
	db := openChargeDB(t)
	at := time.Date(2026, 11, 2, 18, 30, 1, 123456789, time.UTC)
	db.now = func() time.Time { return at }
	a := newAttempt("invoice:1", "SPBRIDGE0000000001")
	a.ItemNumber = "INV-9"
	if err := db.CreateAttempt(ctx, a, t0); err != nil {
		t.Fatal(err)
	}
	if err := db.Write(ctx, func(tx *sql.Tx) error { return AddRefunded(ctx, tx, a.ID, 250, t0) }); err != nil {
		t.Fatal(err)
	}
	before, err := db.ListTrail(ctx, TrailFilter{})
	if err != nil {
		t.Fatal(err)
	}
	ev := func(event string, f map[string]any) {
		t.Helper()
		f["attempt_id"], f["reference"], f["customer_id"] = a.ID, a.Reference, a.CustomerID
		if err := db.Audit(ctx, nil, event, f); err != nil {
			t.Fatal(err)
		}
	}
	ev("charge.review_decided", map[string]any{"decision": "charged", "by": "admin alice", "was": "review", "amount": "12.00"})
	ev("charge.late_settlement_kept", map[string]any{"by": "admin #3"})
	ev("charge.late_settlement_refund_failed", map[string]any{"error": "gateway said no"})
	ev("charge.superseded", map[string]any{"paid_by": "SPOTHER", "late_settlement": "balance"})
	ev("charge.late_settlement", map[string]any{"was": "declined", "was_code": "NOT_SENT", "gateway_status": "approved", "superseded_by": ""})
	// Already on the trail from the charge tables, or not money: not copied.
	ev("charge.review", map[string]any{})
	ev("charge.refund", map[string]any{})
	ev("charge.dishonour", map[string]any{})
	if err := db.Audit(ctx, nil, "mirror.full", map[string]any{"customers": 3}); err != nil {
		t.Fatal(err)
	}
	rows, err := db.ListTrail(ctx, TrailFilter{})
	if err != nil {
		t.Fatal(err)
	}
	got := rows[:len(rows)-len(before)]
	want := []struct{ kind, actor, detail string }{
		{"charge.late_settlement", "gateway", "after we held it as declined NOT_SENT; recorded and followed to settlement"},
		{"charge.superseded", "system", "already paid by SPOTHER; this money goes to the customer's balance"},
		{"charge.late_settlement_refund_failed", "system", "failed (gateway said no); it is tried again"},
		{"charge.late_settlement_kept", "admin #3", "kept on the customer's balance"},
		{"charge.review_decided", "admin alice", "decided: it was charged at the gateway (written to Splynx) — was review"},
	}
	if len(got) != len(want) {
		t.Fatalf("%d rows copied, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		r := got[i]
		if r.Kind != w.kind || r.Actor != w.actor || !strings.Contains(r.Detail, w.detail) || !strings.HasPrefix(r.Detail, "invoice INV-9 SPBRIDGE0000000001: ") {
			t.Errorf("row %d: %+v, want %+v", i, r, w)
		}
		if r.CustomerID != a.CustomerID || r.Subject != "attempt" || r.SubjectID != a.ID {
			t.Errorf("row %d subject: %+v", i, r)
		}
		wantAmount := a.Amount
		if w.kind == "charge.late_settlement_kept" || w.kind == "charge.late_settlement_refund_failed" {
			wantAmount = a.Amount - 250
		}
		if r.Amount != wantAmount {
			t.Errorf("row %d amount %d, want %d", i, r.Amount, wantAmount)
		}
	}
	var raw string
	if err := db.SQL().QueryRowContext(ctx, `SELECT at FROM audit_trail WHERE kind = 'charge.review_decided'`).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	if raw != "2026-11-02T18:30:01.123Z" {
		t.Errorf("time stored as %q, want the trail's format", raw)
	}
	// Still append-only.
	if err := db.Write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE audit_trail SET actor = 'x' WHERE kind = 'charge.review_decided'`)
		return err
	}); err == nil || !strings.Contains(err.Error(), "append-only") {
		t.Fatalf("update of a copied row: %v", err)
	}
}
