package chaos

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/splynx-pay/splynx-pay/gateways/integrapay/integrapaysim"
	"github.com/splynx-pay/splynx-pay/gateways/ippay"
	"github.com/splynx-pay/splynx-pay/gateways/ippay/ippaysim"
	"github.com/splynx-pay/splynx-pay/splynx/splynxsim"
)

// A clean night: every settled charge has one payment of its amount.
func cleanIntegraPay() (Ledgers, []Attempt) {
	l := Ledgers{
		IntegraPay: []integrapaysim.Entry{
			{Reference: "SPA", Kind: "card", Amount: 1000, Status: "S", TransactionID: "1"},
			{Reference: "SPB", Kind: "bank", Amount: 2500, Status: "S", TransactionID: "2"},
			{Reference: "SPC", Kind: "bank", Amount: 700, Status: "R", TransactionID: "3"},
			{Reference: "SPD", Kind: "bank", Amount: 900, Status: "P", TransactionID: "4"},
		},
		Payments: []splynxsim.Payment{
			{ID: 1, InvoiceID: 10, Amount: 1000, Field2: "SPA"},
			{ID: 2, InvoiceID: 11, Amount: 2500, Field2: "SPB"},
			{ID: 3, InvoiceID: 12, Amount: 5000, Field2: "cash"}, // not ours
		},
	}
	as := []Attempt{
		{Reference: "SPA", ChargeKey: "invoice:10", State: "recorded"},
		{Reference: "SPB", ChargeKey: "invoice:11", State: "recorded"},
		{Reference: "SPC", ChargeKey: "invoice:12", State: "declined"},
		{Reference: "SPD", ChargeKey: "invoice:13", State: "pending"},
	}
	return l, as
}

func TestCompareClean(t *testing.T) {
	l, as := cleanIntegraPay()
	f := Compare("x", false, l, as)
	if f.Losses() != 0 || len(f.Problems) != 0 {
		t.Fatalf("clean ledgers report losses: %+v", f)
	}
	if f.Attempts != 4 || f.Approved != 3 || f.Settled != 2 || f.Unresolved != 0 {
		t.Fatalf("figures %+v, want 4 attempts, 3 approved, 2 settled", f)
	}
}

// Each kind of loss is counted in its own figure, and only there.
func TestCompareCountsEachLoss(t *testing.T) {
	cases := []struct {
		name   string
		break_ func(*Ledgers, *[]Attempt)
		want   func(Figures) int
	}{
		{"second gateway charge on one invoice", func(l *Ledgers, as *[]Attempt) {
			l.IntegraPay = append(l.IntegraPay, integrapaysim.Entry{Reference: "SPA2", Kind: "card", Amount: 1000, Status: "S"})
			l.Payments = append(l.Payments, splynxsim.Payment{ID: 9, InvoiceID: 99, Amount: 1000, Field2: "SPA2"})
			*as = append(*as, Attempt{Reference: "SPA2", ChargeKey: "invoice:10", State: "recorded"})
		}, func(f Figures) int { return f.Duplicates }},
		{"settled charge without a payment", func(l *Ledgers, as *[]Attempt) {
			l.Payments = l.Payments[1:]
		}, func(f Figures) int { return f.Lost }},
		{"charge nobody knows", func(l *Ledgers, as *[]Attempt) {
			l.IntegraPay = append(l.IntegraPay, integrapaysim.Entry{Reference: "SPZ", Kind: "card", Amount: 100, Status: "S", TransactionID: "8"})
		}, func(f Figures) int { return f.Lost }},
		{"payment for a rejected debit", func(l *Ledgers, as *[]Attempt) {
			l.Payments = append(l.Payments, splynxsim.Payment{ID: 7, InvoiceID: 12, Amount: 700, Field2: "SPC"})
		}, func(f Figures) int { return f.Orphans }},
		{"payment of another amount", func(l *Ledgers, as *[]Attempt) {
			l.Payments[1].Amount = 2400
		}, func(f Figures) int { return f.Mismatches }},
		{"two payments on one invoice", func(l *Ledgers, as *[]Attempt) {
			l.Payments = append(l.Payments, splynxsim.Payment{ID: 8, InvoiceID: 10, Amount: 1000, Field2: "SPA"})
		}, func(f Figures) int { return f.SecondPayments }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l, as := cleanIntegraPay()
			tc.break_(&l, &as)
			f := Compare("x", false, l, as)
			if tc.want(f) != 1 || f.Losses() < 1 {
				t.Fatalf("figure %d, want 1: %s %v", tc.want(f), f.Line(), f.Problems)
			}
		})
	}
}

