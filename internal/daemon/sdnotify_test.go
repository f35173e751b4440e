package daemon

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"
)

// The watchdog pings only while the database answers: a wedged database
// must let systemd's watchdog expire.
func TestWatchdogPingsOnlyWhileAlive(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "n.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	t.Setenv("NOTIFY_SOCKET", sock)
	t.Setenv("WATCHDOG_USEC", "40000") // ping every 20ms
	t.Setenv("WATCHDOG_PID", "")

	var dbUp atomic.Bool
	dbUp.Store(true)
	n := newNotifier(zap.NewNop())
	stop := n.watchdog(context.Background(), func(context.Context) error {
		if dbUp.Load() {
			return nil
		}
		return errors.New("database is locked")
	})
	defer stop()

	count := func(d time.Duration) int {
		pings := 0
		deadline := time.Now().Add(d)
		buf := make([]byte, 64)
		for {
			conn.SetReadDeadline(deadline)
			k, _, err := conn.ReadFromUnix(buf)
			if err != nil {
				return pings
			}
			if strings.TrimSpace(string(buf[:k])) == "WATCHDOG=1" {
				pings++
			}
		}
	}
	if got := count(300 * time.Millisecond); got < 3 {
		t.Fatalf("%d pings while the database answers", got)
	}
	dbUp.Store(false)
	count(200 * time.Millisecond) // a ping already in flight
	if got := count(300 * time.Millisecond); got != 0 {
		t.Fatalf("%d pings while the database is down", got)
	}
}

func TestWatchdogOffWithoutSystemd(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "")
	t.Setenv("WATCHDOG_USEC", "40000")
	n := newNotifier(zap.NewNop())
	if err := n.notify("READY=1"); err != nil {
		t.Fatal(err)
	}
	n.watchdog(context.Background(), func(context.Context) error { return nil })()

	t.Setenv("WATCHDOG_PID", "1")
	if watchdogInterval() != 0 {
		t.Fatal("watchdog meant for another process is used")
	}
}
