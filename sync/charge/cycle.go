package charge

import (
	"context"
	"errors"
	"fmt"
)

// Cycle runs one maintenance pass in the order that makes each step see
// the previous one's result: reconcile unknowns, settle, write back, retry,
// then write back what the retries approved.
func (e *Engine) Cycle(ctx context.Context) error {
	var errs []error
	if _, err := e.Reconcile(ctx); err != nil {
		errs = append(errs, fmt.Errorf("reconcile: %w", err))
	}
	if _, err := e.Settle(ctx); err != nil {
		errs = append(errs, fmt.Errorf("settle: %w", err))
	}
	if _, err := e.WriteBack(ctx); err != nil {
		errs = append(errs, fmt.Errorf("write-back: %w", err))
	}
	if _, err := e.Retry(ctx); err != nil {
		errs = append(errs, fmt.Errorf("retry: %w", err))
	}
	if _, err := e.WriteBack(ctx); err != nil {
		errs = append(errs, fmt.Errorf("write-back: %w", err))
	}
	return errors.Join(errs...)
}
