package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/splynx-pay/splynx-pay/gateways"
	"github.com/splynx-pay/splynx-pay/gateways/integrapay"
	"github.com/splynx-pay/splynx-pay/gateways/integrapay/integrapaysim"
	"github.com/splynx-pay/splynx-pay/gateways/ippay"
	"github.com/splynx-pay/splynx-pay/internal/clock"
	"github.com/splynx-pay/splynx-pay/internal/config"
	"github.com/splynx-pay/splynx-pay/internal/money"
	"github.com/splynx-pay/splynx-pay/internal/wire"
	"github.com/splynx-pay/splynx-pay/splynx/splynxsim"
	"github.com/splynx-pay/splynx-pay/store"
	"github.com/splynx-pay/splynx-pay/sync/charge"
	"github.com/splynx-pay/splynx-pay/sync/mirror"
)

const nightSection = "Charge night (Splynx ↔ gateway ↔ SQLite)"

// Clearly fake test numbers the simulators accept.
const (
	demoPAN    = "4111111111111111"
	demoBSB    = "062000"
	demoAUAcct = "12345678"
	demoABA    = "111000025"
	demoUSAcct = "000123456789"
)

// demoMethods is how many customers get a saved method.
const demoMethods = 60

// runNight runs a whole night of the charge engine on the simulators:
// saved methods, preview, the run, settlement two business days later,
// write-back, a dishonour, a retry, and the history. It fails when the
// three ledgers disagree.
func runNight(ctx context.Context, e *Env, w io.Writer) error {
	if e.Gateway == nil {
		gw, err := demoGateway(e)
		if err != nil {
			return fmt.Errorf("gateway client: %w", err)
		}
		e.Gateway = gw
	}
	pol, err := wire.ChargePolicy(e.Settings)
	if err != nil {
		return err
	}
	pol.AutoCharge = true // the night is the auto_charge=1 run, retries included
	en := charge.New(e.DB, e.Client, e.Gateway, charge.Options{Policy: pol, Clock: e.Clock,
		Logger: e.Log.Named("charge")})
	cards, banks, err := seedMethods(ctx, e, en)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\n== Charge night on %s ==\nSaved methods: %d cards, %d bank accounts (via %s SaveMethod)\n",
		e.Gateway.Name(), cards, banks, e.Gateway.Name())

	pv, err := en.Preview(ctx, charge.Filters{Mode: charge.ModeInvoices})
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "\nPreview (nothing charged yet):")
	charge.PrintPreview(w, pv, false)

	res, err := en.Run(ctx, en.NightlyFilters(), charge.RunOptions{Source: charge.SourceAuto, StartedBy: "demo"})
	if err != nil {
		return err
	}
	fmt.Fprintln(w)
	charge.PrintRunTotals(w, res)
	// Done counts items skipped at the last moment too (paid in Splynx
	// since the sync): every planned item was looked at exactly once.
	e.Report.Check(nightSection, "planned invoices handled", pv.Count, res.Progress.Done)

	// Two business days later the bank debits settle; IPpay ACH needs its
	// return window, so keep going a day at a time.
	for i := range 6 {
		advanceBusinessDays(e.Clock, 1)
		if err := en.Cycle(ctx); err != nil {
			return fmt.Errorf("settle (day %d): %w", i+1, err)
		}
	}
	recorded := countStates(ctx, e.DB)
	fmt.Fprintf(w, "After settlement and write-back: %s\n", recorded)

	// A settled bank debit is dishonoured.
	rev, err := injectDishonour(ctx, e, en)
	if err != nil {
		return fmt.Errorf("dishonour: %w", err)
	}
	fmt.Fprintf(w, "Dishonour injected on %s → attempt %s; Splynx payment removed, invoice open again\n", rev.Reference, rev.State)
	e.Report.Check(nightSection, "dishonoured charge reversed", string(store.StateReversed), string(rev.State))
	if inv, ok := e.Splynx.Invoice(rev.InvoiceID); ok && rev.InvoiceID != 0 {
		e.Report.Check(nightSection, "dishonoured invoice open again", "not_paid", inv.Status)
	}

	// A retryable decline, then the retry days later.
	first, second, err := retryScenario(ctx, e, en)
	if err != nil {
		return fmt.Errorf("retry: %w", err)
	}
	fmt.Fprintf(w, "Retryable decline %s (%s %s), retried %s later as %s (try %d) → %s\n", first.Reference, first.Reason,
		first.Code, second.CreatedAt.Sub(first.CreatedAt).Round(time.Hour), second.Reference, second.AttemptNo, second.State)
	e.Report.Check(nightSection, "retry charged after retry_days", string(store.StateRecorded), string(second.State))

	runs, err := e.DB.ListRuns(ctx, 20)
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "\nCharge history:")
	charge.PrintRuns(w, runs)
	fmt.Fprintf(w, "Attempts: %s\n", countStates(ctx, e.DB))

	problems := checkLedgers(ctx, e)
	e.Report.Check(nightSection, "gateway, Splynx and SQLite ledgers agree", 0, len(problems))
	if e.Kind == config.IPpay {
		e.Report.Note(nightSection, "ACH debits went through terminal", achTerminals(e))
	}
	if len(problems) > 0 {
		return fmt.Errorf("ledgers disagree: %s", strings.Join(problems, "; "))
	}
	return nil
}

