package store

// Read-only figures of the collections overview (issue 14): money per day by
// outcome, decline and dishonour reasons, pending bank debits, cards about
// to expire, and the health of the background work.

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"
)

// DayMoney is one day's charged amounts by outcome (minor units), by the
// day the attempt was made (UTC).
type DayMoney struct {
	Day         string // YYYY-MM-DD
	Settled     int64  // approved, written back, or later refunded
	Pending     int64  // bank debits waiting to clear, and attempts in flight
	Declined    int64
	Dishonoured int64 // bank debits that bounced, late dishonours and chargebacks
	Count       int
}

// Total is the day's sum of all outcomes.
func (d DayMoney) Total() int64 { return d.Settled + d.Pending + d.Declined + d.Dishonoured }

// outcomeSQL classifies an attempt row (alias a) for the overview. A
// declined attempt with a settlement date was a bank debit that bounced
// after being accepted; a reversed one without a refund was dishonoured or
// charged back.
const outcomeSQL = `CASE
  WHEN a.state IN ('approved', 'recorded') THEN 'settled'
  WHEN a.state = 'reversed' AND a.refunded > 0 THEN 'settled'
  WHEN a.state = 'reversed' THEN 'dishonoured'
  WHEN a.state = 'declined' AND a.settles_by <> '' THEN 'dishonoured'
  WHEN a.state = 'declined' THEN 'declined'
  ELSE 'pending' END`

// DailyMoney returns one entry per UTC day from from to to (both dates,
// inclusive), days without attempts included as zeros.
func (db *DB) DailyMoney(ctx context.Context, from, to time.Time) ([]DayMoney, error) {
	return db.DailyMoneyIn(ctx, from, to, time.UTC)
}

// DailyMoneyIn is DailyMoney by the days of loc (the add-on's time zone),
// so that a night's run falls on the day it ran there. Each day is a range
// of the created_at index, whatever loc's offset (half hours included) or
// daylight saving does to its length.
func (db *DB) DailyMoneyIn(ctx context.Context, from, to time.Time, loc *time.Location) ([]DayMoney, error) {
	if loc == nil {
		loc = time.UTC
	}
	from, to = from.In(loc), to.In(loc)
	from = time.Date(from.Year(), from.Month(), from.Day(), 0, 0, 0, 0, loc)
	to = time.Date(to.Year(), to.Month(), to.Day(), 0, 0, 0, 0, loc)
	var out []DayMoney
	var bounds [][3]string
	for d := from; !d.After(to); d = time.Date(d.Year(), d.Month(), d.Day()+1, 0, 0, 0, 0, loc) {
		next := time.Date(d.Year(), d.Month(), d.Day()+1, 0, 0, 0, 0, loc)
		out = append(out, DayMoney{Day: d.Format("2006-01-02")})
		bounds = append(bounds, [3]string{d.Format("2006-01-02"), FormatTime(d), FormatTime(next)})
	}
	bj, err := json.Marshal(bounds)
	if err != nil {
		return nil, fmt.Errorf("store: overview days: %w", err)
	}
	rows, err := db.read.QueryContext(ctx, `WITH days(day, lo, hi) AS (
  SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]') FROM json_each(?))
 SELECT days.day, `+outcomeSQL+` AS outcome, SUM(a.amount), COUNT(*)
 FROM days JOIN charge_attempts a ON a.created_at >= days.lo AND a.created_at < days.hi
 GROUP BY days.day, outcome`, string(bj))
	if err != nil {
		return nil, fmt.Errorf("store: overview days: %w", err)
	}
	defer rows.Close()
	byDay := map[string]*DayMoney{}
	for i := range out {
		byDay[out[i].Day] = &out[i]
	}
	for rows.Next() {
		var day, outcome string
		var sum int64
		var n int
		if err := rows.Scan(&day, &outcome, &sum, &n); err != nil {
			return nil, fmt.Errorf("store: overview days: %w", err)
		}
		d := byDay[day]
		if d == nil {
			continue
		}
		d.Count += n
		switch outcome {
		case "settled":
			d.Settled += sum
		case "dishonoured":
			d.Dishonoured += sum
		case "declined":
			d.Declined += sum
		default:
			d.Pending += sum
		}
	}
	return out, rows.Err()
}

// ReasonSum counts failures of one reason.
type ReasonSum struct {
	Outcome string // declined | dishonoured
	Reason  string
	Count   int
	Amount  int64
}

