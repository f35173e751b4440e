package charge

import (
	"errors"
	"fmt"

	"github.com/splynx-pay/splynx-pay/internal/money"
)

// Policy is the business side of the add-on's settings that the engine
// acts on: how it charges, retries, books fees and reflects refunds. It
// holds no credentials. The daemon maps it from the module settings in one
// place (internal/wire.ChargePolicy); the engine fills in nothing, so a
// Policy must pass Validate.
type Policy struct {
	Currency                 string // AUD | USD
	CustomerIdentifier       string // id | login: what identifies a payer at the gateway
	PaymentMethodCard        int64  // Splynx payment method id of card payments
	PaymentMethodBank        int64  // Splynx payment method id of bank debits
	AutoCharge               bool   // the nightly run charges (the daemon's job reads it)
	ChargeBlockedCustomers   bool
	ChargeDisabledCustomers  bool
	AutopayAttribute         string // customer attribute that turns autopay off
	RetryDays                []int  // days after a retryable decline to try again
	MaxAttempts              int    // most attempts per document
	ChargeConcurrency        int    // gateway calls in flight during a run
	GatewayRateLimit         int    // requests per second; 0 = no limit
	ServiceFeePercent        int64  // hundredths of a percent
	FeeVATPercent            int64  // hundredths of a percent
	FeeTransactionCategory   int64
	AddFeeToRequest          bool
	PaymentStatements        bool
	PaymentStatementGrouping string // month | day
	RefundMode               string // delete | negative
	DishonourFee             money.Amount
	ReviewUnknownAfterDays   int    // business days before an unknown outcome goes to review
	LateSettlement           string // balance | refund
	AutoChargeMaxAgeDays     int    // nightly run: invoices created within this many days; 0 = any age
	AutoChargeDueReached     bool   // nightly run: only invoices whose due date has come
	PaymentAccountID         int64  // Splynx payment account that shows saved methods; 0 = by title
}

// Validate says what is wrong with the policy, naming the setting, or nil.
func (p Policy) Validate() error {
	var errs []error
	bad := func(key string, v any, want string) {
		errs = append(errs, fmt.Errorf("%s %v: want %s", key, v, want))
	}
	oneOf := func(key, v string, allowed ...string) {
		for _, a := range allowed {
			if v == a {
				return
			}
		}
		bad(key, fmt.Sprintf("%q", v), fmt.Sprintf("one of %q", allowed))
	}
	oneOf("currency", p.Currency, "AUD", "USD")
	oneOf("customer_identifier", p.CustomerIdentifier, "id", "login")
	oneOf("payment_statement_grouping", p.PaymentStatementGrouping, "month", "day")
	oneOf("refund_mode", p.RefundMode, "delete", "negative")
	oneOf("late_settlement", p.LateSettlement, "balance", "refund")
	if p.AutopayAttribute == "" {
		bad("autopay_attribute", `""`, "an attribute name")
	}
	if len(p.RetryDays) == 0 {
		bad("retry_days", "[]", "at least one day")
	}
	for _, d := range p.RetryDays {
		if d < 1 {
			bad("retry_days", p.RetryDays, "days of 1 or more")
			break
		}
	}
	if p.MaxAttempts < 1 {
		bad("max_attempts", p.MaxAttempts, "1 or more")
	}
	if p.ChargeConcurrency < 1 {
		bad("charge_concurrency", p.ChargeConcurrency, "1 or more")
	}
	if p.GatewayRateLimit < 0 {
		bad("gateway_rate_limit", p.GatewayRateLimit, "0 (no limit) or more")
	}
	if p.ReviewUnknownAfterDays < 1 {
		bad("review_unknown_after_days", p.ReviewUnknownAfterDays, "1 or more")
	}
	if p.AutoChargeMaxAgeDays < 0 {
		bad("auto_charge_max_age_days", p.AutoChargeMaxAgeDays, "0 (any age) or more")
	}
	for _, f := range []struct {
		key string
		v   int64
	}{{"payment_method_card", p.PaymentMethodCard}, {"payment_method_bank", p.PaymentMethodBank},
		{"service_fee_percent", p.ServiceFeePercent}, {"fee_vat_percent", p.FeeVATPercent},
		{"fee_transaction_category", p.FeeTransactionCategory}, {"dishonour_fee", int64(p.DishonourFee)}} {
		if f.v < 0 {
			bad(f.key, f.v, "0 or more")
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("charge policy: %w", err)
	}
	return nil
}
