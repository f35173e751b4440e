package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/splynx-pay/splynx-pay/internal/money"
)

// ErrNotFound is returned by the Get* queries when the mirror has no such record.
var ErrNotFound = errors.New("store: not found")

// Splynx text formats. Dates and datetimes are kept as Splynx sends them
// (Splynx's local time, no zone), parsed here as UTC wall-clock values.
const (
	DateLayout     = "2006-01-02"
	DateTimeLayout = "2006-01-02 15:04:05"
)

// Customer is a mirrored Splynx customer.
type Customer struct {
	ID           int64
	Login        string
	Name         string
	Email        string
	BillingEmail string
	Phone        string
	Category     string
	Status       string // new | active | blocked | disabled
	BillingType  string // recurring | prepaid | prepaid_monthly
	PartnerID    int64
	LocationID   int64
	Street1      string
	Street2      string
	City         string
	ZipCode      string
	DateAdd      time.Time // zero when absent
	LastUpdate   time.Time // Splynx's clock
	Additional   map[string]string
	SyncedAt     time.Time
}

// Billing is a mirrored customer-billing record.
type Billing struct {
	CustomerID    int64
	Enabled       bool
	Type          string
	Deposit       money.Amount // account balance
	PaymentMethod int64        // Splynx payment method id
	BillingDate   string
	BillingDue    string
	MinBalance    money.Amount
	SyncedAt      time.Time
}

// Item is a line of an invoice or proforma.
type Item struct {
	ID          int64
	Description string
	Quantity    string // as Splynx sent it ("1", "2.5")
	Unit        string
	Price       money.Amount
	Tax         string // VAT percent as Splynx sent it
	PeriodFrom  time.Time
	PeriodTo    time.Time
}

// Invoice is a mirrored Splynx invoice.
type Invoice struct {
	ID                 int64
	CustomerID         int64
	Number             string
	DateCreated        time.Time
	RealCreateDatetime time.Time
	DateUpdated        time.Time
	DatePayment        time.Time
	DateTill           time.Time
	Total              money.Amount
	Due                money.Amount
	Status             string // not_paid | paid | pending | deleted
	PaymentID          int64
	Type               string
	Note               string
	Memo               string
	Additional         map[string]string
	Items              []Item // filled by GetInvoice, and by ListInvoices with WithItems
	SyncedAt           time.Time
}

// Proforma is a mirrored Splynx proforma invoice ("request").
type Proforma struct {
	ID                 int64
	CustomerID         int64
	Number             string
	DateCreated        time.Time
	RealCreateDatetime time.Time
	DateUpdated        time.Time
	DatePayment        time.Time
	DateTill           time.Time
	Total              money.Amount
	Status             string // not_paid | paid | pending
	PaymentID          int64
	Note               string
	Memo               string
	Items              []Item
	SyncedAt           time.Time
}

// PaymentMethod is a mirrored Splynx payment method.
type PaymentMethod struct {
	ID       int64
	Name     string
	IsActive bool
	Names    [5]string // labels of a payment's field_1..field_5
}

// FormatDate renders a date the way the mirror stores it ("" when zero).
func FormatDate(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	var b [10]byte
	return string(appendDate(b[:0], t))
}

// FormatDateTime renders a datetime the way the mirror stores it ("" when zero).
func FormatDateTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	var b [19]byte
	out := appendDate(b[:0], t)
	h, m, s := t.Clock()
	out = append(out, ' ')
	out = append2(out, h)
	out = append(out, ':')
	out = append2(out, m)
	out = append(out, ':')
	out = append2(out, s)
	return string(out)
}

