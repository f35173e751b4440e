package web

// Admin pages of the charge engine: Charge (filters → preview → confirm),
// Charge history with a downloadable run log like Splynx's, one run's
// attempts, and refunds of recorded charges.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"go.uber.org/zap"

	"github.com/splynx-pay/splynx-pay/internal/money"
	"github.com/splynx-pay/splynx-pay/internal/wire"
	"github.com/splynx-pay/splynx-pay/store"
	"github.com/splynx-pay/splynx-pay/sync/charge"
)

// chargePages are the Charge pages with what they need from Deps, and the
// runs they started, so they can be cancelled.
type chargePages struct {
	s      *Server
	db     *store.DB
	engine func(ctx context.Context) (*charge.Engine, error)
	runs   charge.Runs
}

// registerCharges serves the Charge pages (admins only).
func (s *Server) registerCharges() error {
	d := s.Deps()
	p := &chargePages{s: s, db: d.DB, engine: d.Charge}
	if p.engine == nil {
		p.engine = engineFrom(d)
	}
	s.Handle("GET /charges", s.RequireAdmin(http.HandlerFunc(p.history)))
	s.Handle("GET /charges/preview", s.RequireAdmin(http.HandlerFunc(p.preview)))
	s.Handle("POST /charges/run", s.RequireAdmin(http.HandlerFunc(p.run)))
	s.Handle("GET /charges/{id}", s.RequireAdmin(http.HandlerFunc(p.detail)))
	s.Handle("GET /charges/{id}/log", s.RequireAdmin(http.HandlerFunc(p.log)))
	s.Handle("POST /charges/{id}/cancel", s.RequireAdmin(http.HandlerFunc(p.cancel)))
	s.Handle("POST /charges/attempts/{id}/refund", s.RequireAdmin(http.HandlerFunc(p.refund)))
	s.Handle("POST /charges/attempts/{id}/retry", s.RequireAdmin(http.HandlerFunc(p.retry)))
	s.Handle("POST /charges/attempts/{id}/decide", s.RequireAdmin(http.HandlerFunc(p.decide)))
	s.AddNav(NavItem{Title: "Charge", Path: "/charges", Order: 20})
	return nil
}

// engineFrom builds the charge engine from the current settings when the
// daemon gave no constructor (Deps.Charge).
func engineFrom(d Deps) func(ctx context.Context) (*charge.Engine, error) {
	return func(ctx context.Context) (*charge.Engine, error) {
		if d.DB == nil || d.Splynx == nil || d.Settings == nil || d.Gateway == nil {
			return nil, errors.New("charge pages: database, Splynx client, settings or gateway missing")
		}
		set, err := d.Settings(ctx)
		if err != nil {
			return nil, err
		}
		gw, err := d.Gateway(ctx)
		if err != nil {
			return nil, err
		}
		pol, err := wire.ChargePolicy(set)
		if err != nil {
			return nil, err
		}
		return charge.New(d.DB, d.Splynx, gw, charge.Options{Policy: pol, Clock: d.Clock, Logger: d.Log}), nil
	}
}

// filtersFrom reads the Charge dialog's fields.
func filtersFrom(r *http.Request) (charge.Filters, error) {
	if err := r.ParseForm(); err != nil {
		return charge.Filters{}, err
	}
	return charge.ParseFilters(r.Form)
}

type historyData struct {
	Runs    []store.ChargeRun
	Open    []store.ChargeAttempt // unknown and review: they block their documents
	Running map[int64]bool
	Today   string
	Error   string
}

func (p *chargePages) history(w http.ResponseWriter, r *http.Request) {
	db := p.db
	if db == nil {
		p.s.Error(w, r, http.StatusServiceUnavailable, "no database", nil)
		return
	}
	runs, err := db.ListRuns(r.Context(), 100)
	if err != nil {
		p.s.Error(w, r, http.StatusInternalServerError, "cannot read the charge history", err)
		return
	}
	// Charges whose outcome is open block their documents: staff must see them.
	open, err := db.ListAttempts(r.Context(), store.AttemptFilter{States: []store.AttemptState{store.StateReview, store.StateUnknown}, Limit: 200})
	if err != nil {
		p.s.Error(w, r, http.StatusInternalServerError, "cannot read the open charges", err)
		return
	}
	d := historyData{Runs: runs, Open: open, Running: map[int64]bool{}, Today: p.s.Deps().Clock.Now().Format("2006-01-02")}
	for _, id := range p.runs.RunningIDs() {
		d.Running[id] = true
	}
	p.s.Render(w, r, "charges.html", "Charge", d)
}

type previewData struct {
	Preview charge.Preview
	// Fields carry the filters into the confirm form.
	Fields []field
	Error  string
}

type field struct{ Name, Value string }

