package integrapaysim

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/splynx-pay/splynx-pay/gateways"
	"github.com/splynx-pay/splynx-pay/internal/money"
	"github.com/splynx-pay/splynx-pay/internal/simkit"
)

// Handler serves POST /login and /businesses/{bid}/....
func (s *Sim) Handler() http.Handler { return http.HandlerFunc(s.serve) }

// apiError is an answer in the API's error shape.
type apiError struct {
	status               int
	code, message, field string
}

func fail(status int, code, msg, detail string) *apiError {
	return &apiError{status: status, code: code, message: msg, field: detail}
}

func badRequest(msg, detail string) *apiError {
	return fail(http.StatusBadRequest, "BadRequest", msg, detail)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, e *apiError) {
	if e.status < 300 {
		// A "not found" some deployments answer as 2xx {} (see Fidelity).
		writeJSON(w, e.status, struct{}{})
		return
	}
	writeJSON(w, e.status, map[string]any{"errorCode": e.code, "errorMessage": e.message, "errorDetail": e.field})
}

func (s *Sim) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		writeError(w, badRequest("The request body could not be read", ""))
		return
	}
	segs := simkit.SplitPath(r.URL.Path)
	rel := segs
	if len(segs) >= 2 && segs[0] == "businesses" {
		rel = segs[2:]
	}

	logged := body
	if len(segs) > 0 && segs[0] == "ui" {
		// The hosted page's form holds card and bank numbers: not logged.
		logged = nil
	}
	s.mu.Lock()
	seq := s.requests.Add(Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Body: logged})
	f := s.faults.Take(r.Method, strings.Join(rel, "/"))
	s.mu.Unlock()
	setStatus := func(status int) { s.requests.Update(seq, func(q *Request) { q.Status = status }) }

	if f != nil {
		simkit.Wait(r, f.Latency)
		if f.Drop {
			simkit.Drop(w)
			return
		}
		if f.Fail {
			setStatus(f.Status)
			if f.Body != "" {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(f.Status)
				_, _ = w.Write([]byte(f.Body))
				return
			}
			code, msg := errorCodeFor(f.Status)
			writeError(w, fail(f.Status, code, msg, "Server Error"))
			return
		}
	}

	rec := simkit.NewBuffer()
	s.mu.Lock()
	s.dispatch(rec, r, segs, body)
	setStatus(rec.Status)
	s.mu.Unlock()

	switch {
	case f == nil:
	case f.FailAfter:
		setStatus(f.Status)
		code, msg := errorCodeFor(f.Status)
		writeError(w, fail(f.Status, code, msg, "Server Error"))
		return
	case f.DropAfter:
		simkit.Drop(w)
		return
	case f.Hold > 0:
		if !simkit.Wait(r, f.Hold) {
			return
		}
	case f.Malformed:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(`{"transactionId": "RT7`))
		return
	}
	rec.Flush(w)
}

// decode reads a JSON object into v; encoding/json matches keys without
// regard to case, which is what makes PascalCase and camelCase both work.
func decode(body []byte, v any) *apiError {
	if len(bytes.TrimSpace(body)) == 0 {
		return badRequest("A request body is required", "")
	}
	if err := json.Unmarshal(body, v); err != nil {
		return badRequest("The request is not valid JSON: "+err.Error(), "")
	}
	return nil
}

