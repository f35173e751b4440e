package setup

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/splynx-pay/splynx-pay/gateways"
	"github.com/splynx-pay/splynx-pay/gateways/integrapay"
	"github.com/splynx-pay/splynx-pay/gateways/integrapay/integrapaysim"
	"github.com/splynx-pay/splynx-pay/gateways/ippay"
	"github.com/splynx-pay/splynx-pay/gateways/ippay/ippaysim"
	"github.com/splynx-pay/splynx-pay/internal/addon"
	"github.com/splynx-pay/splynx-pay/internal/clock"
	"github.com/splynx-pay/splynx-pay/internal/config"
	"github.com/splynx-pay/splynx-pay/splynx"
	"github.com/splynx-pay/splynx-pay/splynx/splynxsim"
	"github.com/splynx-pay/splynx-pay/store"
	"github.com/splynx-pay/splynx-pay/web"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

var (
	integraPayAddon = ForAddon(addon.IntegraPay)
	ippayAddon      = ForAddon(addon.IPpay)
)

const (
	testKey    = "doctor-key"
	testSecret = "doctor-secret-0001"
)

// t0 is the time both sides agree on unless a case skews Splynx's clock.
var t0 = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)

// world is a simulated Splynx and gateway for one test.
type world struct {
	sim      *splynxsim.Sim
	splynx   *httptest.Server
	gateway  *httptest.Server
	skew     time.Duration // Splynx's Date header minus t0
	dir      string
	ipaySim  *ippaysim.Sim
	integSim *integrapaysim.Sim
}

func newWorld(t *testing.T, a Addon, perms []splynxsim.Permission, ippayOpts ippaysim.Options) *world {
	t.Helper()
	w := &world{dir: t.TempDir()}
	w.sim = splynxsim.New(splynxsim.Options{Clock: clock.NewFake(t0)})
	w.sim.AddAPIKey(testKey, testSecret, perms...)
	cid := w.sim.AddCustomer(splynxsim.Customer{Login: "c1", Name: "First Customer", Status: "active", Category: "person", BillingType: "recurring"})
	w.sim.AddInvoice(splynxsim.Invoice{CustomerID: cid, DateCreated: t0, Total: 5500, Due: 5500, Status: "not_paid"})
	w.sim.AddProforma(splynxsim.Proforma{CustomerID: cid, DateCreated: t0, Total: 2000, Status: "not_paid"})
	w.splynx = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		// The doctor compares its clock with this header.
		rw.Header().Set("Date", t0.Add(w.skew).Format(http.TimeFormat))
		w.sim.Handler().ServeHTTP(rw, r)
	}))
	t.Cleanup(w.splynx.Close)
	switch a.Kind {
	case config.IntegraPay:
		w.integSim = integrapaysim.New(integrapaysim.Options{})
		w.gateway = httptest.NewServer(w.integSim.Handler())
	case config.IPpay:
		w.ipaySim = ippaysim.New(ippayOpts)
		w.ipaySim.AddTerminal("TESTTERMINAL", false)
		w.ipaySim.AddTerminal("TESTACHTERM", true)
		w.gateway = httptest.NewServer(w.ipaySim.Handler())
	}
	t.Cleanup(w.gateway.Close)
	return w
}

