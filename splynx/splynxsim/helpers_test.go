package splynxsim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

const (
	testKey    = "3a1c9e0f2b7d4c5e"
	testSecret = "9f8e7d6c5b4a3928"
)

// apiCaller talks to the simulator over real HTTP the way the spec
// describes, with a signed header per request (or a bearer token), and
// without the splynx client package.
type apiCaller struct {
	t      *testing.T
	base   string
	key    string
	secret string
	nonce  *atomic.Int64
	token  string
	ua     string
}

func newTestSim(t *testing.T, opts Options, seed *SeedConfig) (*Sim, *apiCaller) {
	t.Helper()
	s := New(opts)
	if seed != nil {
		s.Seed(*seed)
	}
	s.AddAPIKey(testKey, testSecret)
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	n := &atomic.Int64{}
	n.Store(1000)
	return s, &apiCaller{t: t, base: srv.URL + "/api/2.0/", key: testKey, secret: testSecret, nonce: n, ua: "splynxsim-test"}
}

func (a *apiCaller) withKey(key, secret string) *apiCaller {
	b := *a
	b.key, b.secret, b.token = key, secret, ""
	return &b
}

func (a *apiCaller) withToken(tok string) *apiCaller {
	b := *a
	b.token = tok
	return &b
}

func (a *apiCaller) authHeader() string {
	if a.token != "" {
		return "Splynx-EA (access_token=" + a.token + ")"
	}
	n := a.nonce.Add(1)
	return fmt.Sprintf("Splynx-EA (key=%s&nonce=%d&signature=%s)", a.key, n, Sign(a.key, a.secret, n))
}

type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r resp) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %d body %q: %v", r.status, r.body, err)
	}
}

// object decodes a JSON object into a map of raw string forms.
func (r resp) object(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	r.json(t, &m)
	return m
}

func (r resp) list(t *testing.T) []map[string]any {
	t.Helper()
	var m []map[string]any
	r.json(t, &m)
	return m
}

func (a *apiCaller) doAuth(method, path string, body any, auth string) resp {
	a.t.Helper()
	var rd io.Reader
	if body != nil {
		switch b := body.(type) {
		case string:
			rd = bytes.NewReader([]byte(b))
		default:
			raw, err := json.Marshal(b)
			if err != nil {
				a.t.Fatal(err)
			}
			rd = bytes.NewReader(raw)
		}
	}
	req, err := http.NewRequest(method, a.base+path, rd)
	if err != nil {
		a.t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	req.Header.Set("User-Agent", a.ua)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return resp{status: -1, body: []byte(err.Error())}
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return resp{status: res.StatusCode, header: res.Header, body: raw}
}

func (a *apiCaller) do(method, path string, body any) resp {
	a.t.Helper()
	return a.doAuth(method, path, body, a.authHeader())
}

func (a *apiCaller) mustDo(method, path string, body any, want int) resp {
	a.t.Helper()
	r := a.do(method, path, body)
	if r.status != want {
		a.t.Fatalf("%s %s: status %d, want %d; body %s", method, path, r.status, want, r.body)
	}
	return r
}

// createdID reads {"id": N} and checks the id is a JSON number.
func (r resp) createdID(t *testing.T) int64 {
	t.Helper()
	var m map[string]json.RawMessage
	r.json(t, &m)
	var id int64
	if err := json.Unmarshal(m["id"], &id); err != nil {
		t.Fatalf("created id %s is not a number: %v", m["id"], err)
	}
	return id
}

func str(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return fmt.Sprint(x)
	case nil:
		return "<nil>"
	}
	return fmt.Sprint(v)
}
