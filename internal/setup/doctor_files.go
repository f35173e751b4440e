package setup

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/splynx-pay/splynx-pay/internal/config"
)

// AdminTokenCommand creates the admin token file the way the package's
// postinst does, for installs without the package (INSTALL.md).
func (a Addon) AdminTokenCommand(path string) string {
	return fmt.Sprintf("(umask 027; head -c 32 /dev/urandom | base64 | tr -d '=+/\\n' > %s) && chown root:%s %s && chmod 0640 %s",
		path, a.Name, path, path)
}

// checkFileModes warns about secrets other users can read: the env file
// (the Splynx API secret), the database with its -wal and -shm (gateway
// tokens, customers, the ledger) and its backups.
func checkFileModes(r *report, d DoctorDeps) {
	a := d.Addon
	check := "file modes"
	env := d.EnvFile
	if env == "" {
		env = a.envFile()
	}
	files := []string{env}
	if db := d.Boot.DBPath; db != "" {
		files = append(files, db, db+"-wal", db+"-shm")
		backups, _ := filepath.Glob(filepath.Join(filepath.Dir(db), "backups", "*"))
		files = append(files, backups...)
	}
	var open []string
	seen := 0
	for _, f := range files {
		st, err := os.Stat(f)
		if err != nil || !st.Mode().IsRegular() {
			continue
		}
		seen++
		if m := st.Mode().Perm(); m&0o007 != 0 {
			open = append(open, fmt.Sprintf("%s (mode %04o)", f, m))
		}
	}
	switch {
	case len(open) > 0:
		r.warn(check, "readable by every user: "+strings.Join(open, ", "),
			"chmod o-rwx on each (the env file: chown root:"+a.Name+" "+env+"; chmod 0640 "+env+")")
	case seen == 0:
		r.skip(check, "neither "+env+" nor the database exists yet")
	default:
		r.ok(check, "the env file, database and backups are closed to other users")
	}
}

// checkAdminToken reads the admin token file (SPLYNXPAY_ADMIN_TOKEN_FILE)
// as the daemon will; nil when it cannot be used.
func checkAdminToken(r *report, d DoctorDeps) []byte {
	a := d.Addon
	check := "admin token"
	path := d.Boot.AdminTokenFile
	tok, err := config.ReadAdminToken(path)
	if err != nil {
		fix := "the package creates it (dpkg-reconfigure " + a.Name + "); by hand: " + a.AdminTokenCommand(path)
		if path == "" {
			fix = "set " + config.EnvPrefix + "_ADMIN_TOKEN_FILE in " + a.envFile()
		}
		r.fail(check, oneLine(err.Error())+"; staff pages refuse requests made on the server", fix)
		return nil
	}
	r.ok(check, path+" holds a token only root and "+a.Name+" can read")
	return tok
}

// checkTokenAccepted asks the daemon for its status page with the token,
// as an operator's curl would.
func checkTokenAccepted(ctx context.Context, r *report, d DoctorDeps, url string, token []byte) {
	a := d.Addon
	check := "admin token"
	cctx, cancel := d.ctx(ctx)
	defer cancel()
	req, err := http.NewRequestWithContext(cctx, http.MethodGet, url, nil)
	if err != nil {
		r.skip(check, oneLine(err.Error()))
		return
	}
	req.Header.Set("Authorization", "Bearer "+string(token))
	resp, err := d.HTTP.Do(req)
	if err != nil {
		r.warn(check, "cannot ask "+url+" ("+connCause(err)+")", "")
		return
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		r.fail(check, fmt.Sprintf("the daemon answered %d to %s with the token", resp.StatusCode, url),
			"the daemon reads "+config.EnvPrefix+"_ADMIN_TOKEN_FILE from "+a.envFile()+" at start: systemctl restart "+a.Name)
		return
	}
	r.ok(check, "the daemon accepts it at "+url)
}