// completeConfig is a module config with every required setting, the
// payment method ids the seeded Splynx has, and the gateway at the sim.
func (w *world) completeConfig(a Addon) map[string]string {
	card := w.sim.AddPaymentMethod(splynxsim.PaymentMethod{Name: a.Title + " card", IsActive: true})
	bank := w.sim.AddPaymentMethod(splynxsim.PaymentMethod{Name: a.Title + " bank", IsActive: true})
	m := map[string]string{
		"payment_method_card": itoa(card),
		"payment_method_bank": itoa(bank),
	}
	switch a.Kind {
	case config.IntegraPay:
		m["integrapay_username"] = integrapaysim.DefaultUsername
		m["integrapay_password"] = integrapaysim.DefaultPassword
		m["integrapay_business_id"] = integrapaysim.DefaultBusinessID
		m["integrapay_auth_url"] = w.gateway.URL
		m["integrapay_api_url"] = w.gateway.URL
	case config.IPpay:
		m["ippay_terminal_id"] = "TESTTERMINAL"
		m["ippay_ach_terminal_id"] = "TESTACHTERM"
		m["ippay_url"] = w.gateway.URL + "/ippay"
	}
	return m
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func (w *world) client(t *testing.T, secret string) *splynx.Client {
	t.Helper()
	c, err := splynx.New(splynx.Config{BaseURL: w.splynx.URL, APIKey: testKey, APISecret: secret, Timeout: 5 * time.Second, MaxRetries: 1},
		splynx.WithClock(w.sim.Clock()))
	if err != nil {
		t.Fatalf("splynx.New: %v", err)
	}
	return c
}

// gatewayFor builds the real gateway client from the settings, as the
// daemon's cmd mains do.
func gatewayFor(a Addon) func(ctx context.Context, s config.Settings) (gateways.Gateway, error) {
	return func(ctx context.Context, s config.Settings) (gateways.Gateway, error) {
		switch a.Kind {
		case config.IntegraPay:
			return integrapay.New(integrapay.Config{AuthURL: s.IntegraPayAuthURL, APIURL: s.IntegraPayAPIURL,
				Username: s.IntegraPayUsername, Password: s.IntegraPayPassword, BusinessID: s.IntegraPayBusinessID, Timeout: 5 * time.Second})
		default:
			return ippay.New(ippay.Config{URL: s.IPpayURL, CardTerminalID: s.IPpayTerminalID, ACHTerminalID: s.IPpayACHTerminalID,
				SEC: s.IPpayACHSEC, SettleDays: s.IPpayACHSettleDays, Timeout: 5 * time.Second})
		}
	}
}

// allPerms grants exactly what Permissions() tells the admin to tick,
// minus the drop list ("controller action").
func allPerms(drop ...string) []splynxsim.Permission {
	var out []splynxsim.Permission
	for _, p := range Permissions() {
		var acts []string
		for _, a := range p.Actions {
			skip := false
			for _, d := range drop {
				if d == p.Controller+" "+a {
					skip = true
				}
			}
			if !skip {
				acts = append(acts, a)
			}
		}
		if len(acts) > 0 {
			out = append(out, splynxsim.Permission{Controller: p.Controller, Actions: acts})
		}
	}
	return out
}

// golden compares got with testdata/<name>.golden (rewritten with -update).
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run go test -update): %v", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s:\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func TestInstallAddonCreatesThenChangesNothing(t *testing.T) {
	for _, a := range []Addon{integraPayAddon, ippayAddon} {
		t.Run(a.Name, func(t *testing.T) {
			w := newWorld(t, a, allPerms(), ippaysim.Options{})
			// A Splynx with its stock payment methods and the module
			// registered but never configured.
			w.sim.AddPaymentMethod(splynxsim.PaymentMethod{Name: "Cash", IsActive: true})
			w.sim.AddPaymentMethod(splynxsim.PaymentMethod{Name: "Bank transfer", IsActive: true})
			w.sim.SetModuleConfig(a.Module, 0, map[string]string{})
			c := w.client(t, testSecret)
			ctx := context.Background()

			var first bytes.Buffer
			res, err := InstallAddon(ctx, c, a, &first)
			if err != nil {
				t.Fatalf("first run: %v", err)
			}
			// 2 payment methods, the module config, 2 additional fields.
			if len(res.Created) != 5 {
				t.Errorf("first run created %d things, want 5: %q", len(res.Created), res.Created)
			}
			methods := map[string]int64{}
			for _, m := range w.sim.PaymentMethods() {
				methods[m.Name] = m.ID
			}
			cfg := w.sim.ModuleConfig(a.Module, 0)
			for _, pm := range a.paymentMethods() {
				id, ok := methods[pm.Name]
				if !ok {
					t.Errorf("payment method %q not created", pm.Name)
				}
				if cfg[pm.Setting] != itoa(id) {
					t.Errorf("module setting %s = %q, want %d", pm.Setting, cfg[pm.Setting], id)
				}
			}
			if got, want := cfg["autopay_attribute"], a.short()+"_autopay"; got != want {
				t.Errorf("autopay_attribute = %q, want %q", got, want)
			}
			if cfg["retry_days"] != "3,7" || cfg["max_attempts"] != "3" {
				t.Errorf("defaults not written: retry_days=%q max_attempts=%q", cfg["retry_days"], cfg["max_attempts"])
			}
			if _, err := config.ParseSettingsFor(a.Kind, cfg, nil); err != nil {
				t.Errorf("written module config does not parse: %v", err)
			}
			fields := map[string]bool{}
			for _, f := range w.sim.AdditionalFields("customers") {
				fields[f.Name] = true
			}
			for _, af := range a.additionalFields() {
				if !fields[af.Field.Name] {
					t.Errorf("additional field %s not created", af.Field.Name)
				}
			}
			golden(t, "install-"+a.short()+"-first", first.String())

			before := len(w.sim.Requests())
			var second bytes.Buffer
			res, err = InstallAddon(ctx, c, a, &second)
			if err != nil {
				t.Fatalf("second run: %v", err)
			}
			if len(res.Created) != 0 {
				t.Errorf("second run created %q", res.Created)
			}
			for _, r := range w.sim.Requests()[before:] {
				if r.Method != http.MethodGet && r.Method != http.MethodHead && r.Path != "admin/auth/tokens" {
					t.Errorf("second run sent %s %s", r.Method, r.Path)
				}
			}
			golden(t, "install-"+a.short()+"-second", second.String())
		})
	}
}

