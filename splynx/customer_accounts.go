package splynx

import (
	"context"
	"net/http"
)

const pathPaymentAccountData = "admin/customers/customer-payment-account-data"

// ListPaymentAccountData returns the stored values of every customer's
// payment accounts (GET customer-payment-account-data), e.g. to rebuild
// saved payment methods after a lost database.
func (c *Client) ListPaymentAccountData(ctx context.Context) ([]PaymentAccount, error) {
	return getList[PaymentAccount](c, ctx, call{method: http.MethodGet, path: pathPaymentAccountData}, "payment account data")
}
