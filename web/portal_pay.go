package web

// Invoices and proformas (<prefix>/invoices), the pay page
// (<prefix>/pay/{invoice|proforma}/{id}), the result of a payment
// (<prefix>/payments/{id}), the balance refill (<prefix>/) and the
// dashboard widget (<prefix>/widget). Charging is the engine's ChargeOne:
// it re-reads the document from Splynx, keeps one live attempt per
// document, persists the reference before the gateway call and resolves an
// unknown outcome later; these pages only ask and show.

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/splynx-pay/splynx-pay/gateways"
	"github.com/splynx-pay/splynx-pay/internal/money"
	"github.com/splynx-pay/splynx-pay/splynx"
	"github.com/splynx-pay/splynx-pay/store"
	"github.com/splynx-pay/splynx-pay/sync/charge"
	"github.com/splynx-pay/splynx-pay/sync/mirror"
)

// doc is an invoice or proforma as the pages show it.
type doc struct {
	Kind       string // invoice | proforma
	ID         int64
	Number     string
	CustomerID int64
	Date       time.Time
	DueDate    time.Time
	Total      int64
	Due        int64
	Status     string // not_paid | paid | pending | deleted
}

func (d doc) Label() string {
	if d.Kind == store.KindProforma {
		return "Proforma invoice " + d.Number
	}
	return "Invoice " + d.Number
}

func (d doc) chargeKey() string { return fmt.Sprintf("%s:%d", d.Kind, d.ID) }

func (d doc) PayPath() string { return fmt.Sprintf("/pay/%s/%d", d.Kind, d.ID) }

// Document states the pages tell apart.
const (
	docPayable = ""
	docPaid    = "paid"
	docGone    = "gone"
	docBusy    = "pending" // Splynx has a payment in process
)

// liveDoc re-reads an invoice or proforma from Splynx and says whether it
// can be paid.
func liveDoc(ctx context.Context, b *backend, kind string, id int64) (doc, string, error) {
	ctx, cancel := context.WithTimeout(splynx.Interactive(ctx), docReadTimeout)
	defer cancel()
	var d doc
	switch kind {
	case store.KindInvoice:
		inv, err := b.sp.GetInvoice(ctx, id)
		if splynx.IsNotFound(err) {
			return d, docGone, nil
		}
		if err != nil {
			return d, "", err
		}
		d = invoiceDoc(inv)
	case store.KindProforma:
		pf, err := b.sp.GetProforma(ctx, id)
		if splynx.IsNotFound(err) {
			return d, docGone, nil
		}
		if err != nil {
			return d, "", err
		}
		d = proformaDoc(pf)
	default:
		return d, docGone, nil
	}
	return d, docState(d), nil
}

type docRow struct {
	doc
	Attempt *store.AttemptBrief // the newest payment attempt, if any
	// The cells, worked out here once: a template method call per cell
	// (Label, Date.Format, money, path) goes through reflection, which was
	// most of the list's rendering time.
	Name    string // Label()
	Created string // date, "" if none
	Till    string // due date, "" if none
	Amount  string // amount due and currency
	Link    string // the pay page under the prefix
}

type invoicesData struct {
	Rows   []docRow
	Method *store.SavedMethodRow
	Error  string
}

// unpaidDocs lists the customer's unpaid invoices and proformas from the
// mirror; withAttempts adds each one's newest payment attempt (the list
// shows it, the widget does not).
func (p *portal) unpaidDocs(ctx context.Context, b *backend, customerID int64, withAttempts bool) ([]docRow, error) {
	ds, err := b.db.UnpaidDocuments(ctx, customerID, 200)
	if err != nil {
		return nil, err
	}
	rows := make([]docRow, len(ds))
	for i, d := range ds {
		r := docRow{doc: doc{Kind: d.Kind, ID: d.ID, Number: d.Number, CustomerID: d.CustomerID, Date: d.DateCreated,
			DueDate: d.DateTill, Total: int64(d.Total), Due: int64(d.Due), Status: d.Status}}
		r.Name, r.Created, r.Till = r.Label(), dayOf(r.Date), dayOf(r.DueDate)
		r.Amount, r.Link = d.Due.String()+" "+b.set.Currency, p.s.Prefix()+r.PayPath()
		rows[i] = r
	}
	if !withAttempts || len(rows) == 0 {
		return rows, nil
	}
	keys := make([]string, len(rows))
	for i := range rows {
		keys[i] = rows[i].chargeKey()
	}
	latest, err := b.db.NewestAttempts(ctx, keys)
	if err != nil {
		return rows, err
	}
	for i := range rows {
		if a, ok := latest[keys[i]]; ok {
			rows[i].Attempt = &a
		}
	}
	return rows, nil
}