// FailureReasons sums declines and dishonours of attempts made since from,
// largest amount first.
func (db *DB) FailureReasons(ctx context.Context, from time.Time) ([]ReasonSum, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT outcome, reason, COUNT(*), SUM(amount) FROM (
  SELECT `+outcomeSQL+` AS outcome,
   COALESCE(NULLIF(a.reason, ''), NULLIF(a.code, ''), 'no reason given') AS reason, a.amount AS amount
  FROM charge_attempts a WHERE a.created_at >= ? AND a.state IN ('declined', 'reversed'))
 WHERE outcome IN ('declined', 'dishonoured')
 GROUP BY outcome, reason ORDER BY SUM(amount) DESC, COUNT(*) DESC, reason`, FormatTime(from))
	if err != nil {
		return nil, fmt.Errorf("store: overview reasons: %w", err)
	}
	defer rows.Close()
	var out []ReasonSum
	for rows.Next() {
		var r ReasonSum
		if err := rows.Scan(&r.Outcome, &r.Reason, &r.Count, &r.Amount); err != nil {
			return nil, fmt.Errorf("store: overview reasons: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// PendingDay is the bank debits expected to settle on one day.
type PendingDay struct {
	Day    string // YYYY-MM-DD, "" when the gateway gave no date
	Count  int
	Amount int64
}

// PendingDebits sums pending attempts by expected settlement date.
func (db *DB) PendingDebits(ctx context.Context) ([]PendingDay, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT substr(settles_by, 1, 10) AS day, COUNT(*), SUM(amount)
 FROM charge_attempts WHERE state = 'pending' GROUP BY day ORDER BY day`)
	if err != nil {
		return nil, fmt.Errorf("store: overview pending: %w", err)
	}
	defer rows.Close()
	var out []PendingDay
	for rows.Next() {
		var p PendingDay
		if err := rows.Scan(&p.Day, &p.Count, &p.Amount); err != nil {
			return nil, fmt.Errorf("store: overview pending: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// ExpiringCards returns active saved cards expiring in now's month or the
// next one.
func (db *DB) ExpiringCards(ctx context.Context, now time.Time) ([]SavedMethodRow, error) {
	y, m := now.Year(), int(now.Month())
	ny, nm := y, m+1
	if nm > 12 {
		ny, nm = y+1, 1
	}
	rows, err := db.read.QueryContext(ctx, `SELECT `+methodCols+` FROM saved_methods
 WHERE status = 'active' AND kind = 'card' AND ((exp_year = ? AND exp_month = ?) OR (exp_year = ? AND exp_month = ?))
 ORDER BY exp_year, exp_month, customer_id`, y, m, ny, nm)
	if err != nil {
		return nil, fmt.Errorf("store: expiring cards: %w", err)
	}
	defer rows.Close()
	var out []SavedMethodRow
	for rows.Next() {
		sm, err := scanMethod(rows)
		if err != nil {
			return nil, fmt.Errorf("store: expiring cards: %w", err)
		}
		out = append(out, sm)
	}
	return out, rows.Err()
}

// Backlog is the health of the background work.
type Backlog struct {
	OutboxPending   int
	OutboxFailed    int
	OutboxOldest    time.Time // oldest pending write-back item
	Unknown         int       // attempts waiting for the reconciler
	UnknownOldest   time.Time
	InFlight        int // created or sending
	Pending         int
	PendingAmount   int64
	LastSettlement  time.Time // newest settlement, dishonour or chargeback seen
	ChargedTotal    int64     // all approved/recorded/reversed money ever charged
	SettledTotal    int64     // approved + recorded
	AttemptsByState map[string]int
}

// Backlog reads the queue figures for the overview's health box and /metrics.
func (db *DB) Backlog(ctx context.Context) (Backlog, error) {
	b := Backlog{AttemptsByState: map[string]int{}}
	var oldest, unkOldest, lastSettle sql.NullString
	err := db.read.QueryRowContext(ctx, `SELECT
 (SELECT COUNT(*) FROM writeback_outbox WHERE status = 'pending'),
 (SELECT COUNT(*) FROM writeback_outbox WHERE status = 'failed'),
 (SELECT MIN(created_at) FROM writeback_outbox WHERE status = 'pending'),
 (SELECT MIN(updated_at) FROM charge_attempts WHERE state = 'unknown'),
 (SELECT MAX(at) FROM audit_trail WHERE kind IN ('settlement', 'dishonour', 'chargeback'))`).
		Scan(&b.OutboxPending, &b.OutboxFailed, &oldest, &unkOldest, &lastSettle)
	if err != nil {
		return b, fmt.Errorf("store: backlog: %w", err)
	}
	b.OutboxOldest, b.UnknownOldest, b.LastSettlement = ParseTime(oldest.String), ParseTime(unkOldest.String), ParseTime(lastSettle.String)
	rows, err := db.read.QueryContext(ctx, `SELECT state, COUNT(*), SUM(amount) FROM charge_attempts GROUP BY state`)
	if err != nil {
		return b, fmt.Errorf("store: backlog: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var st string
		var n int
		var sum int64
		if err := rows.Scan(&st, &n, &sum); err != nil {
			return b, fmt.Errorf("store: backlog: %w", err)
		}
		b.AttemptsByState[st] = n
		switch AttemptState(st) {
		case StateUnknown:
			b.Unknown = n
		case StateCreated, StateSending:
			b.InFlight += n
		case StatePending:
			b.Pending, b.PendingAmount = n, sum
		case StateApproved, StateRecorded:
			b.SettledTotal += sum
			b.ChargedTotal += sum
		case StateReversed:
			b.ChargedTotal += sum
		}
	}
	return b, rows.Err()
}

// MirrorRows counts the rows of each mirrored table (without the invoice
// lines, which cost a scan of every invoice's JSON).
func (db *DB) MirrorRows(ctx context.Context) (map[string]int64, error) {
	out := map[string]int64{}
	for _, t := range []string{"customers", "billing", "invoices", "proformas", "payment_methods"} {
		var n int64
		if err := db.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+t).Scan(&n); err != nil {
			return nil, fmt.Errorf("store: count %s: %w", t, err)
		}
		out[t] = n
	}
	return out, nil
}

// OverviewVersion changes whenever a figure of the overview may have:
// every money event appends to the audit trail, every attempt is a new id,
// and write-back work done changes the queue. It costs three index lookups.
func (db *DB) OverviewVersion(ctx context.Context) (string, error) {
	var trail, attempt sql.NullInt64
	var queued int64
	err := db.read.QueryRowContext(ctx, `SELECT (SELECT MAX(id) FROM audit_trail), (SELECT MAX(id) FROM charge_attempts),
 (SELECT COUNT(*) FROM writeback_outbox WHERE status = 'pending')`).Scan(&trail, &attempt, &queued)
	if err != nil {
		return "", fmt.Errorf("store: overview version: %w", err)
	}
	return fmt.Sprintf("%d/%d/%d", trail.Int64, attempt.Int64, queued), nil
}
