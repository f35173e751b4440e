package splynx

import (
	"context"
	"encoding/json"
	"errors"
	"iter"
	"net/http"
	"strconv"
	"time"

	"github.com/splynx-pay/splynx-pay/internal/money"
)

// Payment is admin/finance/payments.
type Payment struct {
	ID                 ID       `json:"id"`
	CustomerID         ID       `json:"customer_id"`
	InvoiceID          ID       `json:"invoice_id"`
	RequestID          ID       `json:"request_id"`
	TransactionID      ID       `json:"transaction_id"`
	PaymentType        ID       `json:"payment_type"`
	ReceiptNumber      string   `json:"receipt_number"`
	Date               Date     `json:"date"`
	Amount             Money    `json:"amount"`
	Comment            string   `json:"comment"`
	Note               string   `json:"note"`
	Memo               string   `json:"memo"`
	Field1             string   `json:"field_1"`
	Field2             string   `json:"field_2"`
	Field3             string   `json:"field_3"`
	Field4             string   `json:"field_4"`
	Field5             string   `json:"field_5"`
	RemindAmount       Money    `json:"remind_amount"`
	AddedBy            string   `json:"added_by"`
	RealCreateDatetime DateTime `json:"real_create_datetime"`
	UpdatedAt          DateTime `json:"updated_at"`
}

// UnmarshalJSON tolerates Splynx's loose types.
func (p *Payment) UnmarshalJSON(b []byte) error {
	type Plain Payment
	aux := struct {
		*Plain
		ReceiptNumber *text `json:"receipt_number"`
		Comment       *text `json:"comment"`
		Note          *text `json:"note"`
		Memo          *text `json:"memo"`
		Field1        *text `json:"field_1"`
		Field2        *text `json:"field_2"`
		Field3        *text `json:"field_3"`
		Field4        *text `json:"field_4"`
		Field5        *text `json:"field_5"`
		AddedBy       *text `json:"added_by"`
	}{(*Plain)(p), (*text)(&p.ReceiptNumber), (*text)(&p.Comment), (*text)(&p.Note), (*text)(&p.Memo),
		(*text)(&p.Field1), (*text)(&p.Field2), (*text)(&p.Field3), (*text)(&p.Field4), (*text)(&p.Field5),
		(*text)(&p.AddedBy)}
	return json.Unmarshal(b, &aux)
}

// PaymentCreate is the body of a new payment. Set InvoiceID to pay an
// invoice, RequestID to pay a proforma, neither to top up the balance.
type PaymentCreate struct {
	CustomerID                             int64
	InvoiceID                              int64
	RequestID                              int64
	PaymentType                            int64 // payment method id
	ReceiptNumber                          string
	Date                                   time.Time
	Amount                                 money.Amount
	Comment, Note, Memo                    string
	Field1, Field2, Field3, Field4, Field5 string
}

func (p PaymentCreate) body() map[string]any {
	m := map[string]any{
		"customer_id":    p.CustomerID,
		"payment_type":   p.PaymentType,
		"receipt_number": p.ReceiptNumber,
		"date":           NewDate(p.Date).String(),
		"amount":         p.Amount.String(),
		"comment":        p.Comment,
		"note":           p.Note,
		"memo":           p.Memo,
		// Sent even when empty: some Splynx versions mark them required.
		"field_1": p.Field1,
		"field_2": p.Field2,
		"field_3": p.Field3,
		"field_4": p.Field4,
		"field_5": p.Field5,
	}
	if p.InvoiceID != 0 {
		m["invoice_id"] = p.InvoiceID
	}
	if p.RequestID != 0 {
		m["request_id"] = p.RequestID
	}
	return m
}

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

// PaymentMethod is admin/finance/payment-methods. Name1..Name5 label a
// payment's Field1..Field5.
type PaymentMethod struct {
	ID       ID     `json:"id"`
	Name     string `json:"name"`
	IsActive Flag   `json:"is_active"`
	Name1    string `json:"name_1"`
	Name2    string `json:"name_2"`
	Name3    string `json:"name_3"`
	Name4    string `json:"name_4"`
	Name5    string `json:"name_5"`
}

