package daemon

import (
	"context"
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/splynx-pay/splynx-pay/internal/config"
	"github.com/splynx-pay/splynx-pay/internal/demo"
)

// startTLSSims serves the seeded simulators over https (a test
// certificate the process's default transport is made to trust, as the
// daemon's clients clone it) and the same simulators over plain http.
func startTLSSims(t *testing.T, customers, invoices int) (sims *demo.Sims, secure, plain demo.URLs) {
	t.Helper()
	sims = demo.NewSims(demo.SimConfig{Seed: 7, Customers: customers, Invoices: invoices, Proformas: customers / 10,
		APIKey: "test-key", APISecret: "test-secret-value", RealTime: true})
	t.Cleanup(sims.Close)
	tlsSrv := httptest.NewTLSServer(sims.Handler())
	t.Cleanup(tlsSrv.Close)
	plainSrv := httptest.NewServer(sims.Handler())
	t.Cleanup(plainSrv.Close)

	def := http.DefaultTransport
	tr := def.(*http.Transport).Clone()
	tr.TLSClientConfig = tlsSrv.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
	tr.TLSClientConfig.MinVersion = tls.VersionTLS12
	http.DefaultTransport = tr
	t.Cleanup(func() { http.DefaultTransport = def })

	secure, plain = demo.SimURLs(tlsSrv.URL), demo.SimURLs(plainSrv.URL)
	sims.Configure(secure)
	return sims, secure, plain
}

// TestModuleConfigHTTPURLRefusedOnEveryRead: the Splynx and gateway URLs
// in the module config, edited in Splynx while the daemon runs, are
// checked each time the settings are read (App.readSettings), not only
// the environment's at start. With SPLYNXPAY_ALLOW_HTTP unset and
// everything else over https, a module config naming an http:// URL makes
// `charge` stop with exit 78 and one line naming the setting, and nothing
// is charged at the gateway or written to Splynx. The same command with
// the https URLs put back then charges, so the refusal came from the URL.
func TestModuleConfigHTTPURLRefusedOnEveryRead(t *testing.T) {
	for _, key := range []string{"splynx_url", "integrapay_auth_url", "integrapay_api_url"} {
		t.Run(key, func(t *testing.T) {
			sims, secure, plain := startTLSSims(t, 10, 40)
			env := goodEnv(t, secure.Splynx)
			delete(env, config.AllowHTTPSetting) // goodEnv allows http for the plain simulators
			setEnv(t, env)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			if code, _, stderr := runMain(ctx, "sync"); code != 0 {
				t.Fatalf("sync over https: %d %s", code, stderr)
			}
			saveTestCards(t, secure, env)
			charged := func() (payments, ledger int) { return len(sims.Splynx.Payments()), len(sims.IntegraPay.Ledger()) }
			p0, l0 := charged()

			m := demo.ModuleConfig(config.IntegraPay, secure)
			m[key] = plain.IntegraPay // the simulator, over http
			if key == "splynx_url" {
				m[key] = plain.Splynx
			}
			sims.Splynx.SetModuleConfig(demo.IntegraPayModule, 0, m)
			code, out, stderr := runMain(ctx, "charge", "--to", "2030-01-01")
			want := testAddon.Name + ` charge: config: ` + key + `="` + m[key] + `": must be an https:// URL (set ` +
				config.AllowHTTPSetting + `=true for development only)`
			if code != ExitConfig || lastLine(stderr) != want {
				t.Errorf("exit %d, last line of stderr:\n  %s\nwant exit %d and:\n  %s\nstdout: %.500s", code, lastLine(stderr), ExitConfig, want, out)
			}
			if n := strings.Count(stderr, key+`="`); n != 1 {
				t.Errorf("the setting is named on %d lines, want one:\n%s", n, stderr)
			}
			if p, l := charged(); p != p0 || l != l0 {
				t.Fatalf("charged with an http %s: %d Splynx payments and %d gateway entries, before %d and %d", key, p, l, p0, l0)
			}

			sims.Splynx.SetModuleConfig(demo.IntegraPayModule, 0, demo.ModuleConfig(config.IntegraPay, secure))
			if code, out, stderr := runMain(ctx, "charge", "--to", "2030-01-01"); code != 0 {
				t.Fatalf("charge with the https URLs back: %d %s %s", code, out, stderr)
			}
			if p, l := charged(); p == p0 || l == l0 {
				t.Fatalf("the https control charged nothing (%d payments, %d entries): the refusal above proves nothing", p, l)
			}
		})
	}
}
