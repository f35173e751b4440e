package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/splynx-pay/splynx-pay/internal/chaos"
	"github.com/splynx-pay/splynx-pay/splynx"
)

func startControlSim(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"-listen", "127.0.0.1:0", "-customers", "5", "-invoices", "10"}, args...), pw, io.Discard)
		pw.Close()
	}()
	t.Cleanup(func() { cancel(); <-done })
	sc := bufio.NewScanner(pr)
	if !sc.Scan() || !strings.HasPrefix(sc.Text(), "LISTENING ") {
		t.Fatalf("no LISTENING line: %q", sc.Text())
	}
	go io.Copy(io.Discard, pr)
	return strings.TrimPrefix(sc.Text(), "LISTENING ")
}

func post(t *testing.T, url, body string) *http.Response {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// Without -control nothing answers under /_sim/; with it, the ledger,
// faults, clock and invoices work as splynx-chaos uses them.
func TestControlAPI(t *testing.T) {
	plain := startControlSim(t)
	if resp := post(t, plain+"/_sim/clear", ""); resp.StatusCode == http.StatusNoContent {
		t.Fatal("the control API answers without -control")
	}

	base := startControlSim(t, "-control")
	ledger := func() chaos.Ledgers {
		resp, err := http.Get(base + "/_sim/ledger")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var l chaos.Ledgers
		if err := json.NewDecoder(resp.Body).Decode(&l); err != nil {
			t.Fatal(err)
		}
		return l
	}
	before := ledger().Now

	// Advance moves the shared clock, which keeps following the wall clock.
	if resp := post(t, base+"/_sim/advance?by=48h", ""); resp.StatusCode != http.StatusOK {
		t.Fatalf("advance: %d", resp.StatusCode)
	}
	if d := ledger().Now.Sub(before); d < 48*time.Hour || d > 49*time.Hour {
		t.Fatalf("clock moved %s, want 48h", d)
	}
	if resp := post(t, base+"/_sim/advance?by=-1h", ""); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("backwards advance: %d", resp.StatusCode)
	}

	// New invoices are dated yesterday by the wall clock.
	resp := post(t, base+"/_sim/invoices", `[{"customer_id":1,"total":1234}]`)
	var ids []int64
	if err := json.NewDecoder(resp.Body).Decode(&ids); err != nil || len(ids) != 1 {
		t.Fatalf("invoices: %v %v", ids, err)
	}
	if resp := post(t, base+"/_sim/invoices", `[{"customer_id":99999,"total":1}]`); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("unknown customer: %d", resp.StatusCode)
	}

	// A Splynx fault set over the API hits the next request, then clears.
	if resp := post(t, base+"/_sim/fault?target=splynx&path=admin", `{"ErrorRate":1,"Status":503,"Times":1}`); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("fault: %d", resp.StatusCode)
	}
	r, err := http.Get(base + "/api/2.0/admin/customers/customer")
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("faulted request answered %d, want 503", r.StatusCode)
	}
	for _, bad := range []string{"target=nobody", "target=ippay"} {
		body := `{"Nope":1}`
		if resp := post(t, base+"/_sim/fault?"+bad, body); resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("%s %s: %d, want 400", bad, body, resp.StatusCode)
		}
	}
	if resp := post(t, base+"/_sim/clear", ""); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("clear: %d", resp.StatusCode)
	}
	if resp := post(t, base+"/_sim/expire-tokens", ""); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("expire-tokens: %d", resp.StatusCode)
	}

	// Portal logins: the customer can then log in with the password, and
	// only with it.
	resp = post(t, base+"/_sim/portal-logins", `{"customer_ids":[2],"password":"chaos-pass"}`)
	var logins []string
	if err := json.NewDecoder(resp.Body).Decode(&logins); err != nil || len(logins) != 1 || logins[0] == "" {
		t.Fatalf("portal-logins: %v %v", logins, err)
	}
	sc, err := splynx.New(splynx.Config{BaseURL: base, APIKey: "sim-api-key", APISecret: "sim-api-secret"})
	if err != nil {
		t.Fatal(err)
	}
	who, err := sc.LoginCustomer(context.Background(), logins[0], "chaos-pass")
	if err != nil || who.Identity().CustomerID != 2 {
		t.Fatalf("customer login with the set password: %v", err)
	}
	if _, err := sc.LoginCustomer(context.Background(), logins[0], "wrong"); err == nil {
		t.Fatal("customer login with a wrong password succeeded")
	}
	if resp := post(t, base+"/_sim/portal-logins", `{"customer_ids":[99999],"password":"x"}`); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("unknown customer: %d", resp.StatusCode)
	}
}
