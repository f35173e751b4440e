package splynx_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/splynx-pay/splynx-pay/internal/money"
	"github.com/splynx-pay/splynx-pay/splynx"
	"github.com/splynx-pay/splynx-pay/splynx/splynxsim"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

const (
	testKey    = "splynxpaykey01"
	testSecret = "s3cr3t-do-not-leak-7781"
)

type env struct {
	sim  *splynxsim.Sim
	srv  *httptest.Server
	logs *observer.ObservedLogs
	log  *zap.Logger
}

// newEnv starts a simulator on a real loopback server and, at the end of
// the test, checks that no log line carried a secret.
func newEnv(t *testing.T, opts splynxsim.Options) *env {
	t.Helper()
	sim := splynxsim.New(opts)
	sim.AddAPIKey(testKey, testSecret)
	sim.AddPaymentMethod(splynxsim.PaymentMethod{ID: 3, Name: "Credit card", IsActive: true})
	srv := httptest.NewServer(sim.Handler())
	core, logs := observer.New(zapcore.DebugLevel)
	e := &env{sim: sim, srv: srv, logs: logs, log: zap.New(core)}
	t.Cleanup(func() {
		srv.Close()
		for _, l := range logs.All() {
			line := l.Message
			for k, v := range l.ContextMap() {
				line += fmt.Sprintf(" %s=%v", k, v)
			}
			for _, secret := range []string{testSecret, "pw-customer-9", "pw-admin-9", "424242"} {
				if strings.Contains(line, secret) {
					t.Errorf("log line leaks a secret: %s", line)
				}
			}
		}
	})
	return e
}

func (e *env) client(t *testing.T, mode splynx.AuthMode, opts ...splynx.Option) *splynx.Client {
	t.Helper()
	return e.clientWith(t, splynx.Config{APIKey: testKey, APISecret: testSecret, Auth: mode}, opts...)
}

func (e *env) clientWith(t *testing.T, cfg splynx.Config, opts ...splynx.Option) *splynx.Client {
	t.Helper()
	cfg.BaseURL = e.srv.URL
	if cfg.Timeout == 0 {
		cfg.Timeout = 5 * time.Second
	}
	opts = append([]splynx.Option{splynx.WithClock(e.sim.Clock()), splynx.WithLogger(e.log),
		splynx.WithRetryWait(time.Millisecond, 5*time.Millisecond)}, opts...)
	c, err := splynx.New(cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (e *env) requests(method, pathPrefix string) []splynxsim.RequestRecord {
	var out []splynxsim.RequestRecord
	for _, r := range e.sim.Requests() {
		if (method == "" || r.Method == method) && strings.HasPrefix(r.Path, pathPrefix) {
			out = append(out, r)
		}
	}
	return out
}

func (e *env) count401() int {
	n := 0
	for _, r := range e.sim.Requests() {
		if r.Status == http.StatusUnauthorized {
			n++
		}
	}
	return n
}

// waitFor polls cond until it holds, for things that happen on another
// goroutine (a page fetched ahead).
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in 5s")
		}
		time.Sleep(time.Millisecond)
	}
}

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

var bothModes = []struct {
	name string
	mode splynx.AuthMode
}{{"token", splynx.AuthAPIKeyToken}, {"signature", splynx.AuthSignature}}

