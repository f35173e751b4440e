// Package splynxsim is an in-memory Splynx REST API v2 simulator: a real
// HTTP server (http.Handler) that follows specs/splynx-api.md, for tests,
// the demo, end-to-end runs and benchmarks.
//
// Wire behaviour: GET 200, POST 201 {"id": N}, PUT 202, DELETE 204, HEAD
// 200/204 with X-total-count; 404 for an unknown id or path, 405 for a
// method a path does not serve, 422 for validation failures (Yii style
// [{"field","message"}] by default); other errors use
// {"error":{"message","code","internal_code"}}. Lists are bare JSON arrays.
// Ids come as strings ("7332") and money as "100.0000" unless Options say
// otherwise; empty dates are "0000-00-00" / "0000-00-00 00:00:00".
//
// Money follows one ledger model: the customer's billing deposit is
// credits minus debits. Creating an invoice (AddInvoice, Seed, POST) is a
// debit of its total, so the deposit falls by the total; every payment is a
// credit of its amount, so the deposit rises by the whole amount (a payment
// of exactly the due cancels the invoice's debit, any excess remains as
// credit, a payment with no invoice is all credit, a negative payment — a
// refund — lowers the deposit). A payment with invoice_id lowers that
// invoice's due by up to the due; covering it marks the invoice paid
// (payment_id, date_payment, due 0). A payment with request_id marks the
// proforma paid when it covers the total (a proforma itself never touches
// the deposit). Deleting a payment reverses exactly what it did. Deleting
// an unpaid invoice (status deleted) credits back its due; one with live
// payments cannot be deleted. Debit/credit transactions POSTed to
// finance/transactions move the deposit the same way. So for every
// customer, deposit == Σ payments − Σ totals of non-deleted invoices
// + Σ credit − Σ debit transactions (+ any deposit set by SetBilling).
//
// Every change moves date_updated (invoices, proformas), updated_at
// (payments) and the customer's last_update (customer and billing changes,
// including deposit changes caused by payments and invoices).
package splynxsim

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/splynx-pay/splynx-pay/internal/clock"
	"github.com/splynx-pay/splynx-pay/internal/simkit"
)

// Options switch the simulator between the variants the spec leaves open.
// The zero value is the default Splynx behaviour.
type Options struct {
	Clock          *clock.Fake   // nil → a fake clock at 2026-11-02 09:00 UTC
	HeadStatus     int           // 200 or 204 for HEAD counts (0 → 204)
	ConfigShape    string        // "flat" (default) | "nested" module-config GET response
	IDsAsNumbers   bool          // ids and flags as JSON numbers instead of strings
	MoneyAsNumbers bool          // money as JSON numbers instead of "100.0000"
	TokenTTL       time.Duration // access token lifetime (0 → 30m)
	RefreshTTL     time.Duration // refresh token lifetime (0 → 24h)
	// NoBillingList makes GET admin/customers/customer-billing (the list,
	// an unconfirmed endpoint) answer 404, as a Splynx without it would.
	// Inverted from the contract's "BillingList bool // default true"
	// because a Go bool cannot default to true.
	NoBillingList bool
	// RefuseBillingList, NoRangeSearch and NoInSearch: see strict.go.
	RefuseBillingList bool
	NoRangeSearch     bool
	NoInSearch        bool
	// ValidationShape picks the 422 body: "yii" (default)
	// [{"field","message"}], "error" (the {"error":{...}} shape with
	// INVALID_INPUT_DATA) or "text" (a plain-text body).
	ValidationShape string
	// RequestLogCap bounds Requests() (0 → 100000; oldest dropped first).
	RequestLogCap int
	// Latency delays answers as a real Splynx would (see latency.go).
	Latency Latency
}

