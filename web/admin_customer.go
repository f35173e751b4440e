package web

// The customer tab (issue 14): what a billing clerk sees in the customer's
// Splynx profile. The saved method and its authorisation, adding one on the
// customer's behalf over the phone, unpaid documents with Pay now, the
// customer's charge attempts with Retry / Refund, and the IntegraPay payer.
// Every change goes through the charge engine and leaves a staff row in the
// audit trail naming the admin.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/splynx-pay/splynx-pay/gateways"
	"github.com/splynx-pay/splynx-pay/internal/money"
	"github.com/splynx-pay/splynx-pay/store"
	"github.com/splynx-pay/splynx-pay/sync/charge"
)

// PhoneAuthVersion names the wording an admin reads to the customer before
// saving a method on their behalf; it is kept with the method.
const PhoneAuthVersion = "phone-authorisation-v1"

type customerTab struct {
	s    *Server
	view staffView

	// payers caches the gateway's answer about a payer for payerFor, so
	// that opening the tab does not wait for the gateway every time.
	mu     sync.Mutex
	payers map[string]payerSeen
}

type payerSeen struct {
	info *gateways.PayerInfo
	err  string
	at   time.Time
}

// payerFor is how long the payer's status at the gateway is shown
// without asking again; Sync payer now asks at once.
const payerFor = time.Minute

func (s *Server) registerCustomerTab() error {
	p := &customerTab{s: s}
	admin := func(h http.HandlerFunc) http.Handler { return s.RequireAdmin(h) }
	s.Handle("GET /admin/customer", admin(p.show))
	s.Handle("POST /admin/customer/pay", admin(p.pay))
	s.Handle("POST /admin/customer/retry", admin(p.onAttempt(p.retry)))
	s.Handle("POST /admin/customer/refund", admin(p.onAttempt(p.refund)))
	s.Handle("POST /admin/customer/method", admin(p.addMethod))
	s.Handle("POST /admin/customer/method/remove", admin(p.removeMethod))
	s.Handle("POST /admin/customer/payer-sync", admin(p.payerSync))
	s.Handle("POST /admin/customer/decide", admin(p.onAttempt(p.decide)))
	s.Handle("POST /admin/customer/keep", admin(p.onAttempt(p.keep)))
	return nil
}

// staffDoc is an unpaid invoice or proforma with its newest attempt.
type staffDoc struct {
	Kind    string // invoice | proforma
	ID      int64
	Number  string
	Date    time.Time
	Total   int64
	Due     int64
	Status  string
	Latest  *store.ChargeAttempt
	Blocked bool // a live attempt covers it: Pay now shows that one
	Paid    bool // charged and written back here; the mirror has not caught up yet
}

type attemptRow struct {
	store.ChargeAttempt
	Method   string
	CanRetry bool
	CanRefnd bool
	// CanDecide: the outcome is in review; staff say what the gateway shows.
	CanDecide bool
	// CanKeep: a late settlement owes a refund; staff may keep it on the balance.
	CanKeep bool
}

// confirmBox is the confirm step of an action, shown above the tables.
type confirmBox struct {
	Action  string // pay | retry | refund | remove | decide | keep
	Title   string
	Lines   []string
	Fields  []field
	Amount  bool   // refund: ask for the amount
	Max     string // refund: what is left
	Button  string
	Danger  bool
	Current *store.ChargeAttempt
	// Choices replace Button with one submit per decision (decide).
	Choices []field
}

type banner struct {
	OK      bool
	Text    string
	Attempt *store.ChargeAttempt
}

type customerData struct {
	Customer  store.Customer
	Currency  string
	Gateway   string
	Method    *store.SavedMethodRow
	Old       []store.SavedMethodRow
	Docs      []staffDoc
	Attempts  []attemptRow
	Payer     *gateways.PayerInfo
	PayerErr  string
	PayerSync bool
	Confirm   *confirmBox
	Banner    *banner
	Now       time.Time
	// AuthVersion is the phone authorisation wording's name.
	AuthVersion string
}

