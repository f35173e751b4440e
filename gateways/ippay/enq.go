package ippay

import (
	"fmt"
	"strings"
	"time"

	"github.com/splynx-pay/splynx-pay/gateways"
)

// enqOutcome reads an ENQ answer about one of our charges. The ENQ layout
// is not public (spec §3 [?]): it may echo the original answer, and IPpay
// says it may void a transaction on its side after a network error (§8).
// So an ENQ answer counts as money taken only when it reads as the plain
// original success, APPROVED for a SALE or CHECK ACCEPTED for a CHECK:
//   - a declined answer is a decline, as for the charge itself;
//   - an answer naming a void means nothing was taken: Declined, code
//     VOIDED, retryable (the document is still unpaid);
//   - an answer naming a refund, credit, reversal or return, or any other
//     text with a success code, stays Unknown: part or all of the money
//     may be back with the customer, and a person must look. The engine
//     only looks up charges whose outcome it never learnt, and it never
//     voids or refunds those, so no void of ours can be behind the text.
//
// The engine asks again later; it does not send a second charge.
func (c *Client) enqOutcome(kind gateways.MethodKind, ref, txid string, amount int64, r response) gateways.Outcome {
	o := c.outcome(kind, ref, txid, amount, r)
	if !r.ok() {
		return o
	}
	text := strings.ToUpper(strings.TrimSpace(r.ResponseText))
	want := "APPROVED"
	if kind == gateways.Bank {
		want = "CHECK ACCEPTED"
	}
	switch {
	case text == want:
		return o
	case strings.Contains(text, "VOID"):
		o.Status, o.SettlesBy = gateways.Declined, time.Time{}
		o.Code, o.Reason, o.Retryable = CodeVoided, gateways.ReasonOther, true
		o.Message = "voided at IPpay (ENQ: " + cleanText(r.ResponseText) + ")"
		return o
	}
	return unknown(ref, o.GatewayID, amount, fmt.Errorf("ippay: ENQ %s answers %s %q, not a plain %s: the money may have been given back; check it in IPpay's portal",
		txid, r.ActionCode, cleanText(r.ResponseText), want))
}

// CodeVoided is the Outcome.Code of a charge an ENQ reports as voided.
const CodeVoided = "VOIDED"
