package web

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/splynx-pay/splynx-pay/splynx"
)

// SplynxSessionCookie is the Splynx web session cookie. nginx serves the
// add-on's pages on the Splynx host, so the browser sends it along, and the
// daemon asks Splynx (auth_type=session) who holds it.
const SplynxSessionCookie = "PHPSESSID"

// adminCacheFor is how long a session confirmed as an administrator is
// trusted before Splynx is asked again.
const adminCacheFor = 5 * time.Minute

type adminGate struct {
	mu    sync.Mutex
	until map[[32]byte]time.Time
}

// RequireAdmin lets a request through only for a Splynx administrator,
// identified by Splynx itself from the visitor's session cookie. Two cases
// pass without a session: the demo (Options.Demo: simulated data on
// 127.0.0.1), and a
// request made on the server itself straight to the daemon rather than
// through nginx (an operator's curl, the doctor command).
func (s *Server) RequireAdmin(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		deps := s.opts.Deps
		if s.opts.Demo || localDirect(r) {
			h.ServeHTTP(w, r)
			return
		}
		ck, err := r.Cookie(SplynxSessionCookie)
		if err != nil || ck.Value == "" {
			s.Error(w, r, http.StatusForbidden, "Open this page from the Splynx administration.", nil)
			return
		}
		key := sha256.Sum256([]byte(ck.Value))
		now := deps.Clock.Now()
		s.admins.mu.Lock()
		until, ok := s.admins.until[key]
		s.admins.mu.Unlock()
		if !ok || now.After(until) {
			sp := deps.Splynx
			if sp == nil {
				s.Error(w, r, http.StatusServiceUnavailable, "Splynx is not configured.", nil)
				return
			}
			if err := splynxAdmin(r.Context(), sp, ck.Value); err != nil {
				s.Error(w, r, http.StatusForbidden, "Only Splynx administrators may see this page.", err)
				return
			}
			s.admins.mu.Lock()
			if s.admins.until == nil {
				s.admins.until = map[[32]byte]time.Time{}
			}
			s.admins.until[key] = now.Add(adminCacheFor)
			s.admins.mu.Unlock()
		}
		h.ServeHTTP(w, r)
	})
}

// splynxAdmin asks Splynx whether the session belongs to an administrator.
func splynxAdmin(ctx context.Context, sp *splynx.Client, session string) error {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	who, err := sp.LoginSession(ctx, session)
	if err != nil {
		return fmt.Errorf("session login: %w", err)
	}
	id := who.Identity()
	switch {
	case id.AdminID != 0:
		return nil
	case id.CustomerID != 0:
		return errors.New("the session belongs to a customer")
	}
	// Splynx left the ids out: a read only administrators may make decides
	// (admin/api/check would not do: it answers without credentials).
	if _, err := who.CountCustomers(ctx, splynx.Search{Limit: 1}); err != nil {
		return fmt.Errorf("the session cannot read customers through the admin API: %w", err)
	}
	return nil
}

// localDirect reports a request from the server itself that did not come
// through a proxy: nginx (on the same host) always adds these headers.
func localDirect(r *http.Request) bool {
	if r.Header.Get("X-Forwarded-For") != "" || r.Header.Get("X-Real-IP") != "" || r.Header.Get("Forwarded") != "" {
		return false
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
