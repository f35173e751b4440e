package ippay

import (
	"crypto/sha256"
	"encoding/base32"
	"encoding/binary"
	"strconv"

	"github.com/splynx-pay/splynx-pay/gateways"
)

// TransactionID is the IPpay TransactionID for one of our charge references:
// 18 uppercase alphanumerics, the historical fixed width every client sends.
// The charge engine's references already have that shape ("SP" + 16 base32)
// and are used as they are, so a TransactionID in a returns report or in
// IPpay's portal reads as our reference. Anything else is hashed, so the
// same reference always gives the same ID: that is what lets ENQ, VOID,
// CAPT, a linked CREDIT and VOIDACH find the original transaction.
func TransactionID(reference string) string {
	if isTxID(reference) {
		return reference
	}
	sum := sha256.Sum256([]byte("ippay-txid:" + reference))
	return base32.StdEncoding.EncodeToString(sum[:])[:18]
}

func isTxID(s string) bool {
	if len(s) != 18 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// checkNumber is the CheckNumber of the ACH item for a reference. IPpay
// requires one on CHECK and on the VOIDACH/REVERSAL that follow it; deriving
// it from the reference means a follow-up repeats it without our storing it.
// Six digits, never starting with 0.
func checkNumber(reference string) string {
	sum := sha256.Sum256([]byte("ippay-check:" + reference))
	n := binary.BigEndian.Uint32(sum[:4])%900000 + 100000
	return strconv.FormatUint(uint64(n), 10)
}

// scrub masks card, account and routing numbers in s. ScrubDigits is applied
// until nothing changes: one pass can leave a run of digits next to a
// masked card number's last four.
func scrub(s string) string {
	for range 4 {
		t := gateways.ScrubDigits(s)
		if t == s {
			return t
		}
		s = t
	}
	return s
}
