// Package daemon is the program both add-ons run: the command line, the
// long-running daemon (sync, scheduled jobs, web pages, systemd
// notification) and the wiring between configuration, store, Splynx and
// the gateway. cmd/splynx-integrapay and cmd/splynx-ippay only describe
// their add-on (its addon.Identity and gateway client) and call Main; this
// package links no gateway client itself, and the demo only without -tags
// nodemo (cmd_demo.go).
package daemon

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/splynx-pay/splynx-pay/gateways"
	"github.com/splynx-pay/splynx-pay/internal/addon"
	"github.com/splynx-pay/splynx-pay/internal/clock"
	"github.com/splynx-pay/splynx-pay/internal/config"
	"github.com/splynx-pay/splynx-pay/internal/logging"
	"github.com/splynx-pay/splynx-pay/internal/metrics"
	"github.com/splynx-pay/splynx-pay/splynx"
	"github.com/splynx-pay/splynx-pay/store"
)

// Version is set at build time (-ldflags -X .../internal/daemon.Version=1.2.3).
var Version = ""

// VersionString is Version, or the module version, or "dev".
func VersionString() string {
	if Version != "" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// Addon describes one add-on package: its identity (addon.IntegraPay or
// addon.IPpay: name, module, prefix, port, time zone, and the Defaults of
// its bootstrap) and its gateway.
type Addon struct {
	addon.Identity
	// Gateway builds the add-on's gateway client from the settings; the
	// demo passes the simulators' clock so debit dates agree with them.
	// It is given by cmd/<add-on>, so a binary links its own gateway only.
	Gateway func(s config.Settings, log *zap.Logger, clk clock.Clock) (gateways.Gateway, error)
	// ParseReturns reads the gateway's returns report for `charge
	// --returns` (IPpay's ACH returns CSV); nil when it has none.
	ParseReturns func(r io.Reader) ([]gateways.StatusChange, error)
}

// App is what a command runs with.
type App struct {
	Addon
	Boot   config.Bootstrap
	Log    *zap.Logger
	DB     *store.DB      // open when the command NeedsDB
	Splynx *splynx.Client // built unless the command is Offline or Raw
	Clock  clock.Clock
	// Settings reads the module config from Splynx (with environment
	// overrides) on every call, so an admin's edit applies at once.
	Settings func(ctx context.Context) (config.Settings, error)
	// Gateway returns a gateway client for the current settings; it is
	// rebuilt only when a setting changed.
	Gateway func(ctx context.Context) (gateways.Gateway, error)
	// Environ is the process environment (for SPLYNXPAY_SETTING_*).
	Environ []string
	Stdout  io.Writer
	Stderr  io.Writer

	// stopping is closed when the daemon is asked to stop: charge engines
	// built by ChargeEngine then start no new charge (Options.Stopping).
	stopping <-chan struct{}

	gwMu  sync.Mutex
	gwKey string
	gw    gateways.Gateway
}

// Setup says how much Main prepares before a command runs.
type Setup int

// Setups.
const (
	// SetupFull validates the whole bootstrap and builds the Splynx client.
	SetupFull Setup = iota
	// SetupOffline validates only what the database needs (migrate).
	SetupOffline
	// SetupRaw loads the bootstrap without validating it and opens
	// nothing: for commands that report on configuration themselves.
	SetupRaw
)

// Command is a subcommand.
type Command struct {
	Name, Summary string
	NeedsDB       bool
	Setup         Setup
	Run           func(ctx context.Context, app *App, args []string) error
}

// commands is the command table, listed here in full; each command is
// defined beside its code, in the file named. To add a command, define its
// Command in a file of this package and add it to this list.
var commands = commandTable([]Command{
	runCommand,            // run.go
	syncCommand,           // commands.go
	migrateCommand,        // commands.go
	configCommand,         // commands.go
	versionCommand,        // commands.go
	chargeCommand,         // cmd_charge.go
	doctorCommand,         // cmd_setup.go
	installAddonCommand,   // cmd_setup.go
	signCommand,           // cmd_sign.go
	restoreMethodsCommand, // cmd_restore.go
	backupCommand,         // cmd_backup.go
	restoreCommand,        // cmd_backup.go
}, demoCommands...) // cmd_demo.go; none in the packaged build (-tags nodemo: cmd_nodemo.go)

func commandTable(cs []Command, more ...Command) map[string]Command {
	m := make(map[string]Command, len(cs)+len(more))
	for _, c := range append(cs, more...) {
		if _, dup := m[c.Name]; dup {
			panic("daemon: command listed twice: " + c.Name)
		}
		m[c.Name] = c
	}
	return m
}

// Job is a scheduled job of the running daemon, defined by the part that
// owns the work (the charge and settlement jobs in cmd_charge.go).
type Job struct {
	Name string
	// Schedule picks the job's cron spec from the bootstrap.
	Schedule func(b config.Bootstrap) string
	Run      func(ctx context.Context, app *App) error
}

// jobs are the jobs the `run` command schedules besides the mirror sync.
var jobs = []Job{
	jobCharge, jobSettle, // cmd_charge.go
	jobBackup, // cmd_backup.go
	jobPrune,  // prune.go
}

// ExitConfig is the exit status of a configuration error (sysexits
// EX_CONFIG); the systemd unit does not restart on it.
const ExitConfig = 78

// Main runs the command line and returns the exit status; it stops on
// SIGTERM or SIGINT.
func Main(addon Addon, args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	return MainContext(ctx, addon, args, os.Stdout, os.Stderr)
}

// MainContext is Main with the context and outputs given (tests).
func MainContext(ctx context.Context, addon Addon, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "--help" || args[0] == "-h" || args[0] == "help" {
		usage(stdout, addon)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "%s: unknown command %q (see %s --help)\n", addon.Name, args[0], addon.Name)
		return 2
	}
	if wantsHelp(args[1:]) {
		return commandHelp(ctx, addon, cmd, args[1:], stdout, stderr)
	}
	app, cleanup, err := prepare(ctx, addon, cmd, stdout, stderr)
	if err == nil {
		defer cleanup()
		err = cmd.Run(ctx, app, args[1:])
	}
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return 0
	}
	fmt.Fprintf(stderr, "%s %s: %s\n", addon.Name, cmd.Name, oneLine(err.Error()))
	var ce *config.Error
	if errors.As(err, &ce) {
		return ExitConfig
	}
	return 1
}

