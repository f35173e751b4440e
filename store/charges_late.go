package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// MarkLate marks attempt id as one the gateway took after we held it as
// declined, in tx, before it becomes live again: a late attempt is exempt
// from the one-live-attempt-per-document index (migration 0008), as the
// document's other attempt may be live at the same time.
func MarkLate(ctx context.Context, tx *sql.Tx, id int64, now time.Time) error {
	_, err := tx.ExecContext(ctx, `UPDATE charge_attempts SET late = 1, updated_at = ? WHERE id = ?`, FormatTime(now), id)
	return err
}

// SupersedeIfPaid marks the just-approved attempt a superseded, in tx, when
// another attempt's money certainly paid (or is paying) the same invoice or
// proforma: that other attempt is approved or recorded, not refunded, not
// itself superseded, and overlapped a: one of the two is late (two
// attempts of one document are only ever live together when one came back
// from a decline), and the other was not already approved before a was
// created (an attempt made after a paid one, say for an invoice opened
// again, pays the document). It returns the other attempt's reference, or
// "" when a pays the document itself. Balance charges are never superseded.
func SupersedeIfPaid(ctx context.Context, tx *sql.Tx, a ChargeAttempt, now time.Time) (string, error) {
	if a.Kind != KindInvoice && a.Kind != KindProforma {
		return "", nil
	}
	var ref string
	err := tx.QueryRowContext(ctx, `SELECT o.reference FROM charge_attempts o, charge_attempts a
 WHERE a.id = ? AND o.charge_key = a.charge_key AND o.id <> a.id AND o.superseded = 0 AND o.refunded = 0
   AND o.state IN ('approved', 'recorded')
   AND (o.late = 1 OR a.late = 1)
   AND NOT (o.id < a.id AND o.resolved_at <> '' AND o.resolved_at < a.created_at)
 ORDER BY o.id LIMIT 1`, a.ID).Scan(&ref)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE charge_attempts SET superseded = 1, updated_at = ? WHERE id = ?`,
		FormatTime(now), a.ID); err != nil {
		return "", err
	}
	return ref, nil
}

// SetRefundDue records, in tx, whether attempt id still owes a refund of a
// superseded (late) settlement.
func SetRefundDue(ctx context.Context, tx *sql.Tx, id int64, due bool, now time.Time) error {
	_, err := tx.ExecContext(ctx, `UPDATE charge_attempts SET refund_due = ?, updated_at = ? WHERE id = ?`, due, FormatTime(now), id)
	return err
}

// LateRefundsDue lists recorded attempts that still owe a late-settlement
// refund and may be tried again: none of their refunds is in flight (an
// unknown outcome waits for a person) and none was tried since notBefore.
func (db *DB) LateRefundsDue(ctx context.Context, notBefore time.Time) ([]int64, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT a.id FROM charge_attempts a
 WHERE a.refund_due = 1 AND a.state = 'recorded' AND a.refunded < a.amount
   AND NOT EXISTS (SELECT 1 FROM reversals r WHERE r.attempt_id = a.id AND r.kind = 'refund'
                   AND (r.state = 'requested' OR r.created_at >= ?))
 ORDER BY a.id`, FormatTime(notBefore))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}
