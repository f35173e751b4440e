package daemon

import (
	"fmt"
	"testing"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/splynx-pay/splynx-pay/internal/config"
)

// jumpClock is a machine's two clocks: the monotonic one that timers count
// and the wall clock, which an administrator or NTP can step. wall = mono
// + offset; a jump changes the offset at a monotonic instant.
type jumpClock struct {
	mono   time.Time
	offset time.Duration
	jumps  []clockJump
}

type clockJump struct {
	at time.Time     // monotonic instant of the step
	by time.Duration // how far the wall clock is stepped
}

func (c *jumpClock) wall() time.Time { return c.mono.Add(c.offset) }

// sleep waits d of monotonic time (a negative d returns at once, as a
// timer does), applying the steps made meanwhile.
func (c *jumpClock) sleep(d time.Duration) {
	if d < 0 {
		d = 0
	}
	end := c.mono.Add(d)
	for len(c.jumps) > 0 && !c.jumps[0].at.After(end) {
		c.offset += c.jumps[0].by
		c.jumps = c.jumps[1:]
	}
	c.mono = end
}

// cronLoop runs one schedule the way robfig/cron's runner (Cron.run, the
// daemon's scheduler) does: a timer of Next minus the last wake time, and
// on each wake every entry whose Next is not after the wall time runs and
// gets Next = Schedule.Next(wall time). It returns the wall times of the
// runs until the monotonic clock reaches end.
func cronLoop(s cron.Schedule, c *jumpClock, end time.Time) []time.Time {
	var runs []time.Time
	now := c.wall()
	next := s.Next(now)
	for c.mono.Before(end) {
		c.sleep(next.Sub(now))
		if c.mono.After(end) {
			break
		}
		now = c.wall()
		if !next.After(now) {
			runs = append(runs, now)
			next = s.Next(now)
		}
	}
	return runs
}

// minutePoller is the naive scheduler the test must catch: every minute
// it runs the job when the wall clock shows the job's hour and minute.
func minutePoller(hour, minute int, loc *time.Location) func(c *jumpClock, end time.Time) []time.Time {
	return func(c *jumpClock, end time.Time) []time.Time {
		var runs []time.Time
		for c.mono.Before(end) {
			c.sleep(time.Minute)
			if w := c.wall().In(loc); w.Hour() == hour && w.Minute() == minute {
				runs = append(runs, w)
			}
		}
		return runs
	}
}

// jumpCase is a wall-clock step on the day of a daily run, at a local wall
// time, forward or back by an hour, before or after the run.
type jumpCase struct {
	name string
	at   string // local wall time of the step, "15:04"
	by   time.Duration
}

func jumpCases(hm string) []jumpCase {
	t, _ := time.Parse("15:04", hm)
	before, after := t.Add(-30*time.Minute).Format("15:04"), t.Add(30*time.Minute).Format("15:04")
	justAfter := t.Add(time.Minute).Format("15:04")
	return []jumpCase{
		{"forward an hour over the run time", before, time.Hour},
		{"back an hour over the run time, after the run", after, -time.Hour},
		{"back an hour a minute after the run", justAfter, -time.Hour},
		{"back an hour before the run", before, -time.Hour},
		{"forward an hour after the run", after, time.Hour},
	}
}

