package splynxsim

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestParseLatency(t *testing.T) {
	for in, want := range map[string]Latency{
		"":                       {},
		"page=80ms,record=40us":  {Page: 80 * time.Millisecond, Record: 40 * time.Microsecond},
		" record=1ms , page=2s ": {Page: 2 * time.Second, Record: time.Millisecond},
		"page=5ms":               {Page: 5 * time.Millisecond},
		"record=0s":              {},
	} {
		got, err := ParseLatency(in)
		if err != nil || got != want {
			t.Errorf("ParseLatency(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for in, msg := range map[string]string{
		"page":                "not key=duration",
		"page=":               "not key=duration",
		"page=80":             "not a duration",
		"page=fast":           "not a duration",
		"page=-1ms":           "negative",
		"row=1ms":             `unknown key "row"`,
		"page=1ms,page=2ms":   "given twice",
		"page=1ms;record=1us": "not a duration",
	} {
		_, err := ParseLatency(in)
		if err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("ParseLatency(%q) error = %v; want one saying %q", in, err, msg)
		}
	}
}

// The model's delays, read from the simulator's ledger: a list page costs
// page + record × its records, a single GET one record, a count none.
func TestLatencyModelDelaysByRecords(t *testing.T) {
	l := Latency{Page: 3 * time.Millisecond, Record: 500 * time.Microsecond}
	s, api := newTestSim(t, Options{Latency: l}, &SeedConfig{Seed: 1, Customers: 20, Invoices: 40, Proformas: 0})
	if got := len(api.mustDo(http.MethodGet, "admin/customers/customer?limit=7", nil, http.StatusOK).list(t)); got != 7 {
		t.Fatalf("listed %d customers, want 7", got)
	}
	api.mustDo(http.MethodGet, "admin/customers/customer/3", nil, http.StatusOK)
	api.mustDo(http.MethodHead, "admin/finance/invoices", nil, http.StatusNoContent)
	total, answers := s.LatencyServed()
	want := l.For(7) + l.For(1) + l.For(0)
	if total != want || answers != 3 {
		t.Fatalf("latency served %s over %d answers, want %s over 3", total, answers, want)
	}

	// Off again: nothing more is added.
	s.SetLatency(Latency{})
	api.mustDo(http.MethodGet, "admin/customers/customer?limit=7", nil, http.StatusOK)
	if total2, answers2 := s.LatencyServed(); total2 != total || answers2 != answers {
		t.Fatalf("latency off still served %s over %d answers", total2-total, answers2-answers)
	}
}

// The delay is real: a generous lower bound on the wall clock, never an
// upper one.
func TestLatencyModelWaitsOnTheWire(t *testing.T) {
	s2, api2 := newTestSim(t, Options{Latency: Latency{Page: 40 * time.Millisecond, Record: 2 * time.Millisecond}},
		&SeedConfig{Seed: 1, Customers: 30, Invoices: 0, Proformas: 0})
	start := time.Now()
	if got := len(api2.mustDo(http.MethodGet, "admin/customers/customer?limit=30", nil, http.StatusOK).list(t)); got != 30 {
		t.Fatalf("listed %d customers, want 30", got)
	}
	if took, least := time.Since(start), 100*time.Millisecond; took < least {
		t.Fatalf("a page of 30 records at page=40ms,record=2ms came back in %s, under %s", took, least)
	}
	if total, _ := s2.LatencyServed(); total != 100*time.Millisecond {
		t.Fatalf("latency served %s, want 100ms", total)
	}
}