// dayOf is t's date as the pages show it, "" for none.
func dayOf(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format("2006-01-02")
}

func activeMethod(ctx context.Context, b *backend, customerID int64) *store.SavedMethodRow {
	m, err := b.db.ActiveMethod(ctx, customerID)
	if err != nil {
		return nil
	}
	return &m
}

func (p *portal) invoicesPage(w http.ResponseWriter, r *http.Request, b *backend, v visitor) {
	rows, err := p.unpaidDocs(r.Context(), b, v.CustomerID, true)
	d := invoicesData{Rows: rows, Method: activeMethod(r.Context(), b, v.CustomerID)}
	if err != nil {
		p.s.Logger().Warn("portal: list invoices", zap.Int64("customer_id", v.CustomerID), zap.Error(err))
		d.Error = "We could not load your invoices right now. Please try again in a few minutes."
	}
	p.render(w, r, http.StatusOK, "invoices.html", "Make a payment", portalPage{Gateway: b.gatewayName(), Body: d})
}

// payData is the pay page.
type payData struct {
	NewDetails
	Doc      doc
	Fee      int64
	Total    int64
	Currency string
	Method   *store.SavedMethodRow
	Use      string // saved | new
	NewKind  string // card | bank
	Save     bool
	Error    string
	Action   string // form action under the prefix
	Direct   bool   // a direct payment link (no login)
	Masked   string // the customer's masked name (direct links)
	Sig      string // the pay form's link signature (signed direct links)
}

func docKind(s string) (string, bool) {
	switch s {
	case store.KindInvoice, store.KindProforma:
		return s, true
	}
	return "", false
}

// docFor reads the document of a pay request and checks it belongs to the
// visitor; it writes the answer itself when it returns false.
func (p *portal) docFor(w http.ResponseWriter, r *http.Request, b *backend, v visitor) (doc, bool) {
	kind, ok := docKind(r.PathValue("kind"))
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if !ok || err != nil || id <= 0 {
		p.fail(w, r, http.StatusNotFound, "This invoice does not exist.", nil)
		return doc{}, false
	}
	d, state, err := p.viewDoc(r, b, v, kind, id)
	if err != nil {
		p.fail(w, r, http.StatusServiceUnavailable, "We could not load this invoice right now. Please try again in a few minutes.", err)
		return d, false
	}
	if state == docGone || d.CustomerID != v.CustomerID {
		if state != docGone {
			p.s.Logger().Warn("portal: another customer's document refused", zap.Int64("customer_id", v.CustomerID),
				zap.String("kind", kind), zap.Int64("id", id), zap.Int64("owner_id", d.CustomerID))
		}
		p.gone(w, r, b)
		return d, false
	}
	return d, p.payableOrShow(w, r, b, d, state, false)
}

func (p *portal) gone(w http.ResponseWriter, r *http.Request, b *backend) {
	p.render(w, r, http.StatusNotFound, "result.html", "Invoice not found", portalPage{Gateway: b.gatewayName(),
		Body: resultData{Kind: "gone", Title: "This invoice no longer exists",
			Text: "The invoice you tried to pay is not in your account any more (it may have been cancelled or replaced). Nothing was charged."}})
}

