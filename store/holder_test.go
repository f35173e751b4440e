package store

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The holder-name migration moves an IPpay bank account holder's name out of brand,
// where it used to travel, into holder_name; cards keep their brand.
func TestMigrationMovesHolderNameOutOfBrand(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "h.db")
	db, err := Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Back to the schema before the migration, with rows as the old code
	// wrote them; then the migration's own SQL (found by name, so a
	// renumbering does not matter).
	var holder migration
	ms, _ := migrations()
	for _, m := range ms {
		if strings.HasSuffix(m.name, "_method_holder_name") {
			holder = m
		}
	}
	if holder.sql == "" {
		t.Fatal("no _method_holder_name migration")
	}
	if err := db.Write(ctx, func(tx *sql.Tx) error {
		for _, q := range []string{
			`ALTER TABLE saved_methods DROP COLUMN holder_name`,
			`INSERT INTO saved_methods (customer_id, kind, token, mask, brand, status, created_at, updated_at)
			 VALUES (1, 'bank', 'TOKB', 'CHECKING •••• 789', 'Jo Smith', 'active', 'x', 'x'),
			        (2, 'card', 'TOKC', 'Visa •••• 1111', 'Visa', 'active', 'x', 'x'),
			        (3, 'bank', 'TOKA', 'BSB 062-••• •••• 678', '', 'active', 'x', 'x')`,
			holder.sql,
		} {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	want := map[string][2]string{"TOKB": {"", "Jo Smith"}, "TOKC": {"Visa", ""}, "TOKA": {"", ""}}
	rows, err := db.SQL().QueryContext(ctx, `SELECT token, brand, holder_name FROM saved_methods`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var tok, brand, holder string
		if err := rows.Scan(&tok, &brand, &holder); err != nil {
			t.Fatal(err)
		}
		n++
		if w := want[tok]; brand != w[0] || holder != w[1] {
			t.Errorf("%s: brand %q holder %q, want %q %q", tok, brand, holder, w[0], w[1])
		}
	}
	if n != 3 {
		t.Errorf("%d rows", n)
	}
}

func TestMethodHolderNameRoundTrip(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	id, err := db.SaveMethod(ctx, SavedMethodRow{CustomerID: 9, Kind: "bank", Token: "T", Mask: "CHECKING •••• 789",
		HolderName: "O'Brien & Søn", AccountType: "CHECKING"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	m, err := db.GetMethod(ctx, id)
	if err != nil || m.HolderName != "O'Brien & Søn" || m.Brand != "" {
		t.Fatalf("stored %+v %v", m, err)
	}
}
