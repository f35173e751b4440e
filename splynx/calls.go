package splynx

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"strconv"
	"strings"
)

// DefaultPageSize is the page size of List* calls when Search.Limit is 0.
const DefaultPageSize = 500

// Endpoint paths, relative to /api/2.0/.
const (
	pathCustomers        = "admin/customers/customer"
	pathCustomerBilling  = "admin/customers/customer-billing"
	pathPaymentAccounts  = "admin/customers/customer-payment-accounts"
	pathInvoices         = "admin/finance/invoices"
	pathProformas        = "admin/finance/proforma-invoices"
	pathPayments         = "admin/finance/payments"
	pathPaymentMethods   = "admin/finance/payment-methods"
	pathInvoiceRelations = "admin/finance/invoice-relations"
	pathTransactions     = "admin/finance/transactions"
	pathBankStatements   = "admin/finance/bank-statements"
	pathBankRecords      = "admin/finance/bank-statements-records"
	pathPartners         = "admin/administration/partners"
	pathLocations        = "admin/administration/locations"
	pathAdditionalFields = "admin/config/additional-fields"
	pathModuleConfig     = "admin/config/config"
	pathModules          = "admin/config/modules"
	pathCheck            = "admin/api/check"
)

func idPath(base string, id int64) string { return base + "/" + strconv.FormatInt(id, 10) }

// page streams every record matching s from a list endpoint. Without an
// explicit order it sorts by id so that offsets stay stable between pages.
//
// When page k is full, page k+1 is requested before page k's records are
// handed out, so the round trip overlaps decoding and the consumer's own
// work (a sync writing rows, say). At most two pages of Search.Limit (or
// DefaultPageSize) records are in memory, however long the listing.
func page[T any](c *Client, ctx context.Context, path, what string, s Search) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		if s.Limit <= 0 {
			s.Limit = DefaultPageSize
		}
		if len(s.Order) == 0 {
			s.Order = []OrderBy{Asc("id")}
		}
		fail := func(offset int, err error) {
			yield(zero, fmt.Errorf("splynx: list %s (offset %d): %w", what, offset, err))
		}
		bufs := [2]*bytes.Buffer{new(bytes.Buffer), new(bytes.Buffer)}
		var prevFirst []byte
		err := c.readPage(ctx, path, s, bufs[0])
		for k := 0; ; k++ {
			if err != nil {
				fail(s.Offset, err)
				return
			}
			cur, spare := bufs[k%2], bufs[(k+1)%2]
			// A server that ignored offset would hand out page one forever.
			first := firstRecord(cur.Bytes())
			if k > 0 && first != nil && bytes.Equal(first, prevFirst) {
				fail(s.Offset, errors.New("the server sent the same page again (does it ignore offset?)"))
				return
			}
			prevFirst = append(prevFirst[:0], first...)
			var (
				prefetched chan error
				cancel     context.CancelFunc = func() {}
			)
			if countRecords(cur.Bytes()) == s.Limit {
				next := s
				next.Offset += s.Limit
				var pctx context.Context
				pctx, cancel = context.WithCancel(ctx)
				prefetched = make(chan error, 1)
				go func() { prefetched <- c.readPage(pctx, path, next, spare) }()
			}
			n, stop, derr := decodePage(cur.Bytes(), yield)
			if stop || derr != nil || n < s.Limit {
				cancel()
				if prefetched != nil {
					<-prefetched // never leave a request running behind the caller
				}
				if derr != nil && !stop {
					fail(s.Offset, derr)
				}
				return
			}
			s.Offset += n
			if prefetched != nil {
				err = <-prefetched
			} else {
				err = c.readPage(ctx, path, s, spare)
			}
			cancel()
		}
	}
}

// maxPage caps one page of a listing held in memory.
const maxPage = 256 << 20

// readPage fetches one page of a listing into buf.
func (c *Client) readPage(ctx context.Context, path string, s Search, buf *bytes.Buffer) error {
	resp, err := c.do(ctx, call{method: http.MethodGet, path: path, query: s.Encode()})
	if err != nil {
		return err
	}
	defer resp.body.Close()
	buf.Reset()
	if _, err := buf.ReadFrom(io.LimitReader(resp.body, maxPage+1)); err != nil {
		return fmt.Errorf("reading answer: %w", c.transportError(err))
	}
	if buf.Len() > maxPage {
		return fmt.Errorf("page larger than %d bytes", maxPage)
	}
	return nil
}

