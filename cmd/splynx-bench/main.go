// Command splynx-bench measures the daemon's engines against the simulators.
//
//	splynx-bench sync [flags]     full and incremental mirror passes against splynx-sim
//
// Each file of this package adds its subcommand with register from an init
// function, so benchmarks of different engines live side by side without
// touching each other's code.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"
)

type runFunc func(ctx context.Context, args []string, stdout io.Writer) error

var subcommands = map[string]runFunc{}

// register adds a subcommand; called from init functions only.
func register(name string, run runFunc) {
	if _, dup := subcommands[name]; dup {
		panic("splynx-bench: subcommand registered twice: " + name)
	}
	subcommands[name] = run
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: splynx-bench <subcommand> [flags]   (splynx-bench <subcommand> -h for its flags)")
	names := make([]string, 0, len(subcommands))
	for n := range subcommands {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintln(w, "subcommands:")
	for _, n := range names {
		fmt.Fprintln(w, "  "+n)
	}
}

func main() {
	if len(os.Args) < 2 || os.Args[1] == "-h" || os.Args[1] == "--help" || os.Args[1] == "help" {
		usage(os.Stderr)
		os.Exit(2)
	}
	run, ok := subcommands[os.Args[1]]
	if !ok {
		fmt.Fprintf(os.Stderr, "splynx-bench: unknown subcommand %q\n", os.Args[1])
		usage(os.Stderr)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[2:], os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "splynx-bench %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}
