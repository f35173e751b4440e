package daemon

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/splynx-pay/splynx-pay/gateways/ippay"
	"github.com/splynx-pay/splynx-pay/internal/config"
	"github.com/splynx-pay/splynx-pay/internal/money"
	"github.com/splynx-pay/splynx-pay/store"
	"github.com/splynx-pay/splynx-pay/sync/charge"
)

func init() {
	Register(Command{
		Name:    "charge",
		Summary: "charge due invoices (or balances) through the gateway: --from --to [filters] [--dry-run]",
		NeedsDB: true,
		Run:     chargeCmd,
	})
	RegisterJob(Job{
		Name:     "charge",
		Schedule: func(b config.Bootstrap) string { return b.ChargeSchedule },
		Run:      nightlyChargeJob,
	})
	RegisterJob(Job{
		Name:     "settle",
		Schedule: func(b config.Bootstrap) string { return b.SettleSchedule },
		Run:      settleJob,
	})
}

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
	loc, err := config.LoadLocation(app.Boot.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	return charge.New(app.DB, app.Splynx, gw, charge.Options{Settings: s, Clock: app.Clock, Logger: app.Log, Location: loc}), nil
}

type int64List []int64

func (l *int64List) String() string { return fmt.Sprint(*l) }
func (l *int64List) Set(v string) error {
	for _, p := range strings.Split(v, ",") {
		n, err := strconv.ParseInt(strings.TrimSpace(p), 10, 64)
		if err != nil {
			return fmt.Errorf("not an id: %q", p)
		}
		*l = append(*l, n)
	}
	return nil
}

func chargeCmd(ctx context.Context, app *App, args []string) error {
	fs := flag.NewFlagSet("charge", flag.ContinueOnError)
	fs.SetOutput(app.Stderr)
	var f charge.Filters
	var partners, locations, ptypes, ids int64List
	fs.StringVar(&f.From, "from", "", "first invoice creation date, YYYY-MM-DD")
	fs.StringVar(&f.To, "to", "", "last invoice creation date, YYYY-MM-DD")
	fs.Var(&partners, "partner", "partner id(s), comma-separated or repeated")
	fs.Var(&locations, "location", "location id(s)")
	fs.Var(&ptypes, "payment-type", "customer payment type (billing payment method id)")
	fs.Var(&ids, "id", "invoice (or proforma) id(s)")
	fs.Int64Var(&f.CustomerID, "customer", 0, "customer id")
	fs.StringVar(&f.Number, "number", "", "invoice number")
	total := fs.String("total", "", `invoice total comparison, e.g. ">50", "<10.5", "=100"`)
	fs.StringVar(&f.Mode, "mode", charge.ModeInvoices, "invoices | proformas | balance")
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
	f.Partners, f.Locations, f.PaymentTypes, f.IDs = partners, locations, ptypes, ids
	if *total != "" {
		op, num := (*total)[:1], (*total)[1:]
		if op != "=" && op != "<" && op != ">" {
			op, num = "=", *total
		}
		amt, err := money.Parse(num)
		if err != nil {
			return fmt.Errorf("--total %q: %w", *total, err)
		}
		f.TotalOp, f.Total = op, int64(amt)
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
	res, err := en.Run(ctx, f, charge.RunOptions{Source: charge.SourceCLI, StartedBy: "cli", Concurrency: *conc,
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
	if _, err := en.WriteBack(ctx); err != nil {
		app.Log.Warn("charge: write-back after the run", zap.Error(err))
	}
	return nil
}

// importReturns applies an ACH returns report (IPpay's CSV) to the
// pending and recorded charges, then writes the reversals back.
func importReturns(ctx context.Context, app *App, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("returns file: %w", err)
	}
	defer f.Close()
	chs, err := ippay.ParseReturnsCSV(f)
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
	if !en.Settings().AutoCharge {
		app.Log.Info("nightly charge skipped: auto_charge is off")
		return nil
	}
	res, err := en.Run(ctx, en.NightlyFilters(), charge.RunOptions{Source: charge.SourceAuto, StartedBy: "schedule"})
	if err != nil {
		return err
	}
	app.Log.Info("nightly charge done", zap.Int64("run_id", res.RunID), zap.Int("approved", res.Progress.Approved),
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