func TestInstallAddonWithoutModule(t *testing.T) {
	a := ippayAddon
	w := newWorld(t, a, nil, ippaysim.Options{})
	var out bytes.Buffer
	res, err := InstallAddon(context.Background(), w.client(t, testSecret), a, &out)
	var missing ErrModuleMissing
	if !errors.As(err, &missing) || missing.Module != a.Module {
		t.Fatalf("err = %v, want ErrModuleMissing for %s", err, a.Module)
	}
	// What does not need the module is still created.
	if len(res.Created) != 4 {
		t.Errorf("created %q, want the 2 payment methods and 2 fields", res.Created)
	}
	if w.sim.ModuleConfig(a.Module, 0) != nil {
		t.Errorf("module config appeared")
	}
	want := "missing  module splynx_ippay_addon: add it in Config → Integrations → Modules list, then run install-addon again\n"
	if !strings.Contains(out.String(), want) {
		t.Errorf("output lacks %q:\n%s", want, out.String())
	}
}

func TestInstallAddonKeepsAdminChoices(t *testing.T) {
	a := integraPayAddon
	w := newWorld(t, a, nil, ippaysim.Options{})
	chosen := w.sim.AddPaymentMethod(splynxsim.PaymentMethod{Name: "Direct debit", IsActive: true})
	w.sim.SetModuleConfig(a.Module, 0, map[string]string{"payment_method_bank": itoa(chosen), "retry_days": "2,4,6"})
	var out bytes.Buffer
	if _, err := InstallAddon(context.Background(), w.client(t, testSecret), a, &out); err != nil {
		t.Fatal(err)
	}
	cfg := w.sim.ModuleConfig(a.Module, 0)
	if cfg["payment_method_bank"] != itoa(chosen) || cfg["retry_days"] != "2,4,6" {
		t.Errorf("admin's settings changed: payment_method_bank=%q retry_days=%q", cfg["payment_method_bank"], cfg["retry_days"])
	}
	for _, m := range w.sim.PaymentMethods() {
		if m.Name == a.Title+" direct debit" {
			t.Errorf("created %q although payment_method_bank names a method", m.Name)
		}
	}
}

