package web

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/splynx-pay/splynx-pay/internal/browsertest"
	"github.com/splynx-pay/splynx-pay/store"
)

// A clerk finds a charge in review on the Charge page, clicks "It was
// charged", reads the confirm step (no JavaScript: a second form), first
// cancels, then confirms; the payment reaches Splynx once.
func TestBrowserChargePageDecideAsksFirst(t *testing.T) {
	st := newStaffSite(t)
	ctx := context.Background()
	review := reviewAttempt(t, st)
	site := httptest.NewServer(behindNginx(st.server.Handler()))
	t.Cleanup(site.Close)
	base := site.URL + "/integrapay"
	tab := browsertest.New(t).Tab(t)
	t.Cleanup(func() {
		if t.Failed() {
			tab.Shot("failed-charge-page-decide")
			t.Logf("page at failure: %s\n%.3000s", tab.URL(), tab.Body())
		}
	})
	tab.Go(base + "/healthz")
	browsertest.Eval[string](tab, fmt.Sprintf(`document.cookie = "PHPSESSID=%s; path=/"`, st.adminSID))
	paymentsBefore := len(st.sp.Payments())

	tab.Go(base + "/charges")
	if body := tab.Body(); !strings.Contains(body, review.Reference) || !strings.Contains(body, "It was charged") {
		t.Fatalf("Charge page: %s", body)
	}
	charged := `button[name="decision"][value="charged"]`
	clickTo(t, tab, charged, "#decide-go")
	tab.Shot("charge-page-decide-confirm")
	if body := tab.Body(); !strings.Contains(body, "Record that "+review.Reference+" was charged?") || !strings.Contains(body, "50.00") {
		t.Fatalf("confirm step: %s", body)
	}
	if a, _ := st.db.GetAttempt(ctx, review.ID); a.State != store.StateReview {
		t.Fatalf("decided by the first click: %s", a.State)
	}
	clickTo(t, tab, "#decide-cancel", charged)
	if a, _ := st.db.GetAttempt(ctx, review.ID); a.State != store.StateReview {
		t.Fatalf("decided by Cancel: %s", a.State)
	}

	clickTo(t, tab, charged, "#decide-go")
	clickTo(t, tab, "#decide-go", "h1")
	if body := tab.Body(); strings.Contains(body, review.Reference) {
		t.Fatalf("the decided charge is still open: %s", body)
	}
	tab.Shot("charge-page-decided")
	a, _ := st.db.GetAttempt(ctx, review.ID)
	if a.State != store.StateRecorded && a.State != store.StateApproved {
		t.Fatalf("after the confirm: %s", a.State)
	}
	if got := st.sp.Payments(); len(got) != paymentsBefore+1 || int64(got[len(got)-1].Amount) != 5000 ||
		got[len(got)-1].CustomerID != st.card {
		t.Fatalf("Splynx payments: %+v", got)
	}
}
