package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// The deletion check of the mirror compares, per id range, how many rows
// Splynx counts with how many the mirror holds, and narrows down only the
// ranges that differ. These are the mirror's side of that comparison.

// rangeTable checks that table is a mirror table keyed by id.
func rangeTable(table string) error {
	switch table {
	case "customers", "invoices", "proformas":
		return nil
	}
	return fmt.Errorf("store: id range: unknown mirror table %q", table)
}

// CountRange counts a mirror table's rows with lo <= id <= hi.
func (db *DB) CountRange(ctx context.Context, table string, lo, hi int64) (int, error) {
	if err := rangeTable(table); err != nil {
		return 0, err
	}
	var n int
	if err := db.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+table+` WHERE id BETWEEN ? AND ?`, lo, hi).
		Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count %s ids %d..%d: %w", table, lo, hi, err)
	}
	return n, nil
}

// IDsInRange lists a mirror table's ids with lo <= id <= hi, in order.
func (db *DB) IDsInRange(ctx context.Context, table string, lo, hi int64) ([]int64, error) {
	if err := rangeTable(table); err != nil {
		return nil, err
	}
	ids, err := db.idList(ctx, `SELECT id FROM `+table+` WHERE id BETWEEN ? AND ? ORDER BY id`, lo, hi)
	if err != nil {
		return nil, fmt.Errorf("store: ids of %s %d..%d: %w", table, lo, hi, err)
	}
	return ids, nil
}

// NthID is the id of the row at position n (from 0) among a mirror table's
// rows with lo <= id <= hi; it splits a range into halves of equal rows.
func (db *DB) NthID(ctx context.Context, table string, lo, hi int64, n int) (int64, error) {
	if err := rangeTable(table); err != nil {
		return 0, err
	}
	var id int64
	err := db.read.QueryRowContext(ctx, `SELECT id FROM `+table+` WHERE id BETWEEN ? AND ? ORDER BY id LIMIT 1 OFFSET ?`,
		lo, hi, n).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("store: id %d of %s %d..%d: %w", n, table, lo, hi, err)
	}
	return id, nil
}

// MinID is the smallest id of a mirror table (0 when empty).
func (db *DB) MinID(ctx context.Context, table string) (int64, error) {
	if err := rangeTable(table); err != nil {
		return 0, err
	}
	var id sql.NullInt64
	if err := db.read.QueryRowContext(ctx, `SELECT MIN(id) FROM `+table).Scan(&id); err != nil {
		return 0, fmt.Errorf("store: min id of %s: %w", table, err)
	}
	return id.Int64, nil
}

// DeleteIDs removes the given rows of a mirror table (a deleted customer's
// billing row goes with it) and returns how many there were.
func DeleteIDs(ctx context.Context, tx *sql.Tx, table string, ids []int64) (int, error) {
	if err := rangeTable(table); err != nil {
		return 0, err
	}
	total := 0
	for len(ids) > 0 {
		part := ids[:min(len(ids), 500)]
		ids = ids[len(part):]
		args := make([]any, len(part))
		for i, id := range part {
			args[i] = id
		}
		in := "(" + strings.TrimSuffix(strings.Repeat("?,", len(part)), ",") + ")"
		res, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE id IN `+in, args...)
		if err != nil {
			return total, fmt.Errorf("store: delete %s: %w", table, err)
		}
		n, _ := res.RowsAffected()
		total += int(n)
		if table == "customers" {
			if _, err := tx.ExecContext(ctx, `DELETE FROM billing WHERE customer_id IN `+in, args...); err != nil {
				return total, fmt.Errorf("store: delete billing of deleted customers: %w", err)
			}
		}
	}
	return total, nil
}

// BillingWanted reports, of the given customers, those whose billing record
// (balance, payment type) the add-on uses: customers with an active saved
// payment method, or with an unpaid or pending invoice or proforma in the
// mirror (a charge candidate); with held, also those whose billing row the
// mirror holds (so a customer whose last unpaid invoice was just paid gets
// its balance refreshed; the next full pass drops the row). The mirror
// reads billing only for these when Splynx will not list billing records.
func (db *DB) BillingWanted(ctx context.Context, ids []int64, held bool) ([]int64, error) {
	also := ""
	if held {
		also = " OR EXISTS (SELECT 1 FROM billing b WHERE b.customer_id = customers.id)"
	}
	var out []int64
	for len(ids) > 0 {
		part := ids[:min(len(ids), 500)]
		ids = ids[len(part):]
		args := make([]any, len(part))
		for i, id := range part {
			args[i] = id
		}
		in := "(" + strings.TrimSuffix(strings.Repeat("?,", len(part)), ",") + ")"
		got, err := db.idList(ctx, `SELECT id FROM customers WHERE id IN `+in+` AND (
 EXISTS (SELECT 1 FROM saved_methods m WHERE m.customer_id = customers.id AND m.status = 'active')
 OR EXISTS (SELECT 1 FROM invoices d WHERE d.customer_id = customers.id AND d.status IN ('not_paid', 'pending'))
 OR EXISTS (SELECT 1 FROM proformas d WHERE d.customer_id = customers.id AND d.status IN ('not_paid', 'pending'))`+also+`)
 ORDER BY id`, args...)
		if err != nil {
			return nil, fmt.Errorf("store: customers whose billing is wanted: %w", err)
		}
		out = append(out, got...)
	}
	return out, nil
}