func TestDoctor(t *testing.T) {
	type tc struct {
		name   string
		addon  Addon
		perms  []splynxsim.Permission
		secret string
		ippay  ippaysim.Options
		edit   func(w *world, cfg map[string]string) // changes the module config
		skew   time.Duration
		noEnv  bool // the env file was not loaded: no bootstrap at all
		daemon bool // the add-on's web server is up (else nothing listens)
		ok     bool
		// Security: http URLs without SPLYNXPAY_ALLOW_HTTP; the env file
		// and database readable by all; the admin token file's content
		// ("-": no file); the token the daemon holds (default: the same).
		httpRefused bool
		openModes   bool
		token       string
		daemonToken string
	}
	cases := []tc{
		{name: "integrapay-healthy", addon: integraPayAddon, perms: allPerms(), ok: true},
		{name: "ippay-healthy", addon: ippayAddon, perms: allPerms(), ok: true},
		{name: "missing-permission", addon: integraPayAddon, perms: allPerms(`api\admin\finance\Invoices index`)},
		{name: "wrong-secret", addon: integraPayAddon, perms: allPerms(), secret: "not-the-secret"},
		{name: "module-config-missing-setting", addon: integraPayAddon, perms: allPerms(),
			edit: func(_ *world, cfg map[string]string) { delete(cfg, "integrapay_business_id") }},
		{name: "module-config-unknown-payment-method", addon: ippayAddon, perms: allPerms(),
			edit: func(_ *world, cfg map[string]string) { cfg["payment_method_card"] = "999" }},
		{name: "integrapay-wrong-password", addon: integraPayAddon, perms: allPerms(),
			edit: func(_ *world, cfg map[string]string) { cfg["integrapay_password"] = "wrong-password" }},
		{name: "ippay-drops-connection", addon: ippayAddon, perms: allPerms(),
			ippay: ippaysim.Options{AllowIPs: []string{"192.0.2.10"}}},
		{name: "ippay-refused", addon: ippayAddon, perms: allPerms(),
			edit: func(w *world, cfg map[string]string) { cfg["ippay_url"] = closedURL(t) + "/ippay" }},
		{name: "clock-skew", addon: ippayAddon, perms: allPerms(), skew: 5*time.Minute + 3*time.Second, ok: true},
		{name: "env-not-loaded", addon: integraPayAddon, perms: allPerms(), noEnv: true},
		{name: "daemon-running", addon: integraPayAddon, perms: allPerms(), daemon: true, ok: true},
		{name: "http-refused", addon: integraPayAddon, perms: allPerms(), httpRefused: true},
		{name: "files-open-to-all", addon: integraPayAddon, perms: allPerms(), openModes: true, ok: true},
		{name: "admin-token-missing", addon: integraPayAddon, perms: allPerms(), token: "-"},
		{name: "admin-token-empty", addon: integraPayAddon, perms: allPerms(), token: "\n"},
		{name: "daemon-other-token", addon: integraPayAddon, perms: allPerms(), daemon: true, daemonToken: "another-token-0123456789abcdef"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld(t, c.addon, c.perms, c.ippay)
			w.skew = c.skew
			cfg := w.completeConfig(c.addon)
			if c.edit != nil {
				c.edit(w, cfg)
			}
			w.sim.SetModuleConfig(c.addon.Module, 0, cfg)
			secret := testSecret
			if c.secret != "" {
				secret = c.secret
			}
			dbPath := filepath.Join(w.dir, c.addon.Name+".db")
			// Nothing listens at the daemon's address unless the case
			// starts the real web server there.
			tokenFile := filepath.Join(w.dir, "admin-token")
			token := c.token
			if token == "" {
				token = testAdminToken + "\n"
			}
			if token != "-" {
				writeMode(t, tokenFile, token, 0o640)
			}
			envFile := filepath.Join(w.dir, "env")
			envMode := os.FileMode(0o640)
			if c.openModes {
				envMode = 0o644
				writeMode(t, dbPath, "", 0o644) // an empty file is a new database
			}
			writeMode(t, envFile, "SPLYNXPAY_SPLYNX_URL="+w.splynx.URL+"\n", envMode)
			listen := strings.TrimPrefix(closedURL(t), "http://")
			if c.daemon {
				daemonFile := tokenFile
				if c.daemonToken != "" {
					daemonFile = filepath.Join(w.dir, "daemon-token")
					writeMode(t, daemonFile, c.daemonToken, 0o640)
				}
				listen = startWeb(t, c.addon, daemonFile)
			}
			boot := config.Bootstrap{SplynxURL: w.splynx.URL, SplynxAPIKey: testKey, SplynxAPISecret: secret,
				DBPath: dbPath, ListenAddr: listen, TimeZone: "UTC", SyncSchedule: "*/10 * * * *",
				ChargeSchedule: "0 5 * * *", SettleSchedule: "15 * * * *", FullSyncEvery: time.Hour, LogLevel: "info",
				AdminTokenFile: tokenFile, AllowHTTP: !c.httpRefused}
			if c.noEnv {
				boot = config.Bootstrap{DBPath: dbPath}
				boot.Fill(config.AddonDefaults{Package: c.addon.Name, ListenAddr: listen, TimeZone: "UTC"})
				boot.DBPath = dbPath
			}
			var out bytes.Buffer
			got := Doctor(context.Background(), DoctorDeps{
				Addon:   c.addon,
				Boot:    boot,
				Gateway: gatewayFor(c.addon),
				Clock:   clock.NewFake(t0),
				Timeout: 5 * time.Second,
				Root:    func() bool { return false },
				EnvFile: envFile,
			}, &out)
			if got != c.ok {
				t.Errorf("Doctor = %v, want %v", got, c.ok)
			}
			text := out.String()
			if strings.Contains(text, strings.TrimSpace(testAdminToken)) || (c.daemonToken != "" && strings.Contains(text, c.daemonToken)) {
				t.Errorf("the doctor shows an admin token:\n%s", text)
			}
			text = strings.ReplaceAll(text, w.splynx.URL, "<splynx>")
			text = strings.ReplaceAll(text, w.gateway.URL, "<gateway>")
			text = strings.ReplaceAll(text, w.dir, "<dir>")
			text = regexp.MustCompile(`127\.0\.0\.1:\d+`).ReplaceAllString(text, "<addr>")
			text = regexp.MustCompile(`passed in [0-9.]+(µs|ms|s)`).ReplaceAllString(text, "passed in <took>")
			golden(t, "doctor-"+c.name, text)
		})
	}
}