func (p *chargePages) preview(w http.ResponseWriter, r *http.Request) {
	f, err := filtersFrom(r)
	if err != nil {
		p.s.Render(w, r, "charges_preview.html", "Charge preview", previewData{Error: err.Error()})
		return
	}
	en, err := p.engine(r.Context())
	if err != nil {
		p.s.Error(w, r, http.StatusServiceUnavailable, "the charge engine is not available (see the log)", err)
		return
	}
	pv, err := en.Preview(r.Context(), f)
	if err != nil {
		p.s.Render(w, r, "charges_preview.html", "Charge preview", previewData{Error: err.Error()})
		return
	}
	var fields []field
	for name, vs := range r.Form {
		for _, v := range vs {
			fields = append(fields, field{name, v})
		}
	}
	sort.Slice(fields, func(i, j int) bool { return fields[i].Name < fields[j].Name })
	p.s.Render(w, r, "charges_preview.html", "Charge preview", previewData{Preview: pv, Fields: fields})
}

func (p *chargePages) run(w http.ResponseWriter, r *http.Request) {
	f, err := filtersFrom(r)
	if err != nil {
		p.s.Error(w, r, http.StatusBadRequest, err.Error(), nil)
		return
	}
	if r.Form.Get("confirm") != "1" {
		p.s.Error(w, r, http.StatusBadRequest, "Confirm the charge first.", nil)
		return
	}
	en, err := p.engine(r.Context())
	if err != nil {
		p.s.Error(w, r, http.StatusServiceUnavailable, "the charge engine is not available (see the log)", err)
		return
	}
	// The run outlives the request; it reports its id once the row exists.
	id, err := p.runs.Start(r.Context(), en, f, charge.RunOptions{Source: charge.SourceAdmin, StartedBy: "admin"})
	if err != nil {
		p.s.Error(w, r, http.StatusInternalServerError, "the run could not start (see the log)", err)
		return
	}
	staffAction(p.s, r, store.TrailEntry{Kind: "staff.charge_run", Subject: "run", SubjectID: id, CustomerID: f.CustomerID, Detail: "charge run from the Charge page"})
	http.Redirect(w, r, fmt.Sprintf("%s/charges/%d", p.s.Prefix(), id), http.StatusSeeOther)
}

type detailData struct {
	Run      store.ChargeRun
	Attempts []store.ChargeAttempt
	Errors   []string
	Running  bool
}

func (p *chargePages) runID(w http.ResponseWriter, r *http.Request) (store.ChargeRun, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		p.s.Error(w, r, http.StatusNotFound, "no such run", nil)
		return store.ChargeRun{}, false
	}
	run, err := p.db.GetRun(r.Context(), id)
	if err != nil {
		p.s.Error(w, r, http.StatusNotFound, "no such run", err)
		return run, false
	}
	return run, true
}

func (p *chargePages) detail(w http.ResponseWriter, r *http.Request) {
	run, ok := p.runID(w, r)
	if !ok {
		return
	}
	db := p.db
	as, err := db.ListAttempts(r.Context(), store.AttemptFilter{RunID: run.ID})
	if err != nil {
		p.s.Error(w, r, http.StatusInternalServerError, "cannot read the run", err)
		return
	}
	errs, _ := db.RunLog(r.Context(), run.ID, store.LogError)
	running := p.runs.Running(run.ID)
	p.s.Render(w, r, "charges_run.html", fmt.Sprintf("Charge run %d", run.ID),
		detailData{Run: run, Attempts: as, Errors: errs, Running: running || run.Status == "running"})
}

