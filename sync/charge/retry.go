package charge

import (
	"context"
	"errors"
	"fmt"

	"go.uber.org/zap"

	"github.com/splynx-pay/splynx-pay/store"
)

// RetryStats counts what Retry did.
type RetryStats struct {
	Due      int
	Charged  int
	Skipped  int
	Attempts []store.ChargeAttempt
}

// Retry charges again every retryable decline whose retry date has come
// (retry_days), as a new attempt of the same charge with a new reference,
// until max_attempts. The document is re-read from Splynx first, as always.
// A retry is the daemon charging on its own, so it follows auto_charge:
// with auto_charge=0 the due retries wait (Due counts them) until it is
// turned on, or staff retry by hand.
func (e *Engine) Retry(ctx context.Context) (RetryStats, error) {
	var st RetryStats
	due, err := e.db.ListAttempts(ctx, store.AttemptFilter{RetryDue: e.now()})
	if err != nil {
		return st, err
	}
	st.Due = len(due)
	if len(due) == 0 {
		return st, nil
	}
	if !e.set.AutoCharge {
		e.log.Info("retries not started: auto_charge is off", zap.Int("due", len(due)))
		return st, nil
	}
	if e.stopping() {
		return st, nil // the next start retries them
	}
	runID, err := e.db.CreateRun(ctx, store.ChargeRun{Source: SourceRetry, Mode: "invoices", StartedBy: "retry schedule"}, e.now())
	if err != nil {
		return st, err
	}
	var p store.RunProgress
	p.Total = len(due)
	var lines []store.LogLine
	for _, prev := range due {
		if ctx.Err() != nil || e.stopping() {
			break
		}
		it := Item{Kind: prev.Kind, ChargeKey: prev.ChargeKey, InvoiceID: prev.InvoiceID, ProformaID: prev.ProformaID,
			Number: prev.ItemNumber, CustomerID: prev.CustomerID, Amount: prev.Amount - prev.Fee}
		if prev.AttemptNo >= e.set.MaxAttempts {
			continue
		}
		a, skip, err := e.chargeItem(ctx, runID, it, &prev)
		if errors.Is(err, ErrCrashed) {
			return st, err
		}
		p.Done++
		line := e.itemLine(it, a, skip, err)
		lines = append(lines, line)
		if a == nil {
			st.Skipped++
			p.Skipped++
			continue
		}
		st.Charged++
		st.Attempts = append(st.Attempts, *a)
		switch a.State {
		case store.StateApproved:
			p.Approved++
			p.AmountApproved += a.Amount
		case store.StatePending:
			p.Pending++
			p.AmountPending += a.Amount
		case store.StateDeclined:
			p.Declined++
			p.AmountDeclined += a.Amount
		default:
			p.Unknown++
			p.AmountUnkn += a.Amount
		}
	}
	dbctx := context.WithoutCancel(ctx)
	if err := e.db.AddRunLines(dbctx, runID, lines); err != nil {
		return st, err
	}
	return st, e.db.FinishRun(dbctx, runID, "done", p, "", e.now())
}

// RetryNow charges a declined attempt again at once (an admin's "retry"),
// as a new attempt of the same charge with a new reference.
func (e *Engine) RetryNow(ctx context.Context, attemptID int64, startedBy string) (*store.ChargeAttempt, string, error) {
	prev, err := e.db.GetAttempt(ctx, attemptID)
	if err != nil {
		return nil, "", err
	}
	if prev.State != store.StateDeclined || prev.Retried {
		return nil, "", fmt.Errorf("charge: retry %s: attempt is %s%s; only a declined attempt not yet retried can be retried",
			prev.Reference, prev.State, map[bool]string{true: " and already retried"}[prev.Retried])
	}
	runID, err := e.db.CreateRun(context.WithoutCancel(ctx), store.ChargeRun{Source: SourceAdmin, Mode: "single",
		StartedBy: startedBy, FiltersJSON: Filters{CustomerID: prev.CustomerID, IDs: nonZero(prev.InvoiceID, prev.ProformaID)}.JSON()}, e.now())
	if err != nil {
		return nil, "", err
	}
	it := Item{Kind: prev.Kind, ChargeKey: prev.ChargeKey, InvoiceID: prev.InvoiceID, ProformaID: prev.ProformaID,
		Number: prev.ItemNumber, CustomerID: prev.CustomerID, Amount: prev.Amount - prev.Fee}
	a, skip, err := e.chargeItem(ctx, runID, it, &prev)
	pr := &progress{}
	pr.p.Total = 1
	pr.add(a, skip, e.itemLine(it, a, skip, err))
	p, lines, _ := pr.take()
	dbctx := context.WithoutCancel(ctx)
	_ = e.db.AddRunLines(dbctx, runID, lines)
	status := "done"
	if err != nil {
		status = "failed"
	}
	_ = e.db.FinishRun(dbctx, runID, status, p, errString(err), e.now())
	return a, skip, err
}
