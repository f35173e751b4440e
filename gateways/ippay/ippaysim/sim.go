// Package ippaysim is an in-memory IPpay XML gateway for tests, the demo
// and cmd/splynx-sim. It follows specs/ippay.md §11: the same roots, codes
// and state rules as the test gateway as far as they are known, and a knob
// wherever the spec marks a behaviour as unconfirmed.
package ippaysim

import (
	"crypto/sha256"
	"encoding/csv"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/splynx-pay/splynx-pay/gateways"
	"github.com/splynx-pay/splynx-pay/internal/clock"
	"github.com/splynx-pay/splynx-pay/internal/money"
	"github.com/splynx-pay/splynx-pay/internal/simkit"
)

// DuplicateMode is what a reused TransactionID gets; IPpay's real behaviour
// is not public.
type DuplicateMode int

// Duplicate modes.
const (
	// DuplicateDecline answers 094 "DUPLICATE TRANSMISSION".
	DuplicateDecline DuplicateMode = iota
	// DuplicateReplay answers the stored response of the first request.
	DuplicateReplay
)

// DefaultDeclineCents are the cents values that decline card payments with
// ActionCode 0NN (x.05 do not honor, x.51 insufficient funds, ...).
var DefaultDeclineCents = []int{5, 14, 41, 43, 51, 54}

// DefaultReviewCents are cents values accepted with an AdditionalInfo.
var DefaultReviewCents = []int{77}

// Options configure a Sim.
type Options struct {
	// Clock drives settlement; nil → a fake clock at 2026-11-02 15:00 UTC.
	Clock      *clock.Fake
	Duplicates DuplicateMode
	// DeclineCents: nil → DefaultDeclineCents; empty non-nil → none.
	DeclineCents []int
	// ReviewCents: nil → DefaultReviewCents.
	ReviewCents []int
	// ACHSettleDays is how many business days after the ACH file an item
	// settles unless returned (default 3).
	ACHSettleDays int
	// AllowIPs, when set, is IPpay's firewall: other callers are dropped
	// (or get BlockStatus, when non-zero).
	AllowIPs    []string
	BlockStatus int
	Logger      *zap.Logger

	// What real clients showed about the gateway (issue 17); see
	// fidelity.go. The zero value is what the public clients observed.
	Fidelity Fidelity
	// Inferred serves what specs/ippay.md does not confirm: the ACH returns
	// report at GET /returns.csv (its format is our guess at an IPpay
	// reporting export). Off (the default) that path answers 404.
	Inferred bool
}

// Entry is one transaction in the ledger.
type Entry struct {
	TransactionID string
	Type          string
	TerminalID    string
	Amount        int64
	ActionCode    string
	ResponseText  string
	Token         string
	At            time.Time
	// State is the item's current state for SALE, AUTHONLY, CHECK and
	// unlinked CREDIT/REVERSAL: declined, authorized, approved, settled,
	// voided, pending, returned. Empty for follow-ups (VOID, CAPT, ...).
	State      string
	Refunded   int64
	ReturnCode string
}

type tokenRec struct {
	ach      bool
	expMonth int
	expYear  int // four digits
}

type txn struct {
	id, typ, terminal string
	ach               bool
	amount            int64
	approval          string
	token             string
	approved          bool
	at                time.Time
	resp              reply
	captured          bool
	capturedAt        time.Time
	voided            bool
	refunded          int64
	returnCode        string
	returnedAt        time.Time
}

type entry struct {
	Entry
	tx *txn // the item this entry created, for State
}

// Sim is the simulated gateway. Safe for concurrent use.
type Sim struct {
	opts  Options
	clock *clock.Fake
	log   *zap.Logger

	mu        sync.Mutex
	terminals map[string]bool // id → ACH terminal
	tokens    map[string]*tokenRec
	txns      map[string]*txn
	ledger    []*entry
	faults    simkit.Injector
	seq       int
	assigned  int // TransactionIDs given to TOKENIZE and PING; see assignID
}

