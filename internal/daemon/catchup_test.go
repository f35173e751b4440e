package daemon

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/splynx-pay/splynx-pay/gateways/integrapay/integrapaysim"
	"github.com/splynx-pay/splynx-pay/internal/config"
	"github.com/splynx-pay/splynx-pay/internal/demo"
	"github.com/splynx-pay/splynx-pay/store"
	"github.com/splynx-pay/splynx-pay/sync/charge"
)

// A daemon that was down (or stopped, or crashed) when the nightly charge
// run was due runs it once after its first sync; one whose last scheduled
// run finished does not.
func TestNightlyRunCaughtUpAfterMissedSchedule(t *testing.T) {
	for _, tc := range []struct {
		name    string
		prior   string // status of an auto run started after the scheduled time; "" = none
		catchUp bool
	}{
		{"daemon down at the scheduled time", "", true},
		{"last run stopped by SIGTERM", "cancelled", true},
		{"last run cut by a crash", "running", true},
		{"last run finished", "done", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sims, env, due := nightlyDue(t, 20, 60, nil)
			ctx := context.Background()
			if tc.prior != "" {
				db, err := store.Open(ctx, env["SPLYNXPAY_DB_PATH"], nil)
				if err != nil {
					t.Fatal(err)
				}
				started := due.Truncate(time.Minute).Add(2 * time.Second)
				id, err := db.CreateRun(ctx, store.ChargeRun{Source: charge.SourceAuto, Mode: "invoices", StartedBy: "schedule"}, started)
				if err != nil {
					t.Fatal(err)
				}
				if tc.prior != "running" {
					if err := db.FinishRun(ctx, id, tc.prior, store.RunProgress{}, "", started.Add(time.Minute)); err != nil {
						t.Fatal(err)
					}
				}
				db.Close()
			}
			before := len(sims.Splynx.Payments())

			runCtx, cancel := context.WithCancel(ctx)
			defer cancel()
			var stderr syncBuffer
			done := make(chan int, 1)
			go func() { done <- MainContext(runCtx, testAddon, []string{"run"}, io.Discard, &stderr) }()
			deadline := time.Now().Add(60 * time.Second)
			want := `"msg":"nightly charge: the last scheduled run finished; nothing to catch up"`
			if tc.catchUp {
				want = `"msg":"nightly charge done"`
			}
			for !strings.Contains(stderr.String(), want) {
				select {
				case code := <-done:
					t.Fatalf("daemon exited %d: %s", code, stderr.String())
				default:
				}
				if time.Now().After(deadline) {
					t.Fatalf("no %s in:\n%s", want, stderr.String())
				}
				time.Sleep(100 * time.Millisecond)
			}
			cancel()
			if code := <-done; code != 0 {
				t.Fatalf("exit %d: %s", code, stderr.String())
			}
			paid := len(sims.Splynx.Payments()) - before
			caught := strings.Contains(stderr.String(), "running it now")
			if caught != tc.catchUp || (paid > 0) != tc.catchUp {
				t.Fatalf("caught up %v with %d new Splynx payments; want catch-up %v:\n%s", caught, paid, tc.catchUp, stderr.String())
			}
			db, err := store.Open(ctx, env["SPLYNXPAY_DB_PATH"], nil)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			r, ok, err := db.LastRunOf(ctx, charge.SourceAuto)
			if err != nil || !ok {
				t.Fatalf("last nightly run: %v %v", ok, err)
			}
			if tc.catchUp && (r.Status != "done" || r.Progress.Approved == 0 || r.Progress.Approved != paid) {
				t.Fatalf("catch-up run %+v, %d payments", r, paid)
			}
		})
	}
}

