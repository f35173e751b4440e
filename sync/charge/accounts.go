package charge

// Saved methods in Splynx's customer payment account (splynx-api.md §6.2,
// §7.5): the token reference, mask and expiry are written there too, so
// staff see them in Splynx, and RestoreMethods can rebuild saved_methods
// from them after a lost database. Never a card or account number: only
// what saved_methods itself holds.

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/splynx-pay/splynx-pay/splynx"
	"github.com/splynx-pay/splynx-pay/store"
)

// accountLayout names the fields of the add-on's payment account, in the
// order of its definition (the IntegraPay and IPpay layouts differ).
type accountLayout struct {
	payer, token, kind, mask, expiry, accountType int // field numbers, 0 = not kept
}

// Fields 6-8 hold the debit authorisation (time, IP, text version) in both.
const (
	fieldAuthAt   = 6
	fieldAuthIP   = 7
	fieldAuthText = 8
)

func (e *Engine) layout() (accountLayout, string) {
	// Which add-on: the gateway's name; without a gateway (a restore before
	// the gateway is configured), the currency.
	if (e.gw != nil && e.gw.Name() == "IPpay") || (e.gw == nil && e.set.Currency == "USD") {
		return accountLayout{token: 1, kind: 2, mask: 3, expiry: 4, accountType: 5}, "IPpay"
	}
	return accountLayout{payer: 1, token: 2, kind: 3, mask: 4, expiry: 5}, "IntegraPay"
}

// PaymentAccountID is the Splynx payment account the add-on writes: the
// payment_account_id setting, else the definition titled like the gateway.
// 0 with a nil error means there is none.
func (e *Engine) PaymentAccountID(ctx context.Context) (int64, error) {
	if e.set.PaymentAccountID > 0 {
		return e.set.PaymentAccountID, nil
	}
	_, title := e.layout()
	defs, err := e.sp.ListPaymentAccountDefs(ctx)
	if err != nil {
		return 0, err
	}
	for _, d := range defs {
		if strings.EqualFold(strings.TrimSpace(d.Title), title) {
			return int64(d.ID), nil
		}
	}
	return 0, nil
}

func setField(f *[10]string, n int, v string) {
	if n > 0 {
		f[n-1] = v
	}
}

func getField(f [10]string, n int) string {
	if n <= 0 {
		return ""
	}
	return strings.TrimSpace(f[n-1])
}

// ShowMethodInSplynx writes the saved method into the customer's payment
// account (or empties it when m is removed).
func (e *Engine) ShowMethodInSplynx(ctx context.Context, m store.SavedMethodRow) error {
	acc, err := e.PaymentAccountID(ctx)
	if err != nil || acc == 0 {
		return err
	}
	if m.Status == store.MethodRemoved {
		err := e.sp.DeletePaymentAccount(ctx, m.CustomerID, acc)
		if splynx.IsNotFound(err) {
			return nil
		}
		return err
	}
	l, _ := e.layout()
	var f [10]string
	setField(&f, l.payer, m.PayerRef)
	setField(&f, l.token, m.Token)
	setField(&f, l.kind, m.Kind)
	setField(&f, l.mask, m.Mask)
	if m.ExpMonth > 0 {
		setField(&f, l.expiry, fmt.Sprintf("%02d/%04d", m.ExpMonth, m.ExpYear))
	}
	setField(&f, l.accountType, m.AccountType)
	if !m.AuthAcceptedAt.IsZero() {
		setField(&f, fieldAuthAt, m.AuthAcceptedAt.UTC().Format(time.RFC3339))
		setField(&f, fieldAuthIP, m.AuthIP)
		setField(&f, fieldAuthText, m.AuthText)
	}
	return e.sp.PutPaymentAccount(ctx, splynx.PaymentAccount{AccountID: splynx.ID(acc), CustomerID: splynx.ID(m.CustomerID), Fields: f})
}

// RestoreStats counts what RestoreMethods did.
type RestoreStats struct {
	Accounts, Restored, Kept, Skipped int
}

// RestoreMethods rebuilds saved_methods from the Splynx payment account
// data: every customer with a token there and no active method here gets
// it back as active. Customers that have an active method are left alone.
func (e *Engine) RestoreMethods(ctx context.Context) (RestoreStats, error) {
	var st RestoreStats
	acc, err := e.PaymentAccountID(ctx)
	if err != nil {
		return st, err
	}
	if acc == 0 {
		return st, errors.New("charge: restore methods: no Splynx payment account for the add-on (set payment_account_id)")
	}
	all, err := e.sp.ListPaymentAccountData(ctx)
	if err != nil {
		return st, err
	}
	l, _ := e.layout()
	for _, pa := range all {
		if int64(pa.AccountID) != acc || pa.CustomerID <= 0 {
			continue
		}
		st.Accounts++
		cid := int64(pa.CustomerID)
		m := store.SavedMethodRow{CustomerID: cid, Token: getField(pa.Fields, l.token), PayerRef: getField(pa.Fields, l.payer),
			Kind: getField(pa.Fields, l.kind), Mask: getField(pa.Fields, l.mask), AccountType: getField(pa.Fields, l.accountType),
			AuthIP: getField(pa.Fields, fieldAuthIP), AuthText: getField(pa.Fields, fieldAuthText)}
		if m.PayerRef == "" {
			m.PayerRef = strconv.FormatInt(cid, 10)
		}
		if at, err := time.Parse(time.RFC3339, getField(pa.Fields, fieldAuthAt)); err == nil {
			m.AuthAcceptedAt = at
		}
		if mm, yy, ok := strings.Cut(getField(pa.Fields, l.expiry), "/"); ok {
			m.ExpMonth, _ = strconv.Atoi(mm)
			m.ExpYear, _ = strconv.Atoi(yy)
		}
		if m.Token == "" || (m.Kind != "card" && m.Kind != "bank") {
			st.Skipped++
			continue
		}
		if _, err := e.db.ActiveMethod(ctx, cid); err == nil {
			st.Kept++
			continue
		} else if !errors.Is(err, store.ErrNotFound) {
			return st, err
		}
		if _, err := e.db.SaveMethod(ctx, m, e.now()); err != nil {
			return st, err
		}
		st.Restored++
		e.log.Info("saved method restored from Splynx", zap.Int64("customer_id", cid), zap.String("mask", m.Mask),
			zap.Int64("payment_account", acc))
	}
	return st, nil
}