func (p *customerTab) customerID(w http.ResponseWriter, r *http.Request) (store.Customer, bool) {
	raw := r.FormValue("id")
	if raw == "" {
		// How Splynx names the customer in a tab's URL is not documented
		// (specs/splynx-api.md §7.3); customer_id is accepted too.
		raw = r.FormValue("customer_id")
	}
	id, err := strconv.ParseInt(strings.TrimSpace(raw), 10, 64)
	if err != nil || id <= 0 {
		p.s.Error(w, r, http.StatusBadRequest, "Give the Splynx customer id: ?id=<customer id>.", nil)
		return store.Customer{}, false
	}
	db := p.s.Deps().DB
	if db == nil {
		p.s.Error(w, r, http.StatusServiceUnavailable, "no database", nil)
		return store.Customer{}, false
	}
	c, err := db.GetCustomer(r.Context(), id)
	if err != nil {
		p.s.Error(w, r, http.StatusNotFound, fmt.Sprintf("Customer %d is not in the add-on's copy of Splynx (not synced yet, or no such customer).", id), err)
		return c, false
	}
	return c, true
}

func (p *customerTab) show(w http.ResponseWriter, r *http.Request) {
	c, ok := p.customerID(w, r)
	if !ok {
		return
	}
	var b *banner
	// ?attempt= names a result to show, unless it names a confirm step's attempt.
	if v := r.FormValue("attempt"); v != "" && r.FormValue("confirm") == "" {
		if id, err := strconv.ParseInt(v, 10, 64); err == nil {
			if a, err := p.s.Deps().DB.GetAttempt(r.Context(), id); err == nil && a.CustomerID == c.ID {
				b = attemptBanner(a)
			}
		}
	}
	if v := r.FormValue("refunded"); v != "" {
		if id, err := strconv.ParseInt(v, 10, 64); err == nil {
			if a, err := p.s.Deps().DB.GetAttempt(r.Context(), id); err == nil && a.CustomerID == c.ID {
				b = &banner{OK: true, Attempt: &a, Text: fmt.Sprintf("Refund made. %s %s: %s of %s refunded so far; Splynx is updated.",
					a.Kind, a.ItemNumber, money.Amount(a.Refunded), money.Amount(a.Amount))}
			}
		}
	}
	if v := r.FormValue("done"); v != "" {
		b = &banner{OK: true, Text: doneText[v]}
		if b.Text == "" {
			b = nil
		}
	}
	p.render(w, r, c, http.StatusOK, b, p.confirmFor(r, c))
}

var doneText = map[string]string{
	"method":  "The payment method is saved; the customer's authorisation is recorded under your name.",
	"removed": "The payment method is removed; it will not be charged again.",
	"payer":   "The payer's details were sent to the gateway.",
	"kept":    "The late settlement stays on the customer's balance; its refund is no longer owed. Recorded under your name.",
}

func attemptBanner(a store.ChargeAttempt) *banner {
	what := fmt.Sprintf("%s %s: %s %s — ", a.Kind, a.ItemNumber, money.Amount(a.Amount), a.Currency)
	switch a.State {
	case store.StateApproved, store.StateRecorded:
		return &banner{OK: true, Text: what + "approved", Attempt: &a}
	case store.StatePending:
		return &banner{OK: true, Text: what + "pending: the bank debit is on its way" + settleText(a), Attempt: &a}
	case store.StateDeclined:
		return &banner{Text: what + "declined: " + declineText(a), Attempt: &a}
	case store.StateReversed:
		return &banner{Text: what + "reversed", Attempt: &a}
	}
	return &banner{Text: what + string(a.State) + ": the outcome is not known yet; the reconciler asks the gateway", Attempt: &a}
}

func settleText(a store.ChargeAttempt) string {
	if a.SettlesBy.IsZero() {
		return ""
	}
	return ", expected to settle by " + a.SettlesBy.Format("2006-01-02")
}

func declineText(a store.ChargeAttempt) string {
	parts := []string{}
	for _, s := range []string{a.Reason, a.Code, gateways.ScrubDigits(a.Message)} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	if len(parts) == 0 {
		return "no reason given"
	}
	return strings.Join(parts, " · ")
}

