package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/splynx-pay/splynx-pay/internal/money"
)

func openTest(t *testing.T) *DB {
	t.Helper()
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "test.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestMigrations(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "m.db")

	db, err := Open(ctx, path, nil)
	if err != nil {
		t.Fatalf("fresh open: %v", err)
	}
	v, err := db.SchemaVersion(ctx)
	if err != nil || v != KnownSchemaVersion() || v < 1 {
		t.Fatalf("fresh schema version = %d, %v; want %d", v, err, KnownSchemaVersion())
	}
	var mode string
	if err := db.SQL().QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal_mode = %q, %v; want wal", mode, err)
	}
	var fk int
	if err := db.SQL().QueryRowContext(ctx, `PRAGMA foreign_keys`).Scan(&fk); err != nil || fk != 1 {
		t.Fatalf("foreign_keys = %d, %v; want 1", fk, err)
	}
	if err := db.Audit(ctx, nil, "test.opened", map[string]any{"n": 1}); err != nil {
		t.Fatal(err)
	}
	db.Close()

	// Reopening applies nothing and keeps the data.
	db, err = Open(ctx, path, nil)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	var applied int
	if err := db.SQL().QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations`).Scan(&applied); err != nil {
		t.Fatal(err)
	}
	ms, _ := migrations()
	if applied != len(ms) {
		t.Fatalf("schema_migrations has %d rows after reopen, want %d", applied, len(ms))
	}
	log, err := db.AuditLog(ctx, "test.opened", 10)
	if err != nil || len(log) != 1 || log[0].Fields["n"] != float64(1) {
		t.Fatalf("audit log after reopen = %+v, %v", log, err)
	}

	// A newer build's migration recorded in the database: this build must refuse it.
	if err := db.Write(ctx, func(tx *sql.Tx) error {
		_, err := tx.Exec(`INSERT INTO schema_migrations(version, name, applied_at) VALUES (9999, '9999_future', 'x')`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err = Open(ctx, path, nil)
	if !errors.Is(err, ErrSchemaTooNew) {
		t.Fatalf("open of a too-new schema: err = %v, want ErrSchemaTooNew", err)
	}
	if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "9999") {
		t.Fatalf("too-new error should name the path and the version: %v", err)
	}
}

func TestMigrationFailureRollsBack(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	before, _ := db.SchemaVersion(ctx)
	bad := []migration{{version: before + 1, name: "x_bad", sql: `CREATE TABLE half(x); SELECT nonsense FROM nowhere;`}}
	err := db.migrateTo(ctx, bad, before+1)
	if err == nil || !strings.Contains(err.Error(), "x_bad") {
		t.Fatalf("bad migration: err = %v", err)
	}
	after, _ := db.SchemaVersion(ctx)
	var n int
	db.SQL().QueryRow(`SELECT COUNT(*) FROM sqlite_master WHERE name = 'half'`).Scan(&n)
	if after != before || n != 0 {
		t.Fatalf("failed migration left version %d (was %d) and table half=%d", after, before, n)
	}
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	roDir := filepath.Join(dir, "ro")
	if err := os.Mkdir(roDir, 0o500); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "plain")
	if err := os.WriteFile(file, []byte(strings.Repeat("not a database\n", 300)), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path, want string
		skipRoot         bool
	}{
		{"missing directory", filepath.Join(dir, "nope", "x.db"), "nope does not exist", false},
		{"path is a directory", dir, "is a directory", false},
		{"empty", "", "empty database path", false},
		{"parent is a file", filepath.Join(file, "x.db"), "not a directory", false},
		{"not a database", file, "plain", false},
		{"unwritable directory", filepath.Join(roDir, "x.db"), "ro/x.db", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.skipRoot && os.Geteuid() == 0 {
				t.Skip("root writes anywhere")
			}
			db, err := Open(ctx, tc.path, nil)
			if err == nil {
				db.Close()
				t.Fatalf("Open(%q) succeeded", tc.path)
			}
			if !strings.HasPrefix(err.Error(), "store: open") || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Open(%q) error %q; want prefix \"store: open\" and %q", tc.path, err, tc.want)
			}
		})
	}
}

func TestOpenReadOnlyFile(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root writes anywhere")
	}
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ro.db")
	db, err := Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	os.Remove(path + "-wal")
	os.Remove(path + "-shm")
	if err := os.Chmod(path, 0o400); err != nil {
		t.Fatal(err)
	}
	db, err = Open(ctx, path, nil)
	if err == nil {
		db.Close()
		t.Fatal("Open of a read-only file succeeded")
	}
	if !strings.Contains(err.Error(), path) {
		t.Fatalf("error does not name the path: %v", err)
	}
}

func date(s string) time.Time {
	t, err := time.Parse(DateLayout, s)
	if err != nil {
		panic(err)
	}
	return t
}

func seedMirror(t *testing.T, db *DB, gen int64) {
	t.Helper()
	writeMirror(t, db, gen, func(ctx context.Context, w *MirrorWriter) error {
		for _, c := range []Customer{
			{ID: 1, Login: "alice", Name: "Alice", Status: "active", PartnerID: 1, LocationID: 10,
				LastUpdate: time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC), Additional: map[string]string{"autopay": "1"}},
			{ID: 2, Login: "bob", Name: "Bob", Status: "blocked", PartnerID: 2, LocationID: 20},
			{ID: 3, Login: "carol", Name: "Carol", Status: "active", PartnerID: 1, LocationID: 20},
		} {
			if err := w.Customer(ctx, c); err != nil {
				return err
			}
		}
		for _, b := range []Billing{
			{CustomerID: 1, Enabled: true, Deposit: money.MustParse("-12.34"), PaymentMethod: 3},
			{CustomerID: 2, Enabled: true, Deposit: 0, PaymentMethod: 2},
			{CustomerID: 3, Enabled: false, Deposit: money.MustParse("92233720368547.75"), PaymentMethod: 3},
		} {
			if err := w.Billing(ctx, b); err != nil {
				return err
			}
		}
		invs := []Invoice{
			{ID: 100, CustomerID: 1, Number: "202611000100", DateCreated: date("2026-11-01"), Total: money.MustParse("120.00"),
				Due: money.MustParse("120.00"), Status: "not_paid",
				Items: []Item{{ID: 7, Description: "Internet", Quantity: "1", Price: money.MustParse("100.00"), Tax: "20.0000"},
					{ID: 8, Description: "Static IP", Quantity: "2", Price: money.MustParse("10.00")}}},
			{ID: 101, CustomerID: 2, Number: "202611000101", DateCreated: date("2026-10-15"), Total: money.MustParse("0.01"),
				Due: money.MustParse("0.01"), Status: "not_paid"},
			{ID: 102, CustomerID: 3, Number: "202611000102", DateCreated: date("2026-11-02"), Total: money.MustParse("55.55"),
				Due: 0, Status: "paid", PaymentID: 9},
			{ID: 103, CustomerID: 3, Number: "202611000103", DateCreated: date("2026-11-02"), Total: money.MustParse("99.99"),
				Due: money.MustParse("49.99"), Status: "not_paid"},
		}
		for _, inv := range invs {
			if err := w.Invoice(ctx, inv); err != nil {
				return err
			}
		}
		if err := w.Proforma(ctx, Proforma{ID: 5, CustomerID: 1, Number: "P5", Total: money.MustParse("10.10"),
			Status: "not_paid", Items: []Item{{Description: "Refill", Quantity: "1", Price: money.MustParse("10.10")}}}); err != nil {
			return err
		}
		return w.PaymentMethod(ctx, PaymentMethod{ID: 3, Name: "Credit card", IsActive: true, Names: [5]string{"Number", "Transaction ID"}})
	})
}

func TestMirrorRoundTrip(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	seedMirror(t, db, 1)

	c, err := db.GetCustomer(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if c.Login != "alice" || c.Additional["autopay"] != "1" || !c.LastUpdate.Equal(time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)) {
		t.Fatalf("customer 1 = %+v", c)
	}
	if _, err := db.GetCustomer(ctx, 99); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing customer: %v", err)
	}
	// Money survives exactly, including negative and very large balances.
	b, err := db.GetBilling(ctx, 1)
	if err != nil || b.Deposit != -1234 || b.PaymentMethod != 3 || !b.Enabled {
		t.Fatalf("billing 1 = %+v, %v", b, err)
	}
	b, _ = db.GetBilling(ctx, 3)
	if b.Deposit != 9223372036854775 {
		t.Fatalf("large deposit came back as %d", b.Deposit)
	}
	var typ string
	db.SQL().QueryRow(`SELECT typeof(deposit) FROM billing WHERE customer_id = 1`).Scan(&typ)
	if typ != "integer" {
		t.Fatalf("deposit stored as %s, want integer", typ)
	}

	inv, err := db.GetInvoice(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	if inv.Total != 12000 || inv.Due != 12000 || len(inv.Items) != 2 || inv.Items[1].Quantity != "2" || inv.Items[0].Price != 10000 {
		t.Fatalf("invoice 100 = %+v", inv)
	}
	byNum, err := db.GetInvoiceByNumber(ctx, "202611000100")
	if err != nil || byNum.ID != 100 {
		t.Fatalf("by number: %+v %v", byNum, err)
	}
	p, err := db.GetProforma(ctx, 5)
	if err != nil || p.Total != 1010 || len(p.Items) != 1 {
		t.Fatalf("proforma 5 = %+v, %v", p, err)
	}
	pms, err := db.ListPaymentMethods(ctx)
	if err != nil || len(pms) != 1 || pms[0].Names[1] != "Transaction ID" {
		t.Fatalf("payment methods = %+v %v", pms, err)
	}
	n, err := db.Counts(ctx)
	want := MirrorCounts{Customers: 3, Billing: 3, Invoices: 4, InvoiceItems: 2, Proformas: 1, ProformaItems: 1, PaymentMethods: 1}
	if err != nil || n != want {
		t.Fatalf("counts = %+v, %v; want %+v", n, err, want)
	}

	// Rewriting an invoice replaces its items rather than appending.
	if err := db.Write(ctx, func(tx *sql.Tx) error {
		w, err := NewMirrorWriter(ctx, tx, 1, time.Now())
		if err != nil {
			return err
		}
		defer w.Close()
		inv.Items = inv.Items[:1]
		inv.Status = "paid"
		inv.Due = 0
		return w.Invoice(ctx, inv)
	}); err != nil {
		t.Fatal(err)
	}
	inv, _ = db.GetInvoice(ctx, 100)
	if len(inv.Items) != 1 || inv.Status != "paid" || inv.Due != 0 {
		t.Fatalf("rewritten invoice = %+v", inv)
	}
}

func TestListInvoicesFilters(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	seedMirror(t, db, 1)
	tests := []struct {
		name string
		f    InvoiceFilter
		want []int64
	}{
		{"all", InvoiceFilter{}, []int64{100, 101, 102, 103}},
		{"not paid", InvoiceFilter{Statuses: []string{"not_paid"}}, []int64{100, 101, 103}},
		{"created range", InvoiceFilter{CreatedFrom: date("2026-11-01"), CreatedTo: date("2026-11-01")}, []int64{100}},
		{"created from", InvoiceFilter{CreatedFrom: date("2026-11-02")}, []int64{102, 103}},
		{"partner", InvoiceFilter{PartnerIDs: []int64{1}}, []int64{100, 102, 103}},
		{"location", InvoiceFilter{LocationIDs: []int64{20}}, []int64{101, 102, 103}},
		{"payment method", InvoiceFilter{PaymentMethodIDs: []int64{2}}, []int64{101}},
		{"customers", InvoiceFilter{CustomerIDs: []int64{3}}, []int64{102, 103}},
		{"customer status", InvoiceFilter{CustomerStatuses: []string{"blocked"}}, []int64{101}},
		{"numbers", InvoiceFilter{Numbers: []string{"202611000101", "202611000103"}}, []int64{101, 103}},
		{"total >=", InvoiceFilter{TotalOp: ">=", Total: 9999}, []int64{100, 103}},
		{"total <", InvoiceFilter{TotalOp: "<", Total: 1}, nil},
		{"due > 0", InvoiceFilter{DueOp: ">", Due: 0}, []int64{100, 101, 103}},
		{"page 1", InvoiceFilter{Limit: 2}, []int64{100, 101}},
		{"page 2", InvoiceFilter{Limit: 2, AfterID: 101}, []int64{102, 103}},
		{"combined", InvoiceFilter{Statuses: []string{"not_paid"}, PartnerIDs: []int64{1}, PaymentMethodIDs: []int64{3},
			DueOp: ">", Due: 0}, []int64{100, 103}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := db.ListInvoices(ctx, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			var ids []int64
			for _, v := range got {
				ids = append(ids, v.ID)
			}
			if !reflect.DeepEqual(ids, tc.want) {
				t.Fatalf("ids = %v, want %v", ids, tc.want)
			}
			if tc.f.Limit == 0 {
				n, err := db.CountInvoices(ctx, tc.f)
				if err != nil || n != len(tc.want) {
					t.Fatalf("count = %d, %v; want %d", n, err, len(tc.want))
				}
			}
		})
	}
	if _, err := db.ListInvoices(ctx, InvoiceFilter{TotalOp: "; DROP TABLE invoices"}); err == nil {
		t.Fatal("bad operator accepted")
	}
	got, err := db.ListInvoices(ctx, InvoiceFilter{IDs: []int64{100}, WithItems: true})
	if err != nil || len(got) != 1 || len(got[0].Items) != 2 {
		t.Fatalf("with items: %+v %v", got, err)
	}
	ps, err := db.ListProformas(ctx, InvoiceFilter{Statuses: []string{"not_paid"}, WithItems: true})
	if err != nil || len(ps) != 1 || ps[0].ID != 5 || len(ps[0].Items) != 1 {
		t.Fatalf("proformas: %+v %v", ps, err)
	}
	if _, err := db.ListProformas(ctx, InvoiceFilter{DueOp: ">"}); err == nil {
		t.Fatal("due filter on proformas accepted")
	}
}

func TestDeleteStaleAndCursors(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	seedMirror(t, db, 1)
	// Generation 2 sees only customer 1 and invoice 100.
	err := db.Write(ctx, func(tx *sql.Tx) error {
		w, err := NewMirrorWriter(ctx, tx, 2, time.Now())
		if err != nil {
			return err
		}
		defer w.Close()
		c, _ := db.GetCustomer(ctx, 1)
		if err := w.Customer(ctx, c); err != nil {
			return err
		}
		inv, _ := db.GetInvoice(ctx, 100)
		return w.Invoice(ctx, inv)
	})
	if err != nil {
		t.Fatal(err)
	}
	var deleted = map[string]int{}
	err = db.Write(ctx, func(tx *sql.Tx) error {
		for _, tbl := range []string{"customers", "invoices"} {
			n, err := DeleteStale(ctx, tx, tbl, 2)
			if err != nil {
				return err
			}
			deleted[tbl] = n
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if deleted["customers"] != 2 || deleted["invoices"] != 3 {
		t.Fatalf("deleted = %v", deleted)
	}
	n, _ := db.Counts(ctx)
	if n.Customers != 1 || n.Invoices != 1 || n.InvoiceItems != 2 {
		t.Fatalf("counts after delete = %+v", n)
	}
	if err := db.Write(ctx, func(tx *sql.Tx) error { _, err := DeleteStale(ctx, tx, "audit_log", 9); return err }); err == nil {
		t.Fatal("DeleteStale accepted a non-mirror table")
	}

	c, err := db.CursorGet(ctx, "invoices")
	if err != nil || !c.LastSeen.IsZero() || c.Generation != 0 {
		t.Fatalf("fresh cursor = %+v, %v", c, err)
	}
	want := Cursor{Entity: "invoices", LastSeen: time.Date(2026, 11, 2, 9, 30, 15, 0, time.UTC),
		LastFull: time.Date(2026, 11, 2, 10, 0, 0, 123, time.UTC), LastRun: time.Date(2026, 11, 2, 10, 0, 1, 0, time.UTC), Generation: 7}
	if err := db.CursorSet(ctx, nil, want); err != nil {
		t.Fatal(err)
	}
	got, err := db.CursorGet(ctx, "invoices")
	if err != nil || !got.LastSeen.Equal(want.LastSeen) || !got.LastFull.Equal(want.LastFull) || got.Generation != 7 {
		t.Fatalf("cursor = %+v, %v; want %+v", got, err, want)
	}
}

func TestAuditInCallerTransaction(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	boom := errors.New("boom")
	err := db.Write(ctx, func(tx *sql.Tx) error {
		if err := db.Audit(ctx, tx, "charge.created", map[string]any{"invoice": 1}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	if got, _ := db.AuditLog(ctx, "", 10); len(got) != 0 {
		t.Fatalf("rolled-back audit row persisted: %+v", got)
	}
	if err := db.Ping(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestFormatDates(t *testing.T) {
	for _, tm := range []time.Time{
		time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		time.Date(999, 12, 31, 23, 59, 59, 0, time.UTC),
		time.Date(2024, 2, 29, 0, 0, 0, 0, time.FixedZone("AEST", 10*3600)),
	} {
		if got, want := FormatDate(tm), tm.Format(DateLayout); got != want {
			t.Errorf("FormatDate(%v) = %q, want %q", tm, got, want)
		}
		if got, want := FormatDateTime(tm), tm.Format(DateTimeLayout); got != want {
			t.Errorf("FormatDateTime(%v) = %q, want %q", tm, got, want)
		}
	}
	if FormatDate(time.Time{}) != "" || FormatDateTime(time.Time{}) != "" {
		t.Error("zero time not rendered empty")
	}
}

// Batches larger than one statement's parameter budget, with the same
// record twice, land exactly once with the last version's items.
func TestMirrorWriterBatches(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	const n = 257
	var invs []Invoice
	var pfs []Proforma
	var bills []Billing
	var custs []Customer
	for i := int64(1); i <= n; i++ {
		items := make([]Item, i%4)
		for j := range items {
			items[j] = Item{ID: i*10 + int64(j), Description: fmt.Sprintf("line %d", j), Quantity: "1", Price: money.Amount(i + int64(j))}
		}
		invs = append(invs, Invoice{ID: i, CustomerID: i, Number: fmt.Sprint(1000 + i), Total: money.Amount(i * 101),
			Due: money.Amount(i), Status: "not_paid", DateCreated: date("2026-10-01"), Items: items})
		pfs = append(pfs, Proforma{ID: i, CustomerID: i, Total: money.Amount(i), Status: "not_paid", Items: items})
		bills = append(bills, Billing{CustomerID: i, Deposit: money.Amount(-i)})
		custs = append(custs, Customer{ID: i, Login: fmt.Sprint("u", i)})
	}
	// Invoice 5 again, changed, later in the same batch.
	invs = append(invs, Invoice{ID: 5, CustomerID: 5, Total: 1, Due: 0, Status: "paid", Items: []Item{{Description: "only"}}})
	err := db.Write(ctx, func(tx *sql.Tx) error {
		w, err := NewMirrorWriter(ctx, tx, 3, time.Now())
		if err != nil {
			return err
		}
		defer w.Close()
		if err := w.Customers(ctx, custs); err != nil {
			return err
		}
		if err := w.Billings(ctx, bills); err != nil {
			return err
		}
		if err := w.Proformas(ctx, pfs); err != nil {
			return err
		}
		// Twice: the second write replaces rows and items instead of adding.
		if err := w.Invoices(ctx, invs); err != nil {
			return err
		}
		return w.Invoices(ctx, invs)
	})
	if err != nil {
		t.Fatal(err)
	}
	c, err := db.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wantItems := 0
	for i := 1; i <= n; i++ {
		wantItems += i % 4
	}
	if c.Customers != n || c.Billing != n || c.Invoices != n || c.Proformas != n || c.ProformaItems != wantItems ||
		c.InvoiceItems != wantItems-5%4+1 {
		t.Fatalf("counts = %+v, want %d rows and %d items", c, n, wantItems)
	}
	v, _ := db.GetInvoice(ctx, 5)
	if v.Status != "paid" || v.Total != 1 || len(v.Items) != 1 || v.Items[0].Description != "only" {
		t.Fatalf("invoice 5 = %+v", v)
	}
	v, _ = db.GetInvoice(ctx, 203)
	if v.Total != 203*101 || len(v.Items) != 3 || v.Items[2].Price != 205 || v.Items[2].Description != "line 2" {
		t.Fatalf("invoice 203 = %+v", v)
	}
	var sum int64
	db.SQL().QueryRow(`SELECT SUM(total) FROM invoices`).Scan(&sum)
	want := int64(1) // invoice 5
	for i := int64(1); i <= n; i++ {
		if i != 5 {
			want += i * 101
		}
	}
	if sum != want {
		t.Fatalf("sum of totals = %d, want %d", sum, want)
	}
}

func indexNames(t *testing.T, db *DB, table string) []string {
	t.Helper()
	rows, err := db.SQL().Query(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL ORDER BY name`, table)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		rows.Scan(&n)
		out = append(out, n)
	}
	return out
}