// startWeb serves the add-on's real web server (health from a store on a
// temporary database) and returns its address.
func startWeb(t *testing.T, a Addon, tokenFile string) string {
	t.Helper()
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "web.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	srv, err := web.New(web.Options{Addon: a.Name, Prefix: a.Prefix, Deps: web.Deps{DB: db, Clock: clock.NewFake(t0)}, AdminTokenFile: tokenFile,
		Health: func(ctx context.Context) web.Health {
			if err := db.Ping(ctx); err != nil {
				return web.Health{DB: "error", Problem: "database: ping failed"}
			}
			return web.Health{OK: true, DB: "ok", LastSyncAge: "4m0s"}
		}})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	return strings.TrimPrefix(hs.URL, "http://")
}

// testAdminToken is the admin token of the doctor's cases.
const testAdminToken = "doctor-admin-token-0123456789abcdef"

// writeMode writes a file with exactly the given mode (past the umask).
func writeMode(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

// closedURL is an address nothing listens on.
func closedURL(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.NotFoundHandler())
	u := srv.URL
	srv.Close()
	return u
}

func TestDoctorDatabase(t *testing.T) {
	a := ippayAddon
	dir := t.TempDir()
	path := filepath.Join(dir, "x.db")
	run := func(root bool) string {
		var out bytes.Buffer
		checkDatabase(context.Background(), &report{w: &out}, DoctorDeps{Addon: a, Boot: config.Bootstrap{DBPath: path},
			Timeout: 5 * time.Second, Root: func() bool { return root }})
		return strings.ReplaceAll(out.String(), dir, "<dir>")
	}
	cases := []struct {
		name, want string
		root       bool
		prepare    func()
	}{
		{name: "not created", want: "OK   database: <dir>/x.db not created yet; <dir> is writable\n"},
		{name: "not created, root", root: true,
			want: "WARN database: <dir>/x.db does not exist yet — fix: start the service (systemctl start splynx-ippay), or run splynx-ippay-admin sync\n"},
		{name: "writable", prepare: func() { os.WriteFile(path, nil, 0o640) },
			want: "OK   database: <dir>/x.db is writable\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.prepare != nil {
				c.prepare()
			}
			if got := run(c.root); got != c.want {
				t.Errorf("got  %q\nwant %q", got, c.want)
			}
		})
	}
	t.Run("read-only", func(t *testing.T) {
		if os.Geteuid() == 0 {
			t.Skip("root writes read-only files")
		}
		os.Chmod(path, 0o440)
		defer os.Chmod(path, 0o640)
		if got := run(false); !strings.HasPrefix(got, "FAIL database: <dir>/x.db is read-only for this user") {
			t.Errorf("got %q", got)
		}
	})
}