// payableOrShow answers for a document that cannot be paid now: a live
// attempt (shown instead of charging again), paid, or in process.
func (p *portal) payableOrShow(w http.ResponseWriter, r *http.Request, b *backend, d doc, state string, direct bool) bool {
	if a, err := b.db.LatestAttempt(r.Context(), d.chargeKey()); err == nil && (a.State.Live() ||
		(a.State == store.StateRecorded && state != docPayable)) {
		http.Redirect(w, r, p.resultPath(a, direct), http.StatusSeeOther)
		return false
	}
	switch state {
	case docPaid:
		p.render(w, r, http.StatusOK, "result.html", "Already paid", portalPage{Gateway: b.gatewayName(),
			Body: resultData{Kind: "paid", Title: d.Label() + " is already paid", Doc: d.Label(), Direct: direct,
				Text: "There is nothing left to pay on this invoice. Thank you!"}})
		return false
	case docBusy:
		p.render(w, r, http.StatusOK, "result.html", "Payment in process", portalPage{Gateway: b.gatewayName(),
			Body: resultData{Kind: "pending", Title: "A payment of " + d.Label() + " is being processed", Doc: d.Label(), Direct: direct,
				Text: "A payment for this invoice is already on its way. Please do not pay again; the invoice is marked paid once the payment completes."}})
		return false
	}
	return true
}

func (p *portal) resultPath(a store.ChargeAttempt, direct bool) string {
	if direct {
		return p.s.Prefix() + "/direct-pay/result?ref=" + a.Reference
	}
	return fmt.Sprintf("%s/payments/%d", p.s.Prefix(), a.ID)
}

func (p *portal) payData(r *http.Request, b *backend, d doc) payData {
	fee := b.en.FeeFor(d.Due)
	pd := payData{NewDetails: p.NewDetails(b), Doc: d, Fee: fee, Total: d.Due + fee, Currency: b.set.Currency,
		Method: activeMethod(r.Context(), b, d.CustomerID), Use: "saved", NewKind: "card", Save: true, Action: d.PayPath()}
	if pd.Method == nil {
		pd.Use = "new"
	}
	if pd.Hosted && pd.Method != nil {
		// A new card replaces the saved method only when asked to.
		pd.Save = false
	}
	return pd
}

func (p *portal) payPage(w http.ResponseWriter, r *http.Request, b *backend, v visitor) {
	d, ok := p.docFor(w, r, b, v)
	if !ok {
		return
	}
	p.render(w, r, http.StatusOK, "pay.html", "Pay "+d.Label(), portalPage{Gateway: b.gatewayName(), Body: p.payData(r, b, d)})
}

func (p *portal) pay(w http.ResponseWriter, r *http.Request, b *backend, v visitor) {
	d, ok := p.docFor(w, r, b, v)
	if !ok {
		return
	}
	p.charge(w, r, b, d, false, "customer "+strconv.FormatInt(v.CustomerID, 10))
}

// charge pays document d as the pay form of r says: confirm the amount
// shown, save new details if given, ChargeOne, show the result.
func (p *portal) charge(w http.ResponseWriter, r *http.Request, b *backend, d doc, direct bool, who string) {
	pd := p.payData(r, b, d)
	pd.Direct = direct
	if direct {
		pd.Action = directAction(d)
		pd.Masked = maskedCustomer(r.Context(), b, d.CustomerID)
		pd.Sig = r.PostFormValue("sig")
	}
	pd.Use, pd.NewKind, pd.Save = r.PostFormValue("use"), r.PostFormValue("new_kind"), r.PostFormValue("save") == "1"
	again := func(status int, msg string) {
		pd.Error = msg
		p.render(w, r, status, "pay.html", "Pay "+d.Label(), portalPage{Gateway: b.gatewayName(), Body: pd})
	}
	// What the customer confirmed must still be what is due.
	if shown := r.PostFormValue("amount"); shown != money.Amount(pd.Total).String() {
		again(http.StatusConflict, "The amount due has changed to "+money.Amount(pd.Total).String()+" "+pd.Currency+". Please check it and confirm again.")
		return
	}
	oneOff := false
	switch pd.Use {
	case "saved":
		if pd.Method == nil {
			again(http.StatusUnprocessableEntity, "You have no saved payment method. Enter card or bank details below.")
			return
		}
	case "new":
		if direct && pd.Method != nil {
			// A link must not replace the customer's saved method.
			again(http.StatusUnprocessableEntity, "To pay with other details, log in to your customer portal.")
			return
		}
		if direct {
			pd.Save = false
		}
		if pd.Hosted {
			p.payHosted(w, r, b, d, pd, direct, again)
			return
		}
		m, cf, bf, msg := p.saveNew(r.Context(), r, b, d.CustomerID, pd.NewKind)
		if msg != "" {
			pd.Card, pd.Bank = cf, bf
			if pd.Card.Errors == nil {
				pd.Card = p.NewDetails(b).Card
			}
			again(http.StatusUnprocessableEntity, msg)
			return
		}
		// Unticked "save" can only mean "not kept" when nothing was saved
		// before: new details replace a saved method (the page says so).
		oneOff = !pd.Save && pd.Method == nil && m.Kind == string(gateways.Card)
		pd.Method = &m
	default:
		again(http.StatusUnprocessableEntity, "Choose how to pay.")
		return
	}
	it := charge.Item{Kind: d.Kind, Number: d.Number, CustomerID: d.CustomerID}
	if d.Kind == store.KindInvoice {
		it.InvoiceID = d.ID
	} else {
		it.ProformaID = d.ID
	}
	src := charge.SourcePortal
	a, skip, err := b.en.ChargeOne(splynx.Interactive(context.WithoutCancel(r.Context())), it, src, who)
	p.after(w, r, b, a, skip, err, oneOff, direct, d.chargeKey())
}

