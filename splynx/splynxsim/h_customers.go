package splynxsim

import (
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/splynx-pay/splynx-pay/internal/money"
)

// list answers a GET list or a HEAD count over a table with the standard
// search parameters.
func list[R any](c *rctx, t *table[R], v *view[R], render func(w *jw, r *R)) {
	q, err := parseListQuery(c.query)
	if err == nil {
		err = v.prepare(q)
	}
	if err != nil {
		c.badRequest(err.Error())
		return
	}
	if c.s.refuseRangeSearch(c, q) || c.s.refuseInSearch(c, q) {
		return
	}
	s := c.s
	s.mu.RLock()
	defer s.mu.RUnlock()
	if c.method == http.MethodHead {
		q.limit, q.offset = 0, 0
		p := t.query(v, q)
		c.count(p.total)
		return
	}
	p := t.query(v, q)
	c.w.b = make([]byte, 0, min(256+p.len()*1200, 4<<20))
	c.w.openArr()
	n := 0
	p.each(func(i int) {
		if r := &t.recs[i]; !t.hidden[t.idOf(r)] {
			render(&c.w, r)
			n++
		}
	})
	c.w.closeArr()
	c.records = n
	c.ok(http.StatusOK)
}

// options answers OPTIONS on a list path with the attribute schema, as
// Splynx does: attributes and the module's additional attributes.
func options[R any](c *rctx, v *view[R], afModule string) {
	s := c.s
	s.mu.RLock()
	defer s.mu.RUnlock()
	names := make([]string, 0, len(v.fields))
	for n := range v.fields {
		names = append(names, n)
	}
	slices.Sort(names)
	w := &c.w
	w.open()
	w.key("attributes")
	w.openArr()
	for _, n := range names {
		w.open()
		w.str("name", n)
		w.str("title", n)
		w.str("type", [...]string{"integer", "decimal", "string", "date"}[v.fields[n].kind])
		w.boolean("required", n == "customer_id" || n == "name")
		w.close()
	}
	w.closeArr()
	w.key("additional_attributes")
	w.openArr()
	for i := range s.afs[afModule] {
		f := &s.afs[afModule][i]
		w.open()
		w.str("name", f.Name)
		w.str("title", f.Title)
		w.str("type", f.Type)
		w.boolean("required", f.IsRequired)
		w.str("module", f.Module)
		w.num("position", int64(i+1))
		w.close()
	}
	w.closeArr()
	w.close()
	c.ok(http.StatusOK)
}

// one renders a single record by id or answers 404.
func one[R any](c *rctx, t *table[R], id int64, render func(w *jw, r *R)) {
	c.s.mu.RLock()
	defer c.s.mu.RUnlock()
	r := t.get(id)
	if r == nil {
		c.notFound()
		return
	}
	render(&c.w, r)
	c.records = 1
	c.ok(http.StatusOK)
}

func (s *Sim) customerView() *view[custRec] {
	return &view[custRec]{
		name: "customers",
		aa:   func(r *custRec) map[string]string { return r.c.AdditionalAttributes },
		fields: map[string]field[custRec]{
			"id":            fInt(func(r *custRec) int64 { return r.c.ID }),
			"login":         fStr(func(r *custRec) string { return r.c.Login }),
			"name":          fStr(func(r *custRec) string { return r.c.Name }),
			"email":         fStr(func(r *custRec) string { return r.c.Email }),
			"billing_email": fStr(func(r *custRec) string { return r.c.BillingEmail }),
			"phone":         fStr(func(r *custRec) string { return r.c.Phone }),
			"category":      fStr(func(r *custRec) string { return r.c.Category }),
			"status":        fStr(func(r *custRec) string { return r.c.Status }),
			"billing_type":  fStr(func(r *custRec) string { return r.c.BillingType }),
			"partner_id":    fInt(func(r *custRec) int64 { return r.c.PartnerID }),
			"location_id":   fInt(func(r *custRec) int64 { return r.c.LocationID }),
			"street_1":      fStr(func(r *custRec) string { return r.c.Street1 }),
			"street_2":      fStr(func(r *custRec) string { return r.c.Street2 }),
			"zip_code":      fStr(func(r *custRec) string { return r.c.ZipCode }),
			"city":          fStr(func(r *custRec) string { return r.c.City }),
			"date_add":      fDay(func(r *custRec) int32 { return dayOf(r.c.DateAdd) }),
			"last_update":   fSec(func(r *custRec) int64 { return secOf(r.c.LastUpdate) }),
			"parent_id":     fInt(func(r *custRec) int64 { return 0 }),
		},
	}
}

