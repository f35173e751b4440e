package integrapaysim

// Hosted pages (spec §8): POST services/tokens/hpp/ and services/tokens/eddr/
// create a token valid for 20 minutes on the simulator's clock and answer
// {token, redirectToUrl}; the page itself is served by this handler at
// /ui/hpp/api/{token} and /ui/eddr/api/{token} (the sandbox's paths), a plain
// HTML form: card number, name, expiry and CCV for HPP; BSB, account number,
// name, type and the Direct Debit Request acceptance for eDDR. Submitting it
// saves the payer's details (eDDR always; HPP when Payer.SavePayer) and, for
// HPP with a Transaction, takes the real-time card payment with the
// transaction's Reference (so transactions/card-payments/?reference= finds
// it, and the cents triggers apply). The token is then PROCESSED_SUCCESSFUL
// whatever the payment's outcome (as in the spec's fixture: a completed page
// with a rejected transaction) and the browser goes to
// ReturnUrl?webPageToken={token}. "Cancel" makes it CANCELLED. GET
// services/tokens/{token} is the lookup.
//
// Confirmed and served by default: the two create paths, the request
// fields, the answer, 20 minutes, the return, the lookup with its statuses,
// transaction, payer and events. Inferred, behind options:
//   - HostedSaveCard: an HPP token without a Transaction (a page that only
//     saves a card). Without it such a request is BadRequest
//     "Transaction is required".
//   - Inferred: the eDDR lookup shows the saved account as payer.bankAccount
//     (with the full account number, as transaction records do). Without it
//     the lookup shows no account details, the strictest reading.
// The event names (CREATED, VALIDATED, DDR_ACCEPTED, PROCESSED_SUCCESSFUL,
// CANCELLED) are our own.

