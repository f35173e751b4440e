package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/splynx-pay/splynx-pay/splynx"
	"github.com/splynx-pay/splynx-pay/splynx/splynxsim"
)

func TestParseFaults(t *testing.T) {
	cases := []struct {
		spec    string
		want    splynxsim.Fault
		path    string
		wantErr string
	}{
		{"", splynxsim.Fault{Seed: 9}, "", ""},
		{"error=0.2,drop=0.05,latency=10ms", splynxsim.Fault{Seed: 9, ErrorRate: 0.2, DropRate: 0.05, Latency: 10 * time.Millisecond}, "", ""},
		{"status=503,error=1,path=admin/finance/invoices", splynxsim.Fault{Seed: 9, ErrorRate: 1, Status: 503}, "admin/finance/invoices", ""},
		{"malformed=0.1,wrong_types=0.3,drop_after=0.01", splynxsim.Fault{Seed: 9, MalformedRate: 0.1, WrongTypesRate: 0.3, DropAfterRate: 0.01}, "", ""},
		{"error=2", splynxsim.Fault{}, "", `-faults error="2": want a rate from 0 to 1`},
		{"latency=soon", splynxsim.Fault{}, "", `-faults latency="soon": want a duration such as 10ms`},
		{"boom=1", splynxsim.Fault{}, "", `-faults: unknown key "boom"`},
		{"error", splynxsim.Fault{}, "", `-faults: "error" is not key=value`},
	}
	for _, tc := range cases {
		t.Run(tc.spec, func(t *testing.T) {
			f, path, err := parseFaults(tc.spec, 9)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("err %v, want %s", err, tc.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(f, tc.want) || path != tc.path {
				t.Fatalf("got %+v %q %v, want %+v %q", f, path, err, tc.want, tc.path)
			}
		})
	}
}

// The process prints LISTENING first, then serves Splynx at the root and
// the gateways under their prefixes, until its context ends.
func TestServesAndAnnounces(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-listen", "127.0.0.1:0", "-customers", "7", "-invoices", "20", "-proformas", "2",
			"-api-key", "k1", "-api-secret", "s1"}, pw, io.Discard)
		pw.Close()
	}()
	sc := bufio.NewScanner(pr)
	var lines []string
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) == 5 {
			break
		}
	}
	go io.Copy(io.Discard, pr)
	if len(lines) < 5 || !strings.HasPrefix(lines[0], "LISTENING http://127.0.0.1:") {
		t.Fatalf("announcement: %q", lines)
	}
	base := strings.TrimPrefix(lines[0], "LISTENING ")
	if lines[3] != "IPPAY "+base+"/ippay/ippay" {
		t.Fatalf("ippay line %q", lines[3])
	}

	c, err := splynx.New(splynx.Config{BaseURL: base, APIKey: "k1", APISecret: "s1"})
	if err != nil {
		t.Fatal(err)
	}
	n, err := c.CountCustomers(ctx, splynx.Search{})
	if err != nil || n != 7 {
		t.Fatalf("customers over the API: %d, %v", n, err)
	}
	cfg, err := c.GetModuleConfig(ctx, "splynx_addon_integrapay", 0)
	if err != nil || cfg["integrapay_api_url"] != base+"/integrapay" {
		t.Fatalf("module config points at %q (%v)", cfg["integrapay_api_url"], err)
	}
	resp, err := http.Get(base + "/ippay/returns.csv")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("returns report: %d", resp.StatusCode)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("did not stop")
	}
}