// confirmFor builds the confirm step asked for by ?confirm=<action>.
func (p *customerTab) confirmFor(r *http.Request, c store.Customer) *confirmBox {
	ctx := r.Context()
	db := p.s.Deps().DB
	id := func(k string) int64 { n, _ := strconv.ParseInt(r.FormValue(k), 10, 64); return n }
	cid := strconv.FormatInt(c.ID, 10)
	switch r.FormValue("confirm") {
	case "pay":
		d, ok := p.doc(ctx, c.ID, r.FormValue("kind"), id("doc"))
		if !ok {
			return nil
		}
		m, err := db.ActiveMethod(ctx, c.ID)
		if err != nil {
			return &confirmBox{Title: "No payment method", Lines: []string{"The customer has no active saved method to charge. Add one first."}}
		}
		cb := &confirmBox{Action: "pay", Title: fmt.Sprintf("Charge %s %s now?", d.Kind, d.Number), Button: "Charge " + money.Amount(d.Due).String() + " now",
			Lines: []string{fmt.Sprintf("Amount due: %s (Splynx is asked again just before charging).", money.Amount(d.Due)),
				"Method: " + m.Mask + methodExpiry(m)},
			Fields: []field{{"id", cid}, {"kind", d.Kind}, {"doc", strconv.FormatInt(d.ID, 10)}}}
		if d.Blocked {
			cb.Current = d.Latest
		}
		return cb
	case "retry":
		a, err := db.GetAttempt(ctx, id("attempt"))
		if err != nil || a.CustomerID != c.ID {
			return nil
		}
		return &confirmBox{Action: "retry", Title: fmt.Sprintf("Retry %s %s now?", a.Kind, a.ItemNumber), Button: "Retry now",
			Lines:  []string{fmt.Sprintf("Declined attempt %s of %s: %s.", a.Reference, money.Amount(a.Amount), declineText(a)), "A new attempt is made with the saved method."},
			Fields: []field{{"id", cid}, {"attempt", strconv.FormatInt(a.ID, 10)}}}
	case "refund":
		a, err := db.GetAttempt(ctx, id("attempt"))
		if err != nil || a.CustomerID != c.ID {
			return nil
		}
		left := money.Amount(a.Amount - a.Refunded).String()
		return &confirmBox{Action: "refund", Title: fmt.Sprintf("Refund %s %s?", a.Kind, a.ItemNumber), Button: "Refund", Danger: true, Amount: true, Max: left,
			Lines:  []string{fmt.Sprintf("Charge %s of %s; %s can still be refunded.", a.Reference, money.Amount(a.Amount), left), "The money goes back to the customer's method; Splynx is updated."},
			Fields: []field{{"id", cid}, {"attempt", strconv.FormatInt(a.ID, 10)}}}
	case "decide":
		a, err := db.GetAttempt(ctx, id("attempt"))
		if err != nil || a.CustomerID != c.ID || a.State != store.StateReview {
			return nil
		}
		return &confirmBox{Action: "decide", Title: fmt.Sprintf("What does the gateway show for %s?", a.Reference),
			Lines: []string{fmt.Sprintf("%s %s, %s, sent %s: the gateway has not said what happened.", a.Kind, a.ItemNumber,
				money.Amount(a.Amount), a.SentAt.Format("2006-01-02 15:04")),
				"Look the reference up in the gateway's portal first. \"It was charged\" records the payment in Splynx; \"Not charged\" lets the document be charged again.",
				"Your decision is recorded under your name."},
			Choices: []field{{DecideCharged, "It was charged"}, {DecideNotCharged, "Not charged"}},
			Fields:  []field{{"id", cid}, {"attempt", strconv.FormatInt(a.ID, 10)}}}
	case "keep":
		a, err := db.GetAttempt(ctx, id("attempt"))
		if err != nil || a.CustomerID != c.ID || !canKeep(a) {
			return nil
		}
		return &confirmBox{Action: "keep", Title: fmt.Sprintf("Keep %s on the customer's balance?", money.Amount(a.Amount-a.Refunded)),
			Button: "Keep on the balance",
			Lines: []string{fmt.Sprintf("%s was taken by the gateway after %s %s had been paid by another charge; a refund of %s is owed and has not been made.",
				a.Reference, a.Kind, a.ItemNumber, money.Amount(a.Amount-a.Refunded)),
				"Keeping it leaves the money on the customer's Splynx balance and stops the refund from being tried again. Your decision is recorded under your name."},
			Fields: []field{{"id", cid}, {"attempt", strconv.FormatInt(a.ID, 10)}}}
	case "remove":
		m, err := db.GetMethod(ctx, id("method"))
		if err != nil || m.CustomerID != c.ID || m.Status == store.MethodRemoved {
			return nil
		}
		return &confirmBox{Action: "remove", Title: "Remove " + m.Mask + "?", Button: "Remove the method", Danger: true,
			Lines:  []string{"Nothing will be charged to it again, here or at the gateway."},
			Fields: []field{{"id", cid}, {"method", strconv.FormatInt(m.ID, 10)}}}
	}
	return nil
}

