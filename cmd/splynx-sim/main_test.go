package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"io"
	"net/http"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/splynx-pay/splynx-pay/gateways"
	"github.com/splynx-pay/splynx-pay/gateways/integrapay"
	"github.com/splynx-pay/splynx-pay/gateways/integrapay/integrapaysim"
	"github.com/splynx-pay/splynx-pay/splynx"
	"github.com/splynx-pay/splynx-pay/splynx/splynxsim"
)

func TestParseFaults(t *testing.T) {
	cases := []struct {
		spec    string
		want    splynxsim.Fault
		path    string
		wantErr string
	}{
		{"", splynxsim.Fault{Seed: 9}, "", ""},
		{"error=0.2,drop=0.05,latency=10ms", splynxsim.Fault{Seed: 9, ErrorRate: 0.2, DropRate: 0.05, Latency: 10 * time.Millisecond}, "", ""},
		{"status=503,error=1,path=admin/finance/invoices", splynxsim.Fault{Seed: 9, ErrorRate: 1, Status: 503}, "admin/finance/invoices", ""},
		{"malformed=0.1,wrong_types=0.3,drop_after=0.01", splynxsim.Fault{Seed: 9, MalformedRate: 0.1, WrongTypesRate: 0.3, DropAfterRate: 0.01}, "", ""},
		{"error=2", splynxsim.Fault{}, "", `-faults error="2": want a rate from 0 to 1`},
		{"latency=soon", splynxsim.Fault{}, "", `-faults latency="soon": want a duration such as 10ms`},
		{"boom=1", splynxsim.Fault{}, "", `-faults: unknown key "boom"`},
		{"error", splynxsim.Fault{}, "", `-faults: "error" is not key=value`},
	}
	for _, tc := range cases {
		t.Run(tc.spec, func(t *testing.T) {
			f, path, err := parseFaults(tc.spec, 9)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("err %v, want %s", err, tc.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(f, tc.want) || path != tc.path {
				t.Fatalf("got %+v %q %v, want %+v %q", f, path, err, tc.want, tc.path)
			}
		})
	}
}

// The process prints LISTENING first, then serves Splynx at the root and
// the gateways under their prefixes, until its context ends.
func TestServesAndAnnounces(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-listen", "127.0.0.1:0", "-customers", "7", "-invoices", "20", "-proformas", "2",
			"-api-key", "k1", "-api-secret", "s1"}, pw, io.Discard)
		pw.Close()
	}()
	sc := bufio.NewScanner(pr)
	var lines []string
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) == 5 {
			break
		}
	}
	go io.Copy(io.Discard, pr)
	if len(lines) < 5 || !strings.HasPrefix(lines[0], "LISTENING http://127.0.0.1:") {
		t.Fatalf("announcement: %q", lines)
	}
	base := strings.TrimPrefix(lines[0], "LISTENING ")
	if lines[3] != "IPPAY "+base+"/ippay/ippay" {
		t.Fatalf("ippay line %q", lines[3])
	}

	c, err := splynx.New(splynx.Config{BaseURL: base, APIKey: "k1", APISecret: "s1"})
	if err != nil {
		t.Fatal(err)
	}
	n, err := c.CountCustomers(ctx, splynx.Search{})
	if err != nil || n != 7 {
		t.Fatalf("customers over the API: %d, %v", n, err)
	}
	cfg, err := c.GetModuleConfig(ctx, "splynx_addon_integrapay", 0)
	if err != nil || cfg["integrapay_api_url"] != base+"/integrapay" {
		t.Fatalf("module config points at %q (%v)", cfg["integrapay_api_url"], err)
	}
	resp, err := http.Get(base + "/ippay/returns.csv")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("returns report: %d", resp.StatusCode)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("did not stop")
	}
}

// startSim runs splynx-sim with args on a free port and returns its base
// URL; the server stops when the test ends.
func startSim(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"-listen", "127.0.0.1:0", "-customers", "2", "-invoices", "2", "-proformas", "0"}, args...), pw, io.Discard)
		pw.Close()
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("splynx-sim did not stop")
		}
	})
	sc := bufio.NewScanner(pr)
	if !sc.Scan() || !strings.HasPrefix(sc.Text(), "LISTENING ") {
		t.Fatalf("announcement: %q", sc.Text())
	}
	go io.Copy(io.Discard, pr)
	return strings.TrimPrefix(sc.Text(), "LISTENING ")
}