func (p *chargePages) log(w http.ResponseWriter, r *http.Request) {
	run, ok := p.runID(w, r)
	if !ok {
		return
	}
	db := p.db
	errs, err := db.RunLog(r.Context(), run.ID, store.LogError)
	if err != nil {
		p.s.Error(w, r, http.StatusInternalServerError, "cannot read the log", err)
		return
	}
	out, err := db.RunLog(r.Context(), run.ID, store.LogOutput)
	if err != nil {
		p.s.Error(w, r, http.StatusInternalServerError, "cannot read the log", err)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="charge-run-%d.log"`, run.ID))
	charge.RunLogText(w, run, errs, out)
}

func (p *chargePages) cancel(w http.ResponseWriter, r *http.Request) {
	run, ok := p.runID(w, r)
	if !ok {
		return
	}
	p.runs.Cancel(run.ID)
	http.Redirect(w, r, fmt.Sprintf("%s/charges/%d", p.s.Prefix(), run.ID), http.StatusSeeOther)
}

func (p *chargePages) refund(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		p.s.Error(w, r, http.StatusNotFound, "no such charge", nil)
		return
	}
	var amount int64
	if v := strings.TrimSpace(r.PostFormValue("amount")); v != "" {
		a, err := money.Parse(v)
		if err != nil {
			p.s.Error(w, r, http.StatusBadRequest, "amount: "+err.Error(), nil)
			return
		}
		amount = int64(a)
	}
	en, err := p.engine(r.Context())
	if err != nil {
		p.s.Error(w, r, http.StatusServiceUnavailable, "the charge engine is not available (see the log)", err)
		return
	}
	a, err := p.db.GetAttempt(r.Context(), id)
	if err != nil {
		p.s.Error(w, r, http.StatusNotFound, "no such charge", err)
		return
	}
	if _, err := en.Refund(r.Context(), id, amount, r.PostFormValue("reason")); err != nil {
		p.s.Error(w, r, http.StatusConflict, "The refund failed: "+err.Error(), err)
		return
	}
	staffAction(p.s, r, store.TrailEntry{Kind: "staff.refund", CustomerID: a.CustomerID, Subject: "attempt", SubjectID: a.ID, Amount: refundAmount(amount, a), Detail: "refund of " + a.Reference + " from the Charge page"})
	if _, err := en.WriteBack(r.Context()); err != nil {
		p.s.Logger().Warn("write-back after a refund", zap.Error(err))
	}
	http.Redirect(w, r, fmt.Sprintf("%s/charges/%d", p.s.Prefix(), a.RunID), http.StatusSeeOther)
}

func (p *chargePages) retry(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		p.s.Error(w, r, http.StatusNotFound, "no such charge", nil)
		return
	}
	en, err := p.engine(r.Context())
	if err != nil {
		p.s.Error(w, r, http.StatusServiceUnavailable, "the charge engine is not available (see the log)", err)
		return
	}
	a, skip, err := en.RetryNow(r.Context(), id, "admin")
	if err != nil {
		p.s.Error(w, r, http.StatusConflict, "The retry failed: "+err.Error(), err)
		return
	}
	if a == nil {
		p.s.Error(w, r, http.StatusConflict, "Not retried: "+skip, nil)
		return
	}
	staffAction(p.s, r, store.TrailEntry{Kind: "staff.retry", CustomerID: a.CustomerID, Subject: "attempt", SubjectID: a.ID, Amount: a.Amount, Detail: "retry from the Charge page: " + string(a.State)})
	if _, err := en.WriteBack(r.Context()); err != nil {
		p.s.Logger().Warn("write-back after a retry", zap.Error(err))
	}
	http.Redirect(w, r, fmt.Sprintf("%s/charges/%d", p.s.Prefix(), a.RunID), http.StatusSeeOther)
}

// decideData is the confirm step of a review decision.
type decideData struct {
	Attempt  store.ChargeAttempt
	Decision string
	Title    string
	Lines    []string
	Button   string
}

// decide records what staff found at the gateway about a charge whose
// outcome is open (unknown or review). The buttons on the Charge page
// only ask: the decision is made by a second POST with confirm=1 from the
// page that says what it will do (no JavaScript needed).
func (p *chargePages) decide(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		p.s.Error(w, r, http.StatusNotFound, "no such charge", nil)
		return
	}
	decision := r.PostFormValue("decision")
	if decision != charge.DecideCharged && decision != charge.DecideNotCharged {
		p.s.Error(w, r, http.StatusBadRequest, `Choose "It was charged" or "Not charged".`, nil)
		return
	}
	a, err := p.db.GetAttempt(r.Context(), id)
	if err != nil {
		p.s.Error(w, r, http.StatusNotFound, "no such charge", err)
		return
	}
	if a.State != store.StateReview && a.State != store.StateUnknown {
		p.s.Error(w, r, http.StatusConflict, fmt.Sprintf("Not decided: %s is %s now; only a charge with an open outcome can be decided.", a.Reference, a.State), nil)
		return
	}
	if r.PostFormValue("confirm") != "1" {
		d := decideData{Attempt: a, Decision: decision,
			Lines: []string{"Look the reference up in the gateway's portal before you confirm. Your decision is recorded under your name."}}
		if decision == charge.DecideCharged {
			d.Title, d.Button = "Record that "+a.Reference+" was charged?", "Yes, it was charged"
			d.Lines = append([]string{fmt.Sprintf("The payment of %s is recorded in Splynx against %s, as if the gateway had approved it.", money.Amount(a.Amount), a.ChargeKey)}, d.Lines...)
		} else {
			d.Title, d.Button = "Record that "+a.Reference+" was not charged?", "Yes, it was not charged"
			d.Lines = append([]string{"The charge is closed as not sent, and " + a.ChargeKey + " may be charged again. If the gateway did take the money, the customer pays twice."}, d.Lines...)
		}
		p.s.Render(w, r, "charges_decide.html", "Decide a charge", d)
		return
	}
	en, err := p.engine(r.Context())
	if err != nil {
		p.s.Error(w, r, http.StatusServiceUnavailable, "the charge engine is not available (see the log)", err)
		return
	}
	if _, err := en.ResolveReview(r.Context(), id, decision, staffWho.actor(p.s, r)); err != nil {
		p.s.Error(w, r, http.StatusConflict, "Not decided: "+err.Error(), err)
		return
	}
	if _, err := en.WriteBack(r.Context()); err != nil {
		p.s.Logger().Warn("write-back after a review decision", zap.Error(err))
	}
	http.Redirect(w, r, p.s.Prefix()+"/charges", http.StatusSeeOther)
}