func TestLooseTypes(t *testing.T) {
	for _, o := range []splynxsim.Options{
		{}, {IDsAsNumbers: true}, {MoneyAsNumbers: true}, {IDsAsNumbers: true, MoneyAsNumbers: true},
	} {
		t.Run(fmt.Sprintf("ids-numbers=%v/money-numbers=%v", o.IDsAsNumbers, o.MoneyAsNumbers), func(t *testing.T) {
			e := newEnv(t, o)
			ctx := context.Background()
			cid := e.sim.AddCustomer(splynxsim.Customer{Login: "1001", Name: "Ann", Status: "active", BillingType: "recurring",
				PartnerID: 3, LocationID: 2, ZipCode: "2000", DateAdd: date(2025, 1, 31),
				AdditionalAttributes: map[string]string{"autopay": "1"}})
			e.sim.SetBilling(cid, func(b *splynxsim.Billing) {
				b.Enabled, b.Deposit, b.PaymentMethod = true, money.MustParse("-363.455"), 3
			})
			c := e.client(t, splynx.AuthAPIKeyToken)
			b, err := c.GetCustomerBilling(ctx, cid)
			if err != nil {
				t.Fatal(err)
			}
			if int64(b.CustomerID) != cid || !bool(b.Enabled) || b.Deposit.Amount() != -36346 || b.PaymentMethod != 3 {
				t.Errorf("billing %+v", b)
			}
			iid := e.sim.AddInvoice(splynxsim.Invoice{CustomerID: cid, Number: "202611000001", Status: "not_paid", Type: "recurring",
				Total: money.MustParse("120.50"), Due: money.MustParse("100.25"), DateCreated: date(2026, 11, 1), DateTill: date(2026, 11, 15),
				Items: []splynxsim.InvoiceItem{{Description: "Internet", Quantity: 1, Price: money.MustParse("120.50"), TaxPercent: 1000,
					PeriodFrom: date(2026, 11, 1), PeriodTo: date(2026, 11, 30)}}})
			pid := e.sim.AddProforma(splynxsim.Proforma{CustomerID: cid, Status: "not_paid", Total: money.MustParse("55.55"), DateCreated: date(2026, 11, 1)})

			cu, err := c.GetCustomer(ctx, cid)
			if err != nil {
				t.Fatal(err)
			}
			if int64(cu.ID) != cid || cu.Login != "1001" || cu.PartnerID != 3 || cu.LocationID != 2 || cu.ZipCode != "2000" ||
				cu.DateAdd.String() != "2025-01-31" || cu.AdditionalAttributes["autopay"] != "1" || cu.LastUpdate.IsZero() {
				t.Errorf("customer %+v", cu)
			}
			// The invoice debited the balance.
			if b, err := c.GetCustomerBilling(ctx, cid); err != nil || b.Deposit.Amount() != -36346-12050 {
				t.Errorf("billing after invoice %+v %v", b, err)
			}
			inv, err := c.GetInvoice(ctx, iid)
			if err != nil {
				t.Fatal(err)
			}
			if int64(inv.ID) != iid || int64(inv.CustomerID) != cid || inv.Number != "202611000001" || inv.Total.Amount() != 12050 ||
				inv.Due.Amount() != 10025 || inv.Status != "not_paid" || !inv.DatePayment.IsZero() || inv.PaymentID != 0 ||
				inv.DateTill.String() != "2026-11-15" || len(inv.Items) != 1 || inv.Items[0].Price.Amount() != 12050 ||
				inv.Items[0].PeriodTo.String() != "2026-11-30" {
				t.Errorf("invoice %+v", inv)
			}
			pf, err := c.GetProforma(ctx, pid)
			if err != nil {
				t.Fatal(err)
			}
			if pf.Total.Amount() != 5555 || pf.Status != "not_paid" {
				t.Errorf("proforma %+v", pf)
			}
			var listed []splynx.Invoice
			for inv, err := range c.ListInvoices(ctx, splynx.Search{}) {
				if err != nil {
					t.Fatal(err)
				}
				listed = append(listed, inv)
			}
			if len(listed) != 1 || listed[0].Due != inv.Due {
				t.Errorf("listed %+v", listed)
			}
		})
	}
}

