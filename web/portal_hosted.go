package web

// Hosted card and bank entry (card_entry = hosted, IntegraPay only): the
// customer types card and bank numbers on IntegraPay's own pages (HPP for a
// card payment, eDDR for a bank account with the Direct Debit Request
// accepted there), so no number ever reaches this daemon and the ISP stays
// out of PCI scope. We record every page we create (hosted_pages) and bind
// it to the customer and to the browser that started it (a random value in
// an HttpOnly cookie, kept hashed); the return, <prefix>/hosted/return?
// webPageToken=..., accepts only such a token, looks it up with the gateway
// and then records the saved method (the engine's SaveMethod, which checks
// the token once more) or the payment (the engine's AdoptHosted: the charge
// attempt and its reference were persisted before the page was created).

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/splynx-pay/splynx-pay/gateways"
	"github.com/splynx-pay/splynx-pay/store"
	"github.com/splynx-pay/splynx-pay/sync/charge"
)

// hostedCookie binds a hosted page to the browser that was sent to it.
const hostedCookie = "splynxpay_hosted"

// hostedMode reports whether customers enter card and bank details on the
// gateway's pages.
func (p *portal) hostedMode(b *backend) bool {
	return b.set.CardEntry == "hosted" && b.en.Hosted() != nil
}

// allowHostedForms lets this response's forms lead to the gateway's hosted
// pages: the strict policy's form-action 'self' also applies to where a
// form's redirect goes.
func (p *portal) allowHostedForms(w http.ResponseWriter, b *backend) {
	if !p.hostedMode(b) {
		return
	}
	origin := b.en.Hosted().HostedOrigin()
	csp := w.Header().Get("Content-Security-Policy")
	if origin == "" || csp == "" || strings.ContainsAny(origin, " ;'") {
		return
	}
	w.Header().Set("Content-Security-Policy", strings.Replace(csp, "form-action 'self'", "form-action 'self' "+origin, 1))
}

