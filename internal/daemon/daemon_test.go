package daemon

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/splynx-pay/splynx-pay/internal/addon"
	"github.com/splynx-pay/splynx-pay/internal/config"
	"github.com/splynx-pay/splynx-pay/internal/demo"
)

// testAddon is splynx-integrapay listening on any free port.
var testAddon = Addon{Identity: anyPort(addon.IntegraPay), Gateway: integraPayGateway}

func anyPort(id addon.Identity) addon.Identity {
	id.ListenAddr = "127.0.0.1:0"
	return id
}

// syncBuffer is a writer the daemon's goroutines and the test share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startSims serves seeded simulators and returns them with their URLs.
func startSims(t *testing.T, customers, invoices int) (*demo.Sims, demo.URLs) {
	t.Helper()
	sims := demo.NewSims(demo.SimConfig{Seed: 7, Customers: customers, Invoices: invoices, Proformas: customers / 10,
		APIKey: "test-key", APISecret: "test-secret-value", RealTime: true})
	srv := httptest.NewServer(sims.Handler())
	t.Cleanup(srv.Close)
	t.Cleanup(sims.Close)
	u := demo.SimURLs(srv.URL)
	sims.Configure(u)
	return sims, u
}

// setEnv clears every SPLYNXPAY_ variable of the test process and sets vals.
func setEnv(t *testing.T, vals map[string]string) {
	t.Helper()
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "SPLYNXPAY_") || k == "NOTIFY_SOCKET" || k == "WATCHDOG_USEC" {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
	for k, v := range vals {
		t.Setenv(k, v)
	}
}

// testAdminToken is the content of goodEnv's admin token file.
const testAdminToken = "daemon-admin-token-0123456789abcdef"

