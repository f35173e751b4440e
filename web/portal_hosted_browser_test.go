package web

import (
	"fmt"
	"strings"
	"testing"

	"github.com/splynx-pay/splynx-pay/internal/browsertest"
	"github.com/splynx-pay/splynx-pay/internal/config"
)

// TestHostedEntryInBrowser clicks through card_entry = hosted as a person
// would, in headless Chromium: add a bank account on IntegraPay's eDDR page
// (the simulator's), accepting the Direct Debit Request there, then pay an
// invoice with a new card on the HPP page. Our pages never show a card or
// bank number field; the Splynx simulator's payment and the gateway's
// ledger are checked, then the leak test (database, log, our served HTML).
func TestHostedEntryInBrowser(t *testing.T) {
	ps := newPortalSite(t, config.IntegraPay, hostedEntry)
	tab := browsertest.New(t).Tab(t)
	shot := func(name string) { tab.Shot("integrapay-hosted-" + name) }
	ours := func(where string) {
		t.Helper()
		if !strings.HasPrefix(tab.URL(), ps.srv.URL) {
			t.Fatalf("%s: not on our pages: %s", where, tab.URL())
		}
		noNumberFields(t, where, tab.HTML())
	}

	tab.Go(ps.url("/methods"))
	tab.Fill("#login", johnLogin)
	tab.Fill("#password", johnPassword)
	tab.Click("button[type=submit]")
	ours("methods")
	if body := tab.Body(); !strings.Contains(body, "saved with your first card payment") || !strings.Contains(body, "Continue to IntegraPay's secure page") {
		t.Fatalf("methods page: %s", body)
	}
	shot("01-methods")

	// The bank account, on the gateway's eDDR page.
	tab.Click("#hosted-bank")
	if !strings.Contains(tab.URL(), "/ui/eddr/api/") || !tab.Exists("#ddr_accept") {
		t.Fatalf("not on the eDDR page: %s %s", tab.URL(), tab.Body())
	}
	tab.Fill("#bsb", testBSB)
	tab.Fill("#account_number", testAUAcct)
	tab.Fill("#account_name", "John Smith")
	tab.Check("#ddr_accept")
	shot("02-gateway-eddr")
	tab.Click("#hosted-submit")
	ours("methods after eDDR")
	if body := tab.Text("#saved"); !strings.Contains(body, "IntegraPay eDDR account") || !strings.Contains(body, "Debit authorisation accepted") {
		t.Fatalf("after eDDR: %s", tab.Body())
	}
	shot("03-bank-saved")
	m, err := ps.db.ActiveMethod(t.Context(), ps.john)
	if err != nil || m.Kind != "bank" || !strings.HasPrefix(m.AuthText, "integrapay-eddr:") || m.AuthAcceptedAt.IsZero() {
		t.Fatalf("bank method: %+v %v", m, err)
	}

	// An invoice paid with a new card on the HPP page.
	tab.Go(ps.url(fmt.Sprintf("/pay/invoice/%d", ps.inv1)))
	tab.Click("input[name=use][value=new]")
	tab.Click("#new-details summary")
	ours("pay page")
	shot("04-pay")
	tab.Click("form button.btn-primary[type=submit]")
	if !strings.Contains(tab.URL(), "/ui/hpp/api/") || !strings.Contains(tab.Text("#hosted-amount"), "25.00") {
		t.Fatalf("not on the HPP page: %s %s", tab.URL(), tab.Body())
	}
	tab.Fill("#card_number", testCard)
	tab.Fill("#exp_month", "12")
	tab.Fill("#exp_year", "2030")
	tab.Fill("#ccv", testCVV)
	shot("05-gateway-hpp")
	tab.Click("#hosted-submit")
	ours("result")
	if body := tab.Body(); !strings.Contains(body, "Payment approved") || !strings.Contains(body, "Invoice 2026110001") {
		t.Fatalf("result: %s", body)
	}
	shot("06-approved")
	if n, c := ps.splynxPaid(); n != 1 || c != 2500 {
		t.Fatalf("Splynx has %d payments, %d cents", n, c)
	}
	if n, c := ps.ledger(); n != 1 || c != 2500 {
		t.Fatalf("gateway ledger has %d charges, %d cents", n, c)
	}
	// "Save" was left unticked: the bank account stays the saved method.
	if m, _ := ps.db.ActiveMethod(t.Context(), ps.john); m.Kind != "bank" {
		t.Fatalf("saved method after a one-off card: %+v", m)
	}
	tab.Go(ps.url("/"))
	ours("refill")
	shot("07-refill")
	ps.checkNoLeaks(t)
}
