package charge

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/splynx-pay/splynx-pay/gateways"
	"github.com/splynx-pay/splynx-pay/internal/clock"
	"github.com/splynx-pay/splynx-pay/internal/money"
	"github.com/splynx-pay/splynx-pay/store"
)

// ReconcileStats counts what Reconcile resolved.
type ReconcileStats struct {
	Abandoned  int // created rows never sent → declined NOT_SENT
	Orphaned   int // sending rows of a dead process → unknown
	Looked     int // unknown rows looked up
	Resolved   int // unknown rows the gateway answered for
	NotSent    int // unknown rows the gateway never received
	StillUnkwn int
	Review     int // unknown rows moved to review (a person decides)
	Runs       int // runs of dead processes marked interrupted
}

// Reconcile makes rows left behind by a dead process true again, then asks
// the gateway about every unknown attempt whose next look is due. Nothing is
// ever sent again before the gateway has said it never got the first one.
func (e *Engine) Reconcile(ctx context.Context) (ReconcileStats, error) {
	var st ReconcileStats
	now := e.now()
	stale := now.Add(-e.opts.StaleAfter)
	left, err := e.db.ListAttempts(ctx, store.AttemptFilter{States: []store.AttemptState{store.StateCreated, store.StateSending},
		UpdatedBefore: stale})
	if err != nil {
		return st, err
	}
	for _, a := range left {
		if e.owns(a.ID) {
			continue
		}
		switch a.State {
		case store.StateCreated:
			err = e.db.TransitionAttempt(ctx, a.ID, []store.AttemptState{store.StateCreated}, store.StateDeclined,
				store.Change{Reason: string(gateways.ReasonOther), Code: CodeNotSent, Message: "abandoned before sending",
					Resolved: true}, now, nil)
			if err == nil {
				st.Abandoned++
			}
		case store.StateSending:
			err = e.db.TransitionAttempt(ctx, a.ID, []store.AttemptState{store.StateSending}, store.StateUnknown,
				store.Change{Message: "the process stopped while the request may have been on the wire"}, now, nil)
			if err == nil {
				st.Orphaned++
			}
		}
		if err != nil && !errors.Is(err, store.ErrStateChanged) {
			return st, err
		}
	}
	if n, err := e.db.InterruptStaleRuns(ctx, now.Add(-e.opts.StaleAfter*12), now); err == nil {
		st.Runs = n
	}
	unknown, err := e.db.ListAttempts(ctx, store.AttemptFilter{States: []store.AttemptState{store.StateUnknown}, CheckDue: now})
	if err != nil {
		return st, err
	}
	for _, a := range unknown {
		if ctx.Err() != nil {
			return st, ctx.Err()
		}
		st.Looked++
		if done, err := e.reconcileHosted(ctx, a, &st); err != nil || done {
			if err != nil {
				return st, err
			}
			continue
		}
		m := store.SavedMethodRow{Kind: a.MethodKind}
		if a.MethodID != 0 {
			// (A payment on a hosted page has no saved method.)
			if m, err = e.db.GetMethod(ctx, a.MethodID); err != nil {
				return st, err
			}
		}
		o, err := e.gw.Lookup(ctx, gateways.LookupRequest{Reference: a.Reference, Method: methodOf(m), PayerRef: m.PayerRef,
			GatewayID: a.GatewayID, Amount: a.Amount})
		switch {
		case errors.Is(err, gateways.ErrNotFound):
			if e.now().Sub(a.SentAt) >= e.opts.NotFoundGrace {
				err = e.db.TransitionAttempt(ctx, a.ID, []store.AttemptState{store.StateUnknown}, store.StateDeclined,
					store.Change{Reason: string(gateways.ReasonOther), Code: CodeNotSent,
						Message: "the gateway never received it", Resolved: true}, e.now(), nil)
				if err != nil && !errors.Is(err, store.ErrStateChanged) {
					return st, err
				}
				st.NotSent++
				continue
			}
			st.StillUnkwn++
			if err := e.db.SetNextCheck(ctx, a.ID, store.StateUnknown, e.now().Add(e.backoff(a.Checks)), e.now()); err != nil {
				return st, err
			}
			continue
		case err != nil:
			if errors.Is(err, gateways.ErrInconclusive) {
				e.log.Info("charge lookup inconclusive; waiting for the status feed", zap.String("reference", a.Reference),
					zap.Int64("attempt_id", a.ID), zap.Error(err))
			} else {
				e.log.Warn("charge lookup failed", zap.String("reference", a.Reference), zap.Error(err))
			}
			moved, rerr := e.toReview(ctx, a, err)
			if rerr != nil {
				return st, rerr
			}
			if moved {
				st.Review++
				continue
			}
			st.StillUnkwn++
			if err := e.db.SetNextCheck(ctx, a.ID, store.StateUnknown, e.now().Add(e.backoff(a.Checks)), e.now()); err != nil {
				return st, err
			}
			continue
		}
		if o.Status == gateways.Unknown || o.Status == "" {
			moved, rerr := e.toReview(ctx, a, o.Err)
			if rerr != nil {
				return st, rerr
			}
			if moved {
				st.Review++
				continue
			}
			st.StillUnkwn++
		} else {
			st.Resolved++
		}
		if _, err := e.apply(ctx, a, []store.AttemptState{store.StateUnknown}, o); err != nil && !errors.Is(err, store.ErrStateChanged) {
			return st, err
		}
	}
	return st, nil
}