// decodePage yields the records of one page. stop is true when the consumer
// ended the iteration.
func decodePage[T any](page []byte, yield func(T, error) bool) (n int, stop bool, err error) {
	n, stop, keyed, err := scanPage(page, yield)
	if keyed {
		return decodeKeyedPage(page, yield)
	}
	return n, stop, err
}

// decodeKeyedPage reads a list that PHP rendered as an object keyed by
// index ({"0":{..},"1":{..}}).
func decodeKeyedPage[T any](page []byte, yield func(T, error) bool) (n int, stop bool, err error) {
	var m list[json.RawMessage]
	if err := json.Unmarshal(page, &m); err != nil {
		return 0, false, fmt.Errorf("decoding answer: %w", err)
	}
	for _, raw := range m {
		var v T
		if err := decodeRecord(raw, &v); err != nil {
			return n, false, fmt.Errorf("decoding record %d: %w", n, err)
		}
		n++
		if !yield(v, nil) {
			return n, true, nil
		}
	}
	return n, false, nil
}

// count asks for the number of records matching s with HEAD; Splynx puts it
// in X-total-count and answers 200 or 204.
func (c *Client) count(ctx context.Context, path, what string, s Search) (int, error) {
	s.Limit, s.Offset, s.Order = 0, 0, nil
	resp, err := c.do(ctx, call{method: http.MethodHead, path: path, query: s.Encode()})
	if err != nil {
		return 0, fmt.Errorf("splynx: count %s: %w", what, err)
	}
	resp.body.Close()
	h := strings.TrimSpace(resp.header.Get("X-Total-Count"))
	if h == "" {
		return 0, fmt.Errorf("splynx: count %s: answer %d has no X-total-count header", what, resp.status)
	}
	n, err := strconv.Atoi(h)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("splynx: count %s: bad X-total-count %q", what, h)
	}
	return n, nil
}

func getRecord[T any](c *Client, ctx context.Context, path, what string) (T, error) {
	var v T
	if err := c.getJSON(ctx, call{method: http.MethodGet, path: path}, &v); err != nil {
		return v, fmt.Errorf("splynx: get %s: %w", what, err)
	}
	return v, nil
}

func getList[T any](c *Client, ctx context.Context, cl call, what string) ([]T, error) {
	var v list[T]
	if err := c.getJSON(ctx, cl, &v); err != nil {
		return nil, fmt.Errorf("splynx: list %s: %w", what, err)
	}
	return v, nil
}

// create POSTs body and returns the new record's id from {"id": N}. It is
// never retried: a lost answer must be resolved by looking, not by posting
// again.
func (c *Client) create(ctx context.Context, path, what string, body any) (int64, error) {
	var out struct {
		ID ID `json:"id"`
	}
	if err := c.getJSON(ctx, call{method: http.MethodPost, path: path, body: body}, &out); err != nil {
		return 0, fmt.Errorf("splynx: create %s: %w", what, err)
	}
	return int64(out.ID), nil
}

func (c *Client) send2xx(ctx context.Context, cl call, what string) error {
	resp, err := c.do(ctx, cl)
	if err != nil {
		return fmt.Errorf("splynx: %s: %w", what, err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.body, maxBody))
	return resp.body.Close()
}

// Check calls admin/api/check, the health check: it proves the URL is a
// Splynx API and, in token mode, that the key and secret work.
func (c *Client) Check(ctx context.Context) error {
	var out struct {
		Status  text `json:"status"`
		Message text `json:"message"`
	}
	if err := c.getJSON(ctx, call{method: http.MethodGet, path: pathCheck}, &out); err != nil {
		return fmt.Errorf("splynx: health check: %w", err)
	}
	if out.Status != "" && !strings.EqualFold(string(out.Status), "ok") {
		return fmt.Errorf("splynx: health check: status %q: %s", string(out.Status), string(out.Message))
	}
	return nil
}
