package demo

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/splynx-pay/splynx-pay/internal/config"
)

// The acceptance run: demo --once at its default size (500
// customers, 5,000 invoices) reconciles. Skipped with -short.
func TestDemoOnceDefaultSize(t *testing.T) {
	if testing.Short() {
		t.Skip("default-size demo skipped in -short mode")
	}
	o := Options{Addon: "splynx-integrapay", Kind: config.IntegraPay, Module: IntegraPayModule, Prefix: "/integrapay", Version: "test"}
	var out, errb bytes.Buffer
	o.Stdout, o.Stderr = &out, &errb
	if err := o.ParseFlags([]string{"--once", "--log-level", "error"}); err != nil {
		t.Fatal(err)
	}
	if o.Customers != 500 || o.Invoices != 5000 {
		t.Fatalf("defaults %d customers, %d invoices", o.Customers, o.Invoices)
	}
	if err := Run(context.Background(), o); err != nil {
		t.Fatalf("%v\n%s\n%s", err, out.String(), errb.String())
	}
	s := squeeze(out.String())
	for _, want := range []string{"customers 500 500 ✓", "invoices 5000 5000 ✓", "RESULT: everything reconciles ✓"} {
		if !strings.Contains(s, want) {
			t.Errorf("summary lacks %q", want)
		}
	}
}