// reviewAt is when an attempt still unresolved goes to review: the
// review_unknown_after_days setting in business days after it was sent (the
// debit date of a scheduled payment is the day it is sent).
func (e *Engine) reviewAt(a store.ChargeAttempt) time.Time {
	sent := a.SentAt
	if sent.IsZero() {
		sent = a.CreatedAt
	}
	return clock.AddBusinessDays(sent.In(e.loc), e.set.ReviewUnknownAfterDays)
}

// toReview moves an unknown attempt whose review time has come to review:
// it keeps blocking new charges of the document and waits for a person (or
// the status feed). It reports whether it moved the row.
func (e *Engine) toReview(ctx context.Context, a store.ChargeAttempt, why error) (bool, error) {
	if e.now().Before(e.reviewAt(a)) {
		return false, nil
	}
	msg := "outcome still unknown; a person must check it at the gateway"
	if why != nil {
		msg += ": " + gateways.ScrubDigits(why.Error())
	}
	err := e.db.TransitionAttempt(ctx, a.ID, []store.AttemptState{store.StateUnknown}, store.StateReview,
		store.Change{Message: msg, Review: true}, e.now(), func(tx *sql.Tx) error {
			return e.db.Audit(ctx, tx, "charge.review", map[string]any{"attempt_id": a.ID, "reference": a.Reference,
				"customer_id": a.CustomerID, "charge": a.ChargeKey, "amount": money.Amount(a.Amount).String(),
				"sent_at": store.FormatTime(a.SentAt)})
		})
	if errors.Is(err, store.ErrStateChanged) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	e.log.Warn("charge attempt needs review", zap.Int64("attempt_id", a.ID), zap.String("reference", a.Reference),
		zap.String("charge", a.ChargeKey), zap.Int64("customer_id", a.CustomerID))
	return true, nil
}

// SettleStats counts what Settle applied.
type SettleStats struct {
	Changes   int // status changes read from the gateway
	Applied   int
	Settled   int // pending → approved
	Rejected  int // pending → declined
	Reversed  int // recorded → reversed (late dishonour, chargeback)
	Unmatched int // changes for charges we do not know
	Matured   int // pending past SettlesBy with no return → approved
	// LateRefunds: superseded charges whose owed refund was tried again.
	LateRefunds int
}

// Settle reads the gateway's status changes, applies each and then
// acknowledges it (so a crash in between only applies it twice, which is a
// no-op), and approves pending debits whose return window has passed.
func (e *Engine) Settle(ctx context.Context) (SettleStats, error) {
	var st SettleStats
	chs, err := e.gw.Changes(ctx)
	if err != nil {
		return st, fmt.Errorf("charge: settle: read status changes: %w", err)
	}
	e.db.NoteSettlePoll(ctx, e.now())
	st.Changes = len(chs)
	if err := e.ApplyChanges(ctx, chs, &st, true); err != nil {
		return st, err
	}
	now := e.now()
	pend, err := e.db.ListAttempts(ctx, store.AttemptFilter{States: []store.AttemptState{store.StatePending}})
	if err != nil {
		return st, err
	}
	for _, a := range pend {
		if a.SettlesBy.IsZero() || now.Before(a.SettlesBy) {
			continue
		}
		o := gateways.Outcome{Status: gateways.Approved, Reference: a.Reference, GatewayID: a.GatewayID}
		if _, err := e.apply(ctx, a, []store.AttemptState{store.StatePending}, o); err != nil && !errors.Is(err, store.ErrStateChanged) {
			return st, err
		}
		st.Matured++
	}
	n, err := e.retryLateRefunds(ctx)
	st.LateRefunds = n
	return st, err
}

