package chaos

import (
	"os"
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

func TestScanFilesFindsSecrets(t *testing.T) {
	dir := t.TempDir()
	sub := dir + "/backups"
	if err := os.Mkdir(sub, 0o700); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(dir+"/db", []byte("x\x00SP1\x004111111111111111\x00"), 0o600)
	os.WriteFile(sub+"/b.db", []byte("nothing here"), 0o600)
	finds, n, err := ScanFiles([]string{dir + "/db", sub, dir + "/missing"}, []Secret{{"PAN", "4111111111111111"}, {"account", "000123456789"}})
	if err != nil || len(finds) != 1 || n == 0 {
		t.Fatalf("finds %v, %d bytes, %v", finds, n, err)
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
