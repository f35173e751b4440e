package web

// Pay pages read their document from Splynx (portal_docs.go). Fifty
// customers opening theirs at once after the invoice e-mails went out were
// fifty GETs queueing through the Splynx client's few request slots, and
// the last of them waited for all the others (issue 13: the pay page's
// p99). docBatcher coalesces concurrent reads of one kind into id searches
// (InvoicesByID, ProformasByID), dataloader style:
//
//   - a read queues its id; while fewer than docBatchInFlight requests of
//     that kind are out, the queue goes at once (so an idle daemon adds no
//     wait), otherwise it goes when one of them returns;
//   - a read is only ever answered by a request sent after it was asked,
//     never by one already in flight: the confirm POST relies on reading
//     Splynx now (see portal_docs.go);
//   - a queue of one id is sent as the single GET it always was (its 404 is
//     proof the document is gone; the search has no such proof);
//   - an id missing from a search's answer is not proof the document is
//     gone: its reader asks with the single GET (liveDoc), whose 404 is;
//   - a failed search (an error, a Splynx that refuses IN on id, an answer
//     not of the ids asked) sends each of its readers to the single GET,
//     and the kind keeps to single GETs for docBatchBackoff rather than
//     failing every search again.

import (
	"context"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/splynx-pay/splynx-pay/splynx"
	"github.com/splynx-pay/splynx-pay/store"
)

// docBatchInFlight: the requests of one kind a batcher has out at once;
// reads asked meanwhile wait for the next.
const docBatchInFlight = 2

// docBatchBackoff: after a failed id search, reads of that kind are single
// GETs for this long.
const docBatchBackoff = 10 * time.Minute

// docReadTimeout bounds one read (a single GET or an id search), as liveDoc's.
const docReadTimeout = 20 * time.Second

type docBatcher struct {
	mu sync.Mutex
	q  map[docBatchKey]*docQueue
}

// docBatchKey: reads are batched per kind and per Splynx client (one per
// daemon; tests may have several).
type docBatchKey struct {
	kind string
	sp   *splynx.Client
}

type docQueue struct {
	flying      int          // requests out
	pending     []*docWaiter // asked since the last request went
	singleUntil time.Time    // after a failed search: single GETs until then
}

// docWaiter is one read waiting for its answer. The sender writes ans and
// then closes done; the reader looks at ans only after done.
type docWaiter struct {
	ctx  context.Context
	id   int64
	done chan struct{}
	ans  docAnswer
}

type docAnswer struct {
	d      doc
	state  string
	err    error
	single bool // no answer from the search: read it with liveDoc
}

// read returns document kind/id as Splynx has it, from a request sent
// after the call; it returns ctx.Err() when ctx ends first (the request
// goes on for the other readers in it).
func (bt *docBatcher) read(ctx context.Context, b *backend, log *zap.Logger, kind string, id int64) (doc, string, error) {
	if kind != store.KindInvoice && kind != store.KindProforma {
		return liveDoc(ctx, b, kind, id)
	}
	if log == nil {
		log = zap.NewNop()
	}
	key := docBatchKey{kind, b.sp}
	w := &docWaiter{ctx: ctx, id: id, done: make(chan struct{})}
	bt.mu.Lock()
	if bt.q == nil {
		bt.q = map[docBatchKey]*docQueue{}
	}
	q := bt.q[key]
	if q == nil {
		q = &docQueue{}
		bt.q[key] = q
	}
	if time.Now().Before(q.singleUntil) {
		bt.mu.Unlock()
		return liveDoc(ctx, b, kind, id)
	}
	q.pending = append(q.pending, w)
	bt.sendLocked(b, log, key, q)
	bt.mu.Unlock()
	select {
	case <-w.done:
	case <-ctx.Done():
		return doc{}, "", ctx.Err()
	}
	if w.ans.single {
		return liveDoc(ctx, b, kind, id)
	}
	return w.ans.d, w.ans.state, w.ans.err
}

// sendLocked sends what is queued while the kind has a request to spare.
// bt.mu is held.
func (bt *docBatcher) sendLocked(b *backend, log *zap.Logger, key docBatchKey, q *docQueue) {
	if time.Now().Before(q.singleUntil) { // a search failed meanwhile
		for _, w := range q.pending {
			w.ans.single = true
			close(w.done)
		}
		q.pending = nil
		return
	}
	for q.flying < docBatchInFlight && len(q.pending) > 0 {
		ws, ids := q.takeLocked()
		if len(ws) == 0 {
			return
		}
		q.flying++
		go bt.send(b, log, key, ws, ids)
	}
}

