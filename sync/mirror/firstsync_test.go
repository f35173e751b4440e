package mirror_test

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/splynx-pay/splynx-pay/splynx/splynxsim"
	"github.com/splynx-pay/splynx-pay/store"
	"github.com/splynx-pay/splynx-pay/sync/mirror"
)

// A first sync does not write the paid documents the history window would
// prune; one that fails midway (after the invoices, before the proformas)
// leaves a mirror whose indexes are back and that the next pass, no longer
// into empty tables, completes exactly.
func TestFirstSyncLeavesOutOldPaidAndFailedOneIsCompleted(t *testing.T) {
	ctx := context.Background()
	ok := newEnv(t, splynxsim.Options{}, rangeSeed, mirror.Options{PageSize: 500, HistoryMonths: mirror.DefaultHistoryMonths})
	st, err := ok.eng.Full(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.OutOfWindow == 0 {
		t.Fatalf("first sync wrote every document: %+v", st)
	}
	counts, _ := ok.db.Counts(ctx)
	if st.Invoices+st.Proformas != counts.Invoices+counts.Proformas {
		t.Fatalf("first sync wrote %d documents and the mirror holds %d: something was written only to be pruned",
			st.Invoices+st.Proformas, counts.Invoices+counts.Proformas)
	}
	compare(t, ok)

	// The proformas' listing (pages of 500, where the high-water marks ask
	// for one record) fails for good once the invoices' listing beside it
	// has written every invoice it will.
	var e *env
	inWindow := 0
	var proformaGets, invoiceGets atomic.Int32
	hook := &hookTransport{before: func(r *http.Request) {
		if r.Method != http.MethodGet {
			return
		}
		if strings.HasSuffix(r.URL.Path, "/finance/invoices") {
			invoiceGets.Add(1)
		}
		if strings.HasSuffix(r.URL.Path, "/proforma-invoices") && r.URL.Query().Get("limit") == "500" && proformaGets.Add(1) == 1 {
			for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
				if c, err := e.db.Counts(ctx); err == nil && c.Invoices >= inWindow {
					break // every invoice the first sync writes is in
				}
			}
			e.sim.SetFault("admin/finance/proforma-invoices", splynxsim.Fault{ErrorRate: 1, Status: 500})
		}
	}}
	e = newEnvWith(t, splynxsim.Options{}, rangeSeed, mirror.Options{PageSize: 500, HistoryMonths: mirror.DefaultHistoryMonths}, 0, hook)
	cut := store.FormatDate(e.clk.Now().AddDate(0, -mirror.DefaultHistoryMonths, 0))
	for id := int64(1); id <= 3000; id++ {
		if v, ok := e.sim.Invoice(id); ok && !((v.Status == "paid" || v.Status == "deleted") && store.FormatDate(v.DateCreated) < cut) {
			inWindow++
		}
	}
	if _, err := e.eng.Full(ctx); err == nil {
		t.Fatal("first sync succeeded with proformas failing")
	}
	mid, _ := e.db.Counts(ctx)
	if mid.Invoices != inWindow {
		t.Fatalf("failed first sync left %d invoices (%d invoice GETs); want the %d in the window", mid.Invoices, invoiceGets.Load(), inWindow)
	}
	invs, err := e.db.ListInvoices(ctx, store.InvoiceFilter{Limit: 5000})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range invs {
		if (v.Status == "paid" || v.Status == "deleted") && store.FormatDate(v.DateCreated) < cut {
			t.Fatalf("failed first sync wrote invoice %d, %s on %s, outside the window", v.ID, v.Status, store.FormatDate(v.DateCreated))
		}
	}
	if n, err := e.db.DeferredIndexes(ctx); err != nil || n != 0 {
		t.Fatalf("a failed first sync left %d mirror indexes unbuilt (%v)", n, err)
	}

	e.sim.ClearFaults()
	st, err = e.eng.Full(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.OutOfWindow != 0 {
		t.Fatalf("second pass (tables no longer empty) left out %d documents; it must write them so old copies are corrected", st.OutOfWindow)
	}
	compare(t, e)
}
