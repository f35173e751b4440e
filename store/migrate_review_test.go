package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

// A database written by the previous schema (version 2) keeps every charge
// row, outbox row and reversal through migration 0005's table rebuild; the
// foreign keys still hold, and the new state and columns work.
func TestMigrationKeepsChargeRows(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "v2.db")
	raw, err := sql.Open("sqlite3", dsn(path, "immediate"))
	if err != nil {
		t.Fatal(err)
	}
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	stmts := []string{`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`}
	for _, m := range ms[:2] {
		stmts = append(stmts, m.sql, fmt.Sprintf(`INSERT INTO schema_migrations VALUES (%d, '%s', 'x')`, m.version, m.name))
	}
	stmts = append(stmts,
		`INSERT INTO saved_methods(id, customer_id, kind, token, created_at, updated_at) VALUES (1, 7, 'card', 'tok', 'x', 'x')`,
		`INSERT INTO charge_runs(id, source, started_at) VALUES (1, 'auto', 'x')`,
		`INSERT INTO charge_attempts(id, charge_key, kind, customer_id, amount, currency, method_id, reference, state, run_id, created_at, updated_at)
		 VALUES (1, 'invoice:1', 'invoice', 7, 100, 'AUD', 1, 'SPOLD1', 'declined', 1, 'x', 'x')`,
		`INSERT INTO charge_attempts(id, charge_key, kind, customer_id, amount, currency, method_id, reference, state, retry_of, run_id, splynx_payment_id, created_at, updated_at)
		 VALUES (2, 'invoice:1', 'invoice', 7, 100, 'AUD', 1, 'SPOLD2', 'recorded', 1, 1, 55, 'x', 'x')`,
		`INSERT INTO writeback_outbox(attempt_id, action, status, created_at) VALUES (2, 'payment', 'done', 'x')`,
		`INSERT INTO reversals(attempt_id, kind, amount, created_at) VALUES (2, 'refund', 5, 'x')`)
	for _, s := range stmts {
		if _, err := raw.ExecContext(ctx, s); err != nil {
			t.Fatalf("%v: %.80s", err, s)
		}
	}
	raw.Close()

	db, err := Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if v, _ := db.SchemaVersion(ctx); v < 5 {
		t.Fatalf("schema version %d", v)
	}
	a, err := db.AttemptByReference(ctx, "SPOLD2")
	if err != nil || a.State != StateRecorded || a.RetryOf != 1 || a.SplynxPaymentID != 55 || a.Superseded {
		t.Fatalf("attempt after migration %+v %v", a, err)
	}
	var fk int
	if err := db.SQL().QueryRowContext(ctx, `PRAGMA foreign_keys`).Scan(&fk); err != nil || fk != 1 {
		t.Fatalf("foreign keys %d %v after the migration", fk, err)
	}
	// The outbox and reversals still point at the rebuilt table.
	err = db.Write(ctx, func(tx *sql.Tx) error { _, err := tx.Exec(`DELETE FROM charge_attempts WHERE id = 2`); return err })
	if err == nil {
		t.Fatal("deleting an attempt with outbox rows worked: foreign keys lost")
	}
	// review is a live state: a second live attempt of the charge is refused.
	now := time.Now()
	n := &ChargeAttempt{ChargeKey: "invoice:9", Kind: KindInvoice, CustomerID: 7, Amount: 10, Currency: "AUD", Reference: "SPNEW1"}
	if err := db.CreateAttempt(ctx, n, now); err != nil {
		t.Fatal(err)
	}
	for _, step := range [][2]AttemptState{{StateCreated, StateSending}, {StateSending, StateUnknown}, {StateUnknown, StateReview}} {
		if err := db.TransitionAttempt(ctx, n.ID, []AttemptState{step[0]}, step[1], Change{}, now, nil); err != nil {
			t.Fatal(err)
		}
	}
	again := &ChargeAttempt{ChargeKey: "invoice:9", Kind: KindInvoice, CustomerID: 7, Amount: 10, Currency: "AUD", Reference: "SPNEW2"}
	if err := db.CreateAttempt(ctx, again, now); !errors.Is(err, ErrLiveAttempt) {
		t.Fatalf("second attempt beside a review one: %v", err)
	}
}
