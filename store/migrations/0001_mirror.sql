-- The local mirror of Splynx. Splynx ids are the primary keys, so a record
-- keeps its identity across passes; money is INTEGER minor units; dates are
-- Splynx text ('YYYY-MM-DD', 'YYYY-MM-DD HH:MM:SS', '' when absent) so that
-- text comparison orders them. sync_gen is the full-pass generation that last
-- saw the row: a successful full pass deletes rows with an older generation,
-- which finds records deleted in Splynx without holding every id in memory.
-- sync_gen has no index on purpose: it is read by one scan per full pass,
-- while an index would cost on every one of the pass's writes. row_hash and
-- items_hash fingerprint what was last written, so that a pass rewrites only
-- what changed and leaves untouched index entries alone.
--
-- An invoice's or proforma's lines live in its own row, in the items column:
-- a JSON array with one array per line, positionally
--   [item_id, description, quantity, unit, price (INTEGER cents), tax, period_from, period_to]
-- e.g. [[11,"Internet 100","1","",4999,"10","2026-11-01","2026-11-30"]].
-- Nothing selects or joins on a single line, and a full pass writes millions
-- of lines: one text value per invoice costs a fraction of one row per line
-- (bindings, B-tree inserts, pages). The views invoice_items and
-- proforma_items show the lines as rows.

