package mirror

import (
	"context"
	"database/sql"

	"go.uber.org/zap"

	"github.com/splynx-pay/splynx-pay/store"
)

// The history window: the mirror keeps paid (and deleted) invoices and
// proformas created within the last HistoryMonths months; unpaid and
// pending ones stay whatever their age. Passes still read what Splynx
// sends and write it (an old invoice just paid must not stay "not_paid"
// in the mirror), then prune what fell out of the window.

// DefaultHistoryMonths is Options.HistoryMonths' default (setting
// mirror_history_months).
const DefaultHistoryMonths = 13

// SetHistoryMonths changes the history window from the next pass on
// (n <= 0 keeps it).
func (e *Engine) SetHistoryMonths(n int) {
	if n > 0 {
		e.history.Store(int32(n))
	}
}

// cutoff is the first date inside the history window (YYYY-MM-DD).
func (e *Engine) cutoff() string {
	return store.FormatDate(e.clk.Now().AddDate(0, -int(e.history.Load()), 0))
}

// prune removes the documents that fell out of the history window.
func (e *Engine) prune(ctx context.Context, tx *sql.Tx, log *zap.Logger) error {
	before := e.cutoff()
	for _, t := range []string{"invoices", "proformas"} {
		n, err := store.PruneHistory(ctx, tx, t, before)
		if err != nil {
			return err
		}
		if n > 0 {
			log.Info("pruned paid documents older than the history window", zap.String("table", t),
				zap.Int("pruned", n), zap.String("before", before))
		}
	}
	return nil
}
