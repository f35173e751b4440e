package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// MirrorWriter upserts mirror records inside one write transaction. It
// writes many rows per statement (a mirror pass writes millions of rows, and
// the per-statement cost dominates otherwise) and caches the statements it
// prepares for the life of the transaction. Every written row is stamped
// with the generation gen (see DeleteStale).
type MirrorWriter struct {
	tx       *sql.Tx
	gen      int64
	syncedAt string
	stmts    map[string]*sql.Stmt
	args     []any
	buf      []byte // scratch for encoding items
	fresh    map[string]bool
}

// NewMirrorWriter returns a writer on tx. Close it before the transaction ends.
func NewMirrorWriter(ctx context.Context, tx *sql.Tx, gen int64, now time.Time) (*MirrorWriter, error) {
	// args is sized for the largest statement once, not grown per batch.
	return &MirrorWriter{tx: tx, gen: gen, syncedAt: now.UTC().Format(time.RFC3339), stmts: map[string]*sql.Stmt{},
		args: make([]any, 0, maxParams+32)}, nil
}

// AssumeNew tells the writer that these tables held no rows when the pass
// began (a first full pass), so there are no old rows to compare with and
// it skips reading their fingerprints. Rows are still upserted, so a record
// listed twice in the pass is simply written twice; the tables' content is
// the same as without the hint.
func (w *MirrorWriter) AssumeNew(tables ...string) {
	if w.fresh == nil {
		w.fresh = map[string]bool{}
	}
	for _, t := range tables {
		w.fresh[t] = true
	}
}

// Close releases the prepared statements.
func (w *MirrorWriter) Close() {
	for _, st := range w.stmts {
		st.Close()
	}
	w.stmts = nil
}

// SQLite allows 32766 parameters per statement; rows per statement are kept
// well below that and the same few statement shapes recur.
const maxParams = 999

type rowSQL struct {
	name   string // statement cache key
	prefix string // INSERT INTO t(cols)
	cols   int
	suffix string // ON CONFLICT ...
}

func (w *MirrorWriter) stmt(ctx context.Context, r rowSQL, rows int) (*sql.Stmt, error) {
	key := r.name + "/" + strconv.Itoa(rows)
	if st, ok := w.stmts[key]; ok {
		return st, nil
	}
	var b strings.Builder
	b.WriteString(r.prefix)
	b.WriteString(" VALUES ")
	one := "(" + strings.TrimSuffix(strings.Repeat("?,", r.cols), ",") + ")"
	for i := range rows {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(one)
	}
	b.WriteString(" ")
	b.WriteString(r.suffix)
	st, err := w.tx.PrepareContext(ctx, b.String())
	if err != nil {
		return nil, fmt.Errorf("prepare %s: %w", r.name, err)
	}
	w.stmts[key] = st
	return st, nil
}

// rows writes n rows whose arguments fill(i, args) appends, as few
// statements as the parameter limit allows.
func (w *MirrorWriter) rows(ctx context.Context, r rowSQL, n int, fill func(i int, args []any) []any) error {
	per := maxParams / r.cols
	for start := 0; start < n; start += per {
		end := min(start+per, n)
		args := w.args[:0]
		for i := start; i < end; i++ {
			args = fill(i, args)
		}
		st, err := w.stmt(ctx, r, end-start)
		if err != nil {
			return err
		}
		qctx, err := quick(ctx)
		if err != nil {
			return err
		}
		if _, err := st.ExecContext(qctx, args...); err != nil {
			return fmt.Errorf("%s: %w", r.name, err)
		}
		clear(args)
		w.args = args[:0]
	}
	return nil
}

