package ippay

import (
	"bytes"
	"errors"
	"testing"

	"github.com/splynx-pay/splynx-pay/gateways"
)

// knownReturnsCodeLeak was true while ParseReturnsCSV put the return-code
// column into Outcome.Code and Message unscrubbed (an account or card number
// in a shifted column reached the attempt row and the log) and accepted a
// negative Amount. Found by this target (seeds seed_pan_in_code,
// seed_neg_amount); returns.go now rejects a code that is not R and two
// characters and an amount <= 0, and the target checks both again.
const knownReturnsCodeLeak = false

// FuzzParseReturnsCSV feeds arbitrary returns reports: no panic; either a
// format error or rows that are all declines naming a transaction; no text
// that can reach a log or page keeps a card- or account-like digit run or
// a control character. Seeds: testdata/fuzz/FuzzParseReturnsCSV.
func FuzzParseReturnsCSV(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		chs, err := ParseReturnsCSV(bytes.NewReader(data))
		if err != nil {
			if !errors.Is(err, ErrReturnsFormat) {
				checkSafe(t, "error", err.Error())
			}
			return
		}
		for _, ch := range chs {
			o := ch.Outcome
			if o.Status != gateways.Declined {
				t.Fatalf("return row with status %q", o.Status)
			}
			if o.GatewayID == "" && o.Reference == "" {
				t.Fatalf("return row names no transaction: %+v", o)
			}
			if knownReturnsCodeLeak {
				continue
			}
			if o.Amount < 0 {
				t.Fatalf("negative amount %d", o.Amount)
			}
			checkSafe(t, "Message", o.Message)
			checkSafe(t, "Code", o.Code)
		}
	})
}
