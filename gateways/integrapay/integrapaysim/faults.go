package integrapaysim

import (
	"net/http"
	"time"

	"github.com/splynx-pay/splynx-pay/internal/simkit"
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

// kit says f in the shared vocabulary: Status is Fail (before applying) or,
// with AfterApply, FailAfter; LoseResponse is DropAfter.
func (f Fault) kit() simkit.Fault {
	return simkit.Fault{Method: f.Method, Times: f.Times, Latency: f.Latency, Status: f.Status, Body: f.Body, Hold: f.Hold,
		Fail:      simkit.Always(f.Status != 0 && !f.AfterApply),
		FailAfter: simkit.Always(f.Status != 0 && f.AfterApply),
		DropAfter: simkit.Always(f.LoseResponse),
		Malformed: simkit.Always(f.Malformed)}
}

// SetFault injects f into requests whose path, relative to
// /businesses/{bid}/ (or "login" for the auth endpoint), starts with the
// pattern path: segments compared one by one, "*" matching any one
// ("payers/*/transactions/card"). "" matches every request. Faults are
// checked in the order added.
func (s *Sim) SetFault(path string, f Fault) { s.faults.Add(simkit.Segments(path), f.kit()) }

// Inject is SetFault in the shared vocabulary. Of the after-effects,
// FailAfter wins over DropAfter, then Hold, then Malformed; Quirk does
// nothing here.
func (s *Sim) Inject(path string, f simkit.Fault) { s.faults.Add(simkit.Segments(path), f) }

// ClearFaults removes every fault.
func (s *Sim) ClearFaults() { s.faults.Clear() }

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
