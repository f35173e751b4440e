package demo

import (
	"fmt"
	"io"
	"sync"
	"text/tabwriter"
	"time"
)

// Report collects the demo's checks and timings for the summary. runNight
// adds its own sections with Check and Fail.
type Report struct {
	mu       sync.Mutex
	sections []*section
	timings  []timing
	failed   bool
}

type section struct {
	title string
	rows  []row
}

type row struct {
	name, want, got string
	ok              bool
	info            bool
}

type timing struct {
	name string
	d    time.Duration
}

func (r *Report) section(title string) *section {
	for _, s := range r.sections {
		if s.title == title {
			return s
		}
	}
	s := &section{title: title}
	r.sections = append(r.sections, s)
	return s
}

// Check records that want (the ground truth: a simulator) and got (what
// our side has) agree, and reports whether they did.
func (r *Report) Check(sectionTitle, name string, want, got any) bool {
	w, g := fmt.Sprint(want), fmt.Sprint(got)
	ok := w == g
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.section(sectionTitle)
	s.rows = append(s.rows, row{name: name, want: w, got: g, ok: ok})
	if !ok {
		r.failed = true
	}
	return ok
}

// Fail records a step that could not be done at all.
func (r *Report) Fail(sectionTitle, name string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.section(sectionTitle)
	s.rows = append(s.rows, row{name: name, want: "ok", got: "error: " + oneLine(err.Error())})
	r.failed = true
}

// Note adds an informational row that cannot fail.
func (r *Report) Note(sectionTitle, name, text string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.section(sectionTitle)
	s.rows = append(s.rows, row{name: name, got: text, info: true, ok: true})
}

// Time records how long a step took.
func (r *Report) Time(name string, d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.timings = append(r.timings, timing{name, d})
}

// Failed reports whether any check failed.
func (r *Report) Failed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.failed
}

// Write prints the sections as aligned tables.
func (r *Report) Write(w io.Writer) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range r.sections {
		fmt.Fprintf(w, "\n%s\n", s.title)
		tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "\texpected\tgot\t\t")
		for _, rw := range s.rows {
			mark := "✓"
			switch {
			case rw.info:
				mark = ""
			case !rw.ok:
				mark = "✗"
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t\n", rw.name, rw.want, rw.got, mark)
		}
		tw.Flush()
	}
	if len(r.timings) > 0 {
		fmt.Fprintln(w, "\nTimings")
		tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
		for _, t := range r.timings {
			fmt.Fprintf(tw, "  %s\t%s\t\n", t.name, t.d.Round(time.Millisecond))
		}
		tw.Flush()
	}
}
