package daemon

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/splynx-pay/splynx-pay/splynx/splynxsim"
	"github.com/splynx-pay/splynx-pay/store"
)

func TestRestoreMethodsCommand(t *testing.T) {
	sims, u := startSims(t, 5, 10)
	env := goodEnv(t, u.Splynx)
	setEnv(t, env)
	// What a saved card and a saved bank account left in Splynx (IntegraPay layout).
	sims.Splynx.SetPaymentAccount(splynxsim.PaymentAccount{CustomerID: 2, AccountID: splynxsim.AccountIntegraPay,
		Fields: [10]string{"2", "2", "card", "Visa •••• 1111", "12/2030"}})
	sims.Splynx.SetPaymentAccount(splynxsim.PaymentAccount{CustomerID: 3, AccountID: splynxsim.AccountIntegraPay,
		Fields: [10]string{"3", "3", "bank", "BSB 062-••• •••• 678", "", "2026-11-02T09:00:00Z", "203.0.113.9", "integrapay-ddr-2026-11 sha256:x"}})
	sims.Splynx.SetPaymentAccount(splynxsim.PaymentAccount{CustomerID: 4, AccountID: splynxsim.AccountIntegraPay, Fields: [10]string{"4"}})
	code, out, stderr := runMain(context.Background(), "restore-methods")
	if code != 0 || !strings.Contains(out, "3 payment accounts in Splynx: 2 restored, 0 kept (already saved here), 1 skipped") {
		t.Fatalf("restore: %d %q %q", code, out, stderr)
	}
	db, err := store.Open(context.Background(), filepath.Clean(env["SPLYNXPAY_DB_PATH"]), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	m, err := db.ActiveMethod(context.Background(), 3)
	if err != nil || m.Kind != "bank" || m.Token != "3" || m.AuthIP != "203.0.113.9" || m.AuthAcceptedAt.IsZero() {
		t.Fatalf("restored bank method: %+v %v", m, err)
	}
	if c, _ := db.ActiveMethod(context.Background(), 2); c.ExpMonth != 12 || c.ExpYear != 2030 || c.Mask != "Visa •••• 1111" {
		t.Fatalf("restored card: %+v", c)
	}
	// Run again: nothing is restored twice.
	if code, out, _ := runMain(context.Background(), "restore-methods"); code != 0 || !strings.Contains(out, "0 restored, 2 kept") {
		t.Fatalf("second run: %d %q", code, out)
	}
}
