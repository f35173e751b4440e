package mirror_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

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

	// The proformas' listing fails for good once the pass has read its
	// high-water marks (the newest proforma among them).
	var e *env
	proformaGets := 0
	hook := &hookTransport{before: func(r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/proforma-invoices") && r.Method == http.MethodGet {
			if proformaGets++; proformaGets == 2 {
				e.sim.SetFault("admin/finance/proforma-invoices", splynxsim.Fault{ErrorRate: 1, Status: 500})
			}
		}
	}}
	e = newEnvWith(t, splynxsim.Options{}, rangeSeed, mirror.Options{PageSize: 500, HistoryMonths: mirror.DefaultHistoryMonths}, 0, hook)
	if _, err := e.eng.Full(ctx); err == nil {
		t.Fatal("first sync succeeded with proformas failing")
	}
	mid, _ := e.db.Counts(ctx)
	if mid.Invoices == 0 || mid.Invoices >= 3000 {
		t.Fatalf("failed first sync left %d invoices; want the ones in the window", mid.Invoices)
	}
	cut := store.FormatDate(e.clk.Now().AddDate(0, -mirror.DefaultHistoryMonths, 0))
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
