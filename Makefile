# splynx-pay: `make demo` and `make test` need only Go (and gcc for SQLite's
# cgo driver, which Go toolchains find on any Debian/Ubuntu with build-essential).

GO       ?= go
BIN      ?= bin
# go.mod's `toolchain` line names the Go release that builds and tests
# everything (go1.27.3: Go before 1.26.10 has standard-library
# vulnerabilities the code calls). Go installs default to GOTOOLCHAIN=local,
# which ignores that line; with auto, a machine whose own Go is older fetches
# the named release from the Go module proxy once (about 76 MB). The `go`
# line stays at 1.26.0 so that a plain `go vet`/`go build` still works with
# an older local Go; the Debian build checks the release it used.
GOTOOLCHAIN ?= auto
export GOTOOLCHAIN
export CGO_ENABLED := 1

# Bench sizes (override: make bench BENCH_CUSTOMERS=10000 BENCH_INVOICES=100000
# for a quick look). The defaults are the issues' figures.
BENCH_CUSTOMERS ?= 100000
BENCH_INVOICES  ?= 1000000
BENCH_CHARGE_INVOICES ?= 20000
BENCH_PKGS      ?= ./sync/... ./store/... ./splynx/... ./web/
# The steady-state bench simulates 30 days; at 100k/1M its in-process
# simulator filters whole tables for every request and a day takes minutes,
# so it runs at a tenth of the size (it prints the size; figures at full
# size are in README).
# A Splynx-like pace for the first-sync figure (issue 16): each answer waits
# page + record x the records in it.
BENCH_SPLYNX_LATENCY ?= page=80ms,record=40us
BENCH_STEADY_CUSTOMERS ?= 10000
BENCH_STEADY_INVOICES  ?= 100000

.PHONY: all demo test bench build vet fmt clean chaos fuzz

all: build

## demo: run the whole pipeline against the built-in simulators and open the pages
demo:
	$(GO) run ./cmd/splynx-integrapay demo

## test: every package's tests with the race detector
test:
	$(GO) test -race -timeout 20m ./...

## bench: package benchmarks once each (the customer pages under 50 concurrent
## customers: p50/p99 and peak RSS; the Splynx client lists BENCH_INVOICES
## invoices beside a raw fetch), the sync benchmark against a separate
## splynx-sim process (in memory; at a Splynx-like latency against a raw
## fetch at the same pressure limits; with the billing list refused), the steady state (30 days of 1% churn: requests and
## records a day, today's design vs the new one; billing list refused), and
## the charge-run benchmark (150 ms gateway, 16 at once)
bench:
	SPLYNX_BENCH_INVOICES=$(BENCH_INVOICES) $(GO) test -run '^$$' -bench . -benchtime=1x -timeout 60m $(BENCH_PKGS)
	$(GO) run ./cmd/splynx-bench sync -customers $(BENCH_CUSTOMERS) -invoices $(BENCH_INVOICES)
	$(GO) run ./cmd/splynx-bench sync -customers $(BENCH_CUSTOMERS) -invoices $(BENCH_INVOICES) -latency "$(BENCH_SPLYNX_LATENCY)"
	$(GO) run ./cmd/splynx-bench sync -customers $(BENCH_CUSTOMERS) -invoices $(BENCH_INVOICES) -refuse-billing
	$(GO) run ./cmd/splynx-bench steady -customers $(BENCH_STEADY_CUSTOMERS) -invoices $(BENCH_STEADY_INVOICES) -days 30
	$(GO) run ./cmd/splynx-bench charge -invoices $(BENCH_CHARGE_INVOICES) -concurrency 16 -latency 150ms
	$(GO) run ./cmd/splynx-bench charge -invoices 5000 -concurrency 16 -latency 150ms -splynx-latency "$(BENCH_SPLYNX_LATENCY)"

## chaos: both add-on daemons as real processes against splynx-sim, killed
## with SIGKILL KILLS times each under gateway and Splynx faults; the three
## ledgers compared at the end (exit 1 on any loss). SEED=… replays a run.
SEED  ?= 0
KILLS ?= 50
CHAOS_FLAGS ?=
chaos: build
	$(GO) build -o $(BIN)/splynx-chaos ./cmd/splynx-chaos
	$(BIN)/splynx-chaos -bin $(BIN) -seed $(SEED) -kills $(KILLS) $(CHAOS_FLAGS)

## fuzz: every fuzz target (parsers of outside input) for FUZZTIME each;
## one line per target with executions and time; non-zero on a crash
FUZZTIME ?= 10s
fuzz:
	GO=$(GO) sh .ci/fuzz $(FUZZTIME)

## build: both add-on daemons and the simulator into bin/
build:
	mkdir -p $(BIN)
	$(GO) build -o $(BIN)/splynx-integrapay ./cmd/splynx-integrapay
	$(GO) build -o $(BIN)/splynx-ippay ./cmd/splynx-ippay
	$(GO) build -o $(BIN)/splynx-sim ./cmd/splynx-sim

vet:
	$(GO) vet ./...

fmt:
	gofmt -l -w .

clean:
	rm -rf $(BIN)

# Debian packages (make deb, make deb-check)
-include deb.mk