func goodEnv(t *testing.T, splynxURL string) map[string]string {
	tokenFile := filepath.Join(t.TempDir(), "admin-token")
	if err := os.WriteFile(tokenFile, []byte(testAdminToken+"\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	return map[string]string{
		"SPLYNXPAY_ADMIN_TOKEN_FILE":  tokenFile,
		"SPLYNXPAY_SPLYNX_URL":        splynxURL,
		"SPLYNXPAY_SPLYNX_API_KEY":    "test-key",
		"SPLYNXPAY_SPLYNX_API_SECRET": "test-secret-value",
		"SPLYNXPAY_DB_PATH":           filepath.Join(t.TempDir(), "pay.db"),
		"SPLYNXPAY_LISTEN_ADDR":       "127.0.0.1:0",
		"SPLYNXPAY_ALLOW_HTTP":        "true", // the simulators answer http on loopback
	}
}

func runMain(ctx context.Context, args ...string) (code int, stdout, stderr string) {
	return runAddon(ctx, testAddon, args...)
}

func runAddon(ctx context.Context, a Addon, args ...string) (code int, stdout, stderr string) {
	var out, errb syncBuffer
	code = MainContext(ctx, a, args, &out, &errb)
	return code, out.String(), errb.String()
}

// Every configuration mistake stops the command with exit status 78 and
// exactly one line naming the setting.
func TestConfigurationErrors(t *testing.T) {
	_, u := startSims(t, 5, 10)
	dir := t.TempDir()
	notDir := filepath.Join(dir, "file")
	os.WriteFile(notDir, []byte("x"), 0o600)
	cases := []struct {
		name string
		env  map[string]string
		want string
		cmd  string // default sync
	}{
		{"daemon with wrong API secret", map[string]string{"SPLYNXPAY_SPLYNX_API_SECRET": "wrong-secret"},
			"splynx-integrapay run: config: SPLYNXPAY_SPLYNX_API_KEY/SPLYNXPAY_SPLYNX_API_SECRET: Splynx rejected the API key and secret (401) at " + u.Splynx, "run"},
		{"missing URL", map[string]string{"SPLYNXPAY_SPLYNX_URL": ""},
			"splynx-integrapay sync: config: SPLYNXPAY_SPLYNX_URL: not set; the Splynx base URL, e.g. https://splynx.example.com", ""},
		{"bad schedule", map[string]string{"SPLYNXPAY_SYNC_SCHEDULE": "*/10 * * *"},
			`splynx-integrapay sync: config: SPLYNXPAY_SYNC_SCHEDULE="*/10 * * *": not a cron schedule (minute hour day-of-month month day-of-week): expected exactly 5 fields, found 4: [*/10 * * *]`, ""},
		{"unreadable database path", map[string]string{"SPLYNXPAY_DB_PATH": filepath.Join(notDir, "pay.db")},
			`splynx-integrapay sync: config: SPLYNXPAY_DB_PATH="` + filepath.Join(notDir, "pay.db") + `": cannot read: not a directory`, ""},
		{"database directory missing", map[string]string{"SPLYNXPAY_DB_PATH": filepath.Join(dir, "none", "pay.db")},
			`splynx-integrapay sync: config: SPLYNXPAY_DB_PATH="` + filepath.Join(dir, "none", "pay.db") + `": directory ` + filepath.Join(dir, "none") + `: no such file or directory`, ""},
		{"bad duration", map[string]string{"SPLYNXPAY_FULL_SYNC_EVERY": "daily"},
			`splynx-integrapay sync: config: SPLYNXPAY_FULL_SYNC_EVERY="daily": want a duration such as 24h or 90m`, ""},
		// https only, unless the development setting says otherwise.
		{"http Splynx URL", map[string]string{"SPLYNXPAY_ALLOW_HTTP": "false"},
			`splynx-integrapay run: config: SPLYNXPAY_SPLYNX_URL="` + u.Splynx + `": must be an https:// URL (set SPLYNXPAY_ALLOW_HTTP=true for development only)`, "run"},
		{"http gateway URL override", map[string]string{"SPLYNXPAY_ALLOW_HTTP": "false", "SPLYNXPAY_SPLYNX_URL": "https://127.0.0.1:1",
			"SPLYNXPAY_SETTING_INTEGRAPAY_API_URL": "http://gateway.example"},
			`splynx-integrapay run: config: SPLYNXPAY_SETTING_INTEGRAPAY_API_URL="http://gateway.example": must be an https:// URL (set SPLYNXPAY_ALLOW_HTTP=true for development only)`, "run"},
		{"wrong API secret", map[string]string{"SPLYNXPAY_SPLYNX_API_SECRET": "wrong-secret"},
			"splynx-integrapay sync: config: SPLYNXPAY_SPLYNX_API_KEY/SPLYNXPAY_SPLYNX_API_SECRET: Splynx rejected the API key and secret (401) at " + u.Splynx, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := goodEnv(t, u.Splynx)
			for k, v := range tc.env {
				env[k] = v
			}
			setEnv(t, env)
			cmd := tc.cmd
			if cmd == "" {
				cmd = "sync"
			}
			// A `run` that does not refuse would serve until stopped.
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			code, _, stderr := runMain(ctx, cmd)
			if code != ExitConfig {
				t.Errorf("exit %d, want %d", code, ExitConfig)
			}
			if got := lastLine(stderr); got != tc.want {
				t.Fatalf("stderr:\n  %s\nwant:\n  %s", got, tc.want)
			}
			if strings.Contains(stderr, "wrong-secret") || strings.Contains(stderr, "test-secret-value") {
				t.Fatal("secret in the message")
			}
		})
	}
}

