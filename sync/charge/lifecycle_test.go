package charge_test

import (
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/splynx-pay/splynx-pay/store"
	"github.com/splynx-pay/splynx-pay/sync/charge"
)

// The Charge page's form and the charge command's flags (turned into the
// same fields) give the same filters.
func TestParseFilters(t *testing.T) {
	cases := []struct {
		name string
		in   url.Values
		want charge.Filters
		err  string
	}{
		{"page form", url.Values{"mode": {"invoices"}, "from": {"2026-10-01"}, "to": {"2026-10-31"},
			"partner": {"1", "2"}, "location": {"3, 4"}, "payment_type": {"5"}, "id": {"10,11", "12"},
			"customer": {" 7 "}, "number": {"INV-1"}, "total": {"50.5"}, "total_op": {">"}, "status": {"not_paid"}},
			charge.Filters{Mode: "invoices", From: "2026-10-01", To: "2026-10-31", Partners: []int64{1, 2},
				Locations: []int64{3, 4}, PaymentTypes: []int64{5}, IDs: []int64{10, 11, 12}, CustomerID: 7,
				Number: "INV-1", TotalOp: ">", Total: 5050, Statuses: []string{"not_paid"}}, ""},
		{"command line total with its operator", url.Values{"total": {"<10.5"}}, charge.Filters{TotalOp: "<", Total: 1050}, ""},
		{"bare total means equal", url.Values{"total": {"100"}}, charge.Filters{TotalOp: "=", Total: 10000}, ""},
		{"empty fields are no filter", url.Values{"partner": {""}, "customer": {""}, "total": {" "}}, charge.Filters{}, ""},
		{"bad id", url.Values{"location": {"1,x"}}, charge.Filters{}, `location: "x" is not an id`},
		{"bad customer", url.Values{"customer": {"abc"}}, charge.Filters{}, `customer: "abc" is not an id`},
		{"bad total", url.Values{"total": {">fifty"}}, charge.Filters{}, "total:"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := charge.ParseFilters(tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

// A run started in the background reports its id at once, can be
// cancelled by it, and still writes back what it approved before the
// cancel.
func TestRunsStartCancelWritesBack(t *testing.T) {
	e := newEnv(t, gwIntegra)
	for i := range 10 {
		e.invoice(e.customer("Cust "+itoa(int64(i)), "card"), "15.00", "")
	}
	e.sync()
	reached, release := make(chan struct{}), make(chan struct{})
	n := 0
	e.hooks.BeforeSend = func(store.ChargeAttempt) error {
		if n++; n == 3 {
			close(reached)
			<-release
		}
		return nil
	}
	var runs charge.Runs
	id, err := runs.Start(e.ctx, e.engine(), charge.Filters{}, charge.RunOptions{Source: charge.SourceAdmin, Concurrency: 1})
	if err != nil || id == 0 {
		t.Fatalf("start: id %d, %v", id, err)
	}
	<-reached
	if !runs.Running(id) || !reflect.DeepEqual(runs.RunningIDs(), []int64{id}) {
		t.Fatalf("run %d not listed as running: %v", id, runs.RunningIDs())
	}
	if !runs.Cancel(id) {
		t.Fatal("cancel found no run")
	}
	close(release)
	deadline := time.Now().Add(20 * time.Second)
	for runs.Running(id) {
		if time.Now().After(deadline) {
			t.Fatal("the cancelled run did not end")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if runs.Cancel(id) {
		t.Fatal("a finished run was cancelled")
	}
	run, err := e.db.GetRun(e.ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if run.Status != "cancelled" {
		t.Fatalf("run status %q, want cancelled", run.Status)
	}
	approved := 0
	for _, a := range e.attempts() {
		if a.State == store.StateApproved || a.State == store.StateRecorded {
			approved++
		}
	}
	if approved == 0 || approved >= 10 {
		t.Fatalf("%d charges approved; want some, not all", approved)
	}
	for len(e.sp.Payments()) < approved {
		if time.Now().After(deadline) {
			t.Fatalf("%d Splynx payments for %d approved charges: no write-back", len(e.sp.Payments()), approved)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got := len(e.sp.Payments()); got != approved {
		t.Fatalf("%d Splynx payments for %d approved charges", got, approved)
	}
}

// A run that cannot start says why and has no id; a foreground run
// returns once its payments are written back.
func TestRunsRun(t *testing.T) {
	e := newEnv(t, gwIntegra)
	e.invoice(e.customer("One", "card"), "20.00", "")
	e.invoice(e.customer("Two", "card"), "30.00", "")
	e.sync()
	var runs charge.Runs
	if id, err := runs.Start(e.ctx, e.engine(), charge.Filters{Mode: "weekly"}, charge.RunOptions{}); err == nil || id != 0 {
		t.Fatalf("bad mode started run %d (%v)", id, err)
	}
	res, err := runs.Run(e.ctx, e.engine(), charge.Filters{}, charge.RunOptions{Source: charge.SourceCLI})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != "done" || res.Progress.Approved != 2 {
		t.Fatalf("run %s, %d approved", res.Status, res.Progress.Approved)
	}
	if got := len(e.sp.Payments()); got != 2 {
		t.Fatalf("%d Splynx payments after the run, want 2 (written back)", got)
	}
	if len(runs.RunningIDs()) != 0 {
		t.Fatalf("finished run still listed: %v", runs.RunningIDs())
	}
}