// after shows what a ChargeOne call did.
func (p *portal) after(w http.ResponseWriter, r *http.Request, b *backend, a *store.ChargeAttempt, skip string, err error, oneOff, direct bool, key string) {
	ctx := context.WithoutCancel(r.Context())
	p.docs.forget(key) // what pay pages showed of the document is out of date
	if a != nil {
		p.s.Logger().Info("portal payment", zap.Int64("customer_id", a.CustomerID), zap.Int64("attempt_id", a.ID),
			zap.String("charge", a.ChargeKey), zap.String("reference", a.Reference), zap.String("state", string(a.State)),
			zap.Bool("direct", direct))
		if a.State == store.StateApproved {
			// Record the payment in Splynx now rather than at the next cycle
			// (bounded: what is not done in time the next cycle does).
			wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			_, err := b.en.WriteBack(wctx)
			cancel()
			if err != nil {
				p.s.Logger().Warn("portal: write-back after a payment", zap.Error(err))
			}
		}
		if oneOff && (a.State == store.StateApproved || a.State == store.StateDeclined) {
			if err := b.en.RemoveMethod(ctx, a.MethodID); err != nil {
				p.s.Logger().Warn("portal: remove a card not to be kept", zap.Int64("method_id", a.MethodID), zap.Error(err))
			} else {
				p.showInSplynx(ctx, b, store.SavedMethodRow{ID: a.MethodID, CustomerID: a.CustomerID, Status: store.MethodRemoved})
			}
		}
		http.Redirect(w, r, p.resultPath(*a, direct), http.StatusSeeOther)
		return
	}
	if err != nil {
		// Nothing the customer can act on; the attempt, if one was made,
		// is on record and the reconciler finishes it.
		if la, lerr := b.db.LatestAttempt(ctx, key); lerr == nil && la.State.Live() {
			http.Redirect(w, r, p.resultPath(la, direct), http.StatusSeeOther)
			return
		}
		p.fail(w, r, http.StatusBadGateway, "We could not complete the payment right now. Please do not pay again yet; check your invoices in a few minutes.", err)
		return
	}
	switch {
	case strings.Contains(skip, "another attempt of this charge is live"):
		if la, lerr := b.db.LatestAttempt(ctx, key); lerr == nil {
			http.Redirect(w, r, p.resultPath(la, direct), http.StatusSeeOther)
			return
		}
	case strings.Contains(skip, "no longer exists"):
		p.gone(w, r, b)
		return
	case strings.Contains(skip, " is paid"), strings.Contains(skip, "nothing is due"):
		p.render(w, r, http.StatusOK, "result.html", "Already paid", portalPage{Gateway: b.gatewayName(),
			Body: resultData{Kind: "paid", Title: "Already paid", Direct: direct, Text: "There is nothing left to pay on this invoice. Thank you!"}})
		return
	case strings.Contains(skip, "payment account is empty"):
		p.fail(w, r, http.StatusUnprocessableEntity, "You have no saved payment method. Add a card or bank account first.", nil)
		return
	}
	p.fail(w, r, http.StatusConflict, "This invoice cannot be paid right now. Nothing was charged.", errors.New(skip))
}