// -inferred (README: splynx-sim) makes the IntegraPay simulator answer the
// look-ups the spec does not confirm; without it they answer 404, which our
// client reads as inconclusive.
func TestInferredFlag(t *testing.T) {
	for _, inferred := range []bool{false, true} {
		var args []string
		if inferred {
			args = []string{"-inferred"}
		}
		base := startSim(t, args...)
		c, err := integrapay.New(integrapay.Config{AuthURL: base + "/integrapay", APIURL: base + "/integrapay",
			Username: integrapaysim.DefaultUsername, Password: integrapaysim.DefaultPassword,
			BusinessID: integrapaysim.DefaultBusinessID, Timeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		m, err := c.SaveMethod(ctx, gateways.SaveMethodRequest{Payer: gateways.Payer{Reference: "FLAG1", CustomerID: 1,
			GivenName: "Flag", FamilyName: "Test", Country: "AU"},
			Bank: &gateways.BankDetails{Branch: "062000", AccountNumber: "12345678", AccountName: "F TEST", AccountType: "CHEQUE"}})
		if err != nil {
			t.Fatal(err)
		}
		o, err := c.Charge(ctx, gateways.ChargeRequest{Reference: "SPFLAGTEST00000001", Method: m, PayerRef: "FLAG1", Amount: 1000})
		if err != nil || o.Status != gateways.Pending {
			t.Fatalf("debit %+v %v", o, err)
		}
		// The schedule look-up is one of the paths the spec does not confirm.
		l, err := c.Lookup(ctx, gateways.LookupRequest{Reference: "SPFLAGTEST00000001", PayerRef: "FLAG1", Method: m})
		if inferred && (err != nil || l.Status != gateways.Pending) {
			t.Errorf("-inferred: look-up %+v %v, want the pending debit", l, err)
		}
		if !inferred && !errors.Is(err, gateways.ErrInconclusive) {
			t.Errorf("default: look-up %+v %v, want inconclusive (404 from unconfirmed paths)", l, err)
		}
	}
}

// Every flag README's splynx-sim paragraph names exists (-h lists them).
func TestReadmeFlagsExist(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	i := strings.Index(text, "`splynx-sim` (`go run ./cmd/splynx-sim")
	if i < 0 {
		t.Fatal("README has no splynx-sim paragraph")
	}
	para := text[i:]
	if j := strings.Index(para, "\n\n"); j > 0 {
		para = para[:j]
	}
	var usage strings.Builder
	if err := run(context.Background(), []string{"-h"}, io.Discard, &usage); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("run -h: %v", err)
	}
	names := regexp.MustCompile("[ `]-([a-z][a-z-]+)").FindAllStringSubmatch(para, -1)
	if len(names) < 3 {
		t.Fatalf("no flags found in %q", para)
	}
	for _, m := range names {
		if !regexp.MustCompile(`(?m)^\s+-` + m[1] + `\b`).MatchString(usage.String()) {
			t.Errorf("README names -%s, which splynx-sim does not define", m[1])
		}
	}
}

// -latency delays Splynx's answers by the model (a generous lower bound),
// -refuse-billing-list answers the billing list with 405, and a latency
// that does not parse stops splynx-sim with a message naming the flag.
func TestLatencyAndRefuseBillingFlags(t *testing.T) {
	base := startSim(t, "-api-key", "k1", "-api-secret", "s1", "-latency", "page=60ms,record=1ms", "-refuse-billing-list")
	c, err := splynx.New(splynx.Config{BaseURL: base, APIKey: "k1", APISecret: "s1"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := c.CountCustomers(ctx, splynx.Search{}); err != nil { // signs in
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := c.GetCustomer(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took < 61*time.Millisecond {
		t.Errorf("a single GET at page=60ms,record=1ms took %s", took)
	}
	if _, err := c.GetCustomerBilling(ctx, 1); err != nil {
		t.Errorf("customer-billing/1 with the list refused: %v", err)
	}
	for _, err := range c.ListCustomerBilling(ctx, splynx.Search{}) {
		if !splynx.IsMethodNotAllowed(err) {
			t.Errorf("billing list with -refuse-billing-list: %v, want 405", err)
		}
		break
	}

	err = run(ctx, []string{"-listen", "127.0.0.1:0", "-customers", "1", "-latency", "page=80"}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "-latency") || !strings.Contains(err.Error(), "not a duration") {
		t.Fatalf("bad -latency: %v", err)
	}
}