// field finds key in a JSON object case-insensitively.
func field(obj map[string]json.RawMessage, key string) (json.RawMessage, bool) {
	for k, v := range obj {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return nil, false
}

// scalar reads a JSON string or number as text.
func scalar(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	return ""
}

func (s *Sim) login(w http.ResponseWriter, body []byte, now time.Time) {
	var obj map[string]json.RawMessage
	if e := decode(body, &obj); e != nil {
		writeError(w, e)
		return
	}
	var user, pass string
	if v, ok := field(obj, "Username"); ok {
		user = scalar(v)
	}
	if v, ok := field(obj, "Password"); ok {
		pass = scalar(v)
	}
	switch {
	case user == "":
		writeError(w, badRequest("The Username field is required.", "Username"))
		return
	case pass == "":
		writeError(w, badRequest("The Password field is required.", "Password"))
		return
	}
	c, ok := s.creds[user]
	if !ok || c.password != pass {
		writeError(w, fail(http.StatusUnauthorized, "Unauthorized", "The username or password is incorrect", ""))
		return
	}
	s.seqTok++
	sum := sha256.Sum256([]byte(fmt.Sprintf("%s/%d/%d", user, s.seqTok, now.UnixNano())))
	tok := "sim." + hex.EncodeToString(sum[:]) + "." + strconv.Itoa(s.seqTok)
	s.tokens[tok] = token{username: user, expires: now.Add(s.opts.TokenTTL)}
	s.logins++
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": tok, "expires_in": int64(s.opts.TokenTTL / time.Second),
		"token_type": "Bearer", "scope": "integrapay.api.public",
	})
}

func (s *Sim) authorize(r *http.Request, bid string, now time.Time) *apiError {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return fail(http.StatusUnauthorized, "Unauthorized", "The operation requires authorization", "")
	}
	t, ok := s.tokens[tok]
	if !ok || !now.Before(t.expires) {
		return fail(http.StatusUnauthorized, "InvalidApiToken", "The API token is not valid for the request", "")
	}
	if !s.creds[t.username].businesses[bid] {
		return fail(http.StatusForbidden, "InvalidBusiness", "The business id is not valid for you", "BusinessId")
	}
	return nil
}

// ---- payers

type addressReq struct {
	Line1, Line2, Suburb, State, PostCode string
	Country                               *string
}

type payerReq struct {
	UniqueReference      flexText
	GroupReference       flexText
	FamilyOrBusinessName string
	GivenName            string
	Email                string
	Phone                string
	Mobile               string
	Address              *addressReq
}

func (s *Sim) payer(bid, ref string) (*payer, *apiError) {
	p := s.payers[bid+"/"+ref]
	if p == nil {
		return nil, s.missingPayer(ref)
	}
	return p, nil
}

func (p *payer) apply(in payerReq) {
	p.family, p.given, p.email, p.phone, p.mobile, p.groupRef =
		in.FamilyOrBusinessName, in.GivenName, in.Email, in.Phone, in.Mobile, string(in.GroupReference)
	if a := in.Address; a != nil {
		p.line1, p.line2, p.suburb, p.state, p.postCode = a.Line1, a.Line2, a.Suburb, a.State, a.PostCode
		p.country = ""
		if a.Country != nil {
			p.country = *a.Country
		}
	}
}

func (s *Sim) createPayer(w http.ResponseWriter, bid string, body []byte, now time.Time) *apiError {
	var in payerReq
	if e := decode(body, &in); e != nil {
		return e
	}
	if strings.TrimSpace(string(in.UniqueReference)) == "" {
		return badRequest("The UniqueReference field is required.", "UniqueReference")
	}
	if strings.TrimSpace(in.FamilyOrBusinessName) == "" {
		return badRequest("The FamilyOrBusinessName field is required.", "FamilyOrBusinessName")
	}
	if len(in.UniqueReference) > 100 {
		return badRequest("UniqueReference must be at most 100 characters", "UniqueReference")
	}
	key := bid + "/" + string(in.UniqueReference)
	if s.payers[key] != nil {
		return fail(http.StatusConflict, "DuplicatePayer", "A payer with the same identifier already exists", "UniqueReference")
	}
	s.seqPayer++
	p := &payer{bid: bid, ref: string(in.UniqueReference), payerID: strconv.Itoa(s.seqPayer), statusCode: "A", created: now}
	p.apply(in)
	s.payers[key] = p
	writeJSON(w, http.StatusOK, s.payerJSON(p))
	return nil
}

