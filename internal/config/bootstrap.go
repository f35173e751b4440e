// Package config holds the two layers of configuration the add-ons read:
// Bootstrap, from the environment (systemd EnvironmentFile), which says how to
// reach Splynx and where to keep state; and Settings, the add-on's module
// config that a Splynx admin edits and the daemon re-reads every cycle.
//
// Every failure is a *Error naming the one setting at fault, so start-up
// fails with a single line an admin can act on.
package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	// The daemon runs on Splynx hosts and in containers that may lack
	// /usr/share/zoneinfo; TIMEZONE must still resolve.
	_ "time/tzdata"

	"github.com/kelseyhightower/envconfig"
	"github.com/robfig/cron/v3"
	"go.uber.org/zap/zapcore"
)

// EnvPrefix prefixes every bootstrap variable: SPLYNXPAY_SPLYNX_URL, ...
const EnvPrefix = "SPLYNXPAY"

// Bootstrap is what the daemon needs before it can talk to Splynx.
type Bootstrap struct {
	SplynxURL       string `envconfig:"SPLYNX_URL" desc:"Splynx base URL, e.g. https://splynx.example.com"`
	SplynxAPIKey    string `envconfig:"SPLYNX_API_KEY" desc:"the add-on's Splynx API key"`
	SplynxAPISecret string `envconfig:"SPLYNX_API_SECRET" desc:"the add-on's Splynx API secret" secret:"true"`
	DBPath          string `envconfig:"DB_PATH" desc:"SQLite database file" def:"/var/lib/<pkg>/<pkg>.db"`
	ListenAddr      string `envconfig:"LISTEN_ADDR" desc:"address of the web pages and /healthz (nginx proxies to it)" def:"127.0.0.1:8390 (integrapay), 127.0.0.1:8391 (ippay)"`
	SyncSchedule    string `envconfig:"SYNC_SCHEDULE" desc:"cron schedule of the Splynx mirror sync" def:"*/10 * * * *"`
	// FullSyncEvery is how old the last full pass may get before the next
	// sync is a full one (which notices records deleted in Splynx).
	FullSyncEvery  time.Duration `envconfig:"FULL_SYNC_EVERY" desc:"maximum age of the last full sync before the next sync is full (a safety net: deletions are found daily by counts per id range)" def:"168h"`
	ChargeSchedule string        `envconfig:"CHARGE_SCHEDULE" desc:"cron schedule of the nightly charge run (when auto_charge=1)" def:"CRON_TZ=<TIMEZONE> 0 5 * * *"`
	SettleSchedule string        `envconfig:"SETTLE_SCHEDULE" desc:"cron schedule of settlement polling, reconciliation, write-back and retries" def:"CRON_TZ=<TIMEZONE> 15 * * * *"`
	TimeZone       string        `envconfig:"TIMEZONE" desc:"time zone of schedules and business days" def:"Australia/Sydney (integrapay), America/New_York (ippay)"`
	LogLevel       string        `envconfig:"LOG_LEVEL" desc:"debug, info, warn or error" def:"info"`
	// AdminTokenFile holds the bearer token that admits a request made on
	// the server itself (doctor, an operator's curl) to the staff pages.
	AdminTokenFile string `envconfig:"ADMIN_TOKEN_FILE" desc:"file holding the bearer token of the staff pages for requests made on the server (doctor, curl); mode 0640 root:<pkg>" def:"/etc/<pkg>/admin-token"`
	// AllowHTTP admits http:// Splynx and gateway URLs: development only.
	AllowHTTP bool `envconfig:"ALLOW_HTTP" desc:"development only: accept http:// Splynx and gateway URLs (otherwise https is required)" def:"false"`

	// Source maps each variable name (SPLYNXPAY_...) to SourceEnv or
	// SourceDefault; filled by LoadBootstrapFor.
	Source map[string]string `ignored:"true"`
}

// AddonDefaults are the bootstrap defaults that differ between the add-ons.
type AddonDefaults struct {
	Package    string // "splynx-integrapay"
	ListenAddr string // "127.0.0.1:8390"
	TimeZone   string // "Australia/Sydney"
}

// The nightly charge runs at 05:00 local time. Australian and US DST
// changes happen between 01:00 and 03:00, where a wall-clock time can be
// skipped (spring forward: a 02:30 run would not happen at all) or occur
// twice (fall back: it would run twice). 05:00 exists exactly once on every
// day of the year in both countries, and debits submitted then still make
// the same-day bank file.
const (
	defaultSyncSchedule   = "*/10 * * * *"
	defaultChargeTime     = "0 5 * * *"
	defaultSettleTime     = "15 * * * *"
	defaultFullSyncEvery  = 7 * 24 * time.Hour
	defaultLogLevel       = "info"
	defaultDBPathTemplate = "/var/lib/%s/%s.db"
	defaultTokenTemplate  = "/etc/%s/admin-token"
)

