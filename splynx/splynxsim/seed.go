package splynxsim

import (
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/splynx-pay/splynx-pay/internal/money"
)

// SeedConfig sizes a deterministic data set.
type SeedConfig struct {
	Seed      int64
	Customers int
	Invoices  int // spread over the customers; 0 with Customers > 0 → none
	Proformas int
	Partners  int // 0 → 1
	Locations int // 0 → 1
}

// Module names of the two add-ons (contracts §6).
const (
	ModuleIntegraPay = "splynx_addon_integrapay"
	ModuleIPpay      = "splynx_ippay_addon"
)

// Gateway credentials the seeded module config carries; the gateway
// simulators accept these by default.
const (
	SeedIntegraPayUsername   = "splynx-sim"
	SeedIntegraPayPassword   = "sim-password-0001"
	SeedIntegraPayBusinessID = "90129"
	SeedIPpayTerminalID      = "TESTTERMINAL"
	SeedIPpayACHTerminalID   = "TESTACH"
)

// Payment method ids created by Seed (as on a live Splynx: no id 4).
const (
	MethodCash         = 1
	MethodBankTransfer = 2
	MethodCreditCard   = 3
	MethodOther        = 5
	MethodRefillCard   = 6
)

// Payment-account definition ids created by Seed for the two add-ons.
const (
	AccountIntegraPay = 1
	AccountIPpay      = 2
)

// DefaultModuleConfig returns the settings Seed stores for an add-on module,
// split into the common block and the default-partner block.
func DefaultModuleConfig(module string) (common, defaultPartner map[string]string) {
	common = map[string]string{
		"customer_identifier":        "id",
		"auto_charge":                "1",
		"charge_blocked_customers":   "0",
		"charge_disabled_customers":  "0",
		"autopay_attribute":          "autopay",
		"retry_days":                 "3,7",
		"max_attempts":               "3",
		"charge_concurrency":         "8",
		"gateway_rate_limit":         "10",
		"service_fee_percent":        "0",
		"fee_vat_percent":            "0",
		"fee_transaction_category":   "",
		"add_fee_to_request":         "0",
		"payment_statements":         "1",
		"payment_statement_grouping": "month",
		"refund_mode":                "delete",
		"dishonour_fee":              "0",
		"splynx_url":                 "https://splynx.example.com",
	}
	defaultPartner = map[string]string{
		"payment_method_card": strconv.Itoa(MethodCreditCard),
		"payment_method_bank": strconv.Itoa(MethodBankTransfer),
	}
	switch module {
	case ModuleIntegraPay:
		common["currency"] = "AUD"
		common["integrapay_environment"] = "sandbox"
		common["integrapay_auth_url"] = ""
		common["integrapay_api_url"] = ""
		defaultPartner["integrapay_username"] = SeedIntegraPayUsername
		defaultPartner["integrapay_password"] = SeedIntegraPayPassword
		defaultPartner["integrapay_business_id"] = SeedIntegraPayBusinessID
	case ModuleIPpay:
		common["currency"] = "USD"
		common["ippay_environment"] = "test"
		common["ippay_url"] = ""
		common["ippay_ach_sec"] = "WEB"
		common["ippay_ach_settle_days"] = "5"
		common["ippay_returns_url"] = ""
		defaultPartner["ippay_terminal_id"] = SeedIPpayTerminalID
		// One terminal takes cards and ACH (issue 17); a two-terminal
		// set-up would name SeedIPpayACHTerminalID here.
		defaultPartner["ippay_ach_terminal_id"] = ""
	}
	return common, defaultPartner
}

var (
	firstNames = []string{"Olivia", "Noah", "Charlotte", "Jack", "Amelia", "William", "Isla", "Oliver", "Mia", "Henry",
		"Ava", "Thomas", "Grace", "James", "Chloe", "Lucas", "Sophie", "Liam", "Emily", "Ethan", "Ruby", "Leo", "Zoe", "Mason"}
	lastNames = []string{"Smith", "Jones", "Williams", "Brown", "Wilson", "Taylor", "Johnson", "White", "Martin", "Anderson",
		"Thompson", "Nguyen", "Walker", "Harris", "Lee", "Ryan", "Robinson", "Kelly", "King", "Davis", "Wright", "Evans", "Roberts", "Green"}
	companyWords = []string{"Acme", "Harbour", "Summit", "Bluegum", "Redwood", "Coastal", "Granite", "Sunrise", "Ironbark", "Pioneer"}
	streets      = []string{"George St", "King St", "High St", "Church St", "Station Rd", "Park Ave", "Victoria Rd", "Main St", "Elm St", "Oak Ave"}
	cities       = []string{"Sydney", "Melbourne", "Brisbane", "Perth", "Adelaide", "Hobart", "Austin", "Denver", "Portland", "Raleigh"}
	partnerNames = []string{"Main", "North Branch", "South Branch", "Reseller West", "Reseller East", "Wholesale"}
)

