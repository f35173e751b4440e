package daemon

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"runtime"
	"time"

	"github.com/splynx-pay/splynx-pay/internal/config"
	"github.com/splynx-pay/splynx-pay/store"
	"github.com/splynx-pay/splynx-pay/sync/mirror"
)

var (
	syncCommand    = Command{Name: "sync", Summary: "mirror Splynx into the database once, now", NeedsDB: true, Run: syncCmd}
	migrateCommand = Command{Name: "migrate", Summary: "create or upgrade the database schema", NeedsDB: true, Setup: SetupOffline, Run: migrateCmd}
	configCommand  = Command{Name: "config", Summary: "show the effective configuration (secrets redacted) and where each value came from", Setup: SetupRaw, Run: configCmd}
	versionCommand = Command{Name: "version", Summary: "print the version", Setup: SetupRaw, Run: versionCmd}
)

func syncCmd(ctx context.Context, app *App, args []string) error {
	fs := flag.NewFlagSet("sync", flag.ContinueOnError)
	fs.SetOutput(app.Stderr)
	full := fs.Bool("full", false, "full pass (also notices records deleted in Splynx)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := checkSplynx(ctx, app); err != nil {
		return err
	}
	e := mirror.New(app.DB, app.Splynx, mirror.Options{Logger: app.Log.Named("mirror"), Clock: app.Clock, FullEvery: app.Boot.FullSyncEvery})
	var (
		st  mirror.Stats
		err error
	)
	if *full {
		st, err = e.Full(ctx)
	} else {
		st, err = e.RunOnce(ctx)
	}
	if err != nil {
		return fmt.Errorf("sync: %w", err)
	}
	kind := "incremental"
	if st.Full {
		kind = "full"
	}
	fmt.Fprintf(app.Stdout, "%s sync: %d customers, %d billing, %d invoices, %d proformas, %d payment methods written; %d deleted; %d requests in %s\n",
		kind, st.Customers, st.Billing, st.Invoices, st.Proformas, st.PaymentMethods, st.Deleted, st.Requests, st.Duration.Round(time.Millisecond))
	return nil
}

func migrateCmd(ctx context.Context, app *App, args []string) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(app.Stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	// store.Open has applied every migration already; report where we are.
	v, err := app.DB.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(app.Stdout, "database %s at schema version %d (this binary knows %d)\n", app.Boot.DBPath, v, store.KnownSchemaVersion())
	return nil
}

func versionCmd(ctx context.Context, app *App, args []string) error {
	fs := flag.NewFlagSet("version", flag.ContinueOnError)
	fs.SetOutput(app.Stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	fmt.Fprintf(app.Stdout, "%s %s (%s, %s/%s)\n", app.Name, VersionString(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return nil
}

// configCmd prints the bootstrap, then (if Splynx can be reached) the
// module settings, each with its source. It ends with the first problem
// found, as the one line start-up would have printed.
func configCmd(ctx context.Context, app *App, args []string) error {
	fs := flag.NewFlagSet("config", flag.ContinueOnError)
	fs.SetOutput(app.Stderr)
	ref := fs.Bool("reference", false, "print the configuration reference (Markdown) instead")
	offline := fs.Bool("offline", false, "do not contact Splynx; show environment overrides and defaults only")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *ref {
		config.Reference(app.Stdout)
		return nil
	}
	bootErr := app.Boot.Validate()
	var (
		settings    config.Settings
		settingsErr error
	)
	switch {
	case bootErr != nil && !*offline:
		settingsErr = errors.New("not read: fix the environment first")
	case *offline:
		settings, settingsErr = config.ParseSettingsFor(app.Kind, nil, config.EnvMap(app.Environ))
	default:
		if app.Splynx, settingsErr = newSplynxClient(app.Boot, app.Log, app.Clock); settingsErr == nil {
			settings, settingsErr = app.readSettings(ctx)
		}
	}
	var sp *config.Settings
	if settingsErr == nil {
		sp = &settings
	}
	if err := config.WriteDump(app.Stdout, app.Boot, sp, settingsErr); err != nil {
		return err
	}
	switch {
	case bootErr != nil:
		return bootErr
	case settingsErr != nil:
		return settingsErr
	}
	return settings.Validate()
}
