package main

// The daemon's pages under fire: a customer paying an invoice through the
// customer pages (log in, open the pay page, confirm with the saved
// method) and a staff member pressing Pay now on a customer's tab, both
// over HTTP while the daemon is being killed. What they charge goes
// through the same ledgers as the nightly runs.

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// portalPassword is the portal password the simulated Splynx gives the
// customers with a saved method.
const portalPassword = "chaos-portal-pass"

// webCounts counts the page visits of a run: tried, answered with an
// outcome page (the rest were cut by a kill or a fault), and those whose
// answer was a charge result.
type webCounts struct {
	portalTried, portalAnswered, portalCharged atomic.Int64
	staffTried, staffAnswered, staffCharged    atomic.Int64

	mu     sync.Mutex
	wrong  []string // the first 20 wrongAnswer texts, for the report
	wrongN int
}

func (w *webCounts) line() string {
	return fmt.Sprintf("portal payments %d tried, %d answered, %d charged; staff Pay now %d tried, %d answered, %d charged (the rest were cut by kills or faults)",
		w.portalTried.Load(), w.portalAnswered.Load(), w.portalCharged.Load(),
		w.staffTried.Load(), w.staffAnswered.Load(), w.staffCharged.Load())
}

// freeAddr finds a loopback port for one life of the daemon, so the
// checker knows where its pages are.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// pages is a browser-like client of one daemon's pages: cookies kept,
// redirects followed.
type pages struct {
	base string // http://127.0.0.1:port/<prefix>
	c    *http.Client
}

func newPages(addr, addon string) *pages {
	jar, _ := cookiejar.New(nil)
	return &pages{base: "http://" + addr + "/" + addon, c: &http.Client{Jar: jar, Timeout: 20 * time.Second}}
}

// staffToken is the admin token the chaos daemons are started with (see
// env.adminTokenFile).
const staffToken = "chaos-admin-token-5f0c9e3a71d24b68"

// asStaff marks a request as staff's: the daemon trusts no address, only
// the admin token, as doctor and the documented curl calls send it.
func asStaff(req *http.Request) { req.Header.Set("Authorization", "Bearer "+staffToken) }

var (
	csrfRE   = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)
	amountRE = regexp.MustCompile(`name="amount" value="([^"]+)"`)
)

// field finds a hidden form field's value in a page.
func field(re *regexp.Regexp, page string) string {
	m := re.FindStringSubmatch(page)
	if m == nil {
		return ""
	}
	return html.UnescapeString(m[1])
}

// do sends a request and reads the final page after redirects.
func (p *pages) do(ctx context.Context, method, path string, form url.Values, staff bool) (*http.Response, string, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, p.base+path, body)
	if err != nil {
		return nil, "", err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if staff {
		asStaff(req)
	}
	resp, err := p.c.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp, string(b), err
}

// waitUp waits until the daemon answers /healthz (it may still be
// starting) or ctx ends.
func (p *pages) waitUp(ctx context.Context) error {
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.base+"/healthz", nil)
		if resp, err := p.c.Do(req); err == nil {
			resp.Body.Close()
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// errAnswered is a visit that got an answer page without a charge.
var errAnswered = errors.New("answered without a charge")

// wrongAnswer is an answer no fault or kill explains: the pages refused
// the checker (CSRF, credentials), broke (500), or lost a route.
type wrongAnswer struct{ what string }

func (w wrongAnswer) Error() string { return w.what }

// judge sorts an answer that is not the one hoped for: a fault or a busy
// document explains 409, 422, 502, 503 and Splynx being unreachable at
// log-in; anything else is wrong.
func judge(step string, resp *http.Response, page string) error {
	switch resp.StatusCode {
	case http.StatusConflict, http.StatusUnprocessableEntity, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusNotFound:
		return errAnswered
	case http.StatusUnauthorized:
		if !strings.Contains(page, "is not right") {
			return errAnswered // Splynx could not check the login (a fault)
		}
	}
	return wrongAnswer{fmt.Sprintf("%s: %s at %s", step, resp.Status, resp.Request.URL.Path)}
}

// portalPay is one customer paying one invoice with the saved method: the
// login form, the pay page, the confirmation. It returns nil when the
// answer was a charge result, errAnswered for another outcome page (paid
// already, under way, a fault), wrongAnswer, or the transport error that
// cut it.
func (p *pages) portalPay(ctx context.Context, login string, invoiceID int64) error {
	payPath := fmt.Sprintf("/pay/invoice/%d", invoiceID)
	u, _ := url.Parse(p.base)
	next := u.Path + payPath
	resp, page, err := p.do(ctx, http.MethodGet, "/login?next="+url.QueryEscape(next), nil, false)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return judge("login page", resp, page)
	}
	resp, page, err = p.do(ctx, http.MethodPost, "/login", url.Values{"csrf_token": {field(csrfRE, page)},
		"login": {login}, "password": {portalPassword}, "next": {next}}, false)
	if err != nil {
		return err
	}
	switch {
	case resp.StatusCode == http.StatusOK && strings.Contains(resp.Request.URL.Path, "/payments/"):
		return errAnswered // an attempt is under way: its page is shown instead
	case resp.StatusCode != http.StatusOK || !strings.HasSuffix(resp.Request.URL.Path, payPath):
		return judge("log in to "+payPath, resp, page)
	}
	amount := field(amountRE, page)
	if amount == "" {
		// Paid, gone or an attempt under way: the page says so.
		return errAnswered
	}
	resp, page, err = p.do(ctx, http.MethodPost, payPath, url.Values{"csrf_token": {field(csrfRE, page)},
		"amount": {amount}, "use": {"saved"}}, false)
	if err != nil {
		return err
	}
	if resp.StatusCode == http.StatusOK {
		if strings.Contains(resp.Request.URL.Path, "/payments/") {
			return nil
		}
		return errAnswered // already paid
	}
	return judge("confirm "+payPath, resp, page)
}

