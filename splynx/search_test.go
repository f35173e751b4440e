package splynx

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The expected strings in testdata/query were written by hand from PHP's
// http_build_query rules, not produced by this encoder.
func TestSearchEncodeGolden(t *testing.T) {
	cases := []struct {
		name string
		s    Search
	}{
		{"empty", Search{}},
		{"eq", Search{Main: []Cond{Eq("status", "not_paid")}}},
		{"nested_operator", Search{
			Main:  []Cond{Where("date_updated", ">=", "2026-11-01 00:00:00")},
			Order: []OrderBy{Asc("id")}, Limit: 500, Offset: 1000,
		}},
		{"in_list", Search{Main: []Cond{In("status", "not_paid", "pending")}}},
		{"between", Search{Main: []Cond{Between("total", "10.00", "99.99")}}},
		{"additional_like", Search{
			Main:       []Cond{Eq("partner_id", "3")},
			Additional: []Cond{Where("autopay", "LIKE", "%ye s~")},
			Order:      []OrderBy{Desc("date_created")},
		}},
		{"combined", Search{
			Main: []Cond{
				Eq("status", "not_paid"),
				In("customer_id", "1", "22", "333"),
				Between("date_created", "2026-10-01", "2026-10-31"),
				Where("total", ">", "0"),
			},
			Order: []OrderBy{Asc("id"), Desc("date_created")},
			Limit: 100,
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			want, err := os.ReadFile(filepath.Join("testdata", "query", tc.name+".golden"))
			if err != nil {
				t.Fatal(err)
			}
			got := tc.s.Encode()
			if got != strings.TrimRight(string(want), "\n") {
				t.Errorf("Encode()\n got %s\nwant %s", got, want)
			}
		})
	}
}

func TestSearchOpSpellings(t *testing.T) {
	cases := []struct {
		c    Cond
		want string
	}{
		{Cond{Field: "id", Values: []string{"7"}}, "main_attributes%5Bid%5D=7"},
		{Cond{Field: "id", Op: "in", Values: []string{"7"}}, "main_attributes%5Bid%5D%5B0%5D=IN&main_attributes%5Bid%5D%5B1%5D%5B0%5D=7"},
		{Cond{Field: "email", Op: "IS", Values: nil}, "main_attributes%5Bemail%5D%5B0%5D=IS&main_attributes%5Bemail%5D%5B1%5D="},
		{Where("login", "!=", "a&b=c"), "main_attributes%5Blogin%5D%5B0%5D=%21%3D&main_attributes%5Blogin%5D%5B1%5D=a%26b%3Dc"},
	}
	for _, tc := range cases {
		if got := (Search{Main: []Cond{tc.c}}).Encode(); got != tc.want {
			t.Errorf("%+v: got %s want %s", tc.c, got, tc.want)
		}
	}
}

// An id search of MaxIDsPerSearch of the longest ids, with the longest
// list path and a generous base URL, stays within the 8 KiB request line
// of nginx's and Apache's defaults.
func TestIDSearchFitsTheRequestLine(t *testing.T) {
	ids := make([]int64, MaxIDsPerSearch)
	for i := range ids {
		ids[i] = 9_999_999_999 - int64(i)
	}
	line := "GET https://splynx.example.isp.com.au/api/2.0/" + pathProformas + "?" + idSearch(ids).Encode() + " HTTP/1.1"
	if len(line) > 6*1024 {
		t.Fatalf("request line of %d bytes; keep it under 6 KiB (8 KiB limits, room for a proxy)", len(line))
	}
	if !strings.Contains(line, "main_attributes%5Bid%5D%5B0%5D=IN&main_attributes%5Bid%5D%5B1%5D%5B0%5D=9999999999&") {
		t.Fatalf("not the confirmed IN form: %.200s", line)
	}
}
