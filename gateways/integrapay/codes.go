package integrapay

import (
	"strings"

	"github.com/splynx-pay/splynx-pay/gateways"
)

// RejectionReason maps an IntegraPay sub-status (R-code) to a normalized
// reason and whether a later attempt with a new reference can succeed.
//
// Retryable are the codes that describe the moment rather than the account:
// insufficient funds, a generic decline, limits, a technical failure. The
// codes that describe the account or the payer's wishes (invalid or closed
// account, revoked authority, deceased, expired or stolen card, claims and
// chargebacks) need a person before the next attempt.
func RejectionReason(code string) (gateways.Reason, bool) {
	switch strings.ToUpper(strings.TrimSpace(code)) {
	case "R1":
		return gateways.ReasonInsufficientFunds, true
	case "R2", "R9":
		return gateways.ReasonInvalidAccount, false
	case "R3":
		return gateways.ReasonInvalidCard, false
	case "R4":
		return gateways.ReasonExpiredCard, false
	case "R5":
		// "Invalid transaction": the sandbox's technical-failure trigger
		// (.96) answers with it, and nothing about the account is wrong.
		return gateways.ReasonTechnical, true
	case "R6":
		return gateways.ReasonDoNotHonor, true
	case "R7":
		return gateways.ReasonAuthorityRevoked, false
	case "R8":
		return gateways.ReasonPayerDeceased, false
	case "R10":
		return gateways.ReasonAccountClosed, false
	case "R11":
		return gateways.ReasonInvalidRequest, false
	case "R12", "R13":
		return gateways.ReasonChargeback, false
	case "R14":
		return gateways.ReasonLostOrStolen, false
	case "R15":
		return gateways.ReasonLimitExceeded, true
	case "R17":
		// Payer inactive at debit time: retrying before someone
		// reactivates the payer (saves the method again) fails the same
		// way, so the reason is about the method.
		return gateways.ReasonPayerInactive, false
	case "R18", "R20":
		return gateways.ReasonFraud, false
	case "R23":
		return gateways.ReasonTechnical, true
	case "R16", "R19", "R21", "R22":
		return gateways.ReasonOther, false
	}
	return gateways.ReasonOther, false
}

// statusOutcome maps a stored transaction's status (the vocabulary of the
// feed and lookups: P C S R N L LS, plus F and V from real-time answers) to
// a gateways status. late reports L/LS, dishonours after settlement.
func statusOutcome(status, sub string) (st gateways.Status, reason gateways.Reason, retryable, late bool) {
	switch strings.ToUpper(strings.TrimSpace(status)) {
	case "S":
		return gateways.Approved, gateways.ReasonNone, false, false
	case "P", "C", "N":
		return gateways.Pending, gateways.ReasonNone, false, false
	case "R", "F":
		if strings.TrimSpace(sub) == "" {
			return gateways.Declined, gateways.ReasonOther, false, false
		}
		r, retry := RejectionReason(sub)
		return gateways.Declined, r, retry, false
	case "L", "LS":
		r, _ := RejectionReason(sub)
		if strings.TrimSpace(sub) == "" {
			r = gateways.ReasonChargeback
		}
		// A late dishonour is never retried automatically: the money was
		// taken back by the payer's bank, a person decides what follows.
		return gateways.Declined, r, false, true
	case "V":
		return gateways.Declined, gateways.ReasonOther, false, false
	}
	return gateways.Unknown, gateways.ReasonNone, false, false
}

// errorCodeOutcome maps an errorCode answer to a charge that the gateway
// refused outright (nothing applied) to a decline.
func errorCodeOutcome(code string) (gateways.Reason, bool) {
	switch code {
	case "InvalidPayer", "InvalidPaymentMethod":
		return gateways.ReasonInvalidAccount, false
	case "LimitsExceeded":
		return gateways.ReasonLimitExceeded, true
	case "ThreeDSecureException":
		return gateways.ReasonOther, false
	}
	return gateways.ReasonInvalidRequest, false
}
