package charge

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/splynx-pay/splynx-pay/splynx"
	"github.com/splynx-pay/splynx-pay/store"
)

// A document is read from Splynx again right before it is charged, so only
// a not_paid one is charged and only its current due. One GET per document
// held a run to splynx_requests_per_second charges a second; a run now
// reads its invoices (and, apart, its proformas) a batch at a time with one
// IN search. A batch is as many documents as the run charges at once (its
// concurrency, at most splynx.MaxIDsPerSearch). It is read when dispatch
// reaches the second document of the batch before it (so that against a
// Splynx taking ~100 ms to answer, charges need not wait for it), or else
// its own first document, never earlier: a charge is decided on an answer
// typically under two gateway round trips old, and at concurrency 1 (batches
// of one) every document is still read after the charge before it ended,
// as with the GET. What a batch answer cannot decide is asked as before,
// one GET per document:
//   - an id missing from the answer: only a GET's 404 says "deleted";
//   - an answer older than rereadMaxAge when the charge is decided (a run
//     paced hard by gateway_rate_limit);
//   - every document of the run once a batch request failed (an error, a
//     4xx such as a Splynx that refuses IN, an answer that is not what was
//     asked), with one warning for the run.
//
// Balances, refills, retries and single payments (ChargeOne) keep their
// own reads.

// rereadMaxAge is the oldest batch answer a charge is decided on.
const rereadMaxAge = 60 * time.Second

// docNow is what Splynx said of a document.
type docNow struct {
	status string
	amount int64 // an invoice's due, a proforma's total
}

// judge says what is charged for a document of kind (invoice: its due;
// proforma: its total), or why it is not charged.
func (d docNow) judge(kind string) (int64, string) {
	switch {
	case d.status != "not_paid":
		return 0, fmt.Sprintf("%s is %s in Splynx", kind, d.status)
	case d.amount > 0:
		return d.amount, ""
	case kind == store.KindInvoice:
		return 0, "nothing is due in Splynx"
	}
	return 0, "proforma total is zero"
}

type docKey struct {
	kind string
	id   int64
}

// keyOf names the document of it; false for balances and refills.
func keyOf(it Item) (docKey, bool) {
	switch it.Kind {
	case store.KindInvoice:
		return docKey{it.Kind, it.InvoiceID}, it.InvoiceID != 0
	case store.KindProforma:
		return docKey{it.Kind, it.ProformaID}, it.ProformaID != 0
	}
	return docKey{}, false
}

type rereadBatch struct {
	n       int // position in the run's batches
	kind    string
	started bool // dispatch goroutine only
	ids     []int64
	ready   chan struct{} // closed once at and docs are set (or not: unusable)
	at      time.Time     // engine clock when the request was sent
	docs    map[int64]docNow
}

// rereads is one run's batched re-read.
type rereads struct {
	e       *Engine
	ctx     context.Context
	log     *zap.Logger
	batches []*rereadBatch
	of      map[docKey]*rereadBatch
	wg      sync.WaitGroup
	failed  atomic.Bool
}

// newRereads groups the run's invoices and proformas into batches of up to
// size (capped at splynx.MaxIDsPerSearch) in plan order; it reads nothing
// yet.
func (e *Engine) newRereads(ctx context.Context, log *zap.Logger, items []Item, size int) *rereads {
	size = min(max(size, 1), splynx.MaxIDsPerSearch)
	r := &rereads{e: e, ctx: ctx, log: log, of: map[docKey]*rereadBatch{}}
	open := map[string]*rereadBatch{}
	for _, it := range items {
		k, ok := keyOf(it)
		if !ok {
			continue
		}
		b := open[k.kind]
		if b == nil || len(b.ids) == size {
			b = &rereadBatch{n: len(r.batches), kind: k.kind, ready: make(chan struct{})}
			open[k.kind] = b
			r.batches = append(r.batches, b)
		}
		b.ids = append(b.ids, k.id)
		r.of[k] = b
	}
	return r
}

// reach is called by dispatch before item it goes to a worker: it starts
// the read of the batch of it, if not started yet, and from the batch's
// second document on, the read of the next batch.
func (r *rereads) reach(it Item) {
	k, ok := keyOf(it)
	if !ok {
		return
	}
	b := r.of[k]
	if b == nil {
		return
	}
	r.start(b)
	if k.id != b.ids[0] && b.n+1 < len(r.batches) {
		r.start(r.batches[b.n+1])
	}
}

func (r *rereads) start(b *rereadBatch) {
	if !b.started {
		b.started = true
		r.wg.Add(1)
		go r.read(b)
	}
}

// wait waits for every read started.
func (r *rereads) wait() { r.wg.Wait() }

func (r *rereads) read(b *rereadBatch) {
	defer r.wg.Done()
	defer close(b.ready)
	if r.failed.Load() {
		return
	}
	at, start := r.e.now(), time.Now()
	docs, err := r.e.readDocs(r.ctx, b.kind, b.ids)
	if err != nil {
		if r.ctx.Err() != nil {
			return // a cancelled run, not a refusal
		}
		if r.failed.CompareAndSwap(false, true) {
			r.log.Warn("charge run: batched re-read failed; re-reading each document on its own for the rest of the run",
				zap.String("kind", b.kind), zap.Int("batch", b.n), zap.Int("ids", len(b.ids)), zap.Error(err))
		}
		return
	}
	if h := r.e.opts.Hooks.AfterReread; h != nil {
		h(b.kind, b.ids)
	}
	b.at, b.docs = at, docs
	r.log.Debug("charge run: documents re-read", zap.String("kind", b.kind), zap.Int("batch", b.n),
		zap.Int("ids", len(b.ids)), zap.Int("found", len(docs)), zap.Duration("took", time.Since(start)))
}

// doc returns what the batch of it said of it, if that can decide the charge:
// the batch was read, holds the document and is not older than
// rereadMaxAge. A nil r has nothing.
func (r *rereads) doc(ctx context.Context, it Item) (docNow, bool) {
	if r == nil {
		return docNow{}, false
	}
	k, _ := keyOf(it)
	b := r.of[k]
	if b == nil {
		return docNow{}, false
	}
	select {
	case <-b.ready:
	case <-ctx.Done():
		return docNow{}, false
	}
	d, ok := b.docs[k.id]
	if !ok || r.e.now().Sub(b.at) > rereadMaxAge {
		return docNow{}, false
	}
	return d, true
}

// getDoc reads the document of it with one GET.
func (e *Engine) getDoc(ctx context.Context, it Item) (docNow, error) {
	if it.Kind == store.KindInvoice {
		inv, err := e.sp.GetInvoice(ctx, it.InvoiceID)
		return docNow{inv.Status, int64(inv.Due)}, err
	}
	pf, err := e.sp.GetProforma(ctx, it.ProformaID)
	return docNow{pf.Status, int64(pf.Total)}, err
}

// readDocs reads ids of one kind with one request.
func (e *Engine) readDocs(ctx context.Context, kind string, ids []int64) (map[int64]docNow, error) {
	docs := make(map[int64]docNow, len(ids))
	switch kind {
	case store.KindInvoice:
		invs, err := e.sp.InvoicesByID(ctx, ids)
		for _, inv := range invs {
			docs[int64(inv.ID)] = docNow{inv.Status, int64(inv.Due)}
		}
		return docs, err
	case store.KindProforma:
		pfs, err := e.sp.ProformasByID(ctx, ids)
		for _, pf := range pfs {
			docs[int64(pf.ID)] = docNow{pf.Status, int64(pf.Total)}
		}
		return docs, err
	}
	return nil, fmt.Errorf("charge: no batched re-read of %q", kind)
}
