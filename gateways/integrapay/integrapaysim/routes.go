package integrapaysim

import (
	"context"
	"net/http"
	"strings"
	"time"
)

// call is one request being routed. Handlers run with s.mu held.
type call struct {
	w    http.ResponseWriter
	r    *http.Request
	rel  string // below /businesses/{bid}/
	bid  string
	body []byte
	now  time.Time
}

type callKey struct{}

// dispatch routes a request; called with s.mu held. The router sees the
// path with empty leading and trailing segments dropped, as the gateway
// does ("/businesses/b/payers/" is "/businesses/b/payers").
func (s *Sim) dispatch(w http.ResponseWriter, r *http.Request, segs []string, body []byte) {
	if len(segs) == 4 && segs[0] == "ui" && segs[2] == "api" {
		s.hostedPage(w, r, segs[1], segs[3], body)
		return
	}
	if (len(segs) < 3 || segs[0] != "businesses") && !(len(segs) == 1 && segs[0] == "login") {
		// Not below /businesses/{bid}/: 404 before any auth (and before
		// the router could redirect "/businesses/b" to "/businesses/b/").
		writeError(w, fail(http.StatusNotFound, "NotFound", "No resource with that identifier", r.URL.Path))
		return
	}
	c := &call{body: body, now: s.clk.Now()}
	if len(segs) > 2 {
		c.rel = strings.Join(segs[2:], "/")
	}
	r2 := r.WithContext(context.WithValue(r.Context(), callKey{}, c))
	u := *r.URL
	u.Path, u.RawPath = "/"+strings.Join(segs, "/"), ""
	r2.URL = &u
	s.routerOnce.Do(func() { s.router = s.routes() })
	s.router.ServeHTTP(w, r2)
}

