// Package mirror keeps the local store's copy of Splynx up to date.
//
// A full pass lists every customer, billing record, invoice, proforma and
// payment method and, only once every listing has succeeded, asks Splynx
// again by id for the mirror rows it did not see and deletes those still
// missing. An incremental pass lists what changed since the last pass
// (date_updated / last_update, minus an overlap window, plus anything with
// an id above the mirror's largest) and refreshes the billing records of the
// customers involved. Records stream page by page into batched write
// transactions on one writer goroutine, so memory stays flat whatever the
// size of the Splynx instance, and only rows that changed are rewritten.
//
// A pass that fails writes nothing it should not: the rows it already
// upserted are true copies of Splynx records, the cursors stay where they
// were (the next pass covers the same ground again) and nothing is deleted.
package mirror

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/splynx-pay/splynx-pay/internal/clock"
	"github.com/splynx-pay/splynx-pay/splynx"
	"github.com/splynx-pay/splynx-pay/store"
)

// Cursor entities in store.sync_cursors.
const (
	cursorPass      = "mirror" // generation, last full and last run of the whole mirror
	cursorCustomers = "customers"
	cursorInvoices  = "invoices"
	cursorProformas = "proformas"
	// cursorTransactions holds (LastID) the largest Splynx ledger
	// transaction id seen: newer transactions name the customers whose
	// balance moved.
	cursorTransactions = "transactions"
)

// Options tune the engine; zero values take the defaults.
type Options struct {
	Logger *zap.Logger
	Clock  clock.Clock
	// PageSize is the number of records per Splynx list request (default 1000).
	PageSize int
	// BatchSize is the number of records per write transaction (default 1000).
	BatchSize int
	// Overlap is subtracted from the incremental cursor so that records
	// updated while the previous pass ran, or stamped by a Splynx clock a
	// little behind, are not missed (default 10 minutes).
	Overlap time.Duration
	// FullEvery makes RunOnce choose a full pass when the last successful
	// one is older than this (default 7 days): a safety net, since
	// deletions are found by the deletion check and balance moves through
	// the ledger.
	FullEvery time.Duration
	// DeleteCheckEvery makes RunOnce follow an incremental pass with a
	// deletion check (CheckDeletions) when the last one is older than this
	// (default 24 hours).
	DeleteCheckEvery time.Duration
	// BillingConcurrency bounds the per-customer billing requests made when
	// Splynx has no billing list endpoint (default 8).
	BillingConcurrency int
	// Streams is how many entity listings run at once during a full pass:
	// 1 lists customers, invoices and proformas one after another; 3 lists
	// them side by side (default 1). An incremental pass always lists them
	// side by side.
	Streams int
	// ProgressEvery is the interval of progress log lines (default 5s).
	ProgressEvery time.Duration
	// MaxDeleteFraction stops a full pass that would delete more than this
	// share of a mirror table of over 100 rows (default 0.5): Splynx
	// answering empty lists (a partner restriction on the API key, say) is
	// likelier than half the customers leaving at once. Set 1 to allow any.
	MaxDeleteFraction float64
	// IncrementalPageSize is the page size of an incremental pass's
	// filtered listings (default 20000): Splynx scans its whole table for
	// each such request, so the usual set of changes should fit in one page.
	IncrementalPageSize int
	// HistoryMonths is the mirror's history window for paid documents
	// (default DefaultHistoryMonths; see history.go).
	HistoryMonths int
	// DeletionLeafRecords is how many records the deletion check may list
	// per missing record to spare the count requests that would narrow the
	// range further (default DefaultDeletionLeafRecords; see deletions.go).
	DeletionLeafRecords int
	// DeletionListShare is the share of the mirror's rows the deletion
	// check may always list in all to tell which ids are gone (default
	// DefaultDeletionListShare): with few deletions a range is listed
	// sooner, sparing count requests.
	DeletionListShare float64
	// DailyRecordShare is the share of a full pass's records the
	// incremental passes and the deletion check should fetch a day
	// (default DefaultDailyRecordShare): the check may list what the
	// incremental passes since the last check left of it, if more than
	// DeletionListShare.
	DailyRecordShare float64
}

// Stats describes one pass. The entity counts are records written.
type Stats struct {
	Full           bool
	Customers      int
	Billing        int
	Invoices       int
	Proformas      int
	PaymentMethods int
	Deleted        int
	Checked        int // records the deletion check listed to tell which ids are gone
	Transactions   int // ledger transactions listed to find balances that moved
	CheckRequests  int // requests of the deletion check (in Requests)
	Counts         int // of which count requests (HEAD, no records)
	Requests       int // list, count and get requests made (not counting retries)
	Duration       time.Duration
	// OutOfWindow are the paid or deleted documents older than the
	// history window that a first pass listed and did not write.
	OutOfWindow int
}

// Records is the number of records fetched from Splynx by the pass: those
// written, those the deletion check listed and the ledger transactions read.
func (s Stats) Records() int {
	return s.Customers + s.Billing + s.Invoices + s.Proformas + s.PaymentMethods + s.Checked + s.Transactions
}

// Engine runs mirror passes. Passes of one Engine never overlap.
type Engine struct {
	db   *store.DB
	c    *splynx.Client
	opts Options
	log  *zap.Logger
	clk  clock.Clock

	mu             sync.Mutex  // one pass at a time
	noBillingAPI   atomic.Bool // Splynx has no customer-billing list endpoint
	noRangeCount   atomic.Bool // Splynx refuses HEAD counts by id range
	noTransactions atomic.Bool // the API key cannot list ledger transactions
	history        atomic.Int32
	spent          atomic.Int64 // records the incremental passes fetched since the last deletion check
}

