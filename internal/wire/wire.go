// Package wire maps the add-on's settings onto what the packages below the
// daemon take, so internal/daemon, internal/demo and the web pages build
// them one way and those packages never see the whole settings (passwords
// included).
package wire

import (
	"slices"

	"github.com/splynx-pay/splynx-pay/internal/config"
	"github.com/splynx-pay/splynx-pay/sync/charge"
)

// ChargePolicy maps the module settings onto the charge engine's policy and
// validates it. The defaults are the settings table's (config.Specs); the
// engine adds none of its own.
func ChargePolicy(s config.Settings) (charge.Policy, error) {
	p := charge.Policy{
		Currency:                 s.Currency,
		CustomerIdentifier:       s.CustomerIdentifier,
		PaymentMethodCard:        s.PaymentMethodCard,
		PaymentMethodBank:        s.PaymentMethodBank,
		AutoCharge:               s.AutoCharge,
		ChargeBlockedCustomers:   s.ChargeBlockedCustomers,
		ChargeDisabledCustomers:  s.ChargeDisabledCustomers,
		AutopayAttribute:         s.AutopayAttribute,
		RetryDays:                slices.Clone(s.RetryDays),
		MaxAttempts:              s.MaxAttempts,
		ChargeConcurrency:        s.ChargeConcurrency,
		GatewayRateLimit:         s.GatewayRateLimit,
		ServiceFeePercent:        s.ServiceFeePercent,
		FeeVATPercent:            s.FeeVATPercent,
		FeeTransactionCategory:   s.FeeTransactionCategory,
		AddFeeToRequest:          s.AddFeeToRequest,
		PaymentStatements:        s.PaymentStatements,
		PaymentStatementGrouping: s.PaymentStatementGrouping,
		RefundMode:               s.RefundMode,
		DishonourFee:             s.DishonourFee,
		ReviewUnknownAfterDays:   s.ReviewUnknownAfterDays,
		LateSettlement:           s.LateSettlement,
		AutoChargeMaxAgeDays:     s.AutoChargeMaxAgeDays,
		AutoChargeDueReached:     s.AutoChargeDueReached,
		PaymentAccountID:         s.PaymentAccountID,
	}
	if err := p.Validate(); err != nil {
		return charge.Policy{}, err
	}
	return p, nil
}
