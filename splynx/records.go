package splynx

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/splynx-pay/splynx-pay/internal/money"
)

// Each record's UnmarshalJSON decodes into the record itself but routes its
// string fields through *text pointers aimed at those same fields, so a
// number or null where Splynx usually sends a string still decodes, with no
// second copy of the struct. Loose ids, flags, money and dates carry their
// own UnmarshalJSON.

// Customer is admin/customers/customer.
type Customer struct {
	ID                   ID                `json:"id"`
	Login                string            `json:"login"`
	Name                 string            `json:"name"`
	Email                string            `json:"email"`
	BillingEmail         string            `json:"billing_email"`
	Phone                string            `json:"phone"`
	Category             string            `json:"category"` // person | company
	Status               string            `json:"status"`   // new | active | blocked | disabled
	BillingType          string            `json:"billing_type"`
	PartnerID            ID                `json:"partner_id"`
	LocationID           ID                `json:"location_id"`
	ParentID             ID                `json:"parent_id"`
	Street1              string            `json:"street_1"`
	Street2              string            `json:"street_2"`
	ZipCode              string            `json:"zip_code"`
	City                 string            `json:"city"`
	DateAdd              Date              `json:"date_add"`
	LastUpdate           DateTime          `json:"last_update"`
	AdditionalAttributes map[string]string `json:"additional_attributes"`
}

// UnmarshalJSON tolerates Splynx's loose types.
func (c *Customer) UnmarshalJSON(b []byte) error {
	type Plain Customer
	aux := struct {
		*Plain
		Login        *text  `json:"login"`
		Name         *text  `json:"name"`
		Email        *text  `json:"email"`
		BillingEmail *text  `json:"billing_email"`
		Phone        *text  `json:"phone"`
		Category     *text  `json:"category"`
		Status       *text  `json:"status"`
		BillingType  *text  `json:"billing_type"`
		Street1      *text  `json:"street_1"`
		Street2      *text  `json:"street_2"`
		ZipCode      *text  `json:"zip_code"`
		City         *text  `json:"city"`
		AA           *attrs `json:"additional_attributes"`
	}{(*Plain)(c), (*text)(&c.Login), (*text)(&c.Name), (*text)(&c.Email), (*text)(&c.BillingEmail),
		(*text)(&c.Phone), (*text)(&c.Category), (*text)(&c.Status), (*text)(&c.BillingType),
		(*text)(&c.Street1), (*text)(&c.Street2), (*text)(&c.ZipCode), (*text)(&c.City),
		(*attrs)(&c.AdditionalAttributes)}
	return json.Unmarshal(b, &aux)
}

// CustomerBilling is admin/customers/customer-billing/{id}. Deposit is the
// account balance; PaymentMethod is the customer's payment type (a payment
// method id).
type CustomerBilling struct {
	CustomerID      ID     `json:"customer_id"`
	Enabled         Flag   `json:"enabled"`
	Type            string `json:"type"`
	Deposit         Money  `json:"deposit"`
	PaymentMethod   ID     `json:"payment_method"`
	BillingDate     Int    `json:"billing_date"`
	BillingDue      Int    `json:"billing_due"`
	BlockingPeriod  Int    `json:"blocking_period"`
	GracePeriod     Int    `json:"grace_period"`
	MakeInvoices    Flag   `json:"make_invoices"`
	MinBalance      Money  `json:"min_balance"`
	BillingPerson   string `json:"billing_person"`
	BillingStreet1  string `json:"billing_street_1"`
	BillingZipCode  string `json:"billing_zip_code"`
	BillingCity     string `json:"billing_city"`
	PartnerPercent  string `json:"partner_percent"`
	BlockingDate    Date   `json:"blocking_date"`
	SendFinanceNote Flag   `json:"send_finance_notification"`
}

// UnmarshalJSON tolerates Splynx's loose types.
func (cb *CustomerBilling) UnmarshalJSON(b []byte) error {
	type Plain CustomerBilling
	aux := struct {
		*Plain
		Type           *text `json:"type"`
		BillingPerson  *text `json:"billing_person"`
		BillingStreet1 *text `json:"billing_street_1"`
		BillingZipCode *text `json:"billing_zip_code"`
		BillingCity    *text `json:"billing_city"`
		PartnerPercent *text `json:"partner_percent"`
	}{(*Plain)(cb), (*text)(&cb.Type), (*text)(&cb.BillingPerson), (*text)(&cb.BillingStreet1),
		(*text)(&cb.BillingZipCode), (*text)(&cb.BillingCity), (*text)(&cb.PartnerPercent)}
	return json.Unmarshal(b, &aux)
}

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

// PaymentAccount is one customer's stored values for a payment account
// definition (field_1..field_10, e.g. a gateway token and a card mask).
type PaymentAccount struct {
	AccountID  ID
	CustomerID ID
	Fields     [10]string // Fields[0] is field_1
}

// UnmarshalJSON reads account_id, customer_id and field_1..field_10.
func (pa *PaymentAccount) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	var out PaymentAccount
	for k, v := range raw {
		var err error
		switch k {
		case "account_id", "payment_account_id":
			err = out.AccountID.UnmarshalJSON(v)
		case "customer_id":
			err = out.CustomerID.UnmarshalJSON(v)
		default:
			rest, ok := strings.CutPrefix(k, "field_")
			if n, convErr := strconv.Atoi(rest); ok && convErr == nil && n >= 1 && n <= 10 {
				var t text
				err = t.UnmarshalJSON(v)
				out.Fields[n-1] = string(t)
			}
		}
		if err != nil {
			return err
		}
	}
	*pa = out
	return nil
}

