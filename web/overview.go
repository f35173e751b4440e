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

	"github.com/splynx-pay/splynx-pay/internal/config"
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
	s    *Server
	view staffView
	mu   sync.Mutex
	fc   forecast
	fig  *figures
	// planning is closed when the background plan under way ends.
	planning chan struct{}
}

func (s *Server) registerOverview() error {
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

// skipNoise hides the per-attempt parts of skip reasons (the attempt's
// reference, the retry date) so they group.
var skipNoise = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`attempt \S+ `), "an attempt "},
	{regexp.MustCompile(` for \d{4}-\d{2}-\d{2}`), ""},
}

// maxSkipRows is how many skip reasons the forecast lists; the rest are summed.
const maxSkipRows = 10

func groupSkips(items []charge.Item) []skipCount {
	by := map[string]*skipCount{}
	for _, it := range items {
		reason := it.Skip
		for _, n := range skipNoise {
			reason = n.re.ReplaceAllString(reason, n.with)
		}
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
	if len(out) > maxSkipRows {
		rest := skipCount{Reason: "other reasons"}
		for _, c := range out[maxSkipRows-1:] {
			rest.Count += c.Count
			rest.Amount += c.Amount
		}
		out = append(out[:maxSkipRows-1], rest)
	}
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

// forecastWait is how long a page with no plan yet waits for one; past
// that it says the plan is under way (planning 1M invoices takes seconds).
const forecastWait = time.Second

// forecast returns the latest plan and, when it is missing or older than
// forecastFor, starts planning again in the background (once at a time).
func (p *overviewPage) forecast(ctx context.Context) forecast {
	now := p.s.Deps().Clock.Now()
	p.mu.Lock()
	fc, done := p.fc, p.planning
	stale := fc.At.IsZero() || now.Sub(fc.At) >= forecastFor || now.Before(fc.At)
	if stale && done == nil {
		done = make(chan struct{})
		p.planning = done
		go func() {
			ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Minute)
			defer cancel()
			nf := p.plan(ctx)
			p.mu.Lock()
			p.fc, p.planning = nf, nil
			p.mu.Unlock()
			close(done)
		}()
	}
	p.mu.Unlock()
	if fc.At.IsZero() && done != nil {
		t := time.NewTimer(forecastWait)
		defer t.Stop()
		select {
		case <-done:
		case <-t.C:
		case <-ctx.Done():
		}
		p.mu.Lock()
		fc = p.fc
		p.mu.Unlock()
	}
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
	// The settlement job's last read of the gateway's status feed, and
	// whether it is older than two settle intervals.
	LastPoll  time.Time
	PollAge   time.Duration
	PollEvery time.Duration
	PollStale bool
	TimeZone  string
}

type overviewData struct {
	*figures
	Chart    chart
	Forecast forecast
	Health   health
	Currency string
}

// days are the chart's days, by the add-on's time zone: a night's run at
// 05:00 in Sydney is that day's bar, not the previous UTC day's.
func (p *overviewPage) days(ctx context.Context) ([]store.DayMoney, error) {
	today := p.s.Deps().Clock.Now().In(p.s.location())
	return p.s.Deps().DB.DailyMoneyIn(ctx, today.AddDate(0, 0, -(overviewDays-1)), today, p.s.location())
}

// location is the add-on's time zone (SPLYNXPAY_TIMEZONE, the one the
// daemon's schedules and business days use); UTC when none is given.
func (s *Server) location() *time.Location {
	if b := s.opts.Bootstrap; b != nil && b.TimeZone != "" {
		if loc, err := config.LoadLocation(b.TimeZone); err == nil {
			return loc
		}
	}
	return time.UTC
}

// settleEvery is the time between two runs of the settlement job
// (SPLYNXPAY_SETTLE_SCHEDULE; hourly when none is given).
func (s *Server) settleEvery(now time.Time) time.Duration {
	spec := "15 * * * *"
	if b := s.opts.Bootstrap; b != nil && b.SettleSchedule != "" {
		spec = b.SettleSchedule
	}
	sched, err := config.CronParser.Parse(spec)
	if err != nil {
		return time.Hour
	}
	next := sched.Next(now)
	return sched.Next(next).Sub(next)
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

// figuresFor bounds how stale the figures may be while money is moving:
// during a run the data changes constantly, and recomputing on every load
// would make each one pay for it.
const figuresFor = 15 * time.Second

// figures are the overview's database sums, cached until the data changes
// (OverviewVersion) or, while it keeps changing, for figuresFor.
type figures struct {
	At          time.Time
	version     string
	day         string
	Days        []store.DayMoney
	Sum         store.DayMoney
	Reasons     []store.ReasonSum
	Pending     []store.PendingDay
	PendingSum  store.PendingDay
	Expiring    []methodRow
	NeedsUpdate []methodRow
	// More* count the rows not listed (the lists stop at listMax).
	MoreExpiring, MoreNeedsUpdate int
	Backlog                       store.Backlog
}

func (p *overviewPage) figures(ctx context.Context) (*figures, error) {
	db := p.s.Deps().DB
	now := p.s.Deps().Clock.Now()
	version, err := db.OverviewVersion(ctx)
	if err != nil {
		return nil, err
	}
	today := now.In(p.s.location()).Format("2006-01-02")
	p.mu.Lock()
	f := p.fig
	p.mu.Unlock()
	if f != nil && f.day == today && (f.version == version || now.Sub(f.At) < figuresFor) && !now.Before(f.At) {
		return f, nil
	}
	f = &figures{At: now, version: version, day: today}
	if f.Days, err = p.days(ctx); err != nil {
		return nil, err
	}
	for _, day := range f.Days {
		f.Sum.Settled += day.Settled
		f.Sum.Pending += day.Pending
		f.Sum.Declined += day.Declined
		f.Sum.Dishonoured += day.Dishonoured
		f.Sum.Count += day.Count
	}
	first := f.Days[0].Day
	from, _ := time.ParseInLocation("2006-01-02", first, p.s.location())
	if f.Reasons, err = db.FailureReasons(ctx, from); err != nil {
		return nil, err
	}
	if f.Pending, err = db.PendingDebits(ctx); err != nil {
		return nil, err
	}
	for _, pd := range f.Pending {
		f.PendingSum.Count += pd.Count
		f.PendingSum.Amount += pd.Amount
	}
	exp, err := db.ExpiringCards(ctx, now)
	if err != nil {
		return nil, err
	}
	if len(exp) > listMax {
		f.MoreExpiring, exp = len(exp)-listMax, exp[:listMax]
	}
	f.Expiring = p.methodRows(ctx, exp)
	nu, err := db.ListMethods(ctx, 0, store.MethodNeedsUpdate)
	if err != nil {
		return nil, err
	}
	if len(nu) > listMax {
		f.MoreNeedsUpdate, nu = len(nu)-listMax, nu[:listMax]
	}
	f.NeedsUpdate = p.methodRows(ctx, nu)
	if f.Backlog, err = db.Backlog(ctx); err != nil {
		return nil, err
	}
	p.mu.Lock()
	p.fig = f
	p.mu.Unlock()
	return f, nil
}

func (p *overviewPage) page(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	d := p.s.Deps()
	if d.DB == nil {
		p.s.Error(w, r, http.StatusServiceUnavailable, "no database", nil)
		return
	}
	now := d.Clock.Now()
	f, err := p.figures(ctx)
	if err != nil {
		p.s.Error(w, r, http.StatusInternalServerError, "cannot read the collections figures", err)
		return
	}
	data := overviewData{figures: f, Chart: drawChart(f.Days)}
	data.Health.Backlog = f.Backlog
	if c, err := d.DB.CursorGet(ctx, mirrorCursor); err == nil && !c.LastRun.IsZero() {
		data.Health.LastSync = c.LastRun
		data.Health.SyncAge = now.Sub(c.LastRun).Round(time.Second)
		data.Health.SyncStale = data.Health.SyncAge > 2*time.Hour
	}
	if t := f.Backlog.OutboxOldest; !t.IsZero() {
		data.Health.OutboxAge = now.Sub(t).Round(time.Second)
	}
	if t := f.Backlog.UnknownOldest; !t.IsZero() {
		data.Health.UnknownAge = now.Sub(t).Round(time.Second)
	}
	data.Health.TimeZone = p.s.location().String()
	data.Health.PollEvery = p.s.settleEvery(now)
	if t, err := d.DB.LastJobRun(ctx, store.JobSettlePoll); err == nil && !t.IsZero() {
		data.Health.LastPoll = t
		data.Health.PollAge = now.Sub(t).Round(time.Second)
		data.Health.PollStale = data.Health.PollAge > 2*data.Health.PollEvery
	}
	data.Forecast = p.forecast(ctx)
	data.Currency, _ = p.view.get(p.s, ctx)
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
