package charge_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/splynx-pay/splynx-pay/gateways"
	"github.com/splynx-pay/splynx-pay/gateways/integrapay/integrapaysim"
	"github.com/splynx-pay/splynx-pay/gateways/ippay"
	"github.com/splynx-pay/splynx-pay/gateways/ippay/ippaysim"
	"github.com/splynx-pay/splynx-pay/internal/clock"
	"github.com/splynx-pay/splynx-pay/internal/config"
	"github.com/splynx-pay/splynx-pay/internal/money"
	"github.com/splynx-pay/splynx-pay/internal/simstack"
	"github.com/splynx-pay/splynx-pay/internal/wire"
	"github.com/splynx-pay/splynx-pay/splynx"
	"github.com/splynx-pay/splynx-pay/splynx/splynxsim"
	"github.com/splynx-pay/splynx-pay/store"
	"github.com/splynx-pay/splynx-pay/sync/charge"
	"github.com/splynx-pay/splynx-pay/sync/mirror"
)

// Clearly fake test numbers accepted by the simulators.
const (
	testPAN     = "4111111111111111"
	testBSB     = "062000"
	testAUAcct  = "12345678"
	testABA     = "111000025"
	testUSAcct  = "000123456789"
	methodCard  = 3
	methodBank  = 2
	apiKey      = "charge-test-key"
	apiSecret   = "charge-test-secret"
	gwIntegra   = "integrapay"
	gwIPpay     = "ippay"
	settleDays  = 3
	stateOfDemo = "QLD"
)

// env is one scenario: Splynx, one gateway, one database file, one clock.
type env struct {
	t      *testing.T
	ctx    context.Context
	clk    *clock.Fake
	sp     *splynxsim.Sim
	spc    *splynx.Client
	kind   string
	ip     *integrapaysim.Sim
	pp     *ippaysim.Sim
	gwURL  string
	spSrv  string
	gw     gateways.Gateway
	dbPath string
	db     *store.DB
	set    charge.Policy
	hooks  charge.Hooks
	stop   chan struct{} // the engines' Options.Stopping; nil = never
	raw    *sql.DB
}

// inferredOn makes newEnv's gateway simulators also serve the paths and
// behaviours the specs do not confirm (IntegraPay's bank-payments and
// schedule look-ups, IPpay's returns report). Off is the default: money
// code must be right without them.
var inferredOn bool

// bothModes runs f with the simulators' inferred paths off, then on.
func bothModes(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	for _, on := range []bool{false, true} {
		name := "inferred=off"
		if on {
			name = "inferred=on"
		}
		t.Run(name, func(t *testing.T) {
			inferredOn = on
			defer func() { inferredOn = false }()
			f(t)
		})
	}
}

func newEnv(t *testing.T, kind string) *env {
	t.Helper()
	return newEnvSim(t, kind, splynxsim.Options{})
}

// newEnvSim is newEnv with the simulated Splynx's options.
func newEnvSim(t *testing.T, kind string, simOpts splynxsim.Options) *env {
	t.Helper()
	addon := config.IntegraPay
	if kind == gwIPpay {
		addon = config.IPpay
	}
	st := simstack.Start(t, simstack.Options{Addon: addon, Inferred: inferredOn, // Start: a Monday
		APIKey: apiKey, APISecret: apiSecret,
		PaymentMethods: []splynxsim.PaymentMethod{{ID: 1, Name: "Cash", IsActive: true},
			{ID: methodBank, Name: "Bank transfer", IsActive: true}, {ID: methodCard, Name: "Credit card", IsActive: true}},
		IPpaySim:  ippaysim.Options{ACHSettleDays: settleDays},
		SplynxSim: simOpts, ServerClients: true, SplynxTimeout: 5 * time.Second,
		SplynxOptions:  []splynx.Option{splynx.WithRetryWait(time.Millisecond, 5*time.Millisecond)},
		GatewayTimeout: 2 * time.Second, GatewayOperator: "charge-test",
		DBPath: filepath.Join(t.TempDir(), "pay.db")})
	e := &env{t: t, ctx: context.Background(), clk: st.Clock, kind: kind, sp: st.Splynx, spc: st.SplynxClient,
		ip: st.IntegraPay, pp: st.IPpay, gwURL: st.GatewayURL, spSrv: st.SplynxURL, gw: st.Gateway, dbPath: st.DBPath, db: st.DB}
	e.set = testPolicy(t, map[string]string{"payment_method_card": fmt.Sprint(methodCard),
		"payment_method_bank": fmt.Sprint(methodBank), "charge_concurrency": "4", "fee_transaction_category": "2"})
	if kind == gwIPpay {
		e.set.Currency = "USD"
	}
	// restart replaces the stack's database; the last one open is closed here.
	t.Cleanup(func() { e.db.Close() })
	return e
}

func (e *env) spURL() string { return e.spSrv }

