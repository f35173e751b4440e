// Package setup puts an add-on in place on a Splynx server and checks that
// it works: InstallAddon creates through the Splynx API what the add-on
// needs and what is missing, and prints what the API cannot do; Doctor
// checks every link (Splynx, permissions, module config, gateway, database,
// clock) and prints one line per check with the fix.
//
// What the add-on needs from Splynx (payment methods, additional fields,
// API permissions, entry points) is declared once here, so the installer's
// instructions and the doctor's checks cannot drift apart.
package setup

import (
	"fmt"
	"strings"

	"github.com/splynx-pay/splynx-pay/internal/addon"
	"github.com/splynx-pay/splynx-pay/internal/config"
	"github.com/splynx-pay/splynx-pay/splynx"
)

// Addon is the add-on being set up. The daemon passes its own description.
type Addon struct {
	Name   string       // package and binary: "splynx-integrapay"
	Title  string       // "IntegraPay"
	Kind   config.Addon // config.IntegraPay
	Module string       // Splynx module: "splynx_addon_integrapay"
	Prefix string       // URL prefix on the Splynx host: "/integrapay"
	// ListenAddr is where the daemon listens for nginx: "127.0.0.1:8390".
	ListenAddr string
}

// ForAddon is the add-on's description for setting it up.
func ForAddon(id addon.Identity) Addon {
	return Addon{Name: id.Name, Title: id.Title, Kind: id.Kind, Module: id.Module, Prefix: id.Prefix, ListenAddr: id.ListenAddr}
}

// short is the prefix without the slash; it names the add-on's Splynx
// records (additional fields, entry points) the way Splynx add-ons do.
func (a Addon) short() string { return strings.Trim(a.Prefix, "/") }

func (a Addon) envFile() string { return "/etc/" + a.Name + "/env" }

func (a Addon) nginxFile() string { return "/etc/nginx/sites-available/" + a.Name + ".addons" }

func (a Addon) modulesListPlace() string {
	return "Config → Integrations → Modules list → " + a.Title + " → Edit"
}

// paymentMethod is a Splynx payment method the add-on books payments under.
type paymentMethod struct {
	Setting string // module setting that holds its id
	Name    string
	// Labels of the payment's field_1..field_5 in Splynx, in the order the
	// write-back fills them.
	Fields [5]string
}

func (a Addon) paymentMethods() []paymentMethod {
	fields := [5]string{"Transaction ID", "Reference", "Response code", "Response text", "Paid with"}
	bank := "direct debit"
	if a.Kind == config.IPpay {
		bank = "ACH"
	}
	return []paymentMethod{
		{Setting: "payment_method_card", Name: a.Title + " card", Fields: fields},
		{Setting: "payment_method_bank", Name: a.Title + " " + bank, Fields: fields},
	}
}

// additionalField is a custom field the add-on reads or writes.
type additionalField struct {
	Module string // Splynx module: customers, invoices, ...
	Field  splynx.AdditionalField
}

func (a Addon) additionalFields() []additionalField {
	s := a.short()
	return []additionalField{
		{Module: "customers", Field: splynx.AdditionalField{
			Name: s + "_autopay", Title: a.Title + " autopay", Type: "select",
			SelectValues: "yes,no", DefaultValue: "yes", ShowInList: true, Searchable: true,
		}},
		{Module: "customers", Field: splynx.AdditionalField{
			Name: s + "_payer_ref", Title: a.Title + " payer reference", Type: "string",
			Readonly: true, Searchable: true,
		}},
	}
}

// autopayAttribute is the customer field the charge engine reads to skip
// customers who opted out (module setting autopay_attribute).
func (a Addon) autopayAttribute() string { return a.short() + "_autopay" }

// Permission is what the add-on's API key must be allowed to do on one
// Splynx API controller (Administration → API keys → Permissions).
type Permission struct {
	Controller string   // `api\admin\finance\Invoices`
	Actions    []string // index, view, add, update, delete
	Why        string
}

