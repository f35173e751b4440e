package store

import (
	"context"
	"fmt"
)

// PlanFilter selects what a charge run considers, over the mirror: the
// Charge dialog's filters (Splynx Finance → Invoices → Charge). Empty
// fields do not filter.
type PlanFilter struct {
	Statuses         []string // document statuses; required for documents
	CreatedFrom      string   // inclusive YYYY-MM-DD
	CreatedTo        string   // inclusive YYYY-MM-DD
	DueBy            string   // invoices only: date_till on or before this YYYY-MM-DD
	PartnerIDs       []int64  // the customer's partner
	LocationIDs      []int64  // the customer's location
	PaymentMethodIDs []int64  // the customer's billing payment method
	IDs              []int64  // document ids (ignored for balances)
	TotalOp          string   // = != < <= > >= against the total (the debt for balances); "" = none
	Total            int64
	CustomerID       int64
	Number           string // document number (ignored for balances)
}

// PlanRow is one document (or negative balance) with what the planner
// decides on: the customer's status and attributes and the active saved
// method.
type PlanRow struct {
	ID             int64 // document id; 0 for a balance
	Number         string
	CustomerID     int64
	CustomerName   string
	Login          string
	DateCreated    string
	Total          int64 // minor units; for a balance the debt
	Due            int64 // invoices: due; proformas: total; balances: the debt
	Status         string
	CustomerStatus string
	Attributes     string // the customer's additional attributes, JSON
	MethodID       int64  // active saved method, 0 = none
	MethodKind     string
	Mask           string
}

// PlanDocuments lists the invoices (or, with invoices false, the
// proformas) matching f, by id, with their customer and active method.
func (db *DB) PlanDocuments(ctx context.Context, f PlanFilter, invoices bool) ([]PlanRow, error) {
	table, due := "proformas", "d.total"
	if invoices {
		table, due = "invoices", "d.due"
	}
	var w where
	w.inStr("d.status", f.Statuses)
	if f.CreatedFrom != "" {
		w.add("d.date_created >= ?", f.CreatedFrom)
	}
	if f.CreatedTo != "" {
		w.add("d.date_created <= ?", f.CreatedTo)
	}
	if f.DueBy != "" && invoices {
		w.add("d.date_till <> '' AND substr(d.date_till, 1, 10) <= ?", f.DueBy)
	}
	w.in("c.partner_id", f.PartnerIDs)
	w.in("c.location_id", f.LocationIDs)
	w.in("COALESCE(b.payment_method, 0)", f.PaymentMethodIDs)
	w.in("d.id", f.IDs)
	if err := w.compare("d.total", f.TotalOp, f.Total); err != nil {
		return nil, err
	}
	if f.CustomerID != 0 {
		w.add("d.customer_id = ?", f.CustomerID)
	}
	if f.Number != "" {
		w.add("d.number = ?", f.Number)
	}
	q := `SELECT d.id, d.number, d.customer_id, COALESCE(c.name, ''), COALESCE(c.login, ''), d.date_created, d.total, ` + due + `,
 d.status, COALESCE(c.status, ''), COALESCE(c.additional_json, '{}'),
 COALESCE(m.id, 0), COALESCE(m.kind, ''), COALESCE(m.mask, '')
 FROM ` + table + ` d
 LEFT JOIN customers c ON c.id = d.customer_id
 LEFT JOIN billing b ON b.customer_id = d.customer_id
 LEFT JOIN saved_methods m ON m.customer_id = d.customer_id AND m.status = 'active'` + w.sql() + ` ORDER BY d.id`
	return queryAll(ctx, db, "plan "+table, func(sc scanner) (r PlanRow, err error) {
		err = sc.Scan(&r.ID, &r.Number, &r.CustomerID, &r.CustomerName, &r.Login, &r.DateCreated, &r.Total,
			&r.Due, &r.Status, &r.CustomerStatus, &r.Attributes, &r.MethodID, &r.MethodKind, &r.Mask)
		return r, err
	}, q, w.args...)
}