// routes lists the API. Under /businesses/{bid}/ every request is
// authorized first (an unknown path answers 401/403 before 404), and a
// method a path does not serve is a 404, as the gateway answers.
func (s *Sim) routes() *http.ServeMux {
	mux := http.NewServeMux()
	open := func(pattern string, h func(c *call) *apiError) { mux.HandleFunc(pattern, s.handle(false, h)) }
	biz := func(pattern string, h func(c *call) *apiError) {
		mux.HandleFunc(pattern, s.handle(true, h))
	}
	// inferred routes (spec §6.3, §7.2) answer 404 unless Options.Inferred.
	inferred := func(pattern string, h func(c *call) *apiError) {
		biz(pattern, func(c *call) *apiError {
			if !s.opts.Inferred {
				return notFound(c)
			}
			return h(c)
		})
	}
	ref := func(c *call) string { return c.r.PathValue("ref") }

	open("POST /login", func(c *call) *apiError { s.login(c.w, c.body, c.now); return nil })
	open("/login", func(*call) *apiError {
		return fail(http.StatusMethodNotAllowed, "BadRequest", "Method not allowed", "")
	})
	biz("/businesses/{bid}/{rest...}", notFound)

	const b = "/businesses/{bid}/"
	biz("POST "+b+"payers", func(c *call) *apiError { return s.createPayer(c.w, c.bid, c.body, c.now) })
	biz("GET "+b+"payers/{ref}", func(c *call) *apiError { return s.getPayer(c.w, c.bid, ref(c)) })
	biz("PUT "+b+"payers/{ref}", func(c *call) *apiError { return s.updatePayer(c.w, c.bid, ref(c), c.body) })
	biz("PUT "+b+"payers/{ref}/status", func(c *call) *apiError { return s.payerStatus(c.w, c.bid, ref(c), c.body) })
	biz("GET "+b+"payers/{ref}/accounts", func(c *call) *apiError { return s.getAccounts(c.w, c.bid, ref(c)) })
	biz("DELETE "+b+"payers/{ref}/accounts", func(c *call) *apiError { return s.deleteAccounts(c.w, c.bid, ref(c)) })
	biz("PUT "+b+"payers/{ref}/accounts/bank-account", func(c *call) *apiError { return s.putBankAccount(c.w, c.bid, ref(c), c.body) })
	biz("PUT "+b+"payers/{ref}/accounts/card", func(c *call) *apiError { return s.putCard(c.w, c.bid, ref(c), c.body, c.now) })
	cardToken := func(c *call) *apiError { return s.putCardToken(c.w, c.bid, ref(c), c.body) }
	biz("POST "+b+"payers/{ref}/accounts/card/token", cardToken)
	biz("PUT "+b+"payers/{ref}/accounts/card/token", cardToken)
	biz("POST "+b+"transactions/card-payments/token", func(c *call) *apiError { return s.chargeCardToken(c.w, c.bid, c.body, c.now) })
	biz("POST "+b+"services/tokenize-card", func(c *call) *apiError { return s.tokenizeCard(c.w, c.body, c.now) })
	biz("POST "+b+"payers/{ref}/transactions/card", func(c *call) *apiError { return s.chargeCard(c.w, c.bid, ref(c), c.body, c.now) })
	biz("POST "+b+"payers/{ref}/schedules/payments", func(c *call) *apiError { return s.schedulePayment(c.w, c.bid, ref(c), c.body, c.now) })
	inferred("GET "+b+"payers/{ref}/schedules/payments", func(c *call) *apiError {
		return s.listSchedules(c.w, c.bid, ref(c), c.r.URL.Query().Get("reference"))
	})
	inferred("GET "+b+"payers/{ref}/schedules/payments/{id}", func(c *call) *apiError {
		return s.oneSchedule(c.w, c.bid, ref(c), c.r.PathValue("id"), false)
	})
	inferred("DELETE "+b+"payers/{ref}/schedules/payments/{id}", func(c *call) *apiError {
		return s.oneSchedule(c.w, c.bid, ref(c), c.r.PathValue("id"), true)
	})
	biz("POST "+b+"services/tokens/hpp", func(c *call) *apiError { return s.createHosted(c, "HPP") })
	biz("POST "+b+"services/tokens/eddr", func(c *call) *apiError { return s.createHosted(c, "EDDR") })
	biz("GET "+b+"services/tokens/{token}", func(c *call) *apiError { return s.lookupHosted(c, c.r.PathValue("token")) })
	biz("GET "+b+"transactions/new", func(c *call) *apiError { return s.feed(c.w, c.bid, c.r, c.now) })
	biz("POST "+b+"transactions/new", func(c *call) *apiError { return s.ack(c.w, c.bid, c.body, c.now) })
	biz("GET "+b+"transactions/card-payments", func(c *call) *apiError { return s.lookup(c.w, c.bid, "card", lookupRef(c.r), c.now) })
	inferred("GET "+b+"transactions/bank-payments", func(c *call) *apiError { return s.lookup(c.w, c.bid, "bank", lookupRef(c.r), c.now) })
	for _, kind := range []string{"card", "bank"} {
		biz("POST "+b+"transactions/"+kind+"-payments/{id}/refunds", func(c *call) *apiError {
			return s.refund(c.w, c.bid, kind, c.r.PathValue("id"), c.body, c.now)
		})
	}
	return mux
}

// handle adapts an API handler; with auth, the bearer token must hold the
// business in the path, and the ledger is brought up to the clock first.
func (s *Sim) handle(auth bool, h func(c *call) *apiError) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c := r.Context().Value(callKey{}).(*call)
		c.w, c.r = w, r
		if auth {
			c.bid = r.PathValue("bid")
			if e := s.authorize(r, c.bid, c.now); e != nil {
				writeError(w, e)
				return
			}
			s.advance(c.now)
		}
		if e := h(c); e != nil {
			writeError(w, e)
		}
	}
}

// notFound is the answer for a path below /businesses/{bid}/ that does not
// exist (or whose method it does not serve).
func notFound(c *call) *apiError {
	return fail(http.StatusNotFound, "NotFound", "No resource with that identifier", c.rel)
}

func lookupRef(r *http.Request) string {
	q := r.URL.Query()
	for k, v := range q {
		if strings.EqualFold(k, "reference") && len(v) > 0 {
			return v[0]
		}
	}
	return ""
}
