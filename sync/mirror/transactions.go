package mirror

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"go.uber.org/zap"

	"github.com/splynx-pay/splynx-pay/splynx"
	"github.com/splynx-pay/splynx-pay/store"
)

// Balance-only changes. A customer's balance (customer-billing deposit)
// moves with every ledger transaction: invoices book debits, payments
// credits (spec §6.7, confirmed from APIB and DOCS). Whether Splynx also
// moves the customer's last_update is not documented, so an incremental
// pass lists the transactions with an id above the largest it has seen (a
// plain id search, confirmed in §4) and re-reads the billing of their
// customers. A transaction edited or deleted in place is not seen this way;
// the weekly full pass and the charge path's re-read of the balance cover
// it.

// transactionsRefused reports an answer meaning this API key may not list
// transactions (or this Splynx has no such list).
func transactionsRefused(err error) bool {
	return splynx.IsNotFound(err) || splynx.IsMethodNotAllowed(err) || splynx.IsForbidden(err)
}

// newestTransaction is the largest ledger transaction id (0 when there are
// none, or when the API key may not list them: then balances move in the
// mirror only through the documents and full passes).
func (e *Engine) newestTransaction(p *pass) (int64, error) {
	if e.noTransactions.Load() {
		return 0, nil
	}
	p.requests.Add(1)
	s := splynx.Search{Order: []splynx.OrderBy{splynx.Desc("id")}, Limit: 1}
	for t, err := range e.c.ListTransactions(p.ctx, s) {
		if err != nil {
			if transactionsRefused(err) {
				e.noTransactions.Store(true)
				p.log.Warn("cannot list Splynx transactions; balance changes without a document change wait for the weekly full pass (grant the API key Finance → Transactions: view)",
					zap.Error(err))
				return 0, nil
			}
			return 0, err
		}
		return int64(t.ID), nil
	}
	return 0, nil
}

// changedBalances lists the ledger transactions with an id above the
// cursor's and marks their customers for a billing re-read. A cursor never
// set (no full pass since this code came) waits for one.
func (e *Engine) changedBalances(p *pass, cur store.Cursor) error {
	if cur.LastRun.IsZero() || e.noTransactions.Load() {
		return nil
	}
	err := keyset(p, e.c.ListTransactions, nil, cur.LastID, "id", func(t splynx.Transaction) int64 { return int64(t.ID) },
		func(t splynx.Transaction) error {
			p.transactions.Add(1)
			p.touch(int64(t.CustomerID))
			p.touchMu.Lock()
			p.marks.transaction = max(p.marks.transaction, int64(t.ID))
			p.touchMu.Unlock()
			return nil
		})
	if err != nil && transactionsRefused(err) {
		e.noTransactions.Store(true)
		p.log.Warn("cannot list Splynx transactions; balance changes without a document change wait for the weekly full pass",
			zap.Error(err))
		return nil
	}
	if err != nil {
		return fmt.Errorf("transactions: %w", err)
	}
	return nil
}

// RefreshBilling reads the billing records of the given customers from
// Splynx into the mirror now, one GET each: for a charge candidate or a
// page being viewed when Splynx will not list billing records (the
// mirror then keeps billing only for customers with a saved method). A
// customer Splynx does not know is skipped.
func (e *Engine) RefreshBilling(ctx context.Context, customerIDs ...int64) error {
	pass, err := e.db.CursorGet(ctx, cursorPass)
	if err != nil {
		return fmt.Errorf("mirror: refresh billing: %w", err)
	}
	p := e.newPass(ctx, false, pass.Generation, e.log.With(zap.String("pass", "billing")))
	defer p.cancel(nil)
	if err := p.run(func() error { return e.getBilling(p, customerIDs) }); err != nil {
		return fmt.Errorf("mirror: refresh billing: %w", err)
	}
	return nil
}

// RefreshMissingBilling reads from Splynx the billing records the mirror
// lacks among the given customers, and those of every customer with an
// active saved payment method that has none (a method saved since the last
// pass). With the billing list refused the mirror holds billing only for
// customers with a saved method; whatever needs another customer's balance
// (a charge plan, a page being viewed) calls this first. Rows the mirror
// holds are left as they are: the passes keep them fresh.
func (e *Engine) RefreshMissingBilling(ctx context.Context, customerIDs ...int64) error {
	ids, err := e.db.BillingMissing(ctx, 10000)
	if err != nil {
		return fmt.Errorf("mirror: refresh billing: %w", err)
	}
	for _, id := range customerIDs {
		if _, err := e.db.GetBilling(ctx, id); errors.Is(err, store.ErrNotFound) {
			ids = append(ids, id)
		} else if err != nil {
			return fmt.Errorf("mirror: refresh billing: %w", err)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	slices.Sort(ids)
	return e.RefreshBilling(ctx, slices.Compact(ids)...)
}

// Billing returns a customer's billing record from the mirror, reading it
// from Splynx first when the mirror lacks it (the billing list refused and
// no saved method): for a page showing the balance. c may be nil (no
// Splynx at hand: the mirror only); opts are the engine's (clock, logger).
func Billing(ctx context.Context, db *store.DB, c *splynx.Client, opts Options, customerID int64) (store.Billing, error) {
	b, err := db.GetBilling(ctx, customerID)
	if !errors.Is(err, store.ErrNotFound) || c == nil {
		return b, err
	}
	if err := New(db, c, opts).RefreshBilling(ctx, customerID); err != nil {
		return b, err
	}
	return db.GetBilling(ctx, customerID)
}
