package web

// The audit trail page (issue 14): staff actions and automatic money events
// with who, when, what and a link to the record; filters by customer, kind
// and date; the same rows as CSV. The page only reads: the table refuses
// changes (migration 0007).

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/splynx-pay/splynx-pay/internal/money"
	"github.com/splynx-pay/splynx-pay/store"
)

type auditPage struct{ s *Server }

func (s *Server) registerAudit() error {
	p := &auditPage{s: s}
	s.Handle("GET /admin/audit", s.RequireAdmin(http.HandlerFunc(p.page)))
	s.Handle("GET /admin/audit.csv", s.RequireAdmin(http.HandlerFunc(p.csv)))
	s.AddNav(NavItem{Title: "Audit trail", Path: "/admin/audit", Order: 40})
	return nil
}

type auditRow struct {
	store.TrailEntry
	Customer string
	Link     string
	Record   string // the link's text
	Tone     string // badge colour: staff | ok | warn | bad
}

// tone colours an event kind the way a clerk reads it.
func tone(kind string) string {
	switch {
	case strings.HasPrefix(kind, "staff.") || kind == "charge.review_decided" || kind == "charge.late_settlement_kept":
		return "staff"
	case kind == "charge.approved" || kind == "charge.written_back" || kind == "settlement" || kind == "method.added" || kind == "method.active":
		return "ok"
	case kind == "charge.declined" || kind == "dishonour" || kind == "chargeback" || kind == "refund.failed" ||
		kind == "charge.late_settlement_refund_failed" || kind == "charge.reversed" || kind == "method.needs_update":
		return "bad"
	case kind == "charge.pending" || kind == "charge.unknown" || kind == "refund" || kind == "method.removed" ||
		kind == "charge.review" || kind == "charge.late_settlement" || kind == "charge.superseded":
		return "warn"
	}
	return ""
}

type auditData struct {
	Rows     []auditRow
	Kinds    []string
	Customer string
	Kind     string
	From, To string
	Query    string // the filters, for the CSV link
	Older    string // link to the next page, "" at the end
	Error    string
}

// filter reads the page's filters; a bad one is reported, not guessed.
func (p *auditPage) filter(r *http.Request) (store.TrailFilter, auditData, error) {
	q := r.URL.Query()
	d := auditData{Kinds: store.TrailKinds, Customer: strings.TrimSpace(q.Get("customer")), Kind: q.Get("kind"),
		From: strings.TrimSpace(q.Get("from")), To: strings.TrimSpace(q.Get("to"))}
	var f store.TrailFilter
	if d.Customer != "" {
		id, err := strconv.ParseInt(d.Customer, 10, 64)
		if err != nil || id <= 0 {
			return f, d, fmt.Errorf("customer: %q is not a customer id", d.Customer)
		}
		f.CustomerID = id
	}
	if d.Kind != "" {
		known := d.Kind == "staff." || d.Kind == "charge." || d.Kind == "method."
		for _, k := range store.TrailKinds {
			known = known || k == d.Kind
		}
		if !known {
			return f, d, fmt.Errorf("kind: %q is not a kind of event", d.Kind)
		}
		f.Kind = d.Kind
	}
	day := func(name, v string) (time.Time, error) {
		if v == "" {
			return time.Time{}, nil
		}
		t, err := time.Parse("2006-01-02", v)
		if err != nil {
			return t, fmt.Errorf("%s: %q is not a date (YYYY-MM-DD)", name, v)
		}
		return t, nil
	}
	var err error
	if f.From, err = day("from", d.From); err != nil {
		return f, d, err
	}
	to, err := day("to", d.To)
	if err != nil {
		return f, d, err
	}
	if !to.IsZero() {
		f.To = to.AddDate(0, 0, 1)
	}
	if b := q.Get("before"); b != "" {
		f.BeforeID, _ = strconv.ParseInt(b, 10, 64)
	}
	keep := url.Values{}
	for _, k := range []string{"customer", "kind", "from", "to"} {
		if v := q.Get(k); v != "" {
			keep.Set(k, v)
		}
	}
	d.Query = keep.Encode()
	return f, d, nil
}

