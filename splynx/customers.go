package splynx

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"strconv"
	"strings"
)

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
			err = tenFields(&out.Fields, k, v)
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
			err = tenFields(&out.Fields, k, v)
		}
		if err != nil {
			return err
		}
	}
	*d = out
	return nil
}

// tenFields stores the value of key k in fields when k is field_1 ..
// field_10, and ignores any other key.
func tenFields(fields *[10]string, k string, v []byte) error {
	rest, ok := strings.CutPrefix(k, "field_")
	n, err := strconv.Atoi(rest)
	if !ok || err != nil || n < 1 || n > 10 {
		return nil
	}
	var t text
	err = t.UnmarshalJSON(v)
	fields[n-1] = string(t)
	return err
}

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