func (s *Sim) payerJSON(p *payer) map[string]any {
	var country any
	if p.country != "" {
		country = p.country
	}
	return map[string]any{
		"business":        map[string]any{"businessId": p.bid, "businessName": "Payrix Sandbox"},
		"payerId":         p.payerID,
		"status":          payerStatusWord(p.statusCode),
		"statusCode":      p.statusCode,
		"createdTime":     p.created.UTC().Format("2006-01-02T15:04:05.000+00:00"),
		"uniqueReference": p.ref, "groupReference": p.groupRef,
		"familyOrBusinessName": p.family, "givenName": p.given,
		"email": p.email, "phone": p.phone, "mobile": p.mobile,
		"address": map[string]any{"line1": p.line1, "line2": p.line2, "suburb": p.suburb, "state": p.state, "postCode": p.postCode, "country": country},
	}
}

func payerStatusWord(code string) string {
	switch {
	case strings.HasPrefix(code, "A"):
		return "ACTIVE"
	case strings.HasPrefix(code, "C"):
		return "CANCELLED"
	case strings.HasPrefix(code, "S"):
		return "SUSPENDED"
	}
	return "UNKNOWN"
}

func (s *Sim) getPayer(w http.ResponseWriter, bid, ref string) *apiError {
	p, e := s.payer(bid, ref)
	if e != nil {
		return e
	}
	writeJSON(w, http.StatusOK, s.payerJSON(p))
	return nil
}

func (s *Sim) updatePayer(w http.ResponseWriter, bid, ref string, body []byte) *apiError {
	p, e := s.payer(bid, ref)
	if e != nil {
		return e
	}
	var in payerReq
	if e := decode(body, &in); e != nil {
		return e
	}
	if in.UniqueReference != "" && string(in.UniqueReference) != ref {
		return badRequest("UniqueReference cannot be changed", "UniqueReference")
	}
	if strings.TrimSpace(in.FamilyOrBusinessName) == "" {
		return badRequest("The FamilyOrBusinessName field is required.", "FamilyOrBusinessName")
	}
	p.apply(in)
	writeJSON(w, http.StatusOK, s.payerJSON(p))
	return nil
}

var payerStatusRE = regexp.MustCompile(`^(A|C|S)(-[A-Z]{3,4})?$`)

func (s *Sim) payerStatus(w http.ResponseWriter, bid, ref string, body []byte) *apiError {
	p, e := s.payer(bid, ref)
	if e != nil {
		return e
	}
	var in struct{ NewStatus string }
	if e := decode(body, &in); e != nil {
		return e
	}
	st := strings.ToUpper(strings.TrimSpace(in.NewStatus))
	if !payerStatusRE.MatchString(st) {
		return badRequest("NewStatus is not a valid payer status", "NewStatus")
	}
	p.statusCode = st
	writeJSON(w, http.StatusOK, s.payerJSON(p))
	return nil
}

func (s *Sim) getAccounts(w http.ResponseWriter, bid, ref string) *apiError {
	p, e := s.payer(bid, ref)
	if e != nil {
		return e
	}
	out := map[string]any{"bankAccount": nil, "card": nil}
	if m := p.method; m != nil {
		if m.kind == "bank" {
			out["bankAccount"] = bankJSON(*m)
		} else {
			out["card"] = cardJSON(*m)
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Sim) deleteAccounts(w http.ResponseWriter, bid, ref string) *apiError {
	p, e := s.payer(bid, ref)
	if e != nil {
		return e
	}
	p.method = nil
	writeJSON(w, http.StatusOK, map[string]any{"uniqueReference": p.ref})
	return nil
}

func digitsOnly(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return "", false
		}
	}
	return s, true
}

