package splynxsim

import (
	"time"

	"github.com/splynx-pay/splynx-pay/internal/money"
)

// The types below are the simulator's own view of Splynx records, used by the
// typed state API (tests seed and inspect state through them). They are
// deliberately not the client's types: the client tests import this package,
// so an import back would be a cycle, and keeping them apart means the wire
// format is the only thing the two sides share. A zero time.Time means the
// empty Splynx date ("0000-00-00" / "0000-00-00 00:00:00"); dates are
// rendered in UTC.

// Customer is an admin/customers/customer record.
type Customer struct {
	ID           int64
	Login        string
	Name         string
	Email        string
	BillingEmail string
	Phone        string
	Category     string // person | company
	Status       string // new | active | blocked | disabled
	BillingType  string // recurring | prepaid | prepaid_monthly
	PartnerID    int64
	LocationID   int64
	Street1      string
	Street2      string
	ZipCode      string
	City         string
	DateAdd      time.Time
	LastUpdate   time.Time // moved by the simulator on every change
	// AdditionalAttributes holds custom field values by field name.
	AdditionalAttributes map[string]string
}

// Billing is the admin/customers/customer-billing/{id} record. Deposit is
// the customer's balance: payments raise it, invoices and debit transactions
// lower it.
type Billing struct {
	CustomerID     int64
	Enabled        bool
	Type           string // mirrors the customer's billing type when seeded
	Deposit        money.Amount
	PaymentMethod  int64 // payment method id ("Customer payment type")
	BillingDate    int   // day of month
	BillingDue     int   // days after billing date
	GracePeriod    int
	BlockingPeriod int
	MinBalance     money.Amount
	MakeInvoices   bool
}

// InvoiceItem is one line of an invoice or proforma. Price is the unit
// price before tax; TaxPercent is in hundredths of a percent (1000 = 10%).
type InvoiceItem struct {
	ID          int64
	Description string
	Quantity    int64
	Unit        string
	Price       money.Amount
	TaxPercent  int64
	PeriodFrom  time.Time
	PeriodTo    time.Time
}

// Invoice is an admin/finance/invoices record. Status is one of not_paid,
// paid, pending, deleted; Due is what is still owed.
type Invoice struct {
	ID                   int64
	CustomerID           int64
	Number               string // derived from the creation year and id when empty
	DateCreated          time.Time
	RealCreateDatetime   time.Time
	DateUpdated          time.Time
	DatePayment          time.Time
	DateTill             time.Time
	Total                money.Amount
	Due                  money.Amount
	PaymentID            int64
	Status               string
	Type                 string // one_time | recurring
	AddedBy              string // system | api | admin
	PaydFromDeposit      bool
	Note                 string
	Memo                 string
	Items                []InvoiceItem
	AdditionalAttributes map[string]string
}

// Proforma is an admin/finance/proforma-invoices record (a "request").
// Status is one of not_paid, paid, pending. Proformas carry no due and do
// not change the balance.
type Proforma struct {
	ID                   int64
	CustomerID           int64
	Number               string
	DateCreated          time.Time
	RealCreateDatetime   time.Time
	DateUpdated          time.Time
	DatePayment          time.Time
	DateTill             time.Time
	Total                money.Amount
	PaymentID            int64
	Status               string
	Note                 string
	Memo                 string
	Items                []InvoiceItem
	AdditionalAttributes map[string]string
}

// Payment is an admin/finance/payments record. Applied is the part of
// Amount that lowered the linked invoice's due (the simulator keeps it so a
// delete reverses the payment exactly).
type Payment struct {
	ID                   int64
	CustomerID           int64
	InvoiceID            int64
	RequestID            int64
	TransactionID        int64
	PaymentType          int64
	ReceiptNumber        string
	Date                 time.Time
	Amount               money.Amount
	Applied              money.Amount
	RemindAmount         money.Amount
	Comment              string
	Note                 string
	Memo                 string
	Field1               string
	Field2               string
	Field3               string
	Field4               string
	Field5               string
	AddedBy              string
	RealCreateDatetime   time.Time
	UpdatedAt            time.Time
	AdditionalAttributes map[string]string
}

// PaymentMethod is an admin/finance/payment-methods record; Names are the
// labels of a payment's field_1..field_5.
type PaymentMethod struct {
	ID       int64
	Name     string
	IsActive bool
	Names    [5]string
}

// PaymentAccountDef is a payment-account definition (title and field
// labels), created by an add-on installer in real Splynx.
type PaymentAccountDef struct {
	ID     int64
	Title  string
	Fields [10]string
}

// PaymentAccount is one customer's stored values for a payment account.
type PaymentAccount struct {
	AccountID  int64
	CustomerID int64
	Fields     [10]string
}

// Transaction is an admin/finance/transactions record. A debit lowers the
// balance, a credit raises it (DOCS' meaning, not APIB's labels).
type Transaction struct {
	ID          int64
	CustomerID  int64
	Type        string // debit | credit
	Quantity    int64
	Unit        string
	Price       money.Amount
	TaxPercent  int64
	Total       money.Amount
	Date        time.Time
	Category    int64
	Description string
	Comment     string
	InvoiceID   int64
	PaymentID   int64
	Source      string
}

// Partner is an admin/administration/partners record.
type Partner struct {
	ID   int64
	Name string
}

// Location is an admin/administration/locations record.
type Location struct {
	ID   int64
	Name string
}

// AdditionalField is an additional-field definition of a module.
type AdditionalField struct {
	Module       string
	Name         string
	Title        string
	Type         string
	Default      string
	SelectValues string
	IsRequired   bool
	IsUnique     bool
	ShowInList   bool
	Searchable   bool
	Readonly     bool
	Hidden       bool
}

// BankStatement is a payment statement ("process").
type BankStatement struct {
	ID          int64
	DateTime    time.Time
	Title       string
	Handler     string
	PaymentType int64
	Status      string // new | fail | success
}

// BankStatementRecord is one attempt logged under a payment statement.
type BankStatementRecord struct {
	ID                      int64
	BankStatementsProcessID int64
	DateTime                time.Time
	PaymentDate             time.Time
	Amount                  money.Amount
	Status                  string // new | processed | canceled | error | ignored | deleted | manual_paired | pending
	Pairing1                string
	Pairing2                string
	Pairing3                string
	Additional1             string
	Additional2             string
	Additional3             string
	Comment                 string
	CustomerID              int64
	InvoiceID               int64
	RequestID               int64
	PaymentID               int64
	TransactionID           int64
}

// Module is an admin/config/modules entry.
type Module struct {
	Module string
	Title  string
	Root   string
	Type   string
	Icon   string
	Path   string
	Status string
}

// Counts summarises the simulator's state.
type Counts struct {
	Customers    int
	Invoices     int
	Proformas    int
	Payments     int
	Transactions int
}