// New returns a simulator with no terminals; add them with AddTerminal.
func New(opts Options) *Sim {
	if opts.Clock == nil {
		opts.Clock = clock.NewFake(time.Date(2026, 11, 2, 15, 0, 0, 0, time.UTC))
	}
	if opts.DeclineCents == nil {
		opts.DeclineCents = DefaultDeclineCents
	}
	if opts.ReviewCents == nil {
		opts.ReviewCents = DefaultReviewCents
	}
	if opts.ACHSettleDays <= 0 {
		opts.ACHSettleDays = 3
	}
	if opts.Logger == nil {
		opts.Logger = zap.NewNop()
	}
	return &Sim{opts: opts, clock: opts.Clock, log: opts.Logger.Named("ippaysim"),
		terminals: map[string]bool{}, tokens: map[string]*tokenRec{}, txns: map[string]*txn{}}
}

// Clock is the simulator's clock.
func (s *Sim) Clock() *clock.Fake { return s.clock }

// AddTerminal registers a Terminal ID: an ACH terminal (ach) takes CHECK,
// VOIDACH, REVERSAL and bank TOKENIZE only; a card terminal the card types
// and, unless Fidelity.SplitTerminals, the ACH types too.
func (s *Sim) AddTerminal(id string, ach bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.terminals[id] = ach
}

// Ledger lists the transactions applied so far, oldest first, with the
// current state of each item.
func (s *Sim) Ledger() []Entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	out := make([]Entry, 0, len(s.ledger))
	for _, e := range s.ledger {
		v := e.Entry
		if e.tx != nil {
			v.State = s.state(e.tx, now)
			v.Refunded = e.tx.refunded
			v.ReturnCode = e.tx.returnCode
		}
		out = append(out, v)
	}
	return out
}

// InjectReturn makes an accepted CHECK come back with a NACHA return code
// (R01, ...), dated now; it then shows in the returns report. A settled
// item can be returned too (late returns).
func (s *Sim) InjectReturn(txid, code string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.txns[strings.ToUpper(txid)]
	if !ok || t.typ != "CHECK" || !t.approved {
		return fmt.Errorf("ippaysim: inject return: no accepted CHECK %s", txid)
	}
	if t.voided {
		return fmt.Errorf("ippaysim: inject return: CHECK %s was voided", txid)
	}
	t.returnCode = strings.ToUpper(code)
	t.returnedAt = s.clock.Now()
	return nil
}

// batchCutoff is when an item leaves the open batch (cards) or goes into
// the ACH file: the next midnight. Voids only work before it.
func batchCutoff(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d+1, 0, 0, 0, 0, t.Location())
}

func (s *Sim) state(t *txn, now time.Time) string {
	switch {
	case !t.approved:
		return "declined"
	case t.voided:
		return "voided"
	case t.returnCode != "":
		return "returned"
	}
	if t.ach {
		if t.typ == "CHECK" && !now.Before(clock.AddBusinessDays(batchCutoff(t.at), s.opts.ACHSettleDays)) {
			return "settled"
		}
		if t.typ == "CHECK" {
			return "pending"
		}
		return "approved"
	}
	if t.typ == "AUTHONLY" {
		if !t.captured {
			return "authorized"
		}
		if !now.Before(batchCutoff(t.capturedAt)) {
			return "settled"
		}
		return "approved"
	}
	if !now.Before(batchCutoff(t.at)) {
		return "settled"
	}
	return "approved"
}