CREATE TABLE customers (
    id              INTEGER PRIMARY KEY,
    login           TEXT    NOT NULL DEFAULT '',
    name            TEXT    NOT NULL DEFAULT '',
    email           TEXT    NOT NULL DEFAULT '',
    billing_email   TEXT    NOT NULL DEFAULT '',
    phone           TEXT    NOT NULL DEFAULT '',
    category        TEXT    NOT NULL DEFAULT '',
    status          TEXT    NOT NULL DEFAULT '',
    billing_type    TEXT    NOT NULL DEFAULT '',
    partner_id      INTEGER NOT NULL DEFAULT 0,
    location_id     INTEGER NOT NULL DEFAULT 0,
    street          TEXT    NOT NULL DEFAULT '',
    street2         TEXT    NOT NULL DEFAULT '',
    city            TEXT    NOT NULL DEFAULT '',
    zip             TEXT    NOT NULL DEFAULT '',
    date_add        TEXT    NOT NULL DEFAULT '',
    last_update     TEXT    NOT NULL DEFAULT '',
    additional_json TEXT    NOT NULL DEFAULT '{}',
    row_hash        INTEGER NOT NULL DEFAULT 0,
    sync_gen        INTEGER NOT NULL DEFAULT 0,
    synced_at       TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX customers_status   ON customers(status);
CREATE INDEX customers_partner  ON customers(partner_id);
CREATE INDEX customers_location ON customers(location_id);
CREATE INDEX customers_login    ON customers(login);

CREATE TABLE billing (
    customer_id     INTEGER PRIMARY KEY,
    enabled         INTEGER NOT NULL DEFAULT 0,
    type            TEXT    NOT NULL DEFAULT '',
    deposit         INTEGER NOT NULL DEFAULT 0,
    payment_method  INTEGER NOT NULL DEFAULT 0,
    billing_date    TEXT    NOT NULL DEFAULT '',
    billing_due     TEXT    NOT NULL DEFAULT '',
    min_balance     INTEGER NOT NULL DEFAULT 0,
    sync_gen        INTEGER NOT NULL DEFAULT 0,
    synced_at       TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX billing_payment_method ON billing(payment_method);

CREATE TABLE invoices (
    id                   INTEGER PRIMARY KEY,
    customer_id          INTEGER NOT NULL DEFAULT 0,
    number               TEXT    NOT NULL DEFAULT '',
    date_created         TEXT    NOT NULL DEFAULT '',
    real_create_datetime TEXT    NOT NULL DEFAULT '',
    date_updated         TEXT    NOT NULL DEFAULT '',
    date_payment         TEXT    NOT NULL DEFAULT '',
    date_till            TEXT    NOT NULL DEFAULT '',
    total                INTEGER NOT NULL DEFAULT 0,
    due                  INTEGER NOT NULL DEFAULT 0,
    status               TEXT    NOT NULL DEFAULT '',
    payment_id           INTEGER NOT NULL DEFAULT 0,
    type                 TEXT    NOT NULL DEFAULT '',
    note                 TEXT    NOT NULL DEFAULT '',
    memo                 TEXT    NOT NULL DEFAULT '',
    additional_json      TEXT    NOT NULL DEFAULT '{}',
    items                TEXT    NOT NULL DEFAULT '[]',
    row_hash             INTEGER NOT NULL DEFAULT 0,
    items_hash           INTEGER NOT NULL DEFAULT 0,
    sync_gen             INTEGER NOT NULL DEFAULT 0,
    synced_at            TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX invoices_status_created ON invoices(status, date_created);
CREATE INDEX invoices_customer       ON invoices(customer_id);
CREATE INDEX invoices_date_created   ON invoices(date_created);
CREATE INDEX invoices_number         ON invoices(number);

CREATE TABLE proformas (
    id                   INTEGER PRIMARY KEY,
    customer_id          INTEGER NOT NULL DEFAULT 0,
    number               TEXT    NOT NULL DEFAULT '',
    date_created         TEXT    NOT NULL DEFAULT '',
    real_create_datetime TEXT    NOT NULL DEFAULT '',
    date_updated         TEXT    NOT NULL DEFAULT '',
    date_payment         TEXT    NOT NULL DEFAULT '',
    date_till            TEXT    NOT NULL DEFAULT '',
    total                INTEGER NOT NULL DEFAULT 0,
    status               TEXT    NOT NULL DEFAULT '',
    payment_id           INTEGER NOT NULL DEFAULT 0,
    note                 TEXT    NOT NULL DEFAULT '',
    memo                 TEXT    NOT NULL DEFAULT '',
    items                TEXT    NOT NULL DEFAULT '[]',
    row_hash             INTEGER NOT NULL DEFAULT 0,
    items_hash           INTEGER NOT NULL DEFAULT 0,
    sync_gen             INTEGER NOT NULL DEFAULT 0,
    synced_at            TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX proformas_status_created ON proformas(status, date_created);
CREATE INDEX proformas_customer       ON proformas(customer_id);
CREATE INDEX proformas_date_created   ON proformas(date_created);
CREATE INDEX proformas_number         ON proformas(number);

-- The lines as rows, for SQL that wants them (read only; nothing in the
-- add-on's hot paths uses these views).
CREATE VIEW invoice_items AS
    SELECT i.id AS invoice_id, CAST(j.key AS INTEGER) AS pos, j.value->>0 AS item_id, j.value->>1 AS description,
           j.value->>2 AS quantity, j.value->>3 AS unit, j.value->>4 AS price, j.value->>5 AS tax,
           j.value->>6 AS period_from, j.value->>7 AS period_to
    FROM invoices i, json_each(i.items) j;

CREATE VIEW proforma_items AS
    SELECT p.id AS proforma_id, CAST(j.key AS INTEGER) AS pos, j.value->>0 AS item_id, j.value->>1 AS description,
           j.value->>2 AS quantity, j.value->>3 AS unit, j.value->>4 AS price, j.value->>5 AS tax,
           j.value->>6 AS period_from, j.value->>7 AS period_to
    FROM proformas p, json_each(p.items) j;

CREATE TABLE payment_methods (
    id        INTEGER PRIMARY KEY,
    name      TEXT    NOT NULL DEFAULT '',
    is_active INTEGER NOT NULL DEFAULT 0,
    name_1    TEXT    NOT NULL DEFAULT '',
    name_2    TEXT    NOT NULL DEFAULT '',
    name_3    TEXT    NOT NULL DEFAULT '',
    name_4    TEXT    NOT NULL DEFAULT '',
    name_5    TEXT    NOT NULL DEFAULT '',
    sync_gen  INTEGER NOT NULL DEFAULT 0,
    synced_at TEXT    NOT NULL DEFAULT ''
);

-- One row per mirrored entity. last_seen is the largest Splynx timestamp seen
-- (Splynx's clock, not ours); last_full is our time of the last successful
-- full pass; generation numbers full passes.
CREATE TABLE sync_cursors (
    entity     TEXT    PRIMARY KEY,
    last_seen  TEXT    NOT NULL DEFAULT '',
    last_full  TEXT    NOT NULL DEFAULT '',
    last_run   TEXT    NOT NULL DEFAULT '',
    generation INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT    NOT NULL DEFAULT ''
);

CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          TEXT    NOT NULL,
    event       TEXT    NOT NULL,
    fields_json TEXT    NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_event ON audit_log(event, at);
