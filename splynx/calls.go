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
	"net/url"
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

// Customers.

// ListCustomers streams the customers matching s.
func (c *Client) ListCustomers(ctx context.Context, s Search) iter.Seq2[Customer, error] {
	return page[Customer](c, ctx, pathCustomers, "customers", s)
}

// CountCustomers counts the customers matching s.
func (c *Client) CountCustomers(ctx context.Context, s Search) (int, error) {
	return c.count(ctx, pathCustomers, "customers", s)
}

// GetCustomer reads one customer.
func (c *Client) GetCustomer(ctx context.Context, id int64) (Customer, error) {
	return getRecord[Customer](c, ctx, idPath(pathCustomers, id), "customer "+strconv.FormatInt(id, 10))
}

// UpdateCustomer changes the given fields of a customer; custom fields go
// under "additional_attributes": map[string]string{...}.
func (c *Client) UpdateCustomer(ctx context.Context, id int64, fields map[string]any) error {
	return c.send2xx(ctx, call{method: http.MethodPut, path: idPath(pathCustomers, id), body: fields},
		"update customer "+strconv.FormatInt(id, 10))
}

// GetCustomerBilling reads a customer's billing settings (balance in Deposit).
func (c *Client) GetCustomerBilling(ctx context.Context, customerID int64) (CustomerBilling, error) {
	return getRecord[CustomerBilling](c, ctx, idPath(pathCustomerBilling, customerID),
		"billing of customer "+strconv.FormatInt(customerID, 10))
}

// ListCustomerBilling streams billing records from the list form of
// customer-billing, which Splynx does not document. When the server lacks it
// the iteration yields one error for which IsNotFound or IsMethodNotAllowed
// is true; the caller then falls back to GetCustomerBilling per customer.
func (c *Client) ListCustomerBilling(ctx context.Context, s Search) iter.Seq2[CustomerBilling, error] {
	if len(s.Order) == 0 {
		s.Order = []OrderBy{Asc("customer_id")}
	}
	return page[CustomerBilling](c, ctx, pathCustomerBilling, "customer billing", s)
}

// Invoices.

// ListInvoices streams the invoices matching s (with their items).
func (c *Client) ListInvoices(ctx context.Context, s Search) iter.Seq2[Invoice, error] {
	return page[Invoice](c, ctx, pathInvoices, "invoices", s)
}

// CountInvoices counts the invoices matching s.
func (c *Client) CountInvoices(ctx context.Context, s Search) (int, error) {
	return c.count(ctx, pathInvoices, "invoices", s)
}

// GetInvoice reads one invoice.
func (c *Client) GetInvoice(ctx context.Context, id int64) (Invoice, error) {
	return getRecord[Invoice](c, ctx, idPath(pathInvoices, id), "invoice "+strconv.FormatInt(id, 10))
}

// UpdateInvoice changes the given fields of an invoice (e.g. "status").
func (c *Client) UpdateInvoice(ctx context.Context, id int64, fields map[string]any) error {
	return c.send2xx(ctx, call{method: http.MethodPut, path: idPath(pathInvoices, id), body: fields},
		"update invoice "+strconv.FormatInt(id, 10))
}

// Proforma invoices.

// ListProformas streams the proforma invoices matching s.
func (c *Client) ListProformas(ctx context.Context, s Search) iter.Seq2[Proforma, error] {
	return page[Proforma](c, ctx, pathProformas, "proforma invoices", s)
}

// CountProformas counts the proforma invoices matching s.
func (c *Client) CountProformas(ctx context.Context, s Search) (int, error) {
	return c.count(ctx, pathProformas, "proforma invoices", s)
}

// GetProforma reads one proforma invoice.
func (c *Client) GetProforma(ctx context.Context, id int64) (Proforma, error) {
	return getRecord[Proforma](c, ctx, idPath(pathProformas, id), "proforma invoice "+strconv.FormatInt(id, 10))
}

// Payments.

// CreatePayment records a payment and returns its id. It is sent once:
// after an error that leaves the outcome open (timeout, 5xx) the caller
// must look for the payment by receipt number before trying again.
func (c *Client) CreatePayment(ctx context.Context, p PaymentCreate) (int64, error) {
	if p.CustomerID <= 0 {
		return 0, errors.New("splynx: create payment: customer id is required")
	}
	if p.PaymentType <= 0 {
		return 0, errors.New("splynx: create payment: payment type (payment method id) is required")
	}
	if p.Date.IsZero() {
		p.Date = c.clk.Now()
	}
	return c.create(ctx, pathPayments, "payment for customer "+strconv.FormatInt(p.CustomerID, 10), p.body())
}

