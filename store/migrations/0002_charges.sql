-- Charge engine tables (owner: CH). Money columns are INTEGER minor units;
-- times are UTC RFC 3339 text so they sort as strings.

CREATE TABLE saved_methods (
    id               INTEGER PRIMARY KEY,
    customer_id      INTEGER NOT NULL,
    kind             TEXT    NOT NULL CHECK (kind IN ('card', 'bank')),
    token            TEXT    NOT NULL,
    payer_ref        TEXT    NOT NULL DEFAULT '',
    mask             TEXT    NOT NULL DEFAULT '',
    brand            TEXT    NOT NULL DEFAULT '',
    exp_month        INTEGER NOT NULL DEFAULT 0,
    exp_year         INTEGER NOT NULL DEFAULT 0,
    account_type     TEXT    NOT NULL DEFAULT '',
    status           TEXT    NOT NULL DEFAULT 'active'
                     CHECK (status IN ('active', 'needs_update', 'removed')),
    status_reason    TEXT    NOT NULL DEFAULT '',
    -- The customer's debit authorisation (DDR service agreement / ACH authorisation).
    auth_accepted_at TEXT    NOT NULL DEFAULT '',
    auth_ip          TEXT    NOT NULL DEFAULT '',
    auth_text        TEXT    NOT NULL DEFAULT '',
    auth_sec         TEXT    NOT NULL DEFAULT '',
    -- Fingerprint of the payer details last pushed to the gateway (payer sync).
    payer_hash       TEXT    NOT NULL DEFAULT '',
    created_at       TEXT    NOT NULL,
    updated_at       TEXT    NOT NULL
);
-- One method is charged per customer; saving a new one retires the old one.
CREATE UNIQUE INDEX saved_methods_one_active ON saved_methods (customer_id) WHERE status = 'active';

CREATE TABLE charge_runs (
    id              INTEGER PRIMARY KEY,
    source          TEXT    NOT NULL CHECK (source IN ('auto', 'admin', 'cli', 'retry', 'portal')),
    mode            TEXT    NOT NULL DEFAULT 'invoices' CHECK (mode IN ('invoices', 'balance', 'single')),
    filters_json    TEXT    NOT NULL DEFAULT '{}',
    started_by      TEXT    NOT NULL DEFAULT '',
    status          TEXT    NOT NULL DEFAULT 'running'
                    CHECK (status IN ('running', 'done', 'cancelled', 'failed', 'interrupted')),
    total           INTEGER NOT NULL DEFAULT 0,
    done            INTEGER NOT NULL DEFAULT 0,
    skipped         INTEGER NOT NULL DEFAULT 0,
    approved        INTEGER NOT NULL DEFAULT 0,
    pending         INTEGER NOT NULL DEFAULT 0,
    declined        INTEGER NOT NULL DEFAULT 0,
    unknown         INTEGER NOT NULL DEFAULT 0,
    amount_planned  INTEGER NOT NULL DEFAULT 0,
    amount_approved INTEGER NOT NULL DEFAULT 0,
    amount_pending  INTEGER NOT NULL DEFAULT 0,
    amount_declined INTEGER NOT NULL DEFAULT 0,
    amount_unknown  INTEGER NOT NULL DEFAULT 0,
    error           TEXT    NOT NULL DEFAULT '',
    started_at      TEXT    NOT NULL,
    finished_at     TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX charge_runs_started ON charge_runs (started_at);

-- The run log an admin downloads: ERRORS and OUTPUT sections, one line per item.
CREATE TABLE charge_run_lines (
    id      INTEGER PRIMARY KEY,
    run_id  INTEGER NOT NULL REFERENCES charge_runs (id) ON DELETE CASCADE,
    section TEXT    NOT NULL CHECK (section IN ('error', 'output')),
    line    TEXT    NOT NULL
);
CREATE INDEX charge_run_lines_run ON charge_run_lines (run_id, id);

CREATE TABLE charge_attempts (
    id                INTEGER PRIMARY KEY,
    -- The logical charge ("invoice:123", "proforma:9", "balance:77:2026-11-02",
    -- "refill:<uuid>"); retries of the same charge share it.
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
    -- Our idempotency key, committed in state 'created' before any byte goes out.
    reference         TEXT    NOT NULL UNIQUE,
    gateway_id        TEXT    NOT NULL DEFAULT '',
    secondary_id      TEXT    NOT NULL DEFAULT '',
    state             TEXT    NOT NULL DEFAULT 'created'
                      CHECK (state IN ('created', 'sending', 'unknown', 'pending', 'approved',
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
    resolved_at       TEXT    NOT NULL DEFAULT ''
);
-- At most one live attempt per logical charge: the database, not the code, guarantees it.
CREATE UNIQUE INDEX charge_attempts_one_live ON charge_attempts (charge_key)
    WHERE state IN ('created', 'sending', 'unknown', 'pending', 'approved');
CREATE INDEX charge_attempts_state ON charge_attempts (state, next_check_at);
CREATE INDEX charge_attempts_key ON charge_attempts (charge_key, attempt_no);
CREATE INDEX charge_attempts_gateway_id ON charge_attempts (gateway_id) WHERE gateway_id <> '';
CREATE INDEX charge_attempts_run ON charge_attempts (run_id);
CREATE INDEX charge_attempts_customer ON charge_attempts (customer_id);

-- Work owed to Splynx, done at least once and made idempotent by a search first.
CREATE TABLE writeback_outbox (
    id          INTEGER PRIMARY KEY,
    attempt_id  INTEGER NOT NULL REFERENCES charge_attempts (id),
    action      TEXT    NOT NULL CHECK (action IN ('payment', 'delete_payment', 'refund_payment',
                                                   'fee', 'dishonour_fee', 'statement')),
    -- Distinguishes several rows of one action (a refund's reference).
    ref         TEXT    NOT NULL DEFAULT '',
    amount      INTEGER NOT NULL DEFAULT 0,
    status      TEXT    NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'failed')),
    tries       INTEGER NOT NULL DEFAULT 0,
    next_try_at TEXT    NOT NULL DEFAULT '',
    last_error  TEXT    NOT NULL DEFAULT '',
    result_id   INTEGER NOT NULL DEFAULT 0,
    created_at  TEXT    NOT NULL,
    done_at     TEXT    NOT NULL DEFAULT '',
    UNIQUE (attempt_id, action, ref)
);
CREATE INDEX writeback_outbox_pending ON writeback_outbox (status, next_try_at);

CREATE TABLE reversals (
    id                INTEGER PRIMARY KEY,
    attempt_id        INTEGER NOT NULL REFERENCES charge_attempts (id),
    kind              TEXT    NOT NULL CHECK (kind IN ('dishonour', 'chargeback', 'refund')),
    reference         TEXT    NOT NULL DEFAULT '',
    gateway_id        TEXT    NOT NULL DEFAULT '',
    amount            INTEGER NOT NULL,
    reason            TEXT    NOT NULL DEFAULT '',
    code              TEXT    NOT NULL DEFAULT '',
    splynx_payment_id INTEGER NOT NULL DEFAULT 0,
    -- A refund is written 'requested' before the gateway call, so a crash
    -- in between leaves a visible row instead of a silent refund.
    state             TEXT    NOT NULL DEFAULT 'done' CHECK (state IN ('requested', 'done', 'failed')),
    created_at        TEXT    NOT NULL,
    UNIQUE (attempt_id, kind, reference)
);
-- One refund in flight per charge: a double click cannot refund twice.
CREATE UNIQUE INDEX reversals_one_requested ON reversals (attempt_id) WHERE state = 'requested';