// Faults that flip the wire types of some answers mid-run must not break
// a listing.
func TestWrongTypesFault(t *testing.T) {
	e := newEnv(t, splynxsim.Options{})
	cid := e.sim.AddCustomer(splynxsim.Customer{Login: "c", Name: "C"})
	var sum money.Amount
	for i := range 30 {
		amt := money.Amount(1001 + i)
		sum += amt
		e.sim.AddInvoice(splynxsim.Invoice{CustomerID: cid, Status: "not_paid", Total: amt, Due: amt, DateCreated: date(2026, 10, 1)})
	}
	e.sim.SetFault("admin/finance/invoices", splynxsim.Fault{WrongTypesRate: 0.5, Seed: 7})
	c := e.client(t, splynx.AuthAPIKeyToken)
	var got money.Amount
	for inv, err := range c.ListInvoices(context.Background(), splynx.Search{Limit: 4}) {
		if err != nil {
			t.Fatal(err)
		}
		got += inv.Due.Amount()
	}
	if got != sum {
		t.Errorf("sum of due %s, want %s", got, sum)
	}
}

func TestMalformedPage(t *testing.T) {
	e := newEnv(t, splynxsim.Options{})
	cid := e.sim.AddCustomer(splynxsim.Customer{Login: "c", Name: "C"})
	for range 3 {
		e.sim.AddInvoice(splynxsim.Invoice{CustomerID: cid, Status: "not_paid", Total: 100, Due: 100, DateCreated: date(2026, 10, 1)})
	}
	e.sim.SetFault("admin/finance/invoices", splynxsim.Fault{MalformedRate: 1})
	c := e.client(t, splynx.AuthAPIKeyToken)
	var listErr error
	for _, err := range c.ListInvoices(context.Background(), splynx.Search{}) {
		if err != nil {
			listErr = err
		}
	}
	if listErr == nil || !strings.Contains(listErr.Error(), "list invoices (offset 0)") {
		t.Errorf("truncated page: %v", listErr)
	}
	if _, err := c.GetInvoice(context.Background(), 1); err == nil || !strings.Contains(err.Error(), "decoding answer") {
		t.Errorf("truncated record: %v", err)
	}
}

func TestSearchAndCount(t *testing.T) {
	for _, head := range []int{http.StatusOK, http.StatusNoContent} {
		t.Run(fmt.Sprint("HEAD ", head), func(t *testing.T) {
			e := newEnv(t, splynxsim.Options{HeadStatus: head})
			ctx := context.Background()
			cid := e.sim.AddCustomer(splynxsim.Customer{Login: "c", Name: "C"})
			statuses := []string{"not_paid", "paid", "pending", "not_paid", "deleted", "not_paid", "pending"}
			wantIDs := map[int64]bool{}
			for i, st := range statuses {
				amt := money.Amount(1000 * (i + 1))
				id := e.sim.AddInvoice(splynxsim.Invoice{CustomerID: cid, Status: st, Total: amt, Due: amt,
					DateCreated: date(2026, 10, 1+i)})
				if (st == "not_paid" || st == "pending") && i >= 1 && i <= 5 {
					wantIDs[id] = true
				}
			}
			c := e.client(t, splynx.AuthAPIKeyToken)
			s := splynx.Search{Main: []splynx.Cond{
				splynx.In("status", "not_paid", "pending"),
				splynx.Between("date_created", "2026-10-02", "2026-10-06"),
			}, Order: []splynx.OrderBy{splynx.Desc("id")}}
			n, err := c.CountInvoices(ctx, s)
			if err != nil {
				t.Fatal(err)
			}
			if n != len(wantIDs) {
				t.Errorf("count %d, want %d", n, len(wantIDs))
			}
			var got []int64
			for inv, err := range c.ListInvoices(ctx, s) {
				if err != nil {
					t.Fatal(err)
				}
				if !wantIDs[int64(inv.ID)] {
					t.Errorf("unexpected invoice %d (%s, %s)", inv.ID, inv.Status, inv.DateCreated)
				}
				got = append(got, int64(inv.ID))
			}
			if len(got) != len(wantIDs) || !slices.IsSortedFunc(got, func(a, b int64) int { return int(b - a) }) {
				t.Errorf("listed %v, want %d ids in descending order", got, len(wantIDs))
			}
			// The server received exactly the encoder's query.
			s.Limit = splynx.DefaultPageSize
			lists := e.requests(http.MethodGet, "admin/finance/invoices")
			if len(lists) != 1 || lists[0].Query != s.Encode() {
				t.Errorf("query sent %q, want %q", lists[0].Query, s.Encode())
			}
			heads := e.requests(http.MethodHead, "admin/finance/invoices")
			if len(heads) != 1 || heads[0].Status != head {
				t.Errorf("HEAD requests %+v", heads)
			}
			if n, err := c.CountCustomers(ctx, splynx.Search{}); err != nil || n != 1 {
				t.Errorf("customers count %d %v", n, err)
			}
		})
	}
}