// ListPayments streams the payments matching s.
func (c *Client) ListPayments(ctx context.Context, s Search) iter.Seq2[Payment, error] {
	return page[Payment](c, ctx, pathPayments, "payments", s)
}

// CountPayments counts the payments matching s.
func (c *Client) CountPayments(ctx context.Context, s Search) (int, error) {
	return c.count(ctx, pathPayments, "payments", s)
}

// GetPayment reads one payment.
func (c *Client) GetPayment(ctx context.Context, id int64) (Payment, error) {
	return getRecord[Payment](c, ctx, idPath(pathPayments, id), "payment "+strconv.FormatInt(id, 10))
}

// DeletePayment deletes a payment (Splynx reverses its effect on the
// invoice and balance). A retry that finds it already gone counts as done.
func (c *Client) DeletePayment(ctx context.Context, id int64) error {
	return c.send2xx(ctx, call{method: http.MethodDelete, path: idPath(pathPayments, id)},
		"delete payment "+strconv.FormatInt(id, 10))
}

// FindPaymentsByReceipt returns the payments whose receipt_number is
// receipt (the write-back's duplicate check).
func (c *Client) FindPaymentsByReceipt(ctx context.Context, receipt string) ([]Payment, error) {
	if receipt == "" {
		return nil, errors.New("splynx: find payments: empty receipt number")
	}
	var out []Payment
	for p, err := range c.ListPayments(ctx, Search{Main: []Cond{Eq("receipt_number", receipt)}}) {
		if err != nil {
			return nil, err
		}
		// Guard against a server that ignores the filter.
		if p.ReceiptNumber == receipt {
			out = append(out, p)
		}
	}
	return out, nil
}

// ListTransactions streams the ledger transactions matching s.
func (c *Client) ListTransactions(ctx context.Context, s Search) iter.Seq2[Transaction, error] {
	return page[Transaction](c, ctx, pathTransactions, "transactions", s)
}

// FindTransactionsByComment returns the customer's transactions whose
// comment is exactly comment: how a writer that marks its transactions with
// a unique comment finds out whether an earlier attempt already made one
// (Splynx answers a POST it applied with nothing when the connection
// drops). It searches by customer only, as whether Splynx can search on
// comment is not known, and compares the comments here.
func (c *Client) FindTransactionsByComment(ctx context.Context, customerID int64, comment string) ([]Transaction, error) {
	if customerID <= 0 || comment == "" {
		return nil, errors.New("splynx: find transactions: a customer id and a comment are required")
	}
	var out []Transaction
	cust := strconv.FormatInt(customerID, 10)
	for t, err := range c.ListTransactions(ctx, Search{Main: []Cond{Eq("customer_id", cust)}}) {
		if err != nil {
			return nil, err
		}
		// Guard against a server that ignores the filter.
		if int64(t.CustomerID) == customerID && t.Comment == comment {
			out = append(out, t)
		}
	}
	return out, nil
}

// Payment methods.

// ListPaymentMethods returns every payment method.
func (c *Client) ListPaymentMethods(ctx context.Context) ([]PaymentMethod, error) {
	return getList[PaymentMethod](c, ctx, call{method: http.MethodGet, path: pathPaymentMethods}, "payment methods")
}

// CreatePaymentMethod adds a payment method and returns its id.
func (c *Client) CreatePaymentMethod(ctx context.Context, pm PaymentMethod) (int64, error) {
	body := map[string]any{"name": pm.Name, "is_active": pm.IsActive,
		"name_1": pm.Name1, "name_2": pm.Name2, "name_3": pm.Name3, "name_4": pm.Name4, "name_5": pm.Name5}
	return c.create(ctx, pathPaymentMethods, "payment method "+strconv.Quote(pm.Name), body)
}

// Customer payment accounts.

func accountQuery(customerID, accountID int64) string {
	return "id=" + strconv.FormatInt(customerID, 10) + "--" + strconv.FormatInt(accountID, 10)
}

