package daemon

// The database's safety net: a quick_check before any command uses the
// file, online backups (by hand and daily, with retention), and restore,
// which refuses while any process of this add-on has the database open.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/splynx-pay/splynx-pay/internal/config"
	"github.com/splynx-pay/splynx-pay/store"
)

var (
	backupCommand = Command{
		Name: "backup", Summary: "write a consistent copy of the database (safe while the daemon runs): [--to FILE]",
		NeedsDB: true, Setup: SetupOffline, Run: backupCmd,
	}
	restoreCommand = Command{
		Name: "restore", Summary: "replace the database with a backup FILE (stop the daemon first)",
		Setup: SetupOffline, Run: restoreCmd,
	}
	jobBackup = Job{
		Name: "backup",
		// 03:30 local time: after midnight's debit runs, before the
		// nightly charge run.
		Schedule: func(b config.Bootstrap) string { return "CRON_TZ=" + b.TimeZone + " 30 3 * * *" },
		Run:      dailyBackupJob,
	}
)

// backupDir is where backups go: a folder beside the database, so the
// package's directory permissions (0750, the service user) cover them.
func backupDir(b config.Bootstrap) string { return filepath.Join(filepath.Dir(b.DBPath), "backups") }

func backupName(app *App, now time.Time) string {
	return filepath.Join(backupDir(app.Boot), app.Name+"-"+now.UTC().Format("20060102T150405Z")+".db")
}

func backupCmd(ctx context.Context, app *App, args []string) error {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	fs.SetOutput(app.Stderr)
	to := fs.String("to", "", "backup file to write (default: "+filepath.Join("<database folder>", "backups", "<package>-<UTC time>.db")+")")
	if err := fs.Parse(args); err != nil {
		return err
	}
	dest := *to
	if dest == "" {
		dest = backupName(app, time.Now())
		if err := os.MkdirAll(filepath.Dir(dest), 0o700); err != nil {
			return err
		}
	}
	start := time.Now()
	if err := app.DB.Backup(ctx, dest); err != nil {
		return err
	}
	fi, err := os.Stat(dest)
	if err != nil {
		return err
	}
	fmt.Fprintf(app.Stdout, "backup of %s written to %s (%d bytes, %s); restore it with: %s restore %s\n",
		app.Boot.DBPath, dest, fi.Size(), time.Since(start).Round(time.Millisecond), app.Name, dest)
	return nil
}

// dailyBackupJob writes the daily backup and keeps the newest backup_keep.
func dailyBackupJob(ctx context.Context, app *App) error {
	keep := 7
	if s, err := app.Settings(ctx); err == nil {
		keep = s.BackupKeep
	} else {
		app.Log.Warn("daily backup: settings unreadable; keeping the default 7 backups", zap.Error(err))
	}
	if keep == 0 {
		return nil
	}
	return backupAndPrune(ctx, app, keep, time.Now())
}

func backupAndPrune(ctx context.Context, app *App, keep int, now time.Time) error {
	dest := backupName(app, now)
	if err := os.MkdirAll(filepath.Dir(dest), 0o700); err != nil {
		return fmt.Errorf("daily backup: %w", err)
	}
	if err := app.DB.Backup(ctx, dest); err != nil {
		return fmt.Errorf("daily backup: %w", err)
	}
	gone, err := store.PruneBackups(filepath.Dir(dest), app.Name+"-", keep)
	app.Log.Info("daily backup written", zap.String("file", dest), zap.Int("removed", len(gone)), zap.Int("keep", keep))
	return err
}

func restoreCmd(ctx context.Context, app *App, args []string) error {
	fs := flag.NewFlagSet("restore", flag.ContinueOnError)
	fs.SetOutput(app.Stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: %s restore FILE\n\nReplaces %s with the backup FILE after checking FILE's integrity; "+
			"the daemon must be stopped. The current file is kept as <db>.before-restore-<time>.\n", app.Name, app.Boot.DBPath)
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("restore: name the backup file, e.g. %s restore %s", app.Name, latestBackup(app))
	}
	unlock, err := lockDB(app.Boot.DBPath, true)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer unlock()
	kept, err := store.Restore(ctx, fs.Arg(0), app.Boot.DBPath, time.Now())
	if err != nil {
		return err
	}
	if kept != "" {
		fmt.Fprintf(app.Stdout, "restored %s from %s; the previous file is kept as %s\n", app.Boot.DBPath, fs.Arg(0), kept)
	} else {
		fmt.Fprintf(app.Stdout, "restored %s from %s\n", app.Boot.DBPath, fs.Arg(0))
	}
	fmt.Fprintf(app.Stdout, "before the next charge run, compare the gateway's transactions since the backup was taken with Splynx: "+
		"attempts made after it are not in this file; then start the daemon again (systemctl start %s)\n", app.Name)
	return nil
}

// latestBackup names the newest backup, or a placeholder.
func latestBackup(app *App) string {
	if bs, err := store.Backups(backupDir(app.Boot), app.Name+"-"); err == nil && len(bs) > 0 {
		return bs[0]
	}
	return "BACKUP-FILE"
}

// errDBBusy says another process has the database open.
var errDBBusy = errors.New("database in use")

// lockDB takes the database's lock file (<db>.lock): shared for every
// command that opens the database, exclusive for restore. The kernel drops
// it when the process dies, SIGKILL included.
func lockDB(dbPath string, exclusive bool) (func(), error) {
	// Read-only and 0644: a lock file that root created (postinst runs
	// migrate) still serves the service user; it holds no data.
	f, err := os.OpenFile(dbPath+".lock", os.O_RDONLY|os.O_CREATE, 0o644)
	if err != nil {
		if exclusive {
			return nil, fmt.Errorf("lock %s.lock: %w", dbPath, err)
		}
		// A lock file we cannot open (created by root, say) must not stop
		// the daemon; restore will refuse instead.
		return func() {}, nil
	}
	how := syscall.LOCK_SH
	if exclusive {
		how = syscall.LOCK_EX
	}
	if err := syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			if exclusive {
				return nil, fmt.Errorf("%w: the daemon or another command has %s open; stop it first (systemctl stop %s)",
					errDBBusy, dbPath, filepath.Base(filepath.Dir(dbPath)))
			}
			return nil, fmt.Errorf("%w: a restore of %s is under way", errDBBusy, dbPath)
		}
		return nil, fmt.Errorf("lock %s.lock: %w", dbPath, err)
	}
	return func() { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
}

// openChecked takes the shared lock, opens the database and runs
// quick_check. A damaged file stops the command with one line naming the
// file and the restore command: nothing is charged from a database that
// may have lost attempts.
func openChecked(ctx context.Context, app *App) (*store.DB, func(), error) {
	unlock, err := lockDB(app.Boot.DBPath, false)
	if err != nil {
		return nil, nil, err
	}
	db, err := store.Open(ctx, app.Boot.DBPath, app.Log)
	if err == nil {
		err = db.QuickCheck(ctx)
		if err != nil {
			db.Close()
		}
	}
	if err != nil {
		unlock()
		if store.IsCorrupt(err) {
			return nil, nil, fmt.Errorf("database %s is damaged (%s); refusing to charge from it. Stop the daemon and restore the last good backup: %s restore %s",
				app.Boot.DBPath, oneLine(err.Error()), app.Name, latestBackup(app))
		}
		return nil, nil, fmt.Errorf("open database %s: %w", app.Boot.DBPath, err)
	}
	return db, unlock, nil
}
