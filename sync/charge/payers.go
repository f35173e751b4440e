package charge

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"go.uber.org/zap"

	"github.com/splynx-pay/splynx-pay/gateways"
	"github.com/splynx-pay/splynx-pay/store"
)

// PayerUpserter is implemented by gateways that keep payer details
// (IntegraPay).
type PayerUpserter interface {
	UpsertPayer(ctx context.Context, p gateways.Payer) error
}

func payerHash(p gateways.Payer) string {
	h := sha256.Sum256([]byte(strings.Join([]string{p.GivenName, p.FamilyName, p.Email, p.Phone, p.Street, p.City,
		p.State, p.PostCode}, "\x1f")))
	return hex.EncodeToString(h[:8])
}

// PayerFromCustomer builds the gateway payer from a mirrored customer.
func PayerFromCustomer(c store.Customer, ref, country string) gateways.Payer {
	given, family := c.Name, ""
	if i := strings.LastIndex(strings.TrimSpace(c.Name), " "); i > 0 {
		given, family = strings.TrimSpace(c.Name[:i]), strings.TrimSpace(c.Name[i+1:])
	}
	street := strings.TrimSpace(strings.TrimSpace(c.Street1) + " " + strings.TrimSpace(c.Street2))
	email := c.Email
	if c.BillingEmail != "" {
		email = c.BillingEmail
	}
	return gateways.Payer{Reference: ref, CustomerID: c.ID, GivenName: given, FamilyName: family, Email: email,
		Phone: c.Phone, Street: street, City: c.City, PostCode: c.ZipCode, Country: country}
}

// SyncPayers pushes changed names, emails, phones and addresses of
// customers with an active saved method to gateways that keep payers.
// It returns how many payers were updated.
func (e *Engine) SyncPayers(ctx context.Context) (int, error) {
	up, ok := e.gw.(PayerUpserter)
	if !ok {
		return 0, nil
	}
	country := "AU"
	if e.set.Currency == "USD" {
		country = "US"
	}
	methods, err := e.db.ListMethods(ctx, 0, store.MethodActive)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, m := range methods {
		c, err := e.db.GetCustomer(ctx, m.CustomerID)
		if err != nil {
			continue // not mirrored (yet)
		}
		p := PayerFromCustomer(c, m.PayerRef, country)
		h := payerHash(p)
		if h == m.PayerHash {
			continue
		}
		// The first look only records the fingerprint: the payer was
		// created from these details when the method was saved.
		if m.PayerHash != "" {
			if err := up.UpsertPayer(ctx, p); err != nil {
				return n, fmt.Errorf("charge: update payer %s: %w", m.PayerRef, err)
			}
			n++
			e.log.Info("payer updated at the gateway", zap.Int64("customer_id", c.ID), zap.String("payer", m.PayerRef))
		}
		if err := e.db.SetPayerHash(ctx, m.ID, h, e.now()); err != nil {
			return n, err
		}
	}
	return n, nil
}
