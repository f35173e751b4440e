package splynx

import (
	"context"
	"encoding/json"
	"iter"
	"net/http"
	"strconv"
)

// Invoice is admin/finance/invoices. Due is what is still owed; charge Due,
// never Total.
type Invoice struct {
	ID                   ID                `json:"id"`
	CustomerID           ID                `json:"customer_id"`
	Number               string            `json:"number"`
	DateCreated          Date              `json:"date_created"`
	RealCreateDatetime   DateTime          `json:"real_create_datetime"`
	DateUpdated          DateTime          `json:"date_updated"`
	DatePayment          Date              `json:"date_payment"`
	DateTill             Date              `json:"date_till"`
	Total                Money             `json:"total"`
	Due                  Money             `json:"due"`
	PaymentID            ID                `json:"payment_id"`
	Status               string            `json:"status"` // not_paid | paid | pending | deleted
	Type                 string            `json:"type"`   // one_time | recurring
	PaidFromDeposit      Flag              `json:"payd_from_deposit"`
	IsSent               Flag              `json:"is_sent"`
	Note                 string            `json:"note"`
	Memo                 string            `json:"memo"`
	AddedBy              string            `json:"added_by"`
	Items                []InvoiceItem     `json:"items"`
	AdditionalAttributes map[string]string `json:"additional_attributes"`
}

// UnmarshalJSON tolerates Splynx's loose types.
func (inv *Invoice) UnmarshalJSON(b []byte) error {
	type Plain Invoice
	aux := struct {
		*Plain
		Number  *text              `json:"number"`
		Status  *text              `json:"status"`
		Type    *text              `json:"type"`
		Note    *text              `json:"note"`
		Memo    *text              `json:"memo"`
		AddedBy *text              `json:"added_by"`
		Items   *list[InvoiceItem] `json:"items"`
		AA      *attrs             `json:"additional_attributes"`
	}{(*Plain)(inv), (*text)(&inv.Number), (*text)(&inv.Status), (*text)(&inv.Type), (*text)(&inv.Note),
		(*text)(&inv.Memo), (*text)(&inv.AddedBy), (*list[InvoiceItem])(&inv.Items),
		(*attrs)(&inv.AdditionalAttributes)}
	return json.Unmarshal(b, &aux)
}

// InvoiceItem is one line of an invoice or proforma. Quantity and Tax (a
// VAT percent such as "15.5000") are kept as the text Splynx sent.
type InvoiceItem struct {
	ID                       ID     `json:"id"`
	Description              string `json:"description"`
	Quantity                 string `json:"quantity"`
	Unit                     string `json:"unit"`
	Price                    Money  `json:"price"`
	Tax                      string `json:"tax"`
	PeriodFrom               Date   `json:"period_from"`
	PeriodTo                 Date   `json:"period_to"`
	CategoryIDForTransaction ID     `json:"categoryIdForTransaction"`
}

// UnmarshalJSON tolerates Splynx's loose types.
func (it *InvoiceItem) UnmarshalJSON(b []byte) error {
	type Plain InvoiceItem
	aux := struct {
		*Plain
		Description *text `json:"description"`
		Quantity    *text `json:"quantity"`
		Unit        *text `json:"unit"`
		Tax         *text `json:"tax"`
	}{(*Plain)(it), (*text)(&it.Description), (*text)(&it.Quantity), (*text)(&it.Unit), (*text)(&it.Tax)}
	return json.Unmarshal(b, &aux)
}

// Proforma is admin/finance/proforma-invoices (a "request" inside Splynx;
// payments reference it by request_id). It has a total but no due.
type Proforma struct {
	ID                   ID                `json:"id"`
	CustomerID           ID                `json:"customer_id"`
	Number               string            `json:"number"`
	DateCreated          Date              `json:"date_created"`
	RealCreateDatetime   DateTime          `json:"real_create_datetime"`
	DateUpdated          DateTime          `json:"date_updated"`
	DatePayment          Date              `json:"date_payment"`
	DateTill             Date              `json:"date_till"`
	Total                Money             `json:"total"`
	PaymentID            ID                `json:"payment_id"`
	Status               string            `json:"status"` // not_paid | paid | pending
	IsSent               Flag              `json:"is_sent"`
	Note                 string            `json:"note"`
	Memo                 string            `json:"memo"`
	AddedBy              string            `json:"added_by"`
	Items                []InvoiceItem     `json:"items"`
	AdditionalAttributes map[string]string `json:"additional_attributes"`
}

// UnmarshalJSON tolerates Splynx's loose types.
func (p *Proforma) UnmarshalJSON(b []byte) error {
	type Plain Proforma
	aux := struct {
		*Plain
		Number  *text              `json:"number"`
		Status  *text              `json:"status"`
		Note    *text              `json:"note"`
		Memo    *text              `json:"memo"`
		AddedBy *text              `json:"added_by"`
		Items   *list[InvoiceItem] `json:"items"`
		AA      *attrs             `json:"additional_attributes"`
	}{(*Plain)(p), (*text)(&p.Number), (*text)(&p.Status), (*text)(&p.Note), (*text)(&p.Memo),
		(*text)(&p.AddedBy), (*list[InvoiceItem])(&p.Items), (*attrs)(&p.AdditionalAttributes)}
	return json.Unmarshal(b, &aux)
}

// InvoiceRelation says which payment, transaction or credit note settles
// part of an invoice.
type InvoiceRelation struct {
	ID            ID     `json:"id"`
	CustomerID    ID     `json:"customer_id"`
	PayerID       ID     `json:"payer_id"`
	Type          string `json:"type"` // payment | transaction | credit_note
	InvoiceID     ID     `json:"invoice_id"`
	TransactionID ID     `json:"transaction_id"`
	Amount        Money  `json:"amount"`
}

// UnmarshalJSON tolerates Splynx's loose types.
func (r *InvoiceRelation) UnmarshalJSON(b []byte) error {
	type Plain InvoiceRelation
	aux := struct {
		*Plain
		Type *text `json:"type"`
	}{(*Plain)(r), (*text)(&r.Type)}
	return json.Unmarshal(b, &aux)
}

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

// ListInvoiceRelations returns what settles an invoice (payments, credit
// notes, transactions).
func (c *Client) ListInvoiceRelations(ctx context.Context, invoiceID int64) ([]InvoiceRelation, error) {
	return getList[InvoiceRelation](c, ctx, call{method: http.MethodGet, path: pathInvoiceRelations,
		query: "invoice_id=" + strconv.FormatInt(invoiceID, 10)}, "relations of invoice "+strconv.FormatInt(invoiceID, 10))
}
