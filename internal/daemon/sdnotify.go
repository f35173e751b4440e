package daemon

import (
	"context"
	"net"
	"os"
	"strconv"
	"time"

	"go.uber.org/zap"
)

// notifier speaks systemd's sd_notify protocol: datagrams on the unix
// socket named by NOTIFY_SOCKET. Without that variable (not under systemd,
// or Type=simple) every call is a no-op.
type notifier struct {
	addr *net.UnixAddr
	log  *zap.Logger
}

func newNotifier(log *zap.Logger) *notifier {
	n := &notifier{log: log}
	name := os.Getenv("NOTIFY_SOCKET")
	if name == "" {
		return n
	}
	if name[0] == '@' {
		name = "\x00" + name[1:] // abstract socket
	}
	n.addr = &net.UnixAddr{Name: name, Net: "unixgram"}
	return n
}

func (n *notifier) notify(state string) error {
	if n.addr == nil {
		return nil
	}
	conn, err := net.DialUnix("unixgram", nil, n.addr)
	if err != nil {
		n.log.Warn("sd_notify: dial", zap.Error(err))
		return err
	}
	defer conn.Close()
	// A stuck receiver must not stall the watchdog or shutdown.
	_ = conn.SetWriteDeadline(time.Now().Add(time.Second))
	if _, err := conn.Write([]byte(state)); err != nil {
		n.log.Warn("sd_notify: write", zap.Error(err))
		return err
	}
	return nil
}

// watchdogInterval is half of WATCHDOG_USEC (systemd's advice), or 0 when
// the watchdog is off or meant for another process.
func watchdogInterval() time.Duration {
	usec, err := strconv.ParseInt(os.Getenv("WATCHDOG_USEC"), 10, 64)
	if err != nil || usec <= 0 {
		return 0
	}
	if pid := os.Getenv("WATCHDOG_PID"); pid != "" && pid != strconv.Itoa(os.Getpid()) {
		return 0
	}
	return time.Duration(usec) * time.Microsecond / 2
}

// watchdog pings systemd while alive reports the database answering, so a
// daemon whose database is wedged gets restarted instead of looking alive.
// The returned func stops it.
func (n *notifier) watchdog(ctx context.Context, alive func(context.Context) error) func() {
	every := watchdogInterval()
	if n.addr == nil || every == 0 {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			pctx, pcancel := context.WithTimeout(ctx, every)
			err := alive(pctx)
			pcancel()
			if err != nil {
				n.log.Error("watchdog: database does not answer; not pinging systemd", zap.Error(err))
				continue
			}
			_ = n.notify("WATCHDOG=1")
		}
	}()
	return func() { cancel(); <-done }
}
