package web

// The collections overview (issue 14), the staff landing page at
// <prefix>/admin: 60 days of charged money by outcome as a server-drawn SVG
// chart with its table and CSV, decline and dishonour reasons, pending bank
// debits, tonight's forecast from the planner, cards about to expire,
// methods that need an update, and the health of the background work.

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/splynx-pay/splynx-pay/internal/money"
	"github.com/splynx-pay/splynx-pay/store"
	"github.com/splynx-pay/splynx-pay/sync/charge"
)

// listMax is how many expiring cards or methods needing an update are listed.
const listMax = 50

// overviewDays is the chart's span.
const overviewDays = 60

// forecastFor is how long a planned forecast is shown before it is planned
// again: planning reads every unpaid document, which on a large install
// takes longer than a page should.
const forecastFor = 2 * time.Minute

type overviewPage struct {
	s  *Server
	mu sync.Mutex
	fc forecast
	// refreshing is set while a background plan runs.
	refreshing bool
}

func init() { RegisterPages(setupOverview) }

func setupOverview(s *Server) error {
	p := &overviewPage{s: s}
	s.Handle("GET /admin", s.RequireAdmin(http.HandlerFunc(p.page)))
	s.Handle("GET /admin/overview.csv", s.RequireAdmin(http.HandlerFunc(p.csv)))
	s.AddNav(NavItem{Title: "Collections", Path: "/admin", Order: 10})
	return nil
}

type skipCount struct {
	Reason string
	Count  int
	Amount int64
}

type forecast struct {
	At      time.Time
	Count   int
	Amount  int64
	Skipped []skipCount
	Error   string
}

// refNoise hides the per-attempt parts of skip reasons so they group.
var refNoise = regexp.MustCompile(`SP[A-Z2-7]{16}`)

func groupSkips(items []charge.Item) []skipCount {
	by := map[string]*skipCount{}
	for _, it := range items {
		reason := refNoise.ReplaceAllString(it.Skip, "…")
		c := by[reason]
		if c == nil {
			c = &skipCount{Reason: reason}
			by[reason] = c
		}
		c.Count++
		c.Amount += it.Due
	}
	out := make([]skipCount, 0, len(by))
	for _, c := range by {
		out = append(out, *c)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Reason < out[j].Reason
	})
	return out
}

func (p *overviewPage) plan(ctx context.Context) forecast {
	fc := forecast{At: p.s.Deps().Clock.Now()}
	en, err := staffBackendOf(p.s).Engine(ctx)
	if err != nil {
		fc.Error = "the charge engine is not available: " + err.Error()
		return fc
	}
	pv, err := en.Preview(ctx, charge.Filters{Mode: charge.ModeInvoices})
	if err != nil {
		fc.Error = err.Error()
		return fc
	}
	fc.Count, fc.Amount, fc.Skipped = pv.Count, pv.DueSum, groupSkips(pv.Skipped)
	return fc
}

// forecast returns the latest plan: planned now when there is none, and
// planned again in the background when it is older than forecastFor.
func (p *overviewPage) forecast(ctx context.Context) forecast {
	now := p.s.Deps().Clock.Now()
	p.mu.Lock()
	fc, refreshing := p.fc, p.refreshing
	stale := fc.At.IsZero() || now.Sub(fc.At) >= forecastFor || now.Before(fc.At)
	if fc.At.IsZero() || !stale || refreshing {
		p.mu.Unlock()
		if fc.At.IsZero() {
			fc = p.plan(ctx)
			p.mu.Lock()
			p.fc = fc
			p.mu.Unlock()
		}
		return fc
	}
	p.refreshing = true
	p.mu.Unlock()
	go func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		nf := p.plan(ctx)
		p.mu.Lock()
		p.fc, p.refreshing = nf, false
		p.mu.Unlock()
	}()
	return fc
}

type methodRow struct {
	store.SavedMethodRow
	Customer string
}

type health struct {
	LastSync   time.Time
	SyncAge    time.Duration
	SyncStale  bool
	Backlog    store.Backlog
	OutboxAge  time.Duration
	UnknownAge time.Duration
}

