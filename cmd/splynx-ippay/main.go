// Command splynx-ippay is the daemon of the Splynx IPpay payment add-on
// (cards and ACH, United States).
package main

import (
	"os"

	"go.uber.org/zap"

	"github.com/splynx-pay/splynx-pay/gateways"
	"github.com/splynx-pay/splynx-pay/gateways/ippay"
	"github.com/splynx-pay/splynx-pay/internal/addon"
	"github.com/splynx-pay/splynx-pay/internal/clock"
	"github.com/splynx-pay/splynx-pay/internal/config"
	"github.com/splynx-pay/splynx-pay/internal/daemon"
	"github.com/splynx-pay/splynx-pay/internal/metrics"
)

var ippayAddon = daemon.Addon{
	Identity:     addon.IPpay,
	Gateway:      gateway,
	ParseReturns: ippay.ParseReturnsCSV,
}

// gateway builds the IPpay client from the add-on settings. Only this
// binary links it.
func gateway(s config.Settings, log *zap.Logger, clk clock.Clock) (gateways.Gateway, error) {
	return ippay.New(ippay.Config{
		URL: s.IPpayURL, CardTerminalID: s.IPpayTerminalID, ACHTerminalID: s.IPpayACHTerminalID,
		SEC: s.IPpayACHSEC, SettleDays: s.IPpayACHSettleDays, ReturnsURL: s.IPpayReturnsURL,
	}, ippay.WithLogger(log), ippay.WithClock(clk),
		ippay.WithHTTPClient(metrics.GatewayClient("ippay")))
}

func main() { os.Exit(daemon.Main(ippayAddon, os.Args[1:])) }
