package web

import (
	"fmt"
	"html/template"
	"testing"
)

// The expiry options come from a cache of html/template output: the same
// markup as the loop they replace, the chosen value marked, anything else
// marking none, values escaped, and a bounded cache.
func TestExpiryOptions(t *testing.T) {
	p := &portal{}
	for _, tc := range []struct {
		values []string
		chosen string
		want   template.HTML
	}{
		{[]string{"01", "02"}, "", `<option value="01">01</option><option value="02">02</option>`},
		{[]string{"01", "02"}, "02", `<option value="01">01</option><option value="02" selected>02</option>`},
		{[]string{"01", "02"}, `02"><script>`, `<option value="01">01</option><option value="02">02</option>`},
		{[]string{`a"b`, "<c>"}, "<c>", `<option value="a&#34;b">a&#34;b</option><option value="&lt;c&gt;" selected>&lt;c&gt;</option>`},
	} {
		for range 2 { // rendered, then from the cache
			got, err := p.options(tc.values, tc.chosen)
			if err != nil || got != tc.want {
				t.Fatalf("options(%q, %q) = %q, %v; want %q", tc.values, tc.chosen, got, err, tc.want)
			}
		}
	}
	for i := range 1000 {
		if _, err := p.options([]string{fmt.Sprint(i)}, ""); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(p.frags.m); n > fragmentsMax {
		t.Fatalf("%d option sets kept", n)
	}
}

// The menu likewise: the current page marked (and only a page of the
// menu), titles escaped, paths under the prefix.
func TestNavLinks(t *testing.T) {
	s := &Server{opts: Options{Prefix: "/integrapay"}}
	s.navTmpl = template.Must(template.New("nav").Funcs(s.funcs()).Parse(navTmpl))
	nav := []NavItem{{Title: "Make a payment", Path: "/invoices"}, {Title: "A & <b>", Path: "/"}}
	for _, tc := range []struct {
		current string
		want    template.HTML
	}{
		{"/invoices", `<a href="/integrapay/invoices" class="on">Make a payment</a><a href="/integrapay/">A &amp; &lt;b&gt;</a>`},
		{"/", `<a href="/integrapay/invoices">Make a payment</a><a href="/integrapay/" class="on">A &amp; &lt;b&gt;</a>`},
		{"/pay/invoice/7", `<a href="/integrapay/invoices">Make a payment</a><a href="/integrapay/">A &amp; &lt;b&gt;</a>`},
	} {
		for range 2 {
			got, err := s.navLinks(nav, tc.current)
			if err != nil || got != tc.want {
				t.Fatalf("navLinks(%q) = %q, %v; want %q", tc.current, got, err, tc.want)
			}
		}
	}
	if n := len(s.frags.m); n != 3 {
		t.Fatalf("%d menus kept, want 3 (any page outside the menu shares one)", n)
	}
	if got, _ := s.navLinks(nil, "/"); got != "" {
		t.Fatalf("no menu: %q", got)
	}
}
