// Package integrapaysim is an in-memory IntegraPay (Payrix Australia) REST
// API for tests, the demo and benchmarks. One http.Handler serves both the
// auth host (POST /login) and the REST host (/businesses/{bid}/...), so a
// client configured with the same URL for both works.
//
// It follows specs/integrapay.md: PascalCase or camelCase request keys
// (matched case-insensitively), camelCase answers, {errorCode, errorMessage,
// errorDetail} error bodies, bearer tokens that expire on the simulator's
// clock, a business-id check, DuplicateTransaction on a reused Reference, a
// status feed (GET/POST transactions/new) whose items stay until acknowledged
// and come back when the status changes again.
//
// Time model (all on the fake clock, computed when read, so moving the clock
// is enough): a scheduled payment is picked up by the debit run of its Date
// (00:00 Sydney time plus Options.DebitRunHour; weekends move to Monday).
// A bank debit is then P, and S or R two business days later; a card debit
// is C, then S or R two business days later. The payer must be active and
// hold payment details at the debit run, otherwise the debit is R/R17.
// A real-time card payment is final (S, or F in the answer and R on record).
//
// Outcome triggers by the cents of the amount:
//
//	cards (real time and scheduled):
//	  .31 invalid card (R3)     .51 declined (R6)     .54 expired card (R4)
//	  .61 insufficient funds (R1)
//	  .96 technical failure: a real-time payment answers HTTP 500
//	      InternalServerError but is recorded as rejected R5, so a lookup
//	      finds it; a scheduled card debit is rejected R5.
//	bank debits:
//	  .24 insufficient funds (R1)   .25 invalid account number (R2)
//	  .26 authority revoked (R7)    .27 invalid BSB (R9)
//	  .28 account closed (R10)
//	  .29 settles (S), then is dishonoured late: L/R12 (direct debit claim)
//	      two business days after settlement
//	any other cents: success.
//
// Late rejections can also be injected per reference with InjectLate.
//
// Not confirmed by any source and chosen here (the client uses the same):
// GET transactions/bank-payments/?reference= finds bank debits like the
// card-payments lookup does; GET payers/{ref}/schedules/payments?reference=
// lists the payer's scheduled payments not yet picked up, and
// GET|DELETE payers/{ref}/schedules/payments/{id} reads or cancels one.
// Refund transactions are not put in the status feed.
//
// The simulator is the gateway: it receives card numbers and bank details,
// but keeps cards only masked ("411111xxxxxx1111") and never a CVV.
package integrapaysim

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/splynx-pay/splynx-pay/gateways"
	"github.com/splynx-pay/splynx-pay/internal/clock"
	"github.com/splynx-pay/splynx-pay/internal/simkit"
)

// Default credentials the simulator accepts.
const (
	DefaultUsername   = "splynx-sim"
	DefaultPassword   = "sim-password-0001"
	DefaultBusinessID = "90129"
)

// Options configures a Sim.
type Options struct {
	// Clock drives token expiry and settlement; nil → a fake clock at
	// 2026-11-02 09:00 UTC (a Monday).
	Clock *clock.Fake
	// TokenTTL is the bearer token lifetime (expires_in); default 1 h.
	TokenTTL time.Duration
	// LookupShape is how transactions/{card|bank}-payments/?reference=
	// answers: "object" (default: the transaction, or 404 NotFound) or
	// "list" (an array, empty when nothing matches). The spec does not say.
	LookupShape string
	// DebitRunHour is the Sydney hour of the daily debit run (default 0).
	DebitRunHour int
	// NoDefaultCredentials leaves out the splynx-sim / 90129 login.
	NoDefaultCredentials bool
	// Fidelity: behaviours public clients showed (issue 17); fidelity.go.
	Fidelity Fidelity
	// Inferred serves the paths and behaviours specs/integrapay.md does not
	// confirm: GET transactions/bank-payments/?reference=, GET
	// payers/{ref}/schedules/payments[/{id}], DELETE of a scheduled payment,
	// and DuplicateTransaction for a scheduled payment's reused Reference.
	// Off (the default) those paths answer 404 like any unknown path and a
	// reused schedule Reference schedules a second debit, and a late
	// rejection is an R after the S instead of L, which is the
	// strictest reading of the spec: money code must be right either way.
	Inferred bool
	// HostedURL is the base of the hosted pages' redirectToUrl; default
	// http://{the Host of the create request}.
	HostedURL string
	// HostedSaveCard accepts an HPP token without a Transaction (a page
	// that only saves a card), which no source confirms (hosted.go).
	HostedSaveCard bool
}