func TestPagingStopsOnShortAndEmptyPage(t *testing.T) {
	for _, total := range []int{0, 7, 10, 23} {
		t.Run(fmt.Sprint(total), func(t *testing.T) {
			e := newEnv(t, splynxsim.Options{})
			for i := range total {
				e.sim.AddCustomer(splynxsim.Customer{Login: fmt.Sprintf("c%d", i), Name: "N"})
			}
			c := e.client(t, splynx.AuthAPIKeyToken)
			n := 0
			for _, err := range c.ListCustomers(context.Background(), splynx.Search{Limit: 5}) {
				if err != nil {
					t.Fatal(err)
				}
				n++
			}
			if n != total {
				t.Errorf("listed %d, want %d", n, total)
			}
			wantPages := total/5 + 1
			if got := len(e.requests(http.MethodGet, "admin/customers/customer")); got != wantPages {
				t.Errorf("%d page requests, want %d", got, wantPages)
			}
			// Stopping early costs at most the page fetched ahead (which a
			// short first page never triggers).
			e.sim.ResetRequests()
			for range c.ListCustomers(context.Background(), splynx.Search{Limit: 5}) {
				break
			}
			time.Sleep(20 * time.Millisecond)
			if got := len(e.requests(http.MethodGet, "admin/customers/customer")); got > 2 || (total < 5 && got != 1) {
				t.Errorf("early stop: %d page requests", got)
			}
		})
	}
}

// A server that ignores offset must not make a listing loop forever. Real
// Splynx and splynxsim both honour offset, so this peer is a bare handler
// that answers every page with the same full page.
func TestListingStopsWhenOffsetIgnored(t *testing.T) {
	var pages atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pages.Add(1)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `[{"id":"1","login":"a"},{"id":"2","login":"b"}]`)
	}))
	defer srv.Close()
	c, err := splynx.New(splynx.Config{BaseURL: srv.URL, APIKey: testKey, APISecret: testSecret, Auth: splynx.AuthSignature})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	var listErr error
	for _, err := range c.ListCustomers(context.Background(), splynx.Search{Limit: 2}) {
		if err != nil {
			listErr = err
			break
		}
		n++
	}
	if listErr == nil || !strings.Contains(listErr.Error(), "ignore offset") || n != 2 || pages.Load() > 3 {
		t.Errorf("listed %d in %d pages, err %v", n, pages.Load(), listErr)
	}
}

