// Package integrapaygw builds the IntegraPay client from the add-on's
// settings: the one builder that splynx-integrapay's main, the daemon's
// tests and splynx-chaos use. It is a package of its own so that only what
// imports it links IntegraPay's client (splynx-ippay does not).
package integrapaygw

import (
	"go.uber.org/zap"

	"github.com/splynx-pay/splynx-pay/gateways"
	"github.com/splynx-pay/splynx-pay/gateways/integrapay"
	"github.com/splynx-pay/splynx-pay/internal/clock"
	"github.com/splynx-pay/splynx-pay/internal/config"
	"github.com/splynx-pay/splynx-pay/internal/metrics"
)

// New is the IntegraPay client of settings s, logging to log, on clock clk
// (nil: the wall clock; a nil log logs nothing: the client's own defaults),
// its requests counted in the gateway metrics.
func New(s config.Settings, log *zap.Logger, clk clock.Clock) (gateways.Gateway, error) {
	return integrapay.New(integrapay.Config{
		AuthURL: s.IntegraPayAuthURL, APIURL: s.IntegraPayAPIURL,
		Username: s.IntegraPayUsername, Password: s.IntegraPayPassword, BusinessID: s.IntegraPayBusinessID,
	}, integrapay.WithLogger(log), integrapay.WithClock(clk),
		integrapay.WithHTTPClient(metrics.GatewayClient("integrapay")))
}
