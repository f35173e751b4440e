package daemon

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/splynx-pay/splynx-pay/gateways"
	"github.com/splynx-pay/splynx-pay/gateways/integrapay"
	"github.com/splynx-pay/splynx-pay/internal/config"
	"github.com/splynx-pay/splynx-pay/internal/demo"
	"github.com/splynx-pay/splynx-pay/internal/wire"
	"github.com/splynx-pay/splynx-pay/splynx"
	"github.com/splynx-pay/splynx-pay/store"
	"github.com/splynx-pay/splynx-pay/sync/charge"
	"github.com/splynx-pay/splynx-pay/sync/mirror"
)

// A charge run on a full disk: whatever it manages to send is recorded
// well enough to be resolved, nothing is charged twice, and once the disk
// has room the next cycle brings every attempt to a final state that
// agrees with the gateway's ledger.
func TestChargeRunOnAFullDisk(t *testing.T) {
	// The room left decides where the run meets the full disk: before the
	// run is recorded, or part-way through its attempts.
	for _, slack := range []int64{0, 8 << 10, 24 << 10, 64 << 10, 160 << 10} {
		t.Run(fmt.Sprintf("%dKiB_left", slack>>10), func(t *testing.T) { chargeOnFullDisk(t, slack) })
	}
}

func chargeOnFullDisk(t *testing.T, slack int64) {
	dir := mountTmpfs(t, "8m")
	sims, u := startSims(t, 30, 120)
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(dir, "pay.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	sc, err := splynx.New(splynx.Config{BaseURL: u.Splynx, APIKey: "test-key", APISecret: "test-secret-value"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mirror.New(db, sc, mirror.Options{}).Full(ctx); err != nil {
		t.Fatal(err)
	}
	s, err := config.ParseSettingsFor(config.IntegraPay, demo.ModuleConfig(config.IntegraPay, u), nil)
	if err != nil {
		t.Fatal(err)
	}
	gw, err := integrapay.New(integrapay.Config{AuthURL: s.IntegraPayAuthURL, APIURL: s.IntegraPayAPIURL,
		Username: s.IntegraPayUsername, Password: s.IntegraPayPassword, BusinessID: s.IntegraPayBusinessID})
	if err != nil {
		t.Fatal(err)
	}
	policy, err := wire.ChargePolicy(s)
	if err != nil {
		t.Fatal(err)
	}
	en := charge.New(db, sc, gw, charge.Options{Policy: policy, Logger: zap.NewNop(), StaleAfter: time.Millisecond, NotFoundGrace: time.Millisecond})
	owing, err := db.CustomersOwing(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	var custs []int64
	for _, c := range owing {
		custs = append(custs, c.ID)
	}
	for _, c := range custs {
		if _, err := en.SaveMethod(ctx, gateways.SaveMethodRequest{
			Payer:         gateways.Payer{CustomerID: c, GivenName: "Test", FamilyName: "Payer", Email: "t@example.com", Country: "AU"},
			Card:          &gateways.CardDetails{Number: "4111111111111111", ExpMonth: 12, ExpYear: 2030, CVV: "123", Holder: "Test Payer"},
			Authorisation: gateways.Authorisation{AcceptedAt: time.Now(), IP: "192.0.2.1"},
		}, "test"); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	filler := fillDisk(t, dir)
	if fi, err := os.Stat(filler); err == nil && slack > 0 {
		os.Truncate(filler, max(fi.Size()-slack, 0))
	}
	_, runErr := en.Run(ctx, charge.Filters{Mode: charge.ModeInvoices}, charge.RunOptions{Source: charge.SourceAuto, StartedBy: "test"})
	charged := 0
	for _, e := range sims.IntegraPay.Ledger() {
		if e.Kind == "card" {
			charged++
		}
	}
	t.Logf("run with %d KiB left: %v; %d card charges reached the gateway", slack>>10, runErr, charged)
	os.Remove(filler)
	for range 3 {
		if err := en.Cycle(ctx); err != nil {
			t.Logf("cycle: %v", err)
		}
	}
	if _, err := en.Run(ctx, charge.Filters{Mode: charge.ModeInvoices}, charge.RunOptions{Source: charge.SourceAuto, StartedBy: "test"}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := en.Cycle(ctx); err != nil {
			t.Fatal(err)
		}
	}
	as, err := db.ListAttempts(ctx, store.AttemptFilter{})
	if err != nil {
		t.Fatal(err)
	}
	byRef := map[string]store.ChargeAttempt{}
	perKey := map[string]int{}
	for _, a := range as {
		byRef[a.Reference] = a
		switch a.State {
		case store.StateCreated, store.StateSending, store.StateUnknown, store.StateApproved:
			t.Errorf("attempt %s left %s after the disk had room again", a.Reference, a.State)
		}
	}
	for _, e := range sims.IntegraPay.Ledger() {
		if e.Kind != "card" || e.Status != "S" {
			continue
		}
		a, ok := byRef[e.Reference]
		if !ok {
			t.Errorf("gateway charge %s unknown to the database", e.Reference)
			continue
		}
		if a.State != store.StateRecorded {
			t.Errorf("gateway charge %s settled, attempt %s", e.Reference, a.State)
		}
		perKey[a.ChargeKey]++
	}
	for k, n := range perKey {
		if n > 1 {
			t.Errorf("%s charged %d times", k, n)
		}
	}
	if len(perKey) == 0 {
		t.Fatal("nothing was charged at all; the test proves nothing")
	}
}
