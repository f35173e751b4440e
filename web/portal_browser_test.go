package web

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/splynx-pay/splynx-pay/internal/browsertest"
	"github.com/splynx-pay/splynx-pay/internal/config"
	"github.com/splynx-pay/splynx-pay/internal/money"
	"github.com/splynx-pay/splynx-pay/splynx/splynxsim"
	"github.com/splynx-pay/splynx-pay/store"
)

// TestPortalInBrowser clicks through each add-on's customer pages as a
// person would, in headless Chromium, without JavaScript of ours: log in,
// save a card and pay an invoice with it, save a bank account accepting the
// DDR / ACH authorisation and pay a proforma with it, top up the balance,
// remove the method, and pay each of the four direct links with a new card.
// After each payment it checks the Splynx simulator's payments and the
// gateway simulator's ledger; at the end, the leak test.
func TestPortalInBrowser(t *testing.T) {
	for _, k := range bothAddons {
		t.Run(string(k), func(t *testing.T) {
			ps := newPortalSite(t, k)
			br := browsertest.New(t)
			tab := br.Tab(t)
			shot := func(name string) { tab.Shot(fmt.Sprintf("%s-%s", k, name)) }
			wantPaid := func(step string, payments int, splynxCents int64, charges int, ledgerCents int64) {
				t.Helper()
				if n, c := ps.splynxPaid(); n != payments || c != splynxCents {
					t.Fatalf("%s: Splynx has %d payments, %d cents; want %d, %d", step, n, c, payments, splynxCents)
				}
				if n, c := ps.ledger(); n != charges || c != ledgerCents {
					t.Fatalf("%s: gateway ledger has %d charges, %d cents; want %d, %d", step, n, c, charges, ledgerCents)
				}
			}

			// Log in with the portal login.
			tab.Go(ps.url("/invoices"))
			shot("01-login")
			tab.Fill("#login", johnLogin)
			tab.Fill("#password", johnPassword)
			tab.Click("button[type=submit]")
			if body := tab.Body(); !strings.Contains(body, "Invoice 2026110001") || !strings.Contains(body, "25.00") {
				t.Fatalf("invoices after login: %s", body)
			}
			shot("02-invoices")

			// Save a card.
			tab.Go(ps.url("/methods"))
			shot("03-methods-empty")
			tab.Fill("#add-card #card_number", "4111 1111 1111 1112")
			tab.Select("#add-card select[name=exp_month]", "12")
			tab.Select("#add-card select[name=exp_year]", "2030")
			tab.Fill("#add-card #cvv", testCVV)
			tab.Fill("#add-card #card_name", "John Smith")
			tab.Click("#add-card button[type=submit]")
			if body := tab.Body(); !strings.Contains(body, "This card number is not valid") || value(tab, "#add-card #card_name") != "John Smith" {
				t.Fatalf("bad card number: %s", body)
			}
			shot("04-card-error")
			tab.Fill("#add-card #card_number", "4111 1111 1111 1111")
			tab.Select("#add-card select[name=exp_month]", "12")
			tab.Select("#add-card select[name=exp_year]", "2030")
			tab.Fill("#add-card #cvv", testCVV)
			tab.Click("#add-card button[type=submit]")
			if body := tab.Text("#saved"); !strings.Contains(body, "1111") || !strings.Contains(body, "active") {
				t.Fatalf("saved card: %s", body)
			}
			shot("05-card-saved")

			// Pay an invoice with it.
			tab.Go(ps.url("/invoices"))
			tab.Click(fmt.Sprintf(`a[href="%s/pay/invoice/%d"]`, ps.prefix, ps.inv1))
			shot("06-pay")
			tab.Click("form button.btn-primary[type=submit]")
			if body := tab.Body(); !strings.Contains(body, "Payment approved") {
				t.Fatalf("pay result: %s", body)
			}
			shot("07-approved")
			wantPaid("invoice by saved card", 1, 2500, 1, 2500)
			// Reloading the result, and the pay page, charges nothing more.
			tab.Go(tab.URL())
			tab.Go(ps.url(fmt.Sprintf("/pay/invoice/%d", ps.inv1)))
			if !strings.Contains(tab.Body(), "Payment approved") {
				t.Fatalf("pay page of a paid invoice: %s", tab.Body())
			}
			wantPaid("reload", 1, 2500, 1, 2500)

			// A decline (an expired-card answer: .54 in both simulators).
			ps.sp.UpdateInvoice(ps.inv2, func(i *splynxsim.Invoice) { i.Total, i.Due = 3054, 3054 })
			tab.Go(ps.url(fmt.Sprintf("/pay/invoice/%d", ps.inv2)))
			tab.Click("form button.btn-primary[type=submit]")
			if body := tab.Body(); !strings.Contains(body, "Payment declined") || !strings.Contains(body, "What to do next") {
				t.Fatalf("declined: %s", body)
			}
			shot("07b-declined")
			wantPaid("declined", 1, 2500, 1, 2500)

			// Save a bank account, accepting the authorisation.
			tab.Go(ps.url("/methods"))
			if !strings.Contains(tab.Text("#saved"), "needs update") {
				t.Fatalf("card after the decline: %s", tab.Text("#saved"))
			}
			shot("07c-needs-update")
			if k == config.IPpay {
				tab.Fill("#add-bank #routing", testABA)
				tab.Fill("#add-bank #account_number", testUSAcct)
				tab.Select("#add-bank #account_type", "SAVINGS")
			} else {
				tab.Fill("#add-bank #bsb", "062-000")
				tab.Fill("#add-bank #account_number", testAUAcct)
			}
			tab.Fill("#add-bank #account_name", "John Smith")
			shot("08-bank-form")
			tab.Click("#add-bank button[type=submit]")
			if !strings.Contains(tab.Body(), "tick the box to accept") {
				t.Fatalf("bank without acceptance: %s", tab.Body())
			}
			if k == config.IPpay {
				tab.Fill("#add-bank #routing", testABA)
				tab.Fill("#add-bank #account_number", testUSAcct)
			} else {
				tab.Fill("#add-bank #bsb", "062-000")
				tab.Fill("#add-bank #account_number", testAUAcct)
			}
			tab.Check("#add-bank input[name=accept]")
			tab.Click("#add-bank button[type=submit]")
			if body := tab.Text("#saved"); !strings.Contains(body, "Debit authorisation accepted") {
				t.Fatalf("saved bank account: %s", body)
			}
			shot("09-bank-saved")
			m, err := ps.db.ActiveMethod(t.Context(), ps.john)
			if err != nil || m.Kind != "bank" || m.AuthText != agreementFor(k).Version || m.AuthAcceptedAt.IsZero() || m.AuthIP == "" {
				t.Fatalf("bank method row: %+v %v", m, err)
			}

			// Pay the proforma by bank: pending.
			tab.Go(ps.url(fmt.Sprintf("/pay/proforma/%d", ps.pf1)))
			tab.Click("form button.btn-primary[type=submit]")
			if body := tab.Body(); !strings.Contains(body, "Bank debits take 2–5 business days") {
				t.Fatalf("bank payment: %s", body)
			}
			shot("10-bank-pending")
			wantPaid("proforma by bank", 1, 2500, 2, 6500)

			// Top up the balance with a new card (the saved method is the bank account).
			tab.Go(ps.url("/"))
			tab.Fill("#amount", "1e3")
			tab.Click("form button.btn-primary[type=submit]")
			if body := tab.Body(); !strings.Contains(body, "Enter an amount in dollars and cents") || value(tab, "#amount") != "1e3" {
				t.Fatalf("bad amount: %s", body)
			}
			shot("11-refill-error")
			tab.Fill("#amount", "20.00")
			tab.Click("input[name=type][value=card]")
			tab.Click("form button.btn-primary[type=submit]")
			tab.Fill("#card_number", testCard2)
			tab.Select("select[name=exp_month]", "01")
			tab.Select("select[name=exp_year]", "2029")
			tab.Fill("#cvv", testCVV)
			tab.Fill("#card_name", "John Smith")
			shot("12-refill-card")
			tab.Click("form button.btn-primary[type=submit]")
			if body := tab.Body(); !strings.Contains(body, "Payment approved") || !strings.Contains(body, "Balance top-up") {
				t.Fatalf("refill: %s", body)
			}
			shot("13-refill-approved")
			wantPaid("refill", 2, 4500, 3, 8500)

			// Remove the saved method.
			tab.Go(ps.url("/methods"))
			shot("14-before-remove")
			tab.Click("#saved button[name=remove]")
			if body := tab.Body(); !strings.Contains(body, "Your payment method was removed") || !strings.Contains(body, "You have no saved payment method") {
				t.Fatalf("remove: %s", body)
			}
			shot("15-removed")
			if ms, _ := ps.db.ListMethods(t.Context(), ps.john, store.MethodActive); len(ms) != 0 {
				t.Fatalf("still active: %+v", ms)
			}

			// The four direct links, from another browser without a session.
			i1 := ps.sp.AddInvoice(splynxsim.Invoice{CustomerID: ps.john, Number: "2026110010", Total: money.MustParse("11.00")})
			i2 := ps.sp.AddInvoice(splynxsim.Invoice{CustomerID: ps.john, Number: "2026110011", Total: money.MustParse("12.00")})
			p1 := ps.sp.AddProforma(splynxsim.Proforma{CustomerID: ps.john, Number: "PF-0010", Total: money.MustParse("13.00"), Status: "not_paid"})
			p2 := ps.sp.AddProforma(splynxsim.Proforma{CustomerID: ps.john, Number: "PF-0011", Total: money.MustParse("14.00"), Status: "not_paid"})
			ps.mirror()
			_ = i1
			_ = p1
			other := browsertest.New(t).Tab(t)
			payments, splynxCents, charges, ledgerCents := 2, int64(4500), 3, int64(8500)
			for n, l := range []struct {
				path  string
				cents int64
			}{
				{"/direct-pay-invoice?item_id=2026110010", 1100},
				{fmt.Sprintf("/direct-pay-invoice-by-id?item_id=%d", i2), 1200},
				{"/direct-pay-proforma?item_id=PF-0010", 1300},
				{fmt.Sprintf("/direct-pay-proforma-by-id?item_id=%d", p2), 1400},
			} {
				other.Go(ps.url(l.path))
				if body := other.Body(); !strings.Contains(body, "J*** S****") || !strings.Contains(body, money.Amount(l.cents).String()) {
					t.Fatalf("%s: %s", l.path, body)
				}
				if n == 0 {
					other.Shot(fmt.Sprintf("%s-16-direct-link", k))
				}
				if other.Exists("input[name=use][value=saved]") {
					t.Fatalf("%s: a direct link offers a saved method that was removed", l.path)
				}
				other.Fill("#card_number", testCard)
				other.Select("select[name=exp_month]", "12")
				other.Select("select[name=exp_year]", "2030")
				other.Fill("#cvv", testCVV)
				other.Fill("#card_name", "J Smith")
				other.Click("form button.btn-primary[type=submit]")
				if body := other.Body(); !strings.Contains(body, "Payment approved") {
					t.Fatalf("%s result: %s", l.path, body)
				}
				payments, splynxCents, charges, ledgerCents = payments+1, splynxCents+l.cents, charges+1, ledgerCents+l.cents
				wantPaid(l.path, payments, splynxCents, charges, ledgerCents)
			}
			other.Shot(fmt.Sprintf("%s-17-direct-approved", k))
			if ms, _ := ps.db.ListMethods(t.Context(), ps.john, store.MethodActive); len(ms) != 0 {
				t.Fatalf("a direct link kept the card: %+v", ms)
			}

			// Readable on a phone.
			phone := br.Tab(t)
			phone.Do("phone viewport", chromedp.EmulateViewport(390, 844))
			phone.Go(ps.url("/invoices"))
			phone.Shot(fmt.Sprintf("%s-18-phone-invoices", k))
			if w := browsertest.Eval[float64](phone, `document.documentElement.scrollWidth`); w > 400 {
				t.Errorf("invoices page is %v px wide on a 390 px phone", w)
			}
			phone.Go(ps.url("/methods"))
			phone.Shot(fmt.Sprintf("%s-19-phone-methods", k))
			if w := browsertest.Eval[float64](phone, `document.documentElement.scrollWidth`); w > 400 {
				t.Errorf("methods page is %v px wide on a 390 px phone", w)
			}

			ps.checkNoLeaks(t)
		})
	}
}

