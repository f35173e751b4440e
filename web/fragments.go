package web

// Parts of pages that many views show alike (the menu, a form's select
// options) are rendered by html/template once and then reused: a template
// action costs a call through reflection for every escaper and function
// it runs, and these parts were most of a page view's rendering CPU.

import (
	"html/template"
	"strings"
	"sync"
)

// fragmentsMax bounds what a cache keeps; past it, it starts afresh.
const fragmentsMax = 256

// fragments caches the output of small templates by a key that must
// cover everything the output depends on.
type fragments struct {
	mu sync.Mutex
	m  map[string]template.HTML
}

// render is t executed with data, from the cache when key was rendered
// before. The result is html/template's own escaped output, so it goes
// into the page as it is.
func (f *fragments) render(key string, t *template.Template, data any) (template.HTML, error) {
	f.mu.Lock()
	h, ok := f.m[key]
	f.mu.Unlock()
	if ok {
		return h, nil
	}
	var b strings.Builder
	if err := t.Execute(&b, data); err != nil {
		return "", err
	}
	h = template.HTML(b.String())
	f.mu.Lock()
	if f.m == nil || len(f.m) >= fragmentsMax {
		f.m = map[string]template.HTML{}
	}
	f.m[key] = h
	f.mu.Unlock()
	return h, nil
}

// navTmpl is the page menu with the current page marked; it is executed
// with the server's functions (path).
const navTmpl = `{{range .Nav}}<a href="{{path .Path}}"{{if eq .Path $.Current}} class="on"{{end}}>{{.Title}}</a>{{end}}`

// navLinks is the template function behind {{navlinks .Nav .Current}}.
func (s *Server) navLinks(nav []NavItem, current string) (template.HTML, error) {
	var key strings.Builder
	for _, n := range nav {
		if n.Path == current {
			key.WriteString("*") // the one marked; any other current marks none
		}
		key.WriteString(n.Path + "\x00" + n.Title + "\x00")
	}
	return s.frags.render(key.String(), s.navTmpl, struct {
		Nav     []NavItem
		Current string
	}{nav, current})
}