// UnmarshalJSON tolerates Splynx's loose types.
func (pm *PaymentMethod) UnmarshalJSON(b []byte) error {
	type Plain PaymentMethod
	aux := struct {
		*Plain
		Name  *text `json:"name"`
		Name1 *text `json:"name_1"`
		Name2 *text `json:"name_2"`
		Name3 *text `json:"name_3"`
		Name4 *text `json:"name_4"`
		Name5 *text `json:"name_5"`
	}{(*Plain)(pm), (*text)(&pm.Name), (*text)(&pm.Name1), (*text)(&pm.Name2), (*text)(&pm.Name3),
		(*text)(&pm.Name4), (*text)(&pm.Name5)}
	return json.Unmarshal(b, &aux)
}

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

// Transaction is a ledger record of admin/finance/transactions.
type Transaction struct {
	ID          ID     `json:"id"`
	CustomerID  ID     `json:"customer_id"`
	Type        string `json:"type"` // debit | credit
	Price       Money  `json:"price"`
	Total       Money  `json:"total"`
	Date        Date   `json:"date"`
	Category    ID     `json:"category"`
	Description string `json:"description"`
	Comment     string `json:"comment"`
	InvoiceID   ID     `json:"invoice_id"`
	PaymentID   ID     `json:"payment_id"`
}

// UnmarshalJSON tolerates Splynx's loose types.
func (t *Transaction) UnmarshalJSON(b []byte) error {
	type Plain Transaction
	aux := struct {
		*Plain
		Type        *text `json:"type"`
		Description *text `json:"description"`
		Comment     *text `json:"comment"`
	}{(*Plain)(t), (*text)(&t.Type), (*text)(&t.Description), (*text)(&t.Comment)}
	return json.Unmarshal(b, &aux)
}

// TransactionCreate is a ledger transaction (a fee is a "debit").
type TransactionCreate struct {
	CustomerID  int64
	Type        string // debit | credit
	Price       money.Amount
	Total       money.Amount // 0 → Price
	Description string
	Category    int64 // transaction category id
	Date        time.Time
	Comment     string
	InvoiceID   int64
}

func (t TransactionCreate) body() map[string]any {
	total := t.Total
	if total == 0 {
		total = t.Price
	}
	m := map[string]any{
		"customer_id": t.CustomerID,
		"type":        t.Type,
		"quantity":    1,
		"price":       t.Price.String(),
		"total":       total.String(),
		"description": t.Description,
		"category":    t.Category,
		"date":        NewDate(t.Date).String(),
	}
	if t.Comment != "" {
		m["comment"] = t.Comment
	}
	if t.InvoiceID != 0 {
		m["invoice_id"] = t.InvoiceID
	}
	return m
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

// BankStatement is a payment-statement "process" (Finance → Payment
// statements), e.g. one per gateway per month.
type BankStatement struct {
	ID          ID       `json:"id"`
	DateTime    DateTime `json:"date_time"`
	Title       string   `json:"title"`
	Handler     string   `json:"handler"`
	PaymentType ID       `json:"payment_type"`
	Status      string   `json:"status"` // new | fail | success
}

// UnmarshalJSON tolerates Splynx's loose types.
func (s *BankStatement) UnmarshalJSON(b []byte) error {
	type Plain BankStatement
	aux := struct {
		*Plain
		Title   *text `json:"title"`
		Handler *text `json:"handler"`
		Status  *text `json:"status"`
	}{(*Plain)(s), (*text)(&s.Title), (*text)(&s.Handler), (*text)(&s.Status)}
	return json.Unmarshal(b, &aux)
}

// BankStatementRecord is one payment attempt logged in a payment statement.
type BankStatementRecord struct {
	ID                      ID       `json:"id"`
	BankStatementsProcessID ID       `json:"bank_statements_process_id"`
	DateTime                DateTime `json:"datetime"`
	PaymentDate             Date     `json:"payment_date"`
	Amount                  Money    `json:"amount"`
	Status                  string   `json:"status"` // new | processed | canceled | error | ignored | ...
	CustomerID              ID       `json:"customer_id"`
	InvoiceID               ID       `json:"invoice_id"`
	RequestID               ID       `json:"request_id"`
	PaymentID               ID       `json:"payment_id"`
	Comment                 string   `json:"comment"`
}

// UnmarshalJSON tolerates Splynx's loose types.
func (r *BankStatementRecord) UnmarshalJSON(b []byte) error {
	type Plain BankStatementRecord
	aux := struct {
		*Plain
		Status  *text `json:"status"`
		Comment *text `json:"comment"`
	}{(*Plain)(r), (*text)(&r.Status), (*text)(&r.Comment)}
	return json.Unmarshal(b, &aux)
}

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
