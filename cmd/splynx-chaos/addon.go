package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/splynx-pay/splynx-pay/internal/chaos"
	"github.com/splynx-pay/splynx-pay/internal/daemon"
	"github.com/splynx-pay/splynx-pay/internal/money"
	"github.com/splynx-pay/splynx-pay/store"
)

// env is one add-on's chaos environment: its simulator, database and logs.
type env struct {
	o      Options
	addon  string
	dir    string
	base   string // simulator URL
	sim    *exec.Cmd
	rng    *rand.Rand
	out    *lockedWriter
	log    *os.File // the daemon's and commands' output, appended
	simlog *os.File // the simulator's
	http   *http.Client
	offset time.Duration // how far the simulators and the daemon were moved on
	custs  []int64       // customers with a saved method
	newInv []int64       // invoices added during the run

	invCust map[int64]int64  // customer of each invoice added
	logins  map[int64]string // portal login of each customer with a method
	web     webCounts        // page visits (web.go)
}

func runAddon(ctx context.Context, o Options, addon string, idx int64, out *lockedWriter) (chaos.Figures, error) {
	e := &env{o: o, addon: addon, dir: filepath.Join(o.Work, addon), out: out,
		rng:  rand.New(rand.NewPCG(uint64(o.Seed), uint64(idx)+1)),
		http: &http.Client{Timeout: 30 * time.Second}}
	f := chaos.Figures{Addon: "splynx-" + addon}
	if err := os.MkdirAll(e.dir, 0o700); err != nil {
		return f, err
	}
	if err := os.WriteFile(e.adminTokenFile(), []byte(staffToken+"\n"), 0o600); err != nil {
		return f, err
	}
	var err error
	if url, ok := o.Attach[addon]; ok {
		return e.attach(ctx, url)
	}
	if e.log, err = os.Create(filepath.Join(e.dir, "daemon.log")); err != nil {
		return f, err
	}
	defer e.log.Close()
	if e.simlog, err = os.Create(filepath.Join(e.dir, "sim.log")); err != nil {
		return f, err
	}
	defer e.simlog.Close()
	if err := e.startSim(ctx); err != nil {
		return f, err
	}
	defer e.stopSim()

	t0 := time.Now()
	if err := e.command(ctx, 2*time.Minute, "sync", "--full"); err != nil {
		return f, fmt.Errorf("first sync: %w", err)
	}
	if err := e.seedMethods(ctx); err != nil {
		return f, fmt.Errorf("seed saved methods: %w", err)
	}
	var logins []string
	if err := e.post(ctx, "/_sim/portal-logins", map[string]any{"customer_ids": e.custs, "password": portalPassword}, &logins); err != nil {
		return f, fmt.Errorf("portal logins: %w", err)
	}
	e.logins = map[int64]string{}
	for i, l := range logins {
		e.logins[e.custs[i]] = l
	}
	out.Printf("%d saved methods seeded in %s; killing the daemon %d times", len(e.custs), time.Since(t0).Round(time.Millisecond), o.Kills)

	for f.Kills < o.Kills {
		if ctx.Err() != nil {
			return f, ctx.Err()
		}
		if err := e.cycle(ctx, f.Kills); err != nil {
			return f, fmt.Errorf("cycle %d: %w", f.Kills+1, err)
		}
		f.Kills++
	}
	out.Printf("%d kills done in %s; finishing without faults", f.Kills, time.Since(t0).Round(time.Second))
	if err := e.finish(ctx); err != nil {
		return f, fmt.Errorf("finish: %w", err)
	}
	return e.check(ctx, f.Kills)
}

// check compares the ledgers, takes a last backup and runs the safety scan.
func (e *env) check(ctx context.Context, kills int) (chaos.Figures, error) {
	l, err := e.ledgers(ctx)
	if err != nil {
		return chaos.Figures{}, err
	}
	as, err := e.attempts(ctx)
	if err != nil {
		return chaos.Figures{}, err
	}
	g := chaos.Compare("splynx-"+e.addon, e.addon == "ippay", l, as)
	g.Kills = kills
	pagesLine := ""
	if e.web.portalTried.Load()+e.web.staffTried.Load() > 0 {
		pagesLine = e.web.line()
	}
	g.Work = chaos.WorkLine(g.Addon, as, pagesLine)
	g.PageErrors = e.web.wrong
	if e.web.wrongN > len(e.web.wrong) {
		g.PageErrors = append(g.PageErrors, fmt.Sprintf("... %d wrong page answers in all", e.web.wrongN))
	}
	if err := e.command(ctx, 2*time.Minute, "backup"); err != nil {
		return g, fmt.Errorf("backup after the run: %w", err)
	}
	if err := e.safety(ctx, &g); err != nil {
		return g, err
	}
	return g, nil
}

