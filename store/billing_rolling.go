package store

import (
	"context"
	"database/sql"
	"fmt"
)

// When Splynx refuses the customer-billing list each billing record costs a
// request, so a full pass re-reads only some: those of customers with an
// active saved method the mirror has no row for, and then the least
// recently read of the others, as many as the pass's budget allows. The
// rest keep their rows (the incremental passes re-read a customer whose
// ledger moved, and the charge path re-reads a balance before charging).

// BillingStalest lists up to limit customers with an active saved payment
// method whose billing row a full pass of generation gen has not read yet,
// the least recently read first.
func (db *DB) BillingStalest(ctx context.Context, gen int64, limit int) ([]int64, error) {
	if limit <= 0 {
		return nil, nil
	}
	ids, err := db.idList(ctx, `SELECT b.customer_id FROM billing b
 WHERE b.sync_gen < ? AND EXISTS (SELECT 1 FROM saved_methods m WHERE m.customer_id = b.customer_id AND m.status = 'active')
 ORDER BY b.sync_gen, b.synced_at, b.customer_id LIMIT ?`, gen, limit)
	if err != nil {
		return nil, fmt.Errorf("store: stalest billing rows: %w", err)
	}
	return ids, nil
}

// DeleteUnwantedBilling removes the billing rows a full pass of generation
// gen did not read whose customer the mirror no longer has or has no active
// saved payment method (rows read on demand for a page or a plan): the
// full pass's stale-row deletion for billing read customer by customer.
func DeleteUnwantedBilling(ctx context.Context, tx *sql.Tx, gen int64) (int, error) {
	res, err := tx.ExecContext(ctx, `DELETE FROM billing WHERE sync_gen < ? AND (
 NOT EXISTS (SELECT 1 FROM customers c WHERE c.id = billing.customer_id AND c.sync_gen >= ?)
 OR NOT EXISTS (SELECT 1 FROM saved_methods m WHERE m.customer_id = billing.customer_id AND m.status = 'active'))`, gen, gen)
	if err != nil {
		return 0, fmt.Errorf("store: delete unwanted billing rows: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}