func methodExpiry(m store.SavedMethodRow) string {
	if m.ExpYear == 0 {
		return ""
	}
	return fmt.Sprintf(" (expires %02d/%d)", m.ExpMonth, m.ExpYear)
}

// doc finds an unpaid document of the customer.
func (p *customerTab) doc(ctx context.Context, customerID int64, kind string, id int64) (staffDoc, bool) {
	docs, err := p.docs(ctx, customerID, id)
	if err != nil {
		return staffDoc{}, false
	}
	for _, d := range docs {
		if d.Kind == kind && d.ID == id {
			return d, true
		}
	}
	return staffDoc{}, false
}

// docs lists the customer's unpaid invoices and proformas (only the one
// with id only, when only > 0) with their newest attempts.
func (p *customerTab) docs(ctx context.Context, customerID, only int64) ([]staffDoc, error) {
	db := p.s.Deps().DB
	f := store.InvoiceFilter{CustomerIDs: []int64{customerID}, Statuses: []string{"not_paid", "pending"}, Limit: 200}
	if only > 0 {
		f.IDs = []int64{only}
	}
	invs, err := db.ListInvoices(ctx, f)
	if err != nil {
		return nil, err
	}
	pfs, err := db.ListProformas(ctx, f)
	if err != nil {
		return nil, err
	}
	var out []staffDoc
	for _, v := range invs {
		out = append(out, staffDoc{Kind: store.KindInvoice, ID: v.ID, Number: v.Number, Date: v.DateCreated, Total: int64(v.Total), Due: int64(v.Due), Status: v.Status})
	}
	for _, v := range pfs {
		out = append(out, staffDoc{Kind: store.KindProforma, ID: v.ID, Number: v.Number, Date: v.DateCreated, Total: int64(v.Total), Due: int64(v.Total), Status: v.Status})
	}
	for i := range out {
		a, err := db.LatestAttempt(ctx, fmt.Sprintf("%s:%d", out[i].Kind, out[i].ID))
		if err == nil {
			out[i].Latest = &a
			out[i].Blocked = a.State.Live()
			out[i].Paid = a.State == store.StateApproved || a.State == store.StateRecorded
		}
	}
	return out, nil
}

func (p *customerTab) render(w http.ResponseWriter, r *http.Request, c store.Customer, status int, b *banner, cb *confirmBox) {
	ctx := r.Context()
	d := p.s.Deps()
	data := customerData{Customer: c, Banner: b, Confirm: cb, Now: d.Clock.Now(), AuthVersion: PhoneAuthVersion}
	var gw gateways.Gateway
	data.Currency, gw = p.view.get(p.s, ctx)
	methods, err := d.DB.ListMethods(ctx, c.ID)
	if err != nil {
		p.s.Error(w, r, http.StatusInternalServerError, "cannot read the customer's methods", err)
		return
	}
	masks := map[int64]string{}
	for i := len(methods) - 1; i >= 0; i-- {
		m := methods[i]
		masks[m.ID] = m.Mask
		if m.Status != store.MethodRemoved && data.Method == nil {
			data.Method = &methods[i]
		} else {
			data.Old = append(data.Old, m)
		}
	}
	if data.Docs, err = p.docs(ctx, c.ID, 0); err != nil {
		p.s.Error(w, r, http.StatusInternalServerError, "cannot read the customer's invoices", err)
		return
	}
	as, err := d.DB.ListAttempts(ctx, store.AttemptFilter{CustomerID: c.ID, Desc: true, Limit: 200})
	if err != nil {
		p.s.Error(w, r, http.StatusInternalServerError, "cannot read the customer's charges", err)
		return
	}
	for _, a := range as {
		data.Attempts = append(data.Attempts, attemptRow{ChargeAttempt: a, Method: masks[a.MethodID],
			CanRetry: a.State == store.StateDeclined && !a.Retried, CanRefnd: a.State == store.StateRecorded && a.Refunded < a.Amount,
			CanDecide: a.State == store.StateReview, CanKeep: canKeep(a)})
	}
	p.payer(ctx, gw, &data)
	if status != http.StatusOK {
		w.WriteHeader(status)
	}
	p.s.Render(w, r, "admin_customer.html", c.Name+" · payments", data)
}

// payerGetter is implemented by gateways that keep payers (IntegraPay).
type payerGetter interface {
	GetPayer(ctx context.Context, ref string) (gateways.PayerInfo, error)
}

