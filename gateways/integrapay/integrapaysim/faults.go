package integrapaysim

import (
	"bytes"
	"net/http"
	"strings"
	"time"
)

// Fault is a misbehaviour injected into matching requests.
type Fault struct {
	// Method limits the fault to one HTTP method ("" = any).
	Method string
	// Times is how many matching requests the fault hits (0 = all until
	// ClearFaults).
	Times int
	// Latency delays the request before it is processed.
	Latency time.Duration
	// Status answers with this HTTP status and its errorCode body (429
	// TooManyRequests, 500 InternalServerError, 503 ServiceUnavailable,
	// 504 Timeout, ...) without processing the request.
	Status int
	// AfterApply, with Status, processes the request first (a charge is
	// applied) and then answers Status: a gateway that fails after acting.
	AfterApply bool
	// Body, with Status, replaces the error body (tests of clients that
	// must scrub echoed details).
	Body string
	// LoseResponse processes the request (a charge is applied) and then
	// drops the connection without answering.
	LoseResponse bool
	// Hold processes the request and then waits this long before answering,
	// so a client with a shorter timeout gives up after the charge applied.
	Hold time.Duration
	// Malformed processes the request and answers 200 with broken JSON.
	Malformed bool
}

type faultRule struct {
	segs  []string
	f     Fault
	left  int // remaining hits; -1 unlimited
	hits  int
	label string
}

// SetFault injects f into requests whose path, relative to
// /businesses/{bid}/ (or "login" for the auth endpoint), starts with the
// pattern path: segments compared one by one, "*" matching any one
// ("payers/*/transactions/card"). "" matches every request.
func (s *Sim) SetFault(path string, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := &faultRule{segs: splitPath(path), f: f, left: -1, label: path}
	if f.Times > 0 {
		r.left = f.Times
	}
	s.faults = append(s.faults, r)
}

// ClearFaults removes every fault.
func (s *Sim) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

func splitPath(p string) []string {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// takeFault returns the first live fault matching the request and counts
// the hit. Called with s.mu held.
func (s *Sim) takeFault(method string, segs []string) *Fault {
	for _, r := range s.faults {
		if r.left == 0 || (r.f.Method != "" && !strings.EqualFold(r.f.Method, method)) || len(r.segs) > len(segs) {
			continue
		}
		match := true
		for i, p := range r.segs {
			if p != "*" && p != segs[i] {
				match = false
				break
			}
		}
		if !match {
			continue
		}
		if r.left > 0 {
			r.left--
		}
		r.hits++
		f := r.f
		return &f
	}
	return nil
}

func errorCodeFor(status int) (code, msg string) {
	switch status {
	case http.StatusTooManyRequests:
		return "TooManyRequests", "The request rate has exceeded your permissible limits"
	case http.StatusServiceUnavailable:
		return "ServiceUnavailable", "The service is unavailable, please try later"
	case http.StatusGatewayTimeout, http.StatusRequestTimeout:
		return "Timeout", "The request was not completed in a reasonable time"
	case http.StatusUnauthorized:
		return "Unauthorized", "The operation requires authorization"
	case http.StatusForbidden:
		return "Forbidden", "Your login does not have permission"
	case http.StatusNotFound:
		return "NotFound", "No resource with that identifier"
	case http.StatusBadRequest:
		return "BadRequest", "The request details are not valid"
	}
	return "InternalServerError", "An error has occurred, please retry"
}

// recorder buffers a handler's answer so a fault can replace it after the
// request was processed.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func newRecorder() *recorder { return &recorder{header: http.Header{}, status: http.StatusOK} }

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) Write(b []byte) (int, error) { return r.body.Write(b) }
func (r *recorder) WriteHeader(code int)        { r.status = code }

func (r *recorder) flush(w http.ResponseWriter) {
	for k, v := range r.header {
		w.Header()[k] = v
	}
	w.WriteHeader(r.status)
	_, _ = w.Write(r.body.Bytes())
}

// sleep waits d or until the client goes away.
func sleep(req *http.Request, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-req.Context().Done():
	}
}

// dropConnection closes the connection without an answer.
func dropConnection(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		// HTTP/2 cannot be hijacked; an aborted handler resets the stream.
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
}
