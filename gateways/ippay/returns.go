package ippay

// IPpay's XML API reports no ACH returns. They come from its reporting
// (ipreporting.com), whose API format is not public, so for now an admin
// downloads a CSV and the simulator serves the same shape. Everything that
// knows that format is in this file, so a real reporting API client can
// replace it without touching the rest of the package.

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/splynx-pay/splynx-pay/gateways"
	"github.com/splynx-pay/splynx-pay/internal/money"
)

// ErrReturnsFormat marks a returns file that cannot be read.
var ErrReturnsFormat = errors.New("ippay: returns report")

// ParseReturnsCSV reads an ACH returns report: a header row naming the
// columns TransactionID, ReturnCode, ReturnDate (YYYY-MM-DD) and optionally
// Amount (dollars, "12.34"), in any order; names are matched ignoring case,
// spaces and underscores. A UTF-8 BOM, CRLF line ends and blank lines are
// tolerated. Each row becomes a Declined change; Late stays false because
// only the engine knows whether it already treated the item as settled.
func ParseReturnsCSV(r io.Reader) ([]gateways.StatusChange, error) {
	data, err := io.ReadAll(io.LimitReader(r, 32<<20))
	if err != nil {
		return nil, fmt.Errorf("ippay: read returns report: %w", err)
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	cr := csv.NewReader(bytes.NewReader(data))
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if err == io.EOF {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%w: header: %s", ErrReturnsFormat, cleanText(err.Error()))
	}
	col := map[string]int{}
	for i, h := range header {
		key := strings.ToLower(strings.NewReplacer(" ", "", "_", "", "-", "").Replace(strings.TrimSpace(h)))
		switch key {
		case "transactionid", "txid", "transid":
			key = "transactionid"
		case "returncode", "reasoncode", "code":
			key = "returncode"
		case "returndate", "date":
			key = "returndate"
		case "amount", "returnamount":
			key = "amount"
		}
		if _, dup := col[key]; !dup {
			col[key] = i
		}
	}
	for _, need := range []string{"transactionid", "returncode", "returndate"} {
		if _, ok := col[need]; !ok {
			return nil, fmt.Errorf("%w: no %s column in header", ErrReturnsFormat, need)
		}
	}
	var out []gateways.StatusChange
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: line %d: %s", ErrReturnsFormat, line, cleanText(err.Error()))
		}
		get := func(k string) string {
			i, ok := col[k]
			if !ok || i >= len(rec) {
				return ""
			}
			return strings.TrimSpace(rec[i])
		}
		if strings.Join(rec, "") == "" {
			continue
		}
		txid := strings.ToUpper(get("transactionid"))
		code := strings.ToUpper(get("returncode"))
		if txid == "" || code == "" {
			return nil, fmt.Errorf("%w: line %d: missing transaction id or return code", ErrReturnsFormat, line)
		}
		if !nachaReturnCode(code) {
			// Not echoed: a shifted column could hold an account number.
			return nil, fmt.Errorf("%w: line %d: return code is not R and two letters or digits", ErrReturnsFormat, line)
		}
		at, err := time.Parse("2006-01-02", get("returndate"))
		if err != nil {
			return nil, fmt.Errorf("%w: line %d: return date %q is not YYYY-MM-DD", ErrReturnsFormat, line, cleanText(get("returndate")))
		}
		var amount int64
		if a := strings.TrimPrefix(get("amount"), "$"); a != "" {
			m, err := money.Parse(strings.ReplaceAll(a, ",", ""))
			if err != nil {
				return nil, fmt.Errorf("%w: line %d: amount %q: %w", ErrReturnsFormat, line, cleanText(a), err)
			}
			if m <= 0 {
				return nil, fmt.Errorf("%w: line %d: amount %s is not positive", ErrReturnsFormat, line, m)
			}
			amount = int64(m)
		}
		reason, retry := ReturnReason(code)
		o := gateways.Outcome{Status: gateways.Declined, GatewayID: txid, Amount: amount, Code: code,
			Reason: reason, Retryable: retry, Message: "ACH return " + code}
		if isTxID(txid) {
			// Our TransactionIDs are our references when those have the
			// standard shape (see TransactionID).
			o.Reference = txid
		}
		out = append(out, gateways.StatusChange{Outcome: o, At: at, AckID: "return:" + txid + ":" + code})
	}
	return out, nil
}

// nachaReturnCode reports whether code has the shape of a NACHA return
// code (R01 ... R99, R2A ...).
func nachaReturnCode(code string) bool {
	if len(code) != 3 || code[0] != 'R' {
		return false
	}
	for _, c := range code[1:] {
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// ReturnReason maps a NACHA return code. R01 (insufficient funds) and R09
// (uncollected funds) may clear on a later debit; the rest need the customer.
func ReturnReason(code string) (gateways.Reason, bool) {
	switch strings.ToUpper(code) {
	case "R01", "R09":
		return gateways.ReasonInsufficientFunds, true
	case "R02", "R16":
		return gateways.ReasonAccountClosed, false
	case "R03", "R04", "R13", "R20":
		return gateways.ReasonInvalidAccount, false
	case "R05", "R07", "R08", "R10", "R29", "R51":
		return gateways.ReasonAuthorityRevoked, false
	case "R14", "R15":
		return gateways.ReasonPayerDeceased, false
	}
	return gateways.ReasonOther, false
}

// Changes fetches the returns report at Config.ReturnsURL (the simulator's
// /returns.csv, or any URL serving the same CSV) and returns the rows not
// yet acknowledged. Without a ReturnsURL there is no source and no changes:
// returns then enter through ParseReturnsCSV on an uploaded file.
func (c *Client) Changes(ctx context.Context) ([]gateways.StatusChange, error) {
	if c.cfg.ReturnsURL == "" {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	resp, err := c.http.R().SetContext(ctx).SetHeader("Accept", "text/csv").Get(c.cfg.ReturnsURL)
	if err != nil {
		return nil, fmt.Errorf("ippay: fetch returns report: %s: %w", cleanText(err.Error()), transportErr(err))
	}
	if resp.StatusCode() != http.StatusOK {
		return nil, fmt.Errorf("ippay: fetch returns report: HTTP %d: %s", resp.StatusCode(), cleanText(string(resp.Body())))
	}
	all, err := ParseReturnsCSV(bytes.NewReader(resp.Body()))
	if err != nil {
		return nil, err
	}
	acks := c.ackStore()
	var out []gateways.StatusChange
	for _, ch := range all {
		done, err := acks.IsAcked(ctx, ackGateway, ch.AckID)
		if err != nil {
			return nil, fmt.Errorf("ippay: returns report: %w", err)
		}
		if !done {
			out = append(out, ch)
		}
	}
	c.log.Info("ippay returns report", zap.Int("rows", len(all)), zap.Int("new", len(out)))
	return out, nil
}

// ackGateway names IPpay's rows in the AckStore.
const ackGateway = "ippay"

// Ack records in the AckStore that a return was applied, so the report's
// row is not handed out again, after a restart either (with the engine's
// SQLite store). A crash between applying and acking hands it out once
// more, and the engine applies a return it already knows as a no-op.
func (c *Client) Ack(ctx context.Context, ch gateways.StatusChange) error {
	if ch.AckID == "" {
		return fmt.Errorf("ippay: ack: change has no AckID: %w", gateways.ErrInvalidDetails)
	}
	if err := c.ackStore().SaveAck(ctx, ackGateway, ch.AckID, c.clock.Now()); err != nil {
		return fmt.Errorf("ippay: ack %s: %w", ch.AckID, err)
	}
	return nil
}
