package ippaysim

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestRoutes pins what each path answers to each method, so the router
// can change without the wire changing.
func TestRoutes(t *testing.T) {
	for _, inferred := range []bool{false, true} {
		e := newSimEnv(t, Options{Inferred: inferred})
		for _, c := range []struct {
			method, path string
			status       int
			allow, body  string
		}{
			{"POST", "/ippay", 200, "", "<ippayResponse>"},
			{"POST", "/ippay/x", 200, "", "<ippayResponse>"},
			{"GET", "/ippay", 405, "POST", "method not allowed"},
			{"PUT", "/ippay/x", 405, "POST", "method not allowed"},
			{"GET", "/returns.csv", map[bool]int{false: 404, true: 200}[inferred], "", map[bool]string{false: "404 page not found", true: "TransactionID,ReturnCode"}[inferred]},
			{"HEAD", "/returns.csv", map[bool]int{false: 404, true: 200}[inferred], "", ""},
			{"POST", "/returns.csv", map[bool]int{false: 404, true: 405}[inferred], map[bool]string{true: "GET, HEAD"}[inferred], ""},
			{"GET", "/nowhere", 404, "", "404 page not found"},
			{"POST", "/ippayx", 404, "", ""},
		} {
			req, _ := http.NewRequest(c.method, e.srv.URL+c.path, strings.NewReader(doc("ippay", "TransactionType", "PING", "TerminalID", "CARD")))
			resp, err := e.srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != c.status || resp.Header.Get("Allow") != c.allow || !strings.Contains(string(b), c.body) {
				t.Errorf("inferred=%v %s %s: %d Allow %q %q; want %d Allow %q containing %q",
					inferred, c.method, c.path, resp.StatusCode, resp.Header.Get("Allow"), b, c.status, c.allow, c.body)
			}
		}
	}
}
