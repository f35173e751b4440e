package web

import (
	"fmt"
	"html/template"
	"strings"
	"testing"
	"time"

	"github.com/splynx-pay/splynx-pay/internal/config"
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

// A blank card or bank form comes from the cache, the same markup as a
// fresh rendering; a form shown again with values or mistakes is rendered
// each time, its values escaped.
func TestFormFields(t *testing.T) {
	s := &Server{opts: Options{Prefix: "/integrapay"}}
	s.navTmpl = template.Must(template.New("nav").Funcs(s.funcs()).Parse(navTmpl))
	s.layout = template.Must(template.New("layout.html").Funcs(s.funcs()).ParseFS(templateFS, "templates/layout.html"))
	p := &portal{s: s, pages: map[string]*template.Template{}}
	if err := p.parse(); err != nil {
		t.Fatal(err)
	}
	d := NewDetails{BankOK: true, Ag: agreementFor(config.IntegraPay), Kind: string(config.IntegraPay)}
	d.Months, d.Years = expiryChoices(time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC))
	d.Bank.AccountType = "CHECKING"
	for _, name := range []string{"cardfields", "bankfields"} {
		var fresh strings.Builder
		if err := p.fields.ExecuteTemplate(&fresh, name, d); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			got, err := p.formFields(name, d)
			if err != nil || string(got) != fresh.String() {
				t.Fatalf("%s: %v\n got %q\nwant %q", name, err, got, fresh.String())
			}
		}
	}
	kept := len(p.frags.m)
	d.Bank.Name, d.Bank.Errors = "J & <b>", map[string]string{"bsb": "Enter the BSB <6 digits>."}
	got, err := p.formFields("bankfields", d)
	if err != nil || !strings.Contains(string(got), `value="J &amp; &lt;b&gt;"`) ||
		!strings.Contains(string(got), "Enter the BSB &lt;6 digits&gt;.") || strings.Contains(string(got), "<b>") {
		t.Fatalf("bank form shown again: %v\n%s", err, got)
	}
	d.Bank = bankForm{AccountType: "CHECKING"}
	d.Card.ExpMonth = "03"
	if got, _ := p.formFields("cardfields", d); !strings.Contains(string(got), `<option value="03" selected>`) {
		t.Fatalf("card form shown again without its month: %s", got)
	}
	if n := len(p.frags.m); n != kept+1 { // the month's options, not the forms
		t.Fatalf("%d fragments kept after forms with values, want %d", n, kept+1)
	}
	if _, err := p.formFields("nosuch", d); err == nil {
		t.Fatal("unknown form template rendered")
	}
}