// Late describes a rejection after settlement.
type Late struct {
	SubStatus string        // R-code, default R12
	Status    string        // "L" (default) or "R"
	After     time.Duration // after the settlement, default two days
}

// Entry is one row of the ledger: a transaction, or a scheduled payment the
// debit run has not picked up yet (Status "SCHEDULED").
type Entry struct {
	BusinessID         string
	TransactionID      string // numeric id; empty while only scheduled
	SecondaryID        string // the RT id of a real-time card payment
	ScheduledPaymentID string
	Reference          string
	PayerRef           string
	Kind               string // "card", "bank" or "refund"
	Type               string // RT, PDB, PDC, RF
	Amount             int64  // cents requested
	Refunded           int64  // cents refunded so far
	Status             string // current status code, or SCHEDULED
	SubStatus          string
	Created            time.Time
}

// PayerView is what tests may see of a payer.
type PayerView struct {
	BusinessID, Reference, PayerID, StatusCode string
	GivenName, FamilyName, Email, Phone        string
	Street, Suburb, State, PostCode            string
	Method                                     string // "", "bank" or "card"
	Mask                                       string // masked method
	AccountType                                string
}

// Request is one request the simulator received, for tests that compare
// what a client sent.
type Request struct {
	Method string
	Path   string
	Query  string
	Body   []byte
	Status int
}

type credential struct {
	password   string
	businesses map[string]bool
}

type token struct {
	username string
	expires  time.Time
}

type method struct {
	kind string // bank | card
	// bank
	bsb, account, accountName, accountType string
	// card: kept masked
	cardMasked, brand, holder string
	expMonth, expYear         int
}

func (m *method) mask() string {
	if m == nil {
		return ""
	}
	if m.kind == "bank" {
		return "BSB " + m.bsb[:3] + "-" + m.bsb[3:] + " " + gateways.MaskAccount(m.account)
	}
	return m.brand + " •••• " + m.cardMasked[len(m.cardMasked)-4:]
}

type payer struct {
	bid, ref, payerID, statusCode string
	given, family, email, phone   string
	mobile, groupRef              string
	line1, line2, suburb, state   string
	postCode, country             string
	method                        *method
	created                       time.Time
}

type event struct {
	at          time.Time
	status, sub string
}

type transaction struct {
	id, rtID, bid, payerRef string
	reference, description  string
	typ, kind               string
	scheduleID              string
	amount, refunded        int64
	currency                string
	events                  []event
	acked                   int // index of the acknowledged event, -1 none
	method                  method
	payerSnap               payer
	originalID              string // refunds
}

// current is the index of the latest event at or before now; -1 when the
// transaction does not exist yet at now.
func (t *transaction) current(now time.Time) int {
	cur := -1
	for i, e := range t.events {
		if !e.at.After(now) {
			cur = i
		}
	}
	return cur
}

type schedule struct {
	id, bid, payerRef      string
	date                   string
	runAt                  time.Time
	amount                 int64
	reference, description string
	status                 string // SCHEDULED, PROCESSED, DELETED
	txID                   string
	created                time.Time
}

