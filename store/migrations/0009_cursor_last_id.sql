-- Issue 16: a cursor can hold the largest id seen of an entity the mirror
-- follows by id alone (Splynx's ledger transactions, whose new rows tell
-- which customers' balances moved).
ALTER TABLE sync_cursors ADD COLUMN last_id INTEGER NOT NULL DEFAULT 0;