// LoadBootstrap reads the SPLYNXPAY_* environment. Add-on specific defaults
// (database path, listen address, time zone, schedules) are filled in by
// Fill; use LoadBootstrapFor to do both.
func LoadBootstrap() (Bootstrap, error) {
	var b Bootstrap
	if err := envconfig.Process(EnvPrefix, &b); err != nil {
		var pe *envconfig.ParseError
		if errors.As(err, &pe) {
			reason := "cannot parse"
			if pe.TypeName == "time.Duration" {
				reason = "want a duration such as 24h or 90m"
			}
			return b, &Error{Setting: pe.KeyName, Value: pe.Value, Reason: reason}
		}
		return b, fmt.Errorf("config: %s", oneLine(err.Error()))
	}
	return b, nil
}

// LoadBootstrapFor reads the environment and fills the add-on's defaults.
func LoadBootstrapFor(d AddonDefaults) (Bootstrap, error) {
	b, err := LoadBootstrap()
	if err != nil {
		return b, err
	}
	b.Source = map[string]string{}
	for _, f := range bootstrapFields() {
		b.Source[f.env] = SourceDefault
		if _, ok := os.LookupEnv(f.env); ok {
			b.Source[f.env] = SourceEnv
		}
	}
	b.Fill(d)
	return b, nil
}

// Fill sets every empty field to its default for the add-on.
func (b *Bootstrap) Fill(d AddonDefaults) {
	if b.DBPath == "" && d.Package != "" {
		b.DBPath = fmt.Sprintf(defaultDBPathTemplate, d.Package, d.Package)
	}
	if b.AdminTokenFile == "" && d.Package != "" {
		b.AdminTokenFile = fmt.Sprintf(defaultTokenTemplate, d.Package)
	}
	if b.ListenAddr == "" {
		b.ListenAddr = d.ListenAddr
	}
	if b.TimeZone == "" {
		b.TimeZone = d.TimeZone
	}
	if b.SyncSchedule == "" {
		b.SyncSchedule = defaultSyncSchedule
	}
	if b.FullSyncEvery == 0 {
		b.FullSyncEvery = defaultFullSyncEvery
	}
	if b.ChargeSchedule == "" {
		b.ChargeSchedule = withTZ(b.TimeZone, defaultChargeTime)
	}
	if b.SettleSchedule == "" {
		b.SettleSchedule = withTZ(b.TimeZone, defaultSettleTime)
	}
	if b.LogLevel == "" {
		b.LogLevel = defaultLogLevel
	}
}

func withTZ(tz, spec string) string {
	if tz == "" {
		return spec
	}
	return "CRON_TZ=" + tz + " " + spec
}

// Error is a configuration error naming the setting at fault. Its message
// is one line and never contains a secret value.
type Error struct {
	Setting string // "SPLYNXPAY_SYNC_SCHEDULE" or a module key "integrapay_password"
	Value   string // shown quoted unless empty; secrets are never put here
	Reason  string
}

func (e *Error) Error() string {
	if e.Value != "" {
		return fmt.Sprintf("config: %s=%q: %s", e.Setting, e.Value, e.Reason)
	}
	return fmt.Sprintf("config: %s: %s", e.Setting, e.Reason)
}

func envName(key string) string { return EnvPrefix + "_" + key }

func bad(key, value, reason string) error {
	return &Error{Setting: envName(key), Value: value, Reason: oneLine(reason)}
}

// CronParser is the schedule syntax every schedule uses: five fields,
// optional CRON_TZ= prefix, and @every / @daily descriptors.
var CronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// Validate checks every bootstrap value and returns the first problem as
// one line naming the setting.
func (b Bootstrap) Validate() error {
	if strings.TrimSpace(b.SplynxURL) == "" {
		return bad("SPLYNX_URL", "", "not set; the Splynx base URL, e.g. https://splynx.example.com")
	}
	if err := checkURL(b.SplynxURL); err != nil {
		return bad("SPLYNX_URL", b.SplynxURL, err.Error())
	}
	if err := b.CheckHTTPS("SPLYNX_URL", b.SplynxURL); err != nil {
		return err
	}
	if b.SplynxAPIKey == "" {
		return bad("SPLYNX_API_KEY", "", "not set; the API key created for the add-on in Administration → API keys")
	}
	if b.SplynxAPISecret == "" {
		return bad("SPLYNX_API_SECRET", "", "not set; the secret of SPLYNXPAY_SPLYNX_API_KEY")
	}
	if err := checkDBPath(b.DBPath); err != nil {
		return bad("DB_PATH", b.DBPath, err.Error())
	}
	if _, _, err := net.SplitHostPort(b.ListenAddr); err != nil {
		return bad("LISTEN_ADDR", b.ListenAddr, "want host:port, e.g. 127.0.0.1:8390")
	}
	if _, err := LoadLocation(b.TimeZone); err != nil {
		return bad("TIMEZONE", b.TimeZone, err.Error())
	}
	for _, s := range []struct{ key, val string }{
		{"SYNC_SCHEDULE", b.SyncSchedule},
		{"CHARGE_SCHEDULE", b.ChargeSchedule},
		{"SETTLE_SCHEDULE", b.SettleSchedule},
	} {
		if err := checkSchedule(s.val); err != nil {
			return bad(s.key, s.val, err.Error())
		}
	}
	if b.FullSyncEvery <= 0 {
		return bad("FULL_SYNC_EVERY", b.FullSyncEvery.String(), "must be a positive duration such as 24h")
	}
	if _, err := zapcore.ParseLevel(b.LogLevel); err != nil {
		return bad("LOG_LEVEL", b.LogLevel, "want debug, info, warn or error")
	}
	return nil
}

