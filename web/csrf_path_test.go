package web

import (
	"net/http"
	"testing"
)

// A browser asks for /favicon.ico without the add-on's cookie (its path is
// the prefix); answering with a new cookie would replace the visitor's and
// expire the form they have open.
func TestNoCSRFCookieOutsideThePrefix(t *testing.T) {
	_, srv := newTestServer(t, Options{})
	for path, want := range map[string]bool{"/favicon.ico": false, "/integrapay/healthz": true} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		got := false
		for _, c := range resp.Cookies() {
			got = got || c.Name == CSRFCookie
		}
		if got != want {
			t.Errorf("%s: sets the CSRF cookie %v, want %v", path, got, want)
		}
	}
}