func (e *env) open() {
	var err error
	e.db, err = store.Open(e.ctx, e.dbPath, nil)
	if err != nil {
		e.t.Fatal(err)
	}
}

// restart closes the database and opens it again: what a new process sees.
func (e *env) restart() {
	e.db.Close()
	e.open()
}

func (e *env) engine() *charge.Engine {
	return charge.New(e.db, e.spc, e.gw, charge.Options{Policy: e.set, Clock: e.clk, Hooks: e.hooks,
		ProgressEvery: 20 * time.Millisecond, Stopping: e.stop})
}

func (e *env) sync() {
	e.t.Helper()
	if _, err := mirror.New(e.db, e.spc, mirror.Options{Clock: e.clk}).Full(e.ctx); err != nil {
		e.t.Fatalf("mirror: %v", err)
	}
}

type custOpt func(*splynxsim.Customer)

func blocked(c *splynxsim.Customer) { c.Status = "blocked" }
func noAutopay(c *splynxsim.Customer) {
	c.AdditionalAttributes = map[string]string{"autopay": "0"}
}

// customer adds a Splynx customer and, when method is "card" or "bank",
// saves that method through the engine (and so through the gateway).
func (e *env) customer(name, method string, opts ...custOpt) int64 {
	e.t.Helper()
	c := splynxsim.Customer{Name: name, Email: strings.ToLower(strings.ReplaceAll(name, " ", ".")) + "@example.com",
		Phone: "0733332222", Street1: "1 Test St", City: "Testville", ZipCode: "4001"}
	for _, o := range opts {
		o(&c)
	}
	id := e.sp.AddCustomer(c)
	if method != "" {
		e.save(id, method)
	}
	return id
}

func (e *env) save(id int64, method string) store.SavedMethodRow {
	e.t.Helper()
	c, _ := e.sp.Customer(id)
	req := gateways.SaveMethodRequest{Payer: gateways.Payer{Reference: fmt.Sprint(id), CustomerID: id, GivenName: c.Name,
		FamilyName: "Test", Email: c.Email, Phone: c.Phone, Street: c.Street1, City: c.City, State: stateOfDemo,
		PostCode: c.ZipCode, Country: "AU"},
		Authorisation: gateways.Authorisation{AcceptedAt: e.clk.Now(), IP: "192.0.2.10"}}
	switch {
	case method == "card":
		req.Card = &gateways.CardDetails{Number: testPAN, ExpMonth: 12, ExpYear: 2030, CVV: "123", Holder: c.Name}
	case method == "bank" && e.kind == gwIPpay:
		req.Payer.Country = "US"
		req.Authorisation.SEC = "WEB"
		req.Bank = &gateways.BankDetails{Branch: testABA, AccountNumber: testUSAcct, AccountName: c.Name, AccountType: "CHECKING"}
	case method == "bank":
		req.Bank = &gateways.BankDetails{Branch: testBSB, AccountNumber: testAUAcct, AccountName: c.Name, AccountType: "CHEQUE"}
	}
	m, err := e.engine().SaveMethod(e.ctx, req, "I authorise debits (test)")
	if err != nil {
		e.t.Fatalf("save %s method for customer %d: %v", method, id, err)
	}
	return m
}

// invoice adds an unpaid invoice; due < total makes it partly paid.
func (e *env) invoice(cust int64, total, due string) int64 {
	inv := splynxsim.Invoice{CustomerID: cust, Total: money.MustParse(total), Status: "not_paid",
		Items: []splynxsim.InvoiceItem{{Description: "Internet", Quantity: 1, Price: money.MustParse(total)}}}
	if due != "" {
		inv.Due = money.MustParse(due)
	}
	return e.sp.AddInvoice(inv)
}

// settle moves the clock by business days and runs the engine's cycle.
func (e *env) advance(days int) {
	e.clk.Set(clock.AddBusinessDays(e.clk.Now(), days).Add(time.Hour))
}

func (e *env) cycle(en *charge.Engine) {
	e.t.Helper()
	if err := en.Cycle(e.ctx); err != nil {
		e.t.Fatalf("cycle: %v", err)
	}
}

// settleAll runs cycles until every debit has settled, the clock moving a
// business day at a time.
func (e *env) settleAll(en *charge.Engine) {
	e.t.Helper()
	for range 8 {
		e.cycle(en)
		e.advance(1)
	}
	e.cycle(en)
}

func (e *env) attempts() []store.ChargeAttempt {
	e.t.Helper()
	as, err := e.db.ListAttempts(e.ctx, store.AttemptFilter{})
	if err != nil {
		e.t.Fatal(err)
	}
	return as
}

