package mirror_test

import (
	"context"
	"testing"
	"time"

	"github.com/splynx-pay/splynx-pay/splynx/splynxsim"
	"github.com/splynx-pay/splynx-pay/store"
	"github.com/splynx-pay/splynx-pay/sync/mirror"
)

// The mirror keeps paid documents of the last 13 months and every unpaid
// or pending one; an old unpaid invoice paid in Splynx leaves the mirror
// at the next incremental pass, and the deletion check still finds a
// deleted document on either side of the window.
func TestHistoryWindow(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, splynxsim.Options{}, rangeSeed, mirror.Options{PageSize: 500, HistoryMonths: mirror.DefaultHistoryMonths})
	if _, err := e.eng.Full(ctx); err != nil {
		t.Fatal(err)
	}
	cut := store.FormatDate(e.clk.Now().AddDate(0, -13, 0))
	var oldUnpaid, oldPaid, recentPaid, recentUnpaid int64
	for id := int64(1); id <= 3000; id++ {
		v, ok := e.sim.Invoice(id)
		if !ok {
			continue
		}
		old := store.FormatDate(v.DateCreated) < cut
		switch {
		case old && v.Status == "not_paid" && oldUnpaid == 0:
			oldUnpaid = id
		case old && v.Status == "paid" && oldPaid == 0:
			oldPaid = id
		case !old && v.Status == "paid" && recentPaid == 0:
			recentPaid = id
		case !old && v.Status == "not_paid" && recentUnpaid == 0:
			recentUnpaid = id
		}
	}
	if oldUnpaid == 0 || oldPaid == 0 || recentPaid == 0 || recentUnpaid == 0 {
		t.Fatalf("seed lacks a case: old unpaid %d, old paid %d, recent paid %d, recent unpaid %d",
			oldUnpaid, oldPaid, recentPaid, recentUnpaid)
	}
	if _, err := e.db.GetInvoice(ctx, oldPaid); err == nil {
		t.Fatalf("paid invoice %d from before %s is mirrored", oldPaid, cut)
	}
	compare(t, e)

	// Another old unpaid invoice gets paid; the first one is deleted; so
	// is a recent one.
	var paidNow int64
	for id := oldUnpaid + 1; id <= 3000 && paidNow == 0; id++ {
		if v, ok := e.sim.Invoice(id); ok && v.Status == "not_paid" && store.FormatDate(v.DateCreated) < cut {
			paidNow = id
		}
	}
	e.sim.Clock().Advance(time.Hour)
	e.sim.UpdateInvoice(paidNow, func(v *splynxsim.Invoice) { v.Status, v.Due = "paid", 0 })
	e.sim.PurgeInvoice(oldUnpaid)
	e.sim.PurgeInvoice(recentUnpaid)
	if _, err := e.eng.Incremental(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.GetInvoice(ctx, paidNow); err == nil {
		t.Fatalf("old invoice %d, now paid, still mirrored", paidNow)
	}
	ds, err := e.eng.CheckDeletions(ctx)
	if err != nil || ds.Deleted != 2 {
		t.Fatalf("deletion check: %+v, %v; want invoices %d and %d deleted", ds, err, oldUnpaid, recentUnpaid)
	}
	compare(t, e)
}