// takeLocked takes the queued readers of up to MaxIDsPerSearch distinct
// ids, oldest first; readers that gave up are dropped.
func (q *docQueue) takeLocked() (ws []*docWaiter, ids []int64) {
	seen := map[int64]bool{}
	rest := q.pending[:0]
	for _, w := range q.pending {
		switch {
		case w.ctx.Err() != nil: // its read returned ctx.Err()
		case seen[w.id] || len(ids) < splynx.MaxIDsPerSearch:
			if !seen[w.id] {
				seen[w.id] = true
				ids = append(ids, w.id)
			}
			ws = append(ws, w)
		default:
			rest = append(rest, w)
		}
	}
	clear(q.pending[len(rest):])
	q.pending = rest
	return ws, ids
}

// send reads ids for the readers ws, answers them, and sends what queued
// meanwhile. Its context is none of the readers' (one giving up must not
// cancel the others' read) but carries the first one's values.
func (bt *docBatcher) send(b *backend, log *zap.Logger, key docBatchKey, ws []*docWaiter, ids []int64) {
	ctx := context.WithoutCancel(ws[0].ctx)
	answers := map[int64]docAnswer{}
	if len(ids) == 1 {
		d, state, err := liveDoc(ctx, b, key.kind, ids[0])
		answers[ids[0]] = docAnswer{d: d, state: state, err: err}
	} else if err := searchDocs(ctx, b, key.kind, ids, answers); err != nil {
		bt.mu.Lock()
		q := bt.q[key]
		already := time.Now().Before(q.singleUntil)
		q.singleUntil = time.Now().Add(docBatchBackoff)
		bt.mu.Unlock()
		if !already {
			log.Warn("portal: reading documents by id search failed; single reads for a while", zap.String("kind", key.kind),
				zap.Int("ids", len(ids)), zap.Duration("for", docBatchBackoff), zap.Error(err))
		}
		clear(answers) // each reader asks on its own
	}
	for _, w := range ws {
		a, ok := answers[w.id]
		if !ok {
			a.single = true
		}
		w.ans = a
		close(w.done)
	}
	bt.mu.Lock()
	q := bt.q[key]
	q.flying--
	bt.sendLocked(b, log, key, q)
	bt.mu.Unlock()
}

// searchDocs reads ids (two or more) of kind with one id search and puts
// each document found into answers.
func searchDocs(ctx context.Context, b *backend, kind string, ids []int64, answers map[int64]docAnswer) error {
	ctx, cancel := context.WithTimeout(splynx.Interactive(ctx), docReadTimeout)
	defer cancel()
	var ds []doc
	switch kind {
	case store.KindInvoice:
		l, err := b.sp.InvoicesByID(ctx, ids)
		if err != nil {
			return err
		}
		for _, inv := range l {
			ds = append(ds, invoiceDoc(inv))
		}
	case store.KindProforma:
		l, err := b.sp.ProformasByID(ctx, ids)
		if err != nil {
			return err
		}
		for _, pf := range l {
			ds = append(ds, proformaDoc(pf))
		}
	}
	for _, d := range ds {
		answers[d.ID] = docAnswer{d: d, state: docState(d)}
	}
	return nil
}

// invoiceDoc is an invoice as the pages show it.
func invoiceDoc(inv splynx.Invoice) doc {
	return doc{Kind: store.KindInvoice, ID: int64(inv.ID), Number: inv.Number, CustomerID: int64(inv.CustomerID),
		Date: inv.DateCreated.Time(), DueDate: inv.DateTill.Time(), Total: int64(inv.Total), Due: int64(inv.Due), Status: inv.Status}
}

// proformaDoc is a proforma invoice as the pages show it: all of its total
// is due (Splynx keeps no due for proformas).
func proformaDoc(pf splynx.Proforma) doc {
	return doc{Kind: store.KindProforma, ID: int64(pf.ID), Number: pf.Number, CustomerID: int64(pf.CustomerID),
		Date: pf.DateCreated.Time(), DueDate: pf.DateTill.Time(), Total: int64(pf.Total), Due: int64(pf.Total), Status: pf.Status}
}

// docState says whether d, as Splynx has it, can be paid.
func docState(d doc) string {
	switch {
	case d.Status == "deleted":
		return docGone
	case d.Status == "paid":
		return docPaid
	case d.Status == "pending":
		return docBusy
	case d.Due <= 0:
		return docPaid
	}
	return docPayable
}
