package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/splynx-pay/splynx-pay/internal/money"
)

const customerCols = `id, login, name, email, billing_email, phone, category, status, billing_type, partner_id,
	location_id, street, street2, city, zip, date_add, last_update, additional_json, synced_at`

func scanCustomer(sc interface{ Scan(...any) error }) (Customer, error) {
	var c Customer
	var dateAdd, lastUpdate, attrs, synced string
	err := sc.Scan(&c.ID, &c.Login, &c.Name, &c.Email, &c.BillingEmail, &c.Phone, &c.Category, &c.Status,
		&c.BillingType, &c.PartnerID, &c.LocationID, &c.Street1, &c.Street2, &c.City, &c.ZipCode, &dateAdd,
		&lastUpdate, &attrs, &synced)
	if err != nil {
		return c, err
	}
	c.DateAdd = parseDate(dateAdd)
	c.LastUpdate = parseDateTime(lastUpdate)
	c.Additional = decodeAttrs(attrs)
	c.SyncedAt, _ = time.Parse(time.RFC3339, synced)
	return c, nil
}

// GetCustomer reads one mirrored customer (ErrNotFound if absent).
func (db *DB) GetCustomer(ctx context.Context, id int64) (Customer, error) {
	c, err := scanCustomer(db.read.QueryRowContext(ctx, `SELECT `+customerCols+` FROM customers WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return c, fmt.Errorf("%w: customer %d", ErrNotFound, id)
	}
	if err != nil {
		return c, fmt.Errorf("store: get customer %d: %w", id, err)
	}
	return c, nil
}

// GetCustomerByLogin reads one mirrored customer by login (ErrNotFound if absent).
func (db *DB) GetCustomerByLogin(ctx context.Context, login string) (Customer, error) {
	c, err := scanCustomer(db.read.QueryRowContext(ctx,
		`SELECT `+customerCols+` FROM customers WHERE login = ? ORDER BY id LIMIT 1`, login))
	if errors.Is(err, sql.ErrNoRows) {
		return c, fmt.Errorf("%w: customer with login %q", ErrNotFound, login)
	}
	if err != nil {
		return c, fmt.Errorf("store: get customer by login: %w", err)
	}
	return c, nil
}

// ListCustomers returns one page of customers ordered by id.
func (db *DB) ListCustomers(ctx context.Context, f CustomerFilter) ([]Customer, error) {
	var w where
	w.in("id", f.IDs)
	w.inStr("status", f.Statuses)
	w.in("partner_id", f.PartnerIDs)
	w.in("location_id", f.LocationIDs)
	if f.AfterID > 0 {
		w.add("id > ?", f.AfterID)
	}
	q := `SELECT ` + customerCols + ` FROM customers` + w.sql() + ` ORDER BY id` + limitSQL(f.Limit)
	rows, err := db.read.QueryContext(ctx, q, w.args...)
	if err != nil {
		return nil, fmt.Errorf("store: list customers: %w", err)
	}
	defer rows.Close()
	var out []Customer
	for rows.Next() {
		c, err := scanCustomer(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list customers: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// GetBilling reads one customer's mirrored billing record (ErrNotFound if absent).
func (db *DB) GetBilling(ctx context.Context, customerID int64) (Billing, error) {
	var b Billing
	var enabled int
	var synced string
	var dep, minBal int64
	err := db.read.QueryRowContext(ctx, `SELECT customer_id, enabled, type, deposit, payment_method, billing_date,
		billing_due, min_balance, synced_at FROM billing WHERE customer_id = ?`, customerID).
		Scan(&b.CustomerID, &enabled, &b.Type, &dep, &b.PaymentMethod, &b.BillingDate, &b.BillingDue, &minBal, &synced)
	if errors.Is(err, sql.ErrNoRows) {
		return b, fmt.Errorf("%w: billing of customer %d", ErrNotFound, customerID)
	}
	if err != nil {
		return b, fmt.Errorf("store: get billing of customer %d: %w", customerID, err)
	}
	b.Enabled = enabled != 0
	b.Deposit = money.Amount(dep)
	b.MinBalance = money.Amount(minBal)
	b.SyncedAt, _ = time.Parse(time.RFC3339, synced)
	return b, nil
}

func scanInvoice(sc interface{ Scan(...any) error }) (Invoice, error) {
	return invoiceTable.scanDocument(sc)
}

func scanProforma(sc interface{ Scan(...any) error }) (Proforma, error) {
	v, err := proformaTable.scanDocument(sc)
	return v.asProforma(), err
}

// GetInvoice reads one mirrored invoice with its items (ErrNotFound if absent).
func (db *DB) GetInvoice(ctx context.Context, id int64) (Invoice, error) {
	return getDocument(ctx, db, invoiceTable, id, scanInvoice,
		func(v *Invoice) *[]Item { return &v.Items })
}

// GetInvoiceByNumber reads one mirrored invoice by its number (ErrNotFound if absent).
func (db *DB) GetInvoiceByNumber(ctx context.Context, number string) (Invoice, error) {
	return byNumber(ctx, db, invoiceTable, number, db.GetInvoice)
}

// GetProforma reads one mirrored proforma with its items (ErrNotFound if absent).
func (db *DB) GetProforma(ctx context.Context, id int64) (Proforma, error) {
	return getDocument(ctx, db, proformaTable, id, scanProforma,
		func(v *Proforma) *[]Item { return &v.Items })
}

// GetProformaByNumber reads one mirrored proforma by its number (ErrNotFound if absent).
func (db *DB) GetProformaByNumber(ctx context.Context, number string) (Proforma, error) {
	return byNumber(ctx, db, proformaTable, number, db.GetProforma)
}

// getDocument reads one invoice or proforma (table; what names it in
// errors) with its lines.
func getDocument[T any](ctx context.Context, db *DB, t *docTable, id int64,
	scan func(interface{ Scan(...any) error }) (T, error), lines func(*T) *[]Item) (T, error) {
	v, err := scan(db.read.QueryRowContext(ctx, `SELECT `+t.cols+` FROM `+t.name+` i WHERE i.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return v, fmt.Errorf("%w: %s %d", ErrNotFound, t.what, id)
	}
	if err != nil {
		return v, fmt.Errorf("store: get %s %d: %w", t.what, id, err)
	}
	items, err := db.items(ctx, t.name, []int64{id})
	if err != nil {
		return v, fmt.Errorf("store: get %s %d items: %w", t.what, id, err)
	}
	*lines(&v) = items[id]
	return v, nil
}

// byNumber reads, with get, the invoice or proforma of t with the lowest id
// among those with the given number.
func byNumber[T any](ctx context.Context, db *DB, t *docTable, number string,
	get func(context.Context, int64) (T, error)) (T, error) {
	var zero T
	id, err := db.documentIDByNumber(ctx, t, number)
	if err != nil {
		return zero, err
	}
	return get(ctx, id)
}

// documentIDByNumber finds the lowest id of an invoice or proforma with the
// given number.
func (db *DB) documentIDByNumber(ctx context.Context, t *docTable, number string) (int64, error) {
	var id int64
	err := db.read.QueryRowContext(ctx, `SELECT id FROM `+t.name+` WHERE number = ? ORDER BY id LIMIT 1`, number).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("%w: %s number %q", ErrNotFound, t.what, number)
	}
	if err != nil {
		return 0, fmt.Errorf("store: get %s by number: %w", t.what, err)
	}
	return id, nil
}

