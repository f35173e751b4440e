package daemon

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/splynx-pay/splynx-pay/store"
)

// fillDB creates the database with enough rows to span many pages.
func fillDB(t *testing.T, path string, rows int) {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range rows {
		if err := db.Audit(ctx, nil, "test.fill", map[string]any{"i": i, "pad": fmt.Sprintf("%0300d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	db.Close()
}

func damage(t *testing.T, path string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, _ := f.Stat()
	junk := make([]byte, 3*4096)
	for i := range junk {
		junk[i] = byte(i*7 + 13)
	}
	if _, err := f.WriteAt(junk, fi.Size()/2-4096); err != nil {
		t.Fatal(err)
	}
}

// A damaged database stops `charge` (and `run`) before anything is sent:
// one line that names the file and the restore command with the newest
// backup.
func TestDamagedDatabaseRefusesToCharge(t *testing.T) {
	_, u := startSims(t, 5, 10)
	env := goodEnv(t, u.Splynx)
	setEnv(t, env)
	path := env["SPLYNXPAY_DB_PATH"]
	fillDB(t, path, 3000)
	ctx := context.Background()
	if code, out, errOut := runMain(ctx, "backup"); code != 0 {
		t.Fatalf("backup: %d %s %s", code, out, errOut)
	}
	backups, _ := store.Backups(filepath.Join(filepath.Dir(path), "backups"), testAddon.Name+"-")
	if len(backups) != 1 {
		t.Fatalf("backups %v", backups)
	}
	damage(t, path)
	for _, cmd := range [][]string{{"charge", "--dry-run"}, {"run"}} {
		code, _, errOut := runMain(ctx, cmd...)
		if code == 0 {
			t.Fatalf("%s on a damaged database exited 0", cmd[0])
		}
		line := strings.TrimSpace(errOut)
		if strings.Count(line, "\n") != 0 || !strings.Contains(line, path+" is damaged") ||
			!strings.Contains(line, testAddon.Name+" restore "+backups[0]) {
			t.Fatalf("%s: want one line naming %s and the restore command, got:\n%s", cmd[0], path, errOut)
		}
	}
	// Restoring the backup makes the database usable again.
	if code, out, errOut := runMain(ctx, "restore", backups[0]); code != 0 || !strings.Contains(out, "restored "+path) {
		t.Fatalf("restore: %d %s %s", code, out, errOut)
	}
	if code, _, errOut := runMain(ctx, "charge", "--dry-run"); code != 0 {
		t.Fatalf("charge after restore: %s", errOut)
	}
}

// restore refuses while any command (the daemon) has the database open,
// and changes nothing then.
func TestRestoreRefusesWhileDaemonRuns(t *testing.T) {
	_, u := startSims(t, 5, 10)
	env := goodEnv(t, u.Splynx)
	setEnv(t, env)
	path := env["SPLYNXPAY_DB_PATH"]
	fillDB(t, path, 10)
	ctx := context.Background()
	backup := filepath.Join(t.TempDir(), "b.db")
	if code, _, errOut := runMain(ctx, "backup", "--to", backup); code != 0 {
		t.Fatal(errOut)
	}
	unlock, err := lockDB(path, false) // what every command that opens the database holds
	if err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)
	code, _, errOut := runMain(ctx, "restore", backup)
	if code == 0 || !strings.Contains(errOut, "stop it first") {
		t.Fatalf("restore while the database is open: %d %s", code, errOut)
	}
	if after, _ := os.ReadFile(path); string(after) != string(before) {
		t.Fatal("a refused restore changed the database file")
	}
	unlock()
	if code, _, errOut := runMain(ctx, "restore", backup); code != 0 {
		t.Fatalf("restore after the daemon stopped: %s", errOut)
	}
}

// The daily job keeps backup_keep backups, newest first.
func TestDailyBackupRetention(t *testing.T) {
	_, u := startSims(t, 5, 10)
	env := goodEnv(t, u.Splynx)
	setEnv(t, env)
	path := env["SPLYNXPAY_DB_PATH"]
	fillDB(t, path, 10)
	ctx := context.Background()
	db, err := store.Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	app := &App{Addon: testAddon, DB: db, Log: nopLogger()}
	app.Boot.DBPath = path
	day := time.Date(2026, 12, 1, 3, 30, 0, 0, time.UTC)
	for i := range 5 {
		if err := backupAndPrune(ctx, app, 3, day.AddDate(0, 0, i)); err != nil {
			t.Fatal(err)
		}
	}
	bs, _ := store.Backups(backupDir(app.Boot), testAddon.Name+"-")
	if len(bs) != 3 || !strings.Contains(bs[0], "20261205T033000Z") || !strings.Contains(bs[2], "20261203T033000Z") {
		t.Fatalf("backups left %v, want the newest 3", bs)
	}
	for _, b := range bs {
		if err := store.CheckFile(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
}
