package daemon

import (
	"fmt"
	"testing"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/splynx-pay/splynx-pay/internal/config"
)

// dstDays are the days the clocks change in the add-ons' default zones in
// 2026 and 2027 (the test checks that they do).
var dstDays = []struct {
	tz, day string
	back    bool // clocks go back (an hour repeats); else forward (an hour is skipped)
}{
	{"Australia/Sydney", "2026-04-05", true}, {"Australia/Sydney", "2026-10-04", false},
	{"Australia/Sydney", "2027-04-04", true}, {"Australia/Sydney", "2027-10-03", false},
	{"America/New_York", "2026-03-08", false}, {"America/New_York", "2026-11-01", true},
	{"America/New_York", "2027-03-14", false}, {"America/New_York", "2027-11-07", true},
}

// runsPerDay walks a schedule from three days before the change to three
// days after and counts fires per local calendar day.
func runsPerDay(s cron.Schedule, loc *time.Location, day time.Time) (map[string][]time.Time, []string) {
	from := day.AddDate(0, 0, -3)
	to := day.AddDate(0, 0, 4)
	got := map[string][]time.Time{}
	var days []string
	for d := from; d.Before(to); d = d.AddDate(0, 0, 1) {
		days = append(days, d.Format("2006-01-02"))
	}
	for n := s.Next(from); n.Before(to); n = s.Next(n) {
		k := n.In(loc).Format("2006-01-02")
		got[k] = append(got[k], n)
	}
	return got, days
}

// A daily schedule — the default 05:00 and times inside the hour that is
// skipped or repeated — runs exactly once on every local day around each
// DST change of 2026 and 2027 in both zones, at its wall time, or (when
// that time does not exist) at the first instant after the gap.
func TestDailyScheduleAcrossDST(t *testing.T) {
	for _, d := range dstDays {
		loc, err := time.LoadLocation(d.tz)
		if err != nil {
			t.Fatal(err)
		}
		day, _ := time.ParseInLocation("2006-01-02", d.day, loc)
		_, off0 := day.Zone()
		_, off1 := day.Add(24 * time.Hour).Zone()
		if off0 == off1 || (off1 < off0) != d.back {
			t.Fatalf("%s %s is not a DST change of the expected direction", d.tz, d.day)
		}
		for _, hm := range []string{"0 5", "30 2", "30 1", "0 2", "59 2"} {
			spec := fmt.Sprintf("CRON_TZ=%s %s * * *", d.tz, hm)
			raw, err := config.CronParser.Parse(spec)
			if err != nil {
				t.Fatal(err)
			}
			got, days := runsPerDay(dstSafe(raw, loc), loc, day)
			for _, k := range days {
				if len(got[k]) != 1 {
					t.Errorf("%s on %s: %d runs %v, want exactly 1", spec, k, len(got[k]), got[k])
					continue
				}
				var h, m int
				fmt.Sscanf(hm, "%d %d", &m, &h)
				lt := got[k][0].In(loc)
				want := time.Date(lt.Year(), lt.Month(), lt.Day(), h, m, 0, 0, loc)
				if lt.Hour() != h || lt.Minute() != m {
					// Only allowed inside the gap: the first instant after it.
					if k != d.day || d.back || !got[k][0].Equal(want) {
						t.Errorf("%s on %s runs at %s", spec, k, lt.Format("15:04 MST"))
					}
				}
			}
		}
	}
}

// The protection matters: robfig/cron alone doubles a run in the repeated
// hour and skips the day of the missing hour.
func TestRawCronDoublesAndSkipsAcrossDST(t *testing.T) {
	loc, _ := time.LoadLocation("America/New_York")
	raw, _ := config.CronParser.Parse("CRON_TZ=America/New_York 30 1 * * *")
	back, _ := time.ParseInLocation("2006-01-02", "2026-11-01", loc)
	if got, _ := runsPerDay(raw, loc, back); len(got["2026-11-01"]) != 2 {
		t.Fatalf("raw cron ran %d times on the fall-back day; the wrapper's reason is gone", len(got["2026-11-01"]))
	}
	raw, _ = config.CronParser.Parse("CRON_TZ=America/New_York 30 2 * * *")
	fwd, _ := time.ParseInLocation("2006-01-02", "2026-03-08", loc)
	if got, _ := runsPerDay(raw, loc, fwd); len(got["2026-03-08"]) != 0 {
		t.Fatalf("raw cron ran %d times on the spring-forward day", len(got["2026-03-08"]))
	}
}

// Hourly settlement keeps running through both changes, never twice in one
// wall-clock minute, and a spec without CRON_TZ follows the daemon's zone.
func TestHourlyAndZonelessSchedules(t *testing.T) {
	loc, _ := time.LoadLocation("Australia/Sydney")
	raw, _ := config.CronParser.Parse("15 * * * *")
	s := dstSafe(raw, loc)
	from := time.Date(2026, 10, 3, 12, 0, 0, 0, loc)
	seen := map[string]bool{}
	n := from
	for range 48 {
		next := s.Next(n)
		if !next.After(n) || next.Sub(n) > 2*time.Hour {
			t.Fatalf("after %s next is %s", n.In(loc), next.In(loc))
		}
		k := next.In(loc).Format("2006-01-02 15:04")
		if seen[k] {
			t.Fatalf("wall time %s twice", k)
		}
		seen[k] = true
		if next.In(loc).Minute() != 15 {
			t.Fatalf("hourly run at %s", next.In(loc).Format("15:04 MST"))
		}
		n = next
	}
	daily, _ := config.CronParser.Parse("0 5 * * *")
	if got := dstSafe(daily, loc).Next(from).In(loc); got.Hour() != 5 || got.Location().String() != "Australia/Sydney" {
		t.Fatalf("zoneless daily spec runs at %s", got)
	}
	every, _ := config.CronParser.Parse("@every 1s")
	if dstSafe(every, loc) != every {
		t.Fatal("@every schedules must pass through unchanged")
	}
}
