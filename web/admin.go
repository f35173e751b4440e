package web

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/splynx-pay/splynx-pay/internal/config"
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
// identified by Splynx itself from the visitor's session cookie, or for a
// request carrying the admin token ("Authorization: Bearer <token>", the
// token being the content of the SPLYNXPAY_ADMIN_TOKEN_FILE file, readable
// only by root and the service user): an operator's curl on the server,
// the doctor command. Where a request comes from is no credential: a
// request from loopback without either is refused like any other. The demo
// (Options.Demo: simulated data on 127.0.0.1) lets every visitor through.
func (s *Server) RequireAdmin(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		deps := s.opts.Deps
		if s.opts.Demo {
			h.ServeHTTP(w, r)
			return
		}
		switch ok, err := s.adminBearer(r); {
		case ok:
			h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), viaAdminToken{}, true)))
			return
		case err != nil:
			w.Header().Set("WWW-Authenticate", `Bearer realm="admin"`)
			s.Error(w, r, http.StatusUnauthorized, "The admin token was not accepted.", err)
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

// viaAdminToken marks a request RequireAdmin let through on the admin
// token (the audit trail names it so).
type viaAdminToken struct{}

// adminBearer checks the request's "Authorization: Bearer" token against
// the admin token file. It reads the file on every call, so a new token
// applies at once and a removed file locks the door. ok is false with a
// nil error when the request carries no bearer token; every other failure
// (no file configured, missing, empty, too short, readable by others,
// wrong token) is an error, never a way in. No error text holds a token.
func (s *Server) adminBearer(r *http.Request) (ok bool, err error) {
	sent, found := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !found || strings.TrimSpace(sent) == "" {
		return false, nil
	}
	want, err := config.ReadAdminToken(s.opts.AdminTokenFile)
	if err != nil {
		return false, err
	}
	// Equal-length digests: the comparison takes the same time whatever
	// was sent, its length included.
	a, b := sha256.Sum256([]byte(strings.TrimSpace(sent))), sha256.Sum256(want)
	if subtle.ConstantTimeCompare(a[:], b[:]) != 1 {
		return false, errors.New("wrong admin token")
	}
	return true, nil
}
