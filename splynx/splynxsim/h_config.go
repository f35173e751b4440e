package splynxsim

import (
	"maps"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/splynx-pay/splynx-pay/internal/money"
)

// ---- module config ----

// moduleConfig mirrors an add-on's config.ini.php: [common],
// [default_partners_settings] and one section per partner override.
type moduleConfig struct {
	common   map[string]string
	def      map[string]string
	partners map[int64]map[string]string
}

func newModuleConfig() *moduleConfig {
	return &moduleConfig{common: map[string]string{}, def: map[string]string{}, partners: map[int64]map[string]string{}}
}

// merged is what ConfigHelper::get sees for a partner: the partner's
// override, else the default partner's value, else common.
func (m *moduleConfig) merged(partnerID int64) map[string]string {
	out := maps.Clone(m.common)
	maps.Copy(out, m.def)
	if p, ok := m.partners[partnerID]; ok && partnerID != 0 {
		maps.Copy(out, p)
	}
	return out
}

// set stores values: partner overrides for partnerID > 0, otherwise each
// key where it already lives (default partner block or common; new keys
// go to common).
func (m *moduleConfig) set(partnerID int64, values map[string]string) {
	if partnerID > 0 {
		p := m.partners[partnerID]
		if p == nil {
			p = map[string]string{}
			m.partners[partnerID] = p
		}
		maps.Copy(p, values)
		return
	}
	for k, v := range values {
		if _, ok := m.def[k]; ok {
			m.def[k] = v
		} else {
			m.common[k] = v
		}
	}
}

// SetModuleConfig stores add-on settings (see moduleConfig.set: partnerID
// 0 updates each key in its block, a partner id writes that partner's
// overrides).
func (s *Sim) SetModuleConfig(module string, partnerID int64, values map[string]string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.moduleConfigLocked(module).set(partnerID, values)
}

// SetModuleConfigBlock replaces the keys of one block: "common",
// "default_partners_settings" or a partner id in decimal.
func (s *Sim) SetModuleConfigBlock(module, block string, values map[string]string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.moduleConfigLocked(module)
	switch block {
	case "common":
		maps.Copy(m.common, values)
	case "default_partners_settings":
		maps.Copy(m.def, values)
	default:
		id, _ := strconv.ParseInt(block, 10, 64)
		m.set(id, values)
	}
}

func (s *Sim) moduleConfigLocked(module string) *moduleConfig {
	m := s.config[module]
	if m == nil {
		m = newModuleConfig()
		s.config[module] = m
	}
	return m
}

// ModuleConfig returns the effective settings of a module for a partner
// (0: common + default partner).
func (s *Sim) ModuleConfig(module string, partnerID int64) map[string]string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	m := s.config[module]
	if m == nil {
		return nil
	}
	return m.merged(partnerID)
}

func (s *Sim) hConfig(c *rctx) {
	root, err := parsePHPQuery(c.query)
	if err != nil {
		c.badRequest(err.Error())
		return
	}
	val := func(k string) string {
		if n := root.get(k); n != nil {
			return n.val
		}
		return ""
	}
	if val("module") != "add-on" {
		c.badRequest("Only module=add-on is simulated")
		return
	}
	path := val("path")
	var partnerID int64
	if p := val("partner_id"); p != "" {
		if partnerID, err = strconv.ParseInt(p, 10, 64); err != nil {
			c.badRequest("partner_id must be an integer")
			return
		}
	}
	switch c.method {
	case http.MethodGet:
		s.mu.RLock()
		defer s.mu.RUnlock()
		m := s.config[path]
		if m == nil {
			c.notFound()
			return
		}
		w := &c.w
		if key := val("key"); key != "" {
			v, ok := m.merged(partnerID)[key]
			if !ok {
				c.notFound()
				return
			}
			w.open()
			w.str(key, v)
			w.close()
			c.ok(http.StatusOK)
			return
		}
		if s.opts.ConfigShape == "nested" {
			w.open()
			w.strMap("common", m.common, nil)
			w.strMap("default_partners_settings", m.def, nil)
			ids := slices.Sorted(maps.Keys(m.partners))
			for _, id := range ids {
				if partnerID == 0 || id == partnerID {
					w.strMap(strconv.FormatInt(id, 10), m.partners[id], nil)
				}
			}
			w.close()
		} else {
			w.open()
			merged := m.merged(partnerID)
			for _, k := range sortedKeys(merged) {
				w.str(k, merged[k])
			}
			w.close()
		}
		c.ok(http.StatusOK)
	case http.MethodPut:
		b, ok := c.decode()
		if !ok {
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		m := s.config[path]
		if m == nil {
			c.notFound()
			return
		}
		flat := map[string]string{}
		for k, v := range b {
			if inner, ok := v.(map[string]any); ok {
				vals := map[string]string{}
				for ik := range inner {
					vals[ik] = obj(inner).str(ik)
				}
				switch k {
				case "common":
					maps.Copy(m.common, vals)
				case "default_partners_settings":
					maps.Copy(m.def, vals)
				default:
					id, err := strconv.ParseInt(k, 10, 64)
					if err != nil {
						c.invalid(fieldError{k, "Unknown config block."})
						return
					}
					m.set(id, vals)
				}
				continue
			}
			flat[k] = b.str(k)
		}
		m.set(partnerID, flat)
		c.accepted()
	default:
		c.methodNotAllowed()
	}
}

// ---- modules list ----

func renderModule(w *jw, m *Module) {
	w.open()
	w.str("module", m.Module)
	w.str("title", m.Title)
	w.str("root", m.Root)
	w.str("type", m.Type)
	w.str("icon", m.Icon)
	w.str("title_attribute_prefix", "")
	w.str("title_attribute_suffix", "")
	w.str("path", m.Path)
	w.str("status", m.Status)
	w.close()
}

// AddModule registers a modules-list entry.
func (s *Sim) AddModule(m Module) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.modules {
		if s.modules[i].Module == m.Module {
			s.modules[i] = m
			return
		}
	}
	s.modules = append(s.modules, m)
}

