package gateways

import "strings"

// PayerInfo is a gateway's record of a payer, for gateways that keep payers
// (IntegraPay): staff pages show its status without linking the client.
type PayerInfo struct {
	Payer      Payer
	PayerID    string // the gateway's own id
	StatusCode string // "A", "C", "S-MRJ", ...
	Status     string // "ACTIVE", ...
}

// Active reports whether scheduled payments will be processed for the payer.
func (p PayerInfo) Active() bool { return strings.HasPrefix(strings.ToUpper(p.StatusCode), "A") }