// New returns an engine that mirrors what c can read into db.
func New(db *store.DB, c *splynx.Client, opts Options) *Engine {
	if opts.Logger == nil {
		opts.Logger = zap.NewNop()
	}
	if opts.Clock == nil {
		opts.Clock = clock.Real{}
	}
	if opts.PageSize <= 0 {
		opts.PageSize = 1000
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = 1000
	}
	if opts.Overlap <= 0 {
		opts.Overlap = 10 * time.Minute
	}
	if opts.FullEvery <= 0 {
		opts.FullEvery = 7 * 24 * time.Hour
	}
	if opts.DeleteCheckEvery <= 0 {
		opts.DeleteCheckEvery = 24 * time.Hour
	}
	if opts.BillingConcurrency <= 0 {
		opts.BillingConcurrency = 8
	}
	if opts.Streams <= 0 {
		opts.Streams = 1
	}
	if opts.ProgressEvery <= 0 {
		opts.ProgressEvery = 5 * time.Second
	}
	if opts.MaxDeleteFraction <= 0 {
		opts.MaxDeleteFraction = 0.5
	}
	if opts.IncrementalPageSize <= 0 {
		opts.IncrementalPageSize = max(20000, opts.PageSize)
	}
	if opts.HistoryMonths <= 0 {
		opts.HistoryMonths = DefaultHistoryMonths
	}
	if opts.DeletionLeafRecords <= 0 {
		opts.DeletionLeafRecords = DefaultDeletionLeafRecords
	}
	if opts.DeletionListShare <= 0 {
		opts.DeletionListShare = DefaultDeletionListShare
	}
	if opts.DailyRecordShare <= 0 {
		opts.DailyRecordShare = DefaultDailyRecordShare
	}
	e := &Engine{db: db, c: c, opts: opts, log: opts.Logger.Named("mirror"), clk: opts.Clock}
	e.history.Store(int32(opts.HistoryMonths))
	return e
}

// RunOnce runs a full pass when none has succeeded within FullEvery, and an
// incremental pass otherwise, followed by a deletion check when none has
// succeeded within DeleteCheckEvery. A Splynx that refuses the deletion
// check's range counts gets a full pass instead (with one warning).
func (e *Engine) RunOnce(ctx context.Context) (Stats, error) {
	cur, err := e.db.CursorGet(ctx, cursorPass)
	if err != nil {
		return Stats{}, fmt.Errorf("mirror: %w", err)
	}
	if cur.LastFull.IsZero() || e.clk.Now().Sub(cur.LastFull) >= e.opts.FullEvery {
		return e.Full(ctx)
	}
	del, err := e.db.CursorGet(ctx, cursorDeletions)
	if err != nil {
		return Stats{}, fmt.Errorf("mirror: %w", err)
	}
	due := e.clk.Now().Sub(later(del.LastRun, cur.LastFull)) >= e.opts.DeleteCheckEvery
	if due && e.noRangeCount.Load() {
		return e.Full(ctx)
	}
	st, err := e.Incremental(ctx)
	if err != nil || !due {
		return st, err
	}
	ds, err := e.CheckDeletions(ctx)
	st.Deleted += ds.Deleted
	st.Checked += ds.Listed
	st.Counts += ds.Counts
	st.CheckRequests += ds.Requests
	st.Requests += ds.Requests
	if errors.Is(err, ErrRangeSearch) {
		e.noRangeCount.Store(true)
		e.log.Warn("Splynx refused to count records by id range; deletions are now found by full passes", zap.Error(err))
		return e.Full(ctx)
	}
	return st, err
}

