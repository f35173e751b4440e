package integrapay

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"go.uber.org/zap"

	"github.com/splynx-pay/splynx-pay/gateways"
)

// ackSep joins the transaction id and the status in an AckID. Neither
// contains it.
const ackSep = "|"

// Changes reads every unacknowledged status change from transactions/new,
// page by page. The same transaction comes back after an Ack when its status
// changes again (a late dishonour after settlement), with a new AckID.
func (c *Client) Changes(ctx context.Context) ([]gateways.StatusChange, error) {
	var out []gateways.StatusChange
	for page := 0; page < maxFeedPages; page++ {
		q := url.Values{"skip": {strconv.Itoa(page * feedPageSize)}, "take": {strconv.Itoa(feedPageSize)}}
		var raw rawBody
		if err := c.do(ctx, call{op: "read status changes", method: http.MethodGet, path: "transactions/new", query: q, idempotent: true}, &raw); err != nil {
			return nil, err
		}
		rows, err := decodeList[transaction](raw)
		if err != nil {
			return nil, fmt.Errorf("integrapay: read status changes (skip %d): %w", page*feedPageSize, ErrMalformed)
		}
		for _, t := range rows {
			if t.TransactionID == "" || t.StatusCode == "" {
				c.log.Warn("status change without id or status skipped", zap.String("reference", string(t.Reference)))
				continue
			}
			o, late := recordOutcome(t)
			ch := gateways.StatusChange{
				Outcome: o,
				Late:    late,
				At:      parseTime(string(t.Time)),
				AckID:   string(t.TransactionID) + ackSep + string(t.StatusCode),
			}
			c.log.Info("status change", zap.String("reference", o.Reference), zap.String("transaction_id", string(t.TransactionID)),
				zap.String("status_code", string(t.StatusCode)), zap.String("sub_status", string(t.SubStatusCode)), zap.Bool("late", late))
			out = append(out, ch)
		}
		if len(rows) < feedPageSize {
			return out, nil
		}
	}
	return nil, fmt.Errorf("integrapay: read status changes: more than %d pages", maxFeedPages)
}

// Ack acknowledges one change (POST transactions/new) so it is not returned
// again until the transaction's status changes.
func (c *Client) Ack(ctx context.Context, ch gateways.StatusChange) error {
	id, status, ok := strings.Cut(ch.AckID, ackSep)
	if !ok || id == "" || status == "" {
		return fmt.Errorf("integrapay: ack: %w: bad ack id %q", gateways.ErrInvalidDetails, ch.AckID)
	}
	body := struct {
		TransactionId string
		StatusCode    string
		Audit         audit
	}{id, status, c.audit("", "")}
	// Acknowledging the same status twice changes nothing, so this call may
	// be repeated after a transport error.
	if err := c.do(ctx, call{op: "acknowledge status change", method: http.MethodPost, path: "transactions/new", body: body, idempotent: true}, nil); err != nil {
		return err
	}
	c.log.Info("status change acknowledged", zap.String("reference", ch.Outcome.Reference), zap.String("transaction_id", id), zap.String("status_code", status))
	return nil
}
