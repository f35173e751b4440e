package daemon

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/robfig/cron/v3"
	"go.uber.org/zap"

	"github.com/splynx-pay/splynx-pay/internal/config"
	"github.com/splynx-pay/splynx-pay/store"
	"github.com/splynx-pay/splynx-pay/sync/charge"
	"github.com/splynx-pay/splynx-pay/sync/mirror"
	"github.com/splynx-pay/splynx-pay/web"
)

// How long SIGTERM waits for running jobs before cancelling them. The
// systemd unit allows 90 s to stop; a charge job that is cancelled leaves
// its attempts in states the reconciler resolves, but finishing is better.
const drainTimeout = 60 * time.Second

var runCommand = Command{
	Name: "run", Summary: "run the daemon: sync, scheduled jobs, web pages (systemd ExecStart)",
	NeedsDB: true, Run: runDaemon,
}

// syncState is what the health check knows about the mirror sync.
type syncState struct {
	mu       sync.Mutex
	lastOK   time.Time
	lastErr  error
	started  time.Time
	settings *config.Settings // last module config read, to log edits
	storage  *storageWatch    // can the database write (storage.go)
}

func (s *syncState) ok(t time.Time) {
	s.mu.Lock()
	s.lastOK, s.lastErr = t, nil
	s.mu.Unlock()
}

func (s *syncState) failed(err error) {
	s.mu.Lock()
	s.lastErr = err
	s.mu.Unlock()
}

