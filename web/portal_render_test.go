package web

import (
	"fmt"
	"html/template"
	"testing"
)

// The expiry options come from a cache of html/template output: the same
// markup as the loop they replace, the chosen value marked, anything else
// marking none, values escaped, and a bounded cache.
func TestOptionSets(t *testing.T) {
	var o optionSets
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
			got, err := o.options(tc.values, tc.chosen)
			if err != nil || got != tc.want {
				t.Fatalf("options(%q, %q) = %q, %v; want %q", tc.values, tc.chosen, got, err, tc.want)
			}
		}
	}
	for i := range 1000 {
		if _, err := o.options([]string{fmt.Sprint(i)}, ""); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(o.m); n > 256 {
		t.Fatalf("%d option sets kept", n)
	}
}