// achTerminals names the IPpay terminals that took the night's ACH debits
// (one terminal serves both unless ippay_ach_terminal_id is set).
func achTerminals(e *Env) string {
	seen := map[string]bool{}
	var out []string
	for _, en := range e.IPpay.Ledger() {
		if en.Type == "CHECK" && !seen[en.TerminalID] {
			seen[en.TerminalID] = true
			out = append(out, en.TerminalID)
		}
	}
	if len(out) == 0 {
		return "none"
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}

// demoGateway builds the add-on's gateway client on the simulators when
// the caller gave no factory.
func demoGateway(e *Env) (gateways.Gateway, error) {
	s := e.Settings
	if e.Kind == config.IPpay {
		return ippay.New(ippay.Config{URL: s.IPpayURL, CardTerminalID: s.IPpayTerminalID, ACHTerminalID: s.IPpayACHTerminalID,
			SEC: s.IPpayACHSEC, SettleDays: s.IPpayACHSettleDays, ReturnsURL: s.IPpayReturnsURL, Timeout: 10 * time.Second},
			ippay.WithClock(e.Clock), ippay.WithLogger(e.Log.Named("gateway")))
	}
	return integrapay.New(integrapay.Config{AuthURL: s.IntegraPayAuthURL, APIURL: s.IntegraPayAPIURL, Username: s.IntegraPayUsername,
		Password: s.IntegraPayPassword, BusinessID: s.IntegraPayBusinessID, Timeout: 10 * time.Second, Operator: "demo"},
		integrapay.WithClock(e.Clock), integrapay.WithLogger(e.Log.Named("gateway")))
}

func advanceBusinessDays(c *clock.Fake, n int) {
	c.Set(clock.AddBusinessDays(c.Now(), n))
}

// seedMethods saves a card or bank account for customers that have unpaid
// invoices, alternating, through the real gateway client.
func seedMethods(ctx context.Context, e *Env, en *charge.Engine) (cards, banks int, err error) {
	cs, err := e.DB.CustomersOwing(ctx, demoMethods)
	if err != nil {
		return 0, 0, err
	}
	country, state := "AU", "NSW"
	if e.Kind == config.IPpay {
		country, state = "US", "TX"
	}
	for i, c := range cs {
		given, family, _ := strings.Cut(c.Name, " ")
		if family == "" {
			family = "Customer"
		}
		req := gateways.SaveMethodRequest{
			Payer: gateways.Payer{Reference: fmt.Sprint(c.ID), CustomerID: c.ID, GivenName: given, FamilyName: family,
				Email: c.Email, Phone: c.Phone, Street: c.Street1, City: c.City, State: state, PostCode: c.ZipCode, Country: country},
			Authorisation: gateways.Authorisation{AcceptedAt: e.Clock.Now(), IP: "192.0.2.1"},
		}
		if i%3 == 2 {
			if e.Kind == config.IPpay {
				req.Authorisation.SEC = "WEB"
				req.Bank = &gateways.BankDetails{Branch: demoABA, AccountNumber: demoUSAcct, AccountName: c.Name, AccountType: "CHECKING"}
			} else {
				req.Bank = &gateways.BankDetails{Branch: demoBSB, AccountNumber: demoAUAcct, AccountName: c.Name, AccountType: "CHEQUE"}
			}
			banks++
		} else {
			req.Card = &gateways.CardDetails{Number: demoPAN, ExpMonth: 12, ExpYear: 2030, CVV: "123", Holder: c.Name}
			cards++
		}
		if _, err := en.SaveMethod(ctx, req, "Demo debit authorisation"); err != nil {
			return cards, banks, err
		}
	}
	return cards, banks, nil
}

func countStates(ctx context.Context, db *store.DB) string {
	totals, err := db.AttemptTotals(ctx)
	if err != nil {
		return err.Error()
	}
	var parts []string
	for _, t := range totals {
		parts = append(parts, fmt.Sprintf("%s %d (%s)", t.State, t.Count, money.Amount(t.Amount)))
	}
	return strings.Join(parts, ", ")
}

// injectDishonour makes one recorded bank charge (or, with none, a card
// charge) bounce at the gateway and lets the engine apply it.
func injectDishonour(ctx context.Context, e *Env, en *charge.Engine) (store.ChargeAttempt, error) {
	as, err := e.DB.ListAttempts(ctx, store.AttemptFilter{States: []store.AttemptState{store.StateRecorded}})
	if err != nil {
		return store.ChargeAttempt{}, err
	}
	var pick *store.ChargeAttempt
	for i := range as {
		if as[i].MethodKind == "bank" && as[i].Kind == store.KindInvoice {
			pick = &as[i]
			break
		}
	}
	if pick == nil {
		return store.ChargeAttempt{}, errors.New("no recorded bank debit to dishonour")
	}
	switch e.Kind {
	case config.IPpay:
		if err := e.IPpay.InjectReturn(ippay.TransactionID(pick.Reference), "R10"); err != nil {
			return *pick, err
		}
	default:
		e.IntegraPay.InjectLate(pick.Reference, integrapaysim.Late{SubStatus: "R7", After: time.Hour})
		e.Clock.Advance(2 * time.Hour)
	}
	for range 2 {
		if err := en.Cycle(ctx); err != nil {
			return *pick, err
		}
	}
	return e.DB.GetAttempt(ctx, pick.ID)
}

// retryScenario adds an invoice whose card charge is declined for
// insufficient funds (the simulators decline by the cents), lets the
// customer pay the odd cents in cash, and shows the retry retry_days later.
func retryScenario(ctx context.Context, e *Env, en *charge.Engine) (first, second store.ChargeAttempt, err error) {
	ms, err := e.DB.ListMethods(ctx, 0, store.MethodActive)
	if err != nil {
		return first, second, err
	}
	var cust int64
	for _, m := range ms {
		if m.Kind == "card" {
			cust = m.CustomerID
			break
		}
	}
	if cust == 0 {
		return first, second, errors.New("no customer with a card")
	}
	cents := "61" // IntegraPay: insufficient funds (R1)
	if e.Kind == config.IPpay {
		cents = "51" // IPpay: 051 insufficient funds
	}
	odd := money.MustParse("0." + cents)
	inv := e.Splynx.AddInvoice(splynxsim.Invoice{CustomerID: cust, Status: "not_paid", Total: money.MustParse("39." + cents),
		Items: []splynxsim.InvoiceItem{{Description: "Demo retry", Quantity: 1, Price: money.MustParse("39." + cents)}}})
	e.Clock.Advance(time.Minute)
	if _, err := mirror.New(e.DB, e.Client, mirror.Options{Clock: e.Clock, Logger: e.Log.Named("mirror"),
		HistoryMonths: demoHistoryMonths}).Incremental(ctx); err != nil {
		return first, second, err
	}
	if _, err := en.Run(ctx, charge.Filters{IDs: []int64{inv}}, charge.RunOptions{Source: charge.SourceAdmin, StartedBy: "demo"}); err != nil {
		return first, second, err
	}
	key := fmt.Sprintf("invoice:%d", inv)
	if first, err = e.DB.LatestAttempt(ctx, key); err != nil {
		return first, second, err
	}
	if first.State != store.StateDeclined || !first.Retryable {
		return first, second, fmt.Errorf("the demo decline came back %s (retryable %v)", first.State, first.Retryable)
	}
	if _, err := e.Splynx.AddPayment(splynxsim.Payment{CustomerID: cust, InvoiceID: inv, PaymentType: 1, Amount: odd,
		ReceiptNumber: "DEMO-CASH-" + first.Reference}); err != nil {
		return first, second, err
	}
	e.Clock.Set(first.NextRetryAt.Add(time.Minute))
	for range 2 {
		if err := en.Cycle(ctx); err != nil {
			return first, second, err
		}
	}
	second, err = e.DB.LatestAttempt(ctx, key)
	return first, second, err
}

// checkLedgers compares the gateway's ledger, Splynx's payments and our
// attempts: every approved gateway charge has exactly one Splynx payment of
// the same amount, every payment we made matches an approved charge, no
// invoice is charged twice, and nothing is left unresolved.
func checkLedgers(ctx context.Context, e *Env) []string {
	var problems []string
	as, err := e.DB.ListAttempts(ctx, store.AttemptFilter{})
	if err != nil {
		return []string{err.Error()}
	}
	byRef := map[string]store.ChargeAttempt{}
	byTx := map[string]string{}
	for _, a := range as {
		byRef[a.Reference] = a
		byTx[ippay.TransactionID(a.Reference)] = a.Reference
		if a.State.Live() && a.State != store.StatePending {
			problems = append(problems, fmt.Sprintf("attempt %s left %s", a.Reference, a.State))
		}
	}
	approved := map[string]int64{}
	pending := map[string]bool{}
	switch e.Kind {
	case config.IPpay:
		for _, en := range e.IPpay.Ledger() {
			if en.Type != "SALE" && en.Type != "CHECK" {
				continue
			}
			ref, ok := byTx[en.TransactionID]
			if !ok {
				problems = append(problems, "gateway transaction "+en.TransactionID+" made by nobody we know")
				continue
			}
			if en.Refunded == 0 && (en.State == "approved" || en.State == "settled") {
				if byRef[ref].State == store.StatePending {
					pending[ref] = true
					continue
				}
				approved[ref] = en.Amount
			}
		}
	default:
		for _, en := range e.IntegraPay.Ledger() {
			if en.Kind == "refund" {
				continue
			}
			switch en.Status {
			case "S":
				if en.Refunded == 0 {
					approved[en.Reference] = en.Amount
				}
			case "P", "C", "SCHEDULED":
				pending[en.Reference] = true
			}
		}
	}
	ours := map[string][]splynxsim.Payment{}
	for _, p := range e.Splynx.Payments() {
		if strings.HasPrefix(p.Field2, "SP") && p.Amount > 0 {
			ours[p.Field2] = append(ours[p.Field2], p)
		}
	}
	perCharge := map[string]int{}
	for ref, amt := range approved {
		ps := ours[ref]
		if len(ps) != 1 {
			problems = append(problems, fmt.Sprintf("gateway charge %s has %d Splynx payments", ref, len(ps)))
			continue
		}
		if int64(ps[0].Amount) != amt {
			problems = append(problems, fmt.Sprintf("charge %s: Splynx %s, gateway %s", ref, ps[0].Amount, money.Amount(amt)))
		}
		a := byRef[ref]
		if a.State != store.StateRecorded {
			problems = append(problems, fmt.Sprintf("attempt %s is %s", ref, a.State))
		}
		perCharge[a.ChargeKey]++
	}
	for ref := range ours {
		if _, ok := approved[ref]; !ok {
			problems = append(problems, "Splynx payment for "+ref+" without an approved gateway charge")
		}
	}
	for k, n := range perCharge {
		if n > 1 {
			problems = append(problems, fmt.Sprintf("%s paid %d times", k, n))
		}
	}
	e.Report.Check(nightSection, "approved gateway charges = our Splynx payments", len(approved), len(ours))
	if len(pending) > 0 {
		e.Report.Note(nightSection, "debits still pending settlement", fmt.Sprint(len(pending)))
	}
	return problems
}