// items reads the items of the given invoices or proformas (table).
func (db *DB) items(ctx context.Context, table string, ids []int64) (map[int64][]Item, error) {
	out := map[int64][]Item{}
	for start := 0; start < len(ids); start += maxParams {
		var w where
		w.in("id", ids[start:min(start+maxParams, len(ids))])
		rows, err := db.read.QueryContext(ctx, `SELECT id, items FROM `+table+w.sql(), w.args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var id int64
			var text string
			if err := rows.Scan(&id, &text); err != nil {
				rows.Close()
				return nil, err
			}
			its, err := parseItems(text)
			if err != nil {
				rows.Close()
				return nil, fmt.Errorf("%s %d: %w", table, id, err)
			}
			if len(its) > 0 {
				out[id] = its
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// ListInvoices returns one page of matching invoices ordered by id; pass the
// last id of a page as AfterID to get the next.
func (db *DB) ListInvoices(ctx context.Context, f InvoiceFilter) ([]Invoice, error) {
	return listDocuments(ctx, db, invoiceTable, f, scanInvoice,
		func(v *Invoice) (int64, *[]Item) { return v.ID, &v.Items })
}

// listDocuments pages through invoices or proformas (the same filter, query
// and line handling) and, with f.WithItems, attaches each row's lines.
func listDocuments[T any](ctx context.Context, db *DB, t *docTable, f InvoiceFilter,
	scan func(interface{ Scan(...any) error }) (T, error), lines func(*T) (int64, *[]Item)) ([]T, error) {
	table := t.name
	joins, w, err := f.where(t.invoices)
	if err != nil {
		return nil, err
	}
	q := `SELECT ` + t.cols + ` FROM ` + table + ` i` + joins + w.sql() + ` ORDER BY i.id` + limitSQL(f.Limit)
	rows, err := db.read.QueryContext(ctx, q, w.args...)
	if err != nil {
		return nil, fmt.Errorf("store: list %s: %w", table, err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list %s: %w", table, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list %s: %w", table, err)
	}
	if f.WithItems && len(out) > 0 {
		ids := make([]int64, len(out))
		for i := range out {
			ids[i], _ = lines(&out[i])
		}
		items, err := db.items(ctx, table, ids)
		if err != nil {
			return nil, fmt.Errorf("store: list %s lines: %w", table, err)
		}
		for i := range out {
			id, dst := lines(&out[i])
			*dst = items[id]
		}
	}
	return out, nil
}

// CountInvoices counts the invoices matching f (paging fields ignored).
func (db *DB) CountInvoices(ctx context.Context, f InvoiceFilter) (int, error) {
	f.AfterID = 0
	joins, w, err := f.where(true)
	if err != nil {
		return 0, err
	}
	var n int
	if err := db.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM invoices i`+joins+w.sql(), w.args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count invoices: %w", err)
	}
	return n, nil
}

// ListProformas returns one page of matching proformas ordered by id.
func (db *DB) ListProformas(ctx context.Context, f InvoiceFilter) ([]Proforma, error) {
	return listDocuments(ctx, db, proformaTable, f, scanProforma,
		func(v *Proforma) (int64, *[]Item) { return v.ID, &v.Items })
}

// ListPaymentMethods returns every mirrored payment method ordered by id.
func (db *DB) ListPaymentMethods(ctx context.Context) ([]PaymentMethod, error) {
	rows, err := db.read.QueryContext(ctx,
		`SELECT id, name, is_active, name_1, name_2, name_3, name_4, name_5 FROM payment_methods ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("store: list payment methods: %w", err)
	}
	defer rows.Close()
	var out []PaymentMethod
	for rows.Next() {
		var m PaymentMethod
		var active int
		if err := rows.Scan(&m.ID, &m.Name, &active, &m.Names[0], &m.Names[1], &m.Names[2], &m.Names[3], &m.Names[4]); err != nil {
			return nil, fmt.Errorf("store: list payment methods: %w", err)
		}
		m.IsActive = active != 0
		out = append(out, m)
	}
	return out, rows.Err()
}

// Counts counts the mirror's rows.
func (db *DB) Counts(ctx context.Context) (MirrorCounts, error) {
	var c MirrorCounts
	err := db.read.QueryRowContext(ctx, `SELECT
		(SELECT COUNT(*) FROM customers), (SELECT COUNT(*) FROM billing),
		(SELECT COUNT(*) FROM invoices), (SELECT COALESCE(SUM(json_array_length(items)), 0) FROM invoices),
		(SELECT COUNT(*) FROM proformas), (SELECT COALESCE(SUM(json_array_length(items)), 0) FROM proformas),
		(SELECT COUNT(*) FROM payment_methods)`).
		Scan(&c.Customers, &c.Billing, &c.Invoices, &c.InvoiceItems, &c.Proformas, &c.ProformaItems, &c.PaymentMethods)
	if err != nil {
		return c, fmt.Errorf("store: count mirror: %w", err)
	}
	return c, nil
}

// CustomerIDs returns up to limit mirrored customer ids greater than afterID,
// in order; with gen > 0 only those a full pass of that generation has seen.
func (db *DB) CustomerIDs(ctx context.Context, afterID int64, gen int64, limit int) ([]int64, error) {
	q := `SELECT id FROM customers WHERE id > ?`
	args := []any{afterID}
	if gen > 0 {
		q += ` AND sync_gen = ?`
		args = append(args, gen)
	}
	q += ` ORDER BY id LIMIT ?`
	out, err := db.idList(ctx, q, append(args, limitOr(limit))...)
	if err != nil {
		return nil, fmt.Errorf("store: list customer ids: %w", err)
	}
	return out, nil
}

// idList reads the single id column q selects.
func (db *DB) idList(ctx context.Context, q string, args ...any) ([]int64, error) {
	rows, err := db.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// idColumn is the key column of a mirror table ("" for another table).
func idColumn(table string) string {
	switch table {
	case "customers", "invoices", "proformas", "payment_methods":
		return "id"
	case "billing":
		return "customer_id"
	}
	return ""
}

// MaxID is the largest id in a mirror table (0 when empty).
func (db *DB) MaxID(ctx context.Context, table string) (int64, error) {
	col := idColumn(table)
	if col == "" {
		return 0, fmt.Errorf("store: max id: unknown mirror table %q", table)
	}
	var id sql.NullInt64
	if err := db.read.QueryRowContext(ctx, `SELECT MAX(`+col+`) FROM `+table).Scan(&id); err != nil {
		return 0, fmt.Errorf("store: max id of %s: %w", table, err)
	}
	return id.Int64, nil
}

// StaleIDs returns, in order, up to limit ids above afterID of a mirror
// table's rows that the full pass of generation gen has not written: the
// candidates for deletion, which the pass re-checks with Splynx first.
func (db *DB) StaleIDs(ctx context.Context, table string, gen, afterID int64, limit int) ([]int64, error) {
	col := idColumn(table)
	if col == "" {
		return nil, fmt.Errorf("store: stale ids: unknown mirror table %q", table)
	}
	out, err := db.idList(ctx, `SELECT `+col+` FROM `+table+` WHERE sync_gen < ? AND `+col+` > ? ORDER BY `+
		col+` LIMIT ?`, gen, afterID, limitOr(limit))
	if err != nil {
		return nil, fmt.Errorf("store: stale ids of %s: %w", table, err)
	}
	return out, nil
}
