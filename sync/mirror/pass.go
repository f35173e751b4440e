package mirror

import (
	"context"
	"database/sql"
	"errors"
	"iter"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/splynx-pay/splynx-pay/store"
)

// pass is the state of one running pass: the listings feed batches of
// upserts to a single writer goroutine, so decoding the next page overlaps
// with committing the previous one.
type pass struct {
	e      *Engine
	ctx    context.Context
	cancel context.CancelCauseFunc
	full   bool
	gen    int64
	log    *zap.Logger
	start  time.Time

	customers, billing, invoices, proformas, methods atomic.Int64
	requests                                         atomic.Int64
	transactions                                     atomic.Int64 // ledger transactions listed
	outOfWindow                                      atomic.Int64 // documents left out (see listDocuments)

	batches chan *batch
	free    chan *batch // committed batches, emptied, for reuse
	// fresh are the tables that were empty when this full pass began: the
	// writer need not compare their rows with old ones.
	fresh []string
	// minStreams raises Options.Streams for this pass (see Incremental).
	minStreams int

	touchMu sync.Mutex
	touched map[int64]struct{} // customers whose billing an incremental pass re-reads
	pending []int64            // touched and not yet taken by takeTouched, under touchMu
	// touchSig has a value when pending has grown since the last take.
	touchSig chan struct{}
	listedIn time.Duration // how long the incremental listings took
	marks    marks         // largest update stamps seen, under touchMu
}

func (p *pass) seen(mark *time.Time, t time.Time) {
	p.touchMu.Lock()
	if t.After(*mark) {
		*mark = t
	}
	p.touchMu.Unlock()
}

func (p *pass) seenMarks() marks {
	p.touchMu.Lock()
	defer p.touchMu.Unlock()
	return p.marks
}

type batch struct {
	customers []store.Customer
	billing   []store.Billing
	invoices  []store.Invoice
	proformas []store.Proforma
	methods   []store.PaymentMethod
	done      chan struct{} // closed once the writer has dealt with the batch, if set
}

// reset empties b for reuse, keeping its slices' capacity but not the
// records they point to.
func (b *batch) reset() {
	clear(b.customers)
	clear(b.billing)
	clear(b.invoices)
	clear(b.proformas)
	clear(b.methods)
	*b = batch{customers: b.customers[:0], billing: b.billing[:0], invoices: b.invoices[:0],
		proformas: b.proformas[:0], methods: b.methods[:0]}
}

func (b *batch) len() int {
	return len(b.customers) + len(b.billing) + len(b.invoices) + len(b.proformas) + len(b.methods)
}

func (e *Engine) newPass(ctx context.Context, full bool, gen int64, log *zap.Logger) *pass {
	pctx, cancel := context.WithCancelCause(ctx)
	return &pass{e: e, ctx: pctx, cancel: cancel, full: full, gen: gen, log: log, start: time.Now(),
		touched: map[int64]struct{}{}, free: make(chan *batch, 8), touchSig: make(chan struct{}, 1)}
}

// fail stops the whole pass with err as the cause.
func (p *pass) fail(err error) { p.cancel(err) }

func (p *pass) cause() error {
	if err := context.Cause(p.ctx); err != nil {
		return err
	}
	return errStopped
}

// run executes the listings (one after another, or side by side up to
// Options.Streams) while one goroutine writes their batches, and returns the
// first error. Called more than once per pass, each call has its own writer.
func (p *pass) run(streams ...func() error) error {
	p.batches = make(chan *batch, 4)
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		p.write()
	}()
	progDone := make(chan struct{})
	stopProg := make(chan struct{})
	go func() {
		defer close(progDone)
		p.progress(stopProg)
	}()

	var errs []error
	var mu sync.Mutex
	sem := make(chan struct{}, max(p.e.opts.Streams, p.minStreams))
	var wg sync.WaitGroup
	for _, s := range streams {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if p.ctx.Err() != nil {
				return
			}
			if err := s(); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
				p.fail(err)
			}
		}()
	}
	wg.Wait()
	close(p.batches)
	<-writerDone
	close(stopProg)
	<-progDone

	if p.ctx.Err() == nil {
		return nil
	}
	// Report the root cause, not the cancellations it caused elsewhere.
	cause := p.cause()
	for _, err := range errs {
		if !errors.Is(err, context.Canceled) {
			return err
		}
	}
	return cause
}

// write commits each batch in one transaction, stamping rows with the
// pass's generation. After a failure it drains the channel so senders never
// block.
func (p *pass) write() {
	now := p.e.clk.Now()
	for b := range p.batches {
		p.commit(now, b)
		if b.done != nil {
			close(b.done)
			continue
		}
		// Reusing a batch spares allocating and zeroing its record slices
		// (hundreds of KB of invoices) once per batch for millions of rows.
		b.reset()
		select {
		case p.free <- b:
		default:
		}
	}
}