// Sim is the simulator. Safe for concurrent use.
type Sim struct {
	mu   sync.Mutex
	opts Options
	clk  *clock.Fake
	loc  *time.Location

	creds    map[string]credential
	tokens   map[string]token
	logins   int
	payers   map[string]*payer // bid + "/" + ref
	cards    map[string]method // card tokens
	txs      []*transaction
	byID     map[string]*transaction // bid + "/" + id or RT id
	scheds   []*schedule
	refs     map[string]bool // bid + "/" + reference
	late     map[string]Late // bid + "/" + reference
	hosted   map[string]*hostedToken
	faults   simkit.Injector
	requests simkit.Log[Request] // unbounded

	routerOnce sync.Once
	router     *http.ServeMux

	seqTx, seqRT, seqSched, seqPayer, seqTok, seqAcct int
}

// New returns a simulator with the default credentials (unless disabled).
func New(opts Options) *Sim {
	if opts.Clock == nil {
		opts.Clock = clock.NewFake(time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC))
	}
	if opts.TokenTTL <= 0 {
		opts.TokenTTL = time.Hour
	}
	if opts.LookupShape == "" {
		opts.LookupShape = "object"
	}
	s := &Sim{
		opts:     opts,
		clk:      opts.Clock,
		loc:      sydney(),
		creds:    map[string]credential{},
		tokens:   map[string]token{},
		payers:   map[string]*payer{},
		cards:    map[string]method{},
		byID:     map[string]*transaction{},
		refs:     map[string]bool{},
		late:     map[string]Late{},
		hosted:   map[string]*hostedToken{},
		seqTx:    2272289,
		seqRT:    724942,
		seqSched: 213812,
		seqPayer: 528829,
		seqAcct:  880000,
	}
	if !opts.NoDefaultCredentials {
		s.AddCredentials(DefaultUsername, DefaultPassword, DefaultBusinessID)
	}
	return s
}

func sydney() *time.Location {
	if loc, err := time.LoadLocation("Australia/Sydney"); err == nil {
		return loc
	}
	return time.FixedZone("AEST", 10*3600)
}

// AddCredentials lets username/password log in and use businessID (call
// again to add more businesses to the same user).
func (s *Sim) AddCredentials(username, password, businessID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.creds[username]
	if !ok || c.password != password {
		c = credential{password: password, businesses: map[string]bool{}}
		if ok {
			for b := range s.creds[username].businesses {
				c.businesses[b] = true
			}
		}
	}
	c.businesses[businessID] = true
	s.creds[username] = c
}

// Clock returns the simulator's clock.
func (s *Sim) Clock() *clock.Fake { return s.clk }

// Logins counts successful logins (tests of token caching).
func (s *Sim) Logins() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logins
}

// RevokeTokens invalidates every issued token, as a gateway restart might.
func (s *Sim) RevokeTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens = map[string]token{}
}

// Requests returns every request received so far, in order.
func (s *Sim) Requests() []Request { return s.requests.All() }

// InjectLate makes the payment with reference (in the default business)
// be rejected after it settles. A payment already settled gets the late
// rejection relative to its settlement time.
func (s *Sim) InjectLate(reference string, l Late) {
	s.InjectLateIn(DefaultBusinessID, reference, l)
}

// InjectLateIn is InjectLate for another business.
func (s *Sim) InjectLateIn(businessID, reference string, l Late) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l = l.withDefaults()
	l.Status = s.lateStatus(l.Status)
	s.late[businessID+"/"+reference] = l
	for _, t := range s.txs {
		if t.bid == businessID && t.reference == reference && t.kind != "refund" {
			addLate(t, l)
		}
	}
}

func (l Late) withDefaults() Late {
	if l.SubStatus == "" {
		l.SubStatus = "R12"
	}
	if l.Status == "" {
		l.Status = "L"
	}
	if l.After <= 0 {
		l.After = 48 * time.Hour
	}
	return l
}

