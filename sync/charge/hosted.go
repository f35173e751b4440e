package charge

// Payments taken on the gateway's hosted page (card_entry = hosted): the
// customer types the card on the gateway's page, which makes the charge
// itself. The engine still owns the attempt: StartHostedCharge claims the
// document (one live attempt), persists the reference and only then asks
// for the page, whose transaction carries that reference. The attempt waits
// in unknown, its first look due after the page has expired, so a return
// that never comes is resolved by the reconciler (a confirmed card lookup
// by reference) or the status feed, and the document is never charged a
// second time while the page can still take money. AdoptHosted applies what
// the page's token lookup says when the browser comes back.

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/splynx-pay/splynx-pay/gateways"
	"github.com/splynx-pay/splynx-pay/store"
)

// hostedGrace is how long after a hosted page expires its payment is first
// looked up by reference.
const hostedGrace = 5 * time.Minute

// Hosted returns the gateway's hosted pages, nil when it has none.
func (e *Engine) Hosted() gateways.HostedPages {
	hp, _ := e.gw.(gateways.HostedPages)
	return hp
}

// chargeKeyOf is the charge key ChargeOne gives an item.
func chargeKeyOf(it Item) (string, error) {
	switch it.Kind {
	case store.KindInvoice:
		return fmt.Sprintf("invoice:%d", it.InvoiceID), nil
	case store.KindProforma:
		return fmt.Sprintf("proforma:%d", it.ProformaID), nil
	case store.KindRefill:
		if it.ChargeKey == "" {
			return "refill:" + NewReference(), nil
		}
		return it.ChargeKey, nil
	}
	return "", fmt.Errorf("charge: a hosted page cannot pay kind %q", it.Kind)
}

// StartHostedCharge claims item it and creates the gateway's hosted payment
// page for what is due (with the fee), hr saying for whom and where the
// browser returns. It returns the attempt (state unknown while the customer
// is on the page) and the page, or a skip reason like ChargeOne's.
func (e *Engine) StartHostedCharge(ctx context.Context, it Item, hr gateways.HostedRequest) (*store.ChargeAttempt, gateways.HostedPage, string, error) {
	var page gateways.HostedPage
	hp := e.Hosted()
	if hp == nil {
		return nil, page, "", fmt.Errorf("charge: %s: %w: no hosted payment page", e.gw.Name(), gateways.ErrUnsupported)
	}
	key, err := chargeKeyOf(it)
	if err != nil {
		return nil, page, "", err
	}
	it.ChargeKey = key
	amount, skip, err := e.currentDue(ctx, it, nil)
	if err != nil || skip != "" {
		return nil, page, skip, err
	}
	dbctx := context.WithoutCancel(ctx)
	fee := e.fees(amount)
	a := &store.ChargeAttempt{ChargeKey: it.ChargeKey, Kind: it.Kind, InvoiceID: it.InvoiceID, ProformaID: it.ProformaID,
		ItemNumber: it.Number, CustomerID: it.CustomerID, Amount: amount + fee, Fee: fee, Currency: e.set.Currency,
		MethodKind: string(gateways.Card), Reference: NewReference(), AttemptNo: 1}
	err = e.db.CreateAttempt(dbctx, a, e.now())
	if errors.Is(err, store.ErrLiveAttempt) {
		return nil, page, "another attempt of this charge is live", nil
	}
	if err != nil {
		return nil, page, "", err
	}
	if err := e.db.TransitionAttempt(dbctx, a.ID, []store.AttemptState{store.StateCreated}, store.StateSending,
		store.Change{Sent: true}, e.now(), nil); err != nil {
		return nil, page, "", err
	}
	a.State = store.StateSending
	hr.Kind = gateways.HostedCard
	hr.Charge = &gateways.HostedCharge{Reference: a.Reference, Amount: a.Amount, Currency: a.Currency, Description: e.description(it)}
	if hr.Operator == "" {
		hr.Operator = e.opts.Operator
	}
	page, err = hp.CreateHostedPage(dbctx, hr)
	if err != nil {
		// No page reached the customer: nothing can be paid with it.
		derr := e.db.TransitionAttempt(dbctx, a.ID, []store.AttemptState{store.StateSending}, store.StateDeclined,
			store.Change{Reason: string(gateways.ReasonInvalidRequest), Code: CodeNotSent, Resolved: true,
				Message: gateways.ScrubDigits("the payment page could not be created: " + err.Error())}, e.now(), nil)
		return nil, gateways.HostedPage{}, "", errors.Join(err, derr)
	}
	if page.ExpiresAt.IsZero() {
		page.ExpiresAt = e.now().Add(gateways.HostedPageTTL)
	}
	err = e.db.TransitionAttempt(dbctx, a.ID, []store.AttemptState{store.StateSending}, store.StateUnknown,
		// The token rides in secondary_id until the gateway's own id replaces it.
		store.Change{Message: "waiting for the customer on the gateway's payment page", SecondaryID: page.Token,
			NextCheckAt: page.ExpiresAt.Add(hostedGrace)}, e.now(), nil)
	if err != nil {
		return nil, page, "", err
	}
	got, err := e.db.GetAttempt(dbctx, a.ID)
	if err != nil {
		return nil, page, "", err
	}
	e.log.Info("hosted payment page created", zap.Int64("attempt_id", a.ID), zap.String("reference", a.Reference),
		zap.String("charge", a.ChargeKey), zap.Int64("customer_id", a.CustomerID), zap.String("hosted_token", page.Token))
	return &got, page, "", nil
}