func TestValidationErrors(t *testing.T) {
	for _, shape := range []string{"yii", "error", "text"} {
		t.Run(shape, func(t *testing.T) {
			e := newEnv(t, splynxsim.Options{ValidationShape: shape})
			c := e.client(t, splynx.AuthAPIKeyToken)
			// A payment for a customer that does not exist is refused by validation.
			_, err := c.CreatePayment(context.Background(), splynx.PaymentCreate{CustomerID: 999999, PaymentType: 1,
				ReceiptNumber: "R-1", Amount: 1000, Date: date(2026, 11, 2)})
			if !splynx.IsValidation(err) {
				t.Fatalf("want a validation error, got %v", err)
			}
			var ae *splynx.APIError
			if !errors.As(err, &ae) || ae.Status != http.StatusUnprocessableEntity || ae.Method != http.MethodPost ||
				ae.Path != "admin/finance/payments" || ae.Body == "" {
				t.Fatalf("error %#v", ae)
			}
			switch shape {
			case "yii":
				if len(ae.Fields) == 0 || ae.Fields[0].Field == "" || ae.Fields[0].Message == "" {
					t.Errorf("fields %+v", ae.Fields)
				}
			case "error":
				if ae.InternalCode != "INVALID_INPUT_DATA" || ae.Message == "" {
					t.Errorf("error %+v", ae)
				}
			case "text":
				if !strings.Contains(err.Error(), "customer_id") {
					t.Errorf("plain-text body not shown: %v", err)
				}
			}
			if len(e.sim.Payments()) != 0 {
				t.Error("a refused payment was stored")
			}
		})
	}
}

func TestNonJSONErrorBody(t *testing.T) {
	e := newEnv(t, splynxsim.Options{})
	html := "<html><body><h1>502 Bad Gateway</h1>" + strings.Repeat("x", 10000) + "</body></html>"
	e.sim.SetFault("admin/finance/invoices", splynxsim.Fault{ErrorRate: 1, Status: http.StatusBadGateway, Body: html})
	c := e.clientWith(t, splynx.Config{APIKey: testKey, APISecret: testSecret, MaxRetries: 2})
	_, err := c.GetInvoice(context.Background(), 1)
	var ae *splynx.APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusBadGateway {
		t.Fatalf("got %v", err)
	}
	if len(ae.Body) > 4096 || !strings.HasPrefix(ae.Body, "<html>") {
		t.Errorf("body kept %d bytes: %.40q", len(ae.Body), ae.Body)
	}
	if len(err.Error()) > 400 || !strings.Contains(err.Error(), "502 Bad Gateway") {
		t.Errorf("error text %q", err.Error())
	}
	if n := len(e.requests(http.MethodGet, "admin/finance/invoices")); n != 3 {
		t.Errorf("%d attempts, want 3 (first + 2 retries)", n)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, cfg := range []splynx.Config{
		{},
		{BaseURL: "ftp://x", APIKey: "k", APISecret: "secret-value-1"},
		{BaseURL: "https://x", APIKey: "k"},
		{BaseURL: "https://user:pw-in-url-1@x", APIKey: "k", APISecret: "secret-value-1"},
	} {
		if _, err := splynx.New(cfg); err == nil {
			t.Errorf("%+v: want an error", cfg)
		} else if strings.Contains(err.Error(), "secret-value-1") || strings.Contains(err.Error(), "pw-in-url-1") {
			t.Errorf("error leaks secret: %v", err)
		}
	}
	// A base URL that already ends in /api/2.0 works the same.
	e := newEnv(t, splynxsim.Options{})
	c, err := splynx.New(splynx.Config{BaseURL: e.srv.URL + "/api/2.0/", APIKey: testKey, APISecret: testSecret},
		splynx.WithClock(e.sim.Clock()))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Check(context.Background()); err != nil {
		t.Error(err)
	}
}

func TestContextAndTimeout(t *testing.T) {
	e := newEnv(t, splynxsim.Options{})
	e.sim.SetFault("admin/finance/invoices", splynxsim.Fault{Latency: 2 * time.Second})
	c := e.clientWith(t, splynx.Config{APIKey: testKey, APISecret: testSecret, Timeout: 100 * time.Millisecond, MaxRetries: -1})
	start := time.Now()
	_, err := c.GetInvoice(context.Background(), 1)
	if err == nil || time.Since(start) > time.Second {
		t.Errorf("timeout not applied: %v after %s", err, time.Since(start))
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.GetCustomer(ctx, 1); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: %v", err)
	}
}
