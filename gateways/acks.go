package gateways

import (
	"context"
	"sync"
	"time"
)

// AckStore remembers which status changes were applied, for a gateway whose
// API cannot be told (IPpay's returns report lists every return every
// time). store.DB keeps them in SQLite, so a restart does not hand the
// engine the same changes again.
type AckStore interface {
	IsAcked(ctx context.Context, gateway, ackID string) (bool, error)
	SaveAck(ctx context.Context, gateway, ackID string, at time.Time) error
}

// AckStoreUser is a Gateway that keeps its acknowledgements in an AckStore
// given to it; the charge engine hands it its database.
type AckStoreUser interface {
	UseAckStore(AckStore)
}

// MemoryAcks is an AckStore in memory, for a gateway client used without a
// database (tests, one-off commands). A restart forgets it.
type MemoryAcks struct {
	mu   sync.Mutex
	seen map[string]bool
}

// IsAcked reports whether ackID was saved for gateway.
func (m *MemoryAcks) IsAcked(_ context.Context, gateway, ackID string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.seen[gateway+"\x00"+ackID], nil
}

// SaveAck records ackID for gateway.
func (m *MemoryAcks) SaveAck(_ context.Context, gateway, ackID string, _ time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.seen == nil {
		m.seen = map[string]bool{}
	}
	m.seen[gateway+"\x00"+ackID] = true
	return nil
}