// payer reads the payer's status at the gateway, briefly: the page must
// not hang on a slow gateway.
func (p *customerTab) payer(ctx context.Context, gw gateways.Gateway, data *customerData) {
	if gw == nil || data.Method == nil {
		return
	}
	data.Gateway = gw.Name()
	pg, ok := gw.(payerGetter)
	if !ok {
		return
	}
	data.PayerSync = true
	ref := data.Method.PayerRef
	now := p.s.Deps().Clock.Now()
	p.mu.Lock()
	seen, ok := p.payers[ref]
	p.mu.Unlock()
	if !ok || now.Sub(seen.at) >= payerFor || now.Before(seen.at) {
		ctx, cancel := context.WithTimeout(ctx, 4*time.Second)
		defer cancel()
		seen = payerSeen{at: now}
		info, err := pg.GetPayer(ctx, ref)
		switch {
		case errors.Is(err, gateways.ErrNotFound):
			seen.err = "IntegraPay has no payer " + ref
		case err != nil:
			seen.err = gateways.ScrubDigits(err.Error())
		default:
			seen.info = &info
		}
		p.mu.Lock()
		if p.payers == nil {
			p.payers = map[string]payerSeen{}
		}
		p.payers[ref] = seen
		p.mu.Unlock()
	}
	data.Payer, data.PayerErr = seen.info, seen.err
}

// forgetPayer makes the next look ask the gateway again.
func (p *customerTab) forgetPayer(ref string) {
	p.mu.Lock()
	delete(p.payers, ref)
	p.mu.Unlock()
}

// act runs a POST's common start: the customer, and the confirmation.
func (p *customerTab) act(w http.ResponseWriter, r *http.Request) (store.Customer, *charge.Engine, bool) {
	c, ok := p.customerID(w, r)
	if !ok {
		return c, nil, false
	}
	if r.PostFormValue("confirm") != "1" {
		p.s.Error(w, r, http.StatusBadRequest, "Confirm the action first.", nil)
		return c, nil, false
	}
	en, err := staffBackendOf(p.s).Engine(r.Context())
	if err != nil {
		p.s.Error(w, r, http.StatusServiceUnavailable, errNoEngine.Error(), err)
		return c, nil, false
	}
	return c, en, true
}

func (p *customerTab) back(w http.ResponseWriter, r *http.Request, c store.Customer, q url.Values) {
	q.Set("id", strconv.FormatInt(c.ID, 10))
	http.Redirect(w, r, p.s.Prefix()+"/admin/customer?"+q.Encode()+"#result", http.StatusSeeOther)
}

func (p *customerTab) trail(r *http.Request, e store.TrailEntry) { staffAction(p.s, r, e) }

func (p *customerTab) writeBack(ctx context.Context, en *charge.Engine, what string) {
	if _, err := en.WriteBack(context.WithoutCancel(ctx)); err != nil {
		p.s.Logger().Warn("write-back after "+what, zap.Error(err))
	}
}

func (p *customerTab) pay(w http.ResponseWriter, r *http.Request) {
	c, en, ok := p.act(w, r)
	if !ok {
		return
	}
	docID, _ := strconv.ParseInt(r.PostFormValue("doc"), 10, 64)
	kind := r.PostFormValue("kind")
	d, found := p.doc(r.Context(), c.ID, kind, docID)
	if !found {
		p.render(w, r, c, http.StatusNotFound, &banner{Text: "That document is not an unpaid invoice or proforma of this customer."}, nil)
		return
	}
	// A second click while an attempt is live shows that attempt.
	if d.Blocked {
		b := attemptBanner(*d.Latest)
		b.Text = "Not charged again — an attempt is already under way. " + b.Text
		p.render(w, r, c, http.StatusConflict, b, nil)
		return
	}
	it := charge.Item{Kind: d.Kind, Number: d.Number, CustomerID: c.ID}
	if d.Kind == store.KindInvoice {
		it.InvoiceID = d.ID
	} else {
		it.ProformaID = d.ID
	}
	actor := staffWho.actor(p.s, r)
	a, skip, err := en.ChargeOne(r.Context(), it, charge.SourceAdmin, actor)
	if err != nil {
		p.render(w, r, c, http.StatusBadGateway, &banner{Text: "Not charged: " + gateways.ScrubDigits(err.Error())}, nil)
		p.s.Logger().Warn("pay now failed", zap.Int64("customer_id", c.ID), zap.Error(err))
		return
	}
	if a == nil {
		if latest, lerr := p.s.Deps().DB.LatestAttempt(r.Context(), fmt.Sprintf("%s:%d", d.Kind, d.ID)); lerr == nil && latest.State.Live() {
			b := attemptBanner(latest)
			b.Text = "Not charged again — an attempt is already under way. " + b.Text
			p.render(w, r, c, http.StatusConflict, b, nil)
			return
		}
		p.render(w, r, c, http.StatusConflict, &banner{Text: "Not charged: " + skip}, nil)
		return
	}
	p.trail(r, store.TrailEntry{Kind: "staff.pay_now", CustomerID: c.ID, Subject: "attempt", SubjectID: a.ID, Amount: a.Amount,
		Detail: fmt.Sprintf("%s %s charged now: %s", d.Kind, d.Number, a.State)})
	p.writeBack(r.Context(), en, "pay now")
	p.back(w, r, c, url.Values{"attempt": {strconv.FormatInt(a.ID, 10)}})
}