func (e *env) clockFile() string { return filepath.Join(e.dir, "clock-offset") }

// advance moves the simulators' clock and the daemon's together.
func (e *env) advance(ctx context.Context, d time.Duration) error {
	e.offset += d
	if err := os.WriteFile(e.clockFile(), []byte(e.offset.String()+"\n"), 0o600); err != nil {
		return err
	}
	return e.post(ctx, "/_sim/advance?by="+d.String(), nil, nil)
}

func (e *env) dbPath() string { return filepath.Join(e.dir, "splynx-"+e.addon+".db") }

// adminTokenFile holds staffToken, the daemon's admin token (its
// SPLYNXPAY_ADMIN_TOKEN_FILE), as a package's postinst would create it.
func (e *env) adminTokenFile() string { return filepath.Join(e.dir, "admin-token") }

// daemonEnv is the environment of every daemon process: schedules of a
// second so that each short life does some work.
func (e *env) daemonEnv() []string {
	env := []string{}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SPLYNXPAY_") {
			env = append(env, kv)
		}
	}
	return append(env,
		"SPLYNXPAY_SPLYNX_URL="+e.base,
		"SPLYNXPAY_ALLOW_HTTP=true", // the simulators answer http on loopback
		"SPLYNXPAY_SPLYNX_API_KEY=sim-api-key",
		"SPLYNXPAY_SPLYNX_API_SECRET=sim-api-secret",
		"SPLYNXPAY_DB_PATH="+e.dbPath(),
		"SPLYNXPAY_ADMIN_TOKEN_FILE="+e.adminTokenFile(),
		"SPLYNXPAY_LISTEN_ADDR=127.0.0.1:0", // each life of `run` gets its own port (cycle)
		"SPLYNXPAY_SYNC_SCHEDULE=@every 1s",
		"SPLYNXPAY_CHARGE_SCHEDULE=@every 1s",
		"SPLYNXPAY_SETTLE_SCHEDULE=@every 1s",
		"SPLYNXPAY_LOG_LEVEL=info",
		"SPLYNXPAY_SETTING_AUTO_CHARGE=1",
		daemon.TestClockEnv+"="+e.clockFile(),
		"SPLYNXPAY_SETTING_GATEWAY_RATE_LIMIT=500",
		"SPLYNXPAY_SETTING_CHARGE_CONCURRENCY=8",
		// A life of about a second sees a charge run; with a simulated day
		// passing every fourth life or so, that is four to six "nightly"
		// runs a day where a real site has one. 20 days of run logs here
		// are about as many runs as the default 90 days at a real site.
		"SPLYNXPAY_SETTING_CHARGE_RUN_LINES_KEEP_DAYS=20",
	)
}

func (e *env) startSim(ctx context.Context) error {
	cmd := exec.Command(filepath.Join(e.o.Bin, "splynx-sim"), "-listen", "127.0.0.1:0", "-control",
		"-seed", fmt.Sprint(e.o.Seed), "-customers", fmt.Sprint(e.o.Customers), "-invoices", fmt.Sprint(e.o.Invoices))
	cmd.Stderr = e.simlog
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start splynx-sim: %w", err)
	}
	e.sim = cmd
	sc := bufio.NewScanner(stdout)
	got := make(chan string, 1)
	go func() {
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "LISTENING "); ok {
				got <- u
			}
		}
	}()
	select {
	case e.base = <-got:
		return nil
	case <-time.After(time.Minute):
		return errors.New("splynx-sim did not print LISTENING within a minute")
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (e *env) stopSim() {
	if e.sim != nil && e.sim.Process != nil {
		_ = e.sim.Process.Signal(syscall.SIGTERM)
		_ = e.sim.Wait()
	}
}

// command runs one daemon CLI command to its end.
func (e *env) command(ctx context.Context, limit time.Duration, args ...string) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, addonBinary(e.o, e.addon), args...)
	cmd.Env = e.daemonEnv()
	var buf bytes.Buffer
	cmd.Stdout = io.MultiWriter(e.log, &buf)
	cmd.Stderr = io.MultiWriter(e.log, &buf)
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %w: %s", filepath.Base(cmd.Path), strings.Join(args, " "), err, lastLine(buf.String()))
	}
	return nil
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// start starts a daemon process in the background.
func (e *env) start(args ...string) (*exec.Cmd, error) { return e.startEnv(nil, args...) }

