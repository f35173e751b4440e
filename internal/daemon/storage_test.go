package daemon

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// mountTmpfs mounts a small tmpfs (root only; skipped elsewhere) so the
// test can fill it. (A read-only remount under the daemon cannot be
// tested this way: the kernel refuses it while the file is open for
// writing; StorageProblem maps SQLITE_READONLY the same way.)
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a tmpfs")
	}
	dir := filepath.Join(t.TempDir(), "mnt")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here: %v %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", "-l", dir).Run() })
	return dir
}

// fillDisk writes a file until the file system is full.
func fillDisk(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 4096)
	for {
		if _, err := f.Write(buf); err != nil {
			if errors.Is(err, syscall.ENOSPC) {
				return path
			}
			t.Fatal(err)
		}
	}
}

type healthz struct {
	OK      bool   `json:"ok"`
	DB      string `json:"db"`
	Problem string `json:"problem"`
}

func getHealth(t *testing.T, addr string) healthz {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/integrapay/healthz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var h healthz
	_ = json.NewDecoder(resp.Body).Decode(&h)
	return h
}

func waitHealth(t *testing.T, addr string, what string, ok func(healthz) bool, log *syncBuffer) healthz {
	t.Helper()
	deadline := time.Now().Add(40 * time.Second)
	for {
		h := getHealth(t, addr)
		if ok(h) {
			return h
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: /healthz stayed %+v\n%s", what, h, log.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

var listenRE = regexp.MustCompile(`"msg":"daemon started".*"listen":"([^"]+)"`)

// The database's disk fills up, then the database is locked by another
// process, under a running daemon: each time /healthz names the
// cause in one line, the log says it once, no job starts meanwhile, and
// the daemon resumes by itself when the storage does.
func TestStorageFaultsStopJobsAndResume(t *testing.T) {
	dir := mountTmpfs(t, "8m")
	_, u := startSims(t, 5, 10)
	env := goodEnv(t, u.Splynx)
	env["SPLYNXPAY_DB_PATH"] = filepath.Join(dir, "pay.db")
	env["SPLYNXPAY_SYNC_SCHEDULE"] = "@every 1s"
	env["SPLYNXPAY_SETTLE_SCHEDULE"] = "@every 1s"
	setEnv(t, env)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stderr syncBuffer
	done := make(chan int, 1)
	go func() { done <- MainContext(ctx, testAddon, []string{"run"}, io.Discard, &stderr) }()
	defer func() { cancel(); <-done }()

	var addr string
	for deadline := time.Now().Add(20 * time.Second); addr == ""; time.Sleep(50 * time.Millisecond) {
		if m := listenRE.FindStringSubmatch(stderr.String()); m != nil {
			addr = m[1]
		}
		if time.Now().After(deadline) {
			t.Fatalf("daemon did not start: %s", stderr.String())
		}
	}
	healthy := func(h healthz) bool { return h.OK && h.DB == "ok" }
	waitHealth(t, addr, "start", healthy, &stderr)

	steps := []struct {
		name    string
		problem string
		break_  func() func()
	}{
		{"disk full", "disk full", func() func() {
			filler := fillDisk(t, dir)
			return func() { os.Remove(filler) }
		}},
		{"locked", "locked by another process", func() func() {
			other, err := sql.Open("sqlite3", "file:"+env["SPLYNXPAY_DB_PATH"]+"?_txlock=exclusive")
			if err != nil {
				t.Fatal(err)
			}
			tx, err := other.Begin()
			if err != nil {
				t.Fatal(err)
			}
			return func() { tx.Rollback(); other.Close() }
		}},
	}
	for _, st := range steps {
		before := strings.Count(stderr.String(), "database cannot write;")
		fix := st.break_()
		h := waitHealth(t, addr, st.name, func(h healthz) bool { return !h.OK }, &stderr)
		if !strings.Contains(h.Problem, st.problem) || strings.Contains(h.Problem, "\n") {
			fix()
			t.Fatalf("%s: /healthz problem %q, want one line naming %q", st.name, h.Problem, st.problem)
		}
		// Jobs wait while it lasts.
		mark := len(stderr.String())
		// A locked database holds the probe for the busy timeout (10 s).
		for deadline := time.Now().Add(25 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			if strings.Contains(stderr.String()[mark:], "job not started") {
				break
			}
		}
		during := stderr.String()[mark:]
		if strings.Contains(during, `"msg":"job done"`) || !strings.Contains(during, "job not started") {
			fix()
			t.Fatalf("%s: jobs ran or were not held back:\n%s", st.name, during)
		}
		fix()
		waitHealth(t, addr, st.name+" fixed", healthy, &stderr)
		log := stderr.String()
		if n := strings.Count(log, "database cannot write;") - before; n != 1 {
			t.Fatalf("%s: logged %d times, want once", st.name, n)
		}
		if !strings.Contains(log[mark:], "database writable again") {
			t.Fatalf("%s: no resume line", st.name)
		}
		// Jobs run again.
		mark = len(stderr.String())
		deadline := time.Now().Add(20 * time.Second)
		for !strings.Contains(stderr.String()[mark:], `"msg":"job done"`) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: no job ran after the fix:\n%s", st.name, stderr.String()[mark:])
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}
