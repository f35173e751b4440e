package money

import (
	"strings"
	"testing"
)

// FuzzParse: any text is an amount or an error, never a panic; an amount
// survives String and Parse unchanged; at most two decimals are exact and a
// third rounds half away from zero, never through a float.
// Seeds: testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		a, err := Parse(s)
		if err != nil {
			return
		}
		back, err := Parse(a.String())
		if err != nil || back != a {
			t.Fatalf("%q → %d → %q → %d (%v)", s, a, a.String(), back, err)
		}
		// Dropping digits after the third decimal changes nothing.
		t0 := strings.TrimSpace(s)
		if i := strings.IndexByte(t0, '.'); i >= 0 && len(t0)-i > 4 {
			if b, err := Parse(t0[:i+4]); err != nil || b != a {
				t.Fatalf("%q → %d but %q → %d", s, a, t0[:i+4], b)
			}
		}
	})
}