// Full lists everything and, after every listing succeeded, deletes the
// mirror rows that Splynx no longer has.
func (e *Engine) Full(ctx context.Context) (Stats, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	start := e.clk.Now()
	wall := time.Now()

	pass, err := e.db.CursorGet(ctx, cursorPass)
	if err != nil {
		return Stats{}, fmt.Errorf("mirror: full pass: %w", err)
	}
	// The generation is committed before anything is written, so a failed
	// pass's rows are never mistaken for a later pass's.
	pass.Generation++
	gen := pass.Generation
	if err := e.db.CursorSet(ctx, nil, pass); err != nil {
		return Stats{}, fmt.Errorf("mirror: full pass: %w", err)
	}
	log := e.log.With(zap.String("pass", "full"), zap.Int64("generation", gen))
	log.Info("mirror pass started")

	// Empty tables (the first pass) load without their secondary indexes,
	// built once at the end whatever happens: much faster than keeping
	// them up to date row by row.
	deferred, err := e.db.DeferIndexes(ctx, "customers", "invoices", "proformas")
	if err != nil {
		return Stats{}, fmt.Errorf("mirror: full pass: %w", err)
	}
	if len(deferred) > 0 {
		defer func() {
			if err := e.db.RestoreIndexes(context.WithoutCancel(ctx)); err != nil {
				log.Error("rebuilding mirror indexes failed; the next start retries", zap.Error(err))
			}
		}()
	}

	p := e.newPass(ctx, true, gen, log)
	defer p.cancel(nil)
	p.fresh = deferred
	if len(deferred) > 0 {
		// A first sync lists customers, invoices and proformas side by
		// side whatever Options.Streams says: against a Splynx that takes
		// its time per page, one listing keeps at most two requests open
		// (a page and the next one prefetched) and leaves the rest of the
		// pressure limit unused; there is no old mirror to compare with,
		// so the single writer keeps up.
		p.minStreams = 3
	}
	// The high-water marks and the invoice count are asked side by side.
	var marks marks
	invoices := []func() error{func() error { return e.listInvoices(p, nil, 0) }}
	err = parallel(2, func(k int) error {
		var err error
		if k == 0 {
			marks, err = e.highWater(p)
		} else if slices.Contains(deferred, "invoices") {
			invoices, err = e.splitInvoices(p)
		}
		return err
	})
	if err == nil {
		customers := func() error {
			if err := e.listPaymentMethods(p); err != nil {
				return err
			}
			if err := e.listCustomers(p, nil, 0); err != nil {
				return err
			}
			return e.listAllBilling(p)
		}
		proformas := func() error { return e.listProformas(p, nil, 0) }
		err = p.run(slices.Concat([]func() error{customers}, invoices, []func() error{proformas})...)
	}
	if err == nil && len(deferred) > 0 {
		err = e.db.RestoreIndexes(ctx)
	}
	if err == nil && e.noBillingAPI.Load() {
		// After every listing, so that the charge candidates are known.
		err = p.run(func() error { return e.wantedBilling(p) })
	}
	if err == nil {
		err = p.run(func() error { return e.verifyStale(p) })
	}
	st := p.stats()
	if err != nil {
		st.Duration = time.Since(wall)
		log.Warn("mirror pass failed; cursors kept, nothing deleted", statsFields(st, err)...)
		return st, fmt.Errorf("mirror: full pass: %w", err)
	}

	err = e.db.Write(ctx, func(tx *sql.Tx) error {
		for _, t := range store.MirrorTables {
			if slices.Contains(deferred, t) {
				continue // empty when the pass began: every row is this pass's
			}
			// Read customer by customer, billing is kept only for the
			// customers that need it: the rest of the rows go on purpose.
			partial := t == "billing" && e.noBillingAPI.Load()
			if err := e.checkMassDelete(ctx, tx, t, gen); err != nil && !partial {
				return err
			}
			deleteStale := store.DeleteStale
			if partial {
				deleteStale = func(ctx context.Context, tx *sql.Tx, _ string, gen int64) (int, error) {
					return store.DeleteUnwantedBilling(ctx, tx, gen)
				}
			}
			n, err := deleteStale(ctx, tx, t, gen)
			if err != nil {
				return err
			}
			if n > 0 {
				log.Info("deleted records gone from Splynx", zap.String("table", t), zap.Int("deleted", n))
			}
			st.Deleted += n
		}
		now := e.clk.Now()
		pass.LastFull, pass.LastRun = now, now
		if err := e.db.CursorSet(ctx, tx, pass); err != nil {
			return err
		}
		if err := e.advanceCursors(ctx, tx, marks); err != nil {
			return err
		}
		// A full pass has found every deletion.
		del, err := e.db.CursorGet(ctx, cursorDeletions)
		if err != nil {
			return err
		}
		del.LastRun = now
		if err := e.db.CursorSet(ctx, tx, del); err != nil {
			return err
		}
		if err := e.prune(ctx, tx, log); err != nil {
			return err
		}
		return e.db.Audit(ctx, tx, "mirror.full", auditFields(st, start))
	})
	if err == nil {
		err = e.db.Checkpoint(ctx)
	}
	st.Duration = time.Since(wall)
	if err != nil {
		log.Warn("mirror pass failed at the end; nothing deleted", statsFields(st, err)...)
		return st, fmt.Errorf("mirror: full pass: finish: %w", err)
	}
	e.spent.Store(0) // a full pass has found every deletion: the next check starts a new day's budget
	log.Info("mirror pass done", statsFields(st, nil)...)
	return st, nil
}

