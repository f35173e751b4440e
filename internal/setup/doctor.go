package setup

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	sqlite3 "github.com/mattn/go-sqlite3"
	"go.uber.org/zap"

	"github.com/splynx-pay/splynx-pay/gateways"
	"github.com/splynx-pay/splynx-pay/internal/clock"
	"github.com/splynx-pay/splynx-pay/internal/config"
	"github.com/splynx-pay/splynx-pay/splynx"
)

// DoctorDeps is what Doctor checks.
type DoctorDeps struct {
	Addon Addon
	// Boot is the bootstrap configuration as loaded (defaults filled, not
	// yet validated: a bad value is the first thing reported).
	Boot config.Bootstrap
	// Env holds the SPLYNXPAY_SETTING_* overrides.
	Env map[string]string
	// Splynx is the client to check; nil builds one from Boot.
	Splynx *splynx.Client
	// Gateway builds the gateway client from the settings.
	Gateway func(ctx context.Context, s config.Settings) (gateways.Gateway, error)
	Clock   clock.Clock  // nil → clock.Real{}
	Log     *zap.Logger  // nil → zap.NewNop()
	HTTP    *http.Client // for the Date header probe; nil → a 10 s client
	// Timeout bounds each network check (default 20 s).
	Timeout time.Duration
	// Root reports whether the doctor runs as root (tests set it);
	// nil → os.Geteuid() == 0.
	Root func() bool
	// EnvFile is the environment file whose mode is checked; "" → the
	// package's /etc/<pkg>/env.
	EnvFile string
}

// MaxSkew is how far this server's clock may be from Splynx's before the
// doctor warns: payment dates and schedules follow the local clock.
const MaxSkew = 2 * time.Minute

type report struct {
	w      io.Writer
	failed bool
}

func (r *report) ok(check, detail string) {
	fmt.Fprintf(r.w, "OK   %s: %s\n", check, detail)
}

func (r *report) warn(check, detail, fix string) {
	fmt.Fprintf(r.w, "WARN %s: %s", check, detail)
	if fix != "" {
		fmt.Fprintf(r.w, " — fix: %s", fix)
	}
	fmt.Fprintln(r.w)
}

func (r *report) fail(check, detail, fix string) {
	r.failed = true
	fmt.Fprintf(r.w, "FAIL %s: %s", check, detail)
	if fix != "" {
		fmt.Fprintf(r.w, " — fix: %s", fix)
	}
	fmt.Fprintln(r.w)
}

func (r *report) skip(check, why string) {
	fmt.Fprintf(r.w, "SKIP %s: %s\n", check, why)
}

