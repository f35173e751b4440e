package charge

// A charge run's life outside the engine's own loop: the filters an
// operator gives (Charge page form, `charge` command flags) parsed in one
// place, and starting, tracking, cancelling and finishing (write-back)
// runs, shared by the pages and the command line.

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"go.uber.org/zap"

	"github.com/splynx-pay/splynx-pay/internal/money"
)

// ParseFilters reads the Charge filters from their form fields: mode,
// from, to, number, customer, status, and id lists partner, location,
// payment_type and id (each repeated and/or comma-separated). total is an
// amount compared with total_op ("=", "<", ">"); without total_op, total
// may carry the operator itself (">50"), and "=" is meant otherwise.
// The Charge page passes its form, the `charge` command its flags.
func ParseFilters(v url.Values) (Filters, error) {
	f := Filters{Mode: v.Get("mode"), From: v.Get("from"), To: v.Get("to"), Number: v.Get("number")}
	var err error
	for _, l := range []struct {
		name string
		dst  *[]int64
	}{{"partner", &f.Partners}, {"location", &f.Locations}, {"payment_type", &f.PaymentTypes}, {"id", &f.IDs}} {
		if *l.dst, err = idList(l.name, v[l.name]); err != nil {
			return f, err
		}
	}
	if c := strings.TrimSpace(v.Get("customer")); c != "" {
		if f.CustomerID, err = strconv.ParseInt(c, 10, 64); err != nil {
			return f, fmt.Errorf("customer: %q is not an id", c)
		}
	}
	if t := strings.TrimSpace(v.Get("total")); t != "" {
		op := v.Get("total_op")
		if op == "" {
			op = "="
			if strings.ContainsAny(t[:1], "=<>") {
				op, t = t[:1], t[1:]
			}
		}
		amt, err := money.Parse(t)
		if err != nil {
			return f, fmt.Errorf("total: %w", err)
		}
		f.TotalOp, f.Total = op, int64(amt)
	}
	if s := v.Get("status"); s != "" {
		f.Statuses = []string{s}
	}
	return f, nil
}

func idList(name string, vs []string) ([]int64, error) {
	var out []int64
	for _, v := range vs {
		for _, part := range strings.Split(v, ",") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			n, err := strconv.ParseInt(part, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("%s: %q is not an id", name, part)
			}
			out = append(out, n)
		}
	}
	return out, nil
}

// Runs are the charge runs this process started: each can be cancelled
// by id while it lasts, and each ends with the write-back of what it
// approved. The zero value is ready to use.
type Runs struct {
	mu      sync.Mutex
	running map[int64]context.CancelFunc
}

// Run charges in the foreground: it returns when the run has finished
// and its approved payments have been written back (a write-back failure
// is logged, not returned: the settle job writes back again). Cancel(id),
// or ctx, stops it.
func (rs *Runs) Run(ctx context.Context, en *Engine, f Filters, ro RunOptions) (*RunResult, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	res, err := rs.run(ctx, cancel, en, f, ro)
	if err != nil {
		return res, err
	}
	rs.writeBack(ctx, en, res)
	return res, nil
}

// Start charges in the background, beyond ctx's end (a page's request):
// it returns the run's id once the run row exists, or why it could not
// start. Only Cancel(id) stops the run; its write-back goes on even then.
func (rs *Runs) Start(ctx context.Context, en *Engine, f Filters, ro RunOptions) (int64, error) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	started := make(chan int64, 1)
	done := make(chan error, 1)
	user := ro.OnStart
	ro.OnStart = func(id int64) {
		started <- id
		if user != nil {
			user(id)
		}
	}
	go func() {
		defer cancel()
		res, err := rs.run(ctx, cancel, en, f, ro)
		if err != nil {
			en.log.Warn("charge run failed", zap.String("source", ro.Source), zap.Error(err))
			done <- err
			return
		}
		rs.writeBack(context.WithoutCancel(ctx), en, res)
		done <- nil
	}()
	select {
	case id := <-started:
		return id, nil
	case err := <-done:
		// It may have ended (failed, or had nothing to do) after its row
		// was made: the row then says how.
		select {
		case id := <-started:
			return id, nil
		default:
		}
		if err == nil {
			err = errors.New("charge: the run ended without a run row")
		}
		return 0, err
	}
}

// run is en.Run with the run registered under its id while it lasts.
func (rs *Runs) run(ctx context.Context, cancel context.CancelFunc, en *Engine, f Filters, ro RunOptions) (*RunResult, error) {
	var id int64
	user := ro.OnStart
	ro.OnStart = func(runID int64) {
		rs.mu.Lock()
		if rs.running == nil {
			rs.running = map[int64]context.CancelFunc{}
		}
		rs.running[runID] = cancel
		id = runID
		rs.mu.Unlock()
		if user != nil {
			user(runID)
		}
	}
	defer func() {
		rs.mu.Lock()
		delete(rs.running, id)
		rs.mu.Unlock()
	}()
	res, err := en.Run(ctx, f, ro)
	if err == nil && res == nil {
		err = errors.New("charge: the run returned no result")
	}
	return res, err
}

func (rs *Runs) writeBack(ctx context.Context, en *Engine, res *RunResult) {
	if _, err := en.WriteBack(ctx); err != nil {
		en.log.Warn("write-back after the charge run", zap.Int64("run_id", res.RunID), zap.Error(err))
	}
}

// Cancel stops a run this process is running; false when it is not (any
// more).
func (rs *Runs) Cancel(id int64) bool {
	rs.mu.Lock()
	c := rs.running[id]
	rs.mu.Unlock()
	if c != nil {
		c()
	}
	return c != nil
}

// Running reports whether this process is running the run.
func (rs *Runs) Running(id int64) bool {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	_, ok := rs.running[id]
	return ok
}

// RunningIDs are the runs this process is running.
func (rs *Runs) RunningIDs() []int64 {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	ids := make([]int64, 0, len(rs.running))
	for id := range rs.running {
		ids = append(ids, id)
	}
	return ids
}
