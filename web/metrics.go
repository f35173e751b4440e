package web

// <prefix>/metrics in the Prometheus text format, through the official
// client library. Served with "Authorization: Bearer <token>" where the
// token is the admin token (SPLYNXPAY_ADMIN_TOKEN_FILE) or the
// metrics_token setting; where the request comes from does not count.

import (
	"context"
	"crypto/subtle"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.uber.org/zap"

	"github.com/splynx-pay/splynx-pay/internal/metrics"
	"github.com/splynx-pay/splynx-pay/store"
)

func (s *Server) registerMetrics() error {
	reg := prometheus.NewRegistry()
	reg.MustRegister(&dbCollector{s: s}, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reg.MustRegister(metrics.Collectors()...)
	h := promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorLog: zap.NewStdLog(s.Logger())})
	s.Handle("GET /metrics", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !metricsAllowed(s, r) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
			s.Error(w, r, http.StatusForbidden, "Metrics need a bearer token: the admin token file or the metrics_token setting.", nil)
			return
		}
		h.ServeHTTP(w, r)
	}))
	return nil
}

func metricsAllowed(s *Server, r *http.Request) bool {
	if s.opts.Demo {
		return true
	}
	if ok, _ := s.adminBearer(r); ok {
		return true
	}
	auth := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(auth, "Bearer ")
	if !ok || tok == "" || s.Deps().Settings == nil {
		return false
	}
	set, err := s.Deps().Settings(r.Context())
	if err != nil || set.MetricsToken == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(tok), []byte(set.MetricsToken)) == 1
}

// dbCollector reads what the database knows at scrape time.
type dbCollector struct{ s *Server }

var (
	mSyncAge = prometheus.NewDesc("splynxpay_sync_age_seconds",
		"Seconds since the last successful mirror pass ended.", nil, nil)
	mSyncDur = prometheus.NewDesc("splynxpay_sync_duration_seconds",
		"Duration of the last mirror pass, by kind (full, incremental).", []string{"kind"}, nil)
	mRows = prometheus.NewDesc("splynxpay_mirror_rows",
		"Rows in the mirror of Splynx, by table.", []string{"table"}, nil)
	mAttempts = prometheus.NewDesc("splynxpay_charge_attempts",
		"Charge attempts by state.", []string{"state"}, nil)
	mCharged = prometheus.NewDesc("splynxpay_charged_amount",
		"Money charged (approved, written back, or reversed since), major currency units.", nil, nil)
	mSettled = prometheus.NewDesc("splynxpay_settled_amount",
		"Money charged and not reversed (approved or written back), major currency units.", nil, nil)
	mPending = prometheus.NewDesc("splynxpay_pending_amount",
		"Bank debits waiting to clear, major currency units.", nil, nil)
	mBacklog = prometheus.NewDesc("splynxpay_writeback_backlog",
		"Write-back items owed to Splynx, by status (pending, failed).", []string{"status"}, nil)
	mBacklogAge = prometheus.NewDesc("splynxpay_writeback_oldest_age_seconds",
		"Age of the oldest pending write-back item (0 when none).", nil, nil)
	mUnknown = prometheus.NewDesc("splynxpay_reconciler_queue",
		"Attempts whose outcome is unknown, waiting for the reconciler.", nil, nil)
	mUnknownAge = prometheus.NewDesc("splynxpay_reconciler_oldest_age_seconds",
		"Age of the oldest unknown attempt (0 when none).", nil, nil)
	mUp = prometheus.NewDesc("splynxpay_database_up",
		"1 when the database answered this scrape.", nil, nil)
)

func (c *dbCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{mSyncAge, mSyncDur, mRows, mAttempts, mCharged, mSettled, mPending, mBacklog,
		mBacklogAge, mUnknown, mUnknownAge, mUp} {
		ch <- d
	}
}

func (c *dbCollector) Collect(ch chan<- prometheus.Metric) {
	db := c.s.Deps().DB
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	if db == nil {
		gauge(mUp, 0)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	now := c.s.Deps().Clock.Now()
	age := func(t time.Time) float64 {
		if t.IsZero() {
			return 0
		}
		return now.Sub(t).Seconds()
	}
	b, err := db.Backlog(ctx)
	if err != nil {
		c.s.Logger().Warn("metrics: read backlog", zap.Error(err))
		gauge(mUp, 0)
		return
	}
	gauge(mUp, 1)
	for _, st := range []store.AttemptState{store.StateCreated, store.StateSending, store.StateUnknown, store.StatePending,
		store.StateApproved, store.StateDeclined, store.StateRecorded, store.StateReversed} {
		gauge(mAttempts, float64(b.AttemptsByState[string(st)]), string(st))
	}
	gauge(mCharged, float64(b.ChargedTotal)/100)
	gauge(mSettled, float64(b.SettledTotal)/100)
	gauge(mPending, float64(b.PendingAmount)/100)
	gauge(mBacklog, float64(b.OutboxPending), "pending")
	gauge(mBacklog, float64(b.OutboxFailed), "failed")
	gauge(mBacklogAge, age(b.OutboxOldest))
	gauge(mUnknown, float64(b.Unknown))
	gauge(mUnknownAge, age(b.UnknownOldest))
	if cur, err := db.CursorGet(ctx, mirrorCursor); err == nil && !cur.LastRun.IsZero() {
		gauge(mSyncAge, age(cur.LastRun))
	}
	for _, kind := range []string{"full", "incremental"} {
		if es, err := db.AuditLog(ctx, "mirror."+kind, 1); err == nil && len(es) == 1 {
			if s, ok := es[0].Fields["started"].(string); ok {
				if start, err := time.Parse(time.RFC3339, s); err == nil {
					gauge(mSyncDur, es[0].At.Sub(start).Seconds(), kind)
				}
			}
		}
	}
	if rows, err := db.MirrorRows(ctx); err == nil {
		for table, n := range rows {
			gauge(mRows, float64(n), table)
		}
	}
}