// nightlyDue prepares a daemon whose nightly charge run was due an hour
// ago (at due): synced Splynx of customers and invoices, a saved card for
// each customer, auto_charge=1 and the module settings in extra.
func nightlyDue(t *testing.T, customers, invoices int, extra map[string]string) (*demo.Sims, map[string]string, time.Time) {
	t.Helper()
	sims, u := startSims(t, customers, invoices)
	env := goodEnv(t, u.Splynx)
	due := time.Now().UTC().Add(-time.Hour)
	env["SPLYNXPAY_CHARGE_SCHEDULE"] = fmt.Sprintf("CRON_TZ=UTC %d %d * * *", due.Minute(), due.Hour())
	env["SPLYNXPAY_SYNC_SCHEDULE"] = "@every 1h"
	setEnv(t, env)
	if code, _, stderr := runMain(context.Background(), "sync"); code != 0 {
		t.Fatalf("sync: %s", stderr)
	}
	saveTestCards(t, u, env)
	cfg := demo.ModuleConfig(config.IntegraPay, u)
	cfg["auto_charge"] = "1"
	for k, v := range extra {
		cfg[k] = v
	}
	sims.Splynx.SetModuleConfig(demo.IntegraPayModule, 0, cfg)
	return sims, env, due
}

func TestLastFire(t *testing.T) {
	loc, _ := time.LoadLocation("Australia/Sydney")
	s, err := config.CronParser.Parse("CRON_TZ=Australia/Sydney 0 5 * * *")
	if err != nil {
		t.Fatal(err)
	}
	at := func(d, h, m int) time.Time { return time.Date(2026, 12, d, h, m, 0, 0, loc) }
	for _, c := range []struct {
		now  time.Time
		want time.Time
	}{
		{at(3, 4, 59), at(2, 5, 0)},
		{at(3, 5, 0), at(3, 5, 0)},
		{at(3, 23, 0), at(3, 5, 0)},
	} {
		if got, ok := lastFire(dstSafe(s, loc), c.now); !ok || !got.Equal(c.want) {
			t.Errorf("lastFire at %s = %s %v, want %s", c.now, got, ok, c.want)
		}
	}
	every, _ := config.CronParser.Parse("@every 1s")
	if _, ok := lastFire(every, at(3, 12, 0)); ok {
		t.Error("a schedule firing every second has something to catch up")
	}
}

// SIGTERM in the middle of a nightly run: the daemon starts no new charge,
// lets the ones under way finish (none is left unknown or "not sent"),
// marks the run stopped, and exits well within the drain limit; the next
// start runs the rest (the catch-up above).
func TestStopEndsNightlyRunBetweenCharges(t *testing.T) {
	sims, env, _ := nightlyDue(t, 100, 400, map[string]string{"charge_concurrency": "2"})
	ctx := context.Background()
	// Each card charge takes 300 ms at the gateway.
	for _, path := range []string{"payers/*/transactions/card", "transactions/card-payments/token"} {
		sims.IntegraPay.SetFault(path, integrapaysim.Fault{Method: "POST", Latency: 300 * time.Millisecond})
	}
	charges := func() int {
		n := 0
		for _, en := range sims.IntegraPay.Ledger() {
			if en.Kind != "refund" {
				n++
			}
		}
		return n
	}

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var stderr syncBuffer
	done := make(chan int, 1)
	go func() { done <- MainContext(runCtx, testAddon, []string{"run"}, io.Discard, &stderr) }()
	deadline := time.Now().Add(60 * time.Second)
	for charges() < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("the catch-up run charged %d cards in 60 s:\n%s", charges(), stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	stopAt := time.Now()
	stopDaemon(t, cancel, done, &stderr)
	if took := time.Since(stopAt); took > 10*time.Second {
		t.Errorf("stopping took %s", took)
	}
	db, err := store.Open(ctx, env["SPLYNXPAY_DB_PATH"], nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	r, ok, err := db.LastRunOf(ctx, charge.SourceAuto)
	if err != nil || !ok || r.Status != "cancelled" || !strings.Contains(r.Error, "stopped with the daemon") {
		t.Fatalf("nightly run %+v %v %v", r, ok, err)
	}
	as, err := db.ListAttempts(ctx, store.AttemptFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Progress.Total < 10 || len(as) >= r.Progress.Total || len(as) != charges() {
		t.Fatalf("%d attempts of %d items, the gateway took %d charges; want fewer than all, each sent", len(as), r.Progress.Total, charges())
	}
	for _, a := range as {
		if a.State != store.StateApproved && a.State != store.StateRecorded {
			t.Errorf("attempt %s left %s %s", a.Reference, a.State, a.Code)
		}
	}
}
