package web

import (
	"embed"
	"net/http"
	"path"
)

// The stylesheet (and any other asset) is embedded and served from
// <prefix>/static/, so pages need nothing from another origin and the
// Content-Security-Policy can forbid inline styles and scripts.
//
//go:embed static
var staticFS embed.FS

// registerStatic serves the embedded assets.
func (s *Server) registerStatic() error {
	files := http.FileServerFS(staticFS)
	s.Handle("GET /static/{file}", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := path.Base(r.PathValue("file"))
		if _, err := staticFS.Open("static/" + name); err != nil {
			http.NotFound(w, r)
			return
		}
		// Replaces securityHeaders' no-store: assets hold nothing private.
		w.Header().Set("Cache-Control", "public, max-age=3600")
		r2 := r.Clone(r.Context())
		r2.URL.Path = "/static/" + name
		files.ServeHTTP(w, r2)
	}))
	return nil
}
