package web

// Direct payment links, open without a login (they go into invoice
// e-mails and are the Splynx invoice list's "Pay" action):
//
//	<prefix>/direct-pay-invoice?item_id=<invoice number>
//	<prefix>/direct-pay-invoice-by-id?item_id=<invoice id>
//	<prefix>/direct-pay-proforma?item_id=<proforma number>
//	<prefix>/direct-pay-proforma-by-id?item_id=<proforma id>
//
// They show the number, the amount due and the customer's name masked
// ("J*** S****"), and pay with the saved method after a confirm click or
// with details entered there. Anyone holding a link can pay that document,
// which is the point; nobody can see more than its number, amount and
// masked name, and every request counts against a per-IP rate limit so ids
// cannot be walked through.

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"unicode"

	"go.uber.org/zap"

	"github.com/splynx-pay/splynx-pay/splynx"
	"github.com/splynx-pay/splynx-pay/store"
)

func (p *portal) setupDirect() {
	for _, l := range []struct {
		path, kind string
		byID       bool
	}{
		{"/direct-pay-invoice", store.KindInvoice, false},
		{"/direct-pay-invoice-by-id", store.KindInvoice, true},
		{"/direct-pay-proforma", store.KindProforma, false},
		{"/direct-pay-proforma-by-id", store.KindProforma, true},
	} {
		p.s.Handle("GET "+l.path, p.direct(l.kind, l.byID, false))
	}
	p.s.Handle("POST /direct-pay/{kind}/{id}", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		kind, ok := docKind(r.PathValue("kind"))
		if !ok {
			http.NotFound(w, r)
			return
		}
		p.direct(kind, true, true).ServeHTTP(w, r)
	}))
	p.s.Handle("GET /direct-pay/result", http.HandlerFunc(p.directResult))
}

// directAction is where a direct pay form posts.
func directAction(d doc) string { return fmt.Sprintf("/direct-pay/%s/%d", d.Kind, d.ID) }

var numberRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9/_.-]{0,39}$`)

// maskName keeps the first letter of each word: "John Smith" → "J*** S****".
func maskName(name string) string {
	words := strings.Fields(name)
	for i, w := range words {
		rs := []rune(w)
		for j := 1; j < len(rs); j++ {
			if unicode.IsLetter(rs[j]) || unicode.IsDigit(rs[j]) {
				rs[j] = '*'
			}
		}
		words[i] = string(rs)
	}
	return strings.Join(words, " ")
}

// findDoc finds the document a direct link names; ok false means none.
func findDoc(ctx context.Context, b *backend, kind, item string, byID bool) (int64, bool, error) {
	if byID {
		id, err := strconv.ParseInt(item, 10, 64)
		return id, err == nil && id > 0, nil
	}
	if !numberRE.MatchString(item) {
		return 0, false, nil
	}
	var id int64
	var err error
	if kind == store.KindInvoice {
		var inv store.Invoice
		inv, err = b.db.GetInvoiceByNumber(ctx, item)
		id = inv.ID
	} else {
		var pf store.Proforma
		pf, err = b.db.GetProformaByNumber(ctx, item)
		id = pf.ID
	}
	if err == nil {
		return id, true, nil
	}
	// Not mirrored (yet): ask Splynx.
	s := splynx.Search{Main: []splynx.Cond{splynx.Eq("number", item)}, Limit: 1}
	if kind == store.KindInvoice {
		for inv, err := range b.sp.ListInvoices(ctx, s) {
			if err != nil {
				return 0, false, err
			}
			return int64(inv.ID), true, nil
		}
	} else {
		for pf, err := range b.sp.ListProformas(ctx, s) {
			if err != nil {
				return 0, false, err
			}
			return int64(pf.ID), true, nil
		}
	}
	return 0, false, nil
}

// direct serves a direct link (GET) or its pay form (POST).
func (p *portal) direct(kind string, byID, post bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, ok := p.need(w, r)
		if !ok {
			return
		}
		if !p.allow(w, r, b.set.DirectPayRateLimit) {
			return
		}
		p.allowHostedForms(w, b)
		item := r.URL.Query().Get("item_id")
		if post {
			item = r.PathValue("id")
		}
		item = strings.TrimSpace(item)
		if item == "" || (byID && (!allDigits(item) || len(item) > 18)) || (!byID && !numberRE.MatchString(item)) {
			p.fail(w, r, http.StatusBadRequest, "This payment link is not complete. Please use the link from your invoice e-mail.", nil)
			return
		}
		sig := r.URL.Query().Get("sig")
		if post {
			sig = r.PostFormValue("sig")
		}
		if !linkOK(b.set, kind, byID, item, sig) {
			p.s.Logger().Warn("direct payment link with a bad or missing signature", zap.String("kind", kind),
				zap.String("item", item), zap.Bool("signed", sig != ""), zap.String("ip", clientIP(r)))
			p.fail(w, r, http.StatusForbidden, "This payment link is not valid. Please use the link from your invoice e-mail, or log in to your customer portal to pay.", nil)
			return
		}
		id, found, err := findDoc(r.Context(), b, kind, item, byID)
		if err != nil {
			p.fail(w, r, http.StatusServiceUnavailable, "We could not load this invoice right now. Please try again in a few minutes.", err)
			return
		}
		if !found {
			p.gone(w, r, b)
			return
		}
		d, state, err := liveDoc(r.Context(), b, kind, id)
		if err != nil {
			p.fail(w, r, http.StatusServiceUnavailable, "We could not load this invoice right now. Please try again in a few minutes.", err)
			return
		}
		if state == docGone {
			p.gone(w, r, b)
			return
		}
		if !p.payableOrShow(w, r, b, d, state, true) {
			return
		}
		if post {
			p.s.Logger().Info("direct payment link used", zap.String("kind", kind), zap.Int64("id", d.ID),
				zap.Int64("customer_id", d.CustomerID), zap.String("ip", clientIP(r)))
			p.charge(w, r, b, d, true, "direct link from "+clientIP(r))
			return
		}
		pd := p.payData(r, b, d)
		pd.Direct, pd.Action = true, directAction(d)
		pd.Masked = maskedCustomer(r.Context(), b, d.CustomerID)
		if b.set.DirectPayLinkKey != "" {
			pd.Sig = linkSig(b.set.DirectPayLinkKey, kind, true, strconv.FormatInt(d.ID, 10))
		}
		p.render(w, r, http.StatusOK, "pay.html", "Pay "+d.Label(), portalPage{Gateway: b.gatewayName(), Visitor: visitor{}, Body: pd})
	})
}

// directResult shows a direct payment's outcome by its reference (80
// random bits: holding it is the proof of having made the payment).
func (p *portal) directResult(w http.ResponseWriter, r *http.Request) {
	b, ok := p.need(w, r)
	if !ok {
		return
	}
	if !p.allow(w, r, b.set.DirectPayRateLimit) {
		return
	}
	ref := r.URL.Query().Get("ref")
	a, err := b.db.AttemptByReference(r.Context(), ref)
	if ref == "" || err != nil {
		p.fail(w, r, http.StatusNotFound, "This payment does not exist.", nil)
		return
	}
	rd, refresh := p.resultOf(b, a, true)
	p.render(w, r, http.StatusOK, "result.html", rd.Title, portalPage{Gateway: b.gatewayName(), Refresh: refresh, Body: rd})
}

// maskedCustomer is the customer's name as a direct payment page shows it
// ("J*** S****"), from the mirror or else from Splynx.
func maskedCustomer(ctx context.Context, b *backend, customerID int64) string {
	name := ""
	if c, err := b.db.GetCustomer(ctx, customerID); err == nil {
		name = c.Name
	} else if sc, err := b.sp.GetCustomer(ctx, customerID); err == nil {
		name = sc.Name
	}
	return maskName(name)
}