func TestSyncCommandMirrorsSplynx(t *testing.T) {
	sims, u := startSims(t, 40, 200)
	setEnv(t, goodEnv(t, u.Splynx))
	code, stdout, stderr := runMain(context.Background(), "sync")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	c := sims.Splynx.Counts()
	if !strings.HasPrefix(stdout, "full sync: ") || !strings.Contains(stdout, " customers") {
		t.Fatalf("stdout %q", stdout)
	}
	if want := "full sync: " + itoa(c.Customers) + " customers"; !strings.HasPrefix(stdout, want) {
		t.Fatalf("stdout %q, want prefix %q", stdout, want)
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// `config` shows every value with its source and never a secret.
func TestConfigCommandRedactsSecrets(t *testing.T) {
	_, u := startSims(t, 5, 10)
	env := goodEnv(t, u.Splynx)
	env["SPLYNXPAY_SETTING_AUTO_CHARGE"] = "1"
	setEnv(t, env)
	code, stdout, stderr := runMain(context.Background(), "config")
	if code != 0 {
		t.Fatalf("exit %d: %s\n%s", code, stderr, stdout)
	}
	for _, secret := range []string{"test-secret-value", "sim-password-0001", testAdminToken} {
		if strings.Contains(stdout+stderr, secret) {
			t.Errorf("config output shows secret %q:\n%s", secret, stdout)
		}
	}
	lines := map[string]string{}
	for _, l := range strings.Split(stdout, "\n") {
		f := strings.Fields(l)
		if len(f) >= 3 {
			lines[f[0]] = strings.Join(f[1:], " ")
		}
	}
	checks := map[string]string{
		"SPLYNXPAY_SPLYNX_API_SECRET": "<redacted> env",
		"SPLYNXPAY_SPLYNX_URL":        u.Splynx + " env",
		"SPLYNXPAY_TIMEZONE":          "Australia/Sydney default",
		"integrapay_password":         "<redacted> splynx",
		"integrapay_username":         "splynx-sim splynx",
		"auto_charge":                 "1 env",
		"fee_transaction_category":    "0 default",
	}
	for k, want := range checks {
		if lines[k] != want {
			t.Errorf("%s: %q, want %q", k, lines[k], want)
		}
	}

	// Unusable settings end the dump with their one line.
	env["SPLYNXPAY_SETTING_MAX_ATTEMPTS"] = "lots"
	setEnv(t, env)
	code, _, stderr = runMain(context.Background(), "config")
	if code != ExitConfig || lastLine(stderr) != `splynx-integrapay config: config: SPLYNXPAY_SETTING_MAX_ATTEMPTS="lots": want a whole number from 1 to 20` {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
}

func TestHelpVersionUnknown(t *testing.T) {
	setEnv(t, nil)
	code, out, _ := runMain(context.Background(), "--help")
	if code != 0 || !strings.Contains(out, "Usage: splynx-integrapay <command>") {
		t.Fatalf("help: %d %q", code, out)
	}
	for _, c := range []string{"run", "sync", "demo", "migrate", "config", "version"} {
		if !strings.Contains(out, "\n  "+c+" ") {
			t.Errorf("help lacks %s", c)
		}
	}
	code, out, _ = runMain(context.Background(), "version")
	if code != 0 || !strings.HasPrefix(out, "splynx-integrapay ") {
		t.Fatalf("version: %d %q", code, out)
	}
	// A command's flags show without any configuration.
	code, _, errOut := runMain(context.Background(), "sync", "--help")
	if code != 0 || !strings.Contains(errOut, "-full") {
		t.Fatalf("sync --help: %d %q", code, errOut)
	}
	code, _, errOut = runMain(context.Background(), "frobnicate")
	if code != 2 || !strings.Contains(errOut, `unknown command "frobnicate"`) {
		t.Fatalf("unknown: %d %q", code, errOut)
	}
}

func TestMigrateNeedsOnlyTheDatabase(t *testing.T) {
	env := map[string]string{"SPLYNXPAY_DB_PATH": filepath.Join(t.TempDir(), "m.db")}
	setEnv(t, env)
	code, out, errOut := runMain(context.Background(), "migrate")
	if code != 0 || !strings.Contains(out, "at schema version") {
		t.Fatalf("migrate: %d %q %q", code, out, errOut)
	}
}

// The daemon end to end: systemd notification, first sync at start-up,
// health, a settings edit in Splynx noticed by the next cycle, graceful
// stop.
func TestRunDaemon(t *testing.T) {
	sims, u := startSims(t, 30, 150)
	sock := filepath.Join(t.TempDir(), "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	msgs := make(chan string, 10000)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, _, err := conn.ReadFromUnix(buf)
			if err != nil {
				close(msgs)
				return
			}
			msgs <- string(buf[:n])
		}
	}()
	env := goodEnv(t, u.Splynx)
	env["SPLYNXPAY_SYNC_SCHEDULE"] = "@every 1s"
	env["NOTIFY_SOCKET"] = sock
	env["WATCHDOG_USEC"] = "200000"
	setEnv(t, env)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stderr syncBuffer
	done := make(chan int, 1)
	go func() { done <- MainContext(ctx, testAddon, []string{"run"}, io.Discard, &stderr) }()

	var addr string
	wait := time.After(20 * time.Second)
	sawWatchdog := false
	for addr == "" || !sawWatchdog {
		select {
		case m := <-msgs:
			if strings.HasPrefix(m, "READY=1") {
				_, a, _ := strings.Cut(m, "STATUS=serving on ")
				addr = strings.TrimSpace(a)
			}
			if m == "WATCHDOG=1" {
				sawWatchdog = true
			}
		case code := <-done:
			t.Fatalf("daemon exited %d: %s", code, stderr.String())
		case <-wait:
			t.Fatalf("no READY/WATCHDOG (addr %q): %s", addr, stderr.String())
		}
	}

	var h struct {
		OK       bool      `json:"ok"`
		DB       string    `json:"db"`
		LastSync time.Time `json:"last_sync"`
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/integrapay/healthz")
		if err != nil {
			t.Fatal(err)
		}
		json.NewDecoder(resp.Body).Decode(&h)
		resp.Body.Close()
		if !h.LastSync.IsZero() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no sync reported by /healthz: %+v\n%s", h, stderr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !h.OK || h.DB != "ok" {
		t.Fatalf("health %+v", h)
	}
	// Straight to the daemon from loopback is no credential; the admin
	// token file's content is.
	status := func(token string) (int, []byte) {
		req, _ := http.NewRequest("GET", "http://"+addr+"/integrapay/status", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	for _, tok := range []string{"", "wrong-token-0123456789abcdef"} {
		if code, _ := status(tok); code != http.StatusForbidden && code != http.StatusUnauthorized {
			t.Fatalf("status page from loopback with token %q: %d, want 401/403", tok, code)
		}
	}
	code, page := status(testAdminToken)
	if code != http.StatusOK {
		t.Fatalf("status page with the admin token: %d %s", code, page)
	}
	if strings.Contains(string(page), testAdminToken) {
		t.Error("the status page shows the admin token")
	}
	if want := `<td>customers</td><td class="num">` + itoa(sims.Splynx.Counts().Customers) + `</td>`; !strings.Contains(string(page), want) {
		t.Fatalf("status page lacks %s", want)
	}

	cfg := demo.ModuleConfig(config.IntegraPay, u)
	cfg["max_attempts"] = "5"
	sims.Splynx.SetModuleConfig(demo.IntegraPayModule, 0, cfg)
	for !logged(stderr.String(), `"msg":"settings changed"`, `"keys":["max_attempts"]`) {
		if time.Now().After(deadline.Add(10 * time.Second)) {
			t.Fatalf("settings change not logged:\n%s", stderr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}

	stopDaemon(t, cancel, done, &stderr)
	stopping, syncStatus := false, false
	for len(msgs) > 0 {
		m := <-msgs
		stopping = stopping || strings.HasPrefix(m, "STOPPING=1")
		syncStatus = syncStatus || strings.HasPrefix(m, "STATUS=serving on "+addr+"; last sync ")
	}
	if !stopping || !syncStatus {
		t.Errorf("STOPPING=1 sent: %v; sync STATUS sent: %v", stopping, syncStatus)
	}
	for _, secret := range []string{"test-secret-value", "sim-password-0001", testAdminToken} {
		if strings.Contains(stderr.String(), secret) {
			t.Errorf("a secret reached the log: %q", secret)
		}
	}
}

// lastLine is the final line of a command's stderr: the one-line error
// after any log lines.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

// logged reports whether one log line contains every part.
func logged(log string, parts ...string) bool {
	for _, l := range strings.Split(log, "\n") {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(l, p)
		}
		if all {
			return true
		}
	}
	return false
}

// SIGTERM lets a running job finish (within the drain limit) instead of
// cutting it off, and starts no new runs.
func TestStopDrainsRunningJob(t *testing.T) {
	_, u := startSims(t, 5, 10)
	started := make(chan struct{}, 10)
	var finished, cancelled atomicCount
	saved := jobs
	jobs = append(append([]Job(nil), jobs...), Job{
		Name:     "slow-test-job",
		Schedule: func(config.Bootstrap) string { return "@every 1s" },
		Run: func(ctx context.Context, app *App) error {
			started <- struct{}{}
			select {
			case <-time.After(1500 * time.Millisecond):
				finished.add()
				return nil
			case <-ctx.Done():
				cancelled.add()
				return ctx.Err()
			}
		},
	})
	t.Cleanup(func() { jobs = saved })
	env := goodEnv(t, u.Splynx)
	env["SPLYNXPAY_SYNC_SCHEDULE"] = "@every 1h"
	setEnv(t, env)

	ctx, cancel := context.WithCancel(context.Background())
	var stderr syncBuffer
	done := make(chan int, 1)
	go func() { done <- MainContext(ctx, testAddon, []string{"run"}, io.Discard, &stderr) }()
	select {
	case <-started:
	case <-time.After(20 * time.Second):
		t.Fatalf("job never started: %s", stderr.String())
	}
	stopDaemon(t, cancel, done, &stderr) // SIGTERM while the job runs
	if finished.get() != 1 || cancelled.get() != 0 {
		t.Fatalf("job finished %d times, cancelled %d times; want it to finish once", finished.get(), cancelled.get())
	}
	if len(started) != 0 {
		t.Fatal("a new run started after SIGTERM")
	}
}

// stopDaemon cancels a daemon's context (SIGTERM) and waits up to 30 s
// for MainContext to return 0 on done.
func stopDaemon(t *testing.T, cancel context.CancelFunc, done <-chan int, stderr *syncBuffer) {
	t.Helper()
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("daemon did not stop")
	}
}

type atomicCount struct {
	mu sync.Mutex
	n  int
}

func (a *atomicCount) add() { a.mu.Lock(); a.n++; a.mu.Unlock() }
func (a *atomicCount) get() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.n
}

// The gateway client is reused while the settings stay the same and rebuilt
// when an admin edits them in Splynx; unusable settings give their line.
func TestGatewayFollowsSettings(t *testing.T) {
	sims, u := startSims(t, 5, 10)
	setEnv(t, goodEnv(t, u.Splynx))
	boot, err := config.LoadBootstrapFor(testAddon.Defaults())
	if err != nil {
		t.Fatal(err)
	}
	var errb syncBuffer
	app := &App{Addon: testAddon, Boot: boot, Clock: clockReal(), Stderr: &errb}
	app.Log = nopLogger()
	if app.Splynx, err = newSplynxClient(boot, app.Log, app.Clock); err != nil {
		t.Fatal(err)
	}
	app.Settings, app.Gateway = app.readSettings, app.gateway
	ctx := context.Background()
	g1, err := app.Gateway(ctx)
	if err != nil {
		t.Fatal(err)
	}
	g2, _ := app.Gateway(ctx)
	if g1 != g2 {
		t.Fatal("gateway rebuilt although nothing changed")
	}
	cfg := demo.ModuleConfig(config.IntegraPay, u)
	cfg["integrapay_business_id"] = "90130"
	sims.Splynx.SetModuleConfig(demo.IntegraPayModule, 0, cfg)
	g3, err := app.Gateway(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if g3 == g1 {
		t.Fatal("gateway kept after the business id changed")
	}
	cfg["integrapay_username"] = ""
	sims.Splynx.SetModuleConfig(demo.IntegraPayModule, 0, cfg)
	if _, err := app.Gateway(ctx); err == nil || !strings.HasPrefix(err.Error(), "config: integrapay_username: not set") {
		t.Fatalf("missing username: %v", err)
	}
}
