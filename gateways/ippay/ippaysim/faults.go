package ippaysim

import (
	"time"

	"github.com/splynx-pay/splynx-pay/internal/simkit"
)

// Fault is injected into matching requests. It is IPpay's spelling of a
// simkit.Fault (see kit); Inject takes the shared vocabulary directly.
type Fault struct {
	// Types limits the fault to these TransactionTypes; empty = all.
	Types []string
	// Count is how many requests it hits; 0 = until cleared.
	Count int
	// Latency delays the reply, after the transaction was applied.
	Latency time.Duration
	// Status answers with this HTTP status instead, nothing applied.
	Status int
	// Drop closes the connection before anything is applied.
	Drop bool
	// LoseResponse applies the transaction and then closes the connection.
	LoseResponse bool
	// Malformed applies the transaction and answers with broken XML.
	Malformed bool
	// EchoRequest answers 200 with an ErrMsg that echoes the raw request,
	// card number included, as IPpay is known to do; with Status set, the
	// echo is a plain-text body with that status. Nothing is applied.
	EchoRequest bool
	// VoidAfter, with LoseResponse, Latency or Malformed, voids the item
	// right after applying it: IPpay says it "will likely automatically
	// void" a transaction whose answer hit a network error (spec §8).
	VoidAfter bool
}

// quirks are the IPpay-only parts of a fault, carried in simkit.Fault.Tag.
type quirks struct{ echo, voidAfter bool }

// kit says f in the shared vocabulary: Latency (after applying) is Hold,
// LoseResponse is DropAfter, Count is Times.
func (f Fault) kit() simkit.Fault {
	return simkit.Fault{Times: f.Count, Hold: f.Latency, Status: f.Status,
		Fail:      simkit.Always(f.Status != 0),
		Drop:      simkit.Always(f.Drop),
		DropAfter: simkit.Always(f.LoseResponse),
		Malformed: simkit.Always(f.Malformed),
		Tag:       quirks{echo: f.EchoRequest, voidAfter: f.VoidAfter}}
}

// SetFault adds a fault; faults are checked in the order added.
func (s *Sim) SetFault(f Fault) { s.faults.Add(simkit.OneOf(f.Types...), f.kit()) }

// Inject adds a fault in the shared vocabulary for the TransactionTypes
// given (none = all). Of the after-effects, DropAfter wins over Malformed;
// Hold comes first; FailAfter and Quirk do nothing here.
func (s *Sim) Inject(f simkit.Fault, types ...string) { s.faults.Add(simkit.OneOf(types...), f) }

// ClearFaults removes every fault.
func (s *Sim) ClearFaults() { s.faults.Clear() }