func (s *Sim) putBankAccount(w http.ResponseWriter, bid, ref string, body []byte) *apiError {
	p, e := s.payer(bid, ref)
	if e != nil {
		return e
	}
	var in struct{ AccountBranch, AccountNumber, AccountName, AccountType string }
	if e := decode(body, &in); e != nil {
		return e
	}
	bsb, ok := digitsOnly(strings.ReplaceAll(in.AccountBranch, "-", ""))
	if !ok || len(bsb) != 6 {
		return fail(http.StatusBadRequest, "InvalidPaymentMethod", "The BSB must be 6 digits", "AccountBranch")
	}
	acct, ok := digitsOnly(in.AccountNumber)
	if !ok || len(acct) < 5 || len(acct) > 9 {
		return fail(http.StatusBadRequest, "InvalidPaymentMethod", "The account number must be 5 to 9 digits", "AccountNumber")
	}
	if strings.TrimSpace(in.AccountName) == "" {
		return badRequest("The AccountName field is required.", "AccountName")
	}
	typ := strings.ToUpper(in.AccountType)
	if typ == "" {
		typ = "CHEQUE"
	}
	if typ != "CHEQUE" && typ != "SAVINGS" {
		return badRequest("AccountType must be CHEQUE or SAVINGS", "AccountType")
	}
	p.method = &method{kind: "bank", bsb: bsb, account: acct, accountName: in.AccountName, accountType: typ}
	s.seqAcct++
	writeJSON(w, http.StatusOK, map[string]any{"accountId": strconv.Itoa(s.seqAcct), "uniqueReference": p.ref})
	return nil
}

type cardReq struct {
	CardNumber     string
	CardholderName string
	ExpiryYear     flexInt
	ExpiryMonth    flexInt
	Ccv            *string
}

func (s *Sim) checkCard(c cardReq, now time.Time) (method, *apiError) {
	pan, ok := digitsOnly(c.CardNumber)
	if !ok || !gateways.Luhn(pan) {
		return method{}, fail(http.StatusBadRequest, "InvalidPaymentMethod", "The card number is not valid", "CardNumber")
	}
	month, year := int(c.ExpiryMonth), int(c.ExpiryYear)
	if month < 1 || month > 12 || year < 2000 {
		return method{}, fail(http.StatusBadRequest, "InvalidPaymentMethod", "The card expiry is not valid", "ExpiryMonth")
	}
	n := now.In(s.loc)
	if year < n.Year() || (year == n.Year() && month < int(n.Month())) {
		return method{}, fail(http.StatusBadRequest, "InvalidPaymentMethod", "The card has expired", "ExpiryYear")
	}
	if c.Ccv != nil && *c.Ccv != "" {
		if v, ok := digitsOnly(*c.Ccv); !ok || len(v) < 3 || len(v) > 4 {
			return method{}, fail(http.StatusBadRequest, "InvalidPaymentMethod", "The CCV is not valid", "Ccv")
		}
	}
	masked := pan[:6] + strings.Repeat("x", len(pan)-10) + pan[len(pan)-4:]
	return method{kind: "card", cardMasked: masked, brand: gateways.CardBrand(pan), holder: c.CardholderName,
		expMonth: month, expYear: year}, nil
}

func (s *Sim) putCard(w http.ResponseWriter, bid, ref string, body []byte, now time.Time) *apiError {
	p, e := s.payer(bid, ref)
	if e != nil {
		return e
	}
	var in cardReq
	if e := decode(body, &in); e != nil {
		return e
	}
	m, e := s.checkCard(in, now)
	if e != nil {
		return e
	}
	p.method = &m
	s.seqAcct++
	writeJSON(w, http.StatusOK, map[string]any{"accountId": strconv.Itoa(s.seqAcct), "uniqueReference": p.ref})
	return nil
}

func (s *Sim) tokenizeCard(w http.ResponseWriter, body []byte, now time.Time) *apiError {
	var in struct{ Card *cardReq }
	if e := decode(body, &in); e != nil {
		return e
	}
	if in.Card == nil {
		return badRequest("The Card field is required.", "Card")
	}
	m, e := s.checkCard(*in.Card, now)
	if e != nil {
		return e
	}
	sum := sha256.Sum256([]byte(fmt.Sprintf("card/%d/%s", len(s.cards), m.cardMasked)))
	tok := hex.EncodeToString(sum[:16])
	s.cards[tok] = m
	writeJSON(w, http.StatusOK, map[string]any{"token": tok})
	return nil
}