// startEnv is start with extra environment variables (later ones win).
func (e *env) startEnv(extra []string, args ...string) (*exec.Cmd, error) {
	cmd := exec.Command(addonBinary(e.o, e.addon), args...)
	cmd.Env = append(e.daemonEnv(), extra...)
	cmd.Stdout, cmd.Stderr = e.log, e.log
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return cmd, nil
}

// daemonProc is a running daemon whose exit is watched, so a daemon that
// dies by itself (it must not) is told apart from one we killed.
type daemonProc struct {
	cmd  *exec.Cmd
	done chan error
}

func (e *env) startDaemon(extra ...string) (*daemonProc, error) {
	cmd, err := e.startEnv(extra, "run")
	if err != nil {
		return nil, err
	}
	p := &daemonProc{cmd: cmd, done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait() }()
	return p, nil
}

// exited reports how the daemon ended if it already did by itself.
func (p *daemonProc) exited() (bool, error) {
	select {
	case err := <-p.done:
		if err == nil {
			err = errors.New("exit status 0")
		}
		p.done <- err
		return true, err
	default:
		return false, nil
	}
}

// kill SIGKILLs the daemon; it fails if the daemon had already stopped by
// itself.
func (p *daemonProc) kill() error {
	if gone, err := p.exited(); gone {
		return fmt.Errorf("the daemon stopped by itself before the kill (%v)", err)
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
	return nil
}

// stop ends the daemon with SIGTERM and waits.
func (p *daemonProc) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	err := <-p.done
	p.done <- err
}

// lastLogLine is the daemon log's last line, to say why a daemon died.
func (e *env) lastLogLine() string {
	b, err := os.ReadFile(e.log.Name())
	if err != nil {
		return err.Error()
	}
	return lastLine(string(b))
}

// kill SIGKILLs a process (if it is still running) and reaps it.
func kill(cmd *exec.Cmd) {
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	_ = cmd.Wait()
}

// post calls the simulator's control API.
func (e *env) post(ctx context.Context, path string, body any, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.base+path, rd)
	if err != nil {
		return err
	}
	resp, err := e.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		return fmt.Errorf("POST %s: %s: %s", path, resp.Status, strings.TrimSpace(string(b)))
	}
	if out != nil {
		return json.NewDecoder(resp.Body).Decode(out)
	}
	return nil
}

func (e *env) ledgers(ctx context.Context) (chaos.Ledgers, error) {
	var l chaos.Ledgers
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.base+"/_sim/ledger", nil)
	if err != nil {
		return l, err
	}
	resp, err := e.http.Do(req)
	if err != nil {
		return l, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return l, fmt.Errorf("GET /_sim/ledger: %s", resp.Status)
	}
	return l, json.NewDecoder(resp.Body).Decode(&l)
}

// attempts reads our ledger straight from the database file (read-only).
func (e *env) attempts(ctx context.Context) ([]chaos.Attempt, error) {
	db, err := sql.Open("sqlite3", "file:"+e.dbPath()+"?mode=ro&_busy_timeout=10000")
	if err != nil {
		return nil, err
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `SELECT a.reference, a.charge_key, a.state, a.method_kind, a.amount, COALESCE(r.source, '')
 FROM charge_attempts a LEFT JOIN charge_runs r ON r.id = a.run_id ORDER BY a.id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var as []chaos.Attempt
	for rows.Next() {
		var a chaos.Attempt
		if err := rows.Scan(&a.Reference, &a.ChargeKey, &a.State, &a.MethodKind, &a.Amount, &a.Source); err != nil {
			return nil, err
		}
		as = append(as, a)
	}
	return as, rows.Err()
}

// liveWork counts what the daemon still has to finish: attempts not yet
// resolved, pending debits made before the finish began (baseline is the
// last attempt id then), and write-backs not yet done. Debits that retries
// start during the finish may stay pending: they are in flight, not lost.
func (e *env) liveWork(ctx context.Context, baseline int64) (int, error) {
	db, err := sql.Open("sqlite3", "file:"+e.dbPath()+"?mode=ro&_busy_timeout=10000")
	if err != nil {
		return 0, err
	}
	defer db.Close()
	var n, m int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM charge_attempts
 WHERE state IN ('created','sending','unknown','approved') OR (state = 'pending' AND id <= ?)`, baseline).Scan(&n); err != nil {
		return 0, err
	}
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM writeback_outbox WHERE status = 'pending'`).Scan(&m); err != nil {
		return 0, err
	}
	return n + m, nil
}

// lastAttempt is the newest attempt id.
func (e *env) lastAttempt(ctx context.Context) (int64, error) {
	db, err := sql.Open("sqlite3", "file:"+e.dbPath()+"?mode=ro&_busy_timeout=10000")
	if err != nil {
		return 0, err
	}
	defer db.Close()
	var id int64
	err = db.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM charge_attempts`).Scan(&id)
	return id, err
}

