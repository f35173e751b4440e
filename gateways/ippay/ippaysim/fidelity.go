package ippaysim

import (
	"fmt"
	"strings"
)

// Fidelity holds the behaviours that public IPpay clients, run against this
// simulator, showed to differ from what it first served (issue 17). The zero
// value is what those clients observed on IPpay's test gateway; each field
// brings back the earlier guess, for tests that need it.
type Fidelity struct {
	// SplitTerminals makes card terminals refuse the ACH types with 996,
	// as if the merchant had separate card and ACH terminals. By default a
	// card terminal takes ACH too: BOP 0.10's t/check.t sends CHECK to the
	// card test terminal and gets CHECK ACCEPTED; OMNI and Splynx's own
	// IPpay add-on have one terminal setting.
	SplitTerminals bool
	// VoidACH accepts VOIDACH before the ACH cut-off. By default it is
	// refused: BOP 0.10 comments its VOIDACH test out quoting the gateway,
	// "VOIDACH transactions are no longer supported". The ActionCode of that
	// refusal is not public; the simulator answers 012 with the quoted text.
	VoidACH bool
	// LegacyInvalidCard answers a bad card number with the old JetPay
	// gateway's 912 "INVALID CARD NUMBER" instead of the current 900
	// "Invalid card number." (BOP 0.10 t/card.t notes both).
	LegacyInvalidCard bool
	// InvalidCards are numbers that pass the Luhn check but that the
	// gateway refuses as invalid anyway (an unknown BIN, say), so a client
	// that checks Luhn itself can still meet the invalid-card answer.
	InvalidCards []string
	// EnqReplaysOriginal makes ENQ replay the original answer even after
	// the item was voided, refunded or returned (the simulator's first
	// guess). By default ENQ reports the item's current state in
	// ResponseText, keeping the original ActionCode and Approval; the real
	// ENQ layout is not public (spec §3, [?]).
	EnqReplaysOriginal bool
}

// terminalTakes reports whether a terminal of one kind accepts a request
// of the other: ACH terminals take ACH only; card terminals take cards,
// and ACH unless the terminals are split.
func (s *Sim) terminalTakes(achTerminal, achType bool) bool {
	if achTerminal {
		return achType
	}
	return !achType || !s.opts.Fidelity.SplitTerminals
}

// assignID is the TransactionID of a TOKENIZE or PING that may have been
// sent without one: the gateway assigns one (spec §2.2, OCA, AGR). Its own
// counter keeps tokens and approval codes as they were.
func (s *Sim) assignID(txid string) string {
	if txid != "" {
		return txid
	}
	s.assigned++
	return fmt.Sprintf("SIMT%014d", s.assigned)
}

// voidACHWithdrawn is the answer to VOIDACH when the gateway no longer
// supports it.
func voidACHWithdrawn(txid string) reply {
	return reply{TransactionID: txid, ActionCode: "012", ResponseText: "INVALID TRANSACTION",
		ErrMsg: "VOIDACH transactions are no longer supported. Please contact support@ippay.com for questions."}
}

// invalidCard is the answer to a card number the gateway will not take.
func (s *Sim) invalidCard() reply {
	if s.opts.Fidelity.LegacyInvalidCard {
		return reply{ActionCode: "912", ResponseText: "INVALID CARD NUMBER"}
	}
	return reply{ActionCode: "900", ResponseText: "Invalid card number."}
}

// enqReply is ENQ's answer for an item: the original answer, with
// ResponseText saying what became of the item since (voided, refunded,
// returned), so an enquiry never reads as a plain approval after a void.
func (s *Sim) enqReply(t *txn) reply {
	r := t.resp
	if s.opts.Fidelity.EnqReplaysOriginal || !t.approved {
		return r
	}
	switch {
	case t.voided:
		r.ResponseText = "VOIDED"
	case t.returnCode != "":
		r.ResponseText = "RETURNED " + t.returnCode
	case t.refunded >= t.amount:
		r.ResponseText = "REFUNDED"
	case t.refunded > 0:
		r.ResponseText = "PARTIALLY REFUNDED"
	}
	return r
}

// enqUnknown answers an ENQ for a TransactionID the gateway never received.
// No public source shows that answer (specs/ippay.md §3: the ENQ layout is
// [?]; 025 is confirmed only for CAPT of an unknown id). With
// Options.Inferred it is our guess, 025 TRANSACTION NOT FOUND; by default
// the reply carries no ActionCode at all, so nothing can read a confirmed
// "never received" into it.
func (s *Sim) enqUnknown(txid string) reply {
	if s.opts.Inferred {
		return reply{TransactionID: txid, ActionCode: "025", ResponseText: "TRANSACTION NOT FOUND"}
	}
	return reply{TransactionID: txid, ErrMsg: "ENQ of an unknown TransactionID: the real answer is not public"}
}

// autoVoid voids an item just applied, as IPpay may do on its side when
// its answer met a network error. A declined or unknown item is left alone.
func (s *Sim) autoVoid(txid string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.txns[strings.ToUpper(txid)]
	if !ok || !t.approved || t.voided {
		return
	}
	t.voided = true
	s.ledger = append(s.ledger, &entry{Entry: Entry{TransactionID: t.id, Type: "AUTOVOID", TerminalID: t.terminal,
		Amount: t.amount, ActionCode: "000", ResponseText: "VOIDED", Token: t.token, At: s.clock.Now()}})
}