var (
	customerRow = rowSQL{"customers", `INSERT INTO customers(id, login, name, email, billing_email, phone, category, status,
		billing_type, partner_id, location_id, street, street2, city, zip, date_add, last_update, additional_json,
		row_hash, sync_gen, synced_at)`, 21,
		`ON CONFLICT(id) DO UPDATE SET login=excluded.login, name=excluded.name, email=excluded.email,
		billing_email=excluded.billing_email, phone=excluded.phone, category=excluded.category, status=excluded.status,
		billing_type=excluded.billing_type, partner_id=excluded.partner_id, location_id=excluded.location_id,
		street=excluded.street, street2=excluded.street2, city=excluded.city, zip=excluded.zip,
		date_add=excluded.date_add, last_update=excluded.last_update, additional_json=excluded.additional_json,
		row_hash=excluded.row_hash, sync_gen=excluded.sync_gen, synced_at=excluded.synced_at`}
	billingRow = rowSQL{"billing", `INSERT INTO billing(customer_id, enabled, type, deposit, payment_method,
		billing_date, billing_due, min_balance, sync_gen, synced_at)`, 10,
		`ON CONFLICT(customer_id) DO UPDATE SET enabled=excluded.enabled, type=excluded.type, deposit=excluded.deposit,
		payment_method=excluded.payment_method, billing_date=excluded.billing_date, billing_due=excluded.billing_due,
		min_balance=excluded.min_balance, sync_gen=excluded.sync_gen, synced_at=excluded.synced_at`}
	paymentMethodRow = rowSQL{"payment_methods", `INSERT INTO payment_methods(id, name, is_active, name_1, name_2,
		name_3, name_4, name_5, sync_gen, synced_at)`, 10,
		`ON CONFLICT(id) DO UPDATE SET name=excluded.name, is_active=excluded.is_active, name_1=excluded.name_1,
		name_2=excluded.name_2, name_3=excluded.name_3, name_4=excluded.name_4, name_5=excluded.name_5,
		sync_gen=excluded.sync_gen, synced_at=excluded.synced_at`}
)

// lastByID keeps the last occurrence of each id, in first-seen order: one
// statement cannot upsert the same row twice with its items.
func lastByID[T any](vs []T, id func(*T) int64) []T {
	if len(vs) < 2 {
		return vs
	}
	seen := make(map[int64]int, len(vs))
	dup := false
	for i := range vs {
		if _, ok := seen[id(&vs[i])]; ok {
			dup = true
		}
		seen[id(&vs[i])] = i
	}
	if !dup {
		return vs
	}
	out := make([]T, 0, len(seen))
	for i := range vs {
		if seen[id(&vs[i])] == i {
			out = append(out, vs[i])
		}
	}
	return out
}

// Customers inserts or replaces customers. A customer already mirrored
// exactly is only stamped with the generation; one whose indexed fields
// (status, partner, location, login) are unchanged is updated in place, so
// its index entries stay untouched.
func (w *MirrorWriter) Customers(ctx context.Context, cs []Customer) error {
	cs = lastByID(cs, func(c *Customer) int64 { return c.ID })
	ids := make([]int64, len(cs))
	for i := range cs {
		ids[i] = cs[i].ID
	}
	old, err := w.existing(ctx, "customers", `SELECT id, row_hash, 0, status || '|' || partner_id || '|' || location_id || '|' || login
		FROM customers`, ids)
	if err != nil {
		return fmt.Errorf("store: read customers before update: %w", err)
	}
	var upsert []Customer
	var attrs []string
	for _, c := range cs {
		a, err := encodeAttrs(c.Additional)
		if err != nil {
			return fmt.Errorf("store: customer %d: encode additional attributes: %w", c.ID, err)
		}
		h := customerHash(&c, a)
		o, ok := old[c.ID]
		switch {
		case !ok || o.key != c.Status+"|"+strconv.FormatInt(c.PartnerID, 10)+"|"+strconv.FormatInt(c.LocationID, 10)+"|"+c.Login:
			upsert = append(upsert, c)
			attrs = append(attrs, a)
		case o.hash == h:
			if err := w.stamp(ctx, "customers", c.ID); err != nil {
				return err
			}
		default:
			if err := w.exec(ctx, "update customers", `UPDATE customers SET name=?, email=?, billing_email=?, phone=?,
				category=?, billing_type=?, street=?, street2=?, city=?, zip=?, date_add=?, last_update=?,
				additional_json=?, row_hash=?, sync_gen=?, synced_at=? WHERE id=?`,
				c.Name, c.Email, c.BillingEmail, c.Phone, c.Category, c.BillingType, c.Street1, c.Street2, c.City,
				c.ZipCode, FormatDate(c.DateAdd), FormatDateTime(c.LastUpdate), a, h, w.gen, w.syncedAt, c.ID); err != nil {
				return fmt.Errorf("store: update customer %d: %w", c.ID, err)
			}
		}
	}
	err = w.rows(ctx, customerRow, len(upsert), func(i int, a []any) []any {
		c := &upsert[i]
		h := customerHash(c, attrs[i])
		return append(a, c.ID, c.Login, c.Name, c.Email, c.BillingEmail, c.Phone, c.Category, c.Status, c.BillingType,
			c.PartnerID, c.LocationID, c.Street1, c.Street2, c.City, c.ZipCode, FormatDate(c.DateAdd),
			FormatDateTime(c.LastUpdate), attrs[i], h, w.gen, w.syncedAt)
	})
	if err != nil {
		return fmt.Errorf("store: upsert customers: %w", err)
	}
	return nil
}