import (
	"encoding/json"
	"fmt"
	"html/template"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// HostedTTL is how long a hosted page token can be used.
const HostedTTL = 20 * time.Minute

type hostedEvent struct {
	name, description, ip string
	at                    time.Time
}

type hostedToken struct {
	token, bid, kind, template string
	returnURL, redirectURL     string
	status                     string
	created, expires           time.Time
	payer                      payerReq
	savePayer                  bool
	tx                         *paymentReq
	cents                      int64
	txn                        *transaction
	saved                      *method
	request                    json.RawMessage
	events                     []hostedEvent
}

type hostedReq struct {
	ReturnUrl             string //nolint:revive // the API's spelling
	Template              string
	CardAuthorizationType string
	Transaction           *paymentReq
	Payer                 *struct {
		payerReq
		SavePayer bool
	}
}

// HostedView is what tests may see of a hosted page token.
type HostedView struct {
	Token, Kind, Status, PayerRef, Reference string
	SavePayer                                bool
	Expires                                  time.Time
}

// Hosted returns a hosted page token's state as of the clock.
func (s *Sim) Hosted(token string) (HostedView, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.hosted[token]
	if h == nil {
		return HostedView{}, false
	}
	s.expireHosted(h, s.clk.Now())
	v := HostedView{Token: h.token, Kind: h.kind, Status: h.status, PayerRef: string(h.payer.UniqueReference), SavePayer: h.savePayer, Expires: h.expires}
	if h.tx != nil {
		v.Reference = h.tx.Reference
	}
	return v, true
}

func (s *Sim) createHosted(c *call, kind string) *apiError {
	var in hostedReq
	if e := decode(c.body, &in); e != nil {
		return e
	}
	ru, err := url.Parse(in.ReturnUrl)
	if in.ReturnUrl == "" || err != nil || ru.Host == "" {
		return badRequest("The ReturnUrl field is required.", "ReturnUrl")
	}
	if strings.TrimSpace(in.Template) == "" {
		return badRequest("The Template field is required.", "Template")
	}
	if kind == "EDDR" && in.Template != "Basic-eDDR" || kind == "HPP" && in.Template == "Basic-eDDR" {
		return fail(http.StatusBadRequest, "InvalidTemplate", "The template is not valid for this page", "Template")
	}
	if in.Payer == nil || strings.TrimSpace(string(in.Payer.UniqueReference)) == "" || strings.TrimSpace(in.Payer.FamilyOrBusinessName) == "" {
		if kind == "EDDR" || in.Payer != nil && in.Payer.SavePayer {
			return badRequest("The Payer UniqueReference and FamilyOrBusinessName fields are required.", "Payer")
		}
	}
	h := &hostedToken{bid: c.bid, kind: kind, template: in.Template, returnURL: in.ReturnUrl, status: "WAITING",
		created: c.now, expires: c.now.Add(HostedTTL), request: json.RawMessage(c.body)}
	if in.Payer != nil {
		h.payer, h.savePayer = in.Payer.payerReq, in.Payer.SavePayer || kind == "EDDR"
	}
	switch {
	case kind == "EDDR" && in.Transaction != nil:
		return badRequest("An eDDR page takes no Transaction", "Transaction")
	case kind == "HPP" && in.Transaction == nil:
		if !s.opts.HostedSaveCard || !h.savePayer {
			return badRequest("Transaction is required", "Transaction")
		}
	case in.Transaction != nil:
		cents, e := checkRealtime(*in.Transaction)
		if e != nil {
			return e
		}
		if s.refs[c.bid+"/"+in.Transaction.Reference] {
			return fail(http.StatusConflict, "DuplicateTransaction", "A transaction with the same identifier already exists", "Transaction.Reference")
		}
		h.tx, h.cents = in.Transaction, cents
	}
	s.seqTok++
	h.token = fmt.Sprintf("%08x-%04x-4%03x-a%03x-%012x", 0x65026106+s.seqTok, s.seqTok&0xffff, s.seqTok&0xfff, len(s.hosted)&0xfff, c.now.UnixNano()&0xffffffffffff)
	base := s.opts.HostedURL
	if base == "" {
		// Where this handler is mounted (a demo serves it under a path
		// prefix, which the request line still shows).
		mount := strings.SplitN(c.r.RequestURI, "?", 2)[0]
		if i := strings.Index(mount, "/businesses/"); i > 0 {
			mount = mount[:i]
		} else {
			mount = ""
		}
		base = "http://" + c.r.Host + mount
	}
	h.redirectURL = strings.TrimRight(base, "/") + "/ui/" + strings.ToLower(kind) + "/api/" + h.token
	h.events = []hostedEvent{{name: "CREATED", description: "Token created", at: c.now}}
	s.hosted[h.token] = h
	writeJSON(c.w, http.StatusOK, map[string]any{"token": h.token, "redirectToUrl": h.redirectURL})
	return nil
}

// expireHosted moves an unfinished token past its 20 minutes to EXPIRED.
func (s *Sim) expireHosted(h *hostedToken, now time.Time) {
	if (h.status == "WAITING" || h.status == "VALIDATED") && !now.Before(h.expires) {
		h.status = "EXPIRED"
		h.events = append(h.events, hostedEvent{name: "EXPIRED", description: "Token expired", at: h.expires})
	}
}

func (s *Sim) lookupHosted(c *call, token string) *apiError {
	h := s.hosted[token]
	if h == nil || h.bid != c.bid {
		return fail(http.StatusNotFound, "NotFound", "No resource with that identifier", "token")
	}
	s.expireHosted(h, c.now)
	var tx, payerOut any
	if h.txn != nil {
		tx = s.txJSON(h.txn, len(h.txn.events)-1)
	}
	if p := s.payers[h.bid+"/"+string(h.payer.UniqueReference)]; p != nil && h.savePayer && h.status == "PROCESSED_SUCCESSFUL" {
		po := s.payerJSON(p)
		// The spec's eDDR example writes these four in PascalCase.
		for camel, pascal := range map[string]string{"groupReference": "GroupReference", "familyOrBusinessName": "FamilyOrBusinessName",
			"givenName": "GivenName", "email": "Email"} {
			po[pascal] = po[camel]
			delete(po, camel)
		}
		if s.opts.Inferred && h.saved != nil && h.saved.kind == "bank" {
			po["bankAccount"] = bankJSON(*h.saved)
		}
		payerOut = po
	} else if h.payer.UniqueReference != "" {
		payerOut = map[string]any{"uniqueReference": string(h.payer.UniqueReference), "FamilyOrBusinessName": h.payer.FamilyOrBusinessName,
			"GivenName": h.payer.GivenName}
	}
	var card any
	if h.txn == nil && h.saved != nil && h.saved.kind == "card" {
		// A card saved without a payment (HostedSaveCard, inferred).
		card = cardJSON(*h.saved)
	}
	events := []map[string]any{}
	for _, ev := range h.events {
		var ip any
		if ev.ip != "" {
			ip = ev.ip
		}
		events = append(events, map[string]any{"event": ev.name, "time": ev.at.UTC().Format("2006-01-02T15:04:05.000+00:00"),
			"description": ev.description, "username": nil, "ip": ip})
	}
	typeName := map[string]string{"HPP": "HPP", "EDDR": "EDDR"}[h.kind]
	writeJSON(c.w, http.StatusOK, map[string]any{
		"token": h.token, "type": typeName, "time": h.created.UTC().Format("2006-01-02T15:04:05.000+00:00"),
		"status": h.status, "statusDescription": hostedStatusText(h.status), "returnUrl": h.returnURL,
		"redirectToUrl": h.redirectURL, "template": h.template, "templateName": h.template,
		"transaction": tx, "payer": payerOut, "card": card, "schedule": nil, "requestHpp": h.request, "events": events,
	})
	return nil
}

func hostedStatusText(st string) string {
	return map[string]string{"WAITING": "URL not yet opened", "VALIDATED": "URL loaded", "PROCESSED_SUCCESSFUL": "Completed successfully",
		"PROCESSED_REJECTED": "Opened, not completed, closed", "CANCELLED": "Cancelled on the confirmation page",
		"ERROR": "Internal error", "EXPIRED": "Token expired"}[st]
}

func clientIP(r *http.Request) string {
	if f := r.Header.Get("X-Forwarded-For"); f != "" {
		return strings.TrimSpace(strings.Split(f, ",")[0])
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

type hostedPageData struct {
	Kind, Token, Error, Status string
	Amount, Description        string
	Holder, AccountName        string
	Done                       bool
}

// hostedPage serves the page of a token: GET shows the form, POST submits
// it. Called with s.mu held.
func (s *Sim) hostedPage(w http.ResponseWriter, r *http.Request, kind, token string, body []byte) {
	now := s.clk.Now()
	h := s.hosted[token]
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if h == nil || strings.ToLower(h.kind) != kind {
		w.WriteHeader(http.StatusNotFound)
		_ = hostedTmpl.Execute(w, hostedPageData{Error: "This payment page does not exist.", Done: true})
		return
	}
	s.expireHosted(h, now)
	d := hostedPageData{Kind: h.kind, Token: h.token, Status: h.status, Holder: strings.TrimSpace(h.payer.GivenName + " " + h.payer.FamilyOrBusinessName)}
	d.AccountName = d.Holder
	if h.tx != nil {
		d.Amount, d.Description = string(dollars(h.cents)), h.tx.Description
	}
	if h.status != "WAITING" && h.status != "VALIDATED" {
		d.Done = true
		d.Error = map[string]string{"EXPIRED": "This payment page has expired. Please go back and start again."}[h.status]
		if d.Error == "" {
			d.Error = "This payment page was already used."
		}
		w.WriteHeader(http.StatusGone)
		_ = hostedTmpl.Execute(w, d)
		return
	}
	ip := clientIP(r)
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		if h.status == "WAITING" {
			h.status = "VALIDATED"
			h.events = append(h.events, hostedEvent{name: "VALIDATED", description: "Page opened", ip: ip, at: now})
		}
		_ = hostedTmpl.Execute(w, d)
		return
	}
	if r.Method != http.MethodPost {
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	form, _ := url.ParseQuery(string(body))
	back := func() {
		u := h.returnURL
		sep := "?"
		if strings.Contains(u, "?") {
			sep = "&"
		}
		http.Redirect(w, r, u+sep+"webPageToken="+url.QueryEscape(h.token), http.StatusSeeOther)
	}
	if form.Get("action") == "cancel" {
		h.status = "CANCELLED"
		h.events = append(h.events, hostedEvent{name: "CANCELLED", description: "Cancelled by the payer", ip: ip, at: now})
		back()
		return
	}
	var m method
	var e *apiError
	if h.kind == "EDDR" {
		m, e = hostedBank(form)
	} else {
		ccv := form.Get("ccv")
		m, e = s.checkCard(cardReq{CardNumber: form.Get("card_number"), CardholderName: form.Get("cardholder"),
			ExpiryMonth: flexInt(atoi(form.Get("exp_month"))), ExpiryYear: flexInt(atoi(form.Get("exp_year"))), Ccv: &ccv}, now)
	}
	if e != nil {
		d.Error = e.message
		w.WriteHeader(http.StatusUnprocessableEntity)
		_ = hostedTmpl.Execute(w, d)
		return
	}
	ref := string(h.payer.UniqueReference)
	var p *payer
	if h.savePayer {
		p = s.payers[h.bid+"/"+ref]
		if p == nil {
			s.seqPayer++
			p = &payer{bid: h.bid, ref: ref, payerID: fmt.Sprint(s.seqPayer), created: now}
			s.payers[h.bid+"/"+ref] = p
		}
		p.apply(h.payer)
		p.statusCode = "A"
		mm := m
		p.method = &mm
		h.saved = &mm
	}
	if h.kind == "EDDR" {
		h.events = append(h.events, hostedEvent{name: "DDR_ACCEPTED", description: "Direct Debit Request service agreement accepted", ip: ip, at: now})
	}
	if h.tx != nil {
		snap := p
		if snap == nil {
			snap = &payer{bid: h.bid, ref: ref, statusCode: "A"}
			snap.apply(h.payer)
		}
		t, _, e := s.takeRealtime(h.bid, snap, m, *h.tx, h.cents, now)
		if e != nil {
			h.status = "ERROR"
			h.events = append(h.events, hostedEvent{name: "ERROR", description: e.message, ip: ip, at: now})
			back()
			return
		}
		if p == nil {
			// An anonymous payment: the payer is only a snapshot.
			t.payerRef = ref
		}
		h.txn = t
	}
	h.status = "PROCESSED_SUCCESSFUL"
	h.events = append(h.events, hostedEvent{name: "PROCESSED_SUCCESSFUL", description: "Page completed", ip: ip, at: now})
	back()
}

func atoi(s string) int {
	n := 0
	for _, c := range strings.TrimSpace(s) {
		if c < '0' || c > '9' {
			return -1
		}
		n = n*10 + int(c-'0')
		if n > 1e6 {
			return -1
		}
	}
	return n
}

// hostedBank checks the eDDR form: the account and the DDR acceptance.
func hostedBank(form url.Values) (method, *apiError) {
	bsb, ok := digitsOnly(strings.ReplaceAll(strings.TrimSpace(form.Get("bsb")), "-", ""))
	if !ok || len(bsb) != 6 {
		return method{}, badRequest("The BSB must be 6 digits", "AccountBranch")
	}
	acct, ok := digitsOnly(strings.TrimSpace(form.Get("account_number")))
	if !ok || len(acct) < 5 || len(acct) > 9 {
		return method{}, badRequest("The account number must be 5 to 9 digits", "AccountNumber")
	}
	name := strings.TrimSpace(form.Get("account_name"))
	if name == "" {
		return method{}, badRequest("The account name is required", "AccountName")
	}
	typ := strings.ToUpper(form.Get("account_type"))
	if typ != "SAVINGS" {
		typ = "CHEQUE"
	}
	if form.Get("ddr_accept") != "1" {
		return method{}, badRequest("Please accept the Direct Debit Request service agreement", "DDR")
	}
	return method{kind: "bank", bsb: bsb, account: acct, accountName: name, accountType: typ}, nil
}

var hostedTmpl = template.Must(template.New("hosted").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Payrix secure payment</title>
<style>
body{font-family:system-ui,sans-serif;background:#eef2f5;margin:0;color:#222}
header{background:#0b3a5b;color:#fff;padding:12px 20px;font-weight:600}
main{max-width:460px;margin:24px auto;background:#fff;border-radius:6px;padding:20px 24px;box-shadow:0 1px 3px rgba(0,0,0,.15)}
label{display:block;margin:10px 0 4px;font-size:14px}
input[type=text],select{width:100%;box-sizing:border-box;padding:8px;border:1px solid #bbb;border-radius:4px;font-size:15px}
.row{display:flex;gap:10px}.row>div{flex:1}
.err{background:#fde8e8;color:#8a1c1c;padding:8px 10px;border-radius:4px}
.ddr{max-height:160px;overflow:auto;border:1px solid #ddd;padding:8px;font-size:13px;background:#fafafa}
button{margin-top:16px;padding:10px 18px;border:0;border-radius:4px;background:#0b6bcb;color:#fff;font-size:15px}
button.link{background:none;color:#0b6bcb;padding:10px 0 0 16px}
.amount{font-size:20px;font-weight:600}
</style></head><body><header>Payrix secure payment page (simulator)</header><main>
{{if .Error}}<p class="err" id="hosted-error">{{.Error}}</p>{{end}}
{{if not .Done}}
<form method="post">
{{if eq .Kind "HPP"}}
  {{if .Amount}}<p>{{.Description}}</p><p class="amount" id="hosted-amount">AUD {{.Amount}}</p>{{else}}<p>Save your card for future payments.</p>{{end}}
  <label for="card_number">Card number</label><input type="text" id="card_number" name="card_number" autocomplete="cc-number" inputmode="numeric">
  <label for="cardholder">Name on card</label><input type="text" id="cardholder" name="cardholder" value="{{.Holder}}">
  <div class="row"><div><label for="exp_month">Expiry month</label><input type="text" id="exp_month" name="exp_month" placeholder="MM"></div>
  <div><label for="exp_year">Expiry year</label><input type="text" id="exp_year" name="exp_year" placeholder="YYYY"></div>
  <div><label for="ccv">CCV</label><input type="text" id="ccv" name="ccv" inputmode="numeric"></div></div>
  <button type="submit" id="hosted-submit">{{if .Amount}}Pay now{{else}}Save card{{end}}</button>
{{else}}
  <p>Direct debit from your bank account.</p>
  <div class="row"><div><label for="bsb">BSB</label><input type="text" id="bsb" name="bsb" inputmode="numeric"></div>
  <div><label for="account_number">Account number</label><input type="text" id="account_number" name="account_number" inputmode="numeric"></div></div>
  <label for="account_name">Account name</label><input type="text" id="account_name" name="account_name" value="{{.AccountName}}">
  <label for="account_type">Account type</label><select id="account_type" name="account_type"><option>CHEQUE</option><option>SAVINGS</option></select>
  <p><strong>Direct Debit Request service agreement</strong></p>
  <div class="ddr">You authorise the merchant, through Payrix Australia, to debit the account above through the Bulk Electronic
  Clearing System (BECS) for the amounts due under your agreement with the merchant. (Simulator text.)</div>
  <label><input type="checkbox" id="ddr_accept" name="ddr_accept" value="1"> I accept the Direct Debit Request service agreement</label>
  <button type="submit" id="hosted-submit">Submit</button>
{{end}}
  <button type="submit" class="link" name="action" value="cancel" id="hosted-cancel">Cancel</button>
</form>
{{end}}
</main></body></html>`))