// Sim is the simulator. All methods are safe for concurrent use.
type Sim struct {
	opts  Options
	clock *clock.Fake

	mu           sync.RWMutex
	customers    table[custRec]
	invoices     table[docRec]
	proformas    table[docRec]
	payments     table[payRec]
	transactions table[Transaction]
	statements   table[BankStatement]
	stmtRecords  table[BankStatementRecord]
	methods      []PaymentMethod
	accountDefs  []PaymentAccountDef
	accounts     map[[2]int64]*PaymentAccount
	partners     []Partner
	locations    []Location
	afs          map[string][]AdditionalField
	afNameIdx    map[string][]string
	modules      []Module
	config       map[string]*moduleConfig
	next         map[string]int64 // last id handed out per entity; ids are never reused

	auth authState

	routeOnce sync.Once
	router    *http.ServeMux

	faults  simkit.Injector
	log     *simkit.Log[RequestRecord]
	latency latencyState
}

// New returns an empty simulator (no API keys, no records). Call Seed for
// data and AddAPIKey before making requests.
func New(opts Options) *Sim {
	if opts.Clock == nil {
		opts.Clock = clock.NewFake(time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC))
	}
	if opts.HeadStatus == 0 {
		opts.HeadStatus = http.StatusNoContent
	}
	if opts.ConfigShape == "" {
		opts.ConfigShape = "flat"
	}
	if opts.TokenTTL == 0 {
		opts.TokenTTL = 30 * time.Minute
	}
	if opts.RefreshTTL == 0 {
		opts.RefreshTTL = 24 * time.Hour
	}
	if opts.ValidationShape == "" {
		opts.ValidationShape = "yii"
	}
	if opts.RequestLogCap == 0 {
		opts.RequestLogCap = 100000
	}
	s := &Sim{
		opts:      opts,
		clock:     opts.Clock,
		accounts:  map[[2]int64]*PaymentAccount{},
		afs:       map[string][]AdditionalField{},
		afNameIdx: map[string][]string{},
		config:    map[string]*moduleConfig{},
		next:      map[string]int64{},
		log:       simkit.NewLog[RequestRecord](opts.RequestLogCap),
	}
	s.customers.idOf = func(r *custRec) int64 { return r.c.ID }
	s.invoices.idOf = func(r *docRec) int64 { return r.id }
	s.proformas.idOf = func(r *docRec) int64 { return r.id }
	s.payments.idOf = func(r *payRec) int64 { return r.id }
	s.transactions.idOf = func(r *Transaction) int64 { return r.ID }
	s.statements.idOf = func(r *BankStatement) int64 { return r.ID }
	s.stmtRecords.idOf = func(r *BankStatementRecord) int64 { return r.ID }
	s.auth.init()
	s.SetLatency(opts.Latency)
	return s
}

// Clock returns the simulator's clock; tokens expire and records are
// stamped on it.
func (s *Sim) Clock() *clock.Fake { return s.clock }

func (s *Sim) now() time.Time { return s.clock.Now() }

// nextID hands out the next id of an entity (ids are never reused, as in
// MySQL auto-increment).
func (s *Sim) nextID(entity string, atLeast int64) int64 {
	n := s.next[entity] + 1
	if atLeast > n {
		n = atLeast
	}
	s.next[entity] = n
	return n
}

// Handler serves the API under /api/2.0/.
func (s *Sim) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

// rctx is one request being served. Responses are buffered so a fault can
// corrupt or drop them after the state change happened.
type rctx struct {
	s      *Sim
	r      *http.Request
	method string
	rel    string // path below /api/2.0/
	rest   string // path below the route, without the leading slash
	query  string
	body   []byte
	route  *route
	who    *principal
	w      jw

	status int
	header http.Header
	out    []byte
	// records is how many records the answer lists, for the latency
	// model (a single-record GET: 1).
	records int

	malformed bool
}

type route struct {
	prefix     string
	controller string // API key permission controller
	noAuth     bool
	handle     func(c *rctx)
}