func (s *Sim) billingView() *view[custRec] {
	return &view[custRec]{
		name: "billing",
		fields: map[string]field[custRec]{
			"customer_id":    fInt(func(r *custRec) int64 { return r.c.ID }),
			"enabled":        fInt(func(r *custRec) int64 { return b2i(r.b.Enabled) }),
			"type":           fStr(func(r *custRec) string { return r.b.Type }),
			"deposit":        fMoney(func(r *custRec) int64 { return int64(r.b.Deposit) }),
			"payment_method": fInt(func(r *custRec) int64 { return r.b.PaymentMethod }),
			"billing_date":   fInt(func(r *custRec) int64 { return int64(r.b.BillingDate) }),
			"billing_due":    fInt(func(r *custRec) int64 { return int64(r.b.BillingDue) }),
			"min_balance":    fMoney(func(r *custRec) int64 { return int64(r.b.MinBalance) }),
		},
	}
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func (s *Sim) renderCustomer(w *jw, r *custRec) {
	c := &r.c
	w.open()
	w.id("id", c.ID)
	w.str("login", c.Login)
	w.str("name", c.Name)
	w.str("email", c.Email)
	w.str("billing_email", c.BillingEmail)
	w.str("phone", c.Phone)
	w.str("category", c.Category)
	w.str("status", c.Status)
	w.str("billing_type", c.BillingType)
	w.id("partner_id", c.PartnerID)
	w.id("location_id", c.LocationID)
	w.id("parent_id", 0)
	w.str("added_by", "api")
	w.id("added_by_id", 0)
	w.str("street_1", c.Street1)
	w.str("street_2", c.Street2)
	w.str("zip_code", c.ZipCode)
	w.str("city", c.City)
	w.id("subdivision_id", 0)
	w.date("date_add", dayOf(c.DateAdd))
	w.datetime("last_online", 0)
	w.datetime("last_update", secOf(c.LastUpdate))
	w.money("daily_prepaid_cost", 0)
	w.money("mrr_total", 0)
	w.str("gps", "")
	w.date("gdpr_agreed", 0)
	w.date("conversion_date", 0)
	w.key("customer_labels")
	w.openArr()
	w.closeArr()
	w.strMap("additional_attributes", c.AdditionalAttributes, s.afNames("customers"))
	w.close()
}

func (s *Sim) renderBilling(w *jw, r *custRec) {
	b := &r.b
	w.open()
	w.id("customer_id", r.c.ID)
	w.flag("enabled", b.Enabled)
	w.str("type", b.Type)
	w.money("deposit", int64(b.Deposit))
	w.id("billing_date", int64(b.BillingDate))
	w.id("billing_due", int64(b.BillingDue))
	w.id("blocking_period", int64(b.BlockingPeriod))
	w.id("grace_period", int64(b.GracePeriod))
	w.flag("make_invoices", b.MakeInvoices)
	w.id("payment_method", b.PaymentMethod)
	w.money("min_balance", int64(b.MinBalance))
	w.flag("request_auto_enable", false)
	w.id("request_auto_day", 0)
	w.id("request_auto_period", 0)
	w.date("request_auto_next", 0)
	w.flag("reminder_enabled", false)
	w.str("billing_person", r.c.Name)
	w.str("billing_street_1", r.c.Street1)
	w.str("billing_zip_code", r.c.ZipCode)
	w.str("billing_city", r.c.City)
	w.str("sub_billing_mode", "none")
	w.flag("send_finance_notification", true)
	w.money("partner_percent", 0)
	w.close()
}

var (
	customerStatuses = []string{"new", "active", "blocked", "disabled"}
	billingTypes     = []string{"recurring", "prepaid", "prepaid_monthly"}
	categories       = []string{"person", "company"}
)

func (s *Sim) hCustomers(c *rctx) {
	if c.rest == "" {
		switch c.method {
		case http.MethodGet, http.MethodHead:
			list(c, &s.customers, s.customerView(), s.renderCustomer)
		case http.MethodOptions:
			options(c, s.customerView(), "customers")
		case http.MethodPost:
			s.createCustomer(c)
		default:
			c.methodNotAllowed()
		}
		return
	}
	id, ok := parseIDPath(c.rest)
	if !ok {
		c.notFound()
		return
	}
	switch c.method {
	case http.MethodGet:
		one(c, &s.customers, id, s.renderCustomer)
	case http.MethodPut:
		s.updateCustomer(c, id)
	case http.MethodDelete:
		s.mu.Lock()
		ok := s.customers.remove(id)
		s.mu.Unlock()
		if !ok {
			c.notFound()
			return
		}
		c.noContent()
	default:
		c.methodNotAllowed()
	}
}

// applyCustomerFields copies the writable fields present in b onto cu and
// returns validation errors.
func (s *Sim) applyCustomerFields(b obj, cu *Customer) []fieldError {
	var errs []fieldError
	strs := map[string]*string{
		"login": &cu.Login, "name": &cu.Name, "email": &cu.Email, "billing_email": &cu.BillingEmail,
		"phone": &cu.Phone, "street_1": &cu.Street1, "street_2": &cu.Street2, "zip_code": &cu.ZipCode, "city": &cu.City,
	}
	for k, p := range strs {
		if b.has(k) {
			*p = b.str(k)
		}
	}
	enums := []struct {
		k    string
		p    *string
		vals []string
	}{{"status", &cu.Status, customerStatuses}, {"billing_type", &cu.BillingType, billingTypes}, {"category", &cu.Category, categories}}
	for _, e := range enums {
		if !b.has(e.k) {
			continue
		}
		v := b.str(e.k)
		if !contains(e.vals, v) {
			errs = append(errs, fieldError{e.k, e.k + " is invalid."})
			continue
		}
		*e.p = v
	}
	for k, p := range map[string]*int64{"partner_id": &cu.PartnerID, "location_id": &cu.LocationID} {
		if !b.has(k) {
			continue
		}
		n, ok := b.id(k)
		if !ok {
			errs = append(errs, fieldError{k, k + " must be an integer."})
			continue
		}
		if k == "partner_id" && n != 0 && !s.hasPartner(n) {
			errs = append(errs, fieldError{k, "Partner is not found."})
			continue
		}
		*p = n
	}
	if b.has("date_add") {
		d, err := time.Parse("2006-01-02", b.str("date_add"))
		if err != nil {
			errs = append(errs, fieldError{"date_add", "Date add is invalid."})
		} else {
			cu.DateAdd = d
		}
	}
	if aa, ok := b.strMap("additional_attributes"); ok {
		if cu.AdditionalAttributes == nil {
			cu.AdditionalAttributes = map[string]string{}
		}
		for k, v := range aa {
			if !contains(s.afNames("customers"), k) {
				errs = append(errs, fieldError{"additional_attributes." + k, "Unknown additional attribute."})
				continue
			}
			cu.AdditionalAttributes[k] = v
		}
	}
	return errs
}

func (s *Sim) hasPartner(id int64) bool {
	for _, p := range s.partners {
		if p.ID == id {
			return true
		}
	}
	return len(s.partners) == 0 && id == 1
}

func (s *Sim) createCustomer(c *rctx) {
	b, ok := c.decode()
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var cu Customer
	errs := s.applyCustomerFields(b, &cu)
	if strings.TrimSpace(cu.Name) == "" {
		errs = append(errs, fieldError{"name", "Full name cannot be blank."})
	}
	if len(errs) > 0 {
		c.invalid(errs...)
		return
	}
	id := s.addCustomerLocked(cu, nil)
	c.created(id)
}

func (s *Sim) updateCustomer(c *rctx, id int64) {
	b, ok := c.decode()
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.customers.get(id)
	if r == nil {
		c.notFound()
		return
	}
	cu := r.c
	cu.AdditionalAttributes = maps.Clone(cu.AdditionalAttributes)
	if errs := s.applyCustomerFields(b, &cu); len(errs) > 0 {
		c.invalid(errs...)
		return
	}
	if strings.TrimSpace(cu.Name) == "" {
		c.invalid(fieldError{"name", "Full name cannot be blank."})
		return
	}
	cu.LastUpdate = s.now()
	r.c = cu
	s.customers.touch()
	c.accepted()
}

// hBilling serves customer-billing/{id} (GET, PUT) and the list.
func (s *Sim) hBilling(c *rctx) {
	if c.rest == "" {
		if s.opts.NoBillingList {
			c.notFound()
			return
		}
		if s.refuseBillingList(c) {
			return
		}
		switch c.method {
		case http.MethodGet, http.MethodHead:
			list(c, &s.customers, s.billingView(), s.renderBilling)
		default:
			c.methodNotAllowed()
		}
		return
	}
	id, ok := parseIDPath(c.rest)
	if !ok {
		c.notFound()
		return
	}
	switch c.method {
	case http.MethodGet:
		one(c, &s.customers, id, s.renderBilling)
	case http.MethodPut:
		b, ok := c.decode()
		if !ok {
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		r := s.customers.get(id)
		if r == nil {
			c.notFound()
			return
		}
		nb := r.b
		var errs []fieldError
		if b.has("deposit") {
			errs = append(errs, fieldError{"deposit", "Deposit is changed by payments and transactions only."})
		}
		ints := map[string]*int{"billing_date": &nb.BillingDate, "billing_due": &nb.BillingDue, "grace_period": &nb.GracePeriod, "blocking_period": &nb.BlockingPeriod}
		for k, p := range ints {
			if b.has(k) {
				n, ok := b.id(k)
				if !ok {
					errs = append(errs, fieldError{k, k + " must be an integer."})
					continue
				}
				*p = int(n)
			}
		}
		if b.has("payment_method") {
			n, ok := b.id("payment_method")
			if !ok || s.method(n) == nil {
				errs = append(errs, fieldError{"payment_method", "Payment method is invalid."})
			} else {
				nb.PaymentMethod = n
			}
		}
		if b.has("enabled") {
			nb.Enabled = b.str("enabled") == "1" || b.str("enabled") == "true"
		}
		if b.has("make_invoices") {
			nb.MakeInvoices = b.str("make_invoices") == "1" || b.str("make_invoices") == "true"
		}
		if b.has("type") {
			nb.Type = b.str("type")
		}
		if b.has("min_balance") {
			a, err := money.Parse(b.str("min_balance"))
			if err != nil {
				errs = append(errs, fieldError{"min_balance", "Minimum balance must be a number."})
			} else {
				nb.MinBalance = a
			}
		}
		if len(errs) > 0 {
			c.invalid(errs...)
			return
		}
		r.b = nb
		r.c.LastUpdate = s.now()
		s.customers.touch()
		c.accepted()
	default:
		c.methodNotAllowed()
	}
}
