package daemon

import (
	"time"

	"github.com/robfig/cron/v3"
)

// dstSafe wraps a cron schedule so it fires once per matching wall-clock
// time in its zone, across daylight-saving changes. robfig/cron on its own
// fires twice when the clocks go back (02:30 exists twice) and skips the
// day when they go forward (02:30 does not exist): a doubled or skipped
// debit run. Here the next wall-clock match is found on a clock without
// DST and then placed in the zone: a time that does not exist runs at the
// first instant after the gap; a time that exists twice runs once.
// Schedules other than cron specs (@every) are returned unchanged. A spec
// without CRON_TZ runs in loc, the scheduler's zone.
func dstSafe(s cron.Schedule, loc *time.Location) cron.Schedule {
	spec, ok := s.(*cron.SpecSchedule)
	if !ok {
		return s
	}
	zone := spec.Location
	if zone == nil || zone == time.Local {
		zone = loc
	}
	if zone == nil || zone == time.UTC {
		return s
	}
	wall := *spec
	wall.Location = time.UTC
	return wallSchedule{wall: &wall, loc: zone, orig: s}
}

type wallSchedule struct {
	wall *cron.SpecSchedule // the same fields, evaluated on a DST-free clock
	loc  *time.Location
	orig cron.Schedule
}

// Next returns the first matching wall-clock time after t, as an instant.
func (w wallSchedule) Next(t time.Time) time.Time {
	lt := t.In(w.loc)
	tw := time.Date(lt.Year(), lt.Month(), lt.Day(), lt.Hour(), lt.Minute(), lt.Second(), lt.Nanosecond(), time.UTC)
	for range 4 {
		nw := w.wall.Next(tw)
		if nw.IsZero() {
			return nw
		}
		n := time.Date(nw.Year(), nw.Month(), nw.Day(), nw.Hour(), nw.Minute(), nw.Second(), 0, w.loc)
		if n.After(t) {
			return n
		}
		// The wall time maps to an instant already past (the second pass
		// through an hour the clocks went back over): take the next one.
		tw = nw
	}
	return w.orig.Next(t)
}
