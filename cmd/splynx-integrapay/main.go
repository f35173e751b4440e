// Command splynx-integrapay is the daemon of the Splynx IntegraPay payment
// add-on (BECS direct debit and cards, Australia).
package main

import (
	"os"

	"github.com/splynx-pay/splynx-pay/internal/config"
	"github.com/splynx-pay/splynx-pay/internal/daemon"
)

var addon = daemon.Addon{
	Name:       "splynx-integrapay",
	Title:      "IntegraPay",
	Kind:       config.IntegraPay,
	Module:     "splynx_addon_integrapay",
	Prefix:     "/integrapay",
	ListenAddr: "127.0.0.1:8390",
	TimeZone:   "Australia/Sydney",
	Gateway:    daemon.IntegraPayGateway,
}

func main() { os.Exit(daemon.Main(addon, os.Args[1:])) }
