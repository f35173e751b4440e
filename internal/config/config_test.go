package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func validBootstrap(t *testing.T) Bootstrap {
	t.Helper()
	b := Bootstrap{
		SplynxURL:       "https://splynx.example.com",
		SplynxAPIKey:    "key",
		SplynxAPISecret: "s3cr3t-value",
		DBPath:          filepath.Join(t.TempDir(), "pay.db"),
	}
	b.Fill(AddonDefaults{Package: "splynx-integrapay", ListenAddr: "127.0.0.1:8390", TimeZone: "Australia/Sydney"})
	return b
}

func TestBootstrapValidateErrors(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "plain")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		mutate func(*Bootstrap)
		want   string
	}{
		{"missing URL", func(b *Bootstrap) { b.SplynxURL = "" },
			"config: SPLYNXPAY_SPLYNX_URL: not set; the Splynx base URL, e.g. https://splynx.example.com"},
		{"URL without scheme", func(b *Bootstrap) { b.SplynxURL = "splynx.example.com" },
			`config: SPLYNXPAY_SPLYNX_URL="splynx.example.com": want an http:// or https:// URL`},
		{"URL with credentials", func(b *Bootstrap) { b.SplynxURL = "https://u:p@splynx.example.com" },
			`config: SPLYNXPAY_SPLYNX_URL="https://u:p@splynx.example.com": URL must not carry credentials; use SPLYNXPAY_SPLYNX_API_KEY/SECRET`},
		{"missing key", func(b *Bootstrap) { b.SplynxAPIKey = "" },
			"config: SPLYNXPAY_SPLYNX_API_KEY: not set; the API key created for the add-on in Administration → API keys"},
		{"missing secret", func(b *Bootstrap) { b.SplynxAPISecret = "" },
			"config: SPLYNXPAY_SPLYNX_API_SECRET: not set; the secret of SPLYNXPAY_SPLYNX_API_KEY"},
		{"database dir missing", func(b *Bootstrap) { b.DBPath = filepath.Join(dir, "nope", "pay.db") },
			`config: SPLYNXPAY_DB_PATH="` + filepath.Join(dir, "nope", "pay.db") + `": directory ` + filepath.Join(dir, "nope") + `: no such file or directory`},
		{"database path is a directory", func(b *Bootstrap) { b.DBPath = dir },
			`config: SPLYNXPAY_DB_PATH="` + dir + `": is a directory; want a database file path`},
		{"database parent is a file", func(b *Bootstrap) { b.DBPath = filepath.Join(file, "pay.db") },
			`config: SPLYNXPAY_DB_PATH="` + filepath.Join(file, "pay.db") + `": cannot read: not a directory`},
		{"bad listen address", func(b *Bootstrap) { b.ListenAddr = "8390" },
			`config: SPLYNXPAY_LISTEN_ADDR="8390": want host:port, e.g. 127.0.0.1:8390`},
		{"bad time zone", func(b *Bootstrap) { b.TimeZone = "Mars/Olympus" },
			`config: SPLYNXPAY_TIMEZONE="Mars/Olympus": unknown time zone; want an IANA name such as Australia/Sydney`},
		{"bad sync schedule", func(b *Bootstrap) { b.SyncSchedule = "every ten minutes" },
			`config: SPLYNXPAY_SYNC_SCHEDULE="every ten minutes": not a cron schedule (minute hour day-of-month month day-of-week): expected exactly 5 fields, found 3: [every ten minutes]`},
		{"bad charge schedule", func(b *Bootstrap) { b.ChargeSchedule = "61 5 * * *" },
			`config: SPLYNXPAY_CHARGE_SCHEDULE="61 5 * * *": not a cron schedule (minute hour day-of-month month day-of-week): end of range (61) above maximum (59): 61`},
		{"bad schedule time zone", func(b *Bootstrap) { b.SettleSchedule = "CRON_TZ=Nowhere/X 15 * * * *" },
			`config: SPLYNXPAY_SETTLE_SCHEDULE="CRON_TZ=Nowhere/X 15 * * * *": not a cron schedule (minute hour day-of-month month day-of-week): provided bad location Nowhere/X: unknown time zone Nowhere/X`},
		{"zero full sync", func(b *Bootstrap) { b.FullSyncEvery = -time.Hour },
			`config: SPLYNXPAY_FULL_SYNC_EVERY="-1h0m0s": must be a positive duration such as 24h`},
		{"bad log level", func(b *Bootstrap) { b.LogLevel = "loud" },
			`config: SPLYNXPAY_LOG_LEVEL="loud": want debug, info, warn or error`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := validBootstrap(t)
			tc.mutate(&b)
			err := b.Validate()
			if err == nil {
				t.Fatalf("Validate() = nil, want %q", tc.want)
			}
			if got := err.Error(); got != tc.want {
				t.Fatalf("Validate() =\n  %s\nwant\n  %s", got, tc.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("message spans lines: %q", err)
			}
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("error %T is not *config.Error", err)
			}
		})
	}
}