// lateStatus is the status of a late rejection: L is seen only in a third
// party's simulator (spec §7.4), so without Options.Inferred a late
// rejection is an R after the S, the one status the spec confirms.
func (s *Sim) lateStatus(st string) string {
	if st == "L" && !s.opts.Inferred {
		return "R"
	}
	return st
}

// addLate appends a late rejection after the transaction's settlement.
func addLate(t *transaction, l Late) {
	for i, e := range t.events {
		if e.status == "S" {
			t.events = append(t.events[:i+1], event{at: e.at.Add(l.After), status: l.Status, sub: l.SubStatus})
			return
		}
	}
}

// Ledger returns every transaction and every scheduled payment not yet
// picked up, in creation order, with statuses as of the simulator's clock.
func (s *Sim) Ledger() []Entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clk.Now()
	s.advance(now)
	var out []Entry
	for _, sc := range s.scheds {
		if sc.status != "SCHEDULED" {
			continue
		}
		out = append(out, Entry{BusinessID: sc.bid, ScheduledPaymentID: sc.id, Reference: sc.reference, PayerRef: sc.payerRef,
			Kind: "bank", Type: "PDB", Amount: sc.amount, Status: "SCHEDULED", Created: sc.created})
		if p := s.payers[sc.bid+"/"+sc.payerRef]; p != nil && p.method != nil && p.method.kind == "card" {
			out[len(out)-1].Kind, out[len(out)-1].Type = "card", "PDC"
		}
	}
	for _, t := range s.txs {
		cur := t.current(now)
		if cur < 0 {
			continue
		}
		out = append(out, Entry{BusinessID: t.bid, TransactionID: t.id, SecondaryID: t.rtID, ScheduledPaymentID: t.scheduleID,
			Reference: t.reference, PayerRef: t.payerRef, Kind: t.kind, Type: t.typ, Amount: t.amount, Refunded: t.refunded,
			Status: t.events[cur].status, SubStatus: t.events[cur].sub, Created: t.events[0].at})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Created.Before(out[j].Created) })
	return out
}

// Payer returns a payer of the default business.
func (s *Sim) Payer(ref string) (PayerView, bool) { return s.PayerIn(DefaultBusinessID, ref) }

// PayerIn returns a payer of businessID.
func (s *Sim) PayerIn(businessID, ref string) (PayerView, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.payers[businessID+"/"+ref]
	if p == nil {
		return PayerView{}, false
	}
	v := PayerView{BusinessID: p.bid, Reference: p.ref, PayerID: p.payerID, StatusCode: p.statusCode,
		GivenName: p.given, FamilyName: p.family, Email: p.email, Phone: p.phone,
		Street: p.line1, Suburb: p.suburb, State: p.state, PostCode: p.postCode}
	if p.method != nil {
		v.Method, v.Mask, v.AccountType = p.method.kind, p.method.mask(), p.method.accountType
	}
	return v, true
}

// advance lets the debit runs due by now pick up their scheduled payments.
// Settlement and late rejections need no work here: their events are
// already on each transaction's timeline and become visible as now passes.
func (s *Sim) advance(now time.Time) {
	for _, sc := range s.scheds {
		if sc.status != "SCHEDULED" || sc.runAt.After(now) {
			continue
		}
		sc.status = "PROCESSED"
		p := s.payers[sc.bid+"/"+sc.payerRef]
		t := s.newTransaction(sc.bid, p, sc.reference, sc.description, sc.amount)
		t.scheduleID = sc.id
		sc.txID = t.id
		run := sc.runAt
		settle := clock.AddBusinessDays(run, 2)
		switch {
		case p == nil || p.method == nil || !active(p.statusCode):
			t.typ, t.kind = "PDB", "bank"
			t.events = []event{{at: run, status: "R", sub: "R17"}}
		case p.method.kind == "card":
			t.typ, t.kind = "PDC", "card"
			t.events = []event{{at: run, status: "C"}}
			if sub := cardTrigger(sc.amount); sub != "" {
				t.events = append(t.events, event{at: settle, status: "R", sub: sub})
			} else {
				t.events = append(t.events, event{at: settle, status: "S"})
			}
		default:
			t.typ, t.kind = "PDB", "bank"
			t.events = []event{{at: run, status: "P"}}
			sub, late := bankTrigger(sc.amount)
			if sub != "" {
				t.events = append(t.events, event{at: settle, status: "R", sub: sub})
			} else {
				t.events = append(t.events, event{at: settle, status: "S"})
				if late {
					t.events = append(t.events, event{at: clock.AddBusinessDays(settle, 2), status: s.lateStatus("L"), sub: "R12"})
				}
			}
		}
		if l, ok := s.late[sc.bid+"/"+sc.reference]; ok && sc.reference != "" {
			addLate(t, l)
		}
	}
}