// Handler serves POST /ippay and GET /returns.csv.
func (s *Sim) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /ippay", s.serveXML)
	mux.HandleFunc("POST /ippay/", s.serveXML)
	mux.HandleFunc("/ippay", allow(http.MethodPost))
	mux.HandleFunc("/ippay/", allow(http.MethodPost))
	mux.HandleFunc("GET /returns.csv", s.inferred(s.serveReturns))
	mux.HandleFunc("/returns.csv", s.inferred(allow("GET, HEAD")))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.allowed(r) {
			if s.opts.BlockStatus != 0 {
				http.Error(w, "Forbidden", s.opts.BlockStatus)
				return
			}
			simkit.Drop(w)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// allow answers 405 naming the methods a path serves.
func allow(methods string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", methods)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

// inferred serves h only with Options.Inferred; otherwise the path is 404.
func (s *Sim) inferred(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !s.opts.Inferred {
			http.NotFound(w, r)
			return
		}
		h(w, r)
	}
}

func (s *Sim) allowed(r *http.Request) bool {
	if len(s.opts.AllowIPs) == 0 {
		return true
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	for _, ip := range s.opts.AllowIPs {
		if ip == host {
			return true
		}
	}
	return false
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if strings.EqualFold(x, v) {
			return true
		}
	}
	return false
}

func (s *Sim) serveXML(w http.ResponseWriter, r *http.Request) {
	raw, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		simkit.Drop(w)
		return
	}
	in, perr := parseRequest(raw)
	typ := strings.ToUpper(in.get("transactiontype"))
	f := s.faults.Take(r.Method, typ)
	var q quirks
	if f != nil {
		q, _ = f.Tag.(quirks)
		switch {
		case f.Drop:
			simkit.Drop(w)
			return
		case q.echo && f.Fail:
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(f.Status)
			io.WriteString(w, "Error processing request: "+string(raw))
			return
		case q.echo:
			rep := reply{ActionCode: "921", ResponseText: "INVALID MESSAGE FORMAT",
				ErrMsg: "XML transaction failure, request was: " + string(raw)}
			writeReply(w, in.responseRoot(typ), rep)
			return
		case f.Fail:
			http.Error(w, "Internal Server Error", f.Status)
			return
		}
	}
	var rep reply
	if perr != nil {
		rep = reply{ActionCode: "921", ResponseText: "INVALID MESSAGE FORMAT", ErrMsg: perr.Error()}
	} else {
		rep = s.process(in, typ)
	}
	s.log.Info("ippaysim request", zap.String("type", typ), zap.String("transaction_id", rep.TransactionID),
		zap.String("action_code", rep.ActionCode))
	if f != nil {
		if q.voidAfter {
			s.autoVoid(rep.TransactionID)
		}
		if f.Hold > 0 && !simkit.Wait(r, f.Hold) {
			return
		}
		switch {
		case f.DropAfter:
			simkit.Drop(w)
			return
		case f.Malformed:
			w.Header().Set("Content-Type", "text/xml")
			io.WriteString(w, "<ippayResponse><TransactionID>"+rep.TransactionID+"</TransactionID><ActionCode>0")
			return
		}
	}
	writeReply(w, in.responseRoot(typ), rep)
}

func (s *Sim) serveReturns(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	var rows []*txn
	for _, t := range s.txns {
		if t.returnCode != "" {
			rows = append(rows, t)
		}
	}
	s.mu.Unlock()
	sort.Slice(rows, func(i, j int) bool {
		if !rows[i].returnedAt.Equal(rows[j].returnedAt) {
			return rows[i].returnedAt.Before(rows[j].returnedAt)
		}
		return rows[i].id < rows[j].id
	})
	w.Header().Set("Content-Type", "text/csv")
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	cw.Write([]string{"TransactionID", "ReturnCode", "ReturnDate", "Amount"})
	for _, t := range rows {
		cw.Write([]string{t.id, t.returnCode, t.returnedAt.Format("2006-01-02"), money.Amount(t.amount).String()})
	}
	cw.Flush()
}