// Seed adds a deterministic data set: payment methods, partners,
// locations, the customers' "autopay" additional field, payment-account
// definitions and module config for both add-ons (each only if absent), then
// cfg.Customers customers and their invoices (about 88% paid, 5% unpaid,
// 4% partly paid, 2% deleted, recent ones more often unpaid), proformas
// (about half paid) and some balance refills of prepaid customers, with
// the payments that settle them. Deposits follow the ledger rule of the
// package comment. Meant for a fresh simulator; ids continue after existing
// records otherwise.
func (s *Sim) Seed(cfg SeedConfig) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rng := rand.New(rand.NewPCG(uint64(cfg.Seed), 0x59e3d))
	s.seedReference(cfg)
	now := s.now()
	today := dayOf(now)
	nowSec := now.Unix()

	nPartners := max(cfg.Partners, 1)
	nLocations := max(cfg.Locations, 1)
	methodSpread := []int64{1, 2, 2, 2, 3, 3, 3, 3, 5, 6} // by weight: bank transfer and card dominate
	firstCust := s.next["customer"] + 1
	s.customers.recs = growCap(s.customers.recs, cfg.Customers)
	for i := range cfg.Customers {
		id := s.nextID("customer", 0)
		fn, ln := firstNames[rng.IntN(len(firstNames))], lastNames[rng.IntN(len(lastNames))]
		c := Customer{ID: id, Login: "user" + strconv.FormatInt(id, 10), Category: "person"}
		if rng.IntN(100) < 15 {
			c.Category = "company"
			c.Name = companyWords[rng.IntN(len(companyWords))] + " " + ln + " Pty Ltd"
			c.Email = "accounts" + strconv.FormatInt(id, 10) + "@" + strings.ToLower(ln) + ".example.com"
		} else {
			c.Name = fn + " " + ln
			c.Email = strings.ToLower(fn) + "." + strings.ToLower(ln) + strconv.FormatInt(id, 10) + "@example.net"
		}
		switch r := rng.IntN(100); {
		case r < 85:
			c.Status = "active"
		case r < 91:
			c.Status = "new"
		case r < 96:
			c.Status = "blocked"
		default:
			c.Status = "disabled"
		}
		switch r := rng.IntN(100); {
		case r < 70:
			c.BillingType = "recurring"
		case r < 90:
			c.BillingType = "prepaid"
		default:
			c.BillingType = "prepaid_monthly"
		}
		c.PartnerID = int64(1 + i%nPartners)
		c.LocationID = int64(1 + rng.IntN(nLocations))
		c.Phone = "04" + pad(int64(rng.IntN(100000000)), 8)
		c.Street1 = strconv.Itoa(1+rng.IntN(300)) + " " + streets[rng.IntN(len(streets))]
		c.City = cities[rng.IntN(len(cities))]
		c.ZipCode = pad(int64(1000+rng.IntN(8999)), 4)
		c.DateAdd = timeOfDay(today - int32(30+rng.IntN(1500)))
		c.LastUpdate = timeOfSec(secOf(c.DateAdd) + int64(rng.IntN(86400)))
		switch r := rng.IntN(100); {
		case r < 10:
			c.AdditionalAttributes = map[string]string{"autopay": "0"}
		case r < 15:
			c.AdditionalAttributes = map[string]string{"autopay": "1"}
		}
		b := Billing{CustomerID: id, Enabled: c.Status != "disabled", Type: c.BillingType,
			PaymentMethod: methodSpread[rng.IntN(len(methodSpread))], BillingDate: 1, BillingDue: 14, GracePeriod: 3, MakeInvoices: true}
		s.customers.recs = append(s.customers.recs, custRec{c: c, b: b})
	}
	s.customers.touch()
	nCust := int64(cfg.Customers)
	cust := func(id int64) *custRec {
		if id < firstCust || id >= firstCust+nCust {
			return nil
		}
		return &s.customers.recs[len(s.customers.recs)-int(nCust)+int(id-firstCust)]
	}
	touch := func(c *custRec, sec int64) {
		if sec > secOf(c.c.LastUpdate) {
			c.c.LastUpdate = timeOfSec(sec)
		}
	}
	if nCust == 0 {
		return
	}

	addPayment := func(c *custRec, invID, reqID, amount, applied int64, day int32, paid bool) int64 {
		id := s.nextID("payment", 0)
		at := int64(day-1)*86400 + int64(8*3600+rng.IntN(10*3600))
		if at > nowSec {
			at = nowSec
		}
		p := payRec{id: id, customerID: c.c.ID, invoiceID: invID, requestID: reqID, amount: amount, applied: applied,
			realCreate: at, updatedAt: at, date: day, paymentType: int32(c.b.PaymentMethod)}
		if invID != 0 {
			p.paidInvoice = paid
		} else if reqID != 0 {
			p.paidProforma = paid
		}
		s.payments.recs = append(s.payments.recs, p)
		c.b.Deposit += money.Amount(amount)
		touch(c, at)
		return id
	}

	// Invoices: ids grow with the creation date over the last two years.
	const span = 730
	s.invoices.recs = growCap(s.invoices.recs, cfg.Invoices)
	s.payments.recs = growCap(s.payments.recs, cfg.Invoices*9/10+cfg.Proformas/2+cfg.Customers/10)
	for i := range cfg.Invoices {
		c := cust(firstCust + int64(rng.IntN(int(nCust))))
		created := today - span + int32(int64(i)*span/int64(max(cfg.Invoices, 1)))
		age := today - created
		r := docRec{id: s.nextID("invoice", 0), customerID: c.c.ID, dateCreated: created, dateTill: created + 14,
			total: int64(1000 + rng.IntN(19001)), genItems: uint8(1 + rng.IntN(3))}
		r.realCreate = int64(created-1)*86400 + int64(3600+rng.IntN(5*3600))
		if rng.IntN(100) < 20 {
			r.typ = 1
		}
		roll := rng.IntN(1000)
		var paidP, partP, delP int // per mille
		if age < 30 {
			paidP, partP, delP = 350, 100, 10
		} else {
			paidP, partP, delP = 920, 30, 20
		}
		payDay := min(created+int32(rng.IntN(20)), today)
		switch {
		case roll < delP:
			r.status, r.due = stDeleted, r.total
			r.dateUpdated = r.realCreate + int64(rng.IntN(5*86400))
		case roll < delP+paidP:
			r.status, r.due = stPaid, 0
			r.dateP = payDay
			r.paymentID = addPayment(c, r.id, 0, r.total, r.total, payDay, true)
			c.b.Deposit -= money.Amount(r.total)
			r.dateUpdated = s.payments.recs[len(s.payments.recs)-1].realCreate
		case roll < delP+paidP+partP:
			part := r.total * int64(20+rng.IntN(61)) / 100
			r.status, r.due = stNotPaid, r.total-part
			addPayment(c, r.id, 0, part, part, payDay, false)
			c.b.Deposit -= money.Amount(r.total)
			r.dateUpdated = s.payments.recs[len(s.payments.recs)-1].realCreate
		default:
			r.status, r.due = stNotPaid, r.total
			c.b.Deposit -= money.Amount(r.total)
			r.dateUpdated = r.realCreate
		}
		if r.dateUpdated > nowSec {
			r.dateUpdated = nowSec
		}
		if r.realCreate > nowSec {
			r.realCreate = nowSec
		}
		touch(c, r.realCreate)
		s.invoices.recs = append(s.invoices.recs, r)
	}
	s.invoices.touch()

	for i := range cfg.Proformas {
		c := cust(firstCust + int64(rng.IntN(int(nCust))))
		created := today - 365 + int32(int64(i)*365/int64(cfg.Proformas))
		r := docRec{id: s.nextID("proforma", 0), customerID: c.c.ID, dateCreated: created, dateTill: created + 14,
			total: int64(1000 + rng.IntN(19001)), genItems: uint8(1 + rng.IntN(2)), addedBy: 0}
		r.realCreate = min(int64(created-1)*86400+int64(3600+rng.IntN(5*3600)), nowSec)
		r.dateUpdated = r.realCreate
		if rng.IntN(100) < 55 {
			day := min(created+int32(rng.IntN(10)), today)
			r.status, r.dateP = stPaid, day
			r.paymentID = addPayment(c, 0, r.id, r.total, 0, day, true)
			r.dateUpdated = s.payments.recs[len(s.payments.recs)-1].realCreate
		}
		touch(c, r.realCreate)
		s.proformas.recs = append(s.proformas.recs, r)
	}
	s.proformas.touch()

	// Balance refills of some prepaid customers: payments with no invoice.
	for id := firstCust; id < firstCust+nCust; id++ {
		c := cust(id)
		if c.c.BillingType != "recurring" && rng.IntN(100) < 30 {
			addPayment(c, 0, 0, int64(2000+rng.IntN(8001)), 0, today-int32(rng.IntN(60)), false)
		}
	}
	s.payments.touch()
}