func moduleFromBody(b obj, m Module) (Module, []fieldError) {
	strs := map[string]*string{"module": &m.Module, "title": &m.Title, "root": &m.Root, "type": &m.Type, "icon": &m.Icon, "path": &m.Path, "status": &m.Status}
	for k, p := range strs {
		if b.has(k) {
			*p = b.str(k)
		}
	}
	var errs []fieldError
	for _, k := range []string{"module", "title", "root", "type"} {
		if *strs[k] == "" {
			errs = append(errs, fieldError{k, k + " cannot be blank."})
		}
	}
	return m, errs
}

func (s *Sim) hModules(c *rctx) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.rest == "" {
		switch c.method {
		case http.MethodGet:
			c.w.openArr()
			for i := range s.modules {
				renderModule(&c.w, &s.modules[i])
			}
			c.w.closeArr()
			c.ok(http.StatusOK)
		case http.MethodPost:
			b, ok := c.decode()
			if !ok {
				return
			}
			m, errs := moduleFromBody(b, Module{})
			for _, x := range s.modules {
				if x.Module == m.Module {
					errs = append(errs, fieldError{"module", "Module name has already been taken."})
				}
			}
			if len(errs) > 0 {
				c.invalid(errs...)
				return
			}
			s.modules = append(s.modules, m)
			c.created(int64(len(s.modules)))
		default:
			c.methodNotAllowed()
		}
		return
	}
	idx := slices.IndexFunc(s.modules, func(m Module) bool { return m.Module == c.rest })
	if idx < 0 {
		c.notFound()
		return
	}
	switch c.method {
	case http.MethodGet:
		renderModule(&c.w, &s.modules[idx])
		c.ok(http.StatusOK)
	case http.MethodPut:
		b, ok := c.decode()
		if !ok {
			return
		}
		m, errs := moduleFromBody(b, s.modules[idx])
		if len(errs) > 0 {
			c.invalid(errs...)
			return
		}
		s.modules[idx] = m
		c.accepted()
	case http.MethodDelete:
		s.modules = slices.Delete(s.modules, idx, idx+1)
		c.noContent()
	default:
		c.methodNotAllowed()
	}
}

// ---- additional fields ----

var afTypes = []string{"string", "integer", "decimal", "numeric", "date", "datetime", "boolean", "select", "select_multiple",
	"password", "file", "relation", "relation_multiple", "add-on", "ip", "textarea"}

func renderAF(w *jw, f *AdditionalField, pos int) {
	w.open()
	w.str("name", f.Name)
	w.str("title", f.Title)
	w.str("type", f.Type)
	w.str("module", f.Module)
	w.id("position", int64(pos))
	w.str("default_value", f.Default)
	w.str("select_values", f.SelectValues)
	w.flag("is_required", f.IsRequired)
	w.flag("is_unique", f.IsUnique)
	w.flag("is_add", true)
	w.flag("show_in_list", f.ShowInList)
	w.flag("searchable", f.Searchable)
	w.flag("readonly", f.Readonly)
	w.flag("disabled", false)
	w.flag("hidden", f.Hidden)
	w.close()
}