// process applies one request and returns the reply. It holds the lock for
// the whole transaction so concurrent requests see each other's effects.
func (s *Sim) process(in *inbound, typ string) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	txid := strings.ToUpper(in.get("transactionid"))
	fail := func(code, text, msg string) reply {
		return reply{TransactionID: txid, ActionCode: code, ResponseText: text, ErrMsg: msg}
	}
	tid := in.get("terminalid")
	if tid == "" {
		return fail("996", "BAD TERMINAL ID", "TerminalID is required")
	}
	achTerminal, ok := s.terminals[tid]
	if !ok {
		return fail("996", "BAD TERMINAL ID", "")
	}
	if txid != "" && !validID(txid) {
		return fail("921", "INVALID MESSAGE FORMAT", "TransactionID must be 1 to 18 letters or digits")
	}
	achType := typ == "CHECK" || typ == "VOIDACH" || typ == "REVERSAL" || (typ == "TOKENIZE" && in.get("aba") != "")
	switch typ {
	case "PING", "ENQ":
	case "SALE", "AUTHONLY", "CAPT", "VOID", "CREDIT", "CHECK", "VOIDACH", "REVERSAL", "TOKENIZE":
		if !s.terminalTakes(achTerminal, achType) {
			return fail("996", "BAD TERMINAL ID", "terminal not enabled for "+typ)
		}
	case "":
		return fail("921", "INVALID MESSAGE FORMAT", "TransactionType is required")
	default:
		return fail("921", "INVALID MESSAGE FORMAT", "unsupported TransactionType")
	}
	switch typ {
	case "PING":
		return reply{TransactionID: s.assignID(txid), ActionCode: "000", ResponseText: "PING"}
	case "ENQ":
		if txid == "" {
			return fail("921", "INVALID MESSAGE FORMAT", "TransactionID is required for ENQ")
		}
		t, ok := s.txns[txid]
		if !ok || t.terminal != tid {
			return s.enqUnknown(txid)
		}
		return s.enqReply(t)
	case "TOKENIZE":
		return s.tokenize(in, s.assignID(txid))
	case "SALE", "AUTHONLY", "CHECK":
		return s.newItem(in, typ, tid, txid)
	case "CREDIT", "REVERSAL":
		if t, ok := s.txns[txid]; ok && txid != "" && t.terminal == tid && t.typ != typ {
			return s.linkedRefund(in, typ, t)
		}
		return s.newItem(in, typ, tid, txid)
	case "CAPT", "VOID", "VOIDACH":
		if typ == "VOIDACH" && !s.opts.Fidelity.VoidACH {
			return voidACHWithdrawn(txid)
		}
		t, ok := s.txns[txid]
		if txid == "" || !ok || t.terminal != tid {
			return fail("025", "TRANSACTION NOT FOUND", "")
		}
		return s.followUp(in, typ, t)
	}
	return fail("921", "INVALID MESSAGE FORMAT", "unsupported TransactionType")
}