// IPpay: a settled ACH debit the daemon still holds pending is waiting,
// not lost; a card sale is final when approved.
func TestCompareIPpay(t *testing.T) {
	tx := func(ref string) string { return ippay.TransactionID(ref) }
	l := Ledgers{
		IPpay: []ippaysim.Entry{
			{TransactionID: tx("SPA"), Type: "SALE", Amount: 1000, State: "approved"},
			{TransactionID: tx("SPB"), Type: "CHECK", Amount: 2000, State: "settled"},
			{TransactionID: tx("SPC"), Type: "SALE", Amount: 3000, State: "declined"},
			{TransactionID: tx("SPA"), Type: "VOID"},
		},
		Payments: []splynxsim.Payment{{ID: 1, InvoiceID: 1, Amount: 1000, Field2: "SPA"}},
	}
	as := []Attempt{
		{Reference: "SPA", ChargeKey: "invoice:1", State: "recorded"},
		{Reference: "SPB", ChargeKey: "invoice:2", State: "pending"},
		{Reference: "SPC", ChargeKey: "invoice:3", State: "declined"},
	}
	f := Compare("x", true, l, as)
	if f.Losses() != 0 || f.Waiting != 1 || f.Settled != 2 || f.Approved != 2 {
		t.Fatalf("%s %v", f.Line(), f.Problems)
	}
	as[1].State = "recorded" // the daemon recorded it but wrote nothing to Splynx
	if f := Compare("x", true, l, as); f.Lost != 1 {
		t.Fatalf("recorded ACH debit without payment: %s", f.Line())
	}
}

// ScanFiles reads the files named and every file in the folders named,
// however deep (backups live in backups/, older ones further down), and
// looks for every secret of its list, the last one too: each secret is
// written into a file of its own and each is reported by name and file.
func TestScanFilesFindsSecrets(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, "backups")
	older := filepath.Join(sub, "2026-11")
	if err := os.MkdirAll(older, 0o700); err != nil {
		t.Fatal(err)
	}
	var size int64
	write := func(path, body string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		size += int64(len(body))
	}
	write(filepath.Join(dir, "db"), "x\x00SP1\x004111111111111111\x00")
	write(filepath.Join(sub, "b.db"), "nothing here")
	secrets := append(Secrets(), DatabaseSecrets()...)
	secrets = append(secrets, Secret{"account", "000999888777"})
	want := []string{"test card number found 1 times in " + filepath.Join(dir, "db")}
	for i, s := range secrets {
		in := sub
		if i%2 == 1 {
			in = older
		}
		f := filepath.Join(in, fmt.Sprintf("x%d.db", i))
		write(f, "page\x00"+s.Value+"\x00free")
		want = append(want, fmt.Sprintf("%s found 1 times in %s", s.Name, f))
	}
	finds, n, err := ScanFiles([]string{filepath.Join(dir, "db"), sub, filepath.Join(dir, "missing")}, secrets)
	if err != nil || n != size {
		t.Fatalf("finds %v, %d bytes (want %d), %v", finds, n, size, err)
	}
	for _, w := range want {
		if !slices.Contains(finds, w) {
			t.Errorf("not reported: %s", w)
		}
	}
	for _, f := range finds {
		if strings.HasSuffix(f, "b.db") {
			t.Errorf("a clean file reported: %s", f)
		}
	}
	if t.Failed() {
		t.Logf("finds:\n%s", strings.Join(finds, "\n"))
	}
}

// The third line counts attempts by the source of their run, and a wrong
// page answer fails the run like a loss.
func TestWorkLineAndPageErrors(t *testing.T) {
	as := []Attempt{{Source: "auto"}, {Source: "auto"}, {Source: "portal"}, {Source: "admin"}, {Source: ""}}
	got := WorkLine("splynx-ippay", as, "portal payments 3 tried")
	want := "splynx-ippay: attempts by source: auto 2, retry 0, cli 0, admin 1, portal 1; portal payments 3 tried"
	if got != want {
		t.Fatalf("work line\n got %s\nwant %s", got, want)
	}
	var f Figures
	if f.Failed() {
		t.Fatal("empty figures fail")
	}
	f.PageErrors = []string{"staff Pay now of invoice 7: Pay now: 403 Forbidden at /ippay/admin/customer/pay"}
	if !f.Failed() {
		t.Fatal("a wrong page answer does not fail the run")
	}
}