func TestBootstrapValidAndNeverShowsSecret(t *testing.T) {
	b := validBootstrap(t)
	if err := b.Validate(); err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	if err := WriteDump(&sb, b, nil, nil); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(sb.String(), "s3cr3t-value") || !strings.Contains(sb.String(), Redacted) {
		t.Fatalf("dump leaks the secret or does not redact:\n%s", sb.String())
	}
}

func TestLoadBootstrapFromEnvironment(t *testing.T) {
	t.Setenv("SPLYNXPAY_SPLYNX_URL", "https://s.example.com")
	t.Setenv("SPLYNXPAY_SPLYNX_API_KEY", "k")
	t.Setenv("SPLYNXPAY_SPLYNX_API_SECRET", "sec")
	t.Setenv("SPLYNXPAY_FULL_SYNC_EVERY", "6h")
	t.Setenv("SPLYNXPAY_TIMEZONE", "")
	b, err := LoadBootstrapFor(AddonDefaults{Package: "splynx-ippay", ListenAddr: "127.0.0.1:8391", TimeZone: "America/New_York"})
	if err != nil {
		t.Fatal(err)
	}
	want := Bootstrap{
		SplynxURL: "https://s.example.com", SplynxAPIKey: "k", SplynxAPISecret: "sec",
		DBPath: "/var/lib/splynx-ippay/splynx-ippay.db", ListenAddr: "127.0.0.1:8391",
		SyncSchedule: "*/10 * * * *", FullSyncEvery: 6 * time.Hour,
		ChargeSchedule: "CRON_TZ=America/New_York 0 5 * * *", SettleSchedule: "CRON_TZ=America/New_York 15 * * * *",
		TimeZone: "America/New_York", LogLevel: "info", AdminTokenFile: "/etc/splynx-ippay/admin-token",
	}
	got := b
	got.Source = nil
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %+v\nwant %+v", got, want)
	}
	if b.Source["SPLYNXPAY_SPLYNX_URL"] != SourceEnv || b.Source["SPLYNXPAY_DB_PATH"] != SourceDefault {
		t.Fatalf("sources: %v", b.Source)
	}

	t.Setenv("SPLYNXPAY_FULL_SYNC_EVERY", "daily")
	_, err = LoadBootstrap()
	if want := `config: SPLYNXPAY_FULL_SYNC_EVERY="daily": want a duration such as 24h or 90m`; err == nil || err.Error() != want {
		t.Fatalf("bad duration: %v, want %s", err, want)
	}
}

// The charge run must happen exactly once on every local day, including
// the days DST starts and ends in both countries.
func TestChargeScheduleOncePerDayAcrossDST(t *testing.T) {
	for _, tz := range []string{"Australia/Sydney", "America/New_York"} {
		b := Bootstrap{}
		b.Fill(AddonDefaults{TimeZone: tz})
		sched, err := CronParser.Parse(b.ChargeSchedule)
		if err != nil {
			t.Fatal(err)
		}
		loc, _ := time.LoadLocation(tz)
		start := time.Date(2026, 1, 1, 0, 0, 0, 0, loc)
		perDay := map[string]int{}
		for next := sched.Next(start); next.Year() == 2026; next = sched.Next(next) {
			perDay[next.In(loc).Format("2006-01-02")]++
			if h := next.In(loc).Hour(); h != 5 {
				t.Fatalf("%s: run at %s", tz, next.In(loc))
			}
		}
		if len(perDay) != 365 {
			t.Fatalf("%s: %d days with a run, want 365", tz, len(perDay))
		}
		for d, n := range perDay {
			if n != 1 {
				t.Fatalf("%s: %d runs on %s", tz, n, d)
			}
		}
	}
}