// AdoptHosted applies a hosted page's token lookup to the attempt the page
// was made for. A payment on the page is applied like a gateway answer; a
// page closed without one (cancelled, expired, rejected) means nothing was
// taken; a page still open, or completed with no payment visible yet, stays
// unknown and is looked up again soon.
func (e *Engine) AdoptHosted(ctx context.Context, attemptID int64, res gateways.HostedResult) (store.ChargeAttempt, error) {
	ctx = context.WithoutCancel(ctx)
	a, err := e.db.GetAttempt(ctx, attemptID)
	if err != nil {
		return a, err
	}
	if a.State != store.StateUnknown {
		// Already resolved (by the feed or the reconciler).
		return a, nil
	}
	from := []store.AttemptState{store.StateUnknown}
	switch {
	case res.Charge != nil:
		if res.Charge.Reference != "" && res.Charge.Reference != a.Reference {
			return a, fmt.Errorf("charge: hosted page %s paid reference %q, not attempt %d's %q", res.Token, res.Charge.Reference, a.ID, a.Reference)
		}
		o := *res.Charge
		o.Reference = a.Reference
		return e.apply(ctx, a, from, o)
	case res.Open || res.Completed:
		next := e.now().Add(30 * time.Second)
		if res.Open {
			next = a.NextCheckAt
		}
		return a, e.db.SetNextCheck(ctx, a.ID, store.StateUnknown, next, e.now())
	}
	err = e.db.TransitionAttempt(ctx, a.ID, from, store.StateDeclined, store.Change{Reason: string(gateways.ReasonOther), Code: CodeNotSent,
		Message: "the payment page was closed without a payment (" + res.Status + ")", Resolved: true}, e.now(), nil)
	if err != nil && !errors.Is(err, store.ErrStateChanged) {
		return a, err
	}
	return e.db.GetAttempt(ctx, a.ID)
}

// reconcileHosted asks about an unknown payment made on a hosted page
// through the page's token (spec §8, confirmed), which says for certain
// whether the page took money; a lookup by reference alone would rely on
// the card lookup finding the page's transaction, which no source
// confirms. It reports false when the token could not be read, and the
// caller falls back to the lookup by reference.
func (e *Engine) reconcileHosted(ctx context.Context, a store.ChargeAttempt, st *ReconcileStats) (bool, error) {
	hp := e.Hosted()
	// A hosted payment has no saved method, and until the gateway answers
	// its secondary id is the page's token (a UUID; gateway ids are
	// numbers or RT numbers).
	if hp == nil || a.MethodID != 0 || !strings.Contains(a.SecondaryID, "-") {
		return false, nil
	}
	res, err := hp.LookupHostedPage(ctx, a.SecondaryID)
	if err != nil {
		e.log.Info("hosted page lookup failed; looking the payment up by reference", zap.Int64("attempt_id", a.ID), zap.Error(err))
		return false, nil
	}
	if res.Charge != nil || (!res.Open && !res.Completed) {
		got, err := e.AdoptHosted(ctx, a.ID, res)
		if err != nil {
			e.log.Warn("hosted payment not applied", zap.Int64("attempt_id", a.ID), zap.Error(err))
			st.StillUnkwn++
			return true, e.db.SetNextCheck(ctx, a.ID, store.StateUnknown, e.now().Add(e.backoff(a.Checks)), e.now())
		}
		if got.State == store.StateDeclined && got.Code == CodeNotSent {
			st.NotSent++
		} else {
			st.Resolved++
		}
		return true, nil
	}
	// Still open past its 20 minutes, or completed with no payment to see
	// yet: never a reason to decline. Ask again later; review in time.
	moved, err := e.toReview(ctx, a, fmt.Errorf("the gateway's payment page is %s", res.Status))
	if err != nil || moved {
		if moved {
			st.Review++
		}
		return true, err
	}
	st.StillUnkwn++
	return true, e.db.SetNextCheck(ctx, a.ID, store.StateUnknown, e.now().Add(e.backoff(a.Checks)), e.now())
}
