package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// IsAcked reports whether a gateway status change was acknowledged
// (gateways.AckStore).
func (db *DB) IsAcked(ctx context.Context, gateway, ackID string) (bool, error) {
	var one int
	err := db.read.QueryRowContext(ctx, `SELECT 1 FROM gateway_acks WHERE gateway = ? AND ack_id = ?`, gateway, ackID).Scan(&one)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("store: read ack %s/%s: %w", gateway, ackID, err)
	}
	return true, nil
}

// SaveAck records that a gateway status change was applied; saving it
// twice is a no-op (gateways.AckStore).
func (db *DB) SaveAck(ctx context.Context, gateway, ackID string, at time.Time) error {
	err := db.Write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO gateway_acks (gateway, ack_id, acked_at) VALUES (?,?,?)`,
			gateway, ackID, FormatTime(at))
		return err
	})
	if err != nil {
		return fmt.Errorf("store: save ack %s/%s: %w", gateway, ackID, err)
	}
	return nil
}