// Doctor checks the installation and writes one line per check, each
// failure with its fix: the bootstrap configuration, Splynx reachable and
// the key valid, every API permission the add-on reads with, the module
// config complete, the gateway login or PING, the database writable and
// the clock in step with Splynx. It returns true when nothing failed
// (warnings allowed).
func Doctor(ctx context.Context, d DoctorDeps, w io.Writer) bool {
	r := &report{w: w}
	if d.Clock == nil {
		d.Clock = clock.Real{}
	}
	if d.Log == nil {
		d.Log = zap.NewNop()
	}
	if d.Timeout <= 0 {
		d.Timeout = 20 * time.Second
	}
	if d.HTTP == nil {
		d.HTTP = &http.Client{Timeout: 10 * time.Second}
	}
	if d.Root == nil {
		d.Root = func() bool { return os.Geteuid() == 0 }
	}
	a := d.Addon

	if err := d.Boot.Validate(); err != nil {
		fix := "edit " + a.envFile() + ", then systemctl restart " + a.Name
		if strings.TrimSpace(d.Boot.SplynxURL) == "" {
			// Most likely the env file was not loaded at all.
			fix = "set it in " + a.envFile() + " and run " + a.Name + "-admin doctor, which loads that file"
		}
		r.fail("configuration", oneLine(err.Error()), fix)
	} else {
		r.ok("configuration", a.envFile()+" is valid")
	}
	if d.Boot.AllowHTTP {
		r.warn("https", config.AllowHTTPSetting+"=true: http:// Splynx and gateway URLs are accepted",
			"development only: remove it from "+a.envFile()+" and use https:// URLs")
	}
	checkFileModes(r, d)           // doctor_files.go
	token := checkAdminToken(r, d) // doctor_files.go

	c := d.Splynx
	plain := d.Boot.CheckHTTPS("SPLYNX_URL", d.Boot.SplynxURL) != nil
	if c == nil && strings.TrimSpace(d.Boot.SplynxURL) != "" && !plain {
		var err error
		c, err = splynx.New(splynx.Config{BaseURL: d.Boot.SplynxURL, APIKey: d.Boot.SplynxAPIKey, APISecret: d.Boot.SplynxAPISecret},
			splynx.WithLogger(d.Log), splynx.WithClock(d.Clock))
		if err != nil {
			r.fail("Splynx API", oneLine(err.Error()), "set SPLYNXPAY_SPLYNX_URL in "+a.envFile())
		}
	}
	splynxOK := false
	var settings *config.Settings
	if c != nil {
		splynxOK = checkSplynx(ctx, r, d, c)
		if splynxOK {
			checkPermissions(ctx, r, d, c)
			settings = checkModuleConfig(ctx, r, d, c)
		}
	} else if plain {
		r.skip("Splynx API", "not asked over http: the API secret would travel in clear")
	} else {
		r.skip("Splynx API", "no Splynx URL")
	}
	if settings != nil {
		checkGateway(ctx, r, d, *settings)
	} else {
		r.skip(a.Title+" gateway", "needs a complete module config")
	}
	checkDatabase(ctx, r, d)
	checkIntegrity(ctx, r, d) // doctor_integrity.go
	if strings.TrimSpace(d.Boot.SplynxURL) != "" {
		checkClock(ctx, r, d)
	}
	checkDaemon(ctx, r, d, token)
	if r.failed {
		fmt.Fprintf(w, "\n%s doctor: problems found; fix the FAIL lines above and run it again.\n", a.Name)
	} else {
		fmt.Fprintf(w, "\n%s doctor: all checks passed.\n", a.Name)
	}
	return !r.failed
}

func (d DoctorDeps) ctx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, d.Timeout)
}

// checkSplynx proves the URL is a Splynx API and the key works.
func checkSplynx(ctx context.Context, r *report, d DoctorDeps, c *splynx.Client) bool {
	a := d.Addon
	cctx, cancel := d.ctx(ctx)
	defer cancel()
	err := c.Check(cctx)
	if err == nil {
		// The health check may be public; a list call proves the key.
		_, err = c.ListPaymentMethods(cctx)
		if splynx.IsForbidden(err) {
			err = nil // a permission, reported below with its name
		}
	}
	keyFix := "compare SPLYNXPAY_SPLYNX_API_KEY and SPLYNXPAY_SPLYNX_API_SECRET in " + a.envFile() +
		" with the key in Administration → API keys, then systemctl restart " + a.Name
	switch {
	case err == nil:
		r.ok("Splynx API", d.Boot.SplynxURL+" answers and the API key is valid")
		return true
	case splynx.IsUnauthorized(err):
		r.fail("Splynx API", "the API key or secret was rejected (401)", keyFix)
	case isConnError(err):
		r.fail("Splynx API", "cannot connect to "+d.Boot.SplynxURL+" ("+connCause(err)+")",
			"check SPLYNXPAY_SPLYNX_URL in "+a.envFile()+" and that this server can reach it")
	case strings.Contains(err.Error(), "clock"):
		r.fail("Splynx API", oneLine(err.Error()), "set this server's clock right (timedatectl set-ntp true)")
	default:
		r.fail("Splynx API", oneLine(err.Error()), "check SPLYNXPAY_SPLYNX_URL in "+a.envFile()+" and the Splynx API log (Administration → Logs → API)")
	}
	return false
}

// samples are ids of existing records, for the probes that read one.
type samples struct{ customer, invoice, proforma int64 }

// probe is one read the add-on needs, tried to find a missing permission.
type probe struct {
	controller, action string
	// needs names the sample the probe reads ("" = none).
	needs string
	run   func(ctx context.Context, c *splynx.Client, ids samples) error
}

func firstErr[T any](seq func(func(T, error) bool)) error {
	var err error
	seq(func(_ T, e error) bool { err = e; return false })
	return err
}