// outcome is what an action on one of the customer's charge attempts did:
// refused (status, shown on the tab with banner and confirm step), or done
// (a staff row for the trail, a write-back, and the tab to go back to).
type outcome struct {
	status    int
	banner    *banner
	confirm   *confirmBox
	trail     *store.TrailEntry // CustomerID is filled in
	writeBack string            // what for, in the log; "" for none
	back      url.Values
}

func refused(status int, text string) outcome {
	return outcome{status: status, banner: &banner{Text: text}}
}

// onAttempt serves a POST on one of the customer's charge attempts (retry,
// refund, decide, keep): confirmed, the attempt theirs, then do; then the
// trail, the write-back and the way back.
func (p *customerTab) onAttempt(do func(r *http.Request, en *charge.Engine, c store.Customer, a store.ChargeAttempt) outcome) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, en, ok := p.act(w, r)
		if !ok {
			return
		}
		a, ok := p.ownAttempt(w, r, c)
		if !ok {
			return
		}
		o := do(r, en, c, a)
		if o.status != 0 {
			p.render(w, r, c, o.status, o.banner, o.confirm)
			return
		}
		if o.trail != nil {
			o.trail.CustomerID = c.ID
			p.trail(r, *o.trail)
		}
		if o.writeBack != "" {
			p.writeBack(r.Context(), en, o.writeBack)
		}
		p.back(w, r, c, o.back)
	}
}

// ownAttempt reads the posted attempt if it is this customer's.
func (p *customerTab) ownAttempt(w http.ResponseWriter, r *http.Request, c store.Customer) (store.ChargeAttempt, bool) {
	id, _ := strconv.ParseInt(r.PostFormValue("attempt"), 10, 64)
	a, err := p.s.Deps().DB.GetAttempt(r.Context(), id)
	if err != nil || a.CustomerID != c.ID {
		p.render(w, r, c, http.StatusNotFound, &banner{Text: "No such charge of this customer."}, nil)
		return a, false
	}
	return a, true
}

func (p *customerTab) retry(r *http.Request, en *charge.Engine, c store.Customer, prev store.ChargeAttempt) outcome {
	a, skip, err := en.RetryNow(r.Context(), prev.ID, staffWho.actor(p.s, r))
	if err != nil || a == nil {
		msg := skip
		if err != nil {
			msg = gateways.ScrubDigits(err.Error())
		}
		return refused(http.StatusConflict, "Not retried: "+msg)
	}
	return outcome{trail: &store.TrailEntry{Kind: "staff.retry", Subject: "attempt", SubjectID: a.ID, Amount: a.Amount,
		Detail: fmt.Sprintf("retry of %s for %s %s: %s", prev.Reference, a.Kind, a.ItemNumber, a.State)},
		writeBack: "a retry", back: url.Values{"attempt": {strconv.FormatInt(a.ID, 10)}}}
}

