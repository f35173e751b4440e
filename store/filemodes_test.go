package store

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// withUmask runs the test under a umask that lets every file be read by
// all (the common default), so modes come from the code, not the umask.
func withUmask(t *testing.T, mask int) {
	old := syscall.Umask(mask)
	t.Cleanup(func() { syscall.Umask(old) })
}

func modeOf(t *testing.T, p string) os.FileMode {
	t.Helper()
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return st.Mode().Perm()
}

// The database, its -wal and -shm, backups and a restored database are
// readable by their owner only, under umask 022: they hold customers'
// names, gateway tokens and the charge ledger.
func TestDatabaseAndBackupsNotWorldReadable(t *testing.T) {
	withUmask(t, 0o022)
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "pay.db")
	db, err := Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.write.ExecContext(ctx, `CREATE TABLE mode_probe (x)`); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if m := modeOf(t, p); m != 0o600 {
			t.Errorf("%s: mode %04o, want 0600", filepath.Base(p), m)
		}
	}
	backup := filepath.Join(dir, "backups", "pay-1.db")
	if err := os.Mkdir(filepath.Dir(backup), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := db.Backup(ctx, backup); err != nil {
		t.Fatal(err)
	}
	if m := modeOf(t, backup); m != 0o600 {
		t.Errorf("backup: mode %04o, want 0600", m)
	}
	db.Close()
	restored := filepath.Join(dir, "restored.db")
	if _, err := Restore(ctx, backup, restored, time.Now()); err != nil {
		t.Fatal(err)
	}
	if m := modeOf(t, restored); m != 0o600 {
		t.Errorf("restored database: mode %04o, want 0600", m)
	}
}

// An existing database left readable by everyone (an old install, a copy
// made by hand) is closed to other users when opened; group access stays.
func TestOpenClosesAWorldReadableDatabase(t *testing.T) {
	withUmask(t, 0o022)
	path := filepath.Join(t.TempDir(), "pay.db")
	db, err := Open(context.Background(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if _, err := os.Stat(p); err == nil {
			if err := os.Chmod(p, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	db, err = Open(context.Background(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if _, err := os.Stat(p); err != nil {
			continue
		}
		if m := modeOf(t, p); m != 0o640 {
			t.Errorf("%s: mode %04o after open, want 0640", filepath.Base(p), m)
		}
	}
}