func active(status string) bool { return strings.HasPrefix(status, "A") }

// cardTrigger is the card outcome for the cents of an amount ("" = approve).
func cardTrigger(cents int64) string {
	switch cents % 100 {
	case 31:
		return "R3"
	case 51:
		return "R6"
	case 54:
		return "R4"
	case 61:
		return "R1"
	case 96:
		return "R5"
	}
	return ""
}

// bankTrigger is the bank debit outcome for the cents of an amount.
func bankTrigger(cents int64) (sub string, late bool) {
	switch cents % 100 {
	case 24:
		return "R1", false
	case 25:
		return "R2", false
	case 26:
		return "R7", false
	case 27:
		return "R9", false
	case 28:
		return "R10", false
	case 29:
		return "", true
	}
	return "", false
}

func (s *Sim) newTransaction(bid string, p *payer, ref, desc string, cents int64) *transaction {
	s.seqTx++
	t := &transaction{id: fmt.Sprint(s.seqTx), bid: bid, reference: ref, description: desc, amount: cents, currency: "AUD", acked: -1}
	if p != nil {
		t.payerRef = p.ref
		t.payerSnap = *p
		t.payerSnap.method = nil
		if p.method != nil {
			t.method = *p.method
		}
	}
	s.txs = append(s.txs, t)
	s.byID[bid+"/"+t.id] = t
	return t
}

// debitRun is when the debit run of date (YYYY-MM-DD, Sydney) happens.
func (s *Sim) debitRun(d time.Time) time.Time {
	run := time.Date(d.Year(), d.Month(), d.Day(), s.opts.DebitRunHour, 0, 0, 0, s.loc)
	for run.Weekday() == time.Saturday || run.Weekday() == time.Sunday {
		run = run.AddDate(0, 0, 1)
	}
	return run
}

// rcodeText is the sub-status wording IntegraPay uses in statusDescription.
func rcodeText(sub string) string {
	switch sub {
	case "R1":
		return "Insufficient funds"
	case "R2":
		return "Invalid bank account number"
	case "R3":
		return "Invalid Credit Card"
	case "R4":
		return "Expired credit card"
	case "R5":
		return "Invalid transaction"
	case "R6":
		return "Transaction declined"
	case "R7":
		return "Authority revoked by payer"
	case "R8":
		return "Payer deceased"
	case "R9":
		return "Invalid bank account BSB"
	case "R10":
		return "Bank account closed"
	case "R12":
		return "Direct debit claim"
	case "R13":
		return "Credit card chargeback"
	case "R14":
		return "Stolen/pick up card"
	case "R17":
		return "Not processed (payer inactive)"
	}
	return sub
}

func statusText(status, sub string) string {
	switch status {
	case "S":
		return "Settled"
	case "P":
		return "Pending"
	case "C":
		return "Cleared"
	case "R", "F":
		return "Rejected: " + rcodeText(sub)
	case "L":
		return "Late Rejected: " + rcodeText(sub)
	}
	return ""
}