func (p *customerTab) refund(r *http.Request, en *charge.Engine, c store.Customer, a store.ChargeAttempt) outcome {
	amt, err := money.Parse(strings.TrimSpace(r.PostFormValue("amount")))
	if err != nil || amt <= 0 {
		o := refused(http.StatusBadRequest, "Refund: give the amount to refund, e.g. 12.50.")
		o.confirm = &confirmBox{Action: "refund", Title: "Refund " + a.ItemNumber + "?", Button: "Refund", Danger: true, Amount: true,
			Max: money.Amount(a.Amount - a.Refunded).String(), Fields: []field{{"id", strconv.FormatInt(c.ID, 10)}, {"attempt", strconv.FormatInt(a.ID, 10)}}}
		return o
	}
	reason := strings.TrimSpace(r.PostFormValue("reason"))
	actor := staffWho.actor(p.s, r)
	if reason == "" {
		reason = "refund by " + actor
	}
	if _, err := en.Refund(r.Context(), a.ID, int64(amt), reason); err != nil {
		return refused(http.StatusConflict, "The refund was not made: "+gateways.ScrubDigits(err.Error()))
	}
	return outcome{trail: &store.TrailEntry{Kind: "staff.refund", Subject: "attempt", SubjectID: a.ID, Amount: int64(amt),
		Detail: fmt.Sprintf("refunded %s of %s %s (%s): %s", amt, a.Kind, a.ItemNumber, a.Reference, reason)},
		writeBack: "a refund", back: url.Values{"refunded": {strconv.FormatInt(a.ID, 10)}}}
}

func (p *customerTab) removeMethod(w http.ResponseWriter, r *http.Request) {
	c, en, ok := p.act(w, r)
	if !ok {
		return
	}
	id, _ := strconv.ParseInt(r.PostFormValue("method"), 10, 64)
	m, err := p.s.Deps().DB.GetMethod(r.Context(), id)
	if err != nil || m.CustomerID != c.ID {
		p.render(w, r, c, http.StatusNotFound, &banner{Text: "No such payment method of this customer."}, nil)
		return
	}
	if err := en.RemoveMethod(r.Context(), m.ID); err != nil {
		p.render(w, r, c, http.StatusBadGateway, &banner{Text: "Not removed: " + gateways.ScrubDigits(err.Error())}, nil)
		return
	}
	p.forgetPayer(m.PayerRef)
	p.trail(r, store.TrailEntry{Kind: "staff.method_removed", CustomerID: c.ID, Subject: "method", SubjectID: m.ID,
		Detail: m.Kind + " " + m.Mask + " removed"})
	p.back(w, r, c, url.Values{"done": {"removed"}})
}

// addMethod saves a card or bank account the customer gave over the phone.
// The numbers go to the gateway only: they are not logged, stored or shown
// again, not even when the gateway refuses them.
func (p *customerTab) addMethod(w http.ResponseWriter, r *http.Request) {
	c, ok := p.customerID(w, r)
	if !ok {
		return
	}
	fail := func(status int, msg string) { p.render(w, r, c, status, &banner{Text: "Not saved: " + msg}, nil) }
	if r.PostFormValue("agreed") != "1" {
		fail(http.StatusBadRequest, "tick that the customer agreed on the phone to the authorisation you read out.")
		return
	}
	b := staffBackendOf(p.s)
	en, err := b.Engine(r.Context())
	if err != nil {
		p.s.Error(w, r, http.StatusServiceUnavailable, errNoEngine.Error(), err)
		return
	}
	set := en.Policy()
	country := "AU"
	if set.Currency == "USD" {
		country = "US"
	}
	ref := strconv.FormatInt(c.ID, 10)
	if set.CustomerIdentifier == "login" && c.Login != "" {
		ref = c.Login
	}
	actor := staffWho.actor(p.s, r)
	now := p.s.Deps().Clock.Now()
	req := gateways.SaveMethodRequest{Payer: charge.PayerFromCustomer(c, ref, country),
		Authorisation: gateways.Authorisation{AcceptedAt: now, IP: clientIP(r)}}
	f := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	switch f("kind") {
	case "card":
		mm, _ := strconv.Atoi(f("exp_month"))
		yy, _ := strconv.Atoi(f("exp_year"))
		if yy > 0 && yy < 100 {
			yy += 2000
		}
		req.Card = &gateways.CardDetails{Number: strings.ReplaceAll(f("number"), " ", ""), ExpMonth: mm, ExpYear: yy, CVV: f("cvv"), Holder: f("holder")}
	case "bank":
		req.Bank = &gateways.BankDetails{Branch: strings.ReplaceAll(f("branch"), "-", ""), AccountNumber: strings.ReplaceAll(f("account"), " ", ""),
			AccountName: f("account_name"), AccountType: f("account_type")}
		req.Authorisation.SEC = "TEL" // NACHA: authorised by telephone
	default:
		fail(http.StatusBadRequest, "choose card or bank account.")
		return
	}
	authText := PhoneAuthVersion + "; agreed by phone; taken by " + actor
	m, err := en.SaveMethod(r.Context(), req, authText)
	if err != nil {
		// The gateway's words may echo what was typed: keep digits out.
		fail(http.StatusUnprocessableEntity, gateways.ScrubDigits(err.Error()))
		p.s.Logger().Info("phone method not saved", zap.Int64("customer_id", c.ID), zap.String("error", gateways.ScrubDigits(err.Error())))
		return
	}
	p.forgetPayer(m.PayerRef)
	p.trail(r, store.TrailEntry{Kind: "staff.method_added", CustomerID: c.ID, Subject: "method", SubjectID: m.ID,
		Detail: m.Kind + " " + m.Mask + " saved by phone; the customer agreed to " + PhoneAuthVersion})
	p.back(w, r, c, url.Values{"done": {"method"}})
}

