package charge

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"go.uber.org/zap"

	"github.com/splynx-pay/splynx-pay/gateways"
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
		m, err := e.db.GetMethod(ctx, a.MethodID)
		if err != nil {
			return st, err
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
			e.log.Warn("charge lookup failed", zap.String("reference", a.Reference), zap.Error(err))
			st.StillUnkwn++
			if err := e.db.SetNextCheck(ctx, a.ID, store.StateUnknown, e.now().Add(e.backoff(a.Checks)), e.now()); err != nil {
				return st, err
			}
			continue
		}
		if o.Status == gateways.Unknown || o.Status == "" {
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

// SettleStats counts what Settle applied.
type SettleStats struct {
	Changes   int // status changes read from the gateway
	Applied   int
	Settled   int // pending → approved
	Rejected  int // pending → declined
	Reversed  int // recorded → reversed (late dishonour, chargeback)
	Unmatched int // changes for charges we do not know
	Matured   int // pending past SettlesBy with no return → approved
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
	return st, nil
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
	live := []store.AttemptState{store.StateSending, store.StateUnknown, store.StatePending}
	switch o.Status {
	case gateways.Approved:
		switch a.State {
		case store.StateSending, store.StateUnknown, store.StatePending:
			if _, err := e.apply(ctx, a, live, o); err != nil {
				return false, err
			}
			st.Settled++
			return true, nil
		case store.StateDeclined:
			// We told Splynx nothing, the gateway says the money came in:
			// never swallow that; a person must look.
			e.log.Error("charge: gateway settled a charge we hold as declined", zap.String("reference", a.Reference),
				zap.Int64("attempt_id", a.ID))
			_ = e.db.Audit(ctx, nil, "charge.conflict", map[string]any{"attempt_id": a.ID, "reference": a.Reference,
				"state": string(a.State), "gateway_status": string(o.Status)})
			return false, fmt.Errorf("attempt %s is declined but the gateway settled it", a.Reference)
		}
		return false, nil
	case gateways.Pending:
		if a.State == store.StateSending || a.State == store.StateUnknown {
			if _, err := e.apply(ctx, a, live, o); err != nil {
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
		case store.StateSending, store.StateUnknown, store.StatePending:
			if _, err := e.apply(ctx, a, live, o); err != nil {
				return false, err
			}
			st.Rejected++
			return true, nil
		case store.StateApproved:
			// Splynx must have the payment before it can be taken away.
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

// reverse records a late dishonour or chargeback of a recorded charge: the
// Splynx payment is queued for deletion (the invoice opens again), the
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
	err := e.db.TransitionAttempt(ctx, a.ID, []store.AttemptState{store.StateRecorded}, store.StateReversed,
		store.Change{Reason: reason, Code: o.Code, Message: gateways.ScrubDigits(o.Message)}, now, func(tx *sql.Tx) error {
			if _, err := store.InsertReversal(ctx, tx, store.Reversal{AttemptID: a.ID, Kind: kind, GatewayID: o.GatewayID,
				Amount: a.Amount, Reason: reason, Code: o.Code, SplynxPaymentID: a.SplynxPaymentID}, now); err != nil {
				return err
			}
			if err := store.Enqueue(ctx, tx, store.OutboxItem{AttemptID: a.ID, Action: store.OutboxDeletePayment}, now); err != nil {
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
