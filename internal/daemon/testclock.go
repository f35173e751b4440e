//go:build !nodemo

package daemon

import (
	"os"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/splynx-pay/splynx-pay/internal/clock"
)

// skewClock is the wall clock plus the duration in a file.
type skewClock struct {
	path string

	mu     sync.Mutex
	read   time.Time
	offset time.Duration
}

func (c *skewClock) Now() time.Time {
	now := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if now.Sub(c.read) > 100*time.Millisecond {
		c.read = now
		if b, err := os.ReadFile(c.path); err == nil {
			if d, err := time.ParseDuration(strings.TrimSpace(string(b))); err == nil && d > c.offset {
				// Only forward: time seen by one process never goes back.
				c.offset = d
			}
		}
	}
	return now.Add(c.offset)
}

// useTestClock switches the app (and its gateway clients) to the skewed
// clock when TestClockEnv is set.
func useTestClock(app *App) {
	path := ""
	for _, kv := range app.Environ {
		if v, ok := strings.CutPrefix(kv, TestClockEnv+"="); ok {
			path = v
		}
	}
	if path == "" {
		return
	}
	c := &skewClock{path: path}
	// The gateway clients are built with app.Clock (Addon.Gateway takes it).
	app.Clock = c
	app.Log.Warn("test clock in use: time is the wall clock plus the duration in the file", zap.String("file", path),
		zap.Time("now", c.Now()))
}

var _ clock.Clock = (*skewClock)(nil)
