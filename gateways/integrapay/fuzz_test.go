package integrapay

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/splynx-pay/splynx-pay/gateways"
)

// cardLike is a run of 13 or more digits (spaces or dashes allowed between):
// what a card number looks like. None may reach an Outcome's message.
var cardLike = regexp.MustCompile(`\d(?:[ -]?\d){12,}`)

func checkOutcome(t *testing.T, o gateways.Outcome, body []byte) {
	t.Helper()
	switch o.Status {
	case gateways.Approved, gateways.Pending, gateways.Declined, gateways.Unknown:
	default:
		t.Fatalf("status %q from %q", o.Status, body)
	}
	if m := cardLike.FindString(o.Message); m != "" {
		t.Fatalf("message keeps card-like digits %q: %q", m, o.Message)
	}
	if o.Status == gateways.Unknown && o.Err == nil {
		t.Fatalf("unknown outcome without an error from %q", body)
	}
}

// FuzzStatusFeed feeds arbitrary bodies of transactions/new (and of the
// reference lookups, which share the transaction shape) to the decoder and
// the outcome mapping: no panic, a known status, no card-like digit run in
// a message, and an approved or settled record never without its status.
// Seeds: testdata/fuzz/FuzzStatusFeed.
func FuzzStatusFeed(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		rows, err := decodeList[transaction](body)
		if err != nil {
			return
		}
		for _, r := range rows {
			o, _ := recordOutcome(r)
			checkOutcome(t, o, body)
			if o.Status == gateways.Approved && !strings.EqualFold(strings.TrimSpace(string(r.StatusCode)), "S") {
				t.Fatalf("approved from status %q", r.StatusCode)
			}
		}
	})
}

// FuzzCardAnswer feeds arbitrary real-time card answers: an answer we
// cannot read is Unknown (to be looked up), never Approved or Declined by
// guess; an approval of another amount is flagged for review.
// Seeds: testdata/fuzz/FuzzCardAnswer.
func FuzzCardAnswer(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte, requested int64) {
		if requested <= 0 {
			requested = 1
		}
		var r cardPaymentResponse
		if json.Unmarshal(body, &r) != nil {
			return
		}
		o := cardOutcome("SPFUZZ", requested, r)
		checkOutcome(t, o, body)
		code := strings.ToUpper(string(r.StatusCode))
		if o.Status == gateways.Approved && code != "S" {
			t.Fatalf("approved from status %q", code)
		}
		if o.Status == gateways.Approved && o.Amount != requested && !o.Review {
			t.Fatalf("approved %d of %d without review", o.Amount, requested)
		}
		if !utf8.ValidString(o.Message) {
			t.Fatalf("message not UTF-8: %q", o.Message)
		}
	})
}

// FuzzAmount: the loose dollar amounts of answers are whole cents or an
// error, never a rounded float.
func FuzzAmount(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		var a amount
		if a.UnmarshalJSON(b) != nil || !a.set {
			return
		}
		back := dollars(a.cents)
		var again amount
		if err := again.UnmarshalJSON([]byte(back)); err != nil || again.cents != a.cents {
			t.Fatalf("%q → %d cents → %s → %d (%v)", b, a.cents, back, again.cents, err)
		}
	})
}