func (s *Sim) routes() []*route {
	return []*route{
		{prefix: "admin/auth/tokens", noAuth: true, handle: s.hTokens},
		{prefix: "admin/api/check", noAuth: true, handle: s.hCheck},
		{prefix: "admin/auth/two-factor-status", noAuth: true, handle: s.hTwoFactorStatus},
		{prefix: "admin/customers/customer", controller: `api\admin\customers\Customer`, handle: s.hCustomers},
		{prefix: "admin/customers/customer-billing", controller: `api\admin\customers\CustomerBilling`, handle: s.hBilling},
		{prefix: "admin/customers/customer-payment-accounts", controller: `api\admin\customers\CustomerPaymentAccounts`, handle: s.hPaymentAccounts},
		{prefix: "admin/customers/customer-payment-account-data", controller: `api\admin\customers\CustomerPaymentAccounts`, handle: s.hPaymentAccountData},
		{prefix: "admin/finance/invoices", controller: `api\admin\finance\Invoices`, handle: s.hInvoices},
		{prefix: "admin/finance/proforma-invoices", controller: `api\admin\finance\Requests`, handle: s.hProformas},
		{prefix: "admin/finance/payments", controller: `api\admin\finance\Payments`, handle: s.hPayments},
		{prefix: "admin/finance/payment-methods", controller: `api\admin\finance\PaymentMethods`, handle: s.hPaymentMethods},
		{prefix: "admin/finance/invoice-relations", controller: `api\admin\finance\InvoiceRelations`, handle: s.hInvoiceRelations},
		{prefix: "admin/finance/transactions", controller: `api\admin\finance\Transactions`, handle: s.hTransactions},
		{prefix: "admin/finance/bank-statements", controller: `api\admin\finance\BankStatements`, handle: s.hStatements},
		{prefix: "admin/finance/bank-statements-records", controller: `api\admin\finance\BankStatementsRecords`, handle: s.hStatementRecords},
		{prefix: "admin/config/config", controller: `api\admin\config\Config`, handle: s.hConfig},
		{prefix: "admin/config/modules", controller: `api\admin\config\Modules`, handle: s.hModules},
		{prefix: "admin/config/additional-fields", controller: `api\admin\config\AdditionalFields`, handle: s.hAdditionalFields},
		{prefix: "admin/administration/partners", controller: `api\admin\administration\Partners`, handle: s.hPartners},
		{prefix: "admin/administration/locations", controller: `api\admin\administration\Locations`, handle: s.hLocations},
	}
}

// routesMux serves each route at its path and below it ({rest...}: an id,
// a token, a sub-resource); everything else is Splynx's 404. A route
// dispatches on the method itself, since Splynx answers 405 in its own
// error shape and HEAD and OPTIONS differ by controller.
func (s *Sim) routesMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		sr := r.Context().Value(servingKey{}).(*serving)
		sr.c.fail(http.StatusNotFound, "NOT_FOUND", "Page not found")
		s.finish(w, sr.c, sr.rec, nil)
	})
	for _, rt := range s.routes() {
		h := func(w http.ResponseWriter, r *http.Request) {
			sr := r.Context().Value(servingKey{}).(*serving)
			sr.c.route = rt
			sr.c.rest = strings.TrimPrefix(strings.TrimPrefix(sr.c.rel, rt.prefix), "/")
			s.serveRoute(w, sr.c, sr.rec)
		}
		mux.HandleFunc(apiPrefix+rt.prefix, h)
		mux.HandleFunc(apiPrefix+rt.prefix+"/{rest...}", h)
	}
	return mux
}

// serving is the request being served, handed through the router.
type serving struct {
	c   *rctx
	rec *RequestRecord
}

type servingKey struct{}

// cleanPath reports whether p has no empty, "." or ".." segment (a
// trailing slash aside). The router would redirect such a path; Splynx
// answers 404.
func cleanPath(p string) bool {
	for _, seg := range strings.Split(strings.TrimSuffix(strings.TrimPrefix(p, "/"), "/"), "/") {
		if seg == "" || seg == "." || seg == ".." {
			return false
		}
	}
	return true
}

const apiPrefix = "/api/2.0/"

