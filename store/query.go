package store

import (
	"context"
	"fmt"
)

// queryAll runs q on the read pool and scans every row with scan; what
// names the read in errors ("list saved methods").
func queryAll[T any](ctx context.Context, db *DB, what string, scan func(scanner) (T, error), q string, args ...any) ([]T, error) {
	rows, err := db.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: %s: %w", what, err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("store: %s: %w", what, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: %s: %w", what, err)
	}
	return out, nil
}
