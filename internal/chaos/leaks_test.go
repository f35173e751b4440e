package chaos

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// The leak scan of the chaos run looks for each number the run gives the
// gateway: the test card number, each bank account on its own (the AU one
// in the database files only) and with its BSB or ABA routing number, as
// the gateways' requests and a careless log line would carry them.
//
// The CVV ("123" in the run's card requests) is not a pattern: three
// digits turn up in any database or log by chance, so a scan for them would
// report a leak on every run.
func TestSecretsCoverTheTestNumbers(t *testing.T) {
	values := func(ss []Secret) []string {
		var out []string
		for _, s := range ss {
			if s.Name == "" || s.Value == "" {
				t.Errorf("secret without a name or value: %+v", s)
			}
			out = append(out, s.Value)
		}
		return out
	}
	everywhere, dbOnly := values(Secrets()), values(DatabaseSecrets())
	for _, want := range []struct{ what, value string }{
		{"test card number", TestPAN},
		{"US account number", TestUSAcct},
		{"ABA+account", TestABA + TestUSAcct},
		{"BSB+account", TestBSB + TestAUAcct},
	} {
		if !slices.Contains(everywhere, want.value) {
			t.Errorf("Secrets() lacks the %s %s", want.what, want.value)
		}
	}
	if !slices.Contains(dbOnly, TestAUAcct) {
		t.Errorf("DatabaseSecrets() lacks the AU account number %s", TestAUAcct)
	}

	// Every number literal in the code that saves test details through the
	// simulators (the chaos run, and the demo's night, which uses the same
	// numbers) is one of the patterns, or the routing part of one. A new
	// test card or account there without a pattern here fails.
	all := append(everywhere, dbOnly...)
	number := regexp.MustCompile(`"([0-9][0-9 ]{4,}[0-9])"`) // "4111111111111111", "4111 1111 1111 1111"
	if number.FindStringSubmatch(`Number: "`+TestPAN+`",`) == nil {
		t.Fatal("the number pattern misses a card number literal")
	}
	seen := 0
	for _, dir := range []string{"../../cmd/splynx-chaos", "../demo"} {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil || len(files) == 0 {
			t.Fatalf("%s: %v %d files", dir, err, len(files))
		}
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range number.FindAllStringSubmatch(string(b), -1) {
				digits := strings.ReplaceAll(m[1], " ", "")
				if len(digits) < 6 {
					continue
				}
				seen++
				if !slices.ContainsFunc(all, func(v string) bool { return strings.Contains(v, digits) }) {
					t.Errorf("%s: test number %q is in no leak pattern: add it to Secrets or DatabaseSecrets", f, m[1])
				}
			}
		}
	}
	if !t.Failed() {
		t.Logf("%d number literals in the chaos run's and the demo's code, each in a pattern", seen)
	}
}