// gatewayApproved returns our references whose money the gateway holds
// (settled or approved, not returned, dishonoured, refunded or voided),
// with the amount, and every reference the gateway ever saw.
func (e *env) gatewayApproved() (approved map[string]int64, seen map[string]bool) {
	approved, seen = map[string]int64{}, map[string]bool{}
	switch e.kind {
	case gwIntegra:
		for _, en := range e.ip.Ledger() {
			if en.Kind == "refund" {
				continue
			}
			seen[en.Reference] = true
			if en.Status == "S" && en.Refunded == 0 {
				approved[en.Reference] = en.Amount
			}
		}
	case gwIPpay:
		byTx := map[string]string{}
		for _, a := range e.attempts() {
			byTx[ippay.TransactionID(a.Reference)] = a.Reference
		}
		for _, en := range e.pp.Ledger() {
			if en.Type != "SALE" && en.Type != "CHECK" {
				continue
			}
			ref, ok := byTx[en.TransactionID]
			if !ok {
				e.t.Errorf("gateway holds transaction %s that no attempt made", en.TransactionID)
				continue
			}
			seen[ref] = true
			if (en.State == "approved" || en.State == "settled") && en.Refunded == 0 {
				approved[ref] = en.Amount
			}
		}
	}
	return approved, seen
}

// checkLedgers asserts the three ledgers agree: every approved gateway
// charge has exactly one Splynx payment, every Splynx payment we made
// matches one approved gateway charge, no charge (invoice) was paid twice,
// and no attempt is left unresolved.
func (e *env) checkLedgers() {
	e.t.Helper()
	approved, _ := e.gatewayApproved()
	byRef := map[string]store.ChargeAttempt{}
	for _, a := range e.attempts() {
		byRef[a.Reference] = a
		switch a.State {
		case store.StateCreated, store.StateSending, store.StateUnknown, store.StatePending, store.StateApproved, "review":
			e.t.Errorf("attempt %s (%s) left %s", a.Reference, a.ChargeKey, a.State)
		}
	}
	ours := map[string][]splynxsim.Payment{}
	for _, p := range e.sp.Payments() {
		if strings.HasPrefix(p.Field2, "SP") && p.Amount > 0 {
			ours[p.Field2] = append(ours[p.Field2], p)
		}
	}
	// A superseded attempt's money went to the balance, not the document.
	superseded := map[string]bool{}
	if rows, err := e.sqlDB().QueryContext(e.ctx, `SELECT reference FROM charge_attempts WHERE superseded = 1`); err == nil {
		for rows.Next() {
			var ref string
			if rows.Scan(&ref) == nil {
				superseded[ref] = true
			}
		}
		rows.Close()
	}
	perCharge := map[string]int{}
	for ref, amt := range approved {
		ps := ours[ref]
		if len(ps) != 1 {
			e.t.Errorf("gateway charge %s has %d Splynx payments, want 1", ref, len(ps))
			continue
		}
		if int64(ps[0].Amount) != amt {
			e.t.Errorf("charge %s: Splynx payment %s, gateway %s", ref, ps[0].Amount, money.Amount(amt))
		}
		a, ok := byRef[ref]
		if !ok {
			e.t.Errorf("gateway charge %s is not ours", ref)
			continue
		}
		if a.State != store.StateRecorded || a.SplynxPaymentID != ps[0].ID {
			e.t.Errorf("attempt %s is %s with payment %d, Splynx has %d", ref, a.State, a.SplynxPaymentID, ps[0].ID)
		}
		if !superseded[ref] {
			perCharge[a.ChargeKey]++
		}
	}
	for ref, ps := range ours {
		if _, ok := approved[ref]; !ok {
			e.t.Errorf("Splynx payment(s) %v for %s without an approved gateway charge", ps[0].ID, ref)
		}
	}
	for k, n := range perCharge {
		if n > 1 && !strings.HasPrefix(k, "balance:") {
			e.t.Errorf("charge %s was paid %d times", k, n)
		}
	}
}

func (e *env) invoiceStatus(id int64) (string, money.Amount) {
	inv, ok := e.sp.Invoice(id)
	if !ok {
		e.t.Fatalf("invoice %d gone", id)
	}
	return inv.Status, inv.Due
}

// testPolicy is the IntegraPay add-on's policy from the settings table's
// defaults and the module values given, without gateway pacing.
func testPolicy(t testing.TB, module map[string]string) charge.Policy {
	t.Helper()
	s, err := config.ParseSettingsFor(config.IntegraPay, module, nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := wire.ChargePolicy(s)
	if err != nil {
		t.Fatal(err)
	}
	p.GatewayRateLimit = 0
	return p
}

// sqlDB is the test's own connection to the database file, apart from the
// store, to look at rows (or forge one for a test's setup) where store has
// no function for it.
func (e *env) sqlDB() *sql.DB {
	e.t.Helper()
	if e.raw == nil {
		db, err := sql.Open("sqlite3", "file:"+e.dbPath+"?_busy_timeout=10000&_foreign_keys=on")
		if err != nil {
			e.t.Fatal(err)
		}
		e.t.Cleanup(func() { db.Close() })
		e.raw = db
	}
	return e.raw
}
