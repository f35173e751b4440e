package store

import (
	"context"
	"errors"
	"testing"
)

// Every lookup of a missing record, mirror or charge table, answers with
// the one ErrNotFound, so a caller needs a single errors.Is.
func TestOneNotFoundError(t *testing.T) {
	ctx := context.Background()
	db := openChargeDB(t)
	seedMirror(t, db, 1)
	lookups := map[string]func() error{
		"GetCustomer":         func() error { _, err := db.GetCustomer(ctx, 99); return err },
		"GetCustomerByLogin":  func() error { _, err := db.GetCustomerByLogin(ctx, "nobody"); return err },
		"GetBilling":          func() error { _, err := db.GetBilling(ctx, 99); return err },
		"GetInvoice":          func() error { _, err := db.GetInvoice(ctx, 9999); return err },
		"GetInvoiceByNumber":  func() error { _, err := db.GetInvoiceByNumber(ctx, "no-such"); return err },
		"GetProforma":         func() error { _, err := db.GetProforma(ctx, 9999); return err },
		"GetProformaByNumber": func() error { _, err := db.GetProformaByNumber(ctx, "no-such"); return err },
		"GetAttempt":          func() error { _, err := db.GetAttempt(ctx, 9999); return err },
		"AttemptByReference":  func() error { _, err := db.AttemptByReference(ctx, "no-such"); return err },
		"LatestAttempt":       func() error { _, err := db.LatestAttempt(ctx, "no-such"); return err },
		"GetRun":              func() error { _, err := db.GetRun(ctx, 9999); return err },
		"GetMethod":           func() error { _, err := db.GetMethod(ctx, 9999); return err },
		"ActiveMethod":        func() error { _, err := db.ActiveMethod(ctx, 99); return err },
	}
	for name, lookup := range lookups {
		err := lookup()
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("%s of a missing record: %v, want ErrNotFound", name, err)
		}
	}
}