func (p *customerTab) payerSync(w http.ResponseWriter, r *http.Request) {
	c, ok := p.customerID(w, r)
	if !ok {
		return
	}
	d := p.s.Deps()
	m, err := d.DB.ActiveMethod(r.Context(), c.ID)
	if err != nil {
		p.render(w, r, c, http.StatusConflict, &banner{Text: "The customer has no active method, so no payer to update."}, nil)
		return
	}
	var up charge.PayerUpserter
	if d.Gateway != nil {
		if gw, err := d.Gateway(r.Context()); err == nil {
			up, _ = gw.(charge.PayerUpserter)
		}
	}
	if up == nil {
		p.render(w, r, c, http.StatusConflict, &banner{Text: "This gateway keeps no payer details."}, nil)
		return
	}
	country := "AU"
	if d.Settings != nil {
		if set, err := d.Settings(r.Context()); err == nil && set.Currency == "USD" {
			country = "US"
		}
	}
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	defer cancel()
	if err := up.UpsertPayer(ctx, charge.PayerFromCustomer(c, m.PayerRef, country)); err != nil {
		p.render(w, r, c, http.StatusBadGateway, &banner{Text: "The gateway did not take the update: " + gateways.ScrubDigits(err.Error())}, nil)
		return
	}
	p.forgetPayer(m.PayerRef)
	p.trail(r, store.TrailEntry{Kind: "staff.payer_sync", CustomerID: c.ID, Subject: "method", SubjectID: m.ID,
		Detail: "payer " + m.PayerRef + " updated from the Splynx customer"})
	p.back(w, r, c, url.Values{"done": {"payer"}})
}

// Decisions staff make on the customer tab, re-exported for the template.
const (
	DecideCharged    = charge.DecideCharged
	DecideNotCharged = charge.DecideNotCharged
)

// canKeep reports whether a is a late settlement whose owed refund staff
// may give up for the customer's balance (Engine.KeepLateSettlement).
func canKeep(a store.ChargeAttempt) bool {
	return a.Superseded && a.RefundDue && a.Refunded < a.Amount
}

// decide records what staff found at the gateway about a charge in review.
func (p *customerTab) decide(r *http.Request, en *charge.Engine, c store.Customer, a store.ChargeAttempt) outcome {
	decision := r.PostFormValue("decision")
	if decision != DecideCharged && decision != DecideNotCharged {
		return refused(http.StatusBadRequest, "Choose \"It was charged\" or \"Not charged\".")
	}
	// The engine audits the decision with the admin's name; the trail
	// shows it as charge.review_decided (migration 0011).
	got, err := en.ResolveReview(r.Context(), a.ID, decision, staffWho.actor(p.s, r))
	if err != nil {
		return refused(http.StatusConflict, "Not decided: "+gateways.ScrubDigits(err.Error()))
	}
	return outcome{writeBack: "a review decision", back: url.Values{"attempt": {strconv.FormatInt(got.ID, 10)}}}
}

// keep gives up a late settlement's owed refund: the money stays on the
// customer's balance.
func (p *customerTab) keep(r *http.Request, en *charge.Engine, c store.Customer, a store.ChargeAttempt) outcome {
	if !canKeep(a) {
		return refused(http.StatusConflict, "Nothing to keep: "+a.Reference+" owes no refund.")
	}
	if err := en.KeepLateSettlement(r.Context(), a.ID, staffWho.actor(p.s, r)); err != nil {
		return refused(http.StatusConflict, "Not kept: "+gateways.ScrubDigits(err.Error()))
	}
	return outcome{back: url.Values{"done": {"kept"}}}
}