func (s *Sim) serveHTTP(w http.ResponseWriter, r *http.Request) {
	c := &rctx{s: s, r: r, method: r.Method, query: r.URL.RawQuery, header: http.Header{}}
	c.w.idsNum, c.w.moneyNum = s.opts.IDsAsNumbers, s.opts.MoneyAsNumbers
	rec := RequestRecord{Time: s.now(), Method: r.Method, Path: strings.TrimPrefix(r.URL.Path, apiPrefix), Query: r.URL.RawQuery, UserAgent: r.UserAgent()}
	rec.AuthScheme, rec.Key, rec.Nonce = describeAuth(r.Header.Get("Authorization"))
	body, err := io.ReadAll(io.LimitReader(r.Body, 4<<20))
	if err != nil {
		rec.Status = 400
		s.record(rec)
		http.Error(w, "read body", http.StatusBadRequest)
		return
	}
	c.body = body
	rec.Body = capString(string(body), 2048)

	if !strings.HasPrefix(r.URL.Path, apiPrefix) || !cleanPath(r.URL.Path) {
		c.fail(http.StatusNotFound, "NOT_FOUND", "Page not found")
		s.finish(w, c, &rec, nil)
		return
	}
	c.rel = strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, apiPrefix), "/")
	s.routeOnce.Do(func() { s.router = s.routesMux() })
	// The router matches the decoded path, as the old prefix table did.
	u := *r.URL
	u.RawPath = ""
	r2 := r.WithContext(context.WithValue(r.Context(), servingKey{}, &serving{c: c, rec: &rec}))
	r2.URL = &u
	s.router.ServeHTTP(w, r2)
}

// serveRoute serves a request whose route is known: fault, auth, handler.
func (s *Sim) serveRoute(w http.ResponseWriter, c *rctx, rec *RequestRecord) {
	r, rt := c.r, c.route
	f := s.faults.Take(r.Method, c.rel)
	if f != nil {
		simkit.Wait(r, f.Latency)
		if f.Drop {
			rec.Status = -1
			s.record(*rec)
			simkit.Drop(w)
			return
		}
		if f.Fail {
			if f.Body != "" {
				c.status, c.out = f.Status, []byte(f.Body)
				c.header.Set("Content-Type", "text/html; charset=UTF-8")
			} else {
				c.fail(f.Status, "SERVER_ERROR", "Internal server error")
			}
			s.finish(w, c, rec, nil)
			return
		}
		if f.Quirk {
			c.w.idsNum, c.w.moneyNum = !c.w.idsNum, !c.w.moneyNum
		}
		c.malformed = f.Malformed
	}

	if !rt.noAuth {
		if !s.authenticate(c) {
			s.finish(w, c, rec, nil)
			return
		}
		if !s.authorize(c) {
			s.finish(w, c, rec, nil)
			return
		}
	}
	rt.handle(c)
	s.delay(c)
	s.finish(w, c, rec, f)
}

func (s *Sim) finish(w http.ResponseWriter, c *rctx, rec *RequestRecord, f *simkit.Hit) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	rec.Status = c.status
	if f != nil && f.DropAfter {
		rec.Status = -1
		s.record(*rec)
		simkit.Drop(w)
		return
	}
	s.record(*rec)
	out := c.out
	if c.malformed && len(out) > 2 {
		out = append(out[:len(out)/2:len(out)/2], []byte(`,"trunc`)...)
	}
	for k, v := range c.header {
		w.Header()[k] = v
	}
	if len(out) > 0 && w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	}
	w.WriteHeader(c.status)
	if c.method != http.MethodHead && len(out) > 0 {
		_, _ = w.Write(out)
	}
}

// ---- responses ----

func (c *rctx) fail(status int, internal, msg string) {
	c.status = status
	var w jw
	w.open()
	w.key("error")
	w.open()
	w.str("message", msg)
	w.num("code", int64(status))
	w.str("internal_code", internal)
	w.close()
	w.close()
	c.out = w.bytes()
}

func (c *rctx) notFound() { c.fail(http.StatusNotFound, "NOT_FOUND", "Not found") }

func (c *rctx) methodNotAllowed() {
	c.fail(http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "Method Not Allowed")
}

func (c *rctx) badRequest(msg string) { c.fail(http.StatusBadRequest, "BAD_REQUEST", msg) }

