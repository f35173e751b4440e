package store

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"
)

// The probe commits on a healthy file and names the cause in a few words
// when the database cannot write: a lock held by another process, a
// read-only file.
func TestProbeWriteNamesTheCause(t *testing.T) {
	ctx := context.Background()
	db, path := openTemp(t)
	if err := db.ProbeWrite(ctx); err != nil {
		t.Fatalf("healthy: %v", err)
	}

	other, err := sql.Open("sqlite3", "file:"+path+"?_txlock=exclusive")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	tx, err := other.Begin()
	if err != nil {
		t.Fatal(err)
	}
	lctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	err = db.ProbeWrite(lctx)
	cancel()
	if err == nil || !strings.Contains(err.Error(), "locked by another process") {
		t.Fatalf("locked: %v", err)
	}
	tx.Rollback()
	if err := db.ProbeWrite(ctx); err != nil {
		t.Fatalf("after the lock: %v", err)
	}

	ro, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	_, err = ro.Exec(`UPDATE storage_probe SET at = 'x'`)
	if err == nil {
		t.Fatal("a read-only connection wrote")
	}
	if got := StorageProblem(err).Error(); !strings.Contains(got, "read-only") {
		t.Fatalf("read-only: %s", got)
	}
}