// link is where a row's record is shown.
func (p *auditPage) link(e store.TrailEntry) string {
	pre := p.s.Prefix()
	switch {
	case e.Subject == "run":
		return fmt.Sprintf("%s/charges/%d", pre, e.SubjectID)
	case e.CustomerID != 0 && e.Subject == "attempt":
		return fmt.Sprintf("%s/admin/customer?id=%d#attempts", pre, e.CustomerID)
	case e.CustomerID != 0:
		return fmt.Sprintf("%s/admin/customer?id=%d", pre, e.CustomerID)
	}
	return ""
}

func (p *auditPage) rows(r *http.Request, f store.TrailFilter) ([]auditRow, error) {
	db := p.s.Deps().DB
	es, err := db.ListTrail(r.Context(), f)
	if err != nil {
		return nil, err
	}
	names := map[int64]string{}
	out := make([]auditRow, 0, len(es))
	for _, e := range es {
		if _, ok := names[e.CustomerID]; !ok && e.CustomerID != 0 {
			if c, err := db.GetCustomer(r.Context(), e.CustomerID); err == nil {
				names[e.CustomerID] = c.Name
			} else {
				names[e.CustomerID] = ""
			}
		}
		rec := ""
		if e.Subject != "" {
			rec = fmt.Sprintf("%s %d", e.Subject, e.SubjectID)
		}
		out = append(out, auditRow{TrailEntry: e, Customer: names[e.CustomerID], Link: p.link(e), Record: rec, Tone: tone(e.Kind)})
	}
	return out, nil
}

const auditPageSize = 200

func (p *auditPage) page(w http.ResponseWriter, r *http.Request) {
	if p.s.Deps().DB == nil {
		p.s.Error(w, r, http.StatusServiceUnavailable, "no database", nil)
		return
	}
	f, d, err := p.filter(r)
	if err != nil {
		d.Error = err.Error()
		w.WriteHeader(http.StatusBadRequest)
		p.s.Render(w, r, "admin_audit.html", "Audit trail", d)
		return
	}
	f.Limit = auditPageSize
	if d.Rows, err = p.rows(r, f); err != nil {
		p.s.Error(w, r, http.StatusInternalServerError, "cannot read the audit trail", err)
		return
	}
	if len(d.Rows) == auditPageSize {
		q, _ := url.ParseQuery(d.Query)
		q.Set("before", strconv.FormatInt(d.Rows[len(d.Rows)-1].ID, 10))
		d.Older = p.s.Prefix() + "/admin/audit?" + q.Encode()
	}
	p.s.Render(w, r, "admin_audit.html", "Audit trail", d)
}

func (p *auditPage) csv(w http.ResponseWriter, r *http.Request) {
	if p.s.Deps().DB == nil {
		p.s.Error(w, r, http.StatusServiceUnavailable, "no database", nil)
		return
	}
	f, _, err := p.filter(r)
	if err != nil {
		p.s.Error(w, r, http.StatusBadRequest, err.Error(), nil)
		return
	}
	f.Limit = -1
	rows, err := p.rows(r, f)
	if err != nil {
		p.s.Error(w, r, http.StatusInternalServerError, "cannot read the audit trail", err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="audit-trail.csv"`)
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"id", "at_utc", "who", "kind", "customer_id", "customer", "record", "amount", "what", "ip"})
	for _, e := range rows {
		amt := ""
		if e.Amount != 0 {
			amt = money.Amount(e.Amount).String()
		}
		_ = cw.Write([]string{strconv.FormatInt(e.ID, 10), e.At.UTC().Format(time.RFC3339), csvSafe(e.Actor), e.Kind,
			strconv.FormatInt(e.CustomerID, 10), csvSafe(e.Customer), e.Record, amt, csvSafe(e.Detail), e.IP})
	}
	cw.Flush()
}

// csvSafe keeps a spreadsheet from reading text as a formula.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