func afFromBody(b obj, f AdditionalField) (AdditionalField, []fieldError) {
	if b.has("name") {
		f.Name = b.str("name")
	}
	if b.has("title") {
		f.Title = b.str("title")
	}
	if b.has("type") {
		f.Type = b.str("type")
	}
	if b.has("default_value") {
		f.Default = b.str("default_value")
	}
	if b.has("select_values") {
		f.SelectValues = b.str("select_values")
	}
	flags := map[string]*bool{"is_required": &f.IsRequired, "is_unique": &f.IsUnique, "show_in_list": &f.ShowInList,
		"searchable": &f.Searchable, "readonly": &f.Readonly, "hidden": &f.Hidden}
	for k, p := range flags {
		if b.has(k) {
			v := b.str(k)
			*p = v == "1" || v == "true"
		}
	}
	var errs []fieldError
	if f.Name == "" {
		errs = append(errs, fieldError{"name", "Name cannot be blank."})
	} else if strings.ToLower(f.Name) != f.Name || strings.ContainsAny(f.Name, " -") {
		errs = append(errs, fieldError{"name", "Name must be lowercase letters, digits and underscores."})
	}
	if f.Title == "" {
		errs = append(errs, fieldError{"title", "Title cannot be blank."})
	}
	if !contains(afTypes, f.Type) {
		errs = append(errs, fieldError{"type", "Type is invalid."})
	}
	return f, errs
}

func (s *Sim) hAdditionalFields(c *rctx) {
	module, name, hasName := strings.Cut(c.rest, "--")
	if module == "" {
		c.notFound()
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	list := s.afs[module]
	if !hasName {
		switch c.method {
		case http.MethodGet:
			c.w.openArr()
			for i := range list {
				renderAF(&c.w, &list[i], i+1)
			}
			c.w.closeArr()
			c.ok(http.StatusOK)
		case http.MethodPost:
			b, ok := c.decode()
			if !ok {
				return
			}
			f, errs := afFromBody(b, AdditionalField{Module: module})
			if slices.ContainsFunc(list, func(x AdditionalField) bool { return x.Name == f.Name }) {
				errs = append(errs, fieldError{"name", "Name has already been taken."})
			}
			if len(errs) > 0 {
				c.invalid(errs...)
				return
			}
			s.addAFLocked(f)
			c.created(int64(len(s.afs[module])))
		default:
			c.methodNotAllowed()
		}
		return
	}
	idx := slices.IndexFunc(list, func(x AdditionalField) bool { return x.Name == name })
	if idx < 0 {
		c.notFound()
		return
	}
	switch c.method {
	case http.MethodGet:
		renderAF(&c.w, &list[idx], idx+1)
		c.ok(http.StatusOK)
	case http.MethodPut:
		b, ok := c.decode()
		if !ok {
			return
		}
		f, errs := afFromBody(b, list[idx])
		if f.Name != name {
			errs = append(errs, fieldError{"name", "Name cannot be changed."})
		}
		if len(errs) > 0 {
			c.invalid(errs...)
			return
		}
		list[idx] = f
		s.indexAFs(module)
		c.accepted()
	case http.MethodDelete:
		s.afs[module] = slices.Delete(list, idx, idx+1)
		s.indexAFs(module)
		c.noContent()
	default:
		c.methodNotAllowed()
	}
}

// ---- partners, locations ----

type named struct {
	id   int64
	name string
}

func (s *Sim) hPartners(c *rctx) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	items := make([]named, len(s.partners))
	for i, p := range s.partners {
		items[i] = named{p.ID, p.Name}
	}
	hNamed(c, items)
}

func (s *Sim) hLocations(c *rctx) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	items := make([]named, len(s.locations))
	for i, l := range s.locations {
		items[i] = named{l.ID, l.Name}
	}
	hNamed(c, items)
}

func renderNamed(w *jw, n named) {
	w.open()
	w.id("id", n.id)
	w.str("name", n.name)
	w.close()
}

func hNamed(c *rctx, items []named) {
	if c.method != http.MethodGet {
		c.methodNotAllowed()
		return
	}
	if c.rest != "" {
		id, ok := parseIDPath(c.rest)
		if ok {
			for _, it := range items {
				if it.id == id {
					renderNamed(&c.w, it)
					c.ok(http.StatusOK)
					return
				}
			}
		}
		c.notFound()
		return
	}
	c.w.openArr()
	for _, it := range items {
		renderNamed(&c.w, it)
	}
	c.w.closeArr()
	c.ok(http.StatusOK)
}

