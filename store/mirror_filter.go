package store

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/splynx-pay/splynx-pay/internal/money"
)

// CustomerFilter selects customers; empty fields do not filter.
type CustomerFilter struct {
	IDs         []int64
	Statuses    []string
	PartnerIDs  []int64
	LocationIDs []int64
	AfterID     int64 // keyset paging: only ids greater than this
	Limit       int   // default 500
}

// InvoiceFilter selects invoices or proformas; empty fields do not filter.
// Partner and location come from the customer, the payment method from the
// customer's billing record.
type InvoiceFilter struct {
	Statuses         []string
	CreatedFrom      time.Time // inclusive date
	CreatedTo        time.Time // inclusive date
	PartnerIDs       []int64
	LocationIDs      []int64
	PaymentMethodIDs []int64
	CustomerIDs      []int64
	CustomerStatuses []string
	IDs              []int64
	Numbers          []string
	TotalOp          string // one of = != < <= > >= ; "" means no total filter
	Total            money.Amount
	DueOp            string // as TotalOp, against due (invoices only)
	Due              money.Amount
	AfterID          int64 // keyset paging: only ids greater than this
	Limit            int   // default 500, at most 10000
	WithItems        bool
}

var comparison = map[string]bool{"=": true, "!=": true, "<": true, "<=": true, ">": true, ">=": true}

func (f InvoiceFilter) where(invoices bool) (string, where, error) {
	var w where
	joins := ""
	w.inStr("i.status", f.Statuses)
	if !f.CreatedFrom.IsZero() {
		w.add("i.date_created >= ?", FormatDate(f.CreatedFrom))
	}
	if !f.CreatedTo.IsZero() {
		w.add("i.date_created <> '' AND i.date_created <= ?", FormatDate(f.CreatedTo))
	}
	if len(f.PartnerIDs) > 0 || len(f.LocationIDs) > 0 || len(f.CustomerStatuses) > 0 {
		joins += ` JOIN customers c ON c.id = i.customer_id`
		w.in("c.partner_id", f.PartnerIDs)
		w.in("c.location_id", f.LocationIDs)
		w.inStr("c.status", f.CustomerStatuses)
	}
	if len(f.PaymentMethodIDs) > 0 {
		joins += ` JOIN billing b ON b.customer_id = i.customer_id`
		w.in("b.payment_method", f.PaymentMethodIDs)
	}
	w.in("i.customer_id", f.CustomerIDs)
	w.in("i.id", f.IDs)
	w.inStr("i.number", f.Numbers)
	if f.TotalOp != "" {
		if !comparison[f.TotalOp] {
			return "", w, fmt.Errorf("store: invoice filter: bad total operator %q", f.TotalOp)
		}
		w.add("i.total "+f.TotalOp+" ?", int64(f.Total))
	}
	if f.DueOp != "" {
		if !invoices {
			return "", w, errors.New("store: proforma filter: proformas have no due amount")
		}
		if !comparison[f.DueOp] {
			return "", w, fmt.Errorf("store: invoice filter: bad due operator %q", f.DueOp)
		}
		w.add("i.due "+f.DueOp+" ?", int64(f.Due))
	}
	if f.AfterID > 0 {
		w.add("i.id > ?", f.AfterID)
	}
	return joins, w, nil
}

// limitSQL is " LIMIT n" with n from limitOr written into the statement
// (an int, never text from outside). A bound LIMIT ? makes SQLite mark the
// statement as depending on that value, and the driver clears every
// statement's bindings before it runs again, which then costs a complete
// re-prepare on each execution: most of a page view's SQLite time.
func limitSQL(n int) string { return " LIMIT " + strconv.Itoa(limitOr(n)) }

func limitOr(n int) int {
	switch {
	case n <= 0:
		return 500
	case n > 10000:
		return 10000
	}
	return n
}

type where struct {
	conds []string
	args  []any
}

func (w *where) add(cond string, args ...any) {
	w.conds = append(w.conds, cond)
	w.args = append(w.args, args...)
}

func (w *where) in(col string, vs []int64) { whereIn(w, col, vs) }

func (w *where) inStr(col string, vs []string) { whereIn(w, col, vs) }

// whereIn adds "col IN (vs...)"; no values, no condition.
func whereIn[T any](w *where, col string, vs []T) {
	if len(vs) == 0 {
		return
	}
	ph := strings.TrimSuffix(strings.Repeat("?,", len(vs)), ",")
	w.conds = append(w.conds, col+" IN ("+ph+")")
	for _, v := range vs {
		w.args = append(w.args, v)
	}
}

func (w *where) sql() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}
