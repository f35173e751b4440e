package daemon

import (
	"go.uber.org/zap"

	"github.com/splynx-pay/splynx-pay/gateways"
	"github.com/splynx-pay/splynx-pay/gateways/integrapay"
	"github.com/splynx-pay/splynx-pay/gateways/ippay"
	"github.com/splynx-pay/splynx-pay/internal/clock"
	"github.com/splynx-pay/splynx-pay/internal/config"
	"github.com/splynx-pay/splynx-pay/internal/metrics"
)

// IntegraPayGateway builds the IntegraPay client from the add-on settings.
func IntegraPayGateway(s config.Settings, log *zap.Logger) (gateways.Gateway, error) {
	return gatewayFor(config.IntegraPay, s, log, clock.Real{})
}

// IPpayGateway builds the IPpay client from the add-on settings.
func IPpayGateway(s config.Settings, log *zap.Logger) (gateways.Gateway, error) {
	return gatewayFor(config.IPpay, s, log, clock.Real{})
}

// gatewayFor builds either client; the demo passes the simulators' clock so
// debit dates and settlement agree with them.
func gatewayFor(k config.Kind, s config.Settings, log *zap.Logger, clk clock.Clock) (gateways.Gateway, error) {
	switch k {
	case config.IntegraPay:
		return integrapay.New(integrapay.Config{
			AuthURL: s.IntegraPayAuthURL, APIURL: s.IntegraPayAPIURL,
			Username: s.IntegraPayUsername, Password: s.IntegraPayPassword, BusinessID: s.IntegraPayBusinessID,
		}, integrapay.WithLogger(log), integrapay.WithClock(clk),
			integrapay.WithHTTPClient(metrics.GatewayClient("integrapay")))
	case config.IPpay:
		return ippay.New(ippay.Config{
			URL: s.IPpayURL, CardTerminalID: s.IPpayTerminalID, ACHTerminalID: s.IPpayACHTerminalID,
			SEC: s.IPpayACHSEC, SettleDays: s.IPpayACHSettleDays, ReturnsURL: s.IPpayReturnsURL,
		}, ippay.WithLogger(log), ippay.WithClock(clk),
			ippay.WithHTTPClient(metrics.GatewayClient("ippay")))
	}
	return nil, gateways.ErrNotConfigured
}
