package mirror

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"iter"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/splynx-pay/splynx-pay/splynx"
	"github.com/splynx-pay/splynx-pay/store"
)

// cursorDeletions records when the deletion check last succeeded (LastRun).
const cursorDeletions = "deletions"

// leafRows is the size, in mirror rows, below which a range whose counts
// differ is listed from Splynx (at most leafRows+1 records) instead of split.
const leafRows = 8

// ErrRangeSearch means Splynx refused the id range count the deletion check
// relies on (HEAD with id BETWEEN a AND b); the engine then finds deletions
// with full passes.
var ErrRangeSearch = errors.New("mirror: Splynx refused the id range count")

// DeletionStats describes one deletion check.
type DeletionStats struct {
	Deleted  int // mirror rows removed
	Counts   int // HEAD count requests made
	Listed   int // records fetched to tell which ids of a range are gone
	Requests int
	Duration time.Duration
}

// rangeEntity is what the deletion check needs of one entity.
type rangeEntity struct {
	table string
	count func(context.Context, splynx.Search) (int, error)
	// list returns the ids Splynx has among those matching conds, writing
	// the records it returns into the mirror through b (they are as fresh
	// as any).
	list func(p *pass, b *batcher, conds []splynx.Cond, limit int) ([]int64, error)
}

func (e *Engine) rangeEntities() []rangeEntity {
	return []rangeEntity{
		{"customers", e.c.CountCustomers, func(p *pass, b *batcher, conds []splynx.Cond, limit int) ([]int64, error) {
			return listRange(p, e.c.ListCustomers, conds, limit, func(c splynx.Customer) int64 { return int64(c.ID) },
				func(c splynx.Customer) error {
					sc := convertCustomer(c)
					return b.add(func(bt *batch) { bt.customers = append(bt.customers, sc) })
				})
		}},
		{"invoices", e.c.CountInvoices, func(p *pass, b *batcher, conds []splynx.Cond, limit int) ([]int64, error) {
			return listRange(p, e.c.ListInvoices, conds, limit, func(v splynx.Invoice) int64 { return int64(v.ID) },
				func(v splynx.Invoice) error {
					sv := convertInvoice(v)
					return b.add(func(bt *batch) { bt.invoices = append(bt.invoices, sv) })
				})
		}},
		{"proformas", e.c.CountProformas, func(p *pass, b *batcher, conds []splynx.Cond, limit int) ([]int64, error) {
			return listRange(p, e.c.ListProformas, conds, limit, func(v splynx.Proforma) int64 { return int64(v.ID) },
				func(v splynx.Proforma) error {
					sv := convertProforma(v)
					return b.add(func(bt *batch) { bt.proformas = append(bt.proformas, sv) })
				})
		}},
	}
}

func listRange[T any](p *pass, list func(context.Context, splynx.Search) iter.Seq2[T, error], conds []splynx.Cond,
	limit int, idOf func(T) int64, each func(T) error) ([]int64, error) {
	p.requests.Add(1)
	s := splynx.Search{Main: conds, Order: []splynx.OrderBy{splynx.Asc("id")}, Limit: limit}
	var ids []int64
	for rec, err := range list(p.ctx, s) {
		if err != nil {
			return nil, err
		}
		ids = append(ids, idOf(rec))
		if err := each(rec); err != nil {
			return nil, err
		}
	}
	return ids, nil
}

// CheckDeletions finds the customers, invoices and proformas deleted in
// Splynx without listing them: it compares Splynx's count of each id range
// (HEAD with id BETWEEN, X-total-count) with the mirror's and splits only
// the ranges that differ, halving by mirror rows, until a range holds at
// most a few rows; those are listed to tell which ids are gone. A range
// Splynx counts as empty goes without a listing. Ids above the mirror's
// largest are new records, the incremental pass's business.
//
// A Splynx that refuses the range count (ErrRangeSearch) leaves deletions
// to full passes. The check refuses, like a full pass, to delete more than
// Options.MaxDeleteFraction of a table.
func (e *Engine) CheckDeletions(ctx context.Context) (DeletionStats, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	wall := time.Now()
	pass, err := e.db.CursorGet(ctx, cursorPass)
	if err != nil {
		return DeletionStats{}, fmt.Errorf("mirror: deletion check: %w", err)
	}
	log := e.log.With(zap.String("pass", "deletions"))
	p := e.newPass(ctx, false, pass.Generation, log)
	defer p.cancel(nil)
	var st DeletionStats
	gone := map[string][]int64{}
	var mu sync.Mutex
	err = p.run(func() error {
		b := p.batcher()
		cut := e.cutoff()
		for _, ent := range e.rangeEntities() {
			// Documents: both sides of the history window, each compared
			// on its own (older ones are mirrored only unpaid or pending).
			windows := []string{">=" + cut, "<" + cut}
			if ent.table == "customers" {
				windows = []string{""}
			}
			for _, w := range windows {
				ids, counts, listed, err := e.rangeDeletions(p, b, ent, w)
				mu.Lock()
				st.Counts += counts
				st.Listed += listed
				gone[ent.table] = append(gone[ent.table], ids...)
				mu.Unlock()
				if err != nil {
					return fmt.Errorf("%s: %w", ent.table, err)
				}
			}
		}
		return b.flush()
	})
	st.Requests = int(p.requests.Load())
	if err != nil {
		st.Duration = time.Since(wall)
		return st, fmt.Errorf("mirror: deletion check: %w", err)
	}
	err = e.db.Write(ctx, func(tx *sql.Tx) error {
		for _, ent := range e.rangeEntities() {
			ids := gone[ent.table]
			if len(ids) == 0 {
				continue
			}
			var total int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+ent.table).Scan(&total); err != nil {
				return err
			}
			if e.opts.MaxDeleteFraction < 1 && total > 100 && float64(len(ids)) > e.opts.MaxDeleteFraction*float64(total) {
				return fmt.Errorf("%w: %d of %d %s gone from Splynx (limit %.0f%%); check the API key's permissions and partner restrictions",
					ErrMassDelete, len(ids), total, ent.table, 100*e.opts.MaxDeleteFraction)
			}
			n, err := store.DeleteIDs(ctx, tx, ent.table, ids)
			if err != nil {
				return err
			}
			st.Deleted += n
			log.Info("deleted records gone from Splynx", zap.String("table", ent.table), zap.Int("deleted", n))
		}
		cur, err := e.db.CursorGet(ctx, cursorDeletions)
		if err != nil {
			return err
		}
		cur.LastRun = e.clk.Now()
		if err := e.db.CursorSet(ctx, tx, cur); err != nil {
			return err
		}
		if err := e.prune(ctx, tx, log); err != nil {
			return err
		}
		return e.db.Audit(ctx, tx, "mirror.deletions", map[string]any{"deleted": st.Deleted, "counts": st.Counts,
			"listed": st.Listed, "requests": st.Requests})
	})
	st.Duration = time.Since(wall)
	if err != nil {
		return st, fmt.Errorf("mirror: deletion check: %w", err)
	}
	log.Info("deletion check done", zap.Int("deleted", st.Deleted), zap.Int("counts", st.Counts),
		zap.Int("listed", st.Listed), zap.Int("requests", st.Requests), zap.Duration("took", st.Duration))
	return st, nil
}

