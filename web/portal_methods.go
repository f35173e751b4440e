package web

// Payment credentials page (<prefix>/methods): the saved method with its
// status, add (or replace with) a card or a bank account, remove.

import (
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/splynx-pay/splynx-pay/gateways"
	"github.com/splynx-pay/splynx-pay/store"
)

// NewDetails is what the card and bank forms need (templates "cardfields"
// and "bankfields" in portal/base.html).
type NewDetails struct {
	Card   cardForm
	Bank   bankForm
	BankOK bool
	Ag     agreement
	Kind   string // integrapay | ippay
	// Hosted: card and bank numbers are typed on the gateway's own pages
	// (card_entry = hosted); no number field is rendered.
	Hosted bool
	Months []string
	Years  []string
}

func (p *portal) NewDetails(b *backend) NewDetails {
	k := p.kind(b.set)
	d := NewDetails{BankOK: bankOffered(k, b.set), Ag: agreementFor(k), Kind: string(k), Hosted: p.hostedMode(b)}
	d.Months, d.Years = expiryChoices(p.now())
	d.Bank.AccountType = "CHECKING"
	return d
}

type methodsData struct {
	NewDetails
	Methods []store.SavedMethodRow
	Notice  string
	Error   string
	Open    string // the form to show open: card | bank
}

// expiryChoices are the months and the years a card can still expire in.
func expiryChoices(now time.Time) ([]string, []string) {
	var ms, ys []string
	for m := 1; m <= 12; m++ {
		ms = append(ms, fmt.Sprintf("%02d", m))
	}
	for y := now.Year(); y <= now.Year()+15; y++ {
		ys = append(ys, strconv.Itoa(y))
	}
	return ms, ys
}

// optionsTmpl is a select's options with the chosen one marked, as the
// card form's expiry month and year show them.
var optionsTmpl = template.Must(template.New("options").Parse(
	`{{range .Values}}<option value="{{.}}"{{if eq . $.Chosen}} selected{{end}}>{{.}}</option>{{end}}`))

// options is the template function behind {{options .Months .Card.ExpMonth}}:
// the expiry selects were half the pay page's rendering time (28 options,
// three template calls each), and every form shows the same few.
func (p *portal) options(values []string, chosen string) (template.HTML, error) {
	if !slices.Contains(values, chosen) {
		chosen = "" // marks none, as any other value not listed; keeps the keys few
	}
	return p.frags.render(chosen+"\x00"+strings.Join(values, "\x00"), optionsTmpl, struct {
		Values []string
		Chosen string
	}{values, chosen})
}

// blank reports a form nobody has typed into yet, as every pay, methods and
// refill page first shows it.
func (d NewDetails) blank() bool {
	c, b := d.Card, d.Bank
	return c.Name == "" && c.ExpMonth == "" && c.ExpYear == "" && len(c.Errors) == 0 &&
		b.Name == "" && !b.Accepted && len(b.Errors) == 0
}

// formFields is the template function behind {{formfields "cardfields"
// .NewDetails}} (and "bankfields"): a blank form is rendered once per add-on,
// agreement and expiry years and then reused (its escapers and field
// look-ups were most of what is left of the pay page's rendering); a form
// shown again with values or mistakes is rendered as it is.
func (p *portal) formFields(name string, d NewDetails) (template.HTML, error) {
	t := p.fields.Lookup(name)
	if t == nil {
		return "", fmt.Errorf("web: no form template %q", name)
	}
	if !d.blank() {
		var b strings.Builder
		err := t.Execute(&b, d)
		return template.HTML(b.String()), err // html/template's own escaped output
	}
	// Everything a blank form's markup depends on (the agreement's version
	// carries a hash of its text).
	key := []string{name, d.Kind, d.Bank.AccountType, d.Ag.Title, d.Ag.Version}
	key = append(append(key, d.Months...), d.Years...)
	return p.frags.render(strings.Join(key, "\x00"), t, d)
}