// PlanBalances lists the customers whose balance is negative, matching f,
// by customer id, with the debt as Total and Due.
func (db *DB) PlanBalances(ctx context.Context, f PlanFilter) ([]PlanRow, error) {
	var w where
	w.add("b.deposit < 0")
	w.in("c.partner_id", f.PartnerIDs)
	w.in("c.location_id", f.LocationIDs)
	w.in("b.payment_method", f.PaymentMethodIDs)
	if f.CustomerID != 0 {
		w.add("c.id = ?", f.CustomerID)
	}
	if err := w.compare("-b.deposit", f.TotalOp, f.Total); err != nil {
		return nil, err
	}
	q := `SELECT c.id, c.name, c.login, -b.deposit, c.status, c.additional_json,
 COALESCE(m.id, 0), COALESCE(m.kind, ''), COALESCE(m.mask, '')
 FROM billing b JOIN customers c ON c.id = b.customer_id
 LEFT JOIN saved_methods m ON m.customer_id = c.id AND m.status = 'active'` + w.sql() + ` ORDER BY c.id`
	return queryAll(ctx, db, "plan balances", func(sc scanner) (r PlanRow, err error) {
		err = sc.Scan(&r.CustomerID, &r.CustomerName, &r.Login, &r.Due, &r.CustomerStatus, &r.Attributes,
			&r.MethodID, &r.MethodKind, &r.Mask)
		r.Total = r.Due
		return r, err
	}, q, w.args...)
}

// compare adds "col op ?" for a comparison operator; "" adds nothing.
func (w *where) compare(col, op string, v int64) error {
	if op == "" {
		return nil
	}
	if !comparison[op] {
		return fmt.Errorf("store: plan filter: bad comparison %q", op)
	}
	w.add(col+" "+op+" ?", v)
	return nil
}

// LiveAttempt is an attempt that is still in flight or unresolved.
type LiveAttempt struct {
	ChargeKey string
	State     AttemptState
	Reference string
}

// LiveAttempts lists the attempts not yet final (created, sending,
// unknown, review, pending, approved) that were not superseded.
func (db *DB) LiveAttempts(ctx context.Context) ([]LiveAttempt, error) {
	return queryAll(ctx, db, "live attempts", func(sc scanner) (a LiveAttempt, err error) {
		err = sc.Scan(&a.ChargeKey, &a.State, &a.Reference)
		return a, err
	}, `SELECT charge_key, state, reference FROM charge_attempts
 WHERE state IN ('created','sending','unknown','review','pending','approved') AND superseded = 0`)
}

// LastDecline is the newest attempt of a charge, declined, with what the
// planner weighs before charging it again.
type LastDecline struct {
	ChargeKey      string
	Reference      string
	Retryable      bool
	Retried        bool
	NextRetryAt    string // stored time; "" = none scheduled
	MethodID       int64  // method the attempt used, 0 = none
	Code, Reason   string
	ActiveMethodID int64 // the customer's active saved method now, 0 = none
	BatchAttempts  int   // attempts of the charge made by batch runs (not mode 'single')
}

// LastDeclines lists, per charge, the newest attempt that reached the
// gateway when it was declined. Attempts with code notSent (declined
// before they were sent) and superseded ones do not count, neither as the
// newest nor in BatchAttempts.
func (db *DB) LastDeclines(ctx context.Context, notSent string) ([]LastDecline, error) {
	return queryAll(ctx, db, "last declines", func(sc scanner) (d LastDecline, err error) {
		err = sc.Scan(&d.ChargeKey, &d.Reference, &d.Retryable, &d.Retried, &d.NextRetryAt, &d.MethodID,
			&d.Code, &d.Reason, &d.ActiveMethodID, &d.BatchAttempts)
		return d, err
	}, `SELECT a.charge_key, a.reference, a.retryable, a.retried, a.next_retry_at,
 COALESCE(a.method_id, 0), a.code, a.reason,
 COALESCE((SELECT m.id FROM saved_methods m WHERE m.customer_id = a.customer_id AND m.status = 'active'), 0),
 (SELECT COUNT(*) FROM charge_attempts x LEFT JOIN charge_runs r ON r.id = x.run_id
   WHERE x.charge_key = a.charge_key AND x.code <> ? AND x.superseded = 0 AND COALESCE(r.mode, '') <> 'single')
 FROM charge_attempts a
 JOIN (SELECT charge_key, MAX(id) AS id FROM charge_attempts WHERE code <> ? AND superseded = 0 GROUP BY charge_key) l ON l.id = a.id
 WHERE a.state = 'declined'`, notSent, notSent)
}

// CustomersOwing lists up to limit active customers with a not_paid
// invoice, by id.
func (db *DB) CustomersOwing(ctx context.Context, limit int) ([]Customer, error) {
	return queryAll(ctx, db, "customers owing", scanCustomer, `SELECT `+customerCols+` FROM customers WHERE id IN
 (SELECT c.id FROM customers c JOIN invoices i ON i.customer_id = c.id WHERE i.status = 'not_paid' AND c.status = 'active')
 ORDER BY id LIMIT ?`, limit)
}