func probes() []probe {
	return []probe{
		{`api\admin\customers\Customer`, "index", "", func(ctx context.Context, c *splynx.Client, _ samples) error {
			return firstErr(c.ListCustomers(ctx, splynx.Search{Limit: 1}))
		}},
		{`api\admin\customers\Customer`, "view", "customer", func(ctx context.Context, c *splynx.Client, ids samples) error {
			_, err := c.GetCustomer(ctx, ids.customer)
			return err
		}},
		{`api\admin\customers\CustomerBilling`, "index", "", func(ctx context.Context, c *splynx.Client, _ samples) error {
			err := firstErr(c.ListCustomerBilling(ctx, splynx.Search{Limit: 1}))
			if splynx.IsMethodNotAllowed(err) {
				return nil // this Splynx has no list; the mirror reads one by one
			}
			return err
		}},
		{`api\admin\customers\CustomerBilling`, "view", "customer", func(ctx context.Context, c *splynx.Client, ids samples) error {
			_, err := c.GetCustomerBilling(ctx, ids.customer)
			return err
		}},
		{`api\admin\customers\CustomerPaymentAccounts`, "index", "", func(ctx context.Context, c *splynx.Client, _ samples) error {
			_, err := c.ListPaymentAccountDefs(ctx)
			return err
		}},
		{`api\admin\finance\Invoices`, "index", "", func(ctx context.Context, c *splynx.Client, _ samples) error {
			return firstErr(c.ListInvoices(ctx, splynx.Search{Limit: 1}))
		}},
		{`api\admin\finance\Invoices`, "view", "invoice", func(ctx context.Context, c *splynx.Client, ids samples) error {
			_, err := c.GetInvoice(ctx, ids.invoice)
			return err
		}},
		{`api\admin\finance\Requests`, "index", "", func(ctx context.Context, c *splynx.Client, _ samples) error {
			return firstErr(c.ListProformas(ctx, splynx.Search{Limit: 1}))
		}},
		{`api\admin\finance\Requests`, "view", "proforma", func(ctx context.Context, c *splynx.Client, ids samples) error {
			_, err := c.GetProforma(ctx, ids.proforma)
			return err
		}},
		{`api\admin\finance\Payments`, "index", "", func(ctx context.Context, c *splynx.Client, _ samples) error {
			return firstErr(c.ListPayments(ctx, splynx.Search{Limit: 1}))
		}},
		{`api\admin\finance\PaymentMethods`, "index", "", func(ctx context.Context, c *splynx.Client, _ samples) error {
			_, err := c.ListPaymentMethods(ctx)
			return err
		}},
		{`api\admin\finance\BankStatements`, "index", "", func(ctx context.Context, c *splynx.Client, _ samples) error {
			return firstErr(c.ListBankStatements(ctx, splynx.Search{Limit: 1}))
		}},
		{`api\admin\config\AdditionalFields`, "view", "", func(ctx context.Context, c *splynx.Client, _ samples) error {
			_, err := c.ListAdditionalFields(ctx, "customers")
			return err
		}},
		{`api\admin\administration\Partners`, "index", "", func(ctx context.Context, c *splynx.Client, _ samples) error {
			_, err := c.ListPartners(ctx)
			return err
		}},
		{`api\admin\administration\Locations`, "index", "", func(ctx context.Context, c *splynx.Client, _ samples) error {
			_, err := c.ListLocations(ctx)
			return err
		}},
	}
}

// findSamples picks the first customer, invoice and proforma, if any (a
// denied list leaves the id 0; its probe reports the 403).
func findSamples(ctx context.Context, c *splynx.Client) samples {
	var ids samples
	for cu, err := range c.ListCustomers(ctx, splynx.Search{Limit: 1}) {
		if err == nil {
			ids.customer = int64(cu.ID)
		}
		break
	}
	for inv, err := range c.ListInvoices(ctx, splynx.Search{Limit: 1}) {
		if err == nil {
			ids.invoice = int64(inv.ID)
		}
		break
	}
	for pf, err := range c.ListProformas(ctx, splynx.Search{Limit: 1}) {
		if err == nil {
			ids.proforma = int64(pf.ID)
		}
		break
	}
	return ids
}