// rangeDeletions returns the mirror ids of one entity that Splynx no longer
// has (or, before the history window, no longer has unpaid or pending),
// with the number of count requests and of records listed. from is a side
// of the history window for documents (see store's since), "" for all.
func (e *Engine) rangeDeletions(p *pass, b *batcher, ent rangeEntity, from string) (gone []int64, counts, listed int, err error) {
	ctx := p.ctx
	within := func(lo, hi int64) []splynx.Cond {
		c := []splynx.Cond{splynx.Between("id", strconv.FormatInt(lo, 10), strconv.FormatInt(hi, 10))}
		if date, ok := strings.CutPrefix(from, "<"); ok {
			c = append(c, splynx.Where("date_created", "<", date), splynx.In("status", "not_paid", "pending"))
		} else if date, ok := strings.CutPrefix(from, ">="); ok {
			c = append(c, splynx.Where("date_created", ">=", date))
		}
		return c
	}
	// A window side with no rows in the mirror has nothing to lose.
	lo, err := e.db.MinID(ctx, ent.table)
	if err != nil || lo == 0 {
		return nil, 0, 0, err
	}
	hi, err := e.db.MaxID(ctx, ent.table)
	if err != nil {
		return nil, 0, 0, err
	}
	count := func(lo, hi int64) (int, error) {
		counts++
		p.requests.Add(1)
		n, err := ent.count(ctx, splynx.Search{Main: within(lo, hi)})
		if err != nil && rangeRefused(err) {
			return 0, fmt.Errorf("%w: %w", ErrRangeSearch, err)
		}
		return n, err
	}
	type span struct {
		lo, hi int64
		theirs int // Splynx's count, -1 when not asked yet
	}
	todo := []span{{lo, hi, -1}}
	for len(todo) > 0 {
		s := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		ours, err := e.db.CountRange(ctx, ent.table, s.lo, s.hi, from)
		if err != nil {
			return nil, counts, listed, err
		}
		if ours == 0 {
			continue // nothing of ours to lose; new records are the incremental pass's
		}
		if s.theirs < 0 {
			if s.theirs, err = count(s.lo, s.hi); err != nil {
				return nil, counts, listed, err
			}
		}
		switch {
		case s.theirs == ours:
			continue
		case s.theirs == 0:
			ids, err := e.db.IDsInRange(ctx, ent.table, s.lo, s.hi, from)
			if err != nil {
				return nil, counts, listed, err
			}
			gone = append(gone, ids...)
			continue
		case ours <= leafRows:
			theirs, err := ent.list(p, b, within(s.lo, s.hi), s.theirs+1)
			if err != nil {
				return nil, counts, listed, err
			}
			listed += len(theirs)
			ids, err := e.db.IDsInRange(ctx, ent.table, s.lo, s.hi, from)
			if err != nil {
				return nil, counts, listed, err
			}
			have := make(map[int64]bool, len(theirs))
			for _, id := range theirs {
				have[id] = true
			}
			for _, id := range ids {
				if !have[id] {
					gone = append(gone, id)
				}
			}
			continue
		}
		// Split by mirror rows: the lower half ends at the row in the middle.
		mid, err := e.db.NthID(ctx, ent.table, s.lo, s.hi, ours/2-1, from)
		if err != nil {
			return nil, counts, listed, err
		}
		left, err := count(s.lo, mid)
		if err != nil {
			return nil, counts, listed, err
		}
		// Splynx's right half is what the left leaves of the whole; a record
		// deleted between the two counts only sends the check down once more.
		todo = append(todo, span{mid + 1, s.hi, max(s.theirs-left, 0)}, span{s.lo, mid, left})
	}
	return gone, counts, listed, nil
}

// rangeRefused reports an answer meaning Splynx will not count by id range
// (as opposed to being busy or down).
func rangeRefused(err error) bool {
	var ae *splynx.APIError
	if !errors.As(err, &ae) {
		return false
	}
	switch ae.Status {
	case 400, 404, 405, 422:
		return true
	}
	return false
}
