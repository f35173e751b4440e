// Command splynx-chaos proves the shipped binaries under fire: for each
// add-on it starts splynx-sim (-control) and the real daemon binary as
// separate processes, seeds saved methods, keeps adding invoices, runs the
// nightly charge, settlement and admin `charge` commands while injecting
// faults on both sides and killing the daemon with SIGKILL at random
// moments, then lets it finish without faults and compares the gateway's,
// Splynx's and the database's ledgers (internal/chaos).
//
//	splynx-chaos -bin bin -seed 42 -kills 50
//
// It prints the seed first (the same seed replays the same faults, kill
// times and invoices; process scheduling still varies), one line per
// add-on at the end, and exits 1 unless every loss figure is zero.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/splynx-pay/splynx-pay/internal/chaos"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// Options size one chaos run.
type Options struct {
	Bin       string
	Seed      int64
	Kills     int
	Customers int
	Invoices  int
	Methods   int
	Addons    []string
	Work      string
	Keep      bool
	Verbose   bool
	// Attach finishes and checks a run whose checker was stopped: the
	// add-on's simulator URL (its -work folder holds the database).
	Attach map[string]string
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("splynx-chaos", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o Options
	fs.StringVar(&o.Bin, "bin", "bin", "directory holding splynx-sim, splynx-integrapay and splynx-ippay")
	fs.Int64Var(&o.Seed, "seed", 0, "random seed (0: from the clock; printed either way)")
	fs.IntVar(&o.Kills, "kills", 50, "SIGKILLs of the daemon per add-on")
	fs.IntVar(&o.Customers, "customers", 800, "customers seeded in the simulated Splynx")
	fs.IntVar(&o.Invoices, "invoices", 3000, "invoices seeded in the simulated Splynx")
	fs.IntVar(&o.Methods, "methods", 300, "customers given a saved card or bank account")
	addons := fs.String("addons", "integrapay,ippay", "add-ons to run, comma-separated")
	fs.StringVar(&o.Work, "work", "", "working directory (default: a new temporary one)")
	fs.BoolVar(&o.Keep, "keep", false, "keep the working directory (databases, logs) afterwards")
	fs.BoolVar(&o.Verbose, "v", false, "print each cycle")
	attach := fs.String("attach", "", "finish and check a stopped run instead: integrapay=URL,ippay=URL of its running simulators (with -work DIR -keep -kills N done)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *attach != "" {
		o.Attach = map[string]string{}
		for _, kv := range strings.Split(*attach, ",") {
			a, u, _ := strings.Cut(kv, "=")
			o.Attach[a] = u
		}
	}
	if o.Seed == 0 {
		o.Seed = time.Now().UnixNano() % 1_000_000_000
	}
	for _, a := range strings.Split(*addons, ",") {
		if a = strings.TrimSpace(a); a != "integrapay" && a != "ippay" {
			fmt.Fprintf(stderr, "splynx-chaos: -addons: unknown add-on %q\n", a)
			return 2
		}
		o.Addons = append(o.Addons, strings.TrimSpace(a))
	}
	if o.Work == "" {
		dir, err := os.MkdirTemp("", "splynx-chaos-")
		if err != nil {
			fmt.Fprintln(stderr, "splynx-chaos:", err)
			return 1
		}
		o.Work = dir
	}
	if !o.Keep {
		defer os.RemoveAll(o.Work)
	}
	fmt.Fprintf(stdout, "splynx-chaos: seed %d, %d kills per add-on, %d customers, %d invoices, %d saved methods (replay: make chaos SEED=%d KILLS=%d)\n",
		o.Seed, o.Kills, o.Customers, o.Invoices, o.Methods, o.Seed, o.Kills)
	start := time.Now()
	// The add-ons run side by side, each with its own simulator, daemon
	// and database.
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		results = make([]result, len(o.Addons))
	)
	for i, a := range o.Addons {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lw := &lockedWriter{mu: &mu, w: stdout, prefix: a + ": "}
			f, err := runAddon(ctx, o, a, int64(i), lw)
			results[i] = result{f, err}
		}()
	}
	wg.Wait()
	code := 0
	fmt.Fprintf(stdout, "\nsplynx-chaos: seed %d, %s\n", o.Seed, time.Since(start).Round(time.Second))
	for i, r := range results {
		if r.err != nil {
			fmt.Fprintf(stdout, "%s: FAILED to run: %v\n", o.Addons[i], r.err)
			code = 1
			continue
		}
		for _, p := range append(append(r.f.Problems, r.f.Leaks...), r.f.PageErrors...) {
			fmt.Fprintf(stdout, "  %s: %s\n", o.Addons[i], p)
		}
		fmt.Fprintln(stdout, r.f.Line())
		fmt.Fprintln(stdout, r.f.SafetyLine())
		if r.f.Work != "" {
			fmt.Fprintln(stdout, r.f.Work)
		}
		if r.f.Failed() {
			code = 1
		}
	}
	if o.Keep {
		fmt.Fprintf(stdout, "splynx-chaos: databases and logs kept in %s\n", o.Work)
	}
	if code != 0 {
		fmt.Fprintf(stdout, "splynx-chaos: FAIL (seed %d)\n", o.Seed)
	} else {
		fmt.Fprintln(stdout, "splynx-chaos: PASS")
	}
	return code
}

type result struct {
	f   chaos.Figures
	err error
}

// lockedWriter prefixes lines of one add-on so two running side by side
// stay readable.
type lockedWriter struct {
	mu     *sync.Mutex
	w      io.Writer
	prefix string
}

func (l *lockedWriter) Printf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, l.prefix+format+"\n", args...)
}

func addonBinary(o Options, addon string) string {
	return filepath.Join(o.Bin, "splynx-"+addon)
}