// checkPermissions tries each read the add-on makes. Write permissions
// cannot be tried without changing data; install-addon lists them.
func checkPermissions(ctx context.Context, r *report, d DoctorDeps, c *splynx.Client) {
	cctx, cancel := d.ctx(ctx)
	ids := findSamples(cctx, c)
	cancel()
	have := map[string]int64{"customer": ids.customer, "invoice": ids.invoice, "proforma": ids.proforma}
	for _, p := range probes() {
		name := "permission " + p.controller + " " + p.action
		if p.needs != "" && have[p.needs] == 0 {
			r.skip(name, "no "+p.needs+" could be listed to read")
			continue
		}
		cctx, cancel := d.ctx(ctx)
		err := p.run(cctx, c, ids)
		cancel()
		switch {
		case err == nil, splynx.IsNotFound(err):
			r.ok(name, "allowed")
		case splynx.IsForbidden(err):
			r.fail(name, "denied (403)",
				`in Administration → API keys, edit the add-on's key and allow "`+p.action+`" on `+p.controller)
		default:
			r.fail(name, oneLine(err.Error()), "see the Splynx API log (Administration → Logs → API)")
		}
	}
}

// checkModuleConfig reads the module config and reports what is missing
// or wrong. It returns the settings when they are complete.
func checkModuleConfig(ctx context.Context, r *report, d DoctorDeps, c *splynx.Client) *config.Settings {
	a := d.Addon
	check := "module config " + a.Module
	cctx, cancel := d.ctx(ctx)
	defer cancel()
	module, err := c.GetModuleConfig(cctx, a.Module, 0)
	switch {
	case err == nil:
	case splynx.IsForbidden(err):
		r.fail(check, "denied (403)", `in Administration → API keys, edit the add-on's key and allow "index" on api\admin\config\Config`)
		return nil
	case splynx.IsNotFound(err):
		r.fail(check, "not found in Splynx", "run "+a.Name+"-admin install-addon")
		return nil
	default:
		r.fail(check, oneLine(err.Error()), "see the Splynx API log (Administration → Logs → API)")
		return nil
	}
	s, err := config.ParseSettingsFor(a.Kind, module, d.Env)
	if err == nil {
		err = s.CheckHTTPS(d.Boot.AllowHTTP)
	}
	if err != nil {
		r.fail(check, oneLine(err.Error()), "correct it in "+a.modulesListPlace())
		return nil
	}
	complete := true
	for _, key := range a.requiredSettings(s) {
		complete = false
		fix := "set it in " + a.modulesListPlace()
		if strings.HasPrefix(key, "payment_method_") {
			fix = "run " + a.Name + "-admin install-addon, or pick a payment method in " + a.modulesListPlace()
		}
		r.fail(check, key+" is not set", fix)
	}
	methods, err := c.ListPaymentMethods(cctx)
	if err == nil {
		known := map[int64]bool{}
		for _, m := range methods {
			known[int64(m.ID)] = true
		}
		for _, pm := range a.paymentMethods() {
			id, _ := strconv.ParseInt(s.Raw[pm.Setting], 10, 64)
			if id > 0 && !known[id] {
				complete = false
				r.fail(check, fmt.Sprintf("%s=%d is not a Splynx payment method", pm.Setting, id),
					"pick one in "+a.modulesListPlace()+" (Config → Finance → Payment methods lists them)")
			}
		}
	}
	if !complete {
		return nil
	}
	from := map[string]int{}
	for _, src := range s.Source {
		from[src]++
	}
	var parts []string
	for _, src := range []string{config.SourceSplynx, config.SourceEnv, config.SourceDefault} {
		if from[src] > 0 {
			parts = append(parts, fmt.Sprintf("%d from %s", from[src], src))
		}
	}
	r.ok(check, "complete ("+strings.Join(parts, ", ")+")")
	return &s
}