// checkNoLeaks looks for every test card number, CVV, BSB+account and
// ABA+account in the database file (WAL and free pages included, read as
// bytes), the daemon's log and every page the site served.
func (ps *portalSite) checkNoLeaks(t *testing.T) {
	t.Helper()
	places := map[string][]byte{"log": []byte(ps.logs.String()), "served pages": []byte(ps.served.String())}
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if b, err := os.ReadFile(ps.dbPath + suffix); err == nil {
			places["database"+suffix] = b
		}
	}
	if len(places["database"]) == 0 || len(places["served pages"]) == 0 || len(places["log"]) == 0 {
		t.Fatalf("leak test has nothing to read: %d database bytes, %d page bytes, %d log bytes",
			len(places["database"]), len(places["served pages"]), len(places["log"]))
	}
	for where, b := range places {
		for _, s := range append(ps.secrets(), testCVV) {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("%q found in the %s", s, where)
			}
		}
	}
}

// value is a form field's current value (what the page kept).
func value(tab *browsertest.Tab, sel string) string {
	return browsertest.Eval[string](tab, fmt.Sprintf(`document.querySelector(%q).value`, sel))
}

// TestPortalFromSplynxPortalInBrowser opens the pages as a customer coming
// from the Splynx portal does: the browser holds the portal's session
// cookie, so no login form is shown.
func TestPortalFromSplynxPortalInBrowser(t *testing.T) {
	ps := newPortalSite(t, config.IPpay)
	tab := browsertest.New(t).Tab(t)
	tab.Go(ps.url("/healthz"))
	browsertest.Eval[string](tab, fmt.Sprintf(`document.cookie = "PHPSESSID=%s; path=/"`, ps.johnSID))
	tab.Go(ps.url("/invoices"))
	if body := tab.Body(); !strings.Contains(body, "Make a payment") || !strings.Contains(body, "Invoice 2026110001") ||
		!strings.Contains(body, "John Smith") || strings.Contains(body, "Log out") {
		t.Fatalf("opened from the portal: %s", body)
	}
	tab.Go(ps.url("/widget"))
	if body := tab.Body(); !strings.Contains(body, "Invoice 2026110001") {
		t.Fatalf("widget: %s", body)
	}
	tab.Shot("ippay-20-widget")
}