// ApplyChanges applies gateway status changes (from the feed, or from an
// imported returns file such as IPpay's). With ack, each applied change is
// acknowledged to the gateway afterwards.
func (e *Engine) ApplyChanges(ctx context.Context, chs []gateways.StatusChange, st *SettleStats, ack bool) error {
	if st == nil {
		st = &SettleStats{}
	}
	for _, ch := range chs {
		done, err := e.applyChange(ctx, ch, st)
		if err != nil {
			e.log.Warn("charge: status change not applied", zap.String("reference", ch.Outcome.Reference),
				zap.String("gateway_id", ch.Outcome.GatewayID), zap.Error(err))
			continue
		}
		if done {
			st.Applied++
		}
		if ack && ch.AckID != "" {
			if err := e.gw.Ack(ctx, ch); err != nil {
				return fmt.Errorf("charge: settle: acknowledge %s: %w", ch.AckID, err)
			}
		}
	}
	return nil
}

func (e *Engine) findAttempt(ctx context.Context, o gateways.Outcome) (store.ChargeAttempt, error) {
	if o.Reference != "" {
		a, err := e.db.AttemptByReference(ctx, o.Reference)
		if err == nil || !errors.Is(err, store.ErrNotFound) {
			return a, err
		}
	}
	if o.GatewayID != "" {
		return e.db.AttemptByGatewayID(ctx, o.GatewayID)
	}
	return store.ChargeAttempt{}, fmt.Errorf("%w: change without reference or gateway id", store.ErrNotFound)
}

// applyChange applies one change idempotently: a change already reflected
// in the row does nothing. It reports whether the row moved.
func (e *Engine) applyChange(ctx context.Context, ch gateways.StatusChange, st *SettleStats) (bool, error) {
	o := ch.Outcome
	a, err := e.findAttempt(ctx, o)
	if errors.Is(err, store.ErrNotFound) {
		st.Unmatched++
		e.log.Info("charge: status change for an unknown charge", zap.String("reference", o.Reference),
			zap.String("gateway_id", o.GatewayID), zap.String("status", string(o.Status)))
		return false, nil
	}
	if err != nil {
		return false, err
	}
	live := []store.AttemptState{store.StateSending, store.StateUnknown, store.StateReview, store.StatePending}
	switch o.Status {
	case gateways.Approved:
		switch a.State {
		case store.StateSending, store.StateUnknown, store.StateReview, store.StatePending:
			if _, err := e.apply(ctx, a, live, o); err != nil {
				return false, err
			}
			st.Settled++
			return true, nil
		case store.StateDeclined:
			// We held it as declined (or never received) and the gateway
			// took the money: record it, never swallow it.
			if err := e.resurrect(ctx, a, o); err != nil {
				return false, err
			}
			st.Settled++
			return true, nil
		}
		return false, nil
	case gateways.Pending:
		switch a.State {
		case store.StateSending, store.StateUnknown, store.StateReview:
			if _, err := e.apply(ctx, a, live, o); err != nil {
				return false, err
			}
			return true, nil
		case store.StateDeclined:
			if err := e.resurrect(ctx, a, o); err != nil {
				return false, err
			}
			return true, nil
		}
		if a.State == store.StatePending && (o.GatewayID != "" && a.GatewayID == "") {
			_, err := e.apply(ctx, a, []store.AttemptState{store.StatePending}, o)
			return err == nil, err
		}
		return false, nil
	case gateways.Declined:
		switch a.State {
		case store.StateSending, store.StateUnknown, store.StateReview, store.StatePending:
			if _, err := e.apply(ctx, a, live, o); err != nil {
				return false, err
			}
			st.Rejected++
			return true, nil
		case store.StateApproved:
			// Rejected before its payment reached Splynx: straight to
			// reversed, the queued payment cancelled, nothing written and
			// deleted again. Only when a write-back pass holds the payment
			// right now does it finish first and then get reversed.
			if err := e.reverse(ctx, a, ch); err == nil {
				st.Reversed++
				return true, nil
			} else if !errors.Is(err, store.ErrWriteBackBusy) {
				return false, err
			}
			if err := e.writeBackAttempt(ctx, a.ID); err != nil {
				return false, err
			}
			if a, err = e.db.GetAttempt(ctx, a.ID); err != nil {
				return false, err
			}
			fallthrough
		case store.StateRecorded:
			if err := e.reverse(ctx, a, ch); err != nil {
				return false, err
			}
			st.Reversed++
			return true, nil
		}
		return false, nil
	}
	return false, nil
}

