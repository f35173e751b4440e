package daemon

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/splynx-pay/splynx-pay/gateways"
	"github.com/splynx-pay/splynx-pay/gateways/ippay"
	"github.com/splynx-pay/splynx-pay/internal/config"
	"github.com/splynx-pay/splynx-pay/internal/demo"
	"github.com/splynx-pay/splynx-pay/internal/wire"
	"github.com/splynx-pay/splynx-pay/splynx"
	"github.com/splynx-pay/splynx-pay/store"
	"github.com/splynx-pay/splynx-pay/sync/charge"
)

var (
	previewRE = regexp.MustCompile(`Amount: (\d+)   Total sum: [\d.]+   Due sum: ([\d.]+)`)
	totalsRE  = regexp.MustCompile(`approved (\d+) \(([\d.]+)\)  pending (\d+)`)
)

// charge --dry-run prints the preview and charges nothing; charge runs it
// and writes the approved charges back to Splynx.
func TestChargeCommand(t *testing.T) {
	sims, u := startSims(t, 30, 120)
	env := goodEnv(t, u.Splynx)
	setEnv(t, env)
	if code, _, stderr := runMain(context.Background(), "sync"); code != 0 {
		t.Fatalf("sync: %s", stderr)
	}
	saveTestCards(t, u, env)
	ctx := context.Background()
	before := len(sims.Splynx.Payments())

	code, out, stderr := runMain(ctx, "charge", "--dry-run", "--to", "2030-01-01")
	if code != 0 {
		t.Fatalf("dry run exit %d: %s", code, stderr)
	}
	m := previewRE.FindStringSubmatch(out)
	if m == nil || m[1] == "0" {
		t.Fatalf("no preview in:\n%s", out)
	}
	if len(sims.Splynx.Payments()) != before {
		t.Fatal("the dry run charged")
	}
	// Filter flags narrow the preview: no invoice is over 100,000.
	if code, out, stderr := runMain(ctx, "charge", "--dry-run", "--to", "2030-01-01", "--total", ">100000"); code != 0 ||
		previewRE.FindStringSubmatch(out) == nil || previewRE.FindStringSubmatch(out)[1] != "0" {
		t.Fatalf("--total >100000 previewed invoices (%d): %s %s", code, out, stderr)
	}
	code, out, stderr = runMain(ctx, "charge", "--to", "2030-01-01", "--concurrency", "4")
	if code != 0 {
		t.Fatalf("charge exit %d: %s", code, stderr)
	}
	tm := totalsRE.FindStringSubmatch(out)
	if tm == nil || !strings.Contains(out, "Run 1 done") {
		t.Fatalf("no totals in:\n%s", out)
	}
	approved, _ := strconv.Atoi(tm[1])
	if approved == 0 || len(sims.Splynx.Payments())-before != approved {
		t.Fatalf("%d approved, %d new Splynx payments:\n%s", approved, len(sims.Splynx.Payments())-before, out)
	}
	t.Log(out)
	if code, _, stderr := runMain(ctx, "charge", "--mode", "weekly"); code == 0 || !strings.Contains(stderr, "unknown mode") {
		t.Fatalf("bad mode accepted: %d %s", code, stderr)
	}
	// The flags go through the Charge page's filter parser.
	if code, _, stderr := runMain(ctx, "charge", "--dry-run", "--partner", "1,x"); code == 0 || !strings.Contains(stderr, `partner: "x" is not an id`) {
		t.Fatalf("bad partner id accepted: %d %s", code, stderr)
	}
	// A returns file naming a transaction that is not ours changes nothing.
	csv := filepath.Join(t.TempDir(), "returns.csv")
	if err := os.WriteFile(csv, []byte("TransactionID,ReturnCode,ReturnDate\nABCDEFGHIJKLMNOPQR,R01,2026-11-05\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// The returns file is IPpay's: an add-on without a returns parser
	// (IntegraPay) refuses it; one with it applies it.
	if code, _, stderr := runMain(ctx, "charge", "--returns", csv); code == 0 || !strings.Contains(stderr, "no returns file") {
		t.Fatalf("returns file accepted without a parser: %d %s", code, stderr)
	}
	withReturns := testAddon
	withReturns.ParseReturns = ippay.ParseReturnsCSV
	code, out, stderr = runAddon(ctx, withReturns, "charge", "--returns", csv)
	if code != 0 || !strings.Contains(out, "returns file: 1 rows, 0 applied") || !strings.Contains(out, "1 not ours") {
		t.Fatalf("returns import %d: %s %s", code, out, stderr)
	}
}

// saveTestCards saves a card for every mirrored customer through the
// add-on's gateway (as the methods page would).
func saveTestCards(t *testing.T, u demo.URLs, env map[string]string) {
	t.Helper()
	ctx := context.Background()
	set, err := config.ParseSettingsFor(config.IntegraPay, demo.ModuleConfig(config.IntegraPay, u), nil)
	if err != nil {
		t.Fatal(err)
	}
	gw, err := integraPayGateway(set, zap.NewNop(), clockReal())
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(ctx, env["SPLYNXPAY_DB_PATH"], nil)
	if err != nil {
		t.Fatal(err)
	}
	sp, err := splynx.New(splynx.Config{BaseURL: u.Splynx, APIKey: "test-key", APISecret: "test-secret-value"})
	if err != nil {
		t.Fatal(err)
	}
	pol, err := wire.ChargePolicy(set)
	if err != nil {
		t.Fatal(err)
	}
	en := charge.New(db, sp, gw, charge.Options{Policy: pol})
	custs, err := db.ListCustomers(ctx, store.CustomerFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range custs {
		if _, err := en.SaveMethod(ctx, gateways.SaveMethodRequest{Payer: gateways.Payer{Reference: strconv.FormatInt(c.ID, 10),
			CustomerID: c.ID, GivenName: "Test", FamilyName: "Payer", Email: "t@example.com", Country: "AU"},
			Card:          &gateways.CardDetails{Number: "4111111111111111", ExpMonth: 12, ExpYear: 2030, CVV: "123"},
			Authorisation: gateways.Authorisation{AcceptedAt: time.Now(), IP: "192.0.2.1"}}, "test"); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
}