// liveMethods is what a customer sees as their method: the newest one they
// saved, unless it was removed (active, or needing an update after a
// decline; an older one was replaced by it).
func liveMethods(r *http.Request, b *backend, customerID int64) []store.SavedMethodRow {
	ms, err := b.db.ListMethods(r.Context(), customerID)
	if err != nil || len(ms) == 0 || ms[len(ms)-1].Status == store.MethodRemoved {
		return nil
	}
	return ms[len(ms)-1:]
}

func (p *portal) methodsData(r *http.Request, b *backend, v visitor) methodsData {
	d := methodsData{NewDetails: p.NewDetails(b), Methods: liveMethods(r, b, v.CustomerID)}
	switch r.URL.Query().Get("done") {
	case "saved":
		d.Notice = "Your payment method was saved. It will be used for your next payments."
	case "removed":
		d.Notice = "Your payment method was removed. Nothing more will be charged to it."
	}
	return d
}

func (p *portal) methodsPage(w http.ResponseWriter, r *http.Request, b *backend, v visitor) {
	p.render(w, r, http.StatusOK, "methods.html", "Payment method", portalPage{Gateway: b.gatewayName(), Kind: string(p.kind(b.set)),
		Body: p.methodsData(r, b, v)})
}

func (p *portal) addCard(w http.ResponseWriter, r *http.Request, b *backend, v visitor) {
	p.addMethod(w, r, b, v, "card")
}

func (p *portal) addBank(w http.ResponseWriter, r *http.Request, b *backend, v visitor) {
	p.addMethod(w, r, b, v, "bank")
}

func (p *portal) addMethod(w http.ResponseWriter, r *http.Request, b *backend, v visitor, method string) {
	_, cf, bf, msg := p.saveNew(r.Context(), r, b, v.CustomerID, method)
	if msg != "" {
		d := p.methodsData(r, b, v)
		d.Error, d.Open = msg, method
		if method == "card" {
			d.Card = cf
		} else {
			d.Bank = bf
		}
		p.render(w, r, http.StatusUnprocessableEntity, "methods.html", "Payment method", portalPage{Gateway: b.gatewayName(),
			Kind: string(p.kind(b.set)), Body: d})
		return
	}
	http.Redirect(w, r, p.s.Prefix()+"/methods?done=saved", http.StatusSeeOther)
}

func (p *portal) removeMethod(w http.ResponseWriter, r *http.Request, b *backend, v visitor) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		p.fail(w, r, http.StatusNotFound, "This payment method does not exist.", nil)
		return
	}
	m, err := b.db.GetMethod(r.Context(), id)
	// Another customer's method is "not found", exactly like a missing one.
	if err != nil || m.CustomerID != v.CustomerID || m.Status == store.MethodRemoved {
		if err == nil && m.CustomerID != v.CustomerID {
			p.s.Logger().Warn("portal: remove of another customer's method refused", zap.Int64("customer_id", v.CustomerID),
				zap.Int64("method_id", id), zap.Int64("owner_id", m.CustomerID))
		}
		p.fail(w, r, http.StatusNotFound, "This payment method does not exist.", nil)
		return
	}
	if err := b.en.RemoveMethod(r.Context(), id); err != nil {
		p.fail(w, r, http.StatusBadGateway, "We could not remove the payment method right now. Please try again in a few minutes.", err)
		return
	}
	m.Status = store.MethodRemoved
	p.showInSplynx(r.Context(), b, m)
	p.s.Logger().Info("portal: payment method removed", zap.Int64("customer_id", v.CustomerID), zap.Int64("method_id", id))
	http.Redirect(w, r, p.s.Prefix()+"/methods?done=removed", http.StatusSeeOther)
}

// addBankHosted sends the customer to the gateway's eDDR page, where they
// enter the account and accept the Direct Debit Request (card_entry = hosted).
func (p *portal) addBankHosted(w http.ResponseWriter, r *http.Request, b *backend, v visitor) {
	if !p.hostedMode(b) || !bankOffered(p.kind(b.set), b.set) {
		p.fail(w, r, http.StatusNotFound, "This page does not exist.", nil)
		return
	}
	p.startHosted(w, r, b, hostedStart{customerID: v.CustomerID, kind: gateways.HostedBank, next: "/methods?done=saved"})
}
