package ippay

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/splynx-pay/splynx-pay/gateways"
	"github.com/splynx-pay/splynx-pay/internal/clock"
)

// sixDigits is any run ScrubDigits would mask: none may survive parsing.
var sixDigits = regexp.MustCompile(`\d(?:[ -]?\d){5,}`)

// FuzzParseResponse feeds arbitrary bodies to the reply parser. Whatever
// arrives, it must not panic, must either fail with ErrMalformed or yield
// an ActionCode, must leave no card-number-like digit run in any text that
// can reach a log or an Outcome, and the outcome must be one of the final
// or pending statuses (never Unknown: a readable reply is an answer).
// Seeds: testdata/fuzz/FuzzParseResponse plus the golden response files.
func FuzzParseResponse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "golden", "response_*.xml"))
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	c, err := New(Config{URL: TestURL, CardTerminalID: "T"}, WithClock(clock.NewFake(time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC))))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := parseResponse(body)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "ippay: malformed response") {
				t.Fatalf("error %q does not wrap ErrMalformed", err)
			}
			checkSafe(t, "error", err.Error())
			return
		}
		if r.ActionCode == "" {
			t.Fatal("parsed without an ActionCode")
		}
		for name, s := range map[string]string{"ResponseText": r.ResponseText, "ErrMsg": r.ErrMsg, "AdditionalInfo": r.AdditionalInfo, "text": r.text()} {
			checkSafe(t, name, s)
		}
		for _, kind := range []gateways.MethodKind{gateways.Card, gateways.Bank} {
			o := c.outcome(kind, "SPFUZZ000000000000", "SPFUZZ000000000000", 100, r)
			switch o.Status {
			case gateways.Approved, gateways.Pending, gateways.Declined:
			default:
				t.Fatalf("status %q from %q", o.Status, body)
			}
			if (o.Status == gateways.Declined) == r.ok() {
				t.Fatalf("status %s disagrees with ok()=%v", o.Status, r.ok())
			}
			checkSafe(t, "Message", o.Message)
		}
	})
}

func checkSafe(t *testing.T, name, s string) {
	t.Helper()
	if m := sixDigits.FindString(s); m != "" {
		t.Fatalf("%s keeps digit run %q: %q", name, m, s)
	}
	if !utf8.ValidString(s) {
		t.Fatalf("%s is not valid UTF-8: %q", name, s)
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			t.Fatalf("%s has control character %U: %q", name, r, s)
		}
	}
}