// reverse records a late dishonour or chargeback of a recorded charge (the
// Splynx payment is queued for deletion, the invoice opens again), or the
// rejection of an approved charge not yet written back (its queued payment
// is cancelled; store.ErrWriteBackBusy when a pass holds it right now). The
// reversal is kept, and a dishonour fee is queued if configured.
func (e *Engine) reverse(ctx context.Context, a store.ChargeAttempt, ch gateways.StatusChange) error {
	o := ch.Outcome
	kind := "dishonour"
	if o.Reason == gateways.ReasonChargeback {
		kind = "chargeback"
	}
	now := e.now()
	reason := string(o.Reason)
	if reason == "" {
		reason = string(gateways.ReasonOther)
	}
	err := e.db.TransitionAttempt(ctx, a.ID, []store.AttemptState{a.State}, store.StateReversed,
		store.Change{Reason: reason, Code: o.Code, Message: gateways.ScrubDigits(o.Message)}, now, func(tx *sql.Tx) error {
			if _, err := store.InsertReversal(ctx, tx, store.Reversal{AttemptID: a.ID, Kind: kind, GatewayID: o.GatewayID,
				Amount: a.Amount, Reason: reason, Code: o.Code, SplynxPaymentID: a.SplynxPaymentID}, now); err != nil {
				return err
			}
			if a.State == store.StateApproved {
				// Nothing is in Splynx yet: cancel the queued payment
				// (and its fee) instead of writing and deleting it.
				if err := store.CancelPaymentWriteBack(ctx, tx, a.ID, now); err != nil {
					return err
				}
			} else if err := store.Enqueue(ctx, tx, store.OutboxItem{AttemptID: a.ID, Action: store.OutboxDeletePayment}, now); err != nil {
				return err
			}
			if err := e.db.Audit(ctx, tx, "charge."+kind, map[string]any{"attempt_id": a.ID, "reference": a.Reference,
				"customer_id": a.CustomerID, "amount": money.Amount(a.Amount).String(), "reason": reason, "code": o.Code,
				"splynx_payment_id": a.SplynxPaymentID}); err != nil {
				return err
			}
			if fee := int64(e.set.DishonourFee); fee > 0 {
				if err := store.Enqueue(ctx, tx, store.OutboxItem{AttemptID: a.ID, Action: store.OutboxDishonourFee, Amount: fee}, now); err != nil {
					return err
				}
			}
			if !o.Retryable && hardReasons[o.Reason] && a.MethodID != 0 {
				return store.SetMethodStatus(ctx, tx, a.MethodID, store.MethodNeedsUpdate,
					fmt.Sprintf("%s (%s) on %s", o.Reason, o.Code, a.Reference), now)
			}
			return nil
		})
	if errors.Is(err, store.ErrStateChanged) {
		cur, rerr := e.db.GetAttempt(ctx, a.ID)
		if rerr == nil && cur.State == store.StateReversed {
			return nil
		}
	}
	if err != nil {
		return err
	}
	e.log.Info("charge reversed", zap.Int64("attempt_id", a.ID), zap.String("reference", a.Reference),
		zap.String("kind", kind), zap.String("reason", reason), zap.String("code", o.Code))
	return nil
}