// addInvoices adds new due invoices for customers whose saved method is
// still active, so every nightly run has work. Cents are random: some
// decline by the simulators' cent triggers, as real ones would, and a hard
// decline retires the method; invoices for such a customer would only pile
// up unpaid in every run's skip list (a real customer pays them some other
// way), so they go to the customers still paying by saved method.
func (e *env) addInvoices(ctx context.Context, n int) error {
	custs := e.activeCustomers(ctx)
	rows := make([]chaos.NewInvoice, n)
	for i := range rows {
		rows[i] = chaos.NewInvoice{CustomerID: custs[e.rng.IntN(len(custs))],
			Total: money.Amount(1000 + e.rng.Int64N(20000))}
	}
	var ids []int64
	if err := e.post(ctx, "/_sim/invoices", rows, &ids); err != nil {
		return err
	}
	if e.invCust == nil {
		e.invCust = map[int64]int64{}
	}
	for i, id := range ids {
		e.invCust[id] = rows[i].CustomerID
	}
	e.newInv = append(e.newInv, ids...)
	return nil
}

// safety checks every backup's integrity and scans the database files,
// backups and the daemon's log for the test card and bank numbers.
func (e *env) safety(ctx context.Context, f *chaos.Figures) error {
	backups, err := store.Backups(filepath.Join(e.dir, "backups"), "splynx-"+e.addon+"-")
	if err != nil {
		return err
	}
	for _, b := range backups {
		f.Backups++
		if err := store.CheckFile(ctx, b); err != nil {
			f.BadBackups++
			f.Problems = append(f.Problems, fmt.Sprintf("backup %s: %v", b, err))
		}
	}
	db := e.dbPath()
	finds, n, err := chaos.ScanFiles([]string{db, db + "-wal", db + "-shm", filepath.Join(e.dir, "backups"), e.log.Name()}, chaos.Secrets())
	if err != nil {
		return err
	}
	// The 8-digit AU account number only in the database files: a log's
	// digits could hold it by chance.
	finds2, n2, err := chaos.ScanFiles([]string{db, db + "-wal", filepath.Join(e.dir, "backups")}, chaos.DatabaseSecrets())
	if err != nil {
		return err
	}
	f.Leaks, f.Scanned = append(finds, finds2...), n+n2
	return nil
}

// attach finishes a run whose checker stopped: the simulator at url still
// holds the ledgers, the work folder the database, log and clock offset.
func (e *env) attach(ctx context.Context, url string) (chaos.Figures, error) {
	e.base = url
	var err error
	if e.log, err = os.OpenFile(filepath.Join(e.dir, "daemon.log"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600); err != nil {
		return chaos.Figures{}, err
	}
	defer e.log.Close()
	if b, err := os.ReadFile(e.clockFile()); err == nil {
		if d, err := time.ParseDuration(strings.TrimSpace(string(b))); err == nil {
			e.offset = d
		}
	}
	e.out.Printf("attached to %s; finishing without faults", url)
	if err := e.finish(ctx); err != nil {
		return chaos.Figures{}, fmt.Errorf("finish: %w", err)
	}
	return e.check(ctx, e.o.Kills)
}

// activeCustomers are the seeded customers whose saved method is still
// active (read-only from the database; all seeded ones if none is or the
// file cannot be read), in seeding order so a seed replays.
func (e *env) activeCustomers(ctx context.Context) []int64 {
	db, err := sql.Open("sqlite3", "file:"+e.dbPath()+"?mode=ro&_busy_timeout=10000")
	if err != nil {
		return e.custs
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `SELECT customer_id FROM saved_methods WHERE status = 'active'`)
	if err != nil {
		return e.custs
	}
	defer rows.Close()
	active := map[int64]bool{}
	for rows.Next() {
		var id int64
		if rows.Scan(&id) == nil {
			active[id] = true
		}
	}
	var out []int64
	for _, c := range e.custs {
		if active[c] {
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		return e.custs
	}
	return out
}