// The permissions an admin is told to tick must cover every read the
// doctor tries; otherwise a correctly set up key fails the doctor.
func TestPermissionsCoverProbes(t *testing.T) {
	granted := map[string]bool{}
	for _, p := range Permissions() {
		for _, a := range p.Actions {
			granted[p.Controller+" "+a] = true
		}
	}
	for _, p := range probes() {
		if !granted[p.controller+" "+p.action] {
			t.Errorf("doctor probes %s %s, which Permissions() does not list", p.controller, p.action)
		}
	}
}

// Every setting the daemon reads must be documented in the env file the
// package installs, commented out.
func TestEnvTemplatesListEverySetting(t *testing.T) {
	var ref bytes.Buffer
	config.Reference(&ref)
	bootVars := regexp.MustCompile("`("+config.EnvPrefix+`_[A-Z_]+)`+"`").FindAllStringSubmatch(ref.String(), -1)
	if len(bootVars) < 5 {
		t.Fatalf("config.Reference lists %d variables; the parser needs updating", len(bootVars))
	}
	for _, a := range []Addon{integraPayAddon, ippayAddon} {
		path := filepath.Join("..", "..", "deploy", a.Name+".env")
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		text := string(b)
		if regexp.MustCompile(`(?m)^\s*SPLYNXPAY_`).MatchString(text) {
			t.Errorf("%s sets a variable; every setting must stay commented", path)
		}
		for _, v := range bootVars {
			if !strings.Contains(text, "#"+v[1]+"=") {
				t.Errorf("%s does not mention %s", path, v[1])
			}
		}
		for _, sp := range config.SpecsFor(a.Kind) {
			name := config.SettingEnvPrefix + strings.ToUpper(sp.Key)
			if !strings.Contains(text, "#"+name+"=") {
				t.Errorf("%s does not mention %s", path, name)
			}
		}
	}
}

// README.md carries the install guide verbatim between markers, so what an
// operator reads on GitHub and in /usr/share/doc is the same text.
func TestReadmeCarriesInstallGuide(t *testing.T) {
	guide, err := os.ReadFile(filepath.Join("..", "..", "deploy", "INSTALL.md"))
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(readme), "<!-- begin deploy/INSTALL.md -->\n")
	section, _, ok2 := strings.Cut(rest, "<!-- end deploy/INSTALL.md -->")
	if !ok || !ok2 {
		t.Fatal("README.md has no begin/end deploy/INSTALL.md markers")
	}
	if strings.TrimSpace(section) != strings.TrimSpace(string(guide)) {
		t.Error("README.md's install section differs from deploy/INSTALL.md: copy the file between the markers")
	}
}

// The install guide repeats the permission list and the entry points; keep
// it in step with what install-addon prints.
func TestInstallGuideMatches(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "deploy", "INSTALL.md"))
	if err != nil {
		t.Fatal(err)
	}
	guide := string(b)
	for _, p := range Permissions() {
		row := "| `" + p.Controller + "` | " + strings.Join(p.Actions, ", ") + " |"
		if !strings.Contains(guide, row) {
			t.Errorf("INSTALL.md lacks the row %s", row)
		}
	}
	for _, e := range integraPayAddon.EntryPoints() {
		if !strings.Contains(guide, "| `"+e.Name+"` | "+e.Place+" | "+e.Type+" |") || !strings.Contains(guide, "`"+e.URL+"`") {
			t.Errorf("INSTALL.md lacks entry point %s (%s %s %s)", e.Name, e.Place, e.Type, e.URL)
		}
	}
}
