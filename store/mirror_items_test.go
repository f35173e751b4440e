package store

import (
	"context"
	"database/sql"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/splynx-pay/splynx-pay/internal/money"
)

// Items live in one JSON column; whatever Splynx put in their text must come
// back unchanged, and SQLite's own JSON functions must read the column.
func TestItemsColumnRoundTrip(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	cases := []struct {
		name  string
		items []Item
	}{
		{"none", nil},
		{"plain", []Item{{ID: 1, Description: "Internet 100", Quantity: "1", Unit: "month", Price: 4999, Tax: "10",
			PeriodFrom: date("2026-11-01"), PeriodTo: date("2026-11-30")}}},
		{"awkward text", []Item{
			{ID: 2, Description: "quote \" backslash \\ slash / tab\tnewline\nCR\r bell\a nul\x00 del\x7f", Quantity: "2.5",
				Price: -123456789012},
			{ID: 3, Description: "Ünïcødé – 日本語 – \u2028 emoji 🙂", Unit: "{\"x\":[1]}", Tax: "0.0000"},
		}},
		{"zero dates and empty strings", []Item{{}, {ID: 9, PeriodTo: date("2026-12-31")}}},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			id := int64(1000 + i)
			v := Invoice{ID: id, CustomerID: 1, Status: "not_paid", Total: money.Amount(1), Items: c.items}
			p := Proforma{ID: id, CustomerID: 1, Status: "not_paid", Items: c.items}
			if err := db.Write(ctx, func(tx *sql.Tx) error {
				w, err := NewMirrorWriter(ctx, tx, 1, time.Now())
				if err != nil {
					return err
				}
				defer w.Close()
				if err := w.Invoices(ctx, []Invoice{v}); err != nil {
					return err
				}
				return w.Proformas(ctx, []Proforma{p})
			}); err != nil {
				t.Fatal(err)
			}
			gotV, err := db.GetInvoice(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			gotP, err := db.GetProforma(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			for _, got := range [][]Item{gotV.Items, gotP.Items} {
				if len(got) != len(c.items) || (len(got) > 0 && !reflect.DeepEqual(got, c.items)) {
					t.Fatalf("items = %#v, want %#v", got, c.items)
				}
			}
			var n int
			var desc sql.NullString
			if err := db.SQL().QueryRowContext(ctx, `SELECT json_array_length(items), json_extract(items, '$[0][1]')
				FROM invoices WHERE id = ?`, id).Scan(&n, &desc); err != nil {
				t.Fatalf("SQLite reading the items column: %v", err)
			}
			if n != len(c.items) || (n > 0 && desc.String != c.items[0].Description) {
				t.Fatalf("json_array_length = %d, first description %q", n, desc.String)
			}
			for _, view := range []string{"invoice_items", "proforma_items"} {
				parent := strings.TrimSuffix(view, "_items") + "_id"
				rows, err := db.SQL().QueryContext(ctx, `SELECT pos, item_id, description, price, period_to FROM `+view+
					` WHERE `+parent+` = ? ORDER BY pos`, id)
				if err != nil {
					t.Fatal(err)
				}
				var got []Item
				for rows.Next() {
					var pos int
					var it Item
					var price int64
					var to string
					if err := rows.Scan(&pos, &it.ID, &it.Description, &price, &to); err != nil {
						t.Fatal(err)
					}
					if pos != len(got) || price != int64(c.items[pos].Price) || to != FormatDate(c.items[pos].PeriodTo) {
						t.Fatalf("%s row %d: pos %d price %d period_to %q", view, len(got), pos, price, to)
					}
					got = append(got, it)
				}
				rows.Close()
				if len(got) != len(c.items) {
					t.Fatalf("%s has %d rows, want %d", view, len(got), len(c.items))
				}
				for i := range got {
					if got[i].ID != c.items[i].ID || got[i].Description != c.items[i].Description {
						t.Fatalf("%s row %d = %+v, want %+v", view, i, got[i], c.items[i])
					}
				}
			}
		})
	}
}

// The fingerprints hash dates without rendering them; they must agree with
// the rendered text, or every row would look changed after an upgrade.
func TestFingerprintDates(t *testing.T) {
	for _, tm := range []time.Time{{}, date("2026-11-02"), time.Date(2026, 1, 9, 7, 5, 3, 0, time.UTC),
		time.Date(999, 12, 31, 23, 59, 59, 0, time.UTC)} {
		a, b := newFNV(), newFNV()
		if a.date(tm).sum() != b.str(FormatDate(tm)).sum() {
			t.Errorf("date hash of %v differs from hashing %q", tm, FormatDate(tm))
		}
		a, b = newFNV(), newFNV()
		if a.dateTime(tm).sum() != b.str(FormatDateTime(tm)).sum() {
			t.Errorf("datetime hash of %v differs from hashing %q", tm, FormatDateTime(tm))
		}
	}
}