// staffPayNow is a staff member opening a customer's tab and pressing Pay
// now on one invoice: nil when the answer shows the attempt made.
func (p *pages) staffPayNow(ctx context.Context, customerID, invoiceID int64) error {
	resp, page, err := p.do(ctx, http.MethodGet, fmt.Sprintf("/admin/customer?id=%d", customerID), nil, true)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return judge("customer tab", resp, page)
	}
	resp, page, err = p.do(ctx, http.MethodPost, "/admin/customer/pay", url.Values{"csrf_token": {field(csrfRE, page)},
		"confirm": {"1"}, "id": {fmt.Sprint(customerID)}, "kind": {"invoice"}, "doc": {fmt.Sprint(invoiceID)}}, true)
	if err != nil {
		return err
	}
	if resp.StatusCode == http.StatusOK && resp.Request.URL.Query().Get("attempt") != "" {
		return nil
	}
	return judge("Pay now", resp, page)
}

// webVisits starts, during one life at addr, a few customer payments and
// staff Pay nows of invoices added during the run, each at a random
// moment; the returned function waits for them (after the kill). Errors
// a kill explains are counted; a page that answers wrongly is kept for
// the report (it fails the run at the end, a long run goes on) and the
// first of the life returned for the -v line.
func (e *env) webVisits(ctx context.Context, addr string, life time.Duration) (labels []string, wait func() error) {
	if len(e.newInv) == 0 {
		return nil, func() error { return nil }
	}
	ctx, cancel := context.WithCancel(ctx)
	errs := make(chan error, 8)
	n := 0
	visit := func(what string, tried, answered, charged *atomic.Int64, f func(context.Context, *pages) error) {
		n++
		delay := time.Duration(e.rng.Int64N(int64(life / 4)))
		labels = append(labels, what)
		go func() {
			p := newPages(addr, e.addon)
			select {
			case <-time.After(delay):
			case <-ctx.Done():
				errs <- nil
				return
			}
			if err := p.waitUp(ctx); err != nil {
				errs <- nil
				return
			}
			tried.Add(1)
			err := f(ctx, p)
			switch {
			case err == nil:
				answered.Add(1)
				charged.Add(1)
			case errors.Is(err, errAnswered):
				answered.Add(1)
				err = nil
			case errors.As(err, new(wrongAnswer)):
				// A wrong answer, not a cut connection.
				e.web.mu.Lock()
				if e.web.wrongN++; e.web.wrongN <= 20 {
					e.web.wrong = append(e.web.wrong, what+": "+err.Error())
				}
				e.web.mu.Unlock()
			default:
				if e.o.Verbose {
					e.out.Printf("  %s cut: %v", what, err)
				}
				err = nil // cut by the kill, a fault or the context
			}
			errs <- err
		}()
	}
	for range e.rng.IntN(3) {
		inv := e.newInv[e.rng.IntN(len(e.newInv))]
		c := e.invCust[inv]
		visit(fmt.Sprintf("portal payment of invoice %d", inv), &e.web.portalTried, &e.web.portalAnswered, &e.web.portalCharged,
			func(ctx context.Context, p *pages) error { return p.portalPay(ctx, e.logins[c], inv) })
	}
	if e.rng.IntN(3) == 0 {
		inv := e.newInv[e.rng.IntN(len(e.newInv))]
		c := e.invCust[inv]
		visit(fmt.Sprintf("staff Pay now of invoice %d", inv), &e.web.staffTried, &e.web.staffAnswered, &e.web.staffCharged,
			func(ctx context.Context, p *pages) error { return p.staffPayNow(ctx, c, inv) })
	}
	return labels, func() error {
		cancel()
		var first error
		for range n {
			if err := <-errs; err != nil && first == nil {
				first = err
			}
		}
		return first
	}
}
