//go:build !nodemo

package daemon

// The demo command runs the whole pipeline against in-process simulators.
// It links every simulator and both gateway clients, so the packaged
// binaries leave it out: debian/rules builds with -tags nodemo, and
// cmd_nodemo.go then stands in for this file (TestPackagedBuildHasNoSimulators).

import (
	"context"

	"github.com/splynx-pay/splynx-pay/internal/demo"
)

var demoCommands = []Command{{
	Name: "demo", Summary: "run the whole pipeline against built-in simulators (no Splynx needed)",
	Setup: SetupRaw, Run: demoCmd,
}}

func demoCmd(ctx context.Context, app *App, args []string) error {
	opts := demo.Options{
		Addon: app.Name, Kind: app.Kind, Module: app.Module, Prefix: app.Prefix, Title: app.Title,
		Version: VersionString(), Stdout: app.Stdout, Stderr: app.Stderr,
		Gateway: app.Addon.Gateway,
	}
	if err := opts.ParseFlags(args); err != nil {
		return err
	}
	return demo.Run(ctx, opts)
}
