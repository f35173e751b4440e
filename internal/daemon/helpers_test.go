package daemon

import (
	"go.uber.org/zap"

	"github.com/splynx-pay/splynx-pay/gateways"
	"github.com/splynx-pay/splynx-pay/gateways/integrapay"
	"github.com/splynx-pay/splynx-pay/internal/clock"
	"github.com/splynx-pay/splynx-pay/internal/config"
)

func clockReal() clock.Clock { return clock.Real{} }
func nopLogger() *zap.Logger { return zap.NewNop() }

// integraPayGateway builds the IntegraPay client from the settings, as
// cmd/splynx-integrapay gives the daemon (the daemon itself links no
// gateway client).
func integraPayGateway(s config.Settings, log *zap.Logger, clk clock.Clock) (gateways.Gateway, error) {
	return integrapay.New(integrapay.Config{
		AuthURL: s.IntegraPayAuthURL, APIURL: s.IntegraPayAPIURL,
		Username: s.IntegraPayUsername, Password: s.IntegraPayPassword, BusinessID: s.IntegraPayBusinessID,
	}, integrapay.WithLogger(log), integrapay.WithClock(clk))
}
