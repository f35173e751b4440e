package store

// The staff audit trail (migration 0007): staff actions are appended here by
// the pages; automatic money events are appended by triggers on the charge
// tables. The table refuses UPDATE and DELETE.

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// TrailEntry is one row of the audit trail.
type TrailEntry struct {
	ID         int64
	At         time.Time
	Actor      string
	Kind       string
	CustomerID int64
	Subject    string // attempt | run | method | customer | setting
	SubjectID  int64
	Amount     int64
	Detail     string
	IP         string
}

// Staff reports whether the row is a person's action rather than an
// automatic event.
// The engine's decisions made by a person (migration 0011) count too.
func (e TrailEntry) Staff() bool {
	return strings.HasPrefix(e.Kind, "staff.") || e.Kind == "charge.review_decided" || e.Kind == "charge.late_settlement_kept"
}

// TrailKinds are the kinds the trail holds, in the order a filter offers them.
var TrailKinds = []string{
	"staff.pay_now", "staff.retry", "staff.refund", "staff.method_added", "staff.method_removed", "staff.payer_sync", "staff.charge_run",
	"run.started", "charge.approved", "charge.pending", "charge.declined", "charge.unknown", "charge.written_back",
	"charge.reversed", "settlement", "dishonour", "chargeback", "refund", "refund.failed",
	"method.added", "method.needs_update", "method.removed", "method.active", "setting.changed",
	// From the engine's audit_log (migration 0011).
	"charge.review", "charge.review_decided", "charge.late_settlement", "charge.superseded",
	"charge.late_settlement_refund_failed", "charge.late_settlement_kept",
}

// AddTrail appends a row (a staff action). With a nil tx it writes in its
// own transaction.
func (db *DB) AddTrail(ctx context.Context, tx *sql.Tx, e TrailEntry) error {
	if e.Kind == "" {
		return errors.New("store: audit trail: empty kind")
	}
	if e.At.IsZero() {
		e.At = db.now()
	}
	if e.Actor == "" {
		e.Actor = "system"
	}
	ins := func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO audit_trail (at, actor, kind, customer_id, subject, subject_id, amount, detail, ip)
 VALUES (?,?,?,?,?,?,?,?,?)`, FormatTime(e.At), e.Actor, e.Kind, e.CustomerID, e.Subject, e.SubjectID, e.Amount, e.Detail, e.IP)
		if err != nil {
			return fmt.Errorf("store: audit trail %s: %w", e.Kind, err)
		}
		return nil
	}
	if tx != nil {
		return ins(tx)
	}
	return db.Write(ctx, ins)
}

// TrailFilter selects audit trail rows; zero fields do not filter.
type TrailFilter struct {
	CustomerID int64
	Kind       string // exact kind, or a prefix ending in "." ("staff.", "charge.")
	From, To   time.Time
	BeforeID   int64 // paging: rows older than this id
	Limit      int   // default 200; negative = no limit (CSV)
}

// ListTrail returns matching rows newest first.
func (db *DB) ListTrail(ctx context.Context, f TrailFilter) ([]TrailEntry, error) {
	var conds []string
	var args []any
	if f.CustomerID != 0 {
		conds = append(conds, "customer_id = ?")
		args = append(args, f.CustomerID)
	}
	switch {
	case strings.HasSuffix(f.Kind, "."):
		conds = append(conds, "kind >= ? AND kind < ?")
		args = append(args, f.Kind, f.Kind[:len(f.Kind)-1]+"/") // '/' sorts right after '.'
	case f.Kind != "":
		conds = append(conds, "kind = ?")
		args = append(args, f.Kind)
	}
	if !f.From.IsZero() {
		conds = append(conds, "at >= ?")
		args = append(args, FormatTime(f.From))
	}
	if !f.To.IsZero() {
		conds = append(conds, "at < ?")
		args = append(args, FormatTime(f.To))
	}
	if f.BeforeID > 0 {
		conds = append(conds, "id < ?")
		args = append(args, f.BeforeID)
	}
	q := `SELECT id, at, actor, kind, customer_id, subject, subject_id, amount, detail, ip FROM audit_trail`
	if len(conds) > 0 {
		q += " WHERE " + strings.Join(conds, " AND ")
	}
	q += " ORDER BY id DESC"
	switch {
	case f.Limit == 0:
		q += " LIMIT 200"
	case f.Limit > 0:
		q += fmt.Sprintf(" LIMIT %d", f.Limit)
	}
	rows, err := db.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: read audit trail: %w", err)
	}
	defer rows.Close()
	var out []TrailEntry
	for rows.Next() {
		var e TrailEntry
		var at string
		if err := rows.Scan(&e.ID, &at, &e.Actor, &e.Kind, &e.CustomerID, &e.Subject, &e.SubjectID, &e.Amount,
			&e.Detail, &e.IP); err != nil {
			return nil, fmt.Errorf("store: read audit trail: %w", err)
		}
		e.At = ParseTime(at)
		out = append(out, e)
	}
	return out, rows.Err()
}

// NoteSettings compares the module settings with those last seen and
// appends a setting.changed row per difference (secrets say only that they
// changed; their values are kept as a hash). The first call records the
// settings without rows. It returns the keys that changed.
func (db *DB) NoteSettings(ctx context.Context, values map[string]string, secret map[string]bool, at time.Time) ([]string, error) {
	stored := func(k, v string) string {
		if secret[k] && v != "" {
			h := sha256.Sum256([]byte(v))
			return "sha256:" + hex.EncodeToString(h[:])
		}
		return v
	}
	// Settings are read often and change seldom: look first without the
	// write lock.
	same := true
	for k, v := range values {
		var old string
		err := db.read.QueryRowContext(ctx, `SELECT value FROM settings_seen WHERE key = ?`, k).Scan(&old)
		if err != nil || old != stored(k, v) {
			same = false
			break
		}
	}
	if same {
		return nil, nil
	}
	var changed []string
	err := db.Write(ctx, func(tx *sql.Tx) error {
		seen := map[string]string{}
		rows, err := tx.QueryContext(ctx, `SELECT key, value FROM settings_seen`)
		if err != nil {
			return err
		}
		for rows.Next() {
			var k, v string
			if err := rows.Scan(&k, &v); err != nil {
				rows.Close()
				return err
			}
			seen[k] = v
		}
		rows.Close()
		first := len(seen) == 0
		keys := make([]string, 0, len(values))
		for k := range values {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			v := stored(k, values[k])
			old, ok := seen[k]
			if ok && old == v {
				continue
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO settings_seen (key, value, seen_at) VALUES (?, ?, ?)
 ON CONFLICT(key) DO UPDATE SET value = excluded.value, seen_at = excluded.seen_at`, k, v, FormatTime(at)); err != nil {
				return err
			}
			if first {
				continue
			}
			detail := fmt.Sprintf("%s: %q → %q", k, old, v)
			if secret[k] {
				detail = k + ": changed (secret)"
			}
			if err := db.AddTrail(ctx, tx, TrailEntry{At: at, Actor: "Splynx module config", Kind: "setting.changed",
				Subject: "setting", Detail: detail}); err != nil {
				return err
			}
			changed = append(changed, k)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: note settings: %w", err)
	}
	return changed, nil
}
