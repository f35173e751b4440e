package daemon

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/splynx-pay/splynx-pay/internal/config"
	"github.com/splynx-pay/splynx-pay/internal/wire"
	"github.com/splynx-pay/splynx-pay/store"
	"github.com/splynx-pay/splynx-pay/sync/charge"
)

var (
	chargeCommand = Command{
		Name:    "charge",
		Summary: "charge due invoices (or balances) through the gateway: --from --to [filters] [--dry-run]",
		NeedsDB: true,
		Run:     chargeCmd,
	}
	jobCharge = Job{
		Name:     "charge",
		Schedule: func(b config.Bootstrap) string { return b.ChargeSchedule },
		Run:      nightlyChargeJob,
	}
	jobSettle = Job{
		Name:     "settle",
		Schedule: func(b config.Bootstrap) string { return b.SettleSchedule },
		Run:      settleJob,
	}
)

// ChargeEngine builds the charge engine for the current settings. The web
// pages and jobs use it too, so every caller charges through one path.
func ChargeEngine(ctx context.Context, app *App) (*charge.Engine, error) {
	if app.Settings == nil || app.Gateway == nil {
		return nil, errors.New("charge: the daemon has no settings or gateway")
	}
	s, err := app.Settings(ctx)
	if err != nil {
		return nil, err
	}
	gw, err := app.Gateway(ctx)
	if err != nil {
		return nil, err
	}
	pol, err := wire.ChargePolicy(s)
	if err != nil {
		return nil, err
	}
	loc, err := config.LoadLocation(app.Boot.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	return charge.New(app.DB, app.Splynx, gw, charge.Options{Policy: pol, Clock: app.Clock, Logger: app.Log, Location: loc,
		Stopping: app.stopping}), nil
}

// formValues is a flag that sets (or, for a list, adds) its value under a
// Charge filter field, so the flags are parsed by charge.ParseFilters like
// the Charge page's form.
type formValues struct {
	v    url.Values
	name string
	list bool
}

func (f formValues) String() string { return strings.Join(f.v[f.name], ",") }
func (f formValues) Set(s string) error {
	if f.list {
		f.v.Add(f.name, s)
	} else {
		f.v.Set(f.name, s)
	}
	return nil
}

func chargeCmd(ctx context.Context, app *App, args []string) error {
	fs := flag.NewFlagSet("charge", flag.ContinueOnError)
	fs.SetOutput(app.Stderr)
	form := url.Values{}
	field := func(flagName, name string, list bool, usage string) {
		fs.Var(formValues{form, name, list}, flagName, usage)
	}
	field("from", "from", false, "first invoice creation date, `YYYY-MM-DD`")
	field("to", "to", false, "last invoice creation date, `YYYY-MM-DD`")
	field("partner", "partner", true, "partner `id`(s), comma-separated or repeated")
	field("location", "location", true, "location `id`(s)")
	field("payment-type", "payment_type", true, "customer payment type (billing payment method `id`)")
	field("id", "id", true, "invoice (or proforma) `id`(s)")
	field("customer", "customer", false, "customer `id`")
	field("number", "number", false, "invoice `number`")
	field("total", "total", false, "invoice total `comparison`, e.g. \">50\", \"<10.5\", \"=100\"")
	mode := fs.String("mode", charge.ModeInvoices, "invoices | proformas | balance")
	dry := fs.Bool("dry-run", false, "print the preview only; charge nothing")
	conc := fs.Int("concurrency", 0, "gateway calls at once (default: charge_concurrency setting)")
	verbose := fs.Bool("v", false, "list every invoice of the preview, not only customers")
	returns := fs.String("returns", "", "apply an IPpay ACH returns CSV file instead of charging")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *returns != "" {
		return importReturns(ctx, app, *returns)
	}
	form.Set("mode", *mode)
	f, err := charge.ParseFilters(form)
	if err != nil {
		return err
	}
	en, err := ChargeEngine(ctx, app)
	if err != nil {
		return err
	}
	pv, err := en.Preview(ctx, f)
	if err != nil {
		return err
	}
	charge.PrintPreview(app.Stdout, pv, *verbose)
	if *dry || pv.Count == 0 {
		return nil
	}
	last := time.Now()
	var runs charge.Runs
	res, err := runs.Run(ctx, en, f, charge.RunOptions{Source: charge.SourceCLI, StartedBy: "cli", Concurrency: *conc,
		OnProgress: func(p store.RunProgress) {
			if time.Since(last) > 2*time.Second {
				last = time.Now()
				fmt.Fprintf(app.Stderr, "%d/%d done, %d approved, %d pending, %d declined, %d unknown\n",
					p.Done, p.Total, p.Approved, p.Pending, p.Declined, p.Unknown)
			}
		}})
	if err != nil {
		return err
	}
	charge.PrintRunTotals(app.Stdout, res)
	return nil
}

// importReturns applies an ACH returns report (IPpay's CSV) to the
// pending and recorded charges, then writes the reversals back.
func importReturns(ctx context.Context, app *App, path string) error {
	if app.ParseReturns == nil {
		return fmt.Errorf("--returns: %s has no returns file to read (IPpay's ACH returns CSV is for splynx-ippay)", app.Name)
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("returns file: %w", err)
	}
	defer f.Close()
	chs, err := app.ParseReturns(f)
	if err != nil {
		return fmt.Errorf("returns file %s: %w", path, err)
	}
	en, err := ChargeEngine(ctx, app)
	if err != nil {
		return err
	}
	var st charge.SettleStats
	if err := en.ApplyChanges(ctx, chs, &st, false); err != nil {
		return err
	}
	if _, err := en.WriteBack(ctx); err != nil {
		return err
	}
	fmt.Fprintf(app.Stdout, "returns file: %d rows, %d applied (%d rejected before settlement, %d reversed after), %d not ours\n",
		len(chs), st.Applied, st.Rejected, st.Reversed, st.Unmatched)
	return nil
}

// nightlyChargeJob is the auto-charge run (auto_charge=1): every unpaid
// invoice up to today, then the write-back of what was approved at once.
func nightlyChargeJob(ctx context.Context, app *App) error {
	en, err := ChargeEngine(ctx, app)
	if err != nil {
		return err
	}
	if !en.Policy().AutoCharge {
		app.Log.Info("nightly charge skipped: auto_charge is off")
		return nil
	}
	res, err := en.Run(ctx, en.NightlyFilters(), charge.RunOptions{Source: charge.SourceAuto, StartedBy: "schedule"})
	if err != nil {
		return err
	}
	app.Log.Info("nightly charge done", zap.Int64("run_id", res.RunID), zap.String("status", res.Status), zap.Int("approved", res.Progress.Approved),
		zap.Int("pending", res.Progress.Pending), zap.Int("declined", res.Progress.Declined))
	_, err = en.WriteBack(ctx)
	return err
}

// settleJob reconciles unknowns, applies settlements and returns, writes
// back, retries due declines and syncs changed payers.
func settleJob(ctx context.Context, app *App) error {
	en, err := ChargeEngine(ctx, app)
	if err != nil {
		return err
	}
	err = en.Cycle(ctx)
	if _, perr := en.SyncPayers(ctx); perr != nil {
		err = errors.Join(err, perr)
	}
	return err
}