// GetPaymentAccount reads the stored field_1..10 of one customer's payment
// account. A customer with nothing stored gives an IsNotFound error.
func (c *Client) GetPaymentAccount(ctx context.Context, customerID, accountID int64) (PaymentAccount, error) {
	what := fmt.Sprintf("payment account %d of customer %d", accountID, customerID)
	var raw json.RawMessage
	err := c.getJSON(ctx, call{method: http.MethodGet, path: pathPaymentAccounts, query: accountQuery(customerID, accountID)}, &raw)
	if err != nil {
		return PaymentAccount{}, fmt.Errorf("splynx: get %s: %w", what, err)
	}
	// Seen both as one object and as a list holding it.
	var accounts list[PaymentAccount]
	trimmed := strings.TrimSpace(string(raw))
	if strings.HasPrefix(trimmed, "{") && !strings.HasPrefix(trimmed, `{"0"`) {
		var pa PaymentAccount
		if err := json.Unmarshal(raw, &pa); err != nil {
			return PaymentAccount{}, fmt.Errorf("splynx: get %s: decoding answer: %w", what, err)
		}
		accounts = list[PaymentAccount]{pa}
	} else if err := json.Unmarshal(raw, &accounts); err != nil {
		return PaymentAccount{}, fmt.Errorf("splynx: get %s: decoding answer: %w", what, err)
	}
	for _, pa := range accounts {
		if (pa.AccountID == 0 || int64(pa.AccountID) == accountID) && (pa.CustomerID == 0 || int64(pa.CustomerID) == customerID) {
			pa.AccountID, pa.CustomerID = ID(accountID), ID(customerID)
			return pa, nil
		}
	}
	return PaymentAccount{}, &APIError{Method: http.MethodGet, Path: pathPaymentAccounts, Status: http.StatusNotFound,
		InternalCode: "NOT_FOUND", Message: what + " has no stored data"}
}

// PutPaymentAccount stores all ten fields of a customer's payment account.
func (c *Client) PutPaymentAccount(ctx context.Context, pa PaymentAccount) error {
	if pa.CustomerID <= 0 || pa.AccountID <= 0 {
		return errors.New("splynx: put payment account: customer id and account id are required")
	}
	return c.send2xx(ctx, call{method: http.MethodPut, path: pathPaymentAccounts,
		query: accountQuery(int64(pa.CustomerID), int64(pa.AccountID)), body: pa.body()},
		fmt.Sprintf("put payment account %d of customer %d", pa.AccountID, pa.CustomerID))
}

// DeletePaymentAccount removes a customer's stored payment account data.
func (c *Client) DeletePaymentAccount(ctx context.Context, customerID, accountID int64) error {
	return c.send2xx(ctx, call{method: http.MethodDelete, path: pathPaymentAccounts, query: accountQuery(customerID, accountID)},
		fmt.Sprintf("delete payment account %d of customer %d", accountID, customerID))
}

// ListInvoiceRelations returns what settles an invoice (payments, credit
// notes, transactions).
func (c *Client) ListInvoiceRelations(ctx context.Context, invoiceID int64) ([]InvoiceRelation, error) {
	return getList[InvoiceRelation](c, ctx, call{method: http.MethodGet, path: pathInvoiceRelations,
		query: "invoice_id=" + strconv.FormatInt(invoiceID, 10)}, "relations of invoice "+strconv.FormatInt(invoiceID, 10))
}

// Partners, locations, custom fields.

// ListPartners returns every partner.
func (c *Client) ListPartners(ctx context.Context) ([]Partner, error) {
	return getList[Partner](c, ctx, call{method: http.MethodGet, path: pathPartners}, "partners")
}

// ListLocations returns every location.
func (c *Client) ListLocations(ctx context.Context) ([]Location, error) {
	return getList[Location](c, ctx, call{method: http.MethodGet, path: pathLocations}, "locations")
}

// ListAdditionalFields returns the custom-field definitions of a module
// ("customers", "invoices", "payments", "requests", ...).
func (c *Client) ListAdditionalFields(ctx context.Context, module string) ([]AdditionalField, error) {
	return getList[AdditionalField](c, ctx, call{method: http.MethodGet, path: pathAdditionalFields + "/" + url.PathEscape(module)},
		"additional fields of "+module)
}

// CreateAdditionalField defines a custom field in a module.
func (c *Client) CreateAdditionalField(ctx context.Context, module string, f AdditionalField) error {
	if f.Name == "" || f.Title == "" || f.Type == "" {
		return errors.New("splynx: create additional field: name, title and type are required")
	}
	_, err := c.create(ctx, pathAdditionalFields+"/"+url.PathEscape(module), "additional field "+module+"/"+f.Name, f)
	return err
}

