package store

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestPortalSessionsIdleAndSurviveReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "s.db")
	db, err := Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	const id = "very-secret-session-id-0123456789"
	if err := db.CreatePortalSession(ctx, id, PortalSession{CustomerID: 7, Via: "login", IP: "203.0.113.9"}, t0); err != nil {
		t.Fatal(err)
	}
	var stored string
	if err := db.SQL().QueryRowContext(ctx, `SELECT id_hash FROM portal_sessions`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(stored, id) {
		t.Fatal("the session id itself is stored")
	}
	db.Close()
	db, err = Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	idle := 30 * time.Minute
	s, err := db.PortalSessionByID(ctx, id, idle, time.Minute, t0.Add(20*time.Minute))
	if err != nil || s.CustomerID != 7 || s.Via != "login" {
		t.Fatalf("after reopen: %+v %v", s, err)
	}
	// Seen at +20 min, so still valid at +45 min, gone at +51.
	if _, err := db.PortalSessionByID(ctx, id, idle, time.Minute, t0.Add(45*time.Minute)); err != nil {
		t.Fatalf("touched session: %v", err)
	}
	if _, err := db.PortalSessionByID(ctx, id, idle, time.Minute, t0.Add(76*time.Minute)); !errors.Is(err, ErrNotFound) {
		t.Fatalf("idle session: %v", err)
	}
	if _, err := db.PortalSessionByID(ctx, "other", idle, time.Minute, t0); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown session: %v", err)
	}
	_ = db.CreatePortalSession(ctx, "a-second-session-id-0123456789", PortalSession{CustomerID: 8, Via: "splynx"}, t0)
	if n, err := db.PurgePortalSessions(ctx, t0.Add(time.Minute)); err != nil || n != 1 {
		t.Fatalf("purge: %d %v", n, err)
	}
}
