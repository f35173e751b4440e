// Command splynx-ippay is the daemon of the Splynx IPpay payment add-on
// (cards and ACH, United States).
package main

import (
	"os"

	"github.com/splynx-pay/splynx-pay/gateways/ippay"
	"github.com/splynx-pay/splynx-pay/internal/addon"
	"github.com/splynx-pay/splynx-pay/internal/daemon"
	"github.com/splynx-pay/splynx-pay/internal/wire/ippaygw"
)

var ippayAddon = daemon.Addon{
	Identity:     addon.IPpay,
	Gateway:      ippaygw.New, // the only gateway this binary links
	ParseReturns: ippay.ParseReturnsCSV,
}

func main() { os.Exit(daemon.Main(ippayAddon, os.Args[1:])) }