// LoadLocation resolves an IANA time zone name; "" is refused rather than
// silently meaning UTC.
func LoadLocation(name string) (*time.Location, error) {
	if name == "" {
		return nil, errors.New("not set; an IANA time zone such as Australia/Sydney")
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, errors.New("unknown time zone; want an IANA name such as Australia/Sydney")
	}
	return loc, nil
}

func checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("not a URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return errors.New("want an http:// or https:// URL")
	}
	if u.Host == "" {
		return errors.New("URL has no host")
	}
	if u.User != nil {
		return errors.New("URL must not carry credentials; use SPLYNXPAY_SPLYNX_API_KEY/SECRET")
	}
	return nil
}

// AllowHTTPSetting names the development setting that admits http URLs.
const AllowHTTPSetting = EnvPrefix + "_ALLOW_HTTP"

// CheckHTTPS refuses an http:// URL unless SPLYNXPAY_ALLOW_HTTP is set:
// the API secret, gateway credentials and card tokens travel over these
// connections. setting is the env key (SPLYNX_URL) of the value.
func (b Bootstrap) CheckHTTPS(setting, raw string) error {
	if b.AllowHTTP || raw == "" {
		return nil
	}
	if u, err := url.Parse(raw); err == nil && !strings.EqualFold(u.Scheme, "https") {
		return bad(setting, raw, "must be an https:// URL (set "+AllowHTTPSetting+"=true for development only)")
	}
	return nil
}

// CheckHTTPS refuses the settings' http:// Splynx and gateway URLs unless
// allowHTTP (SPLYNXPAY_ALLOW_HTTP). The error names the setting the way an
// admin finds it: the module key, or its SPLYNXPAY_SETTING_ override.
func (s Settings) CheckHTTPS(allowHTTP bool) error {
	if allowHTTP {
		return nil
	}
	for _, sp := range SpecsFor(s.Addon) {
		if !sp.url {
			continue
		}
		v := s.Raw[sp.Key]
		if v == "" {
			continue
		}
		if u, err := url.Parse(v); err == nil && !strings.EqualFold(u.Scheme, "https") {
			return &Error{Setting: settingName(sp.Key, s.Source[sp.Key]), Value: v,
				Reason: "must be an https:// URL (set " + AllowHTTPSetting + "=true for development only)"}
		}
	}
	return nil
}

func checkSchedule(spec string) error {
	if strings.TrimSpace(spec) == "" {
		return errors.New("not set")
	}
	if _, err := CronParser.Parse(spec); err != nil {
		return fmt.Errorf("not a cron schedule (minute hour day-of-month month day-of-week): %v", err)
	}
	return nil
}

// checkDBPath makes sure the daemon will be able to open (or create) the
// database, so the failure happens at start-up with the path named rather
// than inside SQLite later.
func checkDBPath(path string) error {
	if path == "" {
		return errors.New("not set")
	}
	fi, err := os.Stat(path)
	switch {
	case err == nil && fi.IsDir():
		return errors.New("is a directory; want a database file path")
	case err == nil:
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			return fmt.Errorf("cannot open for reading and writing: %s", errText(err))
		}
		return f.Close()
	case !errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("cannot read: %s", errText(err))
	}
	dir := filepath.Dir(path)
	di, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("directory %s: %s", dir, errText(err))
	}
	if !di.IsDir() {
		return fmt.Errorf("%s is not a directory", dir)
	}
	f, err := os.CreateTemp(dir, ".splynxpay-probe-*")
	if err != nil {
		return fmt.Errorf("directory %s is not writable: %s", dir, errText(err))
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}

// errText drops the path os errors repeat, keeping the cause.
func errText(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// ValidateStorage checks only what opening the database needs, for
// commands such as migrate that run before Splynx credentials exist.
func (b Bootstrap) ValidateStorage() error {
	if err := checkDBPath(b.DBPath); err != nil {
		return bad("DB_PATH", b.DBPath, err.Error())
	}
	if _, err := zapcore.ParseLevel(b.LogLevel); err != nil {
		return bad("LOG_LEVEL", b.LogLevel, "want debug, info, warn or error")
	}
	return nil
}