// resultData is a result page.
type resultData struct {
	Kind    string // approved | pending | declined | checking | paid | gone
	Title   string
	Text    string
	Next    string
	Doc     string
	Amount  int64
	Fee     int64
	Cur     string
	Mask    string
	Ref     string
	When    time.Time
	Direct  bool
	PayPath string
}

// declineWords says a decline in a customer's words, with what to do next.
func declineWords(a store.ChargeAttempt) (string, string) {
	switch gateways.Reason(a.Reason) {
	case gateways.ReasonInsufficientFunds:
		return "Your bank declined the payment: there were not enough funds.", "Please make sure the funds are available and try again, or use another card or account."
	case gateways.ReasonExpiredCard:
		return "The card has expired.", "Please add your current card and pay again."
	case gateways.ReasonInvalidCard:
		return "The card was declined as not valid.", "Please check the card details or use another card."
	case gateways.ReasonInvalidAccount, gateways.ReasonAccountClosed:
		return "Your bank could not debit the account (the details are wrong or the account is closed).", "Please enter your bank details again or use a card."
	case gateways.ReasonAuthorityRevoked:
		return "Your bank says the direct debit authority was cancelled.", "Please add the account again or use a card."
	case gateways.ReasonLimitExceeded:
		return "The payment is above a limit on your card or account.", "Please contact your bank or use another card."
	case gateways.ReasonTechnical:
		return "The payment could not be processed because of a technical problem at the bank. Nothing was charged.", "Please try again later."
	case gateways.ReasonInvalidRequest:
		return "The payment could not be sent to the payment provider. Nothing was charged.", "Please try again later or contact us."
	case gateways.ReasonDoNotHonor, gateways.ReasonLostOrStolen, gateways.ReasonFraud:
		return "Your card issuer declined the payment.", "Please contact your bank or use another card."
	}
	return "The payment was declined.", "Please use another card or account, or contact your bank."
}

func (p *portal) resultOf(b *backend, a store.ChargeAttempt, direct bool) (resultData, int) {
	rd := resultData{Amount: a.Amount, Fee: a.Fee, Cur: a.Currency, Ref: a.Reference, When: a.CreatedAt, Direct: direct}
	if m, err := b.db.GetMethod(context.Background(), a.MethodID); err == nil {
		rd.Mask = m.Mask
	}
	switch a.Kind {
	case store.KindInvoice:
		rd.Doc = "Invoice " + a.ItemNumber
		rd.PayPath = fmt.Sprintf("/pay/invoice/%d", a.InvoiceID)
	case store.KindProforma:
		rd.Doc = "Proforma invoice " + a.ItemNumber
		rd.PayPath = fmt.Sprintf("/pay/proforma/%d", a.ProformaID)
	default:
		rd.Doc = "Balance top-up"
		rd.PayPath = "/"
	}
	refresh := 0
	switch a.State {
	case store.StateApproved, store.StateRecorded:
		rd.Kind, rd.Title, rd.Text = "approved", "Payment approved", "Thank you! Your payment was approved and is recorded on your account."
	case store.StatePending:
		rd.Kind, rd.Title = "pending", "Payment submitted"
		if a.MethodKind == string(gateways.Bank) {
			rd.Text = "Your bank debit is on its way. Bank debits take 2–5 business days to complete; the invoice is marked paid when the money arrives. Please do not pay again."
		} else {
			rd.Text = "Your payment was accepted and is being settled. The invoice is marked paid when it completes. Please do not pay again."
		}
	case store.StateDeclined:
		rd.Kind, rd.Title = "declined", "Payment declined"
		rd.Text, rd.Next = declineWords(a)
		if a.Code == charge.CodeNotSent && a.MethodID == 0 {
			// A gateway payment page closed without a payment.
			rd.Title, rd.Text, rd.Next = "Payment not made", "Nothing was charged: "+a.Message+".", "You can pay again whenever you are ready."
		}
	case store.StateReversed:
		rd.Kind, rd.Title, rd.Text = "declined", "Payment reversed", "This payment was refunded or returned by the bank."
	default:
		rd.Kind, rd.Title = "checking", "We are checking your payment"
		rd.Text = "We sent your payment but did not hear back from the payment provider yet. We are checking with them; this page updates by itself. Please do not pay again."
		refresh = 5
	}
	return rd, refresh
}