// fieldError is one Yii2 validation message.
type fieldError struct{ field, message string }

func (c *rctx) invalid(errs ...fieldError) {
	c.status = http.StatusUnprocessableEntity
	switch c.s.opts.ValidationShape {
	case "error":
		msgs := make([]string, len(errs))
		for i, e := range errs {
			msgs[i] = e.field + ": " + e.message
		}
		c.fail(http.StatusUnprocessableEntity, "INVALID_INPUT_DATA", strings.Join(msgs, "; "))
	case "text":
		var b strings.Builder
		for _, e := range errs {
			b.WriteString(e.field + ": " + e.message + "\n")
		}
		c.out = []byte(b.String())
		c.header.Set("Content-Type", "text/plain; charset=UTF-8")
	default:
		var w jw
		w.openArr()
		for _, e := range errs {
			w.open()
			w.str("field", e.field)
			w.str("message", e.message)
			w.close()
		}
		w.closeArr()
		c.out = w.bytes()
	}
}

// ok sends the document built in c.w.
func (c *rctx) ok(status int) {
	c.status = status
	c.out = c.w.bytes()
}

func (c *rctx) created(id int64) {
	c.status = http.StatusCreated
	c.out = strconv.AppendInt([]byte(`{"id":`), id, 10)
	c.out = append(c.out, '}')
}

func (c *rctx) accepted() { c.status = http.StatusAccepted; c.out = []byte("true") }

func (c *rctx) noContent() { c.status = http.StatusNoContent; c.out = nil }

func (c *rctx) count(n int) {
	// Splynx spells it X-total-count, and its PHP client reads it case-
	// sensitively; Header.Set would send X-Total-Count.
	c.header["X-total-count"] = []string{strconv.Itoa(n)}
	c.header.Set("Access-Control-Expose-Headers", "X-total-count")
	c.status = c.s.opts.HeadStatus
	c.out = nil
}

// ---- request bodies ----

// obj is a decoded JSON object body with loose accessors: Splynx accepts
// "7332" and 7332 alike.
type obj map[string]any

func (c *rctx) decode() (obj, bool) {
	if len(bytes.TrimSpace(c.body)) == 0 {
		return obj{}, true
	}
	if form, ok, err := formBody(c.r.Header.Get("Content-Type"), c.body); ok {
		// Whether Splynx takes form posts for normal records is open in
		// the spec; Yii2 parses both form encodings, so accept them
		// (PHP-style nesting) rather than guess no.
		if err != nil {
			c.badRequest("Request body is not a valid form")
			return nil, false
		}
		root, err := parsePHPQuery(form)
		if err != nil {
			c.badRequest("Request body is not a valid form")
			return nil, false
		}
		m, _ := root.toAny().(map[string]any)
		return obj(m), true
	}
	dec := json.NewDecoder(bytes.NewReader(c.body))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		c.badRequest("Request body is not a JSON object")
		return nil, false
	}
	return obj(m), true
}

func (o obj) has(k string) bool { _, ok := o[k]; return ok }

func (o obj) str(k string) string {
	switch v := o[k].(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	case bool:
		if v {
			return "1"
		}
		return "0"
	case nil:
		return ""
	default:
		b, _ := json.Marshal(v)
		return string(b)
	}
}

// strMap reads a nested {"k":"v"} object such as additional_attributes.
func (o obj) strMap(k string) (map[string]string, bool) {
	m, ok := o[k].(map[string]any)
	if !ok {
		return nil, false
	}
	out := make(map[string]string, len(m))
	for kk := range m {
		out[kk] = obj(m).str(kk)
	}
	return out, true
}

// id parses an id field; ok is false when present but not an integer.
func (o obj) id(k string) (int64, bool) {
	s := strings.TrimSpace(o.str(k))
	if s == "" {
		return 0, true
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

func capString(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// parseIDPath reads "{id}" from the rest of a path.
func parseIDPath(rest string) (int64, bool) {
	n, err := strconv.ParseInt(rest, 10, 64)
	return n, err == nil && n > 0
}