// CreateTransaction adds a ledger transaction (e.g. a fee) and returns its id.
func (c *Client) CreateTransaction(ctx context.Context, t TransactionCreate) (int64, error) {
	if t.CustomerID <= 0 || (t.Type != "debit" && t.Type != "credit") {
		return 0, errors.New("splynx: create transaction: customer id and type debit|credit are required")
	}
	if t.Date.IsZero() {
		t.Date = c.clk.Now()
	}
	return c.create(ctx, pathTransactions, "transaction for customer "+strconv.FormatInt(t.CustomerID, 10), t.body())
}

// Payment statements.

// ListBankStatements streams payment statements matching s.
func (c *Client) ListBankStatements(ctx context.Context, s Search) iter.Seq2[BankStatement, error] {
	return page[BankStatement](c, ctx, pathBankStatements, "payment statements", s)
}

// CreateBankStatement adds a payment statement and returns its id.
func (c *Client) CreateBankStatement(ctx context.Context, st BankStatement) (int64, error) {
	body := map[string]any{"title": st.Title, "handler": st.Handler, "payment_type": st.PaymentType, "status": st.Status}
	if !st.DateTime.IsZero() {
		body["date_time"] = st.DateTime.String()
	}
	return c.create(ctx, pathBankStatements, "payment statement "+strconv.Quote(st.Title), body)
}

// CreateBankStatementRecord logs one payment attempt in a statement.
func (c *Client) CreateBankStatementRecord(ctx context.Context, r BankStatementRecord) (int64, error) {
	body := map[string]any{
		"bank_statements_process_id": r.BankStatementsProcessID, "amount": r.Amount.String(),
		"status": r.Status, "customer_id": r.CustomerID, "comment": r.Comment,
		"payment_date": r.PaymentDate.String(),
	}
	for k, v := range map[string]ID{"invoice_id": r.InvoiceID, "request_id": r.RequestID, "payment_id": r.PaymentID} {
		if v != 0 {
			body[k] = v
		}
	}
	return c.create(ctx, pathBankRecords, "payment statement record", body)
}

// UpdateBankStatementRecord changes fields of a statement record (status,
// payment_id).
func (c *Client) UpdateBankStatementRecord(ctx context.Context, id int64, fields map[string]any) error {
	return c.send2xx(ctx, call{method: http.MethodPut, path: idPath(pathBankRecords, id), body: fields},
		"update payment statement record "+strconv.FormatInt(id, 10))
}

// ListPaymentAccountDefs returns the payment account definitions (title and
// field labels), e.g. to find the id of the add-on's own account.
func (c *Client) ListPaymentAccountDefs(ctx context.Context) ([]PaymentAccountDef, error) {
	return getList[PaymentAccountDef](c, ctx, call{method: http.MethodGet, path: pathPaymentAccounts}, "payment account definitions")
}

// ListPaymentAccounts returns every payment account a customer has data in.
func (c *Client) ListPaymentAccounts(ctx context.Context, customerID int64) ([]PaymentAccount, error) {
	accounts, err := getList[PaymentAccount](c, ctx, call{method: http.MethodGet, path: pathPaymentAccounts,
		query: "id=" + strconv.FormatInt(customerID, 10)}, "payment accounts of customer "+strconv.FormatInt(customerID, 10))
	for i := range accounts {
		if accounts[i].CustomerID == 0 {
			accounts[i].CustomerID = ID(customerID)
		}
	}
	return accounts, err
}

// Modules list.

// ListModules returns the Modules list entries.
func (c *Client) ListModules(ctx context.Context) ([]Module, error) {
	return getList[Module](c, ctx, call{method: http.MethodGet, path: pathModules}, "modules")
}

// GetModule reads one Modules list entry by module name.
func (c *Client) GetModule(ctx context.Context, name string) (Module, error) {
	return getRecord[Module](c, ctx, pathModules+"/"+url.PathEscape(name), "module "+name)
}

// CreateModule adds a Modules list entry.
func (c *Client) CreateModule(ctx context.Context, m Module) error {
	if m.Module == "" || m.Title == "" {
		return errors.New("splynx: create module: module name and title are required")
	}
	_, err := c.create(ctx, pathModules, "module "+m.Module, m)
	return err
}

// UpdateModule changes fields of a Modules list entry.
func (c *Client) UpdateModule(ctx context.Context, name string, fields map[string]any) error {
	return c.send2xx(ctx, call{method: http.MethodPut, path: pathModules + "/" + url.PathEscape(name), body: fields},
		"update module "+name)
}