// Incremental fetches what changed since the last pass. Deletions in Splynx
// are left to the next full pass. With no full pass yet it runs one.
func (e *Engine) Incremental(ctx context.Context) (Stats, error) {
	pass, err := e.db.CursorGet(ctx, cursorPass)
	if err != nil {
		return Stats{}, fmt.Errorf("mirror: incremental pass: %w", err)
	}
	if pass.LastFull.IsZero() {
		return e.Full(ctx)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	start := e.clk.Now()
	wall := time.Now()
	log := e.log.With(zap.String("pass", "incremental"), zap.Int64("generation", pass.Generation))
	log.Info("mirror pass started")

	p := e.newPass(ctx, false, pass.Generation, log)
	defer p.cancel(nil)
	// The three listings of an incremental pass run side by side whatever
	// Options.Streams says: each is small (the changes only), and each mostly
	// waits while Splynx filters a whole table, so their waits overlap
	// instead of adding up, at the price of a page or two of changed records
	// more in memory.
	p.minStreams = 5
	txCur, err := e.db.CursorGet(ctx, cursorTransactions)
	if err != nil {
		return Stats{}, fmt.Errorf("mirror: incremental pass: %w", err)
	}
	var since [3]time.Time
	var maxIDs [3]int64
	for i, ent := range []struct{ cursor, table string }{
		{cursorCustomers, "customers"}, {cursorInvoices, "invoices"}, {cursorProformas, "proformas"},
	} {
		c, err := e.db.CursorGet(ctx, ent.cursor)
		if err != nil {
			return Stats{}, fmt.Errorf("mirror: incremental pass: %w", err)
		}
		if !c.LastSeen.IsZero() {
			since[i] = c.LastSeen.Add(-e.opts.Overlap)
		}
		if maxIDs[i], err = e.db.MaxID(ctx, ent.table); err != nil {
			return Stats{}, fmt.Errorf("mirror: incremental pass: %w", err)
		}
	}

	// Billing is refreshed while the listings run (the three entities, and
	// the ledger transactions naming customers whose balance moved), a
	// chunk of touched customers at a time, rather than in a step of its own afterwards.
	// listed is closed once the three listings have returned (or the pass
	// has ended, should a failure keep one from starting).
	listed := make(chan struct{})
	var closeListed sync.Once
	var listings atomic.Int32
	listings.Store(4)
	var listedIn time.Duration
	listing := func(fn func() error) func() error {
		return func() error {
			defer func() {
				if listings.Add(-1) == 0 {
					closeListed.Do(func() { close(listed) })
				}
			}()
			return fn()
		}
	}
	err = p.run(
		listing(func() error {
			if err := e.listPaymentMethods(p); err != nil {
				return err
			}
			return e.changed(p, since[0], maxIDs[0], "last_update", e.listCustomers)
		}),
		listing(func() error { return e.changed(p, since[1], maxIDs[1], "date_updated", e.listInvoices) }),
		listing(func() error { return e.changed(p, since[2], maxIDs[2], "date_updated", e.listProformas) }),
		listing(func() error { return e.changedBalances(p, txCur) }),
		func() error {
			err := e.refreshBilling(p, listed)
			listedIn = p.listedIn
			return err
		},
	)
	closeListed.Do(func() { close(listed) })
	st := p.stats()
	if err != nil {
		st.Duration = time.Since(wall)
		log.Warn("mirror pass failed; cursors kept", statsFields(st, err)...)
		return st, fmt.Errorf("mirror: incremental pass: %w", err)
	}
	// The largest stamp seen becomes the cursor. A record changed during
	// the pass behind the listing's position is stamped at most the pass's
	// duration before that, so the overlap window still covers it next
	// time; a pass slower than that keeps the old cursors instead.
	seen := p.seenMarks()
	if d := time.Since(wall); d > e.opts.Overlap/2 {
		log.Warn("incremental pass took longer than half the overlap window; cursors kept",
			zap.Duration("took", d), zap.Duration("overlap", e.opts.Overlap))
		seen = marks{}
	}
	err = e.db.Write(ctx, func(tx *sql.Tx) error {
		pass.LastRun = e.clk.Now()
		if err := e.db.CursorSet(ctx, tx, pass); err != nil {
			return err
		}
		if err := e.advanceCursors(ctx, tx, seen); err != nil {
			return err
		}
		if err := e.prune(ctx, tx, log); err != nil {
			return err
		}
		return e.db.Audit(ctx, tx, "mirror.incremental", auditFields(st, start))
	})
	st.Duration = time.Since(wall)
	if err != nil {
		return st, fmt.Errorf("mirror: incremental pass: finish: %w", err)
	}
	e.spent.Add(int64(st.Records()))
	log.Info("mirror pass done", append(statsFields(st, nil), zap.Duration("listing", listedIn))...)
	return st, nil
}

// changed lists the records of one entity updated at or after since, and
// those with an id above the mirror's largest (new records whose update
// stamp Splynx may have left empty). A zero since lists everything.
func (e *Engine) changed(p *pass, since time.Time, maxID int64, field string,
	list func(*pass, []splynx.Cond, int64) error) error {
	if since.IsZero() {
		return list(p, nil, 0)
	}
	// The two listings are independent and Splynx filters its whole table
	// for each, so they run at the same time.
	errc := make(chan error, 1)
	go func() {
		err := list(p, nil, maxID)
		if err != nil {
			p.fail(err) // stops the other listing too
		}
		errc <- err
	}()
	err := list(p, []splynx.Cond{splynx.Where(field, ">=", store.FormatDateTime(since))}, 0)
	if err != nil {
		p.fail(err)
	}
	if err2 := <-errc; err == nil {
		err = err2
	}
	return err
}

// marks are the largest Splynx update stamps at the start of a pass, and
// the largest ledger transaction id.
type marks struct {
	customers, invoices, proformas time.Time
	transaction                    int64
}

// highWater asks Splynx for the most recently updated record of each entity
// before a full pass lists anything. That stamp, not the largest one seen
// while listing, becomes the next cursor: a full pass can outlast the overlap
// window, and a record changed during it behind the listing's position is
// stamped after the mark, so the next pass still sees it.
func (e *Engine) highWater(p *pass) (marks, error) {
	var m marks
	// Four independent one-record reads: asked side by side, so that a
	// Splynx that takes its time per request delays the pass by one
	// answer, not four.
	err := parallel(4, func(k int) error {
		var err error
		switch k {
		case 0:
			if m.customers, err = top(p, e.c.ListCustomers, "last_update", func(c splynx.Customer) time.Time {
				return c.LastUpdate.Time()
			}); err != nil {
				return fmt.Errorf("newest customer: %w", err)
			}
		case 1:
			if m.invoices, err = top(p, e.c.ListInvoices, "date_updated", func(v splynx.Invoice) time.Time {
				return v.DateUpdated.Time()
			}); err != nil {
				return fmt.Errorf("newest invoice: %w", err)
			}
		case 2:
			if m.proformas, err = top(p, e.c.ListProformas, "date_updated", func(v splynx.Proforma) time.Time {
				return v.DateUpdated.Time()
			}); err != nil {
				return fmt.Errorf("newest proforma: %w", err)
			}
		case 3:
			if m.transaction, err = e.newestTransaction(p); err != nil {
				return fmt.Errorf("newest transaction: %w", err)
			}
		}
		return nil
	})
	return m, err
}

func top[T any](p *pass, list func(context.Context, splynx.Search) iter.Seq2[T, error], field string,
	stamp func(T) time.Time) (time.Time, error) {
	p.requests.Add(1)
	s := splynx.Search{Order: []splynx.OrderBy{splynx.Desc(field)}, Limit: 1}
	for rec, err := range list(p.ctx, s) {
		if err != nil {
			return time.Time{}, err
		}
		return stamp(rec), nil
	}
	return time.Time{}, nil
}

func (e *Engine) advanceCursors(ctx context.Context, tx *sql.Tx, m marks) error {
	for _, c := range []struct {
		entity string
		mark   time.Time
	}{{cursorCustomers, m.customers}, {cursorInvoices, m.invoices}, {cursorProformas, m.proformas}} {
		cur, err := e.db.CursorGet(ctx, c.entity)
		if err != nil {
			return err
		}
		if c.mark.After(cur.LastSeen) {
			cur.LastSeen = c.mark
		}
		cur.LastRun = e.clk.Now()
		if err := e.db.CursorSet(ctx, tx, cur); err != nil {
			return err
		}
	}
	if e.noTransactions.Load() {
		return nil
	}
	// LastRun says the cursor holds a position, 0 included (no transactions).
	cur, err := e.db.CursorGet(ctx, cursorTransactions)
	if err != nil {
		return err
	}
	cur.LastID = max(cur.LastID, m.transaction)
	cur.LastRun = e.clk.Now()
	return e.db.CursorSet(ctx, tx, cur)
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// listing lists every record of an entity, or those matching base with an
// id above after. A full pass's complete listing pages by offset, which lets
// the client fetch the next page while this one is stored; a record deleted
// in Splynx meanwhile can shift a live record out of sight, so the pass
// re-checks every row it did not see before deleting it (verifyStale).
// Partial listings page by id (keyset), where no check follows.
func listing[T any](p *pass, list func(context.Context, splynx.Search) iter.Seq2[T, error], base []splynx.Cond,
	after int64, idField string, idOf func(T) int64, each func(T) error) error {
	if !p.full || len(base) > 0 || after > 0 {
		return keyset(p, list, base, after, idField, idOf, each)
	}
	pageSize := p.e.opts.PageSize
	s := splynx.Search{Order: []splynx.OrderBy{splynx.Asc(idField)}, Limit: pageSize}
	n := 0
	p.requests.Add(1)
	for rec, err := range list(p.ctx, s) {
		if err != nil {
			return fmt.Errorf("list from offset %d: %w", n-n%pageSize, err)
		}
		if err := each(rec); err != nil {
			return err
		}
		n++
		if n%pageSize == 0 {
			p.requests.Add(1)
		}
	}
	return nil
}

// keyset pages through a list endpoint by id (id > last seen, ascending)
// rather than by offset: a record deleted in Splynx during the listing would
// shift every later offset by one and hide a live record.
//
// base must not hold a condition on idField (a PHP query has one slot per
// field); after is where the listing starts.
func keyset[T any](p *pass, list func(context.Context, splynx.Search) iter.Seq2[T, error], base []splynx.Cond,
	after int64, idField string, idOf func(T) int64, each func(T) error) error {
	pageSize := p.e.opts.PageSize
	if !p.full {
		pageSize = p.e.opts.IncrementalPageSize
	}
	for {
		conds := append(append([]splynx.Cond(nil), base...), splynx.Where(idField, ">", strconv.FormatInt(after, 10)))
		s := splynx.Search{Main: conds, Order: []splynx.OrderBy{splynx.Asc(idField)}, Limit: pageSize}
		p.requests.Add(1)
		n := 0
		for rec, err := range list(p.ctx, s) {
			if err != nil {
				return fmt.Errorf("list after id %d: %w", after, err)
			}
			id := idOf(rec)
			if id <= after {
				return fmt.Errorf("list after id %d: Splynx returned id %d out of order", after, id)
			}
			if err := each(rec); err != nil {
				return err
			}
			after = id
			n++
			if n == pageSize {
				break // the next request starts after this id
			}
		}
		if n < pageSize {
			return nil
		}
	}
}

func (e *Engine) listPaymentMethods(p *pass) error {
	p.requests.Add(1)
	ms, err := e.c.ListPaymentMethods(p.ctx)
	if err != nil {
		return fmt.Errorf("list payment methods: %w", err)
	}
	b := p.batcher()
	for _, m := range ms {
		sm := convertPaymentMethod(m)
		if err := b.add(func(bt *batch) { bt.methods = append(bt.methods, sm) }); err != nil {
			return err
		}
	}
	return b.flush()
}

func (e *Engine) listCustomers(p *pass, base []splynx.Cond, after int64) error {
	b := p.batcher()
	err := listing(p, e.c.ListCustomers, base, after, "id", func(c splynx.Customer) int64 { return int64(c.ID) },
		func(c splynx.Customer) error {
			sc := convertCustomer(c)
			p.seen(&p.marks.customers, sc.LastUpdate)
			if !p.full {
				p.touch(sc.ID)
			}
			return b.add(func(bt *batch) { bt.customers = append(bt.customers, sc) })
		})
	if err != nil {
		return fmt.Errorf("customers: %w", err)
	}
	if p.full {
		// The billing fallback reads back the customers this pass wrote.
		return b.flushWait()
	}
	return b.flush()
}

// invoiceParts is how many listings side by side a first sync splits the
// invoices into: as many as Splynx's default request slots
// (splynx.DefaultMaxConcurrent). Against a Splynx that takes its time per
// page a listing has about one request open at a time, so the invoices,
// listed long after the smaller tables are done, need that many to use the
// whole pressure limit (with two, a 1M-invoice first sync ran at 16 of the
// 20 requests a second for most of its length).
const invoiceParts = 4

// splitInvoices lists the invoices of a first sync as invoiceParts
// listings side by side, by offset, each a run of whole pages and the last
// one the rest. A record deleted or added in Splynx during the listing can
// shift a later part's offsets by a record, as it can shift a single offset
// listing's (see listing); a record listed twice is simply written twice.
func (e *Engine) splitInvoices(p *pass) ([]func() error, error) {
	p.requests.Add(1)
	n, err := e.c.CountInvoices(p.ctx, splynx.Search{})
	if err != nil {
		return nil, fmt.Errorf("count invoices: %w", err)
	}
	size := e.opts.PageSize
	parts := min(invoiceParts, n/size)
	if parts < 2 {
		return []func() error{func() error { return e.listInvoices(p, nil, 0) }}, nil
	}
	part := (n / parts / size) * size
	p.minStreams = max(p.minStreams, 2+parts)
	lists := make([]func() error, parts)
	for k := range parts {
		from, n := k*part, part
		if k == parts-1 {
			n = -1 // the last part takes the rest, and whatever was added meanwhile
		}
		lists[k] = func() error { return e.listInvoicesVia(p, offsetPart(e.c.ListInvoices, from, n), nil, 0) }
	}
	return lists, nil
}

// offsetPart lists, through list, n records (all of them with n < 0)
// starting from offset from of the listing a search would give.
func offsetPart[T any](list func(context.Context, splynx.Search) iter.Seq2[T, error], from, n int) func(context.Context, splynx.Search) iter.Seq2[T, error] {
	return func(ctx context.Context, s splynx.Search) iter.Seq2[T, error] {
		s.Offset += from
		return func(yield func(T, error) bool) {
			i := 0
			for r, err := range list(ctx, s) {
				if err == nil && n >= 0 && i >= n {
					return
				}
				i++
				if !yield(r, err) || err != nil {
					return
				}
			}
		}
	}
}

func (e *Engine) listInvoices(p *pass, base []splynx.Cond, after int64) error {
	return e.listInvoicesVia(p, e.c.ListInvoices, base, after)
}

func (e *Engine) listInvoicesVia(p *pass, list func(context.Context, splynx.Search) iter.Seq2[splynx.Invoice, error],
	base []splynx.Cond, after int64) error {
	return listDocuments(p, list, base, after, "invoices", func(v splynx.Invoice) int64 { return int64(v.ID) },
		convertInvoice, func(v *store.Invoice) (time.Time, string, time.Time) { return v.DateUpdated, v.Status, v.DateCreated },
		&p.marks.invoices, func(bt *batch, v store.Invoice) { bt.invoices = append(bt.invoices, v) })
}

func (e *Engine) listProformas(p *pass, base []splynx.Cond, after int64) error {
	return listDocuments(p, e.c.ListProformas, base, after, "proformas", func(v splynx.Proforma) int64 { return int64(v.ID) },
		convertProforma, func(v *store.Proforma) (time.Time, string, time.Time) { return v.DateUpdated, v.Status, v.DateCreated },
		&p.marks.proformas, func(bt *batch, v store.Proforma) { bt.proformas = append(bt.proformas, v) })
}

// listDocuments lists invoices or proformas (what, the table) into the
// pass's batches, noting each one's update stamp in mark. state gives a
// document's update stamp, status and creation date.
//
// Into a table that was empty when this full pass began (the first sync)
// it leaves out the documents the history window would prune at the end of
// the pass: there is no older copy to correct, so writing them only to
// delete them again would be wasted work (43% of the benchmark's invoices).
func listDocuments[S, D any](p *pass, list func(context.Context, splynx.Search) iter.Seq2[S, error],
	base []splynx.Cond, after int64, what string, id func(S) int64, convert func(S) D,
	state func(*D) (updated time.Time, status string, created time.Time), mark *time.Time, add func(*batch, D)) error {
	b := p.batcher()
	cutoff := ""
	if p.full && slices.Contains(p.fresh, what) {
		cutoff = p.e.cutoff()
	}
	err := listing(p, list, base, after, "id", id, func(v S) error {
		sv := convert(v)
		updated, status, created := state(&sv)
		p.seen(mark, updated)
		if cutoff != "" && outOfWindow(status, created, cutoff) {
			p.outOfWindow.Add(1)
			return nil
		}
		return b.add(func(bt *batch) { add(bt, sv) })
	})
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return b.flush()
}

// outOfWindow reports whether the history window's prune (store.PruneHistory)
// removes a document of this status and creation date, for the first
// date inside the window cutoff (YYYY-MM-DD): the same test on the same text.
func outOfWindow(status string, created time.Time, cutoff string) bool {
	return (status == "paid" || status == "deleted") && store.FormatDate(created) < cutoff
}

// billingUnsupported reports whether err means Splynx has no billing list.
func billingUnsupported(err error) bool {
	return splynx.IsNotFound(err) || splynx.IsMethodNotAllowed(err)
}

// listAllBilling lists every billing record, through the list endpoint when
// Splynx has one, else one GET per customer this pass has seen.
func (e *Engine) listAllBilling(p *pass) error {
	if !e.noBillingAPI.Load() {
		b := p.batcher()
		err := listing(p, e.c.ListCustomerBilling, nil, 0, "customer_id",
			func(cb splynx.CustomerBilling) int64 { return int64(cb.CustomerID) },
			func(cb splynx.CustomerBilling) error {
				sb := convertBilling(cb)
				return b.add(func(bt *batch) { bt.billing = append(bt.billing, sb) })
			})
		if err == nil {
			return b.flush()
		}
		if !billingUnsupported(err) || p.billing.Load() > 0 {
			return fmt.Errorf("billing: %w", err)
		}
		e.noBillingAPI.Store(true)
		p.log.Info("Splynx has no customer-billing list; reading billing customer by customer, only for customers with a saved payment method",
			zap.Error(err))
	}
	return nil // wantedBilling reads it once the documents are in
}

// wantedBilling reads, one GET per customer, billing records the full pass
// needs when Splynx will not list them: those of customers with an active
// saved payment method the mirror has no row for, then the least recently
// read of the other such customers, together no more than the pages this
// pass has listed (so the pass asks at most twice its listing's requests;
// the next pass reads the next batch, and incremental passes read savers
// still missing). Rows not read stay: incremental
// passes re-read a customer whose ledger moved, the charge path re-reads a
// balance before charging, and RefreshMissingBilling reads any other
// customer's on demand (a charge plan, a page being viewed).
func (e *Engine) wantedBilling(p *pass) error {
	// The listing's pages: each listing's full pages and its last one.
	pages := int(p.customers.Load()+p.invoices.Load()+p.proformas.Load())/e.opts.PageSize + 3
	budget := 2*pages - int(p.requests.Load()) - 2 // the re-check of unseen rows may follow
	if budget <= 0 {
		return nil
	}
	ids, err := e.db.BillingMissing(p.ctx, budget)
	if err == nil && len(ids) < budget {
		var more []int64
		more, err = e.db.BillingStalest(p.ctx, p.gen, budget-len(ids))
		ids = append(ids, more...)
	}
	if err != nil {
		return fmt.Errorf("billing: %w", err)
	}
	return e.getBilling(p, ids)
}

// refreshBilling re-reads the billing records of the customers an
// incremental pass touched: changed customers, and customers with a new
// invoice or proforma or one whose total, due, status or payment moved (a
// payment moves the balance). Other balance changes wait for a full pass.
//
// It runs beside the listings: each full chunk of newly touched customers
// is requested at once; when listed is closed (every listing has returned)
// it waits for the writer to commit what the listings sent, since the
// writer finds the customers whose invoices' money moved, and requests the
// rest.
func (e *Engine) refreshBilling(p *pass, listed <-chan struct{}) error {
	const chunk = 100 // customer ids per request, well within a URL
	b := p.batcher()
	var bmu sync.Mutex
	sem := make(chan struct{}, min(4, e.opts.BillingConcurrency))
	var wg sync.WaitGroup
	var emu sync.Mutex
	var firstErr error
	request := func(part []int64) {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := e.billingChunk(p, b, &bmu, part); err != nil {
				emu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				emu.Unlock()
			}
		}()
	}
	failed := func() bool {
		emu.Lock()
		defer emu.Unlock()
		return firstErr != nil
	}
	done := false
	for !done && !e.noBillingAPI.Load() && !failed() {
		select {
		case <-p.touchSig:
		case <-listed:
			p.listedIn = time.Since(p.start)
			bmu.Lock()
			err := b.flushWait() // the listings' batches are ahead of this one
			bmu.Unlock()
			if err != nil {
				wg.Wait()
				return err
			}
			done = true
		case <-p.ctx.Done():
			wg.Wait()
			return p.cause()
		}
		least := chunk
		if done {
			least = 1
		}
		for _, part := range p.takeTouched(chunk, least) {
			request(part)
		}
	}
	wg.Wait()
	err := firstErr
	if err == nil && p.ctx.Err() != nil {
		err = p.cause()
	}
	if !e.noBillingAPI.Load() {
		if err == nil {
			return b.flush()
		}
		if !billingUnsupported(err) || p.billing.Load() > 0 {
			return fmt.Errorf("billing: %w", err)
		}
		e.noBillingAPI.Store(true)
		p.log.Info("Splynx has no customer-billing list; reading billing customer by customer", zap.Error(err))
	}
	// One GET per customer, for every customer touched, once the listings
	// and their writes are done.
	select {
	case <-listed:
	case <-p.ctx.Done():
		return p.cause()
	}
	if p.listedIn == 0 {
		p.listedIn = time.Since(p.start)
	}
	if err := b.flushWait(); err != nil {
		return err
	}
	ids, err := e.db.BillingWanted(p.ctx, p.touchedIDs(), true)
	if err == nil {
		// Savers whose row the mirror lacks, a bounded batch per pass (a
		// backlog after the first sync drains over a few passes; a charge
		// plan reads the rest it needs at once: RefreshMissingBilling).
		var missing []int64
		missing, err = e.db.BillingMissing(p.ctx, missingPerPass)
		ids = append(ids, missing...)
	}
	if err != nil {
		return fmt.Errorf("billing: %w", err)
	}
	return e.getBilling(p, ids)
}

// missingPerPass bounds the billing records of savers without a row an
// incremental pass reads one by one (billing list refused).
const missingPerPass = 100

// billingChunk lists the billing records of some customers into b.
func (e *Engine) billingChunk(p *pass, b *batcher, bmu *sync.Mutex, part []int64) error {
	vs := make([]string, len(part))
	for j, id := range part {
		vs[j] = strconv.FormatInt(id, 10)
	}
	p.requests.Add(1)
	s := splynx.Search{Main: []splynx.Cond{splynx.In("customer_id", vs...)}, Limit: len(part) + 1}
	for cb, err := range e.c.ListCustomerBilling(p.ctx, s) {
		if err != nil {
			return err
		}
		sb := convertBilling(cb)
		bmu.Lock()
		err = b.add(func(bt *batch) { bt.billing = append(bt.billing, sb) })
		bmu.Unlock()
		if err != nil {
			return err
		}
	}
	return nil
}

// getBilling reads the billing of the customers list names, one customer at
// a time with bounded concurrency. A customer deleted meanwhile (404) is
// skipped: a full pass then drops its stale billing row.
func (e *Engine) getBilling(p *pass, list []int64) error {
	ids := make(chan int64, len(list))
	for _, id := range list {
		ids <- id
	}
	close(ids)
	b := p.batcher()
	var bmu sync.Mutex
	var wg sync.WaitGroup
	errc := make(chan error, e.opts.BillingConcurrency)
	for range e.opts.BillingConcurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range ids {
				p.requests.Add(1)
				cb, err := e.c.GetCustomerBilling(p.ctx, id)
				if splynx.IsNotFound(err) {
					continue
				}
				if err != nil {
					errc <- fmt.Errorf("billing of customer %d: %w", id, err)
					p.fail(err)
					return
				}
				sb := convertBilling(cb)
				if sb.CustomerID == 0 {
					sb.CustomerID = id
				}
				bmu.Lock()
				err = b.add(func(bt *batch) { bt.billing = append(bt.billing, sb) })
				bmu.Unlock()
				if err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	if err := <-errc; err != nil {
		return err
	}
	if p.ctx.Err() != nil {
		return p.cause()
	}
	return b.flush()
}

func statsFields(st Stats, err error) []zap.Field {
	rate := 0.0
	if st.Duration > 0 {
		rate = float64(st.Records()) / st.Duration.Seconds()
	}
	f := []zap.Field{
		zap.Int("customers", st.Customers), zap.Int("billing", st.Billing), zap.Int("invoices", st.Invoices),
		zap.Int("proformas", st.Proformas), zap.Int("payment_methods", st.PaymentMethods),
		zap.Int("deleted", st.Deleted), zap.Int("out_of_window", st.OutOfWindow), zap.Int("requests", st.Requests),
		zap.Duration("took", st.Duration), zap.Float64("records_per_s", rate),
	}
	if err != nil {
		f = append(f, zap.Error(err))
	}
	return f
}

func auditFields(st Stats, start time.Time) map[string]any {
	return map[string]any{
		"started": start.UTC().Format(time.RFC3339), "customers": st.Customers, "billing": st.Billing,
		"invoices": st.Invoices, "proformas": st.Proformas, "payment_methods": st.PaymentMethods,
		"deleted": st.Deleted, "requests": st.Requests,
	}
}

var errStopped = errors.New("pass stopped")

// verifyStale asks Splynx again, by id, for every mirror row the full
// listing did not see. Those found (hidden by an offset shift) are written
// with this pass's generation; only the rest are then deleted.
func (e *Engine) verifyStale(p *pass) error {
	const chunk = 100
	b := p.batcher()
	check := func(table string, each func(ids []string) error) error {
		if slices.Contains(p.fresh, table) {
			return nil // empty when the pass began: nothing can be stale
		}
		var after int64
		for {
			ids, err := e.db.StaleIDs(p.ctx, table, p.gen, after, chunk)
			if err != nil || len(ids) == 0 {
				return err
			}
			vs := make([]string, len(ids))
			for i, id := range ids {
				vs[i] = strconv.FormatInt(id, 10)
			}
			p.requests.Add(1)
			if err := each(vs); err != nil {
				return fmt.Errorf("re-check %s: %w", table, err)
			}
			after = ids[len(ids)-1]
		}
	}
	byID := func(ids []string) splynx.Search {
		return splynx.Search{Main: []splynx.Cond{splynx.In("id", ids...)}, Limit: len(ids) + 1}
	}
	err := check("customers", func(ids []string) error {
		return storeEach(e.c.ListCustomers(p.ctx, byID(ids)), convertCustomer, b,
			func(bt *batch, v store.Customer) { bt.customers = append(bt.customers, v) })
	})
	if err == nil {
		err = check("invoices", func(ids []string) error {
			return storeEach(e.c.ListInvoices(p.ctx, byID(ids)), convertInvoice, b,
				func(bt *batch, v store.Invoice) { bt.invoices = append(bt.invoices, v) })
		})
	}
	if err == nil {
		err = check("proformas", func(ids []string) error {
			return storeEach(e.c.ListProformas(p.ctx, byID(ids)), convertProforma, b,
				func(bt *batch, v store.Proforma) { bt.proformas = append(bt.proformas, v) })
		})
	}
	if err == nil && !e.noBillingAPI.Load() { // read one by one, only wanted rows are refreshed: the rest go
		err = check("billing", func(ids []string) error {
			s := splynx.Search{Main: []splynx.Cond{splynx.In("customer_id", ids...)}, Limit: len(ids) + 1}
			for cb, err := range e.c.ListCustomerBilling(p.ctx, s) {
				if err != nil {
					return err
				}
				sb := convertBilling(cb)
				if err := b.add(func(bt *batch) { bt.billing = append(bt.billing, sb) }); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if err != nil {
		return err
	}
	return b.flush()
}

// ErrMassDelete is returned by a full pass that would delete more of a
// table than Options.MaxDeleteFraction allows; nothing is deleted.
var ErrMassDelete = errors.New("mirror: refusing to delete most of a table")

func (e *Engine) checkMassDelete(ctx context.Context, tx *sql.Tx, table string, gen int64) error {
	if e.opts.MaxDeleteFraction >= 1 {
		return nil
	}
	var total, stale int
	// table is one of store.MirrorTables, never input.
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(sync_gen < ?), 0) FROM `+table, gen).
		Scan(&total, &stale); err != nil {
		return fmt.Errorf("count stale %s: %w", table, err)
	}
	if total > 100 && float64(stale) > e.opts.MaxDeleteFraction*float64(total) {
		return fmt.Errorf("%w: %d of %d %s not seen in Splynx (limit %.0f%%); check the API key's permissions and partner restrictions",
			ErrMassDelete, stale, total, table, 100*e.opts.MaxDeleteFraction)
	}
	return nil
}
