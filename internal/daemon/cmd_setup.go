package daemon

import (
	"context"
	"errors"
	"flag"
	"time"

	"github.com/splynx-pay/splynx-pay/gateways"
	"github.com/splynx-pay/splynx-pay/internal/config"
	"github.com/splynx-pay/splynx-pay/internal/setup"
)

var (
	doctorCommand = Command{
		Name: "doctor", Summary: "check Splynx, API permissions, module config, gateway, database and clock; one line each with a fix",
		// Raw: a bad bootstrap value is the doctor's first finding, not a
		// reason not to run.
		Setup: SetupRaw,
		Run:   doctorCmd,
	}
	installAddonCommand = Command{
		Name: "install-addon", Summary: "create the add-on's payment methods, module config defaults and fields in Splynx; print the manual steps",
		Run: installAddonCmd,
	}
)

func setupAddon(a Addon) setup.Addon { return setup.ForAddon(a.Identity) }

// errDoctor makes the exit status non-zero; the lines were printed.
var errDoctor = errors.New("problems found (see the FAIL lines)")

func doctorCmd(ctx context.Context, app *App, args []string) error {
	fs := flag.NewFlagSet("doctor", flag.ContinueOnError)
	fs.SetOutput(app.Stderr)
	timeout := fs.Duration("timeout", 20*time.Second, "time limit of each network check")
	if err := fs.Parse(args); err != nil {
		return err
	}
	deps := setup.DoctorDeps{
		Addon:   setupAddon(app.Addon),
		Boot:    app.Boot,
		Env:     config.EnvMap(app.Environ),
		Splynx:  app.Splynx,
		Clock:   app.Clock,
		Log:     app.Log,
		Timeout: *timeout,
	}
	if app.Addon.Gateway != nil {
		deps.Gateway = func(_ context.Context, s config.Settings) (gateways.Gateway, error) {
			return app.Addon.Gateway(s, app.Log.Named("gateway"), app.Clock)
		}
	}
	if !setup.Doctor(ctx, deps, app.Stdout) {
		return errDoctor
	}
	return nil
}

func installAddonCmd(ctx context.Context, app *App, args []string) error {
	fs := flag.NewFlagSet("install-addon", flag.ContinueOnError)
	fs.SetOutput(app.Stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	_, err := setup.InstallAddon(ctx, app.Splynx, setupAddon(app.Addon), app.Stdout)
	return err
}
