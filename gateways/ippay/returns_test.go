package ippay

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/splynx-pay/splynx-pay/gateways"
)

func TestParseReturnsCSV(t *testing.T) {
	type row struct {
		txid, code, date string
		amount           int64
		reason           gateways.Reason
		retry            bool
	}
	r01 := row{"SPRETURN0000000001", "R01", "2026-11-05", 1234, gateways.ReasonInsufficientFunds, true}
	tests := []struct {
		name string
		in   string
		want []row
		err  bool
	}{
		{"plain", "TransactionID,ReturnCode,ReturnDate,Amount\nSPRETURN0000000001,R01,2026-11-05,12.34\n", []row{r01}, false},
		{"bom crlf", "\xef\xbb\xbfTransactionID,ReturnCode,ReturnDate,Amount\r\nSPRETURN0000000001,R01,2026-11-05,12.34\r\n", []row{r01}, false},
		{"reordered, other spellings", "Amount,Return Date,return_code,Transaction ID\r\n$12.34,2026-11-05,r01,spreturn0000000001\r\n", []row{r01}, false},
		{"no amount column", "TransactionID,ReturnCode,ReturnDate\nSPRETURN0000000002,R02,2026-11-06\n",
			[]row{{"SPRETURN0000000002", "R02", "2026-11-06", 0, gateways.ReasonAccountClosed, false}}, false},
		{"blank lines, spaces, quotes", "TransactionID, ReturnCode, ReturnDate, Amount\n\n\"SPRETURN0000000003\", R10 ,2026-11-07,\"1,000.00\"\n,,,\n",
			[]row{{"SPRETURN0000000003", "R10", "2026-11-07", 100000, gateways.ReasonAuthorityRevoked, false}}, false},
		{"every code class", "TransactionID,ReturnCode,ReturnDate\nA,R09,2026-11-05\nB,R03,2026-11-05\nC,R04,2026-11-05\nD,R05,2026-11-05\nE,R07,2026-11-05\nF,R29,2026-11-05\nG,R14,2026-11-05\nH,R99,2026-11-05\n",
			[]row{
				{"A", "R09", "2026-11-05", 0, gateways.ReasonInsufficientFunds, true},
				{"B", "R03", "2026-11-05", 0, gateways.ReasonInvalidAccount, false},
				{"C", "R04", "2026-11-05", 0, gateways.ReasonInvalidAccount, false},
				{"D", "R05", "2026-11-05", 0, gateways.ReasonAuthorityRevoked, false},
				{"E", "R07", "2026-11-05", 0, gateways.ReasonAuthorityRevoked, false},
				{"F", "R29", "2026-11-05", 0, gateways.ReasonAuthorityRevoked, false},
				{"G", "R14", "2026-11-05", 0, gateways.ReasonPayerDeceased, false},
				{"H", "R99", "2026-11-05", 0, gateways.ReasonOther, false},
			}, false},
		{"header only", "TransactionID,ReturnCode,ReturnDate\r\n", nil, false},
		{"empty file", "", nil, false},
		{"missing column", "TransactionID,ReturnDate\nX,2026-11-05\n", nil, true},
		{"bad date", "TransactionID,ReturnCode,ReturnDate\nX,R01,05/11/2026\n", nil, true},
		{"bad amount", "TransactionID,ReturnCode,ReturnDate,Amount\nX,R01,2026-11-05,twelve\n", nil, true},
		{"missing code", "TransactionID,ReturnCode,ReturnDate\nX,,2026-11-05\n", nil, true},
		{"broken quoting", "TransactionID,ReturnCode,ReturnDate\n\"X,R01,2026-11-05\n", nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseReturnsCSV(strings.NewReader(tc.in))
			if tc.err {
				if !errors.Is(err, ErrReturnsFormat) {
					t.Fatalf("err = %v, want ErrReturnsFormat", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("%d changes, want %d: %+v", len(got), len(tc.want), got)
			}
			for i, w := range tc.want {
				g := got[i]
				o := g.Outcome
				at, _ := time.Parse("2006-01-02", w.date)
				if o.Status != gateways.Declined || o.GatewayID != w.txid || o.Code != w.code || o.Amount != w.amount ||
					o.Reason != w.reason || o.Retryable != w.retry || !g.At.Equal(at) || g.Late ||
					g.AckID != fmt.Sprintf("return:%s:%s", w.txid, w.code) {
					t.Errorf("row %d: %+v, want %+v", i, g, w)
				}
				if wantRef := w.txid; len(wantRef) == 18 && o.Reference != wantRef {
					t.Errorf("row %d: reference %q, want %q", i, o.Reference, wantRef)
				}
			}
		})
	}
}