// ---- customer payment accounts ----

func renderAccountDef(w *jw, d *PaymentAccountDef) {
	w.open()
	w.id("id", d.ID)
	w.str("title", d.Title)
	for i := range 10 {
		w.str(fieldKeys[i], d.Fields[i])
	}
	w.close()
}

func renderAccount(w *jw, a *PaymentAccount) {
	w.open()
	w.id("account_id", a.AccountID)
	w.id("customer_id", a.CustomerID)
	for i := range 10 {
		w.str(fieldKeys[i], a.Fields[i])
	}
	w.close()
}

func (s *Sim) sortedAccounts(filter func(*PaymentAccount) bool) []*PaymentAccount {
	var out []*PaymentAccount
	for _, a := range s.accounts {
		if filter(a) {
			out = append(out, a)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].CustomerID != out[j].CustomerID {
			return out[i].CustomerID < out[j].CustomerID
		}
		return out[i].AccountID < out[j].AccountID
	})
	return out
}

// hPaymentAccounts serves customer-payment-accounts: the definitions, and
// a customer's values by ?id=<customer> or ?id=<customer>--<account> (the
// path form /<customer>--<account> is accepted too).
func (s *Sim) hPaymentAccounts(c *rctx) {
	root, err := parsePHPQuery(c.query)
	if err != nil {
		c.badRequest(err.Error())
		return
	}
	idArg := c.rest
	if n := root.get("id"); n != nil && idArg == "" {
		idArg = n.val
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if idArg == "" {
		if c.method != http.MethodGet {
			c.methodNotAllowed()
			return
		}
		c.w.openArr()
		for i := range s.accountDefs {
			renderAccountDef(&c.w, &s.accountDefs[i])
		}
		c.w.closeArr()
		c.ok(http.StatusOK)
		return
	}
	cs, as, hasAcc := strings.Cut(idArg, "--")
	cid, err1 := strconv.ParseInt(cs, 10, 64)
	var aid int64
	var err2 error
	if hasAcc {
		aid, err2 = strconv.ParseInt(as, 10, 64)
	}
	if err1 != nil || err2 != nil {
		c.notFound()
		return
	}
	if !hasAcc {
		if c.method != http.MethodGet {
			c.methodNotAllowed()
			return
		}
		if s.customers.get(cid) == nil {
			c.notFound()
			return
		}
		c.w.openArr()
		for _, a := range s.sortedAccounts(func(a *PaymentAccount) bool { return a.CustomerID == cid }) {
			renderAccount(&c.w, a)
		}
		c.w.closeArr()
		c.ok(http.StatusOK)
		return
	}
	key := [2]int64{cid, aid}
	switch c.method {
	case http.MethodGet:
		a, ok := s.accounts[key]
		if !ok {
			c.notFound()
			return
		}
		renderAccount(&c.w, a)
		c.ok(http.StatusOK)
	case http.MethodPut:
		b, ok := c.decode()
		if !ok {
			return
		}
		if s.customers.get(cid) == nil || !slices.ContainsFunc(s.accountDefs, func(d PaymentAccountDef) bool { return d.ID == aid }) {
			c.notFound()
			return
		}
		a, ok := s.accounts[key]
		if !ok {
			a = &PaymentAccount{CustomerID: cid, AccountID: aid}
		}
		na := *a
		for i := range 10 {
			if b.has(fieldKeys[i]) {
				na.Fields[i] = b.str(fieldKeys[i])
			}
		}
		s.accounts[key] = &na
		c.accepted()
	case http.MethodDelete:
		if _, ok := s.accounts[key]; !ok {
			c.notFound()
			return
		}
		delete(s.accounts, key)
		c.noContent()
	default:
		c.methodNotAllowed()
	}
}

func (s *Sim) hPaymentAccountData(c *rctx) {
	if c.method != http.MethodGet {
		c.methodNotAllowed()
		return
	}
	root, err := parsePHPQuery(c.query)
	if err != nil {
		c.badRequest(err.Error())
		return
	}
	param := func(k string) int64 {
		n := root.get(k)
		if n == nil {
			if ma := root.get("main_attributes"); ma != nil {
				n = ma.get(k)
			}
		}
		if n == nil {
			return 0
		}
		v, _ := strconv.ParseInt(n.val, 10, 64)
		return v
	}
	cid, aid := param("customer_id"), param("account_id")
	s.mu.RLock()
	defer s.mu.RUnlock()
	c.w.openArr()
	for _, a := range s.sortedAccounts(func(a *PaymentAccount) bool {
		return (cid == 0 || a.CustomerID == cid) && (aid == 0 || a.AccountID == aid)
	}) {
		renderAccount(&c.w, a)
	}
	c.w.closeArr()
	c.ok(http.StatusOK)
}

// ---- payment statements ----

func (s *Sim) statementView() *view[BankStatement] {
	return &view[BankStatement]{name: "statements", fields: map[string]field[BankStatement]{
		"id":           fInt(func(r *BankStatement) int64 { return r.ID }),
		"title":        fStr(func(r *BankStatement) string { return r.Title }),
		"handler":      fStr(func(r *BankStatement) string { return r.Handler }),
		"status":       fStr(func(r *BankStatement) string { return r.Status }),
		"payment_type": fInt(func(r *BankStatement) int64 { return r.PaymentType }),
		"date_time":    fSec(func(r *BankStatement) int64 { return secOf(r.DateTime) }),
	}}
}

func renderStatement(w *jw, b *BankStatement) {
	w.open()
	w.id("id", b.ID)
	w.datetime("date_time", secOf(b.DateTime))
	w.str("title", b.Title)
	w.str("handler", b.Handler)
	w.id("payment_type", b.PaymentType)
	w.str("status", b.Status)
	w.str("filename_original", "")
	w.str("filename_uploaded", "")
	w.str("filename_parsed", "")
	w.str("delimiter", "")
	w.close()
}

func (s *Sim) hStatements(c *rctx) {
	apply := func(b obj, st *BankStatement) []fieldError {
		var errs []fieldError
		if b.has("title") {
			st.Title = b.str("title")
		}
		if b.has("handler") {
			st.Handler = b.str("handler")
		}
		if b.has("status") {
			st.Status = b.str("status")
			if !contains([]string{"new", "fail", "success"}, st.Status) {
				errs = append(errs, fieldError{"status", "Status is invalid."})
			}
		}
		if b.has("payment_type") {
			st.PaymentType, _ = b.id("payment_type")
		}
		if st.Title == "" {
			errs = append(errs, fieldError{"title", "Title cannot be blank."})
		}
		return errs
	}
	crud(c, &s.statements, s.statementView(), renderStatement, func(b obj) (BankStatement, []fieldError) {
		st := BankStatement{Status: "new", DateTime: s.now()}
		errs := apply(b, &st)
		st.ID = s.nextID("statement", 0)
		return st, errs
	}, func(b obj, st *BankStatement) []fieldError { return apply(b, st) })
}

func (s *Sim) statementRecordView() *view[BankStatementRecord] {
	return &view[BankStatementRecord]{name: "statement_records", fields: map[string]field[BankStatementRecord]{
		"id":                         fInt(func(r *BankStatementRecord) int64 { return r.ID }),
		"bank_statements_process_id": fInt(func(r *BankStatementRecord) int64 { return r.BankStatementsProcessID }),
		"status":                     fStr(func(r *BankStatementRecord) string { return r.Status }),
		"customer_id":                fInt(func(r *BankStatementRecord) int64 { return r.CustomerID }),
		"invoice_id":                 fInt(func(r *BankStatementRecord) int64 { return r.InvoiceID }),
		"request_id":                 fInt(func(r *BankStatementRecord) int64 { return r.RequestID }),
		"payment_id":                 fInt(func(r *BankStatementRecord) int64 { return r.PaymentID }),
		"amount":                     fMoney(func(r *BankStatementRecord) int64 { return int64(r.Amount) }),
		"payment_date":               fDay(func(r *BankStatementRecord) int32 { return dayOf(r.PaymentDate) }),
		"pairing_1":                  fStr(func(r *BankStatementRecord) string { return r.Pairing1 }),
		"pairing_2":                  fStr(func(r *BankStatementRecord) string { return r.Pairing2 }),
		"pairing_3":                  fStr(func(r *BankStatementRecord) string { return r.Pairing3 }),
		"comment":                    fStr(func(r *BankStatementRecord) string { return r.Comment }),
	}}
}

func renderStatementRecord(w *jw, r *BankStatementRecord) {
	w.open()
	w.id("id", r.ID)
	w.id("bank_statements_process_id", r.BankStatementsProcessID)
	w.datetime("datetime", secOf(r.DateTime))
	w.date("payment_date", dayOf(r.PaymentDate))
	w.money("amount", int64(r.Amount))
	w.str("status", r.Status)
	w.str("pairing_1", r.Pairing1)
	w.str("pairing_2", r.Pairing2)
	w.str("pairing_3", r.Pairing3)
	w.str("additional_1", r.Additional1)
	w.str("additional_2", r.Additional2)
	w.str("additional_3", r.Additional3)
	w.str("comment", r.Comment)
	w.id("customer_id", r.CustomerID)
	w.id("invoice_id", r.InvoiceID)
	w.id("credit_note_id", 0)
	w.id("request_id", r.RequestID)
	w.id("payment_id", r.PaymentID)
	w.id("transaction_id", r.TransactionID)
	w.close()
}

var recordStatuses = []string{"new", "processed", "canceled", "error", "ignored", "deleted", "manual_paired", "pending"}

func (s *Sim) hStatementRecords(c *rctx) {
	apply := func(b obj, r *BankStatementRecord) []fieldError {
		var errs []fieldError
		for k, p := range map[string]*int64{"bank_statements_process_id": &r.BankStatementsProcessID, "customer_id": &r.CustomerID,
			"invoice_id": &r.InvoiceID, "request_id": &r.RequestID, "payment_id": &r.PaymentID, "transaction_id": &r.TransactionID} {
			if b.has(k) {
				n, ok := b.id(k)
				if !ok {
					errs = append(errs, fieldError{k, k + " must be an integer."})
				}
				*p = n
			}
		}
		for k, p := range map[string]*string{"pairing_1": &r.Pairing1, "pairing_2": &r.Pairing2, "pairing_3": &r.Pairing3,
			"additional_1": &r.Additional1, "additional_2": &r.Additional2, "additional_3": &r.Additional3, "comment": &r.Comment} {
			if b.has(k) {
				*p = b.str(k)
			}
		}
		if b.has("status") {
			r.Status = b.str("status")
			if !contains(recordStatuses, r.Status) {
				errs = append(errs, fieldError{"status", "Status is invalid."})
			}
		}
		if b.has("amount") {
			a, err := money.Parse(b.str("amount"))
			if err != nil {
				errs = append(errs, fieldError{"amount", "Amount must be a number."})
			}
			r.Amount = a
		}
		if b.has("payment_date") {
			d, ok := parseDate(b.str("payment_date"))
			if !ok {
				errs = append(errs, fieldError{"payment_date", "Payment date is invalid."})
			}
			r.PaymentDate = d
		}
		if s.statements.get(r.BankStatementsProcessID) == nil {
			errs = append(errs, fieldError{"bank_statements_process_id", "Payment statement is not found."})
		}
		return errs
	}
	crud(c, &s.stmtRecords, s.statementRecordView(), renderStatementRecord, func(b obj) (BankStatementRecord, []fieldError) {
		r := BankStatementRecord{Status: "new", DateTime: s.now()}
		errs := apply(b, &r)
		if len(errs) == 0 {
			r.ID = s.nextID("statement_record", 0)
		}
		return r, errs
	}, func(b obj, r *BankStatementRecord) []fieldError { return apply(b, r) })
}

// crud serves list/count/create/get/update/delete for a simple table
// without ledger effects.
func crud[R any](c *rctx, t *table[R], v *view[R], render func(*jw, *R),
	create func(obj) (R, []fieldError), update func(obj, *R) []fieldError) {
	s := c.s
	if c.rest == "" {
		switch c.method {
		case http.MethodGet, http.MethodHead:
			list(c, t, v, render)
		case http.MethodPost:
			b, ok := c.decode()
			if !ok {
				return
			}
			s.mu.Lock()
			defer s.mu.Unlock()
			r, errs := create(b)
			if len(errs) > 0 {
				c.invalid(errs...)
				return
			}
			t.insert(r)
			c.created(t.idOf(&r))
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
		one(c, t, id, render)
	case http.MethodPut:
		b, ok := c.decode()
		if !ok {
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		r := t.get(id)
		if r == nil {
			c.notFound()
			return
		}
		nr := *r
		if errs := update(b, &nr); len(errs) > 0 {
			c.invalid(errs...)
			return
		}
		*r = nr
		t.touch()
		c.accepted()
	case http.MethodDelete:
		s.mu.Lock()
		defer s.mu.Unlock()
		if !t.remove(id) {
			c.notFound()
			return
		}
		c.noContent()
	default:
		c.methodNotAllowed()
	}
}