func (p *portal) resultPage(w http.ResponseWriter, r *http.Request, b *backend, v visitor) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	a, aerr := b.db.GetAttempt(r.Context(), id)
	if err != nil || aerr != nil || a.CustomerID != v.CustomerID {
		p.fail(w, r, http.StatusNotFound, "This payment does not exist.", nil)
		return
	}
	rd, refresh := p.resultOf(b, a, false)
	p.render(w, r, http.StatusOK, "result.html", rd.Title, portalPage{Gateway: b.gatewayName(), Refresh: refresh, Body: rd})
}

// refillData is the balance top-up page.
type refillData struct {
	NewDetails
	Amount      string
	AmountError string
	Type        string // card | bank
	Method      *store.SavedMethodRow
	Details     bool // second step: enter new details
	Once        string
	Min, Max    int64
	Currency    string
	Balance     string
	Error       string
	Save        bool
}

var onceRE = regexp.MustCompile(`^[A-Z2-7]{16}$`)

func newOnce() string {
	var b [10]byte
	_, _ = rand.Read(b[:])
	return base32.StdEncoding.EncodeToString(b[:])
}

func (p *portal) refillData(r *http.Request, b *backend, v visitor) refillData {
	minA, maxA := b.set.RefillMin, b.set.RefillMax
	if minA <= 0 {
		minA = money.MustParse("5.00")
	}
	if maxA <= 0 {
		maxA = money.MustParse("1000.00")
	}
	d := refillData{NewDetails: p.NewDetails(b), Type: "card", Method: activeMethod(r.Context(), b, v.CustomerID), Once: newOnce(),
		Min: int64(minA), Max: int64(maxA), Currency: b.set.Currency, Save: true}
	if d.Method != nil {
		d.Type = d.Method.Kind
	}
	// A Splynx that refuses the billing list leaves the mirror without the
	// balance of a customer with no saved method: read it now (briefly: the
	// page shows no balance rather than wait on a slow Splynx).
	bctx, cancel := context.WithTimeout(splynx.Interactive(r.Context()), 5*time.Second)
	defer cancel()
	if bl, err := mirror.Billing(bctx, b.db, b.sp, mirror.Options{}, v.CustomerID); err == nil {
		if bl.Deposit < 0 {
			d.Balance = "You owe " + (-bl.Deposit).String()
		} else {
			d.Balance = "Your balance is " + bl.Deposit.String()
		}
	}
	return d
}

func (p *portal) refillPage(w http.ResponseWriter, r *http.Request, b *backend, v visitor) {
	p.render(w, r, http.StatusOK, "refill.html", "Top up balance", portalPage{Gateway: b.gatewayName(), Body: p.refillData(r, b, v)})
}