func runDaemon(ctx context.Context, app *App, args []string) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(app.Stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	// SIGTERM: running charge runs start no new charge from now on, and
	// finish the ones under way during the drain (jobCtx lives on).
	app.stopping = ctx.Done()
	log := app.Log
	loc, err := config.LoadLocation(app.Boot.TimeZone)
	if err != nil {
		return &config.Error{Setting: config.EnvPrefix + "_TIMEZONE", Value: app.Boot.TimeZone, Reason: err.Error()}
	}
	if err := checkURLs(app); err != nil {
		return err
	}
	if err := checkSplynx(ctx, app); err != nil {
		var ce *config.Error
		if errors.As(err, &ce) {
			return err
		}
		// Splynx being down is not a reason to stay down: the pages, the
		// health check and the next sync will tell, and the sync retries.
		log.Warn("Splynx not reachable at start-up; continuing", zap.Error(err))
	}
	state := &syncState{started: app.Clock.Now(), storage: newStorageWatch(log, app.DB)} // storage.go
	if c, err := app.DB.CursorGet(ctx, "mirror"); err == nil && !c.LastRun.IsZero() {
		state.lastOK = c.LastRun
	}
	engine := mirror.New(app.DB, app.Splynx, mirror.Options{
		Logger: log.Named("mirror"), Clock: app.Clock, FullEvery: app.Boot.FullSyncEvery,
	})

	// Jobs get their own context: SIGTERM stops new runs at once but lets
	// running ones finish (up to drainTimeout) before cancelling them.
	jobCtx, cancelJobs := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelJobs()
	zl := cronLogger{log.Named("cron")}
	sched := cron.New(cron.WithLocation(loc), cron.WithParser(config.CronParser),
		cron.WithChain(cron.Recover(zl), cron.SkipIfStillRunning(zl)), cron.WithLogger(zl))
	notifier := newNotifier(log)
	addr := app.Boot.ListenAddr // the real port once listening (set before the scheduler starts)
	syncID, err := sched.AddFunc(app.Boot.SyncSchedule, func() {
		if st, ok := syncJob(jobCtx, app, engine, state); ok {
			// `systemctl status` shows the last sync without reading logs.
			_ = notifier.notify(fmt.Sprintf("STATUS=serving on %s; last sync %s: %d customers, %d invoices written",
				addr, app.Clock.Now().Format(time.DateTime), st.Customers, st.Invoices))
		}
	})
	if err != nil {
		return &config.Error{Setting: config.EnvPrefix + "_SYNC_SCHEDULE", Value: app.Boot.SyncSchedule, Reason: err.Error()}
	}
	var pruneID cron.EntryID  // also run at start-up: a daemon that was down for days catches up
	var chargeID cron.EntryID // run after the first sync when the last scheduled run did not finish (catchup.go)
	var chargeSched cron.Schedule
	for _, j := range jobs {
		spec := j.Schedule(app.Boot)
		parsed, err := config.CronParser.Parse(spec)
		if err != nil {
			return fmt.Errorf("schedule job %s (%q): %w", j.Name, spec, err)
		}
		// dstSafe (schedule.go): once per wall-clock match across DST.
		id := sched.Schedule(dstSafe(parsed, loc), cron.FuncJob(func() {
			if err := state.storage.check(jobCtx); err != nil {
				log.Warn("job not started: the database cannot write", zap.String("job", j.Name), zap.Error(err))
				return
			}
			start := app.Clock.Now()
			if err := j.Run(jobCtx, app); err != nil {
				log.Error("job failed", zap.String("job", j.Name), zap.Duration("took", app.Clock.Now().Sub(start)), zap.Error(err))
				return
			}
			log.Info("job done", zap.String("job", j.Name), zap.Duration("took", app.Clock.Now().Sub(start)))
		}))
		log.Info("job scheduled", zap.String("job", j.Name), zap.String("schedule", spec))
		if j.Name == jobPrune.Name {
			pruneID = id
		}
		if j.Name == jobCharge.Name {
			chargeID, chargeSched = id, dstSafe(parsed, loc)
		}
	}

	srv, err := web.New(web.Options{
		Addon: app.Name, Prefix: app.Prefix, Version: VersionString(), Bootstrap: &app.Boot,
		Deps: web.Deps{
			DB: app.DB, Log: log, Clock: app.Clock, Splynx: app.Splynx, Settings: app.Settings, Gateway: app.Gateway,
			Charge: func(ctx context.Context) (*charge.Engine, error) { return ChargeEngine(ctx, app) },
		},
		CSRFKey:        csrfKey(app),
		AdminTokenFile: app.Boot.AdminTokenFile,
		Health:         func(ctx context.Context) web.Health { return health(ctx, app, state) },
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", app.Boot.ListenAddr)
	if err != nil {
		// Not a configuration error: the port may still be held by the
		// previous process, and a restart is the cure.
		return fmt.Errorf("listen on %s (%s_LISTEN_ADDR): %s", app.Boot.ListenAddr, config.EnvPrefix, errText(err))
	}
	addr = ln.Addr().String()
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	serveErr := make(chan error, 1)
	go func() { serveErr <- hs.Serve(ln) }()

	_ = state.storage.check(ctx)
	go state.storage.run(jobCtx)
	sched.Start()
	// The first sync starts now rather than at the next tick, through the
	// same wrapped job so a scheduled run cannot overlap it.
	var startup sync.WaitGroup
	startup.Add(1)
	go func() {
		defer startup.Done()
		sched.Entry(syncID).WrappedJob.Run()
		if chargeID != 0 && jobCtx.Err() == nil && ctx.Err() == nil {
			catchUpNightly(jobCtx, app, chargeSched, sched.Entry(chargeID).WrappedJob.Run)
		}
	}()
	if pruneID != 0 {
		startup.Add(1)
		go func() { defer startup.Done(); sched.Entry(pruneID).WrappedJob.Run() }()
	}

	_ = notifier.notify("READY=1\nSTATUS=serving on " + ln.Addr().String())
	stopWatchdog := notifier.watchdog(jobCtx, func(ctx context.Context) error { return app.DB.Ping(ctx) })
	log.Info("daemon started", zap.String("version", VersionString()), zap.String("listen", ln.Addr().String()),
		zap.String("prefix", app.Prefix), zap.String("sync_schedule", app.Boot.SyncSchedule), zap.String("timezone", loc.String()))

	var runErr error
	select {
	case <-ctx.Done():
		log.Info("stopping: draining jobs", zap.Duration("limit", drainTimeout))
	case err := <-serveErr:
		runErr = fmt.Errorf("web server: %w", err)
	}
	_ = notifier.notify("STOPPING=1")
	shutCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	_ = hs.Shutdown(shutCtx)
	cancel()
	drained := make(chan struct{})
	go func() {
		<-sched.Stop().Done()
		startup.Wait()
		close(drained)
	}()
	select {
	case <-drained:
	case <-time.After(drainTimeout):
		log.Warn("jobs still running after the drain limit; cancelling them")
		cancelJobs()
		<-drained
	}
	stopWatchdog()
	log.Info("stopped")
	return runErr
}

// syncJob is one scheduled mirror pass. It re-reads the module config first
// so an edit in Splynx is noticed (and logged) within one sync interval.
func syncJob(ctx context.Context, app *App, engine *mirror.Engine, state *syncState) (mirror.Stats, bool) {
	log := app.Log
	if s, err := app.Settings(ctx); err != nil {
		log.Error("settings unusable; fix them in Splynx (Config → Integrations → Modules list)", zap.Error(err))
	} else {
		state.mu.Lock()
		prev := state.settings
		state.settings = &s
		state.mu.Unlock()
		if prev != nil {
			if changed := config.Changed(*prev, s); len(changed) > 0 {
				log.Info("settings changed", zap.Strings("keys", changed))
			}
		}
		if err := s.Validate(); err != nil {
			log.Warn("settings incomplete; charges wait until they are set", zap.Error(err))
		}
		app.Splynx.SetLimits(s.SplynxMaxConcurrent, float64(s.SplynxRequestsPerSecond))
		engine.SetHistoryMonths(s.MirrorHistoryMonths)
	}
	stats, err := engine.RunOnce(ctx)
	if err != nil {
		state.failed(err)
		log.Error("sync failed; the mirror keeps its previous state", zap.Error(err))
		return stats, false
	}
	state.ok(app.Clock.Now())
	log.Info("sync done", zap.Bool("full", stats.Full), zap.Int("customers", stats.Customers),
		zap.Int("invoices", stats.Invoices), zap.Int("proformas", stats.Proformas), zap.Int("deleted", stats.Deleted),
		zap.Duration("took", stats.Duration))
	return stats, true
}

// health is healthy while the database answers and the last sync is
// recent: at most three sync intervals old (an hour at least), or the
// daemon is younger than that.
func health(ctx context.Context, app *App, state *syncState) web.Health {
	h := web.Health{OK: true, DB: "ok"}
	if err := app.DB.Ping(ctx); err != nil {
		app.Log.Warn("health: database ping", zap.Error(err))
		return web.Health{DB: "error", Problem: "database does not answer: " + oneLine(store.StorageProblem(err).Error())}
	}
	if p := state.storage.problem(); p != "" {
		return web.Health{DB: "error", Problem: p}
	}
	state.mu.Lock()
	last, lastErr, started := state.lastOK, state.lastErr, state.started
	state.mu.Unlock()
	now := app.Clock.Now()
	limit := maxSyncAge(app.Boot.SyncSchedule, now)
	h.LastSync = last
	if !last.IsZero() {
		h.LastSyncAge = now.Sub(last).Round(time.Second).String()
	}
	switch {
	case last.IsZero() && now.Sub(started) > limit:
		h.OK, h.Problem = false, "no successful sync since start-up"
	case !last.IsZero() && now.Sub(last) > limit && now.Sub(started) > limit:
		h.OK, h.Problem = false, "last successful sync is older than "+limit.String()
	}
	if !h.OK && lastErr != nil {
		h.Problem += " (last error logged)"
	}
	return h
}

func maxSyncAge(spec string, now time.Time) time.Duration {
	limit := time.Hour
	if s, err := config.CronParser.Parse(spec); err == nil {
		a := s.Next(now)
		if d := 3 * s.Next(a).Sub(a); d > limit {
			limit = d
		}
	}
	return limit
}

// csrfKey derives the CSRF signing key from the API secret, so tokens
// survive restarts and differ between installations.
func csrfKey(app *App) []byte {
	return []byte("splynxpay-csrf\x00" + app.Name + "\x00" + app.Boot.SplynxAPISecret)
}

func errText(err error) string {
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		return oe.Err.Error()
	}
	return err.Error()
}

// cronLogger adapts zap to cron.Logger.
type cronLogger struct{ l *zap.Logger }

func (c cronLogger) Info(msg string, kv ...any) {
	// cron logs every wake-up at Info; that is debug noise for us.
	c.l.Debug(msg, zap.Any("details", kv))
}

func (c cronLogger) Error(err error, msg string, kv ...any) {
	c.l.Error(msg, zap.Error(err), zap.Any("details", kv))
}

// checkURLs refuses at start an http:// URL set in the environment (the
// module config is checked on every read), and says in the log when the
// development setting lets http through.
func checkURLs(app *App) error {
	if app.Boot.AllowHTTP {
		app.Log.Warn(config.AllowHTTPSetting + "=true: http:// Splynx and gateway URLs are accepted; for development only")
		return nil
	}
	s, err := config.ParseSettingsFor(app.Kind, nil, config.EnvMap(app.Environ))
	if err != nil {
		return nil // reported with the module config, which it overrides
	}
	return s.CheckHTTPS(false)
}