type rowState struct {
	hash, itemsHash int64
	key             string // the indexed columns, joined
}

// existing reads the fingerprints of the rows with the given ids; q selects
// id, row hash, items hash and the indexed-columns key, without a WHERE.
func (w *MirrorWriter) existing(ctx context.Context, table, q string, ids []int64) (map[int64]rowState, error) {
	if w.fresh[table] {
		return nil, nil
	}
	out := make(map[int64]rowState, len(ids))
	err := w.eachByID(ctx, quick, q, ids, func(rows *sql.Rows) error {
		var id int64
		var st rowState
		if err := rows.Scan(&id, &st.hash, &st.itemsHash, &st.key); err != nil {
			return err
		}
		out[id] = st
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// eachByID runs q (a SELECT without WHERE) in the writer's transaction for
// the given ids, maxParams at a time, calling scan on each row; ctxFor gives
// each statement's context (quick, or ctx as it is).
func (w *MirrorWriter) eachByID(ctx context.Context, ctxFor func(context.Context) (context.Context, error), q string,
	ids []int64, scan func(*sql.Rows) error) error {
	for start := 0; start < len(ids); start += maxParams {
		var wh where
		wh.in("id", ids[start:min(start+maxParams, len(ids))])
		qctx, err := ctxFor(ctx)
		if err != nil {
			return err
		}
		rows, err := w.tx.QueryContext(qctx, q+wh.sql(), wh.args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			if err := scan(rows); err != nil {
				rows.Close()
				return err
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	return nil
}

// stamp marks an unchanged row as seen by this pass, writing nothing when
// it already carries the generation.
func (w *MirrorWriter) stamp(ctx context.Context, table string, id int64) error {
	if err := w.exec(ctx, "stamp "+table, `UPDATE `+table+` SET sync_gen=?, synced_at=? WHERE id=? AND sync_gen<>?`,
		w.gen, w.syncedAt, id, w.gen); err != nil {
		return fmt.Errorf("store: stamp %s %d: %w", table, id, err)
	}
	return nil
}

// exec runs one statement, prepared once per writer under name.
func (w *MirrorWriter) exec(ctx context.Context, name, q string, args ...any) error {
	st, ok := w.stmts[name]
	if !ok {
		var err error
		if st, err = w.tx.PrepareContext(ctx, q); err != nil {
			return err
		}
		w.stmts[name] = st
	}
	qctx, err := quick(ctx)
	if err != nil {
		return err
	}
	_, err = st.ExecContext(qctx, args...)
	return err
}

// quick is the context for one short statement of a bulk write: ctx without
// its cancellation. go-sqlite3 runs each statement, and each row read, whose
// context can be cancelled on a goroutine of its own so that it can
// interrupt it; for a mirror pass of a million 50-row statements that costs
// about a fifth of the writer's time. A cancelled ctx still stops the writer
// here, between statements, and the transaction begun with ctx is rolled
// back by database/sql.
func quick(ctx context.Context) (context.Context, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return context.WithoutCancel(ctx), nil
}

// Customer inserts or replaces one customer.
func (w *MirrorWriter) Customer(ctx context.Context, c Customer) error {
	return w.Customers(ctx, []Customer{c})
}

// Billings inserts or replaces customers' billing records.
func (w *MirrorWriter) Billings(ctx context.Context, bs []Billing) error {
	bs = lastByID(bs, func(b *Billing) int64 { return b.CustomerID })
	err := w.rows(ctx, billingRow, len(bs), func(i int, a []any) []any {
		b := &bs[i]
		return append(a, b.CustomerID, b2i(b.Enabled), b.Type, int64(b.Deposit), b.PaymentMethod, b.BillingDate,
			b.BillingDue, int64(b.MinBalance), w.gen, w.syncedAt)
	})
	if err != nil {
		return fmt.Errorf("store: upsert billing: %w", err)
	}
	return nil
}

// Billing inserts or replaces one customer's billing record.
func (w *MirrorWriter) Billing(ctx context.Context, b Billing) error {
	return w.Billings(ctx, []Billing{b})
}

// Invoices inserts or replaces invoices with their items, rewriting only
// what changed (see Customers).
func (w *MirrorWriter) Invoices(ctx context.Context, vs []Invoice) error {
	return w.documents(ctx, invoiceTable, lastByID(vs, func(v *Invoice) int64 { return v.ID }))
}

// Invoice inserts or replaces one invoice and all its items.
func (w *MirrorWriter) Invoice(ctx context.Context, v Invoice) error {
	return w.Invoices(ctx, []Invoice{v})
}

// Proformas inserts or replaces proformas with their items, rewriting only
// what changed (see Customers).
func (w *MirrorWriter) Proformas(ctx context.Context, ps []Proforma) error {
	ps = lastByID(ps, func(p *Proforma) int64 { return p.ID })
	vs := make([]Invoice, len(ps))
	for i := range ps {
		vs[i] = ps[i].asInvoice()
	}
	return w.documents(ctx, proformaTable, vs)
}

// Proforma inserts or replaces one proforma and all its items.
func (w *MirrorWriter) Proforma(ctx context.Context, p Proforma) error {
	return w.Proformas(ctx, []Proforma{p})
}

// documents writes invoice-shaped rows to t, ids already unique.
func (w *MirrorWriter) documents(ctx context.Context, t *docTable, vs []Invoice) error {
	ids := make([]int64, len(vs))
	for i := range vs {
		ids[i] = vs[i].ID
	}
	old, err := w.existing(ctx, t.name, `SELECT id, row_hash, items_hash,
		customer_id || '|' || status || '|' || date_created || '|' || number FROM `+t.name, ids)
	if err != nil {
		return fmt.Errorf("store: read %s before update: %w", t.name, err)
	}
	type row struct {
		v           *Invoice
		attrs       string
		hash, items int64
	}
	var upsert []row
	for i := range vs {
		v := &vs[i]
		var a string
		if t.invoices {
			if a, err = encodeAttrs(v.Additional); err != nil {
				return fmt.Errorf("store: %s %d: encode additional attributes: %w", t.what, v.ID, err)
			}
		}
		r := row{v: v, attrs: a, items: itemsHashOf(v.Items), hash: documentHash(v, a, t.invoices)}
		o, ok := old[v.ID]
		switch {
		case !ok || o.key != strconv.FormatInt(v.CustomerID, 10)+"|"+v.Status+"|"+FormatDate(v.DateCreated)+"|"+v.Number:
			upsert = append(upsert, r)
		case o.hash == r.hash && o.itemsHash == r.items:
			if err := w.stamp(ctx, t.name, v.ID); err != nil {
				return err
			}
		default:
			args := append(t.docValues(make([]any, 0, 17), v, a, false), w.itemsText(v.Items), r.hash, r.items,
				w.gen, w.syncedAt, v.ID)
			if err := w.exec(ctx, "update "+t.name, t.update, args...); err != nil {
				return fmt.Errorf("store: update %s %d: %w", t.what, v.ID, err)
			}
		}
	}
	err = w.rows(ctx, t.row, len(upsert), func(i int, a []any) []any {
		r := &upsert[i]
		return append(t.docValues(a, r.v, r.attrs, true), w.itemsText(r.v.Items), r.hash, r.items, w.gen, w.syncedAt)
	})
	if err != nil {
		return fmt.Errorf("store: upsert %s: %w", t.name, err)
	}
	return nil
}

// PaymentMethods inserts or replaces payment methods.
func (w *MirrorWriter) PaymentMethods(ctx context.Context, ms []PaymentMethod) error {
	ms = lastByID(ms, func(m *PaymentMethod) int64 { return m.ID })
	err := w.rows(ctx, paymentMethodRow, len(ms), func(i int, a []any) []any {
		m := &ms[i]
		return append(a, m.ID, m.Name, b2i(m.IsActive), m.Names[0], m.Names[1], m.Names[2], m.Names[3], m.Names[4],
			w.gen, w.syncedAt)
	})
	if err != nil {
		return fmt.Errorf("store: upsert payment methods: %w", err)
	}
	return nil
}

// PaymentMethod inserts or replaces one payment method.
func (w *MirrorWriter) PaymentMethod(ctx context.Context, m PaymentMethod) error {
	return w.PaymentMethods(ctx, []PaymentMethod{m})
}

// MirrorTables are the tables a full pass reconciles, in deletion order.
var MirrorTables = []string{"billing", "customers", "invoices", "proformas", "payment_methods"}

// DeleteStale removes, from one mirror table, every row a full pass of
// generation gen did not see. Call it only after that pass listed the
// entity completely. Items live in their invoice's row and go with it.
func DeleteStale(ctx context.Context, tx *sql.Tx, table string, gen int64) (int, error) {
	ok := false
	for _, t := range MirrorTables {
		ok = ok || t == table
	}
	if !ok {
		return 0, fmt.Errorf("store: delete stale rows: unknown mirror table %q", table)
	}
	res, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE sync_gen < ?`, gen)
	if err != nil {
		return 0, fmt.Errorf("store: delete stale %s: %w", table, err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// MoneyChanged returns the customers of those invoices and proformas whose
// money state (total, due, status, payment) differs from the mirror's copy,
// new ones included, read inside the writer's transaction before they are
// written. A payment or a new invoice moves the customer's balance, so the
// mirror re-reads those customers' billing records.
func (w *MirrorWriter) MoneyChanged(ctx context.Context, invs []Invoice, pfs []Proforma) ([]int64, error) {
	type state struct {
		total, due, payment int64
		status              string
	}
	read := func(table string, ids []int64, withDue bool) (map[int64]state, error) {
		out := make(map[int64]state, len(ids))
		due := "0"
		if withDue {
			due = "due"
		}
		asIs := func(ctx context.Context) (context.Context, error) { return ctx, nil }
		err := w.eachByID(ctx, asIs, `SELECT id, total, `+due+`, payment_id, status FROM `+table, ids,
			func(rows *sql.Rows) error {
				var id int64
				var s state
				if err := rows.Scan(&id, &s.total, &s.due, &s.payment, &s.status); err != nil {
					return err
				}
				out[id] = s
				return nil
			})
		if err != nil {
			return nil, err
		}
		return out, nil
	}
	pvs := make([]Invoice, len(pfs))
	for i := range pfs {
		pvs[i] = pfs[i].asInvoice()
	}
	var customers []int64
	for _, d := range []struct {
		t  *docTable
		vs []Invoice
	}{{invoiceTable, invs}, {proformaTable, pvs}} {
		if len(d.vs) == 0 {
			continue
		}
		ids := make([]int64, len(d.vs))
		for i := range d.vs {
			ids[i] = d.vs[i].ID
		}
		old, err := read(d.t.name, ids, d.t.invoices)
		if err != nil {
			return nil, fmt.Errorf("store: read %s before update: %w", d.t.name, err)
		}
		for _, v := range d.vs {
			o, ok := old[v.ID]
			if !ok || o.total != int64(v.Total) || o.due != int64(v.Due) || o.payment != v.PaymentID || o.status != v.Status {
				customers = append(customers, v.CustomerID)
			}
		}
	}
	return customers, nil
}
