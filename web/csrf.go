package web

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strings"
)

// CSRF protection: the browser holds a random value in a cookie, and every
// state-changing request must also carry HMAC(key, that value) in a form
// field or header. A page on another site can make the browser send the
// cookie but cannot read it, so it cannot compute the token; and because
// the token is an HMAC under a key only the daemon has, planting a cookie
// (from a sibling subdomain) does not help either.
const (
	CSRFCookie = "splynxpay_csrf"
	CSRFField  = "csrf_token"
	CSRFHeader = "X-CSRF-Token"
)

type csrfKey struct{}

type csrf struct {
	key    []byte
	path   string
	exempt func(r *http.Request) bool
}

func newCSRF(key []byte, path string) *csrf {
	if len(key) == 0 {
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			panic("web: no randomness for the CSRF key: " + err.Error())
		}
	}
	return &csrf{key: key, path: path}
}

func (c *csrf) token(seed string) string {
	m := hmac.New(sha256.New, c.key)
	m.Write([]byte(seed))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func safeMethod(m string) bool {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return true
	}
	return false
}

func (c *csrf) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seed := ""
		if ck, err := r.Cookie(CSRFCookie); err == nil && len(ck.Value) >= 32 {
			seed = ck.Value
		}
		if !safeMethod(r.Method) && (c.exempt == nil || !c.exempt(r)) {
			sent := r.Header.Get(CSRFHeader)
			if sent == "" {
				sent = r.PostFormValue(CSRFField)
			}
			if seed == "" || sent == "" || !hmac.Equal([]byte(sent), []byte(c.token(seed))) {
				http.Error(w, "Forbidden: the form has expired or did not come from this site. Reload the page and try again.", http.StatusForbidden)
				return
			}
		}
		// Outside the cookie's path (a browser's /favicon.ico) the cookie is
		// not sent, so planting a new one there would replace the visitor's
		// and expire the form they have open.
		if seed == "" && strings.HasPrefix(r.URL.Path, c.path) {
			b := make([]byte, 32)
			if _, err := rand.Read(b); err != nil {
				http.Error(w, "internal error", http.StatusInternalServerError)
				return
			}
			seed = base64.RawURLEncoding.EncodeToString(b)
			http.SetCookie(w, &http.Cookie{
				Name: CSRFCookie, Value: seed, Path: c.path, HttpOnly: true,
				SameSite: http.SameSiteLaxMode, Secure: isHTTPS(r),
			})
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), csrfKey{}, c.token(seed))))
	})
}

// isHTTPS reports whether the visitor reached nginx over TLS.
func isHTTPS(r *http.Request) bool {
	return r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https"
}

// CSRFToken returns the token forms on this request's page must carry in
// the csrf_token field (templates get it as .CSRF).
func CSRFToken(r *http.Request) string {
	t, _ := r.Context().Value(csrfKey{}).(string)
	return t
}
