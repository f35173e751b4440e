package setup

import (
	"context"
	"errors"
	"os"
	"time"

	"github.com/splynx-pay/splynx-pay/store"
)

// checkIntegrity runs the full PRAGMA integrity_check on the database
// (read-only; start-up runs only the quicker quick_check). A database not
// created yet is checkDatabase's business.
func checkIntegrity(ctx context.Context, r *report, d DoctorDeps) {
	path := d.Boot.DBPath
	if path == "" {
		return
	}
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return
	}
	check := "database integrity"
	start := time.Now()
	// No network timeout here: a large file takes as long as it takes.
	err := store.CheckFile(ctx, path)
	switch {
	case err == nil:
		r.ok(check, "integrity_check passed in "+time.Since(start).Round(time.Millisecond).String())
	case store.IsCorrupt(err):
		r.fail(check, path+" is damaged ("+oneLine(err.Error())+")",
			"systemctl stop "+d.Addon.Name+"; "+d.Addon.Name+" restore <newest file in the backups folder beside it>")
	default:
		r.warn(check, "could not run integrity_check on "+path+" ("+oneLine(err.Error())+")", "run it again when the disk is idle")
	}
}