func wantsHelp(args []string) bool {
	for _, a := range args {
		switch a {
		case "-h", "-help", "--help":
			return true
		case "--":
			return false
		}
	}
	return false
}

// commandHelp shows a command's flags without needing a valid
// configuration: the command runs with nothing opened and stops at its
// flag parsing, which prints the usage.
func commandHelp(ctx context.Context, addon Addon, cmd Command, args []string, stdout, stderr io.Writer) (code int) {
	cmd.Setup, cmd.NeedsDB = SetupRaw, false
	app, cleanup, err := prepare(ctx, addon, cmd, stdout, stderr)
	if err != nil {
		// Only a malformed variable stops even SetupRaw; show usage anyway.
		app = &App{Addon: addon, Log: zap.NewNop(), Clock: clock.Real{}, Stdout: stdout, Stderr: stderr}
		cleanup = func() {}
	}
	defer cleanup()
	defer func() {
		if recover() != nil {
			fmt.Fprintf(stdout, "%s %s: %s (no flags)\n", addon.Name, cmd.Name, cmd.Summary)
			code = 0
		}
	}()
	if err := cmd.Run(ctx, app, args); err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintf(stdout, "%s %s: %s\n", addon.Name, cmd.Name, cmd.Summary)
	}
	return 0
}

func usage(w io.Writer, a Addon) {
	fmt.Fprintf(w, "%s %s: the Splynx %s payment add-on daemon\n\n", a.Name, VersionString(), a.Title)
	fmt.Fprintf(w, "Usage: %s <command> [flags]\n\nCommands:\n", a.Name)
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-14s %s\n", n, commands[n].Summary)
	}
	fmt.Fprintf(w, "\nConfiguration comes from %s_* environment variables (see `%s config`)\n", config.EnvPrefix, a.Name)
	fmt.Fprintf(w, "and the %s module config in Splynx. `%s <command> --help` shows a command's flags.\n", a.Module, a.Name)
}

