package web

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"go.uber.org/zap"

	"github.com/splynx-pay/splynx-pay/internal/config"
	"github.com/splynx-pay/splynx-pay/store"
)

// The mirror's sync cursors: the whole pass, and one per entity.
const mirrorCursor = "mirror"

// SyncEntities are the per-entity cursors shown on the status page.
var SyncEntities = []string{"customers", "invoices", "proformas"}

// registerStatus serves the health check and the status page.
func (s *Server) registerStatus() error {
	if s.opts.Prefix != "" {
		// Local checks (systemd, doctor) hit the daemon directly, without
		// nginx's prefix.
		s.mux.HandleFunc("GET /healthz", s.healthz)
	}
	s.Handle("GET /healthz", http.HandlerFunc(s.healthz))
	s.Handle("GET /status", s.RequireAdmin(http.HandlerFunc(s.status)))
	// GET /{$} is the customers' balance refill (portal.go), which sends
	// administrators on to /status.
	s.AddNav(NavItem{Title: "Status", Path: "/status", Order: 0})
	return nil
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	var h Health
	if s.opts.Health != nil {
		h = s.opts.Health(ctx)
	} else {
		h = s.defaultHealth(ctx)
	}
	w.Header().Set("Content-Type", "application/json")
	if !h.OK {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	_ = json.NewEncoder(w).Encode(h)
}

// defaultHealth is the database ping and the mirror's last pass, for a
// server without the daemon's own health check (the demo).
func (s *Server) defaultHealth(ctx context.Context) Health {
	db := s.opts.Deps.DB
	if db == nil {
		return Health{DB: errNoDB.Error(), Problem: "database: " + errNoDB.Error()}
	}
	if err := db.Ping(ctx); err != nil {
		s.log.Warn("health: database ping", zap.Error(err))
		return Health{DB: "error", Problem: "database: ping failed"}
	}
	h := Health{OK: true, DB: "ok"}
	if c, err := db.CursorGet(ctx, mirrorCursor); err == nil && !c.LastRun.IsZero() {
		h.LastSync = c.LastRun
		h.LastSyncAge = s.opts.Deps.Clock.Now().Sub(c.LastRun).Round(time.Second).String()
	}
	return h
}

type statusData struct {
	Health        Health
	Schema        int
	Counts        store.MirrorCounts
	CountsErr     string
	Pass          store.Cursor
	Cursors       []store.Cursor
	Bootstrap     []config.Entry
	Settings      []config.Entry
	SettingsError string
}

func (s *Server) status(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	var d statusData
	if s.opts.Health != nil {
		d.Health = s.opts.Health(ctx)
	} else {
		d.Health = s.defaultHealth(ctx)
	}
	if db := s.opts.Deps.DB; db != nil {
		if c, err := db.Counts(ctx); err != nil {
			d.CountsErr = "cannot count the mirror (see the log)"
			s.log.Warn("status: count mirror", zap.Error(err))
		} else {
			d.Counts = c
		}
		d.Schema, _ = db.SchemaVersion(ctx)
		d.Pass, _ = db.CursorGet(ctx, mirrorCursor)
		for _, e := range SyncEntities {
			if c, err := db.CursorGet(ctx, e); err == nil && !c.LastSeen.IsZero() {
				d.Cursors = append(d.Cursors, c)
			}
		}
	}
	if s.opts.Bootstrap != nil {
		d.Bootstrap = s.opts.Bootstrap.Redacted()
	}
	if s.opts.Deps.Settings != nil {
		st, err := s.opts.Deps.Settings(ctx)
		if err != nil {
			// Setting errors name a key and never carry a secret value.
			d.SettingsError = err.Error()
		}
		d.Settings = st.Redacted()
	}
	s.Render(w, r, "status.html", "Status", d)
}