func (pa PaymentAccount) body() map[string]string {
	m := make(map[string]string, 10)
	for i, f := range pa.Fields {
		m["field_"+strconv.Itoa(i+1)] = f
	}
	return m
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

// Partner is admin/administration/partners.
type Partner struct {
	ID   ID     `json:"id"`
	Name string `json:"name"`
}

// UnmarshalJSON tolerates Splynx's loose types.
func (p *Partner) UnmarshalJSON(b []byte) error {
	type Plain Partner
	aux := struct {
		*Plain
		Name *text `json:"name"`
	}{(*Plain)(p), (*text)(&p.Name)}
	return json.Unmarshal(b, &aux)
}

// Location is admin/administration/locations.
type Location struct {
	ID   ID     `json:"id"`
	Name string `json:"name"`
}

// UnmarshalJSON tolerates Splynx's loose types.
func (l *Location) UnmarshalJSON(b []byte) error {
	type Plain Location
	aux := struct {
		*Plain
		Name *text `json:"name"`
	}{(*Plain)(l), (*text)(&l.Name)}
	return json.Unmarshal(b, &aux)
}

// AdditionalField is a custom-field definition (admin/config/additional-fields/{module}).
type AdditionalField struct {
	Name         string `json:"name"`
	Title        string `json:"title"`
	Type         string `json:"type"` // string | integer | decimal | boolean | select | ...
	Module       string `json:"module,omitempty"`
	DefaultValue string `json:"default_value"`
	SelectValues string `json:"select_values,omitempty"`
	IsRequired   Flag   `json:"is_required"`
	IsUnique     Flag   `json:"is_unique"`
	IsAdd        Flag   `json:"is_add"`
	ShowInList   Flag   `json:"show_in_list"`
	Searchable   Flag   `json:"searchable"`
	Readonly     Flag   `json:"readonly"`
	Disabled     Flag   `json:"disabled"`
	Hidden       Flag   `json:"hidden"`
}

// UnmarshalJSON tolerates Splynx's loose types.
func (f *AdditionalField) UnmarshalJSON(b []byte) error {
	type Plain AdditionalField
	aux := struct {
		*Plain
		Name         *text `json:"name"`
		Title        *text `json:"title"`
		Type         *text `json:"type"`
		Module       *text `json:"module"`
		DefaultValue *text `json:"default_value"`
		SelectValues *text `json:"select_values"`
	}{(*Plain)(f), (*text)(&f.Name), (*text)(&f.Title), (*text)(&f.Type), (*text)(&f.Module),
		(*text)(&f.DefaultValue), (*text)(&f.SelectValues)}
	return json.Unmarshal(b, &aux)
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

// Identity is what a token login says about who holds the token.
type Identity struct {
	AuthType    string // api_key | admin | customer | session
	CustomerID  int64  // set when the token belongs to a customer and the server says so
	AdminID     int64  // set when the token belongs to an administrator and the server says so
	Login       string
	Permissions json.RawMessage
}

// Module is an entry of Config → Integrations → Modules list
// (admin/config/modules); an add-on's module name is its config path.
type Module struct {
	Module string `json:"module"`
	Title  string `json:"title"`
	Root   string `json:"root"`
	Type   string `json:"type"`
	Icon   string `json:"icon"`
	Path   string `json:"path"`
	Status string `json:"status"` // entry points status for the portal
}

// UnmarshalJSON tolerates Splynx's loose types.
func (m *Module) UnmarshalJSON(b []byte) error {
	type Plain Module
	aux := struct {
		*Plain
		Module *text `json:"module"`
		Title  *text `json:"title"`
		Root   *text `json:"root"`
		Type   *text `json:"type"`
		Icon   *text `json:"icon"`
		Path   *text `json:"path"`
		Status *text `json:"status"`
	}{(*Plain)(m), (*text)(&m.Module), (*text)(&m.Title), (*text)(&m.Root), (*text)(&m.Type),
		(*text)(&m.Icon), (*text)(&m.Path), (*text)(&m.Status)}
	return json.Unmarshal(b, &aux)
}

// PaymentAccountDef is a payment account definition: a title and the
// labels of field_1..field_10 (created by an add-on installer).
type PaymentAccountDef struct {
	ID     ID
	Title  string
	Fields [10]string // labels; Fields[0] labels field_1
}

// UnmarshalJSON reads id, title and field_1..field_10.
func (d *PaymentAccountDef) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	var out PaymentAccountDef
	for k, v := range raw {
		var err error
		switch k {
		case "id":
			err = out.ID.UnmarshalJSON(v)
		case "title":
			var t text
			err = t.UnmarshalJSON(v)
			out.Title = string(t)
		default:
			rest, ok := strings.CutPrefix(k, "field_")
			if n, convErr := strconv.Atoi(rest); ok && convErr == nil && n >= 1 && n <= 10 {
				var t text
				err = t.UnmarshalJSON(v)
				out.Fields[n-1] = string(t)
			}
		}
		if err != nil {
			return err
		}
	}
	*d = out
	return nil
}
