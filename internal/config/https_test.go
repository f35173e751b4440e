package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Splynx and gateway URLs are https unless SPLYNXPAY_ALLOW_HTTP says
// otherwise: the environment's Splynx URL, and every URL setting from the
// module config or its SPLYNXPAY_SETTING_ override, each error naming the
// setting the way the admin finds it and the development setting.
func TestURLsMustBeHTTPS(t *testing.T) {
	b := validBootstrap(t)
	b.SplynxURL = "http://splynx.example.com"
	err := b.Validate()
	var ce *Error
	if !errors.As(err, &ce) || ce.Setting != "SPLYNXPAY_SPLYNX_URL" || !strings.Contains(err.Error(), AllowHTTPSetting+"=true") {
		t.Fatalf("http Splynx URL: %v", err)
	}
	b.AllowHTTP = true
	if err := b.Validate(); err != nil {
		t.Fatalf("with %s: %v", AllowHTTPSetting, err)
	}

	urlKeys := map[Addon][]string{
		IntegraPay: {"splynx_url", "integrapay_auth_url", "integrapay_api_url"},
		IPpay:      {"splynx_url", "ippay_url", "ippay_returns_url"},
	}
	for k, keys := range urlKeys {
		var n int
		for _, sp := range SpecsFor(k) {
			if sp.url {
				n++
			}
		}
		if n != len(keys) {
			t.Errorf("%s: %d URL settings, the test knows %d: add the new one here", k, n, len(keys))
		}
		for _, key := range keys {
			for _, from := range []string{SourceSplynx, SourceEnv} {
				module, env := map[string]string{}, map[string]string{}
				want := key
				if from == SourceSplynx {
					module[key] = "http://host.example/x"
				} else {
					want = SettingEnvPrefix + strings.ToUpper(key)
					env[want] = "http://host.example/x"
				}
				s, err := ParseSettingsFor(k, module, env)
				if err != nil {
					t.Fatal(err)
				}
				err = s.CheckHTTPS(false)
				if !errors.As(err, &ce) || ce.Setting != want || !strings.Contains(err.Error(), AllowHTTPSetting) {
					t.Errorf("%s %s from %s: %v, want an error naming %s", k, key, from, err, want)
				}
				if err := s.CheckHTTPS(true); err != nil {
					t.Errorf("%s %s allowed: %v", k, key, err)
				}
				module[key], env[want] = "https://host.example/x", "https://host.example/x"
				if s, _ := ParseSettingsFor(k, module, env); s.CheckHTTPS(false) != nil {
					t.Errorf("%s %s: https refused: %v", k, key, s.CheckHTTPS(false))
				}
			}
		}
		// The defaults (the gateways' published hosts) pass.
		if s, err := ParseSettingsFor(k, nil, nil); err != nil || s.CheckHTTPS(false) != nil {
			t.Errorf("%s defaults: %v %v", k, err, s.CheckHTTPS(false))
		}
	}
}

// The admin token file fails closed: missing, empty, short, open to other
// users or not a file is an error; the error never holds the token.
func TestReadAdminToken(t *testing.T) {
	dir := t.TempDir()
	const tok = "adm-0123456789abcdefghij"
	write := func(name, content string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		os.Chmod(p, mode)
		return p
	}
	good := write("good", "  "+tok+"\n", 0o640)
	if got, err := ReadAdminToken(good); err != nil || string(got) != tok {
		t.Fatalf("good file: %q %v", got, err)
	}
	for name, path := range map[string]string{
		"no setting":     "",
		"missing":        filepath.Join(dir, "none"),
		"empty":          write("empty", "\n", 0o640),
		"short":          write("short", "abc123", 0o600),
		"world-readable": write("world", tok, 0o644),
		"world-writable": write("worldw", tok, 0o662),
		"directory":      dir,
	} {
		got, err := ReadAdminToken(path)
		if err == nil || got != nil {
			t.Errorf("%s: accepted (%q)", name, got)
			continue
		}
		if strings.Contains(err.Error(), tok) {
			t.Errorf("%s: the error shows the token: %v", name, err)
		}
	}
}
