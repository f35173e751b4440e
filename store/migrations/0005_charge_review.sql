-- migrate: foreign_keys off
-- Issue 11: a charge whose outcome stays unknown goes to state 'review'
-- (blocks new charges of the document, a person decides); an attempt the
-- gateway settled after another attempt paid the document is 'superseded'
-- (its money goes to the balance or back) and does not count as the live
-- attempt; write-back leases carry the id of the process that holds them.
-- SQLite cannot change a CHECK constraint in place, so charge_attempts is
-- rebuilt (https://sqlite.org/lang_altertable.html, "other kinds of
-- table schema changes"), with foreign keys off and checked before commit.
CREATE TABLE charge_attempts_0003 (
    id                INTEGER PRIMARY KEY,
    charge_key        TEXT    NOT NULL,
    kind              TEXT    NOT NULL CHECK (kind IN ('invoice', 'proforma', 'refill', 'balance')),
    invoice_id        INTEGER NOT NULL DEFAULT 0,
    proforma_id       INTEGER NOT NULL DEFAULT 0,
    item_number       TEXT    NOT NULL DEFAULT '',
    customer_id       INTEGER NOT NULL,
    amount            INTEGER NOT NULL CHECK (amount > 0),
    fee               INTEGER NOT NULL DEFAULT 0,
    refunded          INTEGER NOT NULL DEFAULT 0,
    currency          TEXT    NOT NULL,
    method_id         INTEGER REFERENCES saved_methods (id),
    method_kind       TEXT    NOT NULL DEFAULT '',
    reference         TEXT    NOT NULL UNIQUE,
    gateway_id        TEXT    NOT NULL DEFAULT '',
    secondary_id      TEXT    NOT NULL DEFAULT '',
    state             TEXT    NOT NULL DEFAULT 'created'
                      CHECK (state IN ('created', 'sending', 'unknown', 'review', 'pending', 'approved',
                                       'declined', 'recorded', 'reversed')),
    reason            TEXT    NOT NULL DEFAULT '',
    code              TEXT    NOT NULL DEFAULT '',
    message           TEXT    NOT NULL DEFAULT '',
    retryable         INTEGER NOT NULL DEFAULT 0,
    review            INTEGER NOT NULL DEFAULT 0,
    attempt_no        INTEGER NOT NULL DEFAULT 1,
    retry_of          INTEGER REFERENCES charge_attempts (id),
    retried           INTEGER NOT NULL DEFAULT 0,
    run_id            INTEGER REFERENCES charge_runs (id),
    settles_by        TEXT    NOT NULL DEFAULT '',
    next_retry_at     TEXT    NOT NULL DEFAULT '',
    next_check_at     TEXT    NOT NULL DEFAULT '',
    checks            INTEGER NOT NULL DEFAULT 0,
    splynx_payment_id INTEGER NOT NULL DEFAULT 0,
    created_at        TEXT    NOT NULL,
    updated_at        TEXT    NOT NULL,
    sent_at           TEXT    NOT NULL DEFAULT '',
    resolved_at       TEXT    NOT NULL DEFAULT '',
    superseded        INTEGER NOT NULL DEFAULT 0
);
INSERT INTO charge_attempts_0003 (id, charge_key, kind, invoice_id, proforma_id, item_number, customer_id, amount, fee, refunded,
 currency, method_id, method_kind, reference, gateway_id, secondary_id, state, reason, code, message, retryable, review,
 attempt_no, retry_of, retried, run_id, settles_by, next_retry_at, next_check_at, checks, splynx_payment_id, created_at,
 updated_at, sent_at, resolved_at)
SELECT id, charge_key, kind, invoice_id, proforma_id, item_number, customer_id, amount, fee, refunded,
 currency, method_id, method_kind, reference, gateway_id, secondary_id, state, reason, code, message, retryable, review,
 attempt_no, retry_of, retried, run_id, settles_by, next_retry_at, next_check_at, checks, splynx_payment_id, created_at,
 updated_at, sent_at, resolved_at FROM charge_attempts;
DROP TABLE charge_attempts;
ALTER TABLE charge_attempts_0003 RENAME TO charge_attempts;
CREATE UNIQUE INDEX charge_attempts_one_live ON charge_attempts (charge_key)
    WHERE state IN ('created', 'sending', 'unknown', 'review', 'pending', 'approved') AND superseded = 0;
CREATE INDEX charge_attempts_state ON charge_attempts (state, next_check_at);
CREATE INDEX charge_attempts_key ON charge_attempts (charge_key, attempt_no);
CREATE INDEX charge_attempts_gateway_id ON charge_attempts (gateway_id) WHERE gateway_id <> '';
CREATE INDEX charge_attempts_run ON charge_attempts (run_id);
CREATE INDEX charge_attempts_customer ON charge_attempts (customer_id);
ALTER TABLE writeback_outbox ADD COLUMN lease_owner TEXT NOT NULL DEFAULT '';