// Indexes of empty tables can be dropped for a bulk load; they come back
// after it, or at the next Open if the process died in between.
func TestDeferIndexes(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "d.db")
	db, err := Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := indexNames(t, db, "invoices")
	if len(want) < 3 {
		t.Fatalf("invoices has indexes %v", want)
	}
	if err := db.Write(ctx, func(tx *sql.Tx) error {
		w, _ := NewMirrorWriter(ctx, tx, 1, time.Now())
		defer w.Close()
		return w.Customer(ctx, Customer{ID: 1})
	}); err != nil {
		t.Fatal(err)
	}
	done, err := db.DeferIndexes(ctx, "customers", "invoices")
	if err != nil || !reflect.DeepEqual(done, []string{"invoices"}) {
		t.Fatalf("deferred %v, %v; want only the empty invoices table", done, err)
	}
	if got := indexNames(t, db, "invoices"); len(got) != 0 {
		t.Fatalf("invoices still has %v", got)
	}
	if len(indexNames(t, db, "customers")) == 0 {
		t.Fatal("customers (not empty) lost its indexes")
	}
	db.Close() // as if the process died mid-load

	db, err = Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if got := indexNames(t, db, "invoices"); !reflect.DeepEqual(got, want) {
		t.Fatalf("after reopen invoices has %v, want %v", got, want)
	}
	if err := db.RestoreIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := db.DeferIndexes(ctx, "audit_log"); err == nil {
		t.Fatal("DeferIndexes accepted a non-mirror table")
	}
}