func growCap[T any](s []T, n int) []T {
	if cap(s)-len(s) >= n {
		return s
	}
	out := make([]T, len(s), len(s)+n)
	copy(out, s)
	return out
}

func pad(n int64, width int) string {
	s := strconv.FormatInt(n, 10)
	if len(s) < width {
		s = strings.Repeat("0", width-len(s)) + s
	}
	return s
}

// seedReference creates the reference data Seed promises, each only if
// absent.
func (s *Sim) seedReference(cfg SeedConfig) {
	if len(s.methods) == 0 {
		for _, m := range []PaymentMethod{
			{ID: MethodCash, Name: "Cash", IsActive: true, Names: [5]string{"Payer"}},
			{ID: MethodBankTransfer, Name: "Bank transfer", IsActive: true, Names: [5]string{"Account", "Transaction ID"}},
			{ID: MethodCreditCard, Name: "Credit card", IsActive: true, Names: [5]string{"Number", "Transaction ID"}},
			{ID: MethodOther, Name: "Other", IsActive: true},
			{ID: MethodRefillCard, Name: "Refill card", IsActive: true, Names: [5]string{"Card"}},
		} {
			s.addMethodLocked(m)
		}
	}
	for i := len(s.partners); i < max(cfg.Partners, 1); i++ {
		name := "Partner " + strconv.Itoa(i+1)
		if i < len(partnerNames) {
			name = partnerNames[i]
		}
		s.partners = append(s.partners, Partner{ID: s.nextID("partner", int64(i+1)), Name: name})
	}
	for i := len(s.locations); i < max(cfg.Locations, 1); i++ {
		name := "Location " + strconv.Itoa(i+1)
		if i < len(cities) {
			name = cities[i]
		}
		s.locations = append(s.locations, Location{ID: s.nextID("location", int64(i+1)), Name: name})
	}
	if len(s.afs["customers"]) == 0 {
		s.addAFLocked(AdditionalField{Module: "customers", Name: "autopay", Title: "Autopay", Type: "select",
			SelectValues: "1,0", Default: "1", ShowInList: true, Searchable: true})
	}
	if len(s.accountDefs) == 0 {
		s.accountDefs = append(s.accountDefs,
			PaymentAccountDef{ID: s.nextID("payment_account", AccountIntegraPay), Title: "IntegraPay",
				Fields: [10]string{"Payer ID", "Token", "Method type", "Mask", "Expiry"}},
			PaymentAccountDef{ID: s.nextID("payment_account", AccountIPpay), Title: "IPpay",
				Fields: [10]string{"Token", "Method type", "Mask", "Expiry", "Account type"}})
	}
	for _, m := range []struct{ module, title, path string }{
		{ModuleIntegraPay, "IntegraPay", "/integrapay"}, {ModuleIPpay, "IPpay", "/ippay"},
	} {
		if _, ok := s.config[m.module]; !ok {
			common, def := DefaultModuleConfig(m.module)
			mc := newModuleConfig()
			mc.common, mc.def = common, def
			s.config[m.module] = mc
		}
		if !containsModule(s.modules, m.module) {
			s.modules = append(s.modules, Module{Module: m.module, Title: m.title, Root: `controllers\admin\ConfigController`,
				Type: "add-on", Icon: "fa-credit-card", Path: m.path, Status: "enabled"})
		}
	}
}

func containsModule(list []Module, name string) bool {
	for _, m := range list {
		if m.Module == name {
			return true
		}
	}
	return false
}
