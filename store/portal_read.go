package store

// Reads behind the customer pages (web/portal_pay.go). Every page view runs
// them, fifty customers at once when the invoice e-mails go out, so they
// select only what the pages show, in one round trip each, and keep to the
// statement shapes go-sqlite3 does not re-prepare on every run (see
// limitSQL).

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"

	"github.com/splynx-pay/splynx-pay/internal/money"
)

// UnpaidDocument is an unpaid invoice or proforma as the customer pages
// list it.
type UnpaidDocument struct {
	Kind        string // KindInvoice | KindProforma
	ID          int64
	CustomerID  int64
	Number      string
	DateCreated time.Time
	DateTill    time.Time
	Total       money.Amount
	Due         money.Amount // a proforma's is its total
	Status      string
}

// unpaidPart selects one table's not_paid documents of a customer, lowest
// ids first.
func unpaidPart(kind, table, due string, limit int) string {
	return `SELECT * FROM (SELECT '` + kind + `', id, customer_id, number, date_created, date_till, total, ` + due + `, status FROM ` +
		table + ` WHERE customer_id IN (?) AND status = 'not_paid' ORDER BY id` + limitSQL(limit) + `)`
}

// UnpaidDocuments lists the customer's not_paid invoices by id, then its
// not_paid proformas by id, at most limit of each (the same rows as
// ListInvoices and ListProformas with that customer, status and limit).
func (db *DB) UnpaidDocuments(ctx context.Context, customerID int64, limit int) ([]UnpaidDocument, error) {
	q := unpaidPart(KindInvoice, "invoices", "due", limit) + ` UNION ALL ` + unpaidPart(KindProforma, "proformas", "total", limit)
	out, err := queryAll(ctx, db, "list unpaid documents", scanUnpaid, q, customerID, customerID)
	if err != nil {
		return nil, err
	}
	// UNION ALL keeps no order of its own: invoices first, each kind by id.
	slices.SortStableFunc(out, func(a, b UnpaidDocument) int {
		if a.Kind != b.Kind {
			return strings.Compare(a.Kind, b.Kind) // "invoice" before "proforma"
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return out, nil
}

func scanUnpaid(r scanner) (UnpaidDocument, error) {
	var d UnpaidDocument
	var created, till string
	var total, due int64
	err := r.Scan(&d.Kind, &d.ID, &d.CustomerID, &d.Number, &created, &till, &total, &due, &d.Status)
	d.DateCreated, d.DateTill = parseDate(created), parseDate(till)
	d.Total, d.Due = money.Amount(total), money.Amount(due)
	return d, err
}

// AttemptBrief is a charge's newest attempt as a list of documents shows it.
type AttemptBrief struct {
	ID        int64
	ChargeKey string
	State     AttemptState
}

// NewestAttempts returns the newest attempt of each of the charge keys that
// has one.
func (db *DB) NewestAttempts(ctx context.Context, keys []string) (map[string]AttemptBrief, error) {
	out := map[string]AttemptBrief{}
	if len(keys) == 0 {
		return out, nil
	}
	args := make([]any, len(keys))
	for i, k := range keys {
		args[i] = k
	}
	// No ORDER BY: the newest of each key is picked here, without SQLite
	// sorting every matching row first.
	as, err := queryAll(ctx, db, "newest attempts", func(r scanner) (AttemptBrief, error) {
		var a AttemptBrief
		err := r.Scan(&a.ID, &a.ChargeKey, &a.State)
		return a, err
	}, `SELECT id, charge_key, state FROM charge_attempts WHERE charge_key IN (?`+strings.Repeat(",?", len(keys)-1)+`)`, args...)
	if err != nil {
		return nil, err
	}
	for _, a := range as {
		if a.ID > out[a.ChargeKey].ID {
			out[a.ChargeKey] = a
		}
	}
	return out, nil
}
