package charge

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// LeaseID names this process on the write-back leases it takes:
// "host:pid:random". A restarted daemon on the same host sees that the pid
// of an older lease is gone and takes the lease back at once instead of
// waiting for it to expire (the random part tells a reused pid apart in
// the logs; liveness is decided by the pid).
func LeaseID() string {
	host, _ := os.Hostname()
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s:%d:%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

// leaseDead reports whether owner is a lease id of a process on this host
// that no longer runs. Leases of other hosts, of this process, or in a form
// we do not know are left to expire.
func leaseDead(owner, self string) bool {
	if owner == "" || owner == self {
		return false
	}
	host, rest, ok := strings.Cut(owner, ":")
	if !ok {
		return false
	}
	pidText, _, _ := strings.Cut(rest, ":")
	pid, err := strconv.Atoi(pidText)
	if err != nil || pid <= 0 {
		return false
	}
	me, _ := os.Hostname()
	if host != me {
		return false
	}
	if pid == os.Getpid() {
		// This process under another id (an engine made earlier): alive.
		return false
	}
	err = syscall.Kill(pid, 0)
	return err != nil && !errors.Is(err, syscall.EPERM)
}
