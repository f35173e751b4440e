package web

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/splynx-pay/splynx-pay/gateways"
	"github.com/splynx-pay/splynx-pay/internal/clock"
	"github.com/splynx-pay/splynx-pay/internal/config"
	"github.com/splynx-pay/splynx-pay/splynx"
	"github.com/splynx-pay/splynx-pay/store"
)

// BenchmarkStaffPages answers the collections overview and the customer tab
// over a mirror of SPLYNX_BENCH_INVOICES invoices (default 1,000,000) for a
// tenth as many customers, with 60 days of charge attempts, and reports
// p50/p99 per page. The target is p99 ≤ 100 ms (issue 14). The forecast is
// planned once before measuring: the page shows a plan at most two minutes
// old and plans again in the background. The overview's sums are cached
// until the money moves; overview-recomputed measures (without the target)
// a look after every change, which a page sees at most every 15 s.
func BenchmarkStaffPages(b *testing.B) {
	invoices := 1_000_000
	if v := os.Getenv("SPLYNX_BENCH_INVOICES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			b.Fatalf("SPLYNX_BENCH_INVOICES=%q: want a positive number", v)
		}
		invoices = n
	}
	customers := max(invoices/10, 10)
	ctx := context.Background()
	now := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	db, err := store.Open(ctx, filepath.Join(b.TempDir(), "bench.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	start := time.Now()
	attempts := fillStaffBench(b, db, customers, invoices, now)
	b.Logf("mirror: %d customers, %d invoices, %d attempts in %v", customers, invoices, attempts, time.Since(start).Round(time.Millisecond))

	sp, err := splynx.New(splynx.Config{BaseURL: "http://127.0.0.1:9", APIKey: "k", APISecret: "s"})
	if err != nil {
		b.Fatal(err)
	}
	set, err := config.ParseSettingsFor(config.IntegraPay, map[string]string{"payment_method_card": "3"}, nil)
	if err != nil {
		b.Fatal(err)
	}
	clk := clock.NewFake(now)
	s, err := New(Options{Addon: "splynx-integrapay", Prefix: "/integrapay", Deps: Deps{DB: db, Clock: clk,
		Settings: func(context.Context) (config.Settings, error) { return set, nil },
		Gateway:  func(context.Context) (gateways.Gateway, error) { return nil, nil },
		Splynx:   sp}})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(operator(b, s))
	defer srv.Close()
	get := func(path string) time.Duration {
		t0 := time.Now()
		resp, err := http.Get(srv.URL + "/integrapay" + path)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("%s: %d", path, resp.StatusCode)
		}
		return time.Since(t0)
	}
	t0 := time.Now()
	b.Logf("first overview: %v", get("/admin").Round(time.Millisecond))
	// Wait for the background plan: it is not what the page costs.
	for {
		resp, err := http.Get(srv.URL + "/integrapay/admin")
		if err != nil {
			b.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.Contains(string(body), "Would charge") {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.Logf("forecast planned over every unpaid invoice in %v", time.Since(t0).Round(time.Millisecond))
	const rounds = 200
	pages := []struct {
		name, path string
		fresh      bool // the money moved since the last look: figures recomputed
	}{
		{"overview", "/admin", false},
		{"customer", "", false},
		{"overview-recomputed", "/admin", true},
	}
	b.ResetTimer()
	for range b.N {
		for _, pg := range pages {
			lat := make([]time.Duration, 0, rounds)
			for i := range rounds {
				path := pg.path
				if path == "" {
					path = fmt.Sprintf("/admin/customer?id=%d", 1+(i*7919)%customers)
				}
				if pg.fresh {
					clk.Advance(figuresFor)
					if err := db.AddTrail(context.Background(), nil, store.TrailEntry{Kind: "staff.payer_sync", At: clk.Now()}); err != nil {
						b.Fatal(err)
					}
				}
				lat = append(lat, get(path))
			}
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			p50, p99 := lat[len(lat)/2], lat[len(lat)*99/100]
			b.Logf("%s: p50 %v p90 %v p99 %v max %v", pg.name, p50, lat[len(lat)*9/10], p99, lat[len(lat)-1])
			b.ReportMetric(float64(p50.Microseconds())/1000, pg.name+"-p50-ms")
			b.ReportMetric(float64(p99.Microseconds())/1000, pg.name+"-p99-ms")
			if p99 > 100*time.Millisecond && !pg.fresh {
				b.Errorf("%s: p99 %v is above the 100 ms target", pg.name, p99)
			}
		}
	}
}

// fillStaffBench writes the mirror and the charge tables with plain SQL:
// every customer has 10 invoices (a third unpaid), a third of them a saved
// card, and there are 60 days of attempts in every state.
func fillStaffBench(b *testing.B, db *store.DB, customers, invoices int, now time.Time) int {
	ctx := context.Background()
	day := func(d int) string { return now.AddDate(0, 0, -d).Format("2006-01-02") }
	err := db.Write(ctx, func(tx *sql.Tx) error {
		stmts := []struct {
			q    string
			args []any
		}{
			{`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < ?)
 INSERT INTO customers (id, login, name, email, status, billing_type) SELECT i, 'c' || i, 'Customer ' || i,
 'c' || i || '@example.com', CASE WHEN i % 50 = 0 THEN 'blocked' ELSE 'active' END, 'recurring' FROM n`, []any{customers}},
			{`INSERT INTO billing (customer_id, enabled, payment_method) SELECT id, 1, 3 FROM customers`, nil},
			{`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < ?)
 INSERT INTO invoices (id, customer_id, number, date_created, total, due, status) SELECT i, 1 + (i - 1) % ?, 'INV' || i,
 date(?, '-' || (i % 300) || ' days'), 1000 + i % 9000, CASE WHEN i % 3 = 0 THEN 1000 + i % 9000 ELSE 0 END,
 CASE WHEN i % 3 = 0 THEN 'not_paid' ELSE 'paid' END FROM n`, []any{invoices, customers, day(0)}},
			{`INSERT INTO saved_methods (customer_id, kind, token, payer_ref, mask, brand, exp_month, exp_year, status,
 status_reason, created_at, updated_at) SELECT id, 'card', 'tok' || id, id, 'Visa •••• ' || (1000 + id % 9000), 'Visa',
 1 + id % 12, 2026 + id % 4, CASE WHEN id % 97 = 0 THEN 'needs_update' ELSE 'active' END,
 CASE WHEN id % 97 = 0 THEN 'expired_card (R4)' ELSE '' END, ?, ? FROM customers WHERE id % 3 = 0`,
				[]any{store.FormatTime(now), store.FormatTime(now)}},
			{`INSERT INTO charge_runs (id, source, mode, started_by, status, started_at) VALUES (1, 'auto', 'invoices', 'schedule', 'done', ?)`,
				[]any{store.FormatTime(now)}},
			// One attempt per unpaid invoice of a customer with a card, made
			// on one of the last 60 days.
			{`INSERT INTO charge_attempts (charge_key, kind, invoice_id, item_number, customer_id, amount, currency, method_id,
 method_kind, reference, state, reason, settles_by, run_id, created_at, updated_at)
 SELECT 'invoice:' || i.id, 'invoice', i.id, i.number, i.customer_id, i.total, 'AUD', m.id, 'card', 'SPBENCH' || i.id,
 CASE i.id % 10 WHEN 0 THEN 'declined' WHEN 1 THEN 'pending' WHEN 2 THEN 'reversed' WHEN 3 THEN 'unknown' ELSE 'recorded' END,
 CASE i.id % 10 WHEN 0 THEN 'insufficient_funds' WHEN 2 THEN 'authority_revoked' ELSE '' END,
 CASE i.id % 10 WHEN 1 THEN strftime('%Y-%m-%dT%H:%M:%fZ', ?, '+3 days') ELSE '' END, 1,
 strftime('%Y-%m-%dT%H:%M:%fZ', ?, '-' || (i.id % 60) || ' days'), strftime('%Y-%m-%dT%H:%M:%fZ', ?, '-' || (i.id % 60) || ' days')
 FROM invoices i JOIN saved_methods m ON m.customer_id = i.customer_id AND m.status = 'active'
 WHERE i.status = 'not_paid'`, []any{now.Format(time.RFC3339), now.Format(time.RFC3339), now.Format(time.RFC3339)}},
			{`INSERT INTO writeback_outbox (attempt_id, action, created_at) SELECT id, 'payment', created_at FROM charge_attempts WHERE id % 500 = 0`, nil},
		}
		for _, st := range stmts {
			if _, err := tx.ExecContext(ctx, st.q, st.args...); err != nil {
				return fmt.Errorf("%.80s: %w", st.q, err)
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	if err := db.Write(ctx, func(tx *sql.Tx) error { _, err := tx.ExecContext(ctx, `ANALYZE`); return err }); err != nil {
		b.Fatal(err)
	}
	var n int
	_ = rawSQL(b, db).QueryRowContext(ctx, `SELECT COUNT(*) FROM charge_attempts`).Scan(&n)
	return n
}