func (p *portal) refill(w http.ResponseWriter, r *http.Request, b *backend, v visitor) {
	d := p.refillData(r, b, v)
	d.Amount, d.Type = strings.TrimSpace(r.PostFormValue("amount")), r.PostFormValue("type")
	if r.PostFormValue("details") == "1" {
		d.Save = r.PostFormValue("save") == "1"
	}
	if once := r.PostFormValue("once"); onceRE.MatchString(once) {
		d.Once = once
	}
	show := func(status int) {
		p.render(w, r, status, "refill.html", "Top up balance", portalPage{Gateway: b.gatewayName(), Body: d})
	}
	amount, msg := parseAmount(d.Amount, money.Amount(d.Min), money.Amount(d.Max))
	if msg != "" {
		d.AmountError = msg
		show(http.StatusUnprocessableEntity)
		return
	}
	if d.Type != "card" && !(d.Type == "bank" && d.BankOK) {
		d.Error = "Choose a card or a bank account."
		show(http.StatusUnprocessableEntity)
		return
	}
	key := fmt.Sprintf("refill:%d:%s", v.CustomerID, d.Once)
	// The same form sent twice (a double click, a reload) is one top-up.
	if a, err := b.db.LatestAttempt(r.Context(), key); err == nil {
		http.Redirect(w, r, p.resultPath(a, false), http.StatusSeeOther)
		return
	}
	oneOff := false
	if p.hostedMode(b) && (d.Method == nil || d.Method.Kind != d.Type) {
		// New details are typed on the gateway's page: a card pays the
		// top-up there; a bank account is saved there first.
		if d.Type == "bank" {
			p.startHosted(w, r, b, hostedStart{customerID: v.CustomerID, kind: gateways.HostedBank, next: "/?done=bank"})
			return
		}
		it := charge.Item{Kind: store.KindRefill, ChargeKey: key, CustomerID: v.CustomerID, Amount: amount}
		p.startHosted(w, r, b, hostedStart{customerID: v.CustomerID, kind: gateways.HostedCard, save: d.Method == nil, item: &it})
		return
	}
	if d.Method == nil || d.Method.Kind != d.Type || r.PostFormValue("details") == "1" {
		// Second step: the details of a new card or account.
		if r.PostFormValue("details") != "1" {
			d.Details = true
			show(http.StatusOK)
			return
		}
		m, cf, bf, msg := p.saveNew(r.Context(), r, b, v.CustomerID, d.Type)
		if msg != "" {
			d.Details, d.Error = true, msg
			if cf.Errors != nil {
				d.Card = cf
			}
			if bf.Errors != nil {
				d.Bank = bf
			}
			show(http.StatusUnprocessableEntity)
			return
		}
		oneOff = !d.Save && d.Method == nil && m.Kind == string(gateways.Card)
	}
	a, skip, err := b.en.ChargeOne(splynx.Interactive(context.WithoutCancel(r.Context())), charge.Item{Kind: store.KindRefill, ChargeKey: key,
		CustomerID: v.CustomerID, Amount: amount}, charge.SourcePortal, "customer "+strconv.FormatInt(v.CustomerID, 10))
	p.after(w, r, b, a, skip, err, oneOff, false, key)
}

// widget is an HTML fragment for a Splynx portal dashboard entry point:
// the unpaid invoices with pay buttons.
func (p *portal) widget(w http.ResponseWriter, r *http.Request) {
	b, err := p.backend(r.Context())
	// Bootstrap class names: the fragment is styled by the portal around it.
	type widgetData struct {
		Rows     []docRow
		Prefix   string
		LoggedIn bool
		Error    string
	}
	wd := widgetData{Prefix: p.s.Prefix()}
	if err != nil {
		wd.Error = "Payments are not available right now."
	} else if v, _, _ := p.identify(w, r, b); v.CustomerID != 0 {
		wd.LoggedIn = true
		if wd.Rows, err = p.unpaidDocs(r.Context(), b, v.CustomerID, false); err != nil {
			wd.Error = "Your invoices cannot be shown right now."
		}
	}
	var buf strings.Builder
	if err := p.pages["widget.html"].ExecuteTemplate(&buf, "widget", wd); err != nil {
		p.s.Logger().Error("render widget", zap.Error(err))
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write([]byte(buf.String()))
}

// payHosted pays document d with new details on the gateway's page
// (card_entry = hosted): a card pays there (and is kept when "save" is
// ticked); a bank account is saved on the eDDR page first, then paid from
// the pay page with one more click.
func (p *portal) payHosted(w http.ResponseWriter, r *http.Request, b *backend, d doc, pd payData, direct bool, again func(int, string)) {
	switch pd.NewKind {
	case "bank":
		if direct || !pd.BankOK {
			again(http.StatusUnprocessableEntity, "To pay from a bank account, log in to your customer portal.")
			return
		}
		p.startHosted(w, r, b, hostedStart{customerID: d.CustomerID, kind: gateways.HostedBank, next: d.PayPath() + "?saved=bank"})
	case "card":
		it := charge.Item{Kind: d.Kind, Number: d.Number, CustomerID: d.CustomerID}
		if d.Kind == store.KindInvoice {
			it.InvoiceID = d.ID
		} else {
			it.ProformaID = d.ID
		}
		// A saved method is replaced only when the customer asks to keep the card.
		p.startHosted(w, r, b, hostedStart{customerID: d.CustomerID, kind: gateways.HostedCard, direct: direct, save: pd.Save && !direct, item: &it})
	default:
		again(http.StatusUnprocessableEntity, "Choose a card or a bank account.")
	}
}