// checkGateway logs in to IntegraPay or PINGs IPpay.
func checkGateway(ctx context.Context, r *report, d DoctorDeps, s config.Settings) {
	a := d.Addon
	check := a.Title + " gateway"
	url, credFix := s.IntegraPayAuthURL, "check integrapay_username, integrapay_password and integrapay_business_id in "+a.modulesListPlace()
	if a.Kind == config.IPpay {
		url, credFix = s.IPpayURL, "check ippay_terminal_id and ippay_ach_terminal_id in "+a.modulesListPlace()+" with IPpay"
	}
	if d.Gateway == nil {
		r.skip(check, "no gateway client")
		return
	}
	cctx, cancel := d.ctx(ctx)
	defer cancel()
	gw, err := d.Gateway(cctx, s)
	if err != nil {
		r.fail(check, oneLine(err.Error()), credFix)
		return
	}
	err = gw.Ping(cctx)
	switch {
	case err == nil:
		what := "logged in at " + url
		if a.Kind == config.IPpay {
			what = "PING answered by " + url
		}
		r.ok(check, what)
	case errors.Is(err, gateways.ErrUnauthorized):
		r.fail(check, "credentials rejected by "+url, credFix)
	case errors.Is(err, gateways.ErrUnreachable) || isConnError(err):
		detail := "connection to " + url + " refused or dropped (" + connCause(err) + ")"
		if a.Kind == config.IPpay {
			r.fail(check, detail, "ask IPpay to whitelist this server's IP (IPpay drops callers not on its allow-list)")
		} else {
			r.fail(check, detail, "check that this server can reach "+url+" over HTTPS (firewall, proxy, DNS)")
		}
	case errors.Is(err, gateways.ErrNotConfigured):
		r.fail(check, oneLine(err.Error()), credFix)
	default:
		r.fail(check, oneLine(err.Error()), credFix)
	}
}

// checkDatabase proves the database can be written, without leaving a
// trace. As root it only looks: opening a WAL database as root would
// leave root-owned -wal/-shm files that lock the service user out.
func checkDatabase(ctx context.Context, r *report, d DoctorDeps) {
	a := d.Addon
	path := d.Boot.DBPath
	check := "database"
	if path == "" {
		r.fail(check, "SPLYNXPAY_DB_PATH is empty", "set it in "+a.envFile())
		return
	}
	asUser := a.Name + "-admin doctor"
	fi, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		dir := filepath.Dir(path)
		if d.Root() {
			r.warn(check, path+" does not exist yet", "start the service (systemctl start "+a.Name+"), or run "+a.Name+"-admin sync")
			return
		}
		f, err := os.CreateTemp(dir, ".doctor-probe-*")
		if err != nil {
			r.fail(check, "cannot create files in "+dir+" ("+errText(err)+")", "chown "+a.Name+": "+dir)
			return
		}
		name := f.Name()
		f.Close()
		os.Remove(name)
		r.ok(check, path+" not created yet; "+dir+" is writable")
		return
	}
	if err != nil {
		r.fail(check, "cannot read "+path+" ("+errText(err)+")", "check the directory's owner and mode")
		return
	}
	if d.Root() {
		st, ok := fi.Sys().(*syscall.Stat_t)
		if ok && st.Uid == 0 {
			r.fail(check, path+" is owned by root; the service cannot write it", "chown "+a.Name+": "+path+"*")
			return
		}
		r.warn(check, "running as root: not writing to "+path, "run "+asUser+" to test writes as the service user")
		return
	}
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=rw&_busy_timeout=5000&_txlock=immediate")
	if err != nil {
		r.fail(check, "open "+path+": "+oneLine(err.Error()), "check SPLYNXPAY_DB_PATH in "+a.envFile())
		return
	}
	defer db.Close()
	cctx, cancel := d.ctx(ctx)
	defer cancel()
	err = probeWrite(cctx, db)
	switch {
	case err == nil:
		r.ok(check, path+" is writable")
	case isReadonly(err):
		r.fail(check, path+" is read-only for this user ("+oneLine(err.Error())+")", "chown "+a.Name+": "+path+"*")
	default:
		r.fail(check, "write to "+path+": "+oneLine(err.Error()), "check the disk and the file; journalctl -u "+a.Name)
	}
}

// probeWrite writes in a transaction that it rolls back.
func probeWrite(ctx context.Context, db *sql.DB) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, "CREATE TABLE doctor_write_probe (x INTEGER)"); err != nil {
		return err
	}
	return nil
}

func isReadonly(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && (se.Code == sqlite3.ErrReadonly || se.Code == sqlite3.ErrCantOpen || se.Code == sqlite3.ErrPerm)
}

