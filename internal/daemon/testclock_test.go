//go:build !nodemo

package daemon

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/splynx-pay/splynx-pay/internal/clock"
)

// The test clock is off unless its variable is set; then it is the wall
// clock plus the file's duration, re-read, and never moves back.
func TestTestClock(t *testing.T) {
	app := &App{Addon: testAddon, Log: nopLogger(), Clock: clock.Real{}}
	useTestClock(app)
	if _, ok := app.Clock.(clock.Real); !ok {
		t.Fatal("the test clock is on without " + TestClockEnv)
	}
	path := filepath.Join(t.TempDir(), "offset")
	os.WriteFile(path, []byte("48h\n"), 0o600)
	app.Environ = []string{TestClockEnv + "=" + path}
	useTestClock(app)
	skew := func() time.Duration { return app.Clock.Now().Sub(time.Now()).Round(time.Hour) }
	if d := skew(); d != 48*time.Hour {
		t.Fatalf("skew %s, want 48h", d)
	}
	os.WriteFile(path, []byte("72h"), 0o600)
	time.Sleep(150 * time.Millisecond)
	if d := skew(); d != 72*time.Hour {
		t.Fatalf("skew %s after the file changed, want 72h", d)
	}
	os.WriteFile(path, []byte("1h"), 0o600)
	time.Sleep(150 * time.Millisecond)
	if d := skew(); d != 72*time.Hour {
		t.Fatalf("the clock went back to %s", d)
	}
	if app.Addon.Gateway == nil {
		t.Fatal("no gateway builder on the test clock")
	}
}