// Rewriting a record in place (indexed fields unchanged) keeps the mirror
// exact: changed items are replaced, unchanged ones kept, the generation moves.
func TestMirrorWriterInPlace(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	seedMirror(t, db, 1)
	inv, _ := db.GetInvoice(ctx, 100)
	other, _ := db.GetInvoice(ctx, 103)
	cust, _ := db.GetCustomer(ctx, 1)
	write := func(gen int64, fn func(w *MirrorWriter) error) {
		t.Helper()
		if err := db.Write(ctx, func(tx *sql.Tx) error {
			w, err := NewMirrorWriter(ctx, tx, gen, time.Now())
			if err != nil {
				return err
			}
			defer w.Close()
			return fn(w)
		}); err != nil {
			t.Fatal(err)
		}
	}
	inv.Note = "in place"
	inv.Due = 100
	inv.Items[1].Quantity = "3"
	other.Memo = "memo only"
	cust.Name = "Alice Renamed"
	cust.Additional = map[string]string{"autopay": "0"}
	write(2, func(w *MirrorWriter) error {
		if err := w.Customers(ctx, []Customer{cust}); err != nil {
			return err
		}
		return w.Invoices(ctx, []Invoice{inv, other})
	})
	got, _ := db.GetInvoice(ctx, 100)
	if got.Note != "in place" || got.Due != 100 || len(got.Items) != 2 || got.Items[1].Quantity != "3" || got.Items[0].Description != "Internet" {
		t.Fatalf("invoice 100 after in-place update = %+v", got)
	}
	got, _ = db.GetInvoice(ctx, 103)
	if got.Memo != "memo only" || got.Due != other.Due {
		t.Fatalf("invoice 103 = %+v", got)
	}
	c, _ := db.GetCustomer(ctx, 1)
	if c.Name != "Alice Renamed" || c.Additional["autopay"] != "0" || c.Login != "alice" {
		t.Fatalf("customer 1 = %+v", c)
	}
	// Unchanged records are only stamped: a pass of generation 3 that sees
	// them keeps them, and DeleteStale removes only the others.
	write(3, func(w *MirrorWriter) error { return w.Invoices(ctx, []Invoice{got}) })
	var gen int64
	db.SQL().QueryRow(`SELECT sync_gen FROM invoices WHERE id = 103`).Scan(&gen)
	if gen != 3 {
		t.Fatalf("unchanged invoice 103 has generation %d, want 3", gen)
	}
	if err := db.Write(ctx, func(tx *sql.Tx) error {
		n, err := DeleteStale(ctx, tx, "invoices", 3)
		if n != 3 {
			t.Errorf("DeleteStale removed %d invoices, want the 3 not stamped", n)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.GetInvoice(ctx, 103); err != nil {
		t.Fatal(err)
	}
}

func TestWriteRollsBackOnPanic(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	func() {
		defer func() { recover() }()
		db.Write(ctx, func(tx *sql.Tx) error {
			if _, err := tx.Exec(`INSERT INTO audit_log(at, event) VALUES ('x', 'half')`); err != nil {
				return err
			}
			panic("boom")
		})
	}()
	// The single write connection is free again and the half-done write gone.
	done := make(chan error, 1)
	go func() { done <- db.Audit(ctx, nil, "after", nil) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("write connection still held after a panic")
	}
	if got, _ := db.AuditLog(ctx, "half", 10); len(got) != 0 {
		t.Fatalf("panicked write persisted: %+v", got)
	}
}