// checkClock compares the local clock with the Date header of Splynx.
func checkClock(ctx context.Context, r *report, d DoctorDeps) {
	check := "clock"
	base := strings.TrimRight(d.Boot.SplynxURL, "/")
	base = strings.TrimSuffix(base, "/api/2.0")
	cctx, cancel := d.ctx(ctx)
	defer cancel()
	req, err := http.NewRequestWithContext(cctx, http.MethodHead, base+"/api/2.0/admin/api/check", nil)
	if err != nil {
		r.warn(check, "cannot build a request to Splynx: "+oneLine(err.Error()), "")
		return
	}
	sent := d.Clock.Now()
	resp, err := d.HTTP.Do(req)
	if err != nil {
		r.warn(check, "cannot ask Splynx for its time ("+connCause(err)+")", "")
		return
	}
	resp.Body.Close()
	got := d.Clock.Now()
	date, err := http.ParseTime(resp.Header.Get("Date"))
	if err != nil {
		r.warn(check, "Splynx sent no usable Date header; cannot compare clocks", "")
		return
	}
	// The header has whole seconds: compare with the middle of the call.
	local := sent.Add(got.Sub(sent) / 2)
	skew := local.Sub(date).Round(time.Second)
	abs := skew
	if abs < 0 {
		abs = -abs
	}
	if abs > MaxSkew {
		way := "ahead of"
		if skew < 0 {
			way = "behind"
		}
		r.warn(check, fmt.Sprintf("this server is %s %s Splynx", abs, way),
			"enable NTP on both (timedatectl set-ntp true); payment dates and schedules follow this clock")
		return
	}
	r.ok(check, fmt.Sprintf("within %s of Splynx", MaxSkew))
}

// checkDaemon asks the running daemon for /healthz, then for the status
// page with the admin token. Not running is only a warning: the doctor is
// also run before the first start.
func checkDaemon(ctx context.Context, r *report, d DoctorDeps, token []byte) {
	a := d.Addon
	check := "daemon"
	addr := d.Boot.ListenAddr
	if addr == "" {
		addr = a.ListenAddr
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		r.skip(check, "no usable SPLYNXPAY_LISTEN_ADDR")
		return
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	url := "http://" + net.JoinHostPort(host, port) + a.Prefix + "/healthz"
	cctx, cancel := d.ctx(ctx)
	defer cancel()
	req, err := http.NewRequestWithContext(cctx, http.MethodGet, url, nil)
	if err != nil {
		r.skip(check, oneLine(err.Error()))
		return
	}
	resp, err := d.HTTP.Do(req)
	if err != nil {
		r.warn(check, "nothing answers at "+url+" ("+connCause(err)+")",
			"systemctl start "+a.Name+"; journalctl -u "+a.Name+" says why it stopped")
		return
	}
	defer resp.Body.Close()
	var h struct {
		OK          bool   `json:"ok"`
		Problem     string `json:"problem"`
		LastSyncAge string `json:"last_sync_age"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&h); err != nil {
		r.fail(check, fmt.Sprintf("%s answered %d without a health report", url, resp.StatusCode),
			"another program may hold "+addr+"; check SPLYNXPAY_LISTEN_ADDR and journalctl -u "+a.Name)
		return
	}
	if resp.StatusCode != http.StatusOK || !h.OK {
		problem := h.Problem
		if problem == "" {
			problem = "not healthy"
		}
		r.fail(check, url+" reports: "+oneLine(problem), "journalctl -u "+a.Name)
		return
	}
	detail := url + " is healthy"
	if h.LastSyncAge != "" {
		detail += " (last sync " + h.LastSyncAge + " ago)"
	}
	r.ok(check, detail)
	if token != nil {
		checkTokenAccepted(ctx, r, d, "http://"+net.JoinHostPort(host, port)+a.Prefix+"/status", token) // doctor_files.go
	}
}

func isConnError(err error) bool {
	if err == nil {
		return false
	}
	var op *net.OpError
	var dns *net.DNSError
	return errors.As(err, &op) || errors.As(err, &dns) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

// connCause names a transport failure in words an admin can act on.
func connCause(err error) string {
	var dns *net.DNSError
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection dropped"
	case errors.As(err, &dns):
		return "name not found"
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded):
		return "timed out"
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "timed out"
	}
	// Gateway clients flatten transport errors into text (keeping only
	// their sentinel), so fall back to the words.
	msg := strings.ToLower(err.Error())
	switch {
	case strings.Contains(msg, "connection refused"):
		return "connection refused"
	case strings.Contains(msg, "connection reset"), strings.Contains(msg, "eof"), strings.Contains(msg, "broken pipe"):
		return "connection dropped"
	case strings.Contains(msg, "timeout"), strings.Contains(msg, "deadline exceeded"):
		return "timed out"
	}
	return "transport error"
}

func errText(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
