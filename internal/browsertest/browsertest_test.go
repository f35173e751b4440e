package browsertest

import (
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// A form round trip through a real browser: what is typed reaches the
// server, the cookie set by the first page comes back, and the answer page
// is what Text reads.
func TestFormRoundTrip(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /form", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "sid", Value: "abc", Path: "/", HttpOnly: true})
		fmt.Fprint(w, `<!doctype html><form method="post" action="/done">
<input id="name" name="name"><select id="kind" name="kind"><option value="card">Card</option><option value="bank">Bank</option></select>
<input type="checkbox" id="agree" name="agree" value="yes"><button id="go" type="submit">Send</button></form>`)
	})
	mux.HandleFunc("POST /done", func(w http.ResponseWriter, r *http.Request) {
		c, _ := r.Cookie("sid")
		sid := ""
		if c != nil {
			sid = c.Value
		}
		fmt.Fprintf(w, `<!doctype html><p id="out">%s/%s/%s/%s</p>`, html.EscapeString(r.PostFormValue("name")), r.PostFormValue("kind"), r.PostFormValue("agree"), sid)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	tab := New(t).Tab(t)
	tab.Go(srv.URL + "/form")
	tab.Fill("#name", "Jane <Doe>")
	tab.Select("#kind", "bank")
	tab.Check("#agree")
	tab.Click("#go")
	if got, want := tab.Text("#out"), "Jane <Doe>/bank/yes/abc"; got != want {
		t.Fatalf("answer page says %q, want %q", got, want)
	}
	if !strings.HasSuffix(tab.URL(), "/done") {
		t.Fatalf("browser is at %s, want /done", tab.URL())
	}
	if tab.Exists("#name") {
		t.Fatal("the form is still shown after submitting")
	}
}
