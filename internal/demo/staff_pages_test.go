package demo

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/splynx-pay/splynx-pay/internal/browsertest"
	"github.com/splynx-pay/splynx-pay/internal/config"
)

// After the demo night the summary names the staff pages, and the
// collections overview draws the night's money in a browser.
func TestDemoStaffPagesAfterTheNight(t *testing.T) {
	var out, errb bytes.Buffer
	b := browsertest.New(t)
	var bars float64
	var overview, customer string
	err := Run(context.Background(), Options{
		Addon: "splynx-integrapay", Kind: config.IntegraPay, Module: IntegraPayModule, Prefix: "/integrapay", Version: "test",
		Customers: 60, Invoices: 400, Proformas: 40, Seed: 3, Once: true, LogLevel: "error", Stdout: &out, Stderr: &errb,
		Ready: func(u string) {
			tab := b.Tab(t)
			tab.Go(u + "/admin")
			bars = browsertest.Eval[float64](tab, `[...document.querySelectorAll("svg.sp-chart rect.settled")].filter(r => r.getBBox().height > 0).length`)
			overview = tab.Text("#chart")
			tab.Shot("demo-overview")
			m := regexp.MustCompile(`/admin/customer\?id=\d+`).FindString(out.String())
			if m == "" {
				t.Errorf("the summary names no customer tab:\n%s", out.String())
				return
			}
			tab.Go(u + m)
			customer = tab.Body()
			tab.Shot("demo-customer")
		},
	})
	if err != nil {
		t.Fatalf("demo: %v\n%s\n%s", err, out.String(), errb.String())
	}
	for _, want := range []string{"/integrapay/admin\n", "/integrapay/admin/audit", "/integrapay/metrics", "staff login"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("summary lacks %q", want)
		}
	}
	if bars < 1 {
		t.Errorf("no settled bar on the overview: %s", overview)
	}
	if !strings.Contains(customer, "Saved payment method") || !strings.Contains(customer, "Charge attempts") {
		t.Errorf("customer tab: %.1000s", customer)
	}
}
