package web

// What the pay page shows of a document comes from Splynx, not the mirror
// (issue 13: "the amount due, re-read from Splynx"). A person reloading the
// page, or fifty customers opening theirs after the invoice e-mails went
// out, should not each cost a Splynx request: a view may show what Splynx
// said up to docViewTTL ago, and concurrent views of one document share one
// read. Money never rests on that copy: the confirm POST always reads the
// document again (docFor with fresh), the form carries the amount the
// customer saw and a changed amount is shown again instead of charged, and
// ChargeOne reads the document once more before the gateway call.

import (
	"context"
	"net/http"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/splynx-pay/splynx-pay/store"
)

// docViewTTL is how old a document read may be when a pay page shows it.
const docViewTTL = 10 * time.Second

// docCacheMax bounds the entries kept; past it, expired ones are dropped.
const docCacheMax = 10000

type docRead struct {
	d     doc
	state string
	err   error
	at    time.Time
	done  chan struct{} // closed when the read is in
}

type docCache struct {
	mu    sync.Mutex
	m     map[string]*docRead
	batch docBatcher // reads concurrent views' documents together (docbatch.go)
}

// read returns document kind/id as Splynx has it: a copy at most
// docViewTTL old unless fresh, which always asks Splynx (and keeps the
// answer for the views after it). A read of Splynx goes with the other
// documents being read at the time (docBatcher), in a request sent after
// this call; log is told when that fails.
func (c *docCache) read(ctx context.Context, b *backend, log *zap.Logger, kind string, id int64, fresh bool) (doc, string, error) {
	key := doc{Kind: kind, ID: id}.chargeKey()
	now := time.Now()
	c.mu.Lock()
	if c.m == nil {
		c.m = map[string]*docRead{}
	}
	e, ok := c.m[key]
	if ok && !fresh {
		select {
		case <-e.done:
			if e.err == nil && now.Sub(e.at) < docViewTTL {
				c.mu.Unlock()
				return e.d, e.state, nil
			}
		default: // a read is under way: share it
			c.mu.Unlock()
			select {
			case <-e.done:
				if e.err == nil {
					return e.d, e.state, nil
				}
			case <-ctx.Done():
				return doc{}, "", ctx.Err()
			}
			return c.read(ctx, b, log, kind, id, true)
		}
	}
	e = &docRead{done: make(chan struct{}), at: now}
	c.m[key] = e
	if len(c.m) > docCacheMax {
		c.prune(now)
	}
	c.mu.Unlock()
	e.d, e.state, e.err = c.batch.read(ctx, b, log, kind, id)
	close(e.done)
	if e.err != nil { // not kept: the next view asks again
		c.mu.Lock()
		if c.m[key] == e {
			delete(c.m, key)
		}
		c.mu.Unlock()
	}
	return e.d, e.state, e.err
}

// recent is a read of the document younger than docViewTTL, if any.
func (c *docCache) recent(kind string, id int64) (doc, string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[doc{Kind: kind, ID: id}.chargeKey()]
	if !ok {
		return doc{}, "", false
	}
	select {
	case <-e.done:
		return e.d, e.state, e.err == nil && time.Since(e.at) < docViewTTL
	default:
		return doc{}, "", false
	}
}

// forget drops what is known of a document (after a payment of it), by
// its charge key ("invoice:12"; other keys are not kept here).
func (c *docCache) forget(key string) {
	c.mu.Lock()
	delete(c.m, key)
	c.mu.Unlock()
}

func (c *docCache) prune(now time.Time) {
	for k, e := range c.m {
		select {
		case <-e.done:
			if now.Sub(e.at) >= docViewTTL {
				delete(c.m, k)
			}
		default:
		}
	}
}

// ownerElsewhere reports a document the mirror knows as another
// customer's: refused without asking Splynx (a visitor walking through ids
// costs Splynx nothing for those).
func ownerElsewhere(ctx context.Context, b *backend, kind string, id, customerID int64) (int64, bool) {
	f := store.InvoiceFilter{IDs: []int64{id}, Limit: 1}
	var owner int64
	switch kind {
	case store.KindInvoice:
		if l, err := b.db.ListInvoices(ctx, f); err == nil && len(l) == 1 {
			owner = l[0].CustomerID
		}
	case store.KindProforma:
		if l, err := b.db.ListProformas(ctx, f); err == nil && len(l) == 1 {
			owner = l[0].CustomerID
		}
	}
	return owner, owner != 0 && owner != customerID
}

// viewDoc is the document a customer's pay request names: for a GET a
// recent read may do, any other method reads it from Splynx now. A
// document the mirror knows as another customer's comes back with that
// owner and is not read from Splynx.
func (p *portal) viewDoc(r *http.Request, b *backend, v visitor, kind string, id int64) (doc, string, error) {
	fresh := r.Method != http.MethodGet
	if !fresh {
		if d, state, ok := p.docs.recent(kind, id); ok {
			return d, state, nil
		}
	}
	if owner, other := ownerElsewhere(r.Context(), b, kind, id, v.CustomerID); other {
		return doc{Kind: kind, ID: id, CustomerID: owner}, docPayable, nil
	}
	return p.docs.read(r.Context(), b, p.s.Logger(), kind, id, fresh)
}
