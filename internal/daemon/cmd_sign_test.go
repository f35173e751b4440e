package daemon

import (
	"context"
	"strings"
	"testing"

	"github.com/splynx-pay/splynx-pay/web"
)

func TestSignCommandPrintsTheSignedLink(t *testing.T) {
	sims, u := startSims(t, 5, 10)
	setEnv(t, goodEnv(t, u.Splynx))
	code, out, stderr := runMain(context.Background(), "sign", "invoice", "202611000123")
	if code != 0 || !strings.Contains(out, "/direct-pay-invoice?item_id=202611000123") || strings.Contains(out, "sig=") ||
		!strings.Contains(stderr, "not signed") {
		t.Fatalf("unsigned: %d %q %q", code, out, stderr)
	}
	const key = "a-link-key-of-20-chars"
	m := sims.Splynx.ModuleConfig(testAddon.Module, 0)
	m["direct_pay_link_key"] = key
	sims.Splynx.SetModuleConfig(testAddon.Module, 0, m)
	code, out, stderr = runMain(context.Background(), "sign", "--id", "proforma", "17")
	want, _ := web.DirectPayPath("proforma", true, "17", key)
	if code != 0 || strings.TrimSpace(out) != u.Splynx+testAddon.Prefix+want {
		t.Fatalf("signed: %d %q %q, want %s", code, out, stderr, u.Splynx+testAddon.Prefix+want)
	}
	if code, _, stderr := runMain(context.Background(), "sign", "invoice"); code == 0 || !strings.Contains(stderr, "want invoice|proforma") {
		t.Fatalf("missing argument: %d %q", code, stderr)
	}
	if code, _, _ := runMain(context.Background(), "sign", "--id", "invoice", "x1"); code == 0 {
		t.Fatal("a non-numeric id was signed")
	}
}
