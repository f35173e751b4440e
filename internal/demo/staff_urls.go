package demo

import (
	"context"
	"fmt"
	"io"

	"github.com/splynx-pay/splynx-pay/store"
)

// printStaffPages lists the staff pages (issue 14) for the summary; the
// customer tab opens on a customer who has a saved method.
func printStaffPages(w io.Writer, e *Env) {
	fmt.Fprintf(w, "  collections overview (staff)\t%s/admin\n", e.WebURL)
	if ms, err := e.DB.ListMethods(context.Background(), 0, store.MethodActive); err == nil && len(ms) > 0 {
		fmt.Fprintf(w, "  customer tab (staff)\t%s/admin/customer?id=%d\n", e.WebURL, ms[0].CustomerID)
	}
	fmt.Fprintf(w, "  audit trail (staff)\t%s/admin/audit\n", e.WebURL)
	fmt.Fprintf(w, "  metrics (Prometheus)\t%s/metrics\n", e.WebURL)
	fmt.Fprintf(w, "  staff login\tnone: on 127.0.0.1 the demo pages treat you as a Splynx administrator\n")
}
