package splynxsim

import (
	"net/http"

	"github.com/splynx-pay/splynx-pay/internal/money"
)

// A stricter or older Splynx than the default simulator: options the mirror's
// fallbacks are tested and benchmarked against (issue 16).
//
//   - Options.RefuseBillingList: GET/HEAD admin/customers/customer-billing
//     (the list; only customer-billing/{id} is confirmed) answers 405
//     METHOD_DISABLED, as a Splynx that disables the list would.
//   - Options.NoRangeSearch: a list or count with a BETWEEN condition on id
//     answers 400, as a Splynx that rejects the range search would.
//   - Options.NoInSearch: a list or count with an IN condition on id answers
//     400, as a Splynx that rejects the id search of a charge run's batched
//     re-read would (IN itself is confirmed; this is the fallback's test).
//   - HideFromLists: list answers leave records out that a GET of each still
//     answers, so a client can be shown that "missing from a list" is not
//     "deleted".

// refuseBillingList answers the billing list with 405 when configured.
func (s *Sim) refuseBillingList(c *rctx) bool {
	if !s.opts.RefuseBillingList {
		return false
	}
	c.fail(http.StatusMethodNotAllowed, "METHOD_DISABLED", "Method is disabled!")
	return true
}

// refuseRangeSearch answers a BETWEEN on id with 400 when configured.
func (s *Sim) refuseRangeSearch(c *rctx, q *listQuery) bool {
	if !s.opts.NoRangeSearch {
		return false
	}
	for _, cd := range q.conds {
		if cd.field == "id" && cd.op == "BETWEEN" {
			c.badRequest("Operator BETWEEN is not allowed for id")
			return true
		}
	}
	return false
}

// refuseInSearch answers an IN on id with 400 when configured.
func (s *Sim) refuseInSearch(c *rctx, q *listQuery) bool {
	if !s.opts.NoInSearch {
		return false
	}
	for _, cd := range q.conds {
		if cd.field == "id" && cd.op == "IN" {
			c.badRequest("Operator IN is not allowed for id")
			return true
		}
	}
	return false
}

// HideFromLists makes GET list answers of invoices (proformas when invoices
// is false) leave out these ids from now on; GET of each record, counts and
// the ledger are unchanged. No ids: nothing is hidden any more.
func (s *Sim) HideFromLists(invoices bool, ids ...int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := &s.proformas
	if invoices {
		t = &s.invoices
	}
	t.hidden = nil
	for _, id := range ids {
		if t.hidden == nil {
			t.hidden = map[int64]bool{}
		}
		t.hidden[id] = true
	}
}

// AdjustBalance books a ledger transaction of amount (positive: credit,
// negative: debit) that moves the customer's balance without touching the
// customer's last_update: a balance-only change, as when Splynx does not
// stamp the customer on a transaction (the spec does not say it does). It
// returns the transaction id, or 0 for an unknown customer.
func (s *Sim) AdjustBalance(customerID int64, amount money.Amount, description string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.customers.get(customerID)
	if r == nil || amount == 0 {
		return 0
	}
	t := Transaction{CustomerID: customerID, Type: "credit", Price: amount, Total: amount, Quantity: 1,
		Description: description, Date: s.now(), Source: "manual"}
	if amount < 0 {
		t.Type, t.Price, t.Total = "debit", -amount, -amount
	}
	t.ID = s.nextID("transaction", 0)
	s.transactions.insert(t)
	r.b.Deposit += amount
	s.customers.touch()
	return t.ID
}

// PurgeProforma removes a proforma outright, like PurgeInvoice.
func (s *Sim) PurgeProforma(id int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.proformas.remove(id)
}
