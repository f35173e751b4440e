package demo

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/splynx-pay/splynx-pay/internal/config"
)

func runOnce(t *testing.T, kind config.Addon, module, prefix string, edit ...func(*Options)) string {
	t.Helper()
	var out, errb bytes.Buffer
	var webURL string
	o := Options{
		Addon: "splynx-" + string(kind), Kind: kind, Module: module, Prefix: prefix, Version: "test",
		Customers: 60, Invoices: 400, Proformas: 40, Seed: 3, Once: true, LogLevel: "error",
		Stdout: &out, Stderr: &errb,
		Ready: func(u string) {
			webURL = u
			// The pages the summary lists are up while it is shown.
			for path, marker := range map[string]string{
				"/status":          "<h1>Status</h1>",
				"/charges":         "Charge history",
				"/charges/1":       "Charge run 1",
				"/charges/1/log":   "OUTPUT",
				"/charges/preview": "Charge preview",
			} {
				resp, err := http.Get(u + path)
				if err != nil {
					t.Errorf("%s: %v", path, err)
					continue
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 || !strings.Contains(string(body), marker) {
					t.Errorf("%s: %d, no %q", path, resp.StatusCode, marker)
				}
			}
		},
	}
	for _, f := range edit {
		f(&o)
	}
	err := Run(context.Background(), o)
	if err != nil {
		t.Fatalf("demo --once: %v\n%s\n%s", err, out.String(), errb.String())
	}
	if webURL == "" {
		t.Fatal("Ready not called")
	}
	return out.String()
}

// demo --once reconciles for both add-ons, and says so.
func TestDemoOnceReconciles(t *testing.T) {
	for _, tc := range []struct {
		kind           config.Addon
		module, prefix string
	}{
		{config.IntegraPay, IntegraPayModule, "/integrapay"},
		{config.IPpay, IPpayModule, "/ippay"},
	} {
		t.Run(string(tc.kind), func(t *testing.T) {
			out := squeeze(runOnce(t, tc.kind, tc.module, tc.prefix))
			for _, want := range []string{
				"RESULT: everything reconciles ✓",
				"customers 61 61 ✓",
				"invoices 400 400 ✓",
				"records deleted in Splynx, removed 1 1 ✓",
				tc.prefix + "/status",
				tc.prefix + "/charges/1/log",
				"password " + PortalPassword,
				tc.prefix + "/direct-pay-invoice?item_id=",
			} {
				if !strings.Contains(out, want) {
					t.Errorf("summary lacks %q:\n%s", want, out)
				}
			}
			if strings.Contains(out, "✗") {
				t.Errorf("summary has a failed check:\n%s", out)
			}
		})
	}
}

// The IPpay demo runs on one terminal for cards and ACH by default, as
// issue 17 found the gateway works; a separate ACH terminal stays an option.
func TestDemoIPpayTerminals(t *testing.T) {
	out := squeeze(runOnce(t, config.IPpay, IPpayModule, "/ippay"))
	if !strings.Contains(out, "ACH debits went through terminal "+IPpayTerminal+"\n") {
		t.Errorf("default demo: ACH not through %s alone:\n%s", IPpayTerminal, out)
	}
	split := squeeze(runOnce(t, config.IPpay, IPpayModule, "/ippay", func(o *Options) { o.IPpaySplitACH = true }))
	for _, want := range []string{"RESULT: everything reconciles ✓", "ACH debits went through terminal " + IPpayACHTerminal + "\n"} {
		if !strings.Contains(split, want) {
			t.Errorf("two-terminal demo lacks %q:\n%s", want, split)
		}
	}
}

// A demo whose mirror disagrees with the simulator must fail: the report
// turns any mismatch into a non-nil error from Run.
func TestReportFailsOnMismatch(t *testing.T) {
	r := &Report{}
	r.Check("s", "same", 3, 3)
	if r.Failed() {
		t.Fatal("equal values failed")
	}
	r.Check("s", "different", 3, 4)
	r.Time("x", time.Millisecond)
	if !r.Failed() {
		t.Fatal("mismatch not reported")
	}
	var b bytes.Buffer
	r.Write(&b)
	if !strings.Contains(b.String(), "✗") {
		t.Fatalf("no ✗ in %s", b.String())
	}
}

// squeeze collapses the table padding so rows compare as words.
func squeeze(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.Join(strings.Fields(l), " ")
	}
	return strings.Join(lines, "\n")
}

// With a fifth of the Splynx API calls failing (5xx or dropped
// connections) while syncing, the mirror still converges to the
// simulator, record by record.
func TestDemoOnceUnderSplynxFaults(t *testing.T) {
	var out, errb bytes.Buffer
	err := Run(context.Background(), Options{
		Addon: "splynx-integrapay", Kind: config.IntegraPay, Module: IntegraPayModule, Prefix: "/integrapay", Version: "test",
		Customers: 80, Invoices: 600, Proformas: 40, Seed: 5, Once: true, LogLevel: "error",
		Faults: "error=0.15,drop=0.05", Stdout: &out, Stderr: &errb,
	})
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	s := squeeze(out.String())
	for _, want := range []string{"faults error=0.15,drop=0.05", "invoices equal field by field 600 600 ✓", "RESULT: everything reconciles ✓"} {
		if !strings.Contains(s, want) {
			t.Errorf("summary lacks %q:\n%s", want, out.String())
		}
	}
}
