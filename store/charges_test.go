package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

func openChargeDB(t *testing.T) *DB {
	t.Helper()
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "c.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

var t0 = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)

func newAttempt(key, ref string) *ChargeAttempt {
	return &ChargeAttempt{ChargeKey: key, Kind: KindInvoice, InvoiceID: 1, CustomerID: 7, Amount: 1234,
		Currency: "AUD", Reference: ref}
}

func TestOneLiveAttemptPerCharge(t *testing.T) {
	ctx := context.Background()
	db := openChargeDB(t)
	a := newAttempt("invoice:1", "SPAAAAAAAAAAAAAAAA")
	if err := db.CreateAttempt(ctx, a, t0); err != nil {
		t.Fatal(err)
	}
	// Every live state blocks a second attempt; the final states free the key.
	steps := []struct {
		to       AttemptState
		from     AttemptState
		blocking bool
	}{
		{StateCreated, "", true},
		{StateSending, StateCreated, true},
		{StateUnknown, StateSending, true},
		{StatePending, StateUnknown, true},
		{StateApproved, StatePending, true},
		{StateRecorded, StateApproved, false},
		{StateReversed, StateRecorded, false},
	}
	for i, s := range steps {
		if s.from != "" {
			if err := db.TransitionAttempt(ctx, a.ID, []AttemptState{s.from}, s.to, Change{}, t0, nil); err != nil {
				t.Fatalf("%s → %s: %v", s.from, s.to, err)
			}
		}
		b := newAttempt("invoice:1", fmt.Sprintf("SPBBBBBBBBBBBBBBB%d", i))
		err := db.CreateAttempt(ctx, b, t0)
		if s.blocking && !errors.Is(err, ErrLiveAttempt) {
			t.Fatalf("state %s: second attempt err = %v, want ErrLiveAttempt", s.to, err)
		}
		if !s.blocking {
			if err != nil {
				t.Fatalf("state %s: second attempt refused: %v", s.to, err)
			}
			// Free the key again for the next step.
			if err := db.TransitionAttempt(ctx, b.ID, []AttemptState{StateCreated}, StateDeclined, Change{}, t0, nil); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestGuardedTransition(t *testing.T) {
	ctx := context.Background()
	db := openChargeDB(t)
	a := newAttempt("invoice:2", "SPCCCCCCCCCCCCCCCC")
	if err := db.CreateAttempt(ctx, a, t0); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		from []AttemptState
		to   AttemptState
		want error
	}{
		{"illegal created→approved", []AttemptState{StateCreated}, StateApproved, ErrBadTransition},
		{"lost guard", []AttemptState{StateSending}, StateApproved, ErrStateChanged},
		{"ok", []AttemptState{StateCreated}, StateSending, nil},
		{"replayed", []AttemptState{StateCreated}, StateSending, ErrStateChanged},
		{"ok to approved", []AttemptState{StateSending, StateUnknown}, StateApproved, nil},
	}
	for _, c := range cases {
		err := db.TransitionAttempt(ctx, a.ID, c.from, c.to, Change{GatewayID: "G1"}, t0, nil)
		if (c.want == nil && err != nil) || (c.want != nil && !errors.Is(err, c.want)) {
			t.Errorf("%s: err = %v, want %v", c.name, err, c.want)
		}
	}
	got, err := db.GetAttempt(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != StateApproved || got.GatewayID != "G1" {
		t.Fatalf("row = %+v", got)
	}
	// A later change without a gateway id keeps the stored one.
	if err := db.TransitionAttempt(ctx, a.ID, []AttemptState{StateApproved}, StateRecorded, Change{SplynxPaymentID: 55}, t0, nil); err != nil {
		t.Fatal(err)
	}
	got, _ = db.GetAttempt(ctx, a.ID)
	if got.GatewayID != "G1" || got.SplynxPaymentID != 55 || got.Receipt() != "G1" {
		t.Fatalf("row after record = %+v", got)
	}
}

// Many goroutines race to claim and move the same charge: exactly one wins
// each step.
func TestConcurrentClaims(t *testing.T) {
	ctx := context.Background()
	db := openChargeDB(t)
	var wg sync.WaitGroup
	var mu sync.Mutex
	won := 0
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := newAttempt("invoice:3", fmt.Sprintf("SPDDDDDDDDDDDDDD%02d", i))
			err := db.Write(ctx, func(tx *sql.Tx) error { return InsertAttempt(ctx, tx, a, t0) })
			if err == nil {
				mu.Lock()
				won++
				mu.Unlock()
			} else if !errors.Is(err, ErrLiveAttempt) {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if won != 1 {
		t.Fatalf("%d claims won, want 1", won)
	}
}

func TestOutboxIdempotentEnqueue(t *testing.T) {
	ctx := context.Background()
	db := openChargeDB(t)
	a := newAttempt("invoice:4", "SPEEEEEEEEEEEEEEEE")
	if err := db.CreateAttempt(ctx, a, t0); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := db.Write(ctx, func(tx *sql.Tx) error {
			return Enqueue(ctx, tx, OutboxItem{AttemptID: a.ID, Action: OutboxPayment, Amount: 1234}, t0)
		}); err != nil {
			t.Fatal(err)
		}
	}
	due, err := db.DueOutbox(ctx, t0, 0)
	if err != nil || len(due) != 1 {
		t.Fatalf("due = %v, %v; want one row", due, err)
	}
	if err := db.FailOutbox(ctx, due[0].ID, "splynx down", t0.Add(time.Minute), 5, t0); err != nil {
		t.Fatal(err)
	}
	if due, _ := db.DueOutbox(ctx, t0, 0); len(due) != 0 {
		t.Fatalf("backed-off row is due: %v", due)
	}
	if due, _ := db.DueOutbox(ctx, t0.Add(time.Minute), 0); len(due) != 1 || due[0].Tries != 1 {
		t.Fatalf("row after back-off = %v", due)
	}
	if err := db.Write(ctx, func(tx *sql.Tx) error { return CompleteOutbox(ctx, tx, due[0].ID, 99, t0) }); err != nil {
		t.Fatal(err)
	}
	if err := db.Write(ctx, func(tx *sql.Tx) error { return CompleteOutbox(ctx, tx, due[0].ID, 99, t0) }); !errors.Is(err, ErrStateChanged) {
		t.Fatalf("second completion err = %v", err)
	}
}

func TestSavedMethodReplaces(t *testing.T) {
	ctx := context.Background()
	db := openChargeDB(t)
	id1, err := db.SaveMethod(ctx, SavedMethodRow{CustomerID: 7, Kind: "card", Token: "T1", Mask: "Visa •••• 1111"}, t0)
	if err != nil {
		t.Fatal(err)
	}
	id2, err := db.SaveMethod(ctx, SavedMethodRow{CustomerID: 7, Kind: "bank", Token: "T2", Mask: "BSB •••• 678"}, t0)
	if err != nil {
		t.Fatal(err)
	}
	m, err := db.ActiveMethod(ctx, 7)
	if err != nil || m.ID != id2 || m.Token != "T2" {
		t.Fatalf("active = %+v, %v", m, err)
	}
	old, _ := db.GetMethod(ctx, id1)
	if old.Status != MethodRemoved {
		t.Fatalf("old method status %s", old.Status)
	}
	if _, err := db.ActiveMethod(ctx, 8); !errors.Is(err, ErrNotFound) {
		t.Fatalf("customer without method: %v", err)
	}
}

func TestInterruptStaleRuns(t *testing.T) {
	ctx := context.Background()
	db := openChargeDB(t)
	dead, _ := db.CreateRun(ctx, ChargeRun{Source: "cli"}, t0)
	busy, _ := db.CreateRun(ctx, ChargeRun{Source: "auto"}, t0)
	a := newAttempt("invoice:9", "SPFFFFFFFFFFFFFFFF")
	a.RunID = busy
	if err := db.CreateAttempt(ctx, a, t0.Add(50*time.Minute)); err != nil {
		t.Fatal(err)
	}
	n, err := db.InterruptStaleRuns(ctx, t0.Add(30*time.Minute), t0.Add(time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("interrupted %d, %v", n, err)
	}
	if r, _ := db.GetRun(ctx, dead); r.Status != "interrupted" {
		t.Errorf("dead run %s", r.Status)
	}
	if r, _ := db.GetRun(ctx, busy); r.Status != "running" {
		t.Errorf("busy run %s", r.Status)
	}
	// A run wrongly taken for dead still records how it ended.
	if err := db.FinishRun(ctx, dead, "done", RunProgress{Done: 1}, "", t0.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if r, _ := db.GetRun(ctx, dead); r.Status != "done" || r.Progress.Done != 1 {
		t.Errorf("finished run %+v", r)
	}
}