func (s *Sim) putCardToken(w http.ResponseWriter, bid, ref string, body []byte) *apiError {
	p, e := s.payer(bid, ref)
	if e != nil {
		return e
	}
	var in struct{ CardToken string }
	if e := decode(body, &in); e != nil {
		return e
	}
	m, ok := s.cards[in.CardToken]
	if !ok {
		return fail(http.StatusBadRequest, "InvalidPaymentMethod", "The card token is not valid", "CardToken")
	}
	p.method = &m
	s.seqAcct++
	writeJSON(w, http.StatusOK, map[string]any{"accountId": strconv.Itoa(s.seqAcct), "uniqueReference": p.ref})
	return nil
}

// ---- payments

var amountRE = regexp.MustCompile(`^[0-9]+(\.[0-9]{1,2})?$`)

// amountCents reads a dollar amount: positive, at most two decimals.
func amountCents(n json.Number) (int64, *apiError) {
	if !amountRE.MatchString(string(n)) {
		return 0, badRequest("Amount must be a positive amount with at most 2 decimal places", "Amount")
	}
	a, err := money.Parse(string(n))
	if err != nil || a <= 0 {
		return 0, badRequest("Amount must be greater than zero", "Amount")
	}
	return int64(a), nil
}

func dollars(cents int64) json.Number {
	return json.Number(fmt.Sprintf("%d.%02d", cents/100, cents%100))
}

type paymentReq struct {
	ProcessType  string
	Reference    string
	Description  string
	Amount       json.Number
	CurrencyCode string
	ServiceDate  string
	Date         string
}

func (s *Sim) chargeCard(w http.ResponseWriter, bid, ref string, body []byte, now time.Time) *apiError {
	p, e := s.payer(bid, ref)
	if e != nil {
		return e
	}
	var in paymentReq
	if e := decode(body, &in); e != nil {
		return e
	}
	cents, e := checkRealtime(in)
	if e != nil {
		return e
	}
	if p.method == nil || p.method.kind != "card" {
		return fail(http.StatusBadRequest, "InvalidPaymentMethod", "The payer has no card", "Payer")
	}
	return s.realtimeCard(w, bid, p, *p.method, in, cents, now)
}

// checkRealtime checks a real-time card payment's fields and returns its
// amount in cents.
func checkRealtime(in paymentReq) (int64, *apiError) {
	if strings.ToUpper(in.ProcessType) != "COMPLETE" {
		return 0, badRequest("ProcessType must be COMPLETE", "Transaction.ProcessType")
	}
	if strings.TrimSpace(in.Reference) == "" {
		return 0, badRequest("Reference is required", "Transaction.Reference")
	}
	cents, e := amountCents(in.Amount)
	if e != nil {
		return 0, e
	}
	if in.CurrencyCode != "" && !strings.EqualFold(in.CurrencyCode, "AUD") {
		return 0, badRequest("CurrencyCode must be AUD", "Transaction.CurrencyCode")
	}
	return cents, nil
}

