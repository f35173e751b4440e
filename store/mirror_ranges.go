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

// since restricts a document table's range functions to one side of the
// history window: ">=YYYY-MM-DD" for the documents created on or after that
// date, "<YYYY-MM-DD" for the older ones, which the mirror keeps only while
// unpaid or pending (see PruneHistory); "" for all rows.
func since(table, window string) (string, []any) {
	if window == "" || table == "customers" {
		return "", nil
	}
	if date, ok := strings.CutPrefix(window, "<"); ok {
		return ` AND date_created < ? AND status IN ('not_paid', 'pending')`, []any{date}
	}
	return ` AND date_created >= ?`, []any{strings.TrimPrefix(window, ">=")}
}

// CountRange counts a mirror table's rows with lo <= id <= hi (within the
// side of the history window from names, for documents: see since).
func (db *DB) CountRange(ctx context.Context, table string, lo, hi int64, from string) (int, error) {
	if err := rangeTable(table); err != nil {
		return 0, err
	}
	cond, args := since(table, from)
	var n int
	if err := db.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+table+` WHERE id BETWEEN ? AND ?`+cond,
		append([]any{lo, hi}, args...)...).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count %s ids %d..%d: %w", table, lo, hi, err)
	}
	return n, nil
}

// IDsInRange lists a mirror table's ids with lo <= id <= hi, in order (see
// CountRange for from).
func (db *DB) IDsInRange(ctx context.Context, table string, lo, hi int64, from string) ([]int64, error) {
	if err := rangeTable(table); err != nil {
		return nil, err
	}
	cond, args := since(table, from)
	ids, err := db.idList(ctx, `SELECT id FROM `+table+` WHERE id BETWEEN ? AND ?`+cond+` ORDER BY id`,
		append([]any{lo, hi}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("store: ids of %s %d..%d: %w", table, lo, hi, err)
	}
	return ids, nil
}

// NthID is the id of the row at position n (from 0) among a mirror table's
// rows with lo <= id <= hi; it splits a range into halves of equal rows.
func (db *DB) NthID(ctx context.Context, table string, lo, hi int64, n int, from string) (int64, error) {
	if err := rangeTable(table); err != nil {
		return 0, err
	}
	cond, args := since(table, from)
	var id int64
	err := db.read.QueryRowContext(ctx, `SELECT id FROM `+table+` WHERE id BETWEEN ? AND ?`+cond+` ORDER BY id LIMIT 1 OFFSET ?`,
		append(append([]any{lo, hi}, args...), n)...).Scan(&id)
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
// (balance, payment type) the mirror keeps when Splynx will not list billing
// records and each costs a request: customers with an active saved payment
// method (the ones a charge run can charge); with held, also those whose
// billing row the mirror already holds (kept fresh until the next full pass
// drops it). Charge candidates and pages read the rest on demand.
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
 EXISTS (SELECT 1 FROM saved_methods m WHERE m.customer_id = customers.id AND m.status = 'active')`+also+`)
 ORDER BY id`, args...)
		if err != nil {
			return nil, fmt.Errorf("store: customers whose billing is wanted: %w", err)
		}
		out = append(out, got...)
	}
	return out, nil
}

// BillingMissing lists the customers with an active saved payment method
// whose billing row the mirror lacks (a method saved since the last pass).
func (db *DB) BillingMissing(ctx context.Context, limit int) ([]int64, error) {
	ids, err := db.idList(ctx, `SELECT DISTINCT m.customer_id FROM saved_methods m
 JOIN customers c ON c.id = m.customer_id
 WHERE m.status = 'active' AND NOT EXISTS (SELECT 1 FROM billing b WHERE b.customer_id = m.customer_id)
 ORDER BY m.customer_id LIMIT ?`, limitOr(limit))
	if err != nil {
		return nil, fmt.Errorf("store: customers missing billing: %w", err)
	}
	return ids, nil
}

// PruneHistory removes a document table's paid (and deleted) documents
// created before the date before (YYYY-MM-DD): the mirror's history window.
// Unpaid and pending documents stay whatever their age.
func PruneHistory(ctx context.Context, tx *sql.Tx, table, before string) (int, error) {
	if table != "invoices" && table != "proformas" {
		return 0, fmt.Errorf("store: prune history: not a document table: %q", table)
	}
	res, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE status IN ('paid', 'deleted') AND date_created < ?`, before)
	if err != nil {
		return 0, fmt.Errorf("store: prune %s before %s: %w", table, before, err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}