type overviewData struct {
	Chart       chart
	Days        []store.DayMoney
	Sum         store.DayMoney
	Reasons     []store.ReasonSum
	Pending     []store.PendingDay
	PendingSum  store.PendingDay
	Forecast    forecast
	Expiring    []methodRow
	NeedsUpdate []methodRow
	// More* count the rows not listed (the lists stop at listMax).
	MoreExpiring, MoreNeedsUpdate int
	Health                        health
	Currency                      string
}

func (p *overviewPage) days(ctx context.Context) ([]store.DayMoney, error) {
	today := p.s.Deps().Clock.Now().UTC()
	return p.s.Deps().DB.DailyMoney(ctx, today.AddDate(0, 0, -(overviewDays-1)), today)
}

func (p *overviewPage) methodRows(ctx context.Context, ms []store.SavedMethodRow) []methodRow {
	db := p.s.Deps().DB
	out := make([]methodRow, 0, len(ms))
	for _, m := range ms {
		r := methodRow{SavedMethodRow: m}
		if c, err := db.GetCustomer(ctx, m.CustomerID); err == nil {
			r.Customer = c.Name
		}
		out = append(out, r)
	}
	return out
}

func (p *overviewPage) page(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	d := p.s.Deps()
	if d.DB == nil {
		p.s.Error(w, r, http.StatusServiceUnavailable, "no database", nil)
		return
	}
	now := d.Clock.Now()
	var data overviewData
	var err error
	fail := func(what string, err error) {
		p.s.Error(w, r, http.StatusInternalServerError, "cannot read "+what, err)
	}
	if data.Days, err = p.days(ctx); err != nil {
		fail("the daily totals", err)
		return
	}
	for _, day := range data.Days {
		data.Sum.Settled += day.Settled
		data.Sum.Pending += day.Pending
		data.Sum.Declined += day.Declined
		data.Sum.Dishonoured += day.Dishonoured
		data.Sum.Count += day.Count
	}
	data.Chart = drawChart(data.Days)
	if data.Reasons, err = d.DB.FailureReasons(ctx, now.AddDate(0, 0, -(overviewDays-1))); err != nil {
		fail("the failure reasons", err)
		return
	}
	if data.Pending, err = d.DB.PendingDebits(ctx); err != nil {
		fail("the pending debits", err)
		return
	}
	for _, pd := range data.Pending {
		data.PendingSum.Count += pd.Count
		data.PendingSum.Amount += pd.Amount
	}
	exp, err := d.DB.ExpiringCards(ctx, now)
	if err != nil {
		fail("the expiring cards", err)
		return
	}
	if len(exp) > listMax {
		data.MoreExpiring, exp = len(exp)-listMax, exp[:listMax]
	}
	data.Expiring = p.methodRows(ctx, exp)
	nu, err := d.DB.ListMethods(ctx, 0, store.MethodNeedsUpdate)
	if err != nil {
		fail("the methods needing an update", err)
		return
	}
	if len(nu) > listMax {
		data.MoreNeedsUpdate, nu = len(nu)-listMax, nu[:listMax]
	}
	data.NeedsUpdate = p.methodRows(ctx, nu)
	if data.Health.Backlog, err = d.DB.Backlog(ctx); err != nil {
		fail("the queues", err)
		return
	}
	if c, err := d.DB.CursorGet(ctx, mirrorCursor); err == nil && !c.LastRun.IsZero() {
		data.Health.LastSync = c.LastRun
		data.Health.SyncAge = now.Sub(c.LastRun).Round(time.Second)
		data.Health.SyncStale = data.Health.SyncAge > 2*time.Hour
	}
	if t := data.Health.Backlog.OutboxOldest; !t.IsZero() {
		data.Health.OutboxAge = now.Sub(t).Round(time.Second)
	}
	if t := data.Health.Backlog.UnknownOldest; !t.IsZero() {
		data.Health.UnknownAge = now.Sub(t).Round(time.Second)
	}
	data.Forecast = p.forecast(ctx)
	data.Currency = "AUD"
	if d.Settings != nil {
		if set, err := d.Settings(ctx); err == nil && set.Currency != "" {
			data.Currency = set.Currency
		} else if err != nil {
			p.s.Logger().Warn("overview: settings", zap.Error(err))
		}
	}
	p.s.Render(w, r, "admin_overview.html", "Collections", data)
}

