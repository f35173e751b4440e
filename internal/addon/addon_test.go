package addon

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/splynx-pay/splynx-pay/internal/config"
	"github.com/splynx-pay/splynx-pay/splynx/splynxsim"
)

func read(t *testing.T, parts ...string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(append([]string{"..", ".."}, parts...)...))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The files outside Go that repeat an add-on's identity (packaging,
// nginx, env file, the simulator's seed) say what Identity says.
func TestIdentityAgrees(t *testing.T) {
	rules := read(t, "debian", "rules")
	simModule := map[config.Addon]string{config.IntegraPay: splynxsim.ModuleIntegraPay, config.IPpay: splynxsim.ModuleIPpay}
	seen := map[string]bool{}
	for _, a := range All() {
		t.Run(a.Name, func(t *testing.T) {
			for _, v := range []string{a.Name, a.Module, a.Prefix, a.ListenAddr} {
				if seen[v] {
					t.Errorf("%q names both add-ons", v)
				}
				seen[v] = true
			}
			if got, ok := ByKind(a.Kind); !ok || got != a {
				t.Errorf("ByKind(%s) = %+v", a.Kind, got)
			}
			_, port, err := net.SplitHostPort(a.ListenAddr)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := time.LoadLocation(a.TimeZone); err != nil {
				t.Errorf("time zone %q: %v", a.TimeZone, err)
			}
			if simModule[a.Kind] != a.Module {
				t.Errorf("splynxsim seeds module %q, want %q", simModule[a.Kind], a.Module)
			}
			env := read(t, "deploy", a.Name+".env")
			for _, want := range []string{"#SPLYNXPAY_LISTEN_ADDR=" + a.ListenAddr + "\n", "#SPLYNXPAY_TIMEZONE=" + a.TimeZone + "\n",
				"(module " + a.Module + ")"} {
				if !strings.Contains(env, want) {
					t.Errorf("deploy/%s.env lacks %q", a.Name, want)
				}
			}
			if proxy := read(t, "deploy", "nginx", a.Name+"-proxy.conf"); !strings.Contains(proxy, "proxy_pass http://"+a.ListenAddr+";") {
				t.Errorf("deploy/nginx/%s-proxy.conf does not proxy to %s", a.Name, a.ListenAddr)
			}
			if site := read(t, "deploy", "nginx", a.Name+".addons"); !strings.Contains(site, "location ^~ "+a.Prefix+"/ {") {
				t.Errorf("deploy/nginx/%s.addons does not serve %s/", a.Name, a.Prefix)
			}
			man := "s/@PKG@/" + a.Name + "/g; s/@TITLE@/" + a.Title + "/g; s,@PREFIX@," + a.Prefix + ",g; s/@PORT@/" + port + "/g;"
			if !strings.Contains(rules, man) {
				t.Errorf("debian/rules does not make %s's man page with %q", a.Name, man)
			}
			if d := a.Defaults(); d.Package != a.Name || d.ListenAddr != a.ListenAddr || d.TimeZone != a.TimeZone {
				t.Errorf("Defaults() = %+v", d)
			}
		})
	}
}