// prepare loads and checks the configuration, builds the logger and opens
// what the command needs.
func prepare(ctx context.Context, addon Addon, cmd Command, stdout, stderr io.Writer) (*App, func(), error) {
	boot, err := config.LoadBootstrapFor(addon.Defaults())
	if err != nil {
		return nil, nil, err
	}
	switch cmd.Setup {
	case SetupFull:
		err = boot.Validate()
	case SetupOffline:
		err = boot.ValidateStorage()
	}
	if err != nil {
		return nil, nil, err
	}
	log, err := logging.New(boot.LogLevel, stderr)
	if err != nil {
		log, _ = logging.New("info", stderr)
	}
	log = log.With(zap.String("addon", addon.Name))
	app := &App{
		Addon: addon, Boot: boot, Log: log, Clock: clock.Real{},
		Environ: os.Environ(), Stdout: stdout, Stderr: stderr,
	}
	cleanup := func() { _ = log.Sync() }
	useTestClock(app) // testclock.go: only when SPLYNXPAY_TEST_CLOCK_FILE is set
	if cmd.Setup == SetupFull {
		if app.Splynx, err = newSplynxClient(boot, log, app.Clock); err != nil {
			return nil, nil, err
		}
	}
	app.Settings = app.readSettings
	app.Gateway = app.gateway
	if cmd.NeedsDB {
		db, unlock, err := openChecked(ctx, app) // cmd_backup.go: lock, open, quick_check
		if err != nil {
			return nil, nil, err
		}
		app.DB = db
		cleanup = func() {
			if err := db.Close(); err != nil {
				log.Warn("close database", zap.Error(err))
			}
			unlock()
			_ = log.Sync()
		}
	}
	return app, cleanup, nil
}

func newSplynxClient(b config.Bootstrap, log *zap.Logger, clk clock.Clock) (*splynx.Client, error) {
	c, err := splynx.New(splynx.Config{
		BaseURL: b.SplynxURL, APIKey: b.SplynxAPIKey, APISecret: b.SplynxAPISecret,
		UserAgent: "splynx-pay/" + VersionString(),
	}, splynx.WithLogger(log), splynx.WithClock(clk), splynx.WithHTTPClient(metrics.SplynxClient()))
	if err != nil {
		return nil, &config.Error{Setting: config.EnvPrefix + "_SPLYNX_URL", Value: b.SplynxURL, Reason: oneLine(err.Error())}
	}
	return c, nil
}

// readSettings fetches the module config and applies env overrides.
func (a *App) readSettings(ctx context.Context) (config.Settings, error) {
	var module map[string]string
	if a.Splynx != nil {
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		m, err := a.Splynx.GetModuleConfig(ctx, a.Module, 0)
		if err != nil {
			return config.Settings{}, fmt.Errorf("read module config %s from Splynx: %w", a.Module, err)
		}
		module = m
	}
	s, err := config.ParseSettingsFor(a.Kind, module, config.EnvMap(a.Environ))
	if err == nil {
		// Module config edited in Splynx is checked on every read: an
		// http:// gateway URL stops charging until it is fixed.
		err = s.CheckHTTPS(a.Boot.AllowHTTP)
	}
	if err == nil {
		a.noteSettings(ctx, s)
	}
	return s, err
}

// gateway returns the gateway client for the current settings, reusing the
// previous one while nothing changed (it may hold a login token).
func (a *App) gateway(ctx context.Context) (gateways.Gateway, error) {
	s, err := a.Settings(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	if a.Addon.Gateway == nil {
		return nil, fmt.Errorf("%s: no gateway: %w", a.Name, gateways.ErrNotConfigured)
	}
	key := fingerprint(s)
	a.gwMu.Lock()
	defer a.gwMu.Unlock()
	if a.gw != nil && a.gwKey == key {
		return a.gw, nil
	}
	gw, err := a.Addon.Gateway(s, a.Log.Named("gateway"), a.Clock)
	if err != nil {
		return nil, fmt.Errorf("build %s gateway client: %w", a.Title, err)
	}
	a.gw, a.gwKey = gw, key
	return gw, nil
}

func fingerprint(s config.Settings) string {
	keys := make([]string, 0, len(s.Raw))
	for k := range s.Raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k)
		b.WriteByte(0)
		b.WriteString(s.Raw[k])
		b.WriteByte(0)
	}
	return b.String()
}

// checkSplynx proves the API key works, turning a rejected key into a
// configuration error naming the settings to fix.
func checkSplynx(ctx context.Context, app *App) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	err := app.Splynx.Check(ctx)
	switch {
	case err == nil:
		return nil
	case splynx.IsUnauthorized(err), splynx.IsForbidden(err):
		reason := "Splynx rejected the API key and secret (401)"
		if splynx.IsForbidden(err) {
			reason = "Splynx refused the API key (403): give it the add-on's permissions in Administration → API keys"
		}
		return &config.Error{Setting: config.EnvPrefix + "_SPLYNX_API_KEY/" + config.EnvPrefix + "_SPLYNX_API_SECRET",
			Reason: reason + " at " + app.Boot.SplynxURL}
	}
	return fmt.Errorf("reach Splynx at %s: %w", app.Boot.SplynxURL, err)
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