func (p *overviewPage) csv(w http.ResponseWriter, r *http.Request) {
	if p.s.Deps().DB == nil {
		p.s.Error(w, r, http.StatusServiceUnavailable, "no database", nil)
		return
	}
	days, err := p.days(r.Context())
	if err != nil {
		p.s.Error(w, r, http.StatusInternalServerError, "cannot read the daily totals", err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="collections-60-days.csv"`)
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"day", "settled", "pending", "declined", "dishonoured", "total", "attempts"})
	for _, d := range days {
		_ = cw.Write([]string{d.Day, money.Amount(d.Settled).String(), money.Amount(d.Pending).String(),
			money.Amount(d.Declined).String(), money.Amount(d.Dishonoured).String(), money.Amount(d.Total()).String(),
			strconv.Itoa(d.Count)})
	}
	cw.Flush()
}

// The chart: one stacked bar per day, drawn here as SVG shapes.

type chart struct {
	Width, Height int
	PlotTop       int
	PlotBottom    int
	PlotLeft      int
	Bars          []chartBar
	Grid          []chartLine
	Labels        []chartLabel
	Empty         bool
	MidX          int
}

type chartBar struct {
	Title string
	Parts []chartRect
}

type chartRect struct {
	X, Y, W, H float64
	Class      string
}

type chartLine struct {
	Y     float64
	Label string
}

type chartLabel struct {
	X    float64
	Text string
}

var chartSeries = []struct {
	name string
	val  func(store.DayMoney) int64
}{
	{"settled", func(d store.DayMoney) int64 { return d.Settled }},
	{"pending", func(d store.DayMoney) int64 { return d.Pending }},
	{"declined", func(d store.DayMoney) int64 { return d.Declined }},
	{"dishonoured", func(d store.DayMoney) int64 { return d.Dishonoured }},
}

// niceCeil rounds a positive amount (minor units) up to a round figure
// (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6 or 8 times a power of ten) so the four
// grid lines read as round money and the tallest bar fills most of the plot.
func niceCeil(v int64) int64 {
	if v <= 0 {
		return 100
	}
	p := int64(1)
	for p*10 <= v {
		p *= 10
	}
	for _, m := range []int64{10, 12, 15, 20, 25, 30, 40, 50, 60, 80, 100} {
		if c := m * p / 10; c >= v && c*10 == m*p {
			return c
		}
	}
	for _, m := range []int64{1, 2, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

func drawChart(days []store.DayMoney) chart {
	c := chart{Width: 960, Height: 260, PlotTop: 12, PlotBottom: 226, PlotLeft: 64}
	var top int64
	for _, d := range days {
		top = max(top, d.Total())
	}
	c.Empty = top == 0
	c.MidX = (c.Width + c.PlotLeft) / 2
	top = niceCeil(top)
	plotH := float64(c.PlotBottom - c.PlotTop)
	plotW := float64(c.Width - c.PlotLeft - 24) // room for the last day's label
	for i := 0; i <= 4; i++ {
		v := top * int64(i) / 4
		c.Grid = append(c.Grid, chartLine{Y: float64(c.PlotBottom) - plotH*float64(i)/4, Label: money.Amount(v).String()})
	}
	if len(days) == 0 {
		return c
	}
	slot := plotW / float64(len(days))
	bw := slot * 0.72
	for i, d := range days {
		x := float64(c.PlotLeft) + slot*float64(i) + (slot-bw)/2
		y := float64(c.PlotBottom)
		b := chartBar{Title: fmt.Sprintf("%s: settled %s, pending %s, declined %s, dishonoured %s", d.Day,
			money.Amount(d.Settled), money.Amount(d.Pending), money.Amount(d.Declined), money.Amount(d.Dishonoured))}
		for _, s := range chartSeries {
			v := s.val(d)
			if v <= 0 {
				continue
			}
			h := plotH * float64(v) / float64(top)
			y -= h
			b.Parts = append(b.Parts, chartRect{X: x, Y: y, W: bw, H: h, Class: s.name})
		}
		c.Bars = append(c.Bars, b)
		if (len(days)-1-i)%7 == 0 { // weekly, ending today
			text := d.Day
			if t, err := time.Parse("2006-01-02", d.Day); err == nil {
				text = t.Format("Jan 2")
			}
			c.Labels = append(c.Labels, chartLabel{X: x + bw/2, Text: text})
		}
	}
	return c
}
