package daemon

import (
	"context"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/splynx-pay/splynx-pay/store"
)

// storageProbeEvery is how often the running daemon proves the database
// can still commit; it also probes before every scheduled job.
const storageProbeEvery = 10 * time.Second

// storageWatch remembers whether the database can write. While it cannot
// (disk full, read-only, locked by another process) no job starts, so no
// charge is sent that could not be recorded; /healthz and one log line say
// why, and the first successful probe lets everything resume by itself.
type storageWatch struct {
	log *zap.Logger
	db  *store.DB

	mu    sync.Mutex
	err   error
	since time.Time
}

func newStorageWatch(log *zap.Logger, db *store.DB) *storageWatch {
	return &storageWatch{log: log, db: db}
}

// check probes now and records the result; it returns the problem, if any.
func (w *storageWatch) check(ctx context.Context) error {
	if w == nil {
		return nil
	}
	pctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	err := w.db.ProbeWrite(pctx)
	if err != nil && ctx.Err() != nil {
		return err // shutting down: not a verdict on the storage
	}
	w.mu.Lock()
	prev := w.err
	w.err = err
	switch {
	case err != nil && prev == nil:
		w.since = time.Now()
		w.log.Error("database cannot write; charging and settlement stop until it can", zap.String("db", w.db.Path()), zap.Error(err))
	case err == nil && prev != nil:
		w.log.Info("database writable again; charging and settlement resume", zap.String("db", w.db.Path()),
			zap.Duration("after", time.Since(w.since).Round(time.Second)))
	}
	w.mu.Unlock()
	return err
}

// problem is the last probe's verdict for /healthz ("" when writable).
func (w *storageWatch) problem() string {
	if w == nil {
		return ""
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err == nil {
		return ""
	}
	return oneLine(w.err.Error())
}

// run probes every storageProbeEvery until ctx ends.
func (w *storageWatch) run(ctx context.Context) {
	t := time.NewTicker(storageProbeEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			_ = w.check(ctx)
		}
	}
}
