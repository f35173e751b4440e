package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func openTemp(t *testing.T) (*DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "pay.db")
	db, err := Open(context.Background(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, path
}

func countAudit(t *testing.T, path string) int {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT COUNT(*) FROM audit_log WHERE event = 'backup.test'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// Backups taken while a writer commits all the time are whole: each passes
// integrity_check and holds a count of rows between what was committed
// when it started and when it ended (one snapshot, no torn copy).
func TestBackupWhileWriting(t *testing.T) {
	ctx := context.Background()
	db, _ := openTemp(t)
	var committed atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if err := db.Audit(ctx, nil, "backup.test", map[string]any{"i": i, "pad": fmt.Sprintf("%0500d", i)}); err != nil {
				t.Error(err)
				return
			}
			committed.Add(1)
		}
	}()
	dir := t.TempDir()
	for i := range 5 {
		for committed.Load() < int64(200*(i+1)) {
			time.Sleep(time.Millisecond)
		}
		before := committed.Load()
		dest := filepath.Join(dir, fmt.Sprintf("b%d.db", i))
		if err := db.Backup(ctx, dest); err != nil {
			t.Fatal(err)
		}
		after := committed.Load()
		if err := CheckFile(ctx, dest); err != nil {
			t.Fatalf("backup %d: %v", i, err)
		}
		if n := int64(countAudit(t, dest)); n < before || n > after {
			t.Fatalf("backup %d holds %d rows; %d were committed before it began and %d when it ended", i, n, before, after)
		}
		fi, err := os.Stat(dest)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Fatalf("backup mode %v, want 0600 (it holds customer data)", fi.Mode().Perm())
		}
		if _, err := os.Stat(dest + ".part"); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("temporary file left behind: %v", err)
		}
		// Self-contained: a rollback-journal file (header bytes 18-19 = 1),
		// and checking it left no -wal or -shm beside it.
		hdr := make([]byte, 20)
		if f, err := os.Open(dest); err == nil {
			f.Read(hdr)
			f.Close()
		}
		if hdr[18] != 1 || hdr[19] != 1 {
			t.Fatalf("backup header says journal mode %d/%d, want 1/1 (not WAL)", hdr[18], hdr[19])
		}
		for _, suf := range []string{"-wal", "-shm"} {
			if _, err := os.Stat(dest + suf); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("%s beside the backup: %v", suf, err)
			}
		}
	}
	close(stop)
	wg.Wait()
}

// corrupt overwrites pages in the middle of the file, as a failing disk or
// a copy of a live file without its WAL would leave it.
func corrupt(t *testing.T, path string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, _ := f.Stat()
	junk := make([]byte, 4096*3)
	for i := range junk {
		junk[i] = byte(i*7 + 13)
	}
	if _, err := f.WriteAt(junk, fi.Size()/2-4096); err != nil {
		t.Fatal(err)
	}
}

func TestQuickCheckFindsDamage(t *testing.T) {
	ctx := context.Background()
	db, path := openTemp(t)
	for i := range 3000 {
		if err := db.Audit(ctx, nil, "backup.test", map[string]any{"i": i, "pad": fmt.Sprintf("%0300d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.QuickCheck(ctx); err != nil {
		t.Fatalf("healthy file: %v", err)
	}
	if err := db.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	db.Close()
	corrupt(t, path)
	db2, err := Open(ctx, path, nil)
	if err == nil {
		defer db2.Close()
		err = db2.QuickCheck(ctx)
		if err == nil {
			err = db2.IntegrityCheck(ctx)
		}
	}
	if !IsCorrupt(err) {
		t.Fatalf("damaged file: got %v, want an ErrCorrupt", err)
	}
	if err := CheckFile(ctx, path); !IsCorrupt(err) {
		t.Fatalf("CheckFile of the damaged file: %v", err)
	}
}

func TestRestoreKeepsThePreviousFile(t *testing.T) {
	ctx := context.Background()
	db, path := openTemp(t)
	if err := db.Audit(ctx, nil, "backup.test", nil); err != nil {
		t.Fatal(err)
	}
	backup := filepath.Join(t.TempDir(), "b.db")
	if err := db.Backup(ctx, backup); err != nil {
		t.Fatal(err)
	}
	for range 4 {
		if err := db.Audit(ctx, nil, "backup.test", nil); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	// A damaged backup is refused and nothing is touched.
	bad := filepath.Join(t.TempDir(), "bad.db")
	if err := copyFile(backup, bad); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(bad, 2000); err != nil {
		t.Fatal(err)
	}
	if _, err := Restore(ctx, bad, path, time.Now()); err == nil {
		t.Fatal("a truncated backup was restored")
	}
	if n := countAudit(t, path); n != 5 {
		t.Fatalf("refused restore changed the database: %d rows", n)
	}
	kept, err := Restore(ctx, backup, path, time.Date(2026, 12, 3, 4, 5, 6, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if n := countAudit(t, path); n != 1 {
		t.Fatalf("restored database has %d rows, want the backup's 1", n)
	}
	if want := path + ".before-restore-20261203T040506Z"; kept != want {
		t.Fatalf("kept %q, want %q", kept, want)
	}
	if n := countAudit(t, kept); n != 5 {
		t.Fatalf("kept file has %d rows, want 5", n)
	}
}

func TestPruneBackupsKeepsNewest(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"p-20261201T033000Z.db", "p-20261203T033000Z.db", "p-20261202T033000Z.db", "other.db", "p-x.txt"} {
		if err := os.WriteFile(filepath.Join(dir, n), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	gone, err := PruneBackups(dir, "p-", 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(gone) != 1 || filepath.Base(gone[0]) != "p-20261201T033000Z.db" {
		t.Fatalf("removed %v, want only the oldest", gone)
	}
	left, _ := Backups(dir, "p-")
	if len(left) != 2 || filepath.Base(left[0]) != "p-20261203T033000Z.db" {
		t.Fatalf("left %v", left)
	}
	if _, err := os.Stat(filepath.Join(dir, "other.db")); err != nil {
		t.Fatal("a file that is not one of ours was removed")
	}
}
