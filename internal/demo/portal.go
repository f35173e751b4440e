package demo

import (
	"context"
	"fmt"
	"io"

	"github.com/splynx-pay/splynx-pay/store"
)

// PortalPassword is the portal password of the demo's customers with
// unpaid invoices, printed with their logins.
const PortalPassword = "demo-pass"

// portalLogins gives up to n customers with an unpaid invoice a portal
// password in the simulated Splynx, and prints their logins and ready
// links to the customer pages (issue 13).
func portalLogins(ctx context.Context, e *Env, w io.Writer, n int) {
	invs, err := e.DB.ListInvoices(ctx, store.InvoiceFilter{Statuses: []string{"not_paid"}, Limit: 200})
	if err != nil || len(invs) == 0 {
		return
	}
	fmt.Fprintf(w, "\nCustomer pages (log in with a portal login below, password %s)\n", PortalPassword)
	seen := map[int64]bool{}
	var direct store.Invoice
	for _, inv := range invs {
		if len(seen) == n {
			break
		}
		if seen[inv.CustomerID] {
			continue
		}
		c, err := e.DB.GetCustomer(ctx, inv.CustomerID)
		if err != nil || c.Login == "" {
			continue
		}
		seen[inv.CustomerID] = true
		e.Splynx.SetCustomerPassword(c.ID, c.Login, PortalPassword)
		fmt.Fprintf(w, "  %-24s login %-12s invoice %s due %s\n", c.Name, c.Login, inv.Number, inv.Due)
		if direct.ID == 0 {
			direct = inv
		}
	}
	fmt.Fprintf(w, "  log in, unpaid invoices   %s/invoices\n", e.WebURL)
	fmt.Fprintf(w, "  payment method            %s/methods\n", e.WebURL)
	fmt.Fprintf(w, "  top up the balance        %s/\n", e.WebURL)
	fmt.Fprintf(w, "  dashboard widget          %s/widget\n", e.WebURL)
	if direct.ID != 0 {
		fmt.Fprintf(w, "  direct link (no login)    %s/direct-pay-invoice?item_id=%s\n", e.WebURL, direct.Number)
		fmt.Fprintf(w, "  direct link by id         %s/direct-pay-invoice-by-id?item_id=%d\n", e.WebURL, direct.ID)
	}
	fmt.Fprintf(w, "  test card 4111 1111 1111 1111, any CVV, a future expiry\n")
	if e.Settings.CardEntry == "hosted" {
		fmt.Fprintf(w, "  card_entry=hosted: new cards and bank accounts are typed on the simulated IntegraPay pages (BSB 062000)\n")
	}
}