// Permissions lists every API permission the daemon and install-addon use.
func Permissions() []Permission {
	return []Permission{
		{`api\admin\customers\Customer`, []string{"index", "view", "update"}, "mirror customers; autopay and payer reference fields"},
		{`api\admin\customers\CustomerBilling`, []string{"index", "view"}, "balances and each customer's payment method"},
		{`api\admin\customers\CustomerPaymentAccounts`, []string{"index", "view", "update", "delete"}, "show saved methods in the customer's payment account; restore-methods"},
		{`api\admin\finance\Invoices`, []string{"index", "view", "update"}, "mirror invoices, re-read each one before charging, mark it pending"},
		{`api\admin\finance\Requests`, []string{"index", "view"}, "mirror proforma invoices"},
		{`api\admin\finance\Payments`, []string{"index", "view", "add", "delete"}, "record settled payments once, find them by receipt, refunds"},
		{`api\admin\finance\PaymentMethods`, []string{"index", "add"}, "check and create the add-on's payment methods"},
		{`api\admin\finance\Transactions`, []string{"add"}, "service and dishonour fees"},
		{`api\admin\finance\BankStatements`, []string{"index", "add"}, "payment statements (payment_statements=1)"},
		{`api\admin\finance\BankStatementsRecords`, []string{"index", "add", "update"}, "payment statement records"},
		{`api\admin\config\Config`, []string{"index", "update"}, "read the add-on's module config; install-addon writes defaults"},
		{`api\admin\config\AdditionalFields`, []string{"index", "view", "add"}, "check and create the add-on's additional fields"},
		{`api\admin\administration\Partners`, []string{"index"}, "charge filters by partner"},
		{`api\admin\administration\Locations`, []string{"index"}, "charge filters by location"},
	}
}

// EntryPoint is a Splynx entry point the admin creates by hand (the API
// cannot): Config → Integrations → Modules list → <add-on> → Edit entry points.
type EntryPoint struct {
	Name  string
	Title string
	Place string // admin | portal
	Type  string // menu_link | action_link | tab
	Root  string // the page's controller (not for action_link)
	Model string // action_link only: Invoices, Requests
	URL   string
	Icon  string
}

// EntryPoints lists the entry points that make the add-on's pages reachable
// from Splynx, with the URL patterns Splynx payment add-ons use.
func (a Addon) EntryPoints() []EntryPoint {
	s, p := a.short(), a.Prefix
	return []EntryPoint{
		{Name: s + "_pay_invoice_point", Title: "Pay by " + a.Title, Place: "portal", Type: "action_link",
			Model: "Invoices", URL: p + "/direct-pay-invoice", Icon: "fa-credit-card"},
		{Name: s + "_pay_request_point", Title: "Pay by " + a.Title, Place: "portal", Type: "action_link",
			Model: "Requests", URL: p + "/direct-pay-proforma", Icon: "fa-credit-card"},
		{Name: s + "_add_money", Title: "Add money (" + a.Title + ")", Place: "portal", Type: "menu_link",
			Root: `controllers\portal\FinanceController`, URL: p + "/", Icon: "fa-money"},
		{Name: s + "_payment_credentials", Title: a.Title + " payment credentials", Place: "portal", Type: "menu_link",
			Root: `controllers\portal\FinanceController`, URL: p + "/methods", Icon: "fa-university"},
		{Name: s + "_charge", Title: a.Title + " charge", Place: "admin", Type: "menu_link",
			Root: `controllers\admin\FinanceController`, URL: p + "/charges", Icon: "fa-bolt"},
		{Name: s + "_pay_by_admin", Title: "Pay with " + a.Title, Place: "admin", Type: "tab",
			Root: `controllers\admin\CustomersController`, URL: p + "/admin/customer", Icon: "fa-credit-card"},
	}
}

// requiredSettings are the module settings without a usable default.
func (a Addon) requiredSettings(s config.Settings) []string {
	var need []string
	switch a.Kind {
	case config.IntegraPay:
		need = []string{"integrapay_username", "integrapay_password", "integrapay_business_id", "payment_method_card", "payment_method_bank"}
	case config.IPpay:
		need = []string{"ippay_terminal_id", "payment_method_card"}
		if s.IPpayACHTerminalID != "" {
			need = append(need, "payment_method_bank")
		}
	}
	var missing []string
	for _, k := range need {
		if v := strings.TrimSpace(s.Raw[k]); v == "" || v == "0" {
			missing = append(missing, k)
		}
	}
	return missing
}

// defaults are the module settings install-addon writes when they are
// missing: every setting with a single default value, for this add-on.
func (a Addon) defaults() map[string]string {
	out := map[string]string{}
	for _, sp := range config.SpecsFor(a.Kind) {
		switch {
		case sp.Key == "currency":
			out[sp.Key] = map[config.Addon]string{config.IntegraPay: "AUD", config.IPpay: "USD"}[a.Kind]
		case sp.Key == "autopay_attribute":
			out[sp.Key] = a.autopayAttribute()
		case sp.Default != "" && !strings.Contains(sp.Default, " "):
			out[sp.Key] = sp.Default
		}
	}
	return out
}

func (p Permission) String() string {
	return fmt.Sprintf("%s: %s", p.Controller, strings.Join(p.Actions, ", "))
}
