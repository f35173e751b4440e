// Package ippaygw builds the IPpay client from the add-on's settings: the
// one builder that splynx-ippay's main and splynx-chaos use. It is a
// package of its own so that only what imports it links IPpay's client
// (splynx-integrapay does not).
package ippaygw

import (
	"go.uber.org/zap"

	"github.com/splynx-pay/splynx-pay/gateways"
	"github.com/splynx-pay/splynx-pay/gateways/ippay"
	"github.com/splynx-pay/splynx-pay/internal/clock"
	"github.com/splynx-pay/splynx-pay/internal/config"
	"github.com/splynx-pay/splynx-pay/internal/metrics"
)

// New is the IPpay client of settings s, logging to log, on clock clk
// (nil: the wall clock; a nil log logs nothing: the client's own defaults),
// its requests counted in the gateway metrics.
func New(s config.Settings, log *zap.Logger, clk clock.Clock) (gateways.Gateway, error) {
	return ippay.New(ippay.Config{
		URL: s.IPpayURL, CardTerminalID: s.IPpayTerminalID, ACHTerminalID: s.IPpayACHTerminalID,
		SEC: s.IPpayACHSEC, SettleDays: s.IPpayACHSettleDays, ReturnsURL: s.IPpayReturnsURL,
	}, ippay.WithLogger(log), ippay.WithClock(clk),
		ippay.WithHTTPClient(metrics.GatewayClient("ippay")))
}