// runsByDay checks a scheduler over three local days with one jump on the
// middle one: exactly one run each day; a run is never before its wall
// time and at most the jump late.
func runsByDay(t *testing.T, loc *time.Location, day string, hm string, jc jumpCase,
	sched func(c *jumpClock, end time.Time) []time.Time) []string {
	t.Helper()
	d, _ := time.ParseInLocation("2006-01-02", day, loc)
	start := d.AddDate(0, 0, -1)
	stepAt, err := time.ParseInLocation("2006-01-02 15:04", day+" "+jc.at, loc)
	if err != nil {
		t.Fatal(err)
	}
	// The clock starts right (offset 0): the step's monotonic instant is
	// its wall instant.
	c := &jumpClock{mono: start, jumps: []clockJump{{at: stepAt, by: jc.by}}}
	runs := sched(c, d.AddDate(0, 0, 2))
	perDay := map[string]int{}
	for _, r := range runs {
		perDay[r.In(loc).Format("2006-01-02")]++
	}
	var bad []string
	for x := start; x.Before(d.AddDate(0, 0, 2)); x = x.AddDate(0, 0, 1) {
		k := x.Format("2006-01-02")
		if perDay[k] != 1 {
			bad = append(bad, fmt.Sprintf("%s: %d runs", k, perDay[k]))
		}
	}
	for _, r := range runs {
		lt := r.In(loc)
		var h, m int
		fmt.Sscanf(hm, "%d:%d", &h, &m)
		want := time.Date(lt.Year(), lt.Month(), lt.Day(), h, m, 0, 0, loc)
		if late := lt.Sub(want); late < 0 || late > time.Hour {
			bad = append(bad, fmt.Sprintf("run at %s", lt.Format("2006-01-02 15:04 MST")))
		}
	}
	return bad
}

// A wall-clock step forward or back by an hour around the nightly run
// (before it, over it, right after it) neither skips nor doubles the run:
// the default 05:00 and a 02:30 run, on an ordinary day and on the DST
// change days of both zones, through dstSafe and robfig/cron's runner.
func TestDailyRunSurvivesWallClockJumps(t *testing.T) {
	days := []struct{ tz, day string }{
		{"Australia/Sydney", "2026-11-10"}, {"America/New_York", "2026-06-16"},
		{"Australia/Sydney", "2026-04-05"}, {"Australia/Sydney", "2026-10-04"},
		{"America/New_York", "2026-03-08"}, {"America/New_York", "2026-11-01"},
	}
	for _, d := range days {
		loc, err := time.LoadLocation(d.tz)
		if err != nil {
			t.Fatal(err)
		}
		for _, hm := range []string{"05:00", "02:30"} {
			var h, m int
			fmt.Sscanf(hm, "%d:%d", &h, &m)
			spec := fmt.Sprintf("CRON_TZ=%s %d %d * * *", d.tz, m, h)
			raw, err := config.CronParser.Parse(spec)
			if err != nil {
				t.Fatal(err)
			}
			s := dstSafe(raw, loc)
			for _, jc := range jumpCases(hm) {
				bad := runsByDay(t, loc, d.day, hm, jc, func(c *jumpClock, end time.Time) []time.Time { return cronLoop(s, c, end) })
				if len(bad) > 0 {
					t.Errorf("%s %s, run %s, clock %s at %s: %v", d.tz, d.day, hm, jc.name, jc.at, bad)
				}
			}
		}
	}
}

// The cases catch a naive scheduler: one that runs when the wall clock
// shows the run's time skips the day the clock steps over it and runs
// twice the day it steps back over it.
func TestWallClockJumpCasesCatchNaiveScheduler(t *testing.T) {
	loc, _ := time.LoadLocation("Australia/Sydney")
	naive := minutePoller(5, 0, loc)
	failed := map[string]bool{}
	for _, jc := range jumpCases("05:00") {
		if bad := runsByDay(t, loc, "2026-11-10", "05:00", jc, naive); len(bad) > 0 {
			failed[jc.name] = true
			t.Logf("naive scheduler, clock %s: %v", jc.name, bad)
		}
	}
	for _, must := range []string{"forward an hour over the run time", "back an hour over the run time, after the run", "back an hour a minute after the run"} {
		if !failed[must] {
			t.Errorf("the case %q does not catch a naive scheduler", must)
		}
	}
	// And the model of robfig's runner is not lenient: the raw cron
	// schedule without a step runs once a day too (the cases only differ
	// in the step).
	raw, _ := config.CronParser.Parse("CRON_TZ=Australia/Sydney 0 5 * * *")
	c := &jumpClock{mono: time.Date(2026, 11, 9, 0, 0, 0, 0, loc)}
	if runs := cronLoop(raw, c, time.Date(2026, 11, 12, 0, 0, 0, 0, loc)); len(runs) != 3 {
		t.Fatalf("runner model without steps: %d runs in 3 days", len(runs))
	}
}
