package store

import (
	"context"
	"reflect"
	"testing"

	"github.com/splynx-pay/splynx-pay/internal/money"
)

// The customer pages' narrow reads give the same rows as the general
// lists they replace on every page view.
func TestUnpaidDocumentsMatchTheLists(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	seedMirror(t, db, 1)
	writeMirror(t, db, 1, func(ctx context.Context, w *MirrorWriter) error {
		for _, inv := range []Invoice{
			{ID: 90, CustomerID: 1, Number: "INV-90", DateCreated: date("2026-09-01"), DateTill: date("2026-09-15"),
				Total: money.MustParse("30.00"), Due: money.MustParse("12.50"), Status: "not_paid"},
			{ID: 110, CustomerID: 1, Number: "INV-110", Total: money.MustParse("5.00"), Due: money.MustParse("5.00"), Status: "pending"},
		} {
			if err := w.Invoice(ctx, inv); err != nil {
				return err
			}
		}
		for _, pf := range []Proforma{
			{ID: 2, CustomerID: 1, Number: "P2", DateTill: date("2026-12-01"), Total: money.MustParse("7.00"), Status: "not_paid"},
			{ID: 3, CustomerID: 1, Number: "P3", Total: money.MustParse("8.00"), Status: "paid"},
			{ID: 4, CustomerID: 2, Number: "P4", Total: money.MustParse("9.00"), Status: "not_paid"},
		} {
			if err := w.Proforma(ctx, pf); err != nil {
				return err
			}
		}
		return nil
	})
	for _, tc := range []struct {
		customer int64
		limit    int
	}{{1, 200}, {1, 1}, {2, 200}, {3, 200}, {99, 200}} {
		got, err := db.UnpaidDocuments(ctx, tc.customer, tc.limit)
		if err != nil {
			t.Fatal(err)
		}
		f := InvoiceFilter{CustomerIDs: []int64{tc.customer}, Statuses: []string{"not_paid"}, Limit: tc.limit}
		invs, err := db.ListInvoices(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		pfs, err := db.ListProformas(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		var want []UnpaidDocument
		for _, i := range invs {
			want = append(want, UnpaidDocument{Kind: KindInvoice, ID: i.ID, CustomerID: i.CustomerID, Number: i.Number,
				DateCreated: i.DateCreated, DateTill: i.DateTill, Total: i.Total, Due: i.Due, Status: i.Status})
		}
		for _, p := range pfs {
			want = append(want, UnpaidDocument{Kind: KindProforma, ID: p.ID, CustomerID: p.CustomerID, Number: p.Number,
				DateCreated: p.DateCreated, DateTill: p.DateTill, Total: p.Total, Due: p.Total, Status: p.Status})
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("customer %d limit %d:\n got %+v\nwant %+v", tc.customer, tc.limit, got, want)
		}
	}
	// The seed and the rows above, spelled out once.
	got, _ := db.UnpaidDocuments(ctx, 1, 200)
	var ids []int64
	for _, d := range got {
		ids = append(ids, d.ID)
	}
	if !reflect.DeepEqual(ids, []int64{90, 100, 2, 5}) || got[0].Due != money.MustParse("12.50") || got[2].Due != money.MustParse("7.00") ||
		!got[0].DateTill.Equal(date("2026-09-15")) {
		t.Fatalf("customer 1: %+v", got)
	}
}

func TestNewestAttempts(t *testing.T) {
	ctx := context.Background()
	db := openChargeDB(t)
	create := func(key, ref string) *ChargeAttempt {
		t.Helper()
		a := newAttempt(key, ref)
		if err := db.CreateAttempt(ctx, a, t0); err != nil {
			t.Fatal(err)
		}
		return a
	}
	old := create("invoice:1", "SPAAAAAAAAAAAAAAAA")
	if err := db.TransitionAttempt(ctx, old.ID, []AttemptState{StateCreated}, StateDeclined, Change{}, t0, nil); err != nil {
		t.Fatal(err)
	}
	other := create("invoice:2", "SPBBBBBBBBBBBBBBBB")
	newest := create("invoice:1", "SPCCCCCCCCCCCCCCCC")
	keys := []string{"invoice:1", "invoice:2", "invoice:3"}
	got, err := db.NewestAttempts(ctx, keys)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]AttemptBrief{
		"invoice:1": {ID: newest.ID, ChargeKey: "invoice:1", State: StateCreated},
		"invoice:2": {ID: other.ID, ChargeKey: "invoice:2", State: StateCreated},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("newest = %+v, want %+v", got, want)
	}
	// The same as the newest of the full list.
	all, err := db.ListAttempts(ctx, AttemptFilter{ChargeKeys: keys, Desc: true})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, a := range all {
		if !seen[a.ChargeKey] {
			seen[a.ChargeKey] = true
			if got[a.ChargeKey].ID != a.ID || got[a.ChargeKey].State != a.State {
				t.Fatalf("%s: newest %+v, list says %d %s", a.ChargeKey, got[a.ChargeKey], a.ID, a.State)
			}
		}
	}
	if got, err := db.NewestAttempts(ctx, nil); err != nil || len(got) != 0 {
		t.Fatalf("no keys: %v %v", got, err)
	}
}
