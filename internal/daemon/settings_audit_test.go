package daemon

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/splynx-pay/splynx-pay/internal/config"
	"github.com/splynx-pay/splynx-pay/internal/demo"
	"github.com/splynx-pay/splynx-pay/store"
)

// An admin's edit of the module config in Splynx reaches the audit trail
// the next time the daemon reads the settings; a secret's value does not.
func TestSettingChangesReachTheAuditTrail(t *testing.T) {
	sims, u := startSims(t, 5, 10)
	setEnv(t, goodEnv(t, u.Splynx))
	boot, err := config.LoadBootstrapFor(testAddon.Defaults())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	app := &App{Addon: testAddon, Boot: boot, Clock: clockReal(), Log: nopLogger()}
	if app.DB, err = store.Open(ctx, filepath.Join(t.TempDir(), "s.db"), nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { app.DB.Close() })
	if app.Splynx, err = newSplynxClient(boot, app.Log, app.Clock); err != nil {
		t.Fatal(err)
	}
	if _, err := app.readSettings(ctx); err != nil {
		t.Fatal(err)
	}
	cfg := demo.ModuleConfig(config.IntegraPay, u)
	cfg["max_attempts"] = "5"
	cfg["integrapay_password"] = "a-new-secret"
	sims.Splynx.SetModuleConfig(demo.IntegraPayModule, 0, cfg)
	if _, err := app.readSettings(ctx); err != nil {
		t.Fatal(err)
	}
	rows, err := app.DB.ListTrail(ctx, store.TrailFilter{Kind: "setting.changed"})
	if err != nil {
		t.Fatal(err)
	}
	var all []string
	for _, r := range rows {
		all = append(all, r.Detail)
	}
	got := strings.Join(all, "\n")
	if len(rows) != 2 || !strings.Contains(got, `max_attempts: "3" → "5"`) || !strings.Contains(got, "integrapay_password: changed (secret)") ||
		strings.Contains(got, "a-new-secret") {
		t.Fatalf("trail:\n%s", got)
	}
}