// resurrect follows a charge we hold as declined that the gateway's status
// feed shows as taken (pending or settled): the attempt becomes pending or
// approved again ("late") and is written back like any other. Which of a
// document's attempts pays it is decided when each one's money is certain
// (queueApproved): a late attempt is superseded only when another attempt
// of the document is already approved or recorded; while that other one is
// merely live (pending, unknown), the late one pays the document when it
// settles, and the other, if it settles too, is the superseded one. A
// superseded payment goes to the customer's balance, or is refunded when the
// late_settlement setting says so. Either way it is audited.
func (e *Engine) resurrect(ctx context.Context, a store.ChargeAttempt, o gateways.Outcome) error {
	now := e.now()
	c := store.Change{GatewayID: o.GatewayID, SecondaryID: o.SecondaryID, Message: "the gateway took this charge after we held it as declined",
		Review: true, Retryable: false}
	to := store.StatePending
	if o.Status == gateways.Approved {
		to, c.Resolved = store.StateApproved, true
	} else {
		c.SettlesBy = o.SettlesBy
	}
	var supersededBy string
	err := e.db.Write(ctx, func(tx *sql.Tx) error {
		if err := store.MarkLate(ctx, tx, a.ID, now); err != nil {
			return err
		}
		if err := store.Transition(ctx, tx, a.ID, []store.AttemptState{store.StateDeclined}, to, c, now); err != nil {
			return err
		}
		if to == store.StateApproved {
			ref, err := e.approvedQueue(ctx, tx, a, now)
			if err != nil {
				return err
			}
			supersededBy = ref
		}
		return e.db.Audit(ctx, tx, "charge.late_settlement", map[string]any{"attempt_id": a.ID, "reference": a.Reference,
			"customer_id": a.CustomerID, "charge": a.ChargeKey, "amount": money.Amount(a.Amount).String(),
			"was": string(a.State), "was_code": a.Code, "gateway_status": string(o.Status), "gateway_id": o.GatewayID,
			"superseded_by": supersededBy, "late_settlement": e.set.LateSettlement})
	})
	if errors.Is(err, store.ErrStateChanged) {
		return nil
	}
	if err != nil {
		return err
	}
	e.log.Warn("charge: the gateway took a charge we held as declined; following it", zap.Int64("attempt_id", a.ID),
		zap.String("reference", a.Reference), zap.String("charge", a.ChargeKey), zap.String("state", string(to)),
		zap.Bool("superseded", supersededBy != ""), zap.String("superseded_by", supersededBy))
	return nil
}

// Decisions a person makes about an attempt in review.
const (
	// DecideNotCharged: the gateway has no such charge (checked in its
	// portal); the attempt is declined and the document chargeable again.
	DecideNotCharged = "not_charged"
	// DecideCharged: the gateway took the money; the attempt is approved
	// and written back to Splynx like any other.
	DecideCharged = "charged"
)

// CodeStaffDecision marks a charge an operator confirmed at the gateway.
const CodeStaffDecision = "STAFF"

// ResolveReview records what a person found out at the gateway about an
// attempt in review (or still unknown), and audits who decided it.
func (e *Engine) ResolveReview(ctx context.Context, attemptID int64, decision, by string) (store.ChargeAttempt, error) {
	a, err := e.db.GetAttempt(ctx, attemptID)
	if err != nil {
		return a, err
	}
	if a.State != store.StateReview && a.State != store.StateUnknown {
		return a, fmt.Errorf("charge: %s is %s; only an unknown or review attempt can be decided", a.Reference, a.State)
	}
	from := []store.AttemptState{a.State}
	now := e.now()
	audit := func(tx *sql.Tx) error {
		return e.db.Audit(ctx, tx, "charge.review_decided", map[string]any{"attempt_id": a.ID, "reference": a.Reference,
			"customer_id": a.CustomerID, "charge": a.ChargeKey, "amount": money.Amount(a.Amount).String(),
			"decision": decision, "by": by, "was": string(a.State)})
	}
	switch decision {
	case DecideNotCharged:
		// NOT_SENT: the planner may charge the document again. Should the
		// feed show it after all, it is resurrected like any decline.
		err = e.db.TransitionAttempt(ctx, a.ID, from, store.StateDeclined, store.Change{Reason: string(gateways.ReasonOther),
			Code: CodeNotSent, Message: "not charged at the gateway (decided by " + by + ")", Resolved: true}, now, audit)
	case DecideCharged:
		err = e.db.TransitionAttempt(ctx, a.ID, from, store.StateApproved, store.Change{Code: CodeStaffDecision,
			Message: "charged at the gateway (decided by " + by + ")", Resolved: true}, now, func(tx *sql.Tx) error {
			if err := e.queueApproved(ctx, tx, a, now); err != nil {
				return err
			}
			return audit(tx)
		})
	default:
		return a, fmt.Errorf("charge: unknown decision %q (%s or %s)", decision, DecideNotCharged, DecideCharged)
	}
	if err != nil {
		return a, err
	}
	e.log.Info("charge review decided", zap.Int64("attempt_id", a.ID), zap.String("reference", a.Reference),
		zap.String("decision", decision), zap.String("by", by))
	return e.db.GetAttempt(ctx, a.ID)
}
