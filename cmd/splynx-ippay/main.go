// Command splynx-ippay is the daemon of the Splynx IPpay payment add-on
// (cards and ACH, United States).
package main

import (
	"os"

	"github.com/splynx-pay/splynx-pay/internal/config"
	"github.com/splynx-pay/splynx-pay/internal/daemon"
)

var addon = daemon.Addon{
	Name:       "splynx-ippay",
	Title:      "IPpay",
	Kind:       config.IPpay,
	Module:     "splynx_ippay_addon",
	Prefix:     "/ippay",
	ListenAddr: "127.0.0.1:8391",
	TimeZone:   "America/New_York",
	Gateway:    daemon.IPpayGateway,
}

func main() { os.Exit(daemon.Main(addon, os.Args[1:])) }
