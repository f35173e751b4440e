// Command splynx-integrapay is the daemon of the Splynx IntegraPay payment
// add-on (BECS direct debit and cards, Australia).
package main

import (
	"os"

	"go.uber.org/zap"

	"github.com/splynx-pay/splynx-pay/gateways"
	"github.com/splynx-pay/splynx-pay/gateways/integrapay"
	"github.com/splynx-pay/splynx-pay/internal/addon"
	"github.com/splynx-pay/splynx-pay/internal/clock"
	"github.com/splynx-pay/splynx-pay/internal/config"
	"github.com/splynx-pay/splynx-pay/internal/daemon"
	"github.com/splynx-pay/splynx-pay/internal/metrics"
)

var integrapayAddon = daemon.Addon{
	Identity: addon.IntegraPay,
	Gateway:  gateway,
}

// gateway builds the IntegraPay client from the add-on settings. Only this
// binary links it.
func gateway(s config.Settings, log *zap.Logger, clk clock.Clock) (gateways.Gateway, error) {
	return integrapay.New(integrapay.Config{
		AuthURL: s.IntegraPayAuthURL, APIURL: s.IntegraPayAPIURL,
		Username: s.IntegraPayUsername, Password: s.IntegraPayPassword, BusinessID: s.IntegraPayBusinessID,
	}, integrapay.WithLogger(log), integrapay.WithClock(clk),
		integrapay.WithHTTPClient(metrics.GatewayClient("integrapay")))
}

func main() { os.Exit(daemon.Main(integrapayAddon, os.Args[1:])) }