func validID(id string) bool {
	if len(id) == 0 || len(id) > 18 {
		return false
	}
	for _, c := range id {
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

func (s *Sim) nextID() string {
	s.seq++
	return fmt.Sprintf("SIM%015d", s.seq)
}

func (s *Sim) newToken() string {
	s.seq++
	sum := sha256.Sum256([]byte("ippaysim-token:" + strconv.Itoa(s.seq)))
	b := make([]byte, 24)
	for i := range b {
		b[i] = 'A' + sum[i]%26
	}
	return string(b)
}

// amount reads TotalAmount: whole cents, positive.
func amount(in *inbound) (int64, *reply) {
	v := in.get("totalamount")
	if v == "" {
		return 0, &reply{ActionCode: "921", ResponseText: "INVALID MESSAGE FORMAT", ErrMsg: "TotalAmount is required"}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 || strings.Trim(v, "0123456789") != "" {
		return 0, &reply{ActionCode: "920", ResponseText: "INVALID AMOUNT", ErrMsg: "TotalAmount must be whole cents"}
	}
	return n, nil
}

// card reads the card source of a card request: a token, or a number with
// expiry (optionally tokenized on the way).
func (s *Sim) card(in *inbound) (token string, issued bool, rep *reply) {
	now := s.clock.Now()
	if tok := in.get("token"); tok != "" {
		rec, ok := s.tokens[tok]
		if !ok || rec.ach {
			return "", false, &reply{ActionCode: "940", ResponseText: "TOKEN NOT FOUND"}
		}
		if expired(rec.expMonth, rec.expYear, now) {
			return "", false, &reply{ActionCode: "054", ResponseText: "EXPIRED CARD"}
		}
		return tok, false, nil
	}
	pan := in.get("cardnum")
	if pan == "" {
		return "", false, &reply{ActionCode: "921", ResponseText: "INVALID MESSAGE FORMAT", ErrMsg: "CardNum or Token is required"}
	}
	rec, r := s.cardRecord(in, pan)
	if r != nil {
		return "", false, r
	}
	if strings.EqualFold(in.get("cardnum@tokenize"), "true") {
		token = s.newToken()
		s.tokens[token] = rec
		return token, true, nil
	}
	return "", false, nil
}

func (s *Sim) cardRecord(in *inbound, pan string) (*tokenRec, *reply) {
	if !gateways.Luhn(pan) || strings.Trim(pan, "0123456789") != "" || contains(s.opts.Fidelity.InvalidCards, pan) {
		r := s.invalidCard()
		return nil, &r
	}
	m, err1 := strconv.Atoi(in.get("cardexpmonth"))
	y, err2 := strconv.Atoi(in.get("cardexpyear"))
	if err1 != nil || err2 != nil || m < 1 || m > 12 || y < 0 || y > 99 {
		return nil, &reply{ActionCode: "921", ResponseText: "INVALID MESSAGE FORMAT", ErrMsg: "CardExpMonth and CardExpYear must be MM and YY"}
	}
	if expired(m, 2000+y, s.clock.Now()) {
		return nil, &reply{ActionCode: "917", ResponseText: "EXPIRED CARD"}
	}
	return &tokenRec{expMonth: m, expYear: 2000 + y}, nil
}

func expired(month, year int, now time.Time) bool {
	return year < now.Year() || (year == now.Year() && month < int(now.Month()))
}

func (s *Sim) tokenize(in *inbound, txid string) reply {
	out := func(r reply) reply { r.TransactionID = txid; return r }
	if aba := in.get("aba"); aba != "" {
		if !validABA(aba) {
			return out(reply{ActionCode: "923", ResponseText: "INVALID ABA"})
		}
		if !validAccount(in.get("accountnumber")) {
			return out(reply{ActionCode: "924", ResponseText: "INVALID DDA"})
		}
		tok := s.newToken()
		s.tokens[tok] = &tokenRec{ach: true}
		return out(reply{ActionCode: "000", ResponseText: "TOKENIZED", Token: tok})
	}
	if tok := in.get("token"); tok != "" && in.get("cardnum") == "" {
		// Expiry update of an existing card token (SILV's updateToken).
		rec, ok := s.tokens[tok]
		if !ok || rec.ach {
			return out(reply{ActionCode: "940", ResponseText: "TOKEN NOT FOUND"})
		}
		m, err1 := strconv.Atoi(in.get("cardexpmonth"))
		y, err2 := strconv.Atoi(in.get("cardexpyear"))
		if err1 != nil || err2 != nil || m < 1 || m > 12 || y < 0 || y > 99 {
			return out(reply{ActionCode: "921", ResponseText: "INVALID MESSAGE FORMAT", ErrMsg: "CardExpMonth and CardExpYear must be MM and YY"})
		}
		rec.expMonth, rec.expYear = m, 2000+y
		return out(reply{ActionCode: "000", ResponseText: "TOKENIZED", Token: tok})
	}
	pan := in.get("cardnum")
	if pan == "" {
		return out(reply{ActionCode: "921", ResponseText: "INVALID MESSAGE FORMAT", ErrMsg: "CardNum, Token or ABA is required"})
	}
	rec, r := s.cardRecord(in, pan)
	if r != nil {
		return out(*r)
	}
	tok := s.newToken()
	s.tokens[tok] = rec
	return out(reply{ActionCode: "000", ResponseText: "TOKENIZED", Token: tok})
}

// validABA is IPpay's own check behind action code 923 (invalid ABA): the
// routing checksum. It is deliberately not gateways.ValidABA, the client's
// pre-check (which also refuses 000000000): the simulator judges what the
// client sends on its own, so a fault in the client's check shows in tests.
func validABA(s string) bool {
	if len(s) != 9 {
		return false
	}
	w := [3]int{3, 7, 1}
	sum := 0
	for i := 0; i < 9; i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
		sum += int(s[i]-'0') * w[i%3]
	}
	return sum%10 == 0
}

func validAccount(a string) bool {
	return len(a) >= 4 && len(a) <= 17 && strings.Trim(a, "0123456789") == ""
}

// bank reads the <ACH> block of an ACH request.
func (s *Sim) bank(in *inbound) (token string, rep *reply) {
	bad := func(msg string) *reply {
		return &reply{ActionCode: "921", ResponseText: "INVALID MESSAGE FORMAT", ErrMsg: msg}
	}
	if !in.has("ach") {
		return "", bad("ACH element is required")
	}
	switch strings.ToUpper(in.get("ach@type")) {
	case "CHECKING", "SAVINGS":
	default:
		return "", bad("ACH Type must be CHECKING or SAVINGS")
	}
	switch strings.ToUpper(in.get("ach@sec")) {
	case "PPD", "WEB", "CCD", "TEL":
	default:
		return "", bad("ACH SEC must be PPD, WEB, CCD or TEL")
	}
	if in.get("ach.checknumber") == "" {
		return "", bad("CheckNumber is required")
	}
	if in.get("cardname") == "" {
		return "", bad("CardName is required")
	}
	if tok := in.get("ach.token"); tok != "" {
		rec, ok := s.tokens[tok]
		if !ok || !rec.ach {
			return "", &reply{ActionCode: "940", ResponseText: "TOKEN NOT FOUND"}
		}
		return tok, nil
	}
	if !validABA(in.get("ach.aba")) {
		return "", &reply{ActionCode: "923", ResponseText: "INVALID ABA"}
	}
	if !validAccount(in.get("ach.accountnumber")) {
		return "", &reply{ActionCode: "924", ResponseText: "INVALID DDA"}
	}
	return "", nil
}

func containsInt(list []int, v int) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// newItem applies SALE, AUTHONLY, CHECK or an unlinked CREDIT/REVERSAL.
func (s *Sim) newItem(in *inbound, typ, tid, txid string) reply {
	now := s.clock.Now()
	if txid != "" {
		if prev, ok := s.txns[txid]; ok && now.Sub(prev.at) < 90*24*time.Hour {
			if s.opts.Duplicates == DuplicateReplay {
				return prev.resp
			}
			return reply{TransactionID: txid, ActionCode: "094", ResponseText: "DUPLICATE TRANSMISSION"}
		}
	} else {
		txid = s.nextID()
	}
	amt, bad := amount(in)
	if bad != nil {
		bad.TransactionID = txid
		return *bad
	}
	t := &txn{id: txid, typ: typ, terminal: tid, amount: amt, at: now}
	var rep reply
	cents := int(amt % 100)
	if typ == "CHECK" || typ == "REVERSAL" {
		t.ach = true
		tok, bad := s.bank(in)
		if bad != nil {
			bad.TransactionID = txid
			return *bad
		}
		t.token = tok
		// ACH items are accepted into the file; failures come back later as
		// returns (InjectReturn), not as declines now.
		rep = reply{ActionCode: "000", ResponseText: "CHECK ACCEPTED", Approval: "000000"}
	} else {
		tok, issued, bad := s.card(in)
		if bad != nil {
			bad.TransactionID = txid
			return *bad
		}
		t.token = tok
		switch {
		case typ == "CREDIT":
			rep = reply{ActionCode: "000", ResponseText: "RETURN ACCEPTED", Approval: s.approval()}
		case containsInt(s.opts.DeclineCents, cents):
			rep = reply{ActionCode: fmt.Sprintf("%03d", cents), ResponseText: "DECLINED"}
		default:
			rep = reply{ActionCode: "000", ResponseText: "APPROVED", Approval: s.approval(), AVS: "Y", CVV2: "P"}
			if in.get("cvv2") != "" {
				rep.CVV2 = "M"
			}
		}
		if issued {
			rep.Token = tok
		}
	}
	if rep.ActionCode == "000" && containsInt(s.opts.ReviewCents, cents) {
		info := "VERIFY CUSTOMER"
		rep.AdditionalInfo = &info
	}
	rep.TransactionID = txid
	t.approval = rep.Approval
	t.approved = rep.ActionCode == "000"
	t.resp = rep
	s.txns[txid] = t
	s.ledger = append(s.ledger, &entry{Entry: Entry{TransactionID: txid, Type: typ, TerminalID: tid, Amount: amt,
		ActionCode: rep.ActionCode, ResponseText: rep.ResponseText, Token: t.token, At: now}, tx: t})
	return rep
}

func (s *Sim) approval() string {
	s.seq++
	return fmt.Sprintf("TEST%02d", s.seq%100)
}

// followUp applies CAPT, VOID and VOIDACH to an existing item.
func (s *Sim) followUp(in *inbound, typ string, t *txn) reply {
	now := s.clock.Now()
	notFound := reply{TransactionID: t.id, ActionCode: "025", ResponseText: "TRANSACTION NOT FOUND"}
	amt := t.amount
	if in.get("totalamount") != "" {
		a, bad := amount(in)
		if bad != nil {
			bad.TransactionID = t.id
			return *bad
		}
		amt = a
	}
	var rep reply
	switch typ {
	case "CAPT":
		if t.typ != "AUTHONLY" || !t.approved || t.voided || t.captured {
			return notFound
		}
		if amt > t.amount {
			return reply{TransactionID: t.id, ActionCode: "920", ResponseText: "INVALID AMOUNT", ErrMsg: "capture exceeds the authorization"}
		}
		t.captured, t.capturedAt, t.amount = true, now, amt
		rep = reply{ActionCode: "000", ResponseText: "APPROVED", Approval: t.approval}
	case "VOID":
		if t.ach || !t.approved || t.voided || s.state(t, now) == "settled" {
			// Only the open batch can be voided; a settled sale is not there.
			return notFound
		}
		if in.get("approval") != t.approval {
			return reply{TransactionID: t.id, ActionCode: "921", ResponseText: "INVALID MESSAGE FORMAT", ErrMsg: "Approval does not match the transaction"}
		}
		if in.get("token") == "" && in.get("cardnum") == "" {
			return reply{TransactionID: t.id, ActionCode: "921", ResponseText: "INVALID MESSAGE FORMAT", ErrMsg: "CardNum or Token is required"}
		}
		t.voided = true
		rep = reply{ActionCode: "000", ResponseText: "VOID PROCESSED", Approval: t.approval}
	case "VOIDACH":
		if t.typ != "CHECK" || !t.approved || t.voided || !now.Before(batchCutoff(t.at)) {
			// After the cut-off the item is in the ACH file.
			return notFound
		}
		if _, bad := s.bank(in); bad != nil {
			bad.TransactionID = t.id
			return *bad
		}
		t.voided = true
		rep = reply{ActionCode: "000", ResponseText: "CHECK ACCEPTED", Approval: "000000"}
	}
	rep.TransactionID = t.id
	s.ledger = append(s.ledger, &entry{Entry: Entry{TransactionID: t.id, Type: typ, TerminalID: t.terminal,
		Amount: amt, ActionCode: rep.ActionCode, ResponseText: rep.ResponseText, Token: t.token, At: now}})
	return rep
}

// linkedRefund applies a CREDIT to a card item or a REVERSAL to a CHECK.
func (s *Sim) linkedRefund(in *inbound, typ string, t *txn) reply {
	now := s.clock.Now()
	if (typ == "CREDIT") == t.ach || !t.approved || t.voided || t.returnCode != "" || (t.typ == "AUTHONLY" && !t.captured) {
		return reply{TransactionID: t.id, ActionCode: "025", ResponseText: "TRANSACTION NOT FOUND"}
	}
	amt, bad := amount(in)
	if bad != nil {
		bad.TransactionID = t.id
		return *bad
	}
	if amt > t.amount-t.refunded {
		return reply{TransactionID: t.id, ActionCode: "943", ResponseText: "REFUND DENIED", ErrMsg: "amount exceeds what is left to refund"}
	}
	var rep reply
	if typ == "REVERSAL" {
		if _, bad := s.bank(in); bad != nil {
			bad.TransactionID = t.id
			return *bad
		}
		rep = reply{ActionCode: "000", ResponseText: "CHECK ACCEPTED", Approval: "000000"}
	} else {
		if in.get("token") == "" && in.get("cardnum") == "" {
			return reply{TransactionID: t.id, ActionCode: "921", ResponseText: "INVALID MESSAGE FORMAT", ErrMsg: "CardNum or Token is required"}
		}
		rep = reply{ActionCode: "000", ResponseText: "RETURN ACCEPTED", Approval: s.approval()}
	}
	t.refunded += amt
	rep.TransactionID = t.id
	s.ledger = append(s.ledger, &entry{Entry: Entry{TransactionID: t.id, Type: typ, TerminalID: t.terminal,
		Amount: amt, ActionCode: rep.ActionCode, ResponseText: rep.ResponseText, Token: t.token, At: now}})
	return rep
}
