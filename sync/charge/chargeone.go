package charge

import (
	"context"
	"errors"
	"fmt"

	"github.com/splynx-pay/splynx-pay/store"
)

// ChargeOne charges a single document or refill now (portal payment,
// direct payment link, admin "pay from profile", balance refill) through the
// same claim-send-store path as a run. For a refill it.Amount is the amount.
func (e *Engine) ChargeOne(ctx context.Context, it Item, source, startedBy string) (*store.ChargeAttempt, string, error) {
	switch it.Kind {
	case store.KindInvoice:
		it.ChargeKey = fmt.Sprintf("invoice:%d", it.InvoiceID)
	case store.KindProforma:
		it.ChargeKey = fmt.Sprintf("proforma:%d", it.ProformaID)
	case store.KindBalance:
		it.ChargeKey = fmt.Sprintf("balance:%d", it.CustomerID)
	case store.KindRefill:
		// Every refill is its own charge, unless the caller names it (a
		// payment form's one-time key, so a double submit is one charge).
		if it.ChargeKey == "" {
			it.ChargeKey = "refill:" + NewReference()
		}
	default:
		return nil, "", fmt.Errorf("charge: unknown kind %q", it.Kind)
	}
	dbctx := context.WithoutCancel(ctx)
	runID, err := e.db.CreateRun(dbctx, store.ChargeRun{Source: source, Mode: "single", StartedBy: startedBy,
		FiltersJSON: Filters{CustomerID: it.CustomerID, IDs: nonZero(it.InvoiceID, it.ProformaID)}.JSON()}, e.now())
	if err != nil {
		return nil, "", err
	}
	a, skip, err := e.chargeItem(ctx, runID, it, nil)
	if errors.Is(err, ErrCrashed) {
		return nil, "", err
	}
	pr := &progress{}
	pr.p.Total = 1
	pr.add(a, skip, e.itemLine(it, a, skip, err))
	p, lines, _ := pr.take()
	_ = e.db.AddRunLines(dbctx, runID, lines)
	status := "done"
	if err != nil {
		status = "failed"
	}
	if ferr := e.db.FinishRun(dbctx, runID, status, p, errString(err), e.now()); ferr != nil && err == nil {
		err = ferr
	}
	return a, skip, err
}

func nonZero(ids ...int64) []int64 {
	var out []int64
	for _, id := range ids {
		if id != 0 {
			out = append(out, id)
		}
	}
	return out
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