// appendDate is t.Format(DateLayout) without the layout interpreter; the
// mirror formats millions of dates per pass.
func appendDate(b []byte, t time.Time) []byte {
	y, mo, d := t.Date()
	if y < 0 || y > 9999 {
		return t.AppendFormat(b, DateLayout)
	}
	b = append(b, byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-')
	b = append2(b, int(mo))
	b = append(b, '-')
	return append2(b, d)
}

func append2(b []byte, n int) []byte { return append(b, byte('0'+n/10), byte('0'+n%10)) }

func parseDate(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(DateLayout, s)
	if err != nil {
		return time.Time{}
	}
	return t
}

func parseDateTime(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(DateTimeLayout, s)
	if err != nil {
		return time.Time{}
	}
	return t
}

func encodeAttrs(m map[string]string) (string, error) {
	if len(m) == 0 {
		return "{}", nil
	}
	b, err := json.Marshal(m)
	return string(b), err
}

func decodeAttrs(s string) map[string]string {
	if s == "" || s == "{}" {
		return nil
	}
	var m map[string]string
	if json.Unmarshal([]byte(s), &m) != nil {
		return nil
	}
	return m
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// ---- writing ----

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
	invoiceRow = rowSQL{"invoices", `INSERT INTO invoices(id, customer_id, number, date_created, real_create_datetime,
		date_updated, date_payment, date_till, total, due, status, payment_id, type, note, memo, additional_json,
		items, row_hash, items_hash, sync_gen, synced_at)`, 21,
		`ON CONFLICT(id) DO UPDATE SET customer_id=excluded.customer_id, number=excluded.number,
		date_created=excluded.date_created, real_create_datetime=excluded.real_create_datetime,
		date_updated=excluded.date_updated, date_payment=excluded.date_payment, date_till=excluded.date_till,
		total=excluded.total, due=excluded.due, status=excluded.status, payment_id=excluded.payment_id,
		type=excluded.type, note=excluded.note, memo=excluded.memo, additional_json=excluded.additional_json,
		items=excluded.items, row_hash=excluded.row_hash, items_hash=excluded.items_hash, sync_gen=excluded.sync_gen, synced_at=excluded.synced_at`}
	proformaRow = rowSQL{"proformas", `INSERT INTO proformas(id, customer_id, number, date_created,
		real_create_datetime, date_updated, date_payment, date_till, total, status, payment_id, note, memo,
		items, row_hash, items_hash, sync_gen, synced_at)`, 18,
		`ON CONFLICT(id) DO UPDATE SET customer_id=excluded.customer_id, number=excluded.number,
		date_created=excluded.date_created, real_create_datetime=excluded.real_create_datetime,
		date_updated=excluded.date_updated, date_payment=excluded.date_payment, date_till=excluded.date_till,
		total=excluded.total, status=excluded.status, payment_id=excluded.payment_id,
		note=excluded.note, memo=excluded.memo, items=excluded.items, row_hash=excluded.row_hash,
		items_hash=excluded.items_hash,
		sync_gen=excluded.sync_gen, synced_at=excluded.synced_at`}
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
	for start := 0; start < len(ids); start += maxParams {
		part := ids[start:min(start+maxParams, len(ids))]
		var wh where
		wh.in("id", part)
		qctx, err := quick(ctx)
		if err != nil {
			return nil, err
		}
		rows, err := w.tx.QueryContext(qctx, q+wh.sql(), wh.args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var id int64
			var st rowState
			if err := rows.Scan(&id, &st.hash, &st.itemsHash, &st.key); err != nil {
				rows.Close()
				return nil, err
			}
			out[id] = st
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
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

// fnv fingerprints field values (FNV-1a, 64 bits) with a separator after
// each, so that moving text between fields changes it. Values are fed one by
// one rather than boxed: a pass hashes millions of rows.
type fnv uint64

func newFNV() fnv { return 14695981039346656037 }

func (h *fnv) str(s string) *fnv {
	x := uint64(*h)
	for i := 0; i < len(s); i++ {
		x ^= uint64(s[i])
		x *= 1099511628211
	}
	x ^= 0xff
	x *= 1099511628211
	*h = fnv(x)
	return h
}

func (h *fnv) num(n int64) *fnv {
	var b [20]byte
	x := uint64(*h)
	for _, c := range strconv.AppendInt(b[:0], n, 10) {
		x ^= uint64(c)
		x *= 1099511628211
	}
	x ^= 0xff
	x *= 1099511628211
	*h = fnv(x)
	return h
}

// date and dateTime hash t as FormatDate and FormatDateTime render it,
// without allocating the string.
func (h *fnv) date(t time.Time) *fnv {
	if t.IsZero() {
		return h.str("")
	}
	var b [10]byte
	return h.bytes(appendDate(b[:0], t))
}

func (h *fnv) dateTime(t time.Time) *fnv {
	if t.IsZero() {
		return h.str("")
	}
	var b [19]byte
	out := appendDate(b[:0], t)
	hh, mm, ss := t.Clock()
	out = append(out, ' ')
	out = append2(out, hh)
	out = append(out, ':')
	out = append2(out, mm)
	out = append(out, ':')
	out = append2(out, ss)
	return h.bytes(out)
}

func (h *fnv) bytes(s []byte) *fnv {
	x := uint64(*h)
	for _, c := range s {
		x ^= uint64(c)
		x *= 1099511628211
	}
	x ^= 0xff
	x *= 1099511628211
	*h = fnv(x)
	return h
}

func (h *fnv) sum() int64 { return int64(*h) }

func customerHash(c *Customer, attrs string) int64 {
	h := newFNV()
	h.str(c.Login).str(c.Name).str(c.Email).str(c.BillingEmail).str(c.Phone).str(c.Category).str(c.Status).
		str(c.BillingType).num(c.PartnerID).num(c.LocationID).str(c.Street1).str(c.Street2).str(c.City).
		str(c.ZipCode).date(c.DateAdd).dateTime(c.LastUpdate).str(attrs)
	return h.sum()
}

func invoiceHash(v *Invoice, attrs string) int64 {
	h := newFNV()
	h.num(v.CustomerID).str(v.Number).date(v.DateCreated).dateTime(v.RealCreateDatetime).
		dateTime(v.DateUpdated).date(v.DatePayment).date(v.DateTill).
		num(int64(v.Total)).num(int64(v.Due)).str(v.Status).num(v.PaymentID).str(v.Type).str(v.Note).str(v.Memo).
		str(attrs)
	return h.sum()
}

func proformaHash(p *Proforma) int64 {
	h := newFNV()
	h.num(p.CustomerID).str(p.Number).date(p.DateCreated).dateTime(p.RealCreateDatetime).
		dateTime(p.DateUpdated).date(p.DatePayment).date(p.DateTill).
		num(int64(p.Total)).str(p.Status).num(p.PaymentID).str(p.Note).str(p.Memo)
	return h.sum()
}

func itemsHashOf(items []Item) int64 {
	h := newFNV()
	h.num(int64(len(items)))
	for i := range items {
		it := &items[i]
		h.num(it.ID).str(it.Description).str(it.Quantity).str(it.Unit).num(int64(it.Price)).str(it.Tax).
			date(it.PeriodFrom).date(it.PeriodTo)
	}
	return h.sum()
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
	vs = lastByID(vs, func(v *Invoice) int64 { return v.ID })
	ids := make([]int64, len(vs))
	for i := range vs {
		ids[i] = vs[i].ID
	}
	old, err := w.existing(ctx, "invoices", `SELECT id, row_hash, items_hash,
		customer_id || '|' || status || '|' || date_created || '|' || number FROM invoices`, ids)
	if err != nil {
		return fmt.Errorf("store: read invoices before update: %w", err)
	}
	type row struct {
		v           *Invoice
		attrs       string
		hash, items int64
	}
	var upsert []row
	for i := range vs {
		v := &vs[i]
		a, err := encodeAttrs(v.Additional)
		if err != nil {
			return fmt.Errorf("store: invoice %d: encode additional attributes: %w", v.ID, err)
		}
		r := row{v: v, attrs: a, items: itemsHashOf(v.Items), hash: invoiceHash(v, a)}
		o, ok := old[v.ID]
		switch {
		case !ok || o.key != strconv.FormatInt(v.CustomerID, 10)+"|"+v.Status+"|"+FormatDate(v.DateCreated)+"|"+v.Number:
			upsert = append(upsert, r)
		case o.hash == r.hash && o.itemsHash == r.items:
			if err := w.stamp(ctx, "invoices", v.ID); err != nil {
				return err
			}
			continue
		default:
			if err := w.exec(ctx, "update invoices", `UPDATE invoices SET real_create_datetime=?, date_updated=?,
				date_payment=?, date_till=?, total=?, due=?, payment_id=?, type=?, note=?, memo=?, additional_json=?,
				items=?, row_hash=?, items_hash=?, sync_gen=?, synced_at=? WHERE id=?`,
				FormatDateTime(v.RealCreateDatetime), FormatDateTime(v.DateUpdated), FormatDate(v.DatePayment),
				FormatDate(v.DateTill), int64(v.Total), int64(v.Due), v.PaymentID, v.Type, v.Note, v.Memo, a,
				w.itemsText(v.Items), r.hash, r.items, w.gen, w.syncedAt, v.ID); err != nil {
				return fmt.Errorf("store: update invoice %d: %w", v.ID, err)
			}
		}
	}
	err = w.rows(ctx, invoiceRow, len(upsert), func(i int, a []any) []any {
		r := &upsert[i]
		v := r.v
		return append(a, v.ID, v.CustomerID, v.Number, FormatDate(v.DateCreated), FormatDateTime(v.RealCreateDatetime),
			FormatDateTime(v.DateUpdated), FormatDate(v.DatePayment), FormatDate(v.DateTill), int64(v.Total),
			int64(v.Due), v.Status, v.PaymentID, v.Type, v.Note, v.Memo, r.attrs, w.itemsText(v.Items), r.hash, r.items,
			w.gen, w.syncedAt)
	})
	if err != nil {
		return fmt.Errorf("store: upsert invoices: %w", err)
	}
	return nil
}

// Invoice inserts or replaces one invoice and all its items.
func (w *MirrorWriter) Invoice(ctx context.Context, v Invoice) error {
	return w.Invoices(ctx, []Invoice{v})
}

// Proformas inserts or replaces proformas with their items, rewriting only
// what changed (see Customers).
func (w *MirrorWriter) Proformas(ctx context.Context, ps []Proforma) error {
	ps = lastByID(ps, func(p *Proforma) int64 { return p.ID })
	ids := make([]int64, len(ps))
	for i := range ps {
		ids[i] = ps[i].ID
	}
	old, err := w.existing(ctx, "proformas", `SELECT id, row_hash, items_hash,
		customer_id || '|' || status || '|' || date_created || '|' || number FROM proformas`, ids)
	if err != nil {
		return fmt.Errorf("store: read proformas before update: %w", err)
	}
	type row struct {
		p           *Proforma
		hash, items int64
	}
	var upsert []row
	for i := range ps {
		p := &ps[i]
		r := row{p: p, items: itemsHashOf(p.Items), hash: proformaHash(p)}
		o, ok := old[p.ID]
		switch {
		case !ok || o.key != strconv.FormatInt(p.CustomerID, 10)+"|"+p.Status+"|"+FormatDate(p.DateCreated)+"|"+p.Number:
			upsert = append(upsert, r)
		case o.hash == r.hash && o.itemsHash == r.items:
			if err := w.stamp(ctx, "proformas", p.ID); err != nil {
				return err
			}
			continue
		default:
			if err := w.exec(ctx, "update proformas", `UPDATE proformas SET real_create_datetime=?, date_updated=?,
				date_payment=?, date_till=?, total=?, payment_id=?, note=?, memo=?, items=?, row_hash=?, items_hash=?,
				sync_gen=?, synced_at=? WHERE id=?`,
				FormatDateTime(p.RealCreateDatetime), FormatDateTime(p.DateUpdated), FormatDate(p.DatePayment),
				FormatDate(p.DateTill), int64(p.Total), p.PaymentID, p.Note, p.Memo, w.itemsText(p.Items), r.hash, r.items,
				w.gen, w.syncedAt, p.ID); err != nil {
				return fmt.Errorf("store: update proforma %d: %w", p.ID, err)
			}
		}
	}
	err = w.rows(ctx, proformaRow, len(upsert), func(i int, a []any) []any {
		r := &upsert[i]
		p := r.p
		return append(a, p.ID, p.CustomerID, p.Number, FormatDate(p.DateCreated), FormatDateTime(p.RealCreateDatetime),
			FormatDateTime(p.DateUpdated), FormatDate(p.DatePayment), FormatDate(p.DateTill), int64(p.Total), p.Status,
			p.PaymentID, p.Note, p.Memo, w.itemsText(p.Items), r.hash, r.items, w.gen, w.syncedAt)
	})
	if err != nil {
		return fmt.Errorf("store: upsert proformas: %w", err)
	}
	return nil
}

// Proforma inserts or replaces one proforma and all its items.
func (w *MirrorWriter) Proforma(ctx context.Context, p Proforma) error {
	return w.Proformas(ctx, []Proforma{p})
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

// ---- reading ----

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

// CustomerFilter selects customers; empty fields do not filter.
type CustomerFilter struct {
	IDs         []int64
	Statuses    []string
	PartnerIDs  []int64
	LocationIDs []int64
	AfterID     int64 // keyset paging: only ids greater than this
	Limit       int   // default 500
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
	q := `SELECT ` + customerCols + ` FROM customers` + w.sql() + ` ORDER BY id LIMIT ?`
	rows, err := db.read.QueryContext(ctx, q, append(w.args, limitOr(f.Limit))...)
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

const invoiceCols = `i.id, i.customer_id, i.number, i.date_created, i.real_create_datetime, i.date_updated,
	i.date_payment, i.date_till, i.total, i.due, i.status, i.payment_id, i.type, i.note, i.memo, i.additional_json, i.synced_at`

func scanInvoice(sc interface{ Scan(...any) error }) (Invoice, error) {
	var v Invoice
	var created, realCreated, updated, paid, till, attrs, synced string
	var total, due int64
	err := sc.Scan(&v.ID, &v.CustomerID, &v.Number, &created, &realCreated, &updated, &paid, &till, &total, &due,
		&v.Status, &v.PaymentID, &v.Type, &v.Note, &v.Memo, &attrs, &synced)
	if err != nil {
		return v, err
	}
	v.DateCreated = parseDate(created)
	v.RealCreateDatetime = parseDateTime(realCreated)
	v.DateUpdated = parseDateTime(updated)
	v.DatePayment = parseDate(paid)
	v.DateTill = parseDate(till)
	v.Total = money.Amount(total)
	v.Due = money.Amount(due)
	v.Additional = decodeAttrs(attrs)
	v.SyncedAt, _ = time.Parse(time.RFC3339, synced)
	return v, nil
}

const proformaCols = `i.id, i.customer_id, i.number, i.date_created, i.real_create_datetime, i.date_updated,
	i.date_payment, i.date_till, i.total, i.status, i.payment_id, i.note, i.memo, i.synced_at`

func scanProforma(sc interface{ Scan(...any) error }) (Proforma, error) {
	var v Proforma
	var created, realCreated, updated, paid, till, synced string
	var total int64
	err := sc.Scan(&v.ID, &v.CustomerID, &v.Number, &created, &realCreated, &updated, &paid, &till, &total,
		&v.Status, &v.PaymentID, &v.Note, &v.Memo, &synced)
	if err != nil {
		return v, err
	}
	v.DateCreated = parseDate(created)
	v.RealCreateDatetime = parseDateTime(realCreated)
	v.DateUpdated = parseDateTime(updated)
	v.DatePayment = parseDate(paid)
	v.DateTill = parseDate(till)
	v.Total = money.Amount(total)
	v.SyncedAt, _ = time.Parse(time.RFC3339, synced)
	return v, nil
}

// GetInvoice reads one mirrored invoice with its items (ErrNotFound if absent).
func (db *DB) GetInvoice(ctx context.Context, id int64) (Invoice, error) {
	return getDocument(ctx, db, "invoices", "invoice", invoiceCols, id, scanInvoice,
		func(v *Invoice) *[]Item { return &v.Items })
}

// GetInvoiceByNumber reads one mirrored invoice by its number (ErrNotFound if absent).
func (db *DB) GetInvoiceByNumber(ctx context.Context, number string) (Invoice, error) {
	id, err := db.documentIDByNumber(ctx, "invoices", "invoice", number)
	if err != nil {
		return Invoice{}, err
	}
	return db.GetInvoice(ctx, id)
}

// GetProforma reads one mirrored proforma with its items (ErrNotFound if absent).
func (db *DB) GetProforma(ctx context.Context, id int64) (Proforma, error) {
	return getDocument(ctx, db, "proformas", "proforma", proformaCols, id, scanProforma,
		func(v *Proforma) *[]Item { return &v.Items })
}

// GetProformaByNumber reads one mirrored proforma by its number (ErrNotFound if absent).
func (db *DB) GetProformaByNumber(ctx context.Context, number string) (Proforma, error) {
	id, err := db.documentIDByNumber(ctx, "proformas", "proforma", number)
	if err != nil {
		return Proforma{}, err
	}
	return db.GetProforma(ctx, id)
}

// getDocument reads one invoice or proforma (table; what names it in
// errors) with its lines.
func getDocument[T any](ctx context.Context, db *DB, table, what, cols string, id int64,
	scan func(interface{ Scan(...any) error }) (T, error), lines func(*T) *[]Item) (T, error) {
	v, err := scan(db.read.QueryRowContext(ctx, `SELECT `+cols+` FROM `+table+` i WHERE i.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return v, fmt.Errorf("%w: %s %d", ErrNotFound, what, id)
	}
	if err != nil {
		return v, fmt.Errorf("store: get %s %d: %w", what, id, err)
	}
	items, err := db.items(ctx, table, []int64{id})
	if err != nil {
		return v, fmt.Errorf("store: get %s %d items: %w", what, id, err)
	}
	*lines(&v) = items[id]
	return v, nil
}

// documentIDByNumber finds the lowest id of an invoice or proforma with the
// given number.
func (db *DB) documentIDByNumber(ctx context.Context, table, what, number string) (int64, error) {
	var id int64
	err := db.read.QueryRowContext(ctx, `SELECT id FROM `+table+` WHERE number = ? ORDER BY id LIMIT 1`, number).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("%w: %s number %q", ErrNotFound, what, number)
	}
	if err != nil {
		return 0, fmt.Errorf("store: get %s by number: %w", what, err)
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

// InvoiceFilter selects invoices or proformas; empty fields do not filter.
// Partner and location come from the customer, the payment method from the
// customer's billing record.
type InvoiceFilter struct {
	Statuses         []string
	CreatedFrom      time.Time // inclusive date
	CreatedTo        time.Time // inclusive date
	PartnerIDs       []int64
	LocationIDs      []int64
	PaymentMethodIDs []int64
	CustomerIDs      []int64
	CustomerStatuses []string
	IDs              []int64
	Numbers          []string
	TotalOp          string // one of = != < <= > >= ; "" means no total filter
	Total            money.Amount
	DueOp            string // as TotalOp, against due (invoices only)
	Due              money.Amount
	AfterID          int64 // keyset paging: only ids greater than this
	Limit            int   // default 500, at most 10000
	WithItems        bool
}

var comparison = map[string]bool{"=": true, "!=": true, "<": true, "<=": true, ">": true, ">=": true}

func (f InvoiceFilter) where(invoices bool) (string, where, error) {
	var w where
	joins := ""
	w.inStr("i.status", f.Statuses)
	if !f.CreatedFrom.IsZero() {
		w.add("i.date_created >= ?", FormatDate(f.CreatedFrom))
	}
	if !f.CreatedTo.IsZero() {
		w.add("i.date_created <> '' AND i.date_created <= ?", FormatDate(f.CreatedTo))
	}
	if len(f.PartnerIDs) > 0 || len(f.LocationIDs) > 0 || len(f.CustomerStatuses) > 0 {
		joins += ` JOIN customers c ON c.id = i.customer_id`
		w.in("c.partner_id", f.PartnerIDs)
		w.in("c.location_id", f.LocationIDs)
		w.inStr("c.status", f.CustomerStatuses)
	}
	if len(f.PaymentMethodIDs) > 0 {
		joins += ` JOIN billing b ON b.customer_id = i.customer_id`
		w.in("b.payment_method", f.PaymentMethodIDs)
	}
	w.in("i.customer_id", f.CustomerIDs)
	w.in("i.id", f.IDs)
	w.inStr("i.number", f.Numbers)
	if f.TotalOp != "" {
		if !comparison[f.TotalOp] {
			return "", w, fmt.Errorf("store: invoice filter: bad total operator %q", f.TotalOp)
		}
		w.add("i.total "+f.TotalOp+" ?", int64(f.Total))
	}
	if f.DueOp != "" {
		if !invoices {
			return "", w, errors.New("store: proforma filter: proformas have no due amount")
		}
		if !comparison[f.DueOp] {
			return "", w, fmt.Errorf("store: invoice filter: bad due operator %q", f.DueOp)
		}
		w.add("i.due "+f.DueOp+" ?", int64(f.Due))
	}
	if f.AfterID > 0 {
		w.add("i.id > ?", f.AfterID)
	}
	return joins, w, nil
}

func limitOr(n int) int {
	switch {
	case n <= 0:
		return 500
	case n > 10000:
		return 10000
	}
	return n
}

// ListInvoices returns one page of matching invoices ordered by id; pass the
// last id of a page as AfterID to get the next.
func (db *DB) ListInvoices(ctx context.Context, f InvoiceFilter) ([]Invoice, error) {
	return listDocuments(ctx, db, "invoices", invoiceCols, f, true, scanInvoice,
		func(v *Invoice) (int64, *[]Item) { return v.ID, &v.Items })
}

// listDocuments pages through invoices or proformas (the same filter, query
// and line handling) and, with f.WithItems, attaches each row's lines.
func listDocuments[T any](ctx context.Context, db *DB, table, cols string, f InvoiceFilter, invoices bool,
	scan func(interface{ Scan(...any) error }) (T, error), lines func(*T) (int64, *[]Item)) ([]T, error) {
	joins, w, err := f.where(invoices)
	if err != nil {
		return nil, err
	}
	q := `SELECT ` + cols + ` FROM ` + table + ` i` + joins + w.sql() + ` ORDER BY i.id LIMIT ?`
	rows, err := db.read.QueryContext(ctx, q, append(w.args, limitOr(f.Limit))...)
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
	return listDocuments(ctx, db, "proformas", proformaCols, f, false, scanProforma,
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

// MirrorCounts is the number of rows in each mirror table, and of the
// items held in invoice and proforma rows.
type MirrorCounts struct {
	Customers, Billing, Invoices, InvoiceItems, Proformas, ProformaItems, PaymentMethods int
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

// ---- cursors ----

// Cursor is the sync position of one entity (customers, invoices, ...).
type Cursor struct {
	Entity     string
	LastSeen   time.Time // largest Splynx timestamp seen (Splynx's clock)
	LastFull   time.Time // when the last successful full pass ended (our clock)
	LastRun    time.Time // when the last successful pass of any kind ended (our clock)
	Generation int64     // number of the latest full pass started
}

// CursorGet reads an entity's cursor; an entity never synced has a zero Cursor.
func (db *DB) CursorGet(ctx context.Context, entity string) (Cursor, error) {
	c := Cursor{Entity: entity}
	var seen, full, run string
	err := db.read.QueryRowContext(ctx,
		`SELECT last_seen, last_full, last_run, generation FROM sync_cursors WHERE entity = ?`, entity).
		Scan(&seen, &full, &run, &c.Generation)
	if errors.Is(err, sql.ErrNoRows) {
		return c, nil
	}
	if err != nil {
		return c, fmt.Errorf("store: read %s cursor: %w", entity, err)
	}
	c.LastSeen = parseDateTime(seen)
	c.LastFull, _ = time.Parse(time.RFC3339Nano, full)
	c.LastRun, _ = time.Parse(time.RFC3339Nano, run)
	return c, nil
}

// CursorSet writes an entity's cursor inside tx (nil tx: its own transaction).
func (db *DB) CursorSet(ctx context.Context, tx *sql.Tx, c Cursor) error {
	if c.Entity == "" {
		return errors.New("store: write cursor: empty entity")
	}
	fmtT := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339Nano)
	}
	set := func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO sync_cursors(entity, last_seen, last_full, last_run, generation, updated_at)
			VALUES (?,?,?,?,?,?) ON CONFLICT(entity) DO UPDATE SET last_seen=excluded.last_seen,
			last_full=excluded.last_full, last_run=excluded.last_run, generation=excluded.generation,
			updated_at=excluded.updated_at`,
			c.Entity, FormatDateTime(c.LastSeen), fmtT(c.LastFull), fmtT(c.LastRun), c.Generation,
			db.now().UTC().Format(time.RFC3339Nano))
		if err != nil {
			return fmt.Errorf("store: write %s cursor: %w", c.Entity, err)
		}
		return nil
	}
	if tx != nil {
		return set(tx)
	}
	return db.Write(ctx, set)
}

// ---- query building ----

type where struct {
	conds []string
	args  []any
}

func (w *where) add(cond string, args ...any) {
	w.conds = append(w.conds, cond)
	w.args = append(w.args, args...)
}

func (w *where) in(col string, vs []int64) {
	if len(vs) == 0 {
		return
	}
	ph := strings.TrimSuffix(strings.Repeat("?,", len(vs)), ",")
	w.conds = append(w.conds, col+" IN ("+ph+")")
	for _, v := range vs {
		w.args = append(w.args, v)
	}
}

func (w *where) inStr(col string, vs []string) {
	if len(vs) == 0 {
		return
	}
	ph := strings.TrimSuffix(strings.Repeat("?,", len(vs)), ",")
	w.conds = append(w.conds, col+" IN ("+ph+")")
	for _, v := range vs {
		w.args = append(w.args, v)
	}
}

func (w *where) sql() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
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
	rows, err := db.read.QueryContext(ctx, q, append(args, limitOr(limit))...)
	if err != nil {
		return nil, fmt.Errorf("store: list customer ids: %w", err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("store: list customer ids: %w", err)
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// MaxID is the largest id in a mirror table (0 when empty).
func (db *DB) MaxID(ctx context.Context, table string) (int64, error) {
	col := "id"
	switch table {
	case "customers", "invoices", "proformas", "payment_methods":
	case "billing":
		col = "customer_id"
	default:
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
	col := "id"
	switch table {
	case "customers", "invoices", "proformas", "payment_methods":
	case "billing":
		col = "customer_id"
	default:
		return nil, fmt.Errorf("store: stale ids: unknown mirror table %q", table)
	}
	rows, err := db.read.QueryContext(ctx, `SELECT `+col+` FROM `+table+` WHERE sync_gen < ? AND `+col+` > ? ORDER BY `+
		col+` LIMIT ?`, gen, afterID, limitOr(limit))
	if err != nil {
		return nil, fmt.Errorf("store: stale ids of %s: %w", table, err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("store: stale ids of %s: %w", table, err)
		}
		out = append(out, id)
	}
	return out, rows.Err()
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
		for start := 0; start < len(ids); start += maxParams {
			part := ids[start:min(start+maxParams, len(ids))]
			var wh where
			wh.in("id", part)
			due := "0"
			if withDue {
				due = "due"
			}
			rows, err := w.tx.QueryContext(ctx, `SELECT id, total, `+due+`, payment_id, status FROM `+table+wh.sql(), wh.args...)
			if err != nil {
				return nil, err
			}
			for rows.Next() {
				var id int64
				var s state
				if err := rows.Scan(&id, &s.total, &s.due, &s.payment, &s.status); err != nil {
					rows.Close()
					return nil, err
				}
				out[id] = s
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	var customers []int64
	if len(invs) > 0 {
		ids := make([]int64, len(invs))
		for i := range invs {
			ids[i] = invs[i].ID
		}
		old, err := read("invoices", ids, true)
		if err != nil {
			return nil, fmt.Errorf("store: read invoices before update: %w", err)
		}
		for _, v := range invs {
			o, ok := old[v.ID]
			if !ok || o.total != int64(v.Total) || o.due != int64(v.Due) || o.payment != v.PaymentID || o.status != v.Status {
				customers = append(customers, v.CustomerID)
			}
		}
	}
	if len(pfs) > 0 {
		ids := make([]int64, len(pfs))
		for i := range pfs {
			ids[i] = pfs[i].ID
		}
		old, err := read("proformas", ids, false)
		if err != nil {
			return nil, fmt.Errorf("store: read proformas before update: %w", err)
		}
		for _, p := range pfs {
			o, ok := old[p.ID]
			if !ok || o.total != int64(p.Total) || o.payment != p.PaymentID || o.status != p.Status {
				customers = append(customers, p.CustomerID)
			}
		}
	}
	return customers, nil
}

// A first full pass into empty mirror tables loads much faster without
// their secondary indexes, which are then built once, sorted, at the end.
// The dropped indexes' definitions are kept in mirror_deferred_indexes
// until rebuilt, so a crash in between is repaired by the next Open.
const deferredIndexesTable = `CREATE TABLE IF NOT EXISTS mirror_deferred_indexes (
	name TEXT PRIMARY KEY,
	tbl  TEXT NOT NULL,
	sql  TEXT NOT NULL)`

// DeferIndexes drops the secondary indexes of those of the given mirror
// tables that are empty, remembering them for RestoreIndexes, and returns
// the tables it did this for.
func (db *DB) DeferIndexes(ctx context.Context, tables ...string) ([]string, error) {
	var done []string
	err := db.Write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, deferredIndexesTable); err != nil {
			return err
		}
		for _, t := range tables {
			ok := false
			for _, m := range MirrorTables {
				ok = ok || m == t
			}
			if !ok {
				return fmt.Errorf("unknown mirror table %q", t)
			}
			var any int
			err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM `+t+` LIMIT 1)`).Scan(&any)
			if err != nil {
				return err
			}
			if any > 0 {
				continue
			}
			rows, err := tx.QueryContext(ctx,
				`SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL`, t)
			if err != nil {
				return err
			}
			var idx [][2]string
			for rows.Next() {
				var n, q string
				if err := rows.Scan(&n, &q); err != nil {
					rows.Close()
					return err
				}
				idx = append(idx, [2]string{n, q})
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
			for _, ix := range idx {
				if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO mirror_deferred_indexes(name, tbl, sql) VALUES (?,?,?)`,
					ix[0], t, ix[1]); err != nil {
					return err
				}
				if _, err := tx.ExecContext(ctx, `DROP INDEX "`+strings.ReplaceAll(ix[0], `"`, `""`)+`"`); err != nil {
					return err
				}
			}
			if len(idx) > 0 {
				done = append(done, t)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: defer mirror indexes: %w", err)
	}
	return done, nil
}

// RestoreIndexes rebuilds every index DeferIndexes dropped.
func (db *DB) RestoreIndexes(ctx context.Context) error {
	var n int
	if err := db.read.QueryRowContext(ctx,
		`SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'mirror_deferred_indexes'`).Scan(&n); err != nil {
		return fmt.Errorf("store: restore mirror indexes: %w", err)
	}
	if n == 0 {
		return nil
	}
	start := time.Now()
	restored := 0
	err := db.Write(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT name, sql FROM mirror_deferred_indexes ORDER BY name`)
		if err != nil {
			return err
		}
		var idx [][2]string
		for rows.Next() {
			var n, q string
			if err := rows.Scan(&n, &q); err != nil {
				rows.Close()
				return err
			}
			idx = append(idx, [2]string{n, q})
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, ix := range idx {
			q := strings.Replace(ix[1], "CREATE INDEX ", "CREATE INDEX IF NOT EXISTS ", 1)
			q = strings.Replace(q, "CREATE UNIQUE INDEX ", "CREATE UNIQUE INDEX IF NOT EXISTS ", 1)
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return fmt.Errorf("%s: %w", ix[0], err)
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM mirror_deferred_indexes WHERE name = ?`, ix[0]); err != nil {
				return err
			}
			restored++
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: restore mirror indexes: %w", err)
	}
	if restored > 0 {
		db.log.Info("mirror indexes rebuilt", zap.Int("indexes", restored), zap.Duration("took", time.Since(start)))
	}
	return nil
}

// ---- items column ----

// itemsText encodes items for the items column (layout in 0001_mirror.sql).
// It is written by hand rather than through encoding/json: a full pass
// encodes millions of lines, and this needs no reflection and one
// allocation per invoice.
func (w *MirrorWriter) itemsText(items []Item) string {
	if len(items) == 0 {
		return "[]"
	}
	b := w.buf[:0]
	b = append(b, '[')
	for i := range items {
		it := &items[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '[')
		b = strconv.AppendInt(b, it.ID, 10)
		b = append(b, ',')
		b = appendJSONString(b, it.Description)
		b = append(b, ',')
		b = appendJSONString(b, it.Quantity)
		b = append(b, ',')
		b = appendJSONString(b, it.Unit)
		b = append(b, ',')
		b = strconv.AppendInt(b, int64(it.Price), 10)
		b = append(b, ',')
		b = appendJSONString(b, it.Tax)
		b = append(b, ',', '"')
		if !it.PeriodFrom.IsZero() {
			b = appendDate(b, it.PeriodFrom)
		}
		b = append(b, '"', ',', '"')
		if !it.PeriodTo.IsZero() {
			b = appendDate(b, it.PeriodTo)
		}
		b = append(b, '"', ']')
	}
	b = append(b, ']')
	w.buf = b
	return string(b)
}

// appendJSONString appends s as a JSON string. Bytes of 0x80 and above are
// copied as they are (UTF-8 text stays UTF-8).
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// itemTuple reads one line of the items column.
type itemTuple Item

func (t *itemTuple) UnmarshalJSON(b []byte) error {
	var (
		price    int64
		from, to string
	)
	fields := []any{&t.ID, &t.Description, &t.Quantity, &t.Unit, &price, &t.Tax, &from, &to}
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	if len(raw) != len(fields) {
		return fmt.Errorf("item has %d fields, want %d", len(raw), len(fields))
	}
	for i, r := range raw {
		if err := json.Unmarshal(r, fields[i]); err != nil {
			return fmt.Errorf("item field %d: %w", i, err)
		}
	}
	t.Price = money.Amount(price)
	t.PeriodFrom = parseDate(from)
	t.PeriodTo = parseDate(to)
	return nil
}

// parseItems decodes the items column.
func parseItems(s string) ([]Item, error) {
	if s == "" || s == "[]" {
		return nil, nil
	}
	var ts []itemTuple
	if err := json.Unmarshal([]byte(s), &ts); err != nil {
		return nil, fmt.Errorf("decode items: %w", err)
	}
	out := make([]Item, len(ts))
	for i := range ts {
		out[i] = Item(ts[i])
	}
	return out, nil
}
