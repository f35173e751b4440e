// Package addon defines the two add-ons' identities once: package and
// binary name, title, settings kind, Splynx module, URL prefix, listen
// address (port) and default time zone. cmd/splynx-integrapay and
// cmd/splynx-ippay run with them; the demo and tests take them from here.
//
// Outside Go, debian/rules (man pages), deploy/ (nginx, env files) and the
// Splynx simulator's seed repeat some of these values; TestIdentityAgrees
// checks they match.
package addon

import "github.com/splynx-pay/splynx-pay/internal/config"

// Identity is what names one add-on.
type Identity struct {
	Name   string       // Debian package and binary: "splynx-integrapay"
	Title  string       // "IntegraPay"
	Kind   config.Addon // which add-on's settings: config.IntegraPay
	Module string       // Splynx module: "splynx_addon_integrapay"
	Prefix string       // URL prefix on the Splynx host: "/integrapay"
	// ListenAddr is where the daemon listens for nginx by default.
	ListenAddr string // "127.0.0.1:8390"
	// TimeZone is the default time zone of schedules and business days.
	TimeZone string // "Australia/Sydney"
}

// The two add-ons.
var (
	IntegraPay = Identity{
		Name:       "splynx-integrapay",
		Title:      "IntegraPay",
		Kind:       config.IntegraPay,
		Module:     "splynx_addon_integrapay",
		Prefix:     "/integrapay",
		ListenAddr: "127.0.0.1:8390",
		TimeZone:   "Australia/Sydney",
	}
	IPpay = Identity{
		Name:       "splynx-ippay",
		Title:      "IPpay",
		Kind:       config.IPpay,
		Module:     "splynx_ippay_addon",
		Prefix:     "/ippay",
		ListenAddr: "127.0.0.1:8391",
		TimeZone:   "America/New_York",
	}
)

// All are both add-ons.
func All() []Identity { return []Identity{IntegraPay, IPpay} }

// ByKind is the add-on whose settings kind is k.
func ByKind(k config.Addon) (Identity, bool) {
	for _, a := range All() {
		if a.Kind == k {
			return a, true
		}
	}
	return Identity{}, false
}

// Defaults are the add-on's bootstrap defaults.
func (a Identity) Defaults() config.AddonDefaults {
	return config.AddonDefaults{Package: a.Name, ListenAddr: a.ListenAddr, TimeZone: a.TimeZone}
}
