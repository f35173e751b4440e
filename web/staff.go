package web

// What the staff pages (customer tab, overview, audit trail, metrics) share:
// the one accessor that reaches the daemon's components, who the staff
// member is, and their stylesheet.

import (
	"context"
	"crypto/sha256"
	_ "embed"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/splynx-pay/splynx-pay/gateways"
	"github.com/splynx-pay/splynx-pay/splynx"
	"github.com/splynx-pay/splynx-pay/store"
	"github.com/splynx-pay/splynx-pay/sync/charge"
)

// staffBackend is what the staff pages use of the daemon. It is built from
// today's Deps in exactly one place, staffBackendOf, so that a change of
// Deps touches only that function.
type staffBackend struct {
	// Engine returns the charge engine (the daemon's, or one built from the
	// current settings: engines share the database safely).
	Engine func(ctx context.Context) (*charge.Engine, error)
	Splynx *splynx.Client // nil when not configured
	Demo   bool           // simulated data on 127.0.0.1
}

func staffBackendOf(s *Server) staffBackend {
	d := s.Deps()
	en := d.Charge
	if en == nil {
		en = engineFrom(d)
	}
	return staffBackend{Engine: en, Splynx: d.Splynx, Demo: s.opts.Demo}
}

//go:embed staff.css
var staffCSS []byte

// registerStaffStyle serves the staff pages' stylesheet (own file, so the
// shared layout stays as it is).
func (s *Server) registerStaffStyle() error {
	s.Handle("GET /admin/staff.css", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
		_, _ = w.Write(staffCSS)
	}))
	return nil
}

// staffWho names the staff behind requests, for the audit trail.
var staffWho staffNames

// staffAction appends a staff row naming the admin behind r. A failure is
// logged: the action itself is done by then and must not be reported lost.
func staffAction(s *Server, r *http.Request, e store.TrailEntry) {
	e.Actor, e.IP, e.At = staffWho.actor(s, r), clientIP(r), s.Deps().Clock.Now()
	if err := s.Deps().DB.AddTrail(context.WithoutCancel(r.Context()), nil, e); err != nil {
		s.Logger().Error("audit trail row lost", zap.String("kind", e.Kind), zap.Int64("customer_id", e.CustomerID), zap.Error(err))
	}
}

// staffNames remembers who holds a Splynx session, for the audit trail.
type staffNames struct {
	mu    sync.Mutex
	names map[[32]byte]staffName
}

type staffName struct {
	name  string
	until time.Time
}

// actor names the person behind an admin request ("admin alice", "admin
// #7"). RequireAdmin has already let the request through; this only asks
// Splynx (once per session and cache period) whose session it is.
func (n *staffNames) actor(s *Server, r *http.Request) string {
	b := staffBackendOf(s)
	ck, err := r.Cookie(SplynxSessionCookie)
	switch {
	case b.Demo && (err != nil || ck.Value == ""):
		return "demo admin"
	case r.Context().Value(viaAdminToken{}) != nil:
		return "operator (admin token)"
	case err != nil || ck.Value == "" || b.Splynx == nil:
		return "admin (unknown)"
	}
	key := sha256.Sum256([]byte(ck.Value))
	now := s.Deps().Clock.Now()
	n.mu.Lock()
	got, ok := n.names[key]
	n.mu.Unlock()
	if ok && now.Before(got.until) {
		return got.name
	}
	ctx, cancel := context.WithTimeout(r.Context(), 15*time.Second)
	defer cancel()
	name := "admin (unknown)"
	if who, err := b.Splynx.LoginSession(ctx, ck.Value); err == nil {
		id := who.Identity()
		switch {
		case id.Login != "":
			name = "admin " + id.Login
		case id.AdminID != 0:
			name = "admin #" + strconv.FormatInt(id.AdminID, 10)
		}
	} else {
		s.Logger().Warn("cannot tell which admin holds the session: " + err.Error())
	}
	n.mu.Lock()
	if n.names == nil {
		n.names = map[[32]byte]staffName{}
	}
	n.names[key] = staffName{name: name, until: now.Add(adminCacheFor)}
	n.mu.Unlock()
	return name
}

var errNoEngine = errors.New("the charge engine is not available (see the log)")

// refundAmount is what a refund of amount (0: all that is left) of a takes.
func refundAmount(amount int64, a store.ChargeAttempt) int64 {
	if amount == 0 {
		return a.Amount - a.Refunded
	}
	return amount
}

// viewFor is how long the staff pages' views reuse the currency and the
// gateway client: in the daemon each read of the settings asks Splynx for
// the module config, which a page that only shows things should not wait on.
const viewFor = time.Minute

// staffView caches what the staff pages show from the settings.
type staffView struct {
	mu       sync.Mutex
	at       time.Time
	currency string
	gw       gateways.Gateway
}

// get returns the currency ("AUD" when unknown) and the gateway (nil when
// unavailable), reading them at most every viewFor.
func (v *staffView) get(s *Server, ctx context.Context) (string, gateways.Gateway) {
	now := s.Deps().Clock.Now()
	v.mu.Lock()
	defer v.mu.Unlock()
	if !v.at.IsZero() && now.Sub(v.at) < viewFor && !now.Before(v.at) {
		return v.currency, v.gw
	}
	d := s.Deps()
	v.at, v.currency, v.gw = now, "AUD", nil
	if d.Settings != nil {
		if set, err := d.Settings(ctx); err == nil && set.Currency != "" {
			v.currency = set.Currency
		} else if err != nil {
			s.Logger().Warn("staff pages: settings", zap.Error(err))
		}
	}
	if d.Gateway != nil {
		if gw, err := d.Gateway(ctx); err == nil {
			v.gw = gw
		}
	}
	return v.currency, v.gw
}