// browserKey returns the hash of this browser's hosted-page cookie,
// setting the cookie first when there is none.
func (p *portal) browserKey(w http.ResponseWriter, r *http.Request) (string, error) {
	if ck, err := r.Cookie(hostedCookie); err == nil && len(ck.Value) == 43 {
		return hashKey(ck.Value), nil
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	v := base64.RawURLEncoding.EncodeToString(raw)
	// Lax: the gateway sends the browser back with a top-level GET.
	http.SetCookie(w, &http.Cookie{Name: hostedCookie, Value: v, Path: p.s.Prefix() + "/", HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: isHTTPS(r), MaxAge: 24 * 3600})
	return hashKey(v), nil
}

func hashKey(v string) string {
	h := sha256.Sum256([]byte("hosted-browser:" + v))
	return hex.EncodeToString(h[:])
}

// returnURL is the absolute URL the gateway sends the browser back to.
func (p *portal) returnURL(r *http.Request) string {
	scheme := "http"
	if isHTTPS(r) {
		scheme = "https"
	}
	return scheme + "://" + r.Host + p.s.Prefix() + "/hosted/return"
}

// hostedStart is a hosted page to create for a customer.
type hostedStart struct {
	customerID int64
	kind       gateways.HostedKind
	direct     bool
	save       bool
	next       string       // our page after a saved method
	item       *charge.Item // the payment (HPP), nil for a method
}

// startHosted creates the page, records it and sends the browser there.
func (p *portal) startHosted(w http.ResponseWriter, r *http.Request, b *backend, hs hostedStart) {
	ctx := context.WithoutCancel(r.Context())
	payer, err := p.payer(ctx, b, hs.customerID)
	if err != nil {
		p.fail(w, r, http.StatusServiceUnavailable, "We could not read your customer details. Please try again later.", err)
		return
	}
	bk, err := p.browserKey(w, r)
	if err != nil {
		p.fail(w, r, http.StatusInternalServerError, "Something went wrong. Please try again.", err)
		return
	}
	hr := gateways.HostedRequest{Kind: hs.kind, Payer: payer, SavePayer: hs.save, ReturnURL: p.returnURL(r), CustomerIP: clientIP(r)}
	rec := store.HostedPage{CustomerID: hs.customerID, Kind: string(hs.kind), Purpose: "method", Save: hs.save, Direct: hs.direct,
		BrowserHash: bk, Next: hs.next}
	var page gateways.HostedPage
	if hs.item != nil {
		a, pg, skip, err := b.en.StartHostedCharge(ctx, *hs.item, hr)
		if a == nil {
			p.after(w, r, b, nil, skip, err, false, hs.direct, hostedKey(*hs.item))
			return
		}
		page, rec.Purpose, rec.AttemptID = pg, "pay", a.ID
	} else {
		hr.SavePayer = true
		page, err = b.en.Hosted().CreateHostedPage(ctx, hr)
		if err != nil {
			p.fail(w, r, http.StatusBadGateway, "We could not open the payment provider's page right now. Nothing was saved. Please try again in a few minutes.", err)
			return
		}
	}
	rec.Token, rec.ExpiresAt = page.Token, page.ExpiresAt
	if err := b.db.CreateHostedPage(ctx, rec, p.now()); err != nil {
		// The page is not sent to anyone: a payment attempt waiting on it is
		// closed by the reconciler once the page has expired.
		p.fail(w, r, http.StatusInternalServerError, "Something went wrong. Nothing was charged. Please try again.", err)
		return
	}
	p.s.Logger().Info("portal: sent to the gateway's hosted page", zap.Int64("customer_id", hs.customerID), zap.String("kind", string(hs.kind)),
		zap.String("purpose", rec.Purpose), zap.Int64("attempt_id", rec.AttemptID), zap.String("hosted_token", page.Token), zap.Bool("direct", hs.direct))
	http.Redirect(w, r, page.URL, http.StatusSeeOther)
}

func hostedKey(it charge.Item) string {
	switch it.Kind {
	case store.KindInvoice:
		return doc{Kind: it.Kind, ID: it.InvoiceID}.chargeKey()
	case store.KindProforma:
		return doc{Kind: it.Kind, ID: it.ProformaID}.chargeKey()
	}
	return it.ChargeKey
}

// hostedReturn is where the gateway sends the browser back:
// <prefix>/hosted/return?webPageToken={token}.
func (p *portal) hostedReturn(w http.ResponseWriter, r *http.Request) {
	b, ok := p.need(w, r)
	if !ok {
		return
	}
	ctx := context.WithoutCancel(r.Context())
	token := r.URL.Query().Get("webPageToken")
	h, err := b.db.HostedPageByToken(ctx, token)
	if token == "" || errors.Is(err, store.ErrNotFound) {
		p.s.Logger().Warn("portal: hosted return with a token we did not issue", zap.String("ip", clientIP(r)))
		p.fail(w, r, http.StatusNotFound, "This is not a payment page we sent you to. Nothing was saved or charged.", nil)
		return
	}
	if err != nil {
		p.fail(w, r, http.StatusServiceUnavailable, "Payments are not available right now. Please try again later.", err)
		return
	}
	v, _, _ := p.identify(w, r, b)
	if v.CustomerID != 0 {
		r = r.WithContext(context.WithValue(r.Context(), visitorKey{}, v))
	}
	if v.CustomerID == 0 && !h.Direct {
		// The session ended while the customer was on the gateway's page.
		http.Redirect(w, r, p.s.Prefix()+"/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		return
	}
	ck, cerr := r.Cookie(hostedCookie)
	if cerr != nil || hashKey(ck.Value) != h.BrowserHash || (!h.Direct && v.CustomerID != h.CustomerID) {
		p.s.Logger().Warn("portal: hosted return refused: another browser or customer", zap.Int64("customer_id", v.CustomerID),
			zap.Int64("owner_id", h.CustomerID), zap.String("hosted_token", token), zap.Bool("cookie", cerr == nil))
		p.fail(w, r, http.StatusForbidden, "This payment page was opened by someone else, or in another browser. Nothing was saved or charged here.", nil)
		return
	}
	if h.Purpose == "pay" && !h.DoneAt.IsZero() {
		if a, err := b.db.GetAttempt(ctx, h.AttemptID); err == nil {
			http.Redirect(w, r, p.resultPath(a, h.Direct), http.StatusSeeOther)
			return
		}
	}
	if h.Purpose == "method" && !h.DoneAt.IsZero() {
		http.Redirect(w, r, p.afterMethod(h), http.StatusSeeOther)
		return
	}
	lctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	res, err := b.en.Hosted().LookupHostedPage(lctx, token)
	cancel()
	payer, perr := p.payer(ctx, b, h.CustomerID)
	if err == nil && perr == nil && res.PayerRef != "" && res.PayerRef != payer.Reference {
		err = errors.New("the gateway's page names another payer")
	}
	if err != nil || perr != nil {
		p.s.Logger().Warn("portal: hosted page lookup", zap.String("hosted_token", token), zap.Int64("customer_id", h.CustomerID),
			zap.Error(errors.Join(err, perr)))
		if h.Purpose == "pay" {
			// The attempt stays unknown; the reconciler resolves it.
			if a, aerr := b.db.GetAttempt(ctx, h.AttemptID); aerr == nil {
				http.Redirect(w, r, p.resultPath(a, h.Direct), http.StatusSeeOther)
				return
			}
		}
		p.checking(w, r, b)
		return
	}
	if h.Purpose == "pay" {
		p.hostedPaid(w, r, b, h, res, payer)
		return
	}
	p.hostedSaved(w, r, b, h, res, payer)
}

// checking says the gateway has not confirmed the page yet; the page asks
// again by itself.
func (p *portal) checking(w http.ResponseWriter, r *http.Request, b *backend) {
	p.render(w, r, http.StatusAccepted, "message.html", "We are checking", portalPage{Gateway: b.gatewayName(), Refresh: 5,
		Body: "We are checking with " + b.gatewayName() + " that your details were saved. This page updates by itself in a few seconds."})
}

func (p *portal) afterMethod(h store.HostedPage) string {
	if h.Next != "" {
		return p.s.Prefix() + h.Next
	}
	return p.s.Prefix() + "/methods?done=saved"
}

// hostedSaved records the method a completed eDDR (or card) page saved.
func (p *portal) hostedSaved(w http.ResponseWriter, r *http.Request, b *backend, h store.HostedPage, res gateways.HostedResult, payer gateways.Payer) {
	ctx := context.WithoutCancel(r.Context())
	switch {
	case res.Open:
		p.checking(w, r, b)
		return
	case !res.Completed:
		_, _ = b.db.FinishHostedPage(ctx, h.Token, 0, p.now())
		p.render(w, r, http.StatusOK, "message.html", "Nothing saved", portalPage{Gateway: b.gatewayName(),
			Body: "Your details were not saved (" + statusWords(res.Status) + "). Your payment method is unchanged."})
		return
	}
	m, err := b.en.SaveMethod(ctx, gateways.SaveMethodRequest{Payer: payer, HostedToken: h.Token,
		Authorisation: gateways.Authorisation{AcceptedAt: res.AcceptedAt, IP: res.AcceptedIP}}, hostedAuthText(h))
	if err != nil {
		p.fail(w, r, http.StatusBadGateway, "We could not record the details you entered. Please try again in a few minutes.", err)
		return
	}
	if _, err := b.db.FinishHostedPage(ctx, h.Token, m.ID, p.now()); err != nil {
		p.s.Logger().Warn("portal: finish hosted page", zap.Error(err))
	}
	p.showInSplynx(ctx, b, m)
	p.s.Logger().Info("portal: payment method saved on the gateway's page", zap.Int64("customer_id", h.CustomerID), zap.Int64("method_id", m.ID),
		zap.String("mask", m.Mask), zap.String("hosted_token", h.Token))
	http.Redirect(w, r, p.afterMethod(h), http.StatusSeeOther)
}

// hostedAuthText names where the debit authorisation was accepted.
func hostedAuthText(h store.HostedPage) string {
	if h.Kind == string(gateways.HostedBank) {
		return "integrapay-eddr:" + h.Token
	}
	return "integrapay-hpp:" + h.Token
}

// hostedPaid applies a payment page's outcome and shows it.
func (p *portal) hostedPaid(w http.ResponseWriter, r *http.Request, b *backend, h store.HostedPage, res gateways.HostedResult, payer gateways.Payer) {
	ctx := context.WithoutCancel(r.Context())
	a, err := b.en.AdoptHosted(ctx, h.AttemptID, res)
	if err != nil {
		p.s.Logger().Warn("portal: adopt hosted payment", zap.Int64("attempt_id", h.AttemptID), zap.Error(err))
		if cur, gerr := b.db.GetAttempt(ctx, h.AttemptID); gerr == nil {
			a = cur
		}
	}
	if !res.Open {
		methodID := int64(0)
		if h.Save && res.Completed && res.Method != nil && (a.State == store.StateApproved || a.State == store.StatePending || a.State == store.StateRecorded) {
			m, err := b.en.SaveMethod(ctx, gateways.SaveMethodRequest{Payer: payer, HostedToken: h.Token,
				Authorisation: gateways.Authorisation{AcceptedAt: res.AcceptedAt, IP: res.AcceptedIP}}, hostedAuthText(h))
			if err != nil {
				p.s.Logger().Warn("portal: save the card of a hosted payment", zap.Int64("customer_id", h.CustomerID), zap.Error(err))
			} else {
				methodID = m.ID
				p.showInSplynx(ctx, b, m)
			}
		}
		if a.State != store.StateUnknown {
			_, _ = b.db.FinishHostedPage(ctx, h.Token, methodID, p.now())
		}
	}
	p.after(w, r, b, &a, "", nil, false, h.Direct, a.ChargeKey)
}

// statusWords says a hosted page's final status in a customer's words.
func statusWords(st string) string {
	switch st {
	case "CANCELLED":
		return "you cancelled on the payment page"
	case "EXPIRED":
		return "the payment page expired after 20 minutes"
	case "PROCESSED_REJECTED":
		return "the payment page was closed before it was completed"
	case "FRAUD_CHECK_DECLINE", "FRAUD_CHECK_ERROR":
		return "the payment provider's fraud check did not pass"
	}
	return "the payment page reported an error"
}
