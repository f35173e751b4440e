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

// SyncEntities are the mirror's sync cursors shown on the status page.
var SyncEntities = []string{"mirror", "customers", "invoices", "proformas"}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	var h Health
	if s.opts.Health != nil {
		h = s.opts.Health(ctx)
	} else {
		h = Health{OK: true, DB: "ok"}
		if s.opts.Deps.DB == nil {
			h = Health{DB: errNoDB.Error(), Problem: "database: " + errNoDB.Error()}
		} else if err := s.opts.Deps.DB.Ping(ctx); err != nil {
			h = Health{DB: "error", Problem: "database: ping failed"}
			s.log.Warn("health: database ping", zap.Error(err))
		}
	}
	w.Header().Set("Content-Type", "application/json")
	if !h.OK {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	_ = json.NewEncoder(w).Encode(h)
}

type statusData struct {
	Health        Health
	Schema        int
	Counts        store.MirrorCounts
	CountsErr     string
	Cursors       []store.Cursor
	Bootstrap     []config.Entry
	Settings      []config.Entry
	SettingsError string
}

func (s *Server) status(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	d := statusData{Health: Health{OK: true, DB: "ok"}}
	if s.opts.Health != nil {
		d.Health = s.opts.Health(ctx)
	}
	if db := s.opts.Deps.DB; db != nil {
		if c, err := db.Counts(ctx); err != nil {
			d.CountsErr = "cannot count the mirror (see the log)"
			s.log.Warn("status: count mirror", zap.Error(err))
		} else {
			d.Counts = c
		}
		d.Schema, _ = db.SchemaVersion(ctx)
		for _, e := range SyncEntities {
			if c, err := db.CursorGet(ctx, e); err == nil && (!c.LastRun.IsZero() || !c.LastFull.IsZero()) {
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