func (p *pass) commit(now time.Time, b *batch) {
	{
		if p.ctx.Err() != nil || b.len() == 0 {
			return
		}
		err := p.e.db.Write(p.ctx, func(tx *sql.Tx) error {
			w, err := store.NewMirrorWriter(p.ctx, tx, p.gen, now)
			if err != nil {
				return err
			}
			defer w.Close()
			w.AssumeNew(p.fresh...)
			if !p.full {
				touched, err := w.MoneyChanged(p.ctx, b.invoices, b.proformas)
				if err != nil {
					return err
				}
				for _, id := range touched {
					p.touch(id)
				}
			}
			if err := w.PaymentMethods(p.ctx, b.methods); err != nil {
				return err
			}
			if err := w.Customers(p.ctx, b.customers); err != nil {
				return err
			}
			if err := w.Billings(p.ctx, b.billing); err != nil {
				return err
			}
			if err := w.Invoices(p.ctx, b.invoices); err != nil {
				return err
			}
			return w.Proformas(p.ctx, b.proformas)
		})
		if err != nil {
			p.fail(err)
			return
		}
		p.methods.Add(int64(len(b.methods)))
		p.customers.Add(int64(len(b.customers)))
		p.billing.Add(int64(len(b.billing)))
		p.invoices.Add(int64(len(b.invoices)))
		p.proformas.Add(int64(len(b.proformas)))
	}
}

func (p *pass) progress(stop <-chan struct{}) {
	t := time.NewTicker(p.e.opts.ProgressEvery)
	defer t.Stop()
	last, lastAt := int64(0), time.Now()
	for {
		select {
		case <-stop:
			return
		case now := <-t.C:
			st := p.stats()
			n := int64(st.Records())
			rate := float64(n-last) / now.Sub(lastAt).Seconds()
			last, lastAt = n, now
			p.log.Info("mirror progress",
				zap.Int("customers", st.Customers), zap.Int("billing", st.Billing), zap.Int("invoices", st.Invoices),
				zap.Int("proformas", st.Proformas), zap.Int("requests", st.Requests),
				zap.Float64("records_per_s", rate), zap.Duration("elapsed", time.Since(p.start)))
		}
	}
}

func (p *pass) stats() Stats {
	return Stats{
		Full:           p.full,
		Customers:      int(p.customers.Load()),
		Billing:        int(p.billing.Load()),
		Invoices:       int(p.invoices.Load()),
		Proformas:      int(p.proformas.Load()),
		PaymentMethods: int(p.methods.Load()),
		Requests:       int(p.requests.Load()),
		Transactions:   int(p.transactions.Load()),
		OutOfWindow:    int(p.outOfWindow.Load()),
	}
}

func (p *pass) touch(customerID int64) {
	if customerID == 0 {
		return
	}
	p.touchMu.Lock()
	_, dup := p.touched[customerID]
	if !dup {
		p.touched[customerID] = struct{}{}
		p.pending = append(p.pending, customerID)
	}
	p.touchMu.Unlock()
	if !dup {
		select {
		case p.touchSig <- struct{}{}:
		default:
		}
	}
}

// takeTouched removes from the pending touched customers chunks of up to
// size ids, as long as at least least remain.
func (p *pass) takeTouched(size, least int) [][]int64 {
	p.touchMu.Lock()
	defer p.touchMu.Unlock()
	var out [][]int64
	for len(p.pending) >= least && len(p.pending) > 0 {
		n := min(size, len(p.pending))
		out = append(out, slices.Clone(p.pending[:n]))
		p.pending = p.pending[n:]
	}
	return out
}

func (p *pass) touchedIDs() []int64 {
	p.touchMu.Lock()
	defer p.touchMu.Unlock()
	ids := make([]int64, 0, len(p.touched))
	for id := range p.touched {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// batcher collects one listing's upserts into batches of Options.BatchSize.
type batcher struct {
	p   *pass
	cur *batch
}

func (p *pass) batcher() *batcher { return &batcher{p: p} }

// add lets put append one record to the pending batch and sends the batch
// once it is full.
func (b *batcher) add(put func(*batch)) error {
	if b.cur == nil {
		select {
		case b.cur = <-b.p.free:
		default:
			b.cur = &batch{}
		}
	}
	put(b.cur)
	if b.cur.len() >= b.p.e.opts.BatchSize {
		return b.flush()
	}
	return nil
}

func (b *batcher) flush() error {
	if b.cur == nil || (b.cur.len() == 0 && b.cur.done == nil) {
		return b.p.ctx.Err()
	}
	select {
	case b.p.batches <- b.cur:
		b.cur = nil
		return nil
	case <-b.p.ctx.Done():
		return b.p.cause()
	}
}

// flushWait sends what is pending and waits until the writer has committed
// everything this listing sent, for a step that reads its own writes back.
func (b *batcher) flushWait() error {
	if b.cur == nil {
		b.cur = &batch{}
	}
	done := make(chan struct{})
	b.cur.done = done
	if err := b.flush(); err != nil {
		return err
	}
	select {
	case <-done:
		return b.p.ctx.Err()
	case <-b.p.ctx.Done():
		return b.p.cause()
	}
}

// storeEach converts every record of a listing and queues it in b with put;
// it stops at the first listing or write error.
func storeEach[R, S any](list iter.Seq2[R, error], convert func(R) S, b *batcher, put func(*batch, S)) error {
	for r, err := range list {
		if err != nil {
			return err
		}
		s := convert(r)
		if err := b.add(func(bt *batch) { put(bt, s) }); err != nil {
			return err
		}
	}
	return nil
}