// realtimeCard takes a real-time card payment of cents with card m, for
// payer p (nil: anonymous), and writes the answer.
func (s *Sim) realtimeCard(w http.ResponseWriter, bid string, p *payer, m method, in paymentReq, cents int64, now time.Time) *apiError {
	t, sub, e := s.takeRealtime(bid, p, m, in, cents, now)
	if e != nil {
		return e
	}
	if sub == "R5" {
		return fail(http.StatusInternalServerError, "InternalServerError", "An error has occurred, please retry", "Server Error")
	}
	resp := map[string]any{"transactionId": t.rtID, "reference": t.reference, "statusCode": "S", "subStatusCode": nil,
		"statusDescription": nil, "processedAmount": dollars(cents)}
	if sub != "" {
		resp["statusCode"], resp["subStatusCode"], resp["statusDescription"], resp["processedAmount"] = "F", sub, statusText("R", sub), 0
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

// takeRealtime records a real-time card payment (the API's, or a hosted
// page's) and returns it with its rejection code ("" when approved).
func (s *Sim) takeRealtime(bid string, p *payer, m method, in paymentReq, cents int64, now time.Time) (*transaction, string, *apiError) {
	if s.refs[bid+"/"+in.Reference] {
		return nil, "", fail(http.StatusConflict, "DuplicateTransaction", "A transaction with the same identifier already exists", "Transaction.Reference")
	}
	s.refs[bid+"/"+in.Reference] = true
	t := s.newTransaction(bid, p, in.Reference, in.Description, cents)
	t.typ, t.kind, t.method = "RT", "card", m
	s.seqRT++
	t.rtID = "RT" + strconv.Itoa(s.seqRT)
	s.byID[bid+"/"+t.rtID] = t
	sub := cardTrigger(cents)
	n := now.In(s.loc)
	if sub == "" && (m.expYear < n.Year() || (m.expYear == n.Year() && m.expMonth < int(n.Month()))) {
		sub = "R4"
	}
	if sub == "" && p != nil && !active(p.statusCode) {
		sub = "R17"
	}
	if sub == "" {
		t.events = []event{{at: now, status: "S"}}
		if l, ok := s.late[bid+"/"+in.Reference]; ok {
			addLate(t, l)
		}
	} else {
		t.events = []event{{at: now, status: "R", sub: sub}}
	}
	return t, sub, nil
}

func (s *Sim) schedulePayment(w http.ResponseWriter, bid, ref string, body []byte, now time.Time) *apiError {
	p, e := s.payer(bid, ref)
	if e != nil {
		return e
	}
	var in paymentReq
	if e := decode(body, &in); e != nil {
		return e
	}
	if in.Date == "" {
		return badRequest("The Date field is required.", "Date")
	}
	d, err := time.ParseInLocation(time.DateOnly, in.Date, s.loc)
	if err != nil {
		return badRequest("Date must be a date (YYYY-MM-DD)", "Date")
	}
	if in.Date < now.In(s.loc).Format(time.DateOnly) {
		return badRequest("Date must not be in the past", "Date")
	}
	cents, e := amountCents(in.Amount)
	if e != nil {
		return e
	}
	if p.method == nil {
		return fail(http.StatusBadRequest, "InvalidPaymentMethod", "The payer has no payment details", "Payer")
	}
	if in.Reference != "" {
		// Whether schedules enforce a unique Reference is not known (spec
		// §6.4): only the inferred mode refuses a reuse.
		if s.refs[bid+"/"+in.Reference] && s.opts.Inferred {
			return fail(http.StatusConflict, "DuplicateTransaction", "A transaction with the same identifier already exists", "Reference")
		}
		s.refs[bid+"/"+in.Reference] = true
	}
	s.seqSched++
	sc := &schedule{id: strconv.Itoa(s.seqSched), bid: bid, payerRef: ref, date: in.Date, runAt: s.debitRun(d),
		amount: cents, reference: in.Reference, description: in.Description, status: "SCHEDULED", created: now}
	s.scheds = append(s.scheds, sc)
	writeJSON(w, http.StatusOK, map[string]any{"scheduledPaymentId": sc.id})
	return nil
}

func scheduleJSON(sc *schedule) map[string]any {
	return map[string]any{"scheduledPaymentId": sc.id, "reference": sc.reference, "description": sc.description,
		"date": sc.date, "amount": dollars(sc.amount), "status": sc.status, "payerUniqueReference": sc.payerRef}
}

func (s *Sim) listSchedules(w http.ResponseWriter, bid, ref, reference string) *apiError {
	if _, e := s.payer(bid, ref); e != nil {
		return e
	}
	out := []map[string]any{}
	for _, sc := range s.scheds {
		if sc.bid == bid && sc.payerRef == ref && sc.status == "SCHEDULED" && (reference == "" || sc.reference == reference) {
			out = append(out, scheduleJSON(sc))
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Sim) oneSchedule(w http.ResponseWriter, bid, ref, id string, del bool) *apiError {
	if _, e := s.payer(bid, ref); e != nil {
		return e
	}
	for _, sc := range s.scheds {
		if sc.bid == bid && sc.payerRef == ref && sc.id == id && sc.status == "SCHEDULED" {
			if del {
				sc.status = "DELETED"
			}
			writeJSON(w, http.StatusOK, scheduleJSON(sc))
			return nil
		}
	}
	return fail(http.StatusNotFound, "InvalidScheduledPayment", "No scheduled payment with that id is waiting to be processed", "ScheduledPaymentId")
}

// ---- transactions

func bankJSON(m method) map[string]any {
	return map[string]any{"accountBranch": m.bsb, "accountNumber": m.account, "accountName": m.accountName, "accountType": m.accountType}
}

func cardJSON(m method) map[string]any {
	return map[string]any{"cardNumber": m.cardMasked, "cardholderName": m.holder,
		"cardExpires": fmt.Sprintf("%04d-%02d-01T00:00:00", m.expYear, m.expMonth), "cardType": m.brand}
}

func (s *Sim) txJSON(t *transaction, cur int) map[string]any {
	ev := t.events[cur]
	var sub, secondary, schedID any
	if ev.sub != "" {
		sub = ev.sub
	}
	if t.rtID != "" {
		secondary = t.rtID
	}
	if t.scheduleID != "" {
		schedID = t.scheduleID
	}
	typeDesc, pm := map[string]string{"RT": "Realtime Payment - Website", "PDB": "Payer Debit - Bank Account",
		"PDC": "Payer Debit - Credit Card", "RF": "Refund"}[t.typ], "BANKACCOUNT"
	var card, bank any
	if t.method.kind == "card" {
		pm = strings.ToUpper(t.method.brand)
		card = cardJSON(t.method)
	} else if t.method.kind == "bank" {
		bank = bankJSON(t.method)
	}
	processed := t.amount
	if ev.status == "R" || ev.status == "L" {
		processed = 0
	}
	out := map[string]any{
		"business":      map[string]any{"businessId": t.bid, "businessName": "Payrix Sandbox"},
		"time":          ev.at.UTC().Format("2006-01-02T15:04:05.00+00:00"),
		"transactionId": t.id, "secondaryTransactionId": secondary, "scheduledPaymentId": schedID,
		"reference": t.reference, "description": t.description, "scheduleReference": nil,
		"amount": dollars(processed), "amountRequested": dollars(t.amount), "amountRefunded": dollars(t.refunded),
		"currency": t.currency, "type": t.typ, "typeDescription": typeDesc,
		"statusCode": ev.status, "subStatusCode": sub, "statusDescription": statusText(ev.status, ev.sub),
		"paymentMethod": pm, "card": card, "bankAccount": bank,
		"payer": map[string]any{"payerId": t.payerSnap.payerID, "uniqueReference": t.payerSnap.ref,
			"familyOrBusinessName": t.payerSnap.family, "givenName": t.payerSnap.given},
		"rejectionRecovery": nil, "verification": nil, "source": nil,
	}
	return out
}

func (s *Sim) feed(w http.ResponseWriter, bid string, r *http.Request, now time.Time) *apiError {
	q := r.URL.Query()
	skip, take := 0, 500
	if v := q.Get("skip"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return badRequest("skip must be a non-negative number", "skip")
		}
		skip = n
	}
	if v := q.Get("take"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			return badRequest("take must be between 1 and 500", "take")
		}
		take = n
	}
	types, statuses := q["type"], q["status"]
	type item struct {
		t   *transaction
		cur int
	}
	var items []item
	for _, t := range s.txs {
		if t.bid != bid || t.kind == "refund" {
			continue
		}
		cur := t.current(now)
		if cur < 0 || cur <= t.acked {
			continue
		}
		if len(types) > 0 && !contains(types, t.typ) || len(statuses) > 0 && !contains(statuses, t.events[cur].status) {
			continue
		}
		items = append(items, item{t, cur})
	}
	sort.SliceStable(items, func(i, j int) bool {
		a, b := items[i].t.events[items[i].cur].at, items[j].t.events[items[j].cur].at
		if !a.Equal(b) {
			return a.Before(b)
		}
		return items[i].t.id < items[j].t.id
	})
	out := []map[string]any{}
	for i := skip; i < len(items) && i < skip+take; i++ {
		out = append(out, s.txJSON(items[i].t, items[i].cur))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if strings.EqualFold(x, v) {
			return true
		}
	}
	return false
}

func (s *Sim) ack(w http.ResponseWriter, bid string, body []byte, now time.Time) *apiError {
	var in struct {
		TransactionID json.RawMessage `json:"TransactionId"`
		StatusCode    string
	}
	if e := decode(body, &in); e != nil {
		return e
	}
	id := scalar(in.TransactionID)
	if id == "" || in.StatusCode == "" {
		return badRequest("TransactionId and StatusCode are required", "TransactionId")
	}
	t := s.byID[bid+"/"+id]
	if t == nil || t.kind == "refund" {
		return fail(http.StatusNotFound, "InvalidTransaction", "No transaction with that id", "TransactionId")
	}
	cur := t.current(now)
	if cur < 0 {
		return fail(http.StatusNotFound, "InvalidTransaction", "No transaction with that id", "TransactionId")
	}
	known := false
	for i := 0; i <= cur; i++ {
		if t.events[i].status == in.StatusCode {
			known = true
		}
	}
	if !known {
		return badRequest("StatusCode does not match the transaction", "StatusCode")
	}
	// Only the current status is acknowledged; acknowledging an older one
	// leaves the newer change in the feed.
	if t.events[cur].status == in.StatusCode && cur > t.acked {
		t.acked = cur
	}
	writeJSON(w, http.StatusOK, map[string]any{"transactionId": t.id, "statusCode": t.events[cur].status})
	return nil
}

func (s *Sim) lookup(w http.ResponseWriter, bid, kind, reference string, now time.Time) *apiError {
	if reference == "" {
		return badRequest("reference is required", "reference")
	}
	var found []map[string]any
	for _, t := range s.txs {
		if t.bid == bid && t.kind == kind && t.reference == reference {
			if cur := t.current(now); cur >= 0 {
				found = append(found, s.txJSON(t, cur))
			}
		}
	}
	if s.opts.LookupShape == "list" {
		if found == nil {
			found = []map[string]any{}
		}
		writeJSON(w, http.StatusOK, found)
		return nil
	}
	if len(found) == 0 {
		return fail(http.StatusNotFound, "NotFound", "No transaction with that reference", "reference")
	}
	writeJSON(w, http.StatusOK, found[len(found)-1])
	return nil
}

func (s *Sim) refund(w http.ResponseWriter, bid, kind, id string, body []byte, now time.Time) *apiError {
	orig := s.byID[bid+"/"+id]
	if orig == nil || orig.kind != kind {
		return fail(http.StatusNotFound, "InvalidTransaction", "No transaction with that id", "TransactionId")
	}
	var in paymentReq
	if e := decode(body, &in); e != nil {
		return e
	}
	if strings.TrimSpace(in.Reference) == "" {
		return badRequest("Reference is required", "Reference")
	}
	cents, e := amountCents(in.Amount)
	if e != nil {
		return e
	}
	cur := orig.current(now)
	if cur < 0 || orig.events[cur].status != "S" {
		return fail(http.StatusBadRequest, "FunctionNotAllowed", "Only settled transactions can be refunded", "TransactionId")
	}
	if cents > orig.amount-orig.refunded {
		return badRequest("The refund exceeds the amount left to refund", "Amount")
	}
	if s.refs[bid+"/"+in.Reference] {
		return fail(http.StatusConflict, "DuplicateTransaction", "A transaction with the same identifier already exists", "Reference")
	}
	s.refs[bid+"/"+in.Reference] = true
	orig.refunded += cents
	p := s.payers[bid+"/"+orig.payerRef]
	t := s.newTransaction(bid, p, in.Reference, in.Description, cents)
	t.typ, t.kind, t.originalID, t.method = "RF", "refund", orig.id, orig.method
	t.events = []event{{at: now, status: "S"}}
	writeJSON(w, http.StatusOK, map[string]any{"transactionId": t.id, "reference": t.reference, "statusCode": "S",
		"subStatusCode": nil, "statusDescription": "Settled", "processedAmount": dollars(cents), "amount": dollars(cents)})
	return nil
}
