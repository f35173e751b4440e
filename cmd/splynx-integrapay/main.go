// Command splynx-integrapay is the daemon of the Splynx IntegraPay payment
// add-on (BECS direct debit and cards, Australia).
package main

import (
	"os"

	"github.com/splynx-pay/splynx-pay/internal/addon"
	"github.com/splynx-pay/splynx-pay/internal/daemon"
	"github.com/splynx-pay/splynx-pay/internal/wire/integrapaygw"
)

var integrapayAddon = daemon.Addon{
	Identity: addon.IntegraPay,
	Gateway:  integrapaygw.New, // the only gateway this binary links
}

func main() { os.Exit(daemon.Main(integrapayAddon, os.Args[1:])) }
