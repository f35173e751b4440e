package charge

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/splynx-pay/splynx-pay/gateways"
	"github.com/splynx-pay/splynx-pay/store"
)

// SaveMethod saves a card or bank account with the gateway and keeps its
// token and mask (never the number) with the authorisation record.
func (e *Engine) SaveMethod(ctx context.Context, req gateways.SaveMethodRequest, authText string) (store.SavedMethodRow, error) {
	if req.Payer.Reference == "" {
		req.Payer.Reference = e.payerRef(req.Payer.CustomerID, "")
	}
	sm, err := e.gw.SaveMethod(ctx, req)
	if err != nil {
		return store.SavedMethodRow{}, fmt.Errorf("charge: save payment method of customer %d: %w", req.Payer.CustomerID, err)
	}
	row := store.SavedMethodRow{CustomerID: req.Payer.CustomerID, Kind: string(sm.Kind), Token: sm.Token,
		PayerRef: req.Payer.Reference, Mask: sm.Mask, Brand: sm.Brand, HolderName: sm.HolderName, ExpMonth: sm.ExpMonth, ExpYear: sm.ExpYear,
		AccountType: sm.AccountType, AuthAcceptedAt: req.Authorisation.AcceptedAt, AuthIP: req.Authorisation.IP,
		AuthText: authText, AuthSEC: req.Authorisation.SEC}
	id, err := e.db.SaveMethod(context.WithoutCancel(ctx), row, e.now())
	if err != nil {
		return row, err
	}
	return e.db.GetMethod(ctx, id)
}

// RemoveMethod stops a saved method being charged, at the gateway and here.
func (e *Engine) RemoveMethod(ctx context.Context, methodID int64) error {
	m, err := e.db.GetMethod(ctx, methodID)
	if err != nil {
		return err
	}
	if err := e.gw.RemoveMethod(ctx, m.PayerRef, methodOf(m)); err != nil && !errors.Is(err, gateways.ErrNotFound) {
		return fmt.Errorf("charge: remove payment method %d: %w", methodID, err)
	}
	return e.db.Write(ctx, func(tx *sql.Tx) error {
		return store.SetMethodStatus(ctx, tx, methodID, store.MethodRemoved, "removed", e.now())
	})
}
