package splynx

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
)

// MaxIDsPerSearch caps the ids of one id search (InvoicesByID,
// ProformasByID). Splynx reads the search from the query string, so the
// whole list is in the request line, and the web servers Splynx runs
// behind refuse a request line over 8 KiB by default (nginx's
// large_client_header_buffers 4 8k; Apache's LimitRequestLine 8190). One id
// costs up to 52 bytes there ("main_attributes%5Bid%5D%5B1%5D%5B99%5D=" and
// ten digits and "&"), so 100 ids are at most about 5.3 KB with the path,
// order and limit: room left for a proxy's prefix, and far below PHP's
// max_input_vars (1000), past which PHP would silently drop ids.
// TestIDSearchFitsTheRequestLine holds it to that.
const MaxIDsPerSearch = 100

// InvoicesByID reads the invoices with these ids (at most MaxIDsPerSearch)
// in one list request, main_attributes[id] IN (...). An id missing from the
// answer is NOT proof the invoice is gone: ask GetInvoice, whose 404 is.
// An answer holding an invoice that was not asked for, or one twice, is an
// error: that Splynx did not apply the search.
func (c *Client) InvoicesByID(ctx context.Context, ids []int64) ([]Invoice, error) {
	return byID(c, ctx, pathInvoices, "invoices", ids, func(v *Invoice) int64 { return int64(v.ID) })
}

// ProformasByID is InvoicesByID for proforma invoices.
func (c *Client) ProformasByID(ctx context.Context, ids []int64) ([]Proforma, error) {
	return byID(c, ctx, pathProformas, "proforma invoices", ids, func(v *Proforma) int64 { return int64(v.ID) })
}

// idSearch is the search byID sends for ids: IN on id, ordered by id, no
// more records than distinct ids.
func idSearch(ids []int64) Search {
	seen := make(map[int64]bool, len(ids))
	vs := make([]string, 0, len(ids))
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			vs = append(vs, strconv.FormatInt(id, 10))
		}
	}
	return Search{Main: []Cond{In("id", vs...)}, Order: []OrderBy{Asc("id")}, Limit: len(vs)}
}

func byID[T any](c *Client, ctx context.Context, path, what string, ids []int64, idOf func(*T) int64) ([]T, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	fail := func(err error) ([]T, error) {
		return nil, fmt.Errorf("splynx: list %s by id: %w", what, err)
	}
	if len(ids) > MaxIDsPerSearch {
		return fail(fmt.Errorf("%d ids, at most %d per request", len(ids), MaxIDsPerSearch))
	}
	asked := make(map[int64]bool, len(ids))
	for _, id := range ids {
		asked[id] = false
	}
	var buf bytes.Buffer
	if err := c.readPage(ctx, path, idSearch(ids), &buf); err != nil {
		return fail(err)
	}
	out := make([]T, 0, len(asked))
	var bad error
	_, _, err := decodePage(buf.Bytes(), func(v T, _ error) bool {
		id := idOf(&v)
		got, ok := asked[id]
		switch {
		case !ok:
			bad = fmt.Errorf("the answer holds id %d, which was not asked for (was the id search applied?)", id)
		case got:
			bad = fmt.Errorf("the answer holds id %d twice", id)
		}
		if bad != nil {
			return false
		}
		asked[id] = true
		out = append(out, v)
		return true
	})
	if err == nil {
		err = bad
	}
	if err != nil {
		return fail(err)
	}
	return out, nil
}
