-- The staff audit trail (issue 14): every staff action and every automatic
-- money event, with who, when, what and the record it concerns. Staff
-- actions are inserted by the web pages; money events are written by the
-- triggers below from the charge tables themselves, so every code path that
-- moves money (runs, retries, portal, reconciler, settlement poll) leaves a
-- row without the engine having to remember to.
--
-- Rows are never updated or deleted: the triggers at the end refuse it.
-- Times use the charge tables' format (UTC, fixed width) so they sort as text.

CREATE TABLE audit_trail (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          TEXT    NOT NULL,
    -- "admin alice", "admin #7", "schedule", "customer", "system", ...
    actor       TEXT    NOT NULL DEFAULT 'system',
    -- staff.* for staff actions; run.started, charge.*, settlement, dishonour,
    -- chargeback, refund, refund.failed, method.*, setting.changed.
    kind        TEXT    NOT NULL,
    customer_id INTEGER NOT NULL DEFAULT 0,
    -- What the row is about: attempt | run | method | customer | setting.
    subject     TEXT    NOT NULL DEFAULT '',
    subject_id  INTEGER NOT NULL DEFAULT 0,
    amount      INTEGER NOT NULL DEFAULT 0,
    detail      TEXT    NOT NULL DEFAULT '',
    ip          TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX audit_trail_at       ON audit_trail (at);
CREATE INDEX audit_trail_customer ON audit_trail (customer_id, at);
CREATE INDEX audit_trail_kind     ON audit_trail (kind, at);

CREATE TRIGGER audit_trail_no_update BEFORE UPDATE ON audit_trail
BEGIN
    SELECT RAISE(ABORT, 'audit_trail is append-only: rows cannot be changed');
END;
CREATE TRIGGER audit_trail_no_delete BEFORE DELETE ON audit_trail
BEGIN
    SELECT RAISE(ABORT, 'audit_trail is append-only: rows cannot be deleted');
END;

-- A run started (nightly schedule, retry schedule, an admin's run or Pay now,
-- a portal payment).
CREATE TRIGGER audit_trail_run_started AFTER INSERT ON charge_runs
BEGIN
    INSERT INTO audit_trail (at, actor, kind, subject, subject_id, customer_id, detail)
    VALUES (NEW.started_at, COALESCE(NULLIF(NEW.started_by, ''), NEW.source), 'run.started', 'run', NEW.id,
            COALESCE(json_extract(NEW.filters_json, '$.customer_id'), 0),
            NEW.source || ' ' || NEW.mode || ' run');
END;

-- A charge attempt reached an outcome. Who: whoever started its run.
CREATE TRIGGER audit_trail_attempt_state AFTER UPDATE OF state ON charge_attempts
WHEN NEW.state <> OLD.state AND NEW.state IN ('pending', 'approved', 'declined', 'unknown', 'review', 'recorded', 'reversed')
BEGIN
    INSERT INTO audit_trail (at, actor, kind, customer_id, subject, subject_id, amount, detail)
    VALUES (NEW.updated_at,
            COALESCE((SELECT COALESCE(NULLIF(started_by, ''), source) FROM charge_runs WHERE id = NEW.run_id), 'system'),
            CASE
                WHEN OLD.state = 'pending' AND NEW.state = 'approved' THEN 'settlement'
                WHEN OLD.state = 'pending' AND NEW.state = 'declined' THEN 'dishonour'
                WHEN NEW.state = 'recorded' THEN 'charge.written_back'
                ELSE 'charge.' || NEW.state
            END,
            NEW.customer_id, 'attempt', NEW.id, NEW.amount,
            CASE WHEN NEW.kind = 'refill' THEN 'refill' ELSE NEW.kind || ' ' || NEW.item_number END
            || ' ' || NEW.reference
            || CASE WHEN NEW.state = 'recorded' THEN ' → Splynx payment ' || NEW.splynx_payment_id ELSE '' END
            || CASE WHEN NEW.state IN ('declined', 'reversed') AND NEW.reason <> ''
                    THEN ': ' || NEW.reason || CASE WHEN NEW.code <> '' THEN ' (' || NEW.code || ')' ELSE '' END
                    ELSE '' END);
END;

-- Money given back: the refunded total grows in the same transaction as the
-- refund is recorded done.
CREATE TRIGGER audit_trail_refund AFTER UPDATE OF refunded ON charge_attempts
WHEN NEW.refunded > OLD.refunded
BEGIN
    INSERT INTO audit_trail (at, actor, kind, customer_id, subject, subject_id, amount, detail)
    VALUES (NEW.updated_at, 'system', 'refund', NEW.customer_id, 'attempt', NEW.id, NEW.refunded - OLD.refunded,
            NEW.kind || ' ' || NEW.item_number || ' ' || NEW.reference
            || CASE WHEN NEW.refunded = NEW.amount THEN ' (in full)' ELSE ' (partial)' END);
END;

CREATE TRIGGER audit_trail_refund_failed AFTER UPDATE OF state ON reversals
WHEN NEW.kind = 'refund' AND NEW.state = 'failed' AND OLD.state <> 'failed'
BEGIN
    INSERT INTO audit_trail (at, actor, kind, customer_id, subject, subject_id, amount, detail)
    SELECT NEW.created_at, 'system', 'refund.failed', a.customer_id, 'attempt', a.id, NEW.amount,
           'refund ' || NEW.reference || ' of ' || a.reference || ' was not made'
    FROM charge_attempts a WHERE a.id = NEW.attempt_id;
END;

-- A late dishonour or chargeback of a recorded charge.
CREATE TRIGGER audit_trail_reversal AFTER INSERT ON reversals
WHEN NEW.kind IN ('dishonour', 'chargeback')
BEGIN
    INSERT INTO audit_trail (at, actor, kind, customer_id, subject, subject_id, amount, detail)
    SELECT NEW.created_at, 'gateway', NEW.kind, a.customer_id, 'attempt', a.id, NEW.amount,
           a.kind || ' ' || a.item_number || ' ' || a.reference || ': ' || NEW.reason
           || CASE WHEN NEW.code <> '' THEN ' (' || NEW.code || ')' ELSE '' END
    FROM charge_attempts a WHERE a.id = NEW.attempt_id;
END;

CREATE TRIGGER audit_trail_method_added AFTER INSERT ON saved_methods
BEGIN
    INSERT INTO audit_trail (at, actor, kind, customer_id, subject, subject_id, detail)
    VALUES (NEW.created_at, 'system', 'method.added', NEW.customer_id, 'method', NEW.id,
            NEW.kind || ' ' || NEW.mask || CASE WHEN NEW.auth_text <> '' THEN '; authorisation: ' || NEW.auth_text ELSE '' END);
END;

CREATE TRIGGER audit_trail_method_status AFTER UPDATE OF status ON saved_methods
WHEN NEW.status <> OLD.status
BEGIN
    INSERT INTO audit_trail (at, actor, kind, customer_id, subject, subject_id, detail)
    VALUES (NEW.updated_at, 'system', 'method.' || NEW.status, NEW.customer_id, 'method', NEW.id,
            NEW.kind || ' ' || NEW.mask || CASE WHEN NEW.status_reason <> '' THEN ': ' || NEW.status_reason ELSE '' END);
END;

-- The module settings last seen, so a change made in Splynx is noticed and
-- written to the trail. Secrets are kept only as a hash.
CREATE TABLE settings_seen (
    key     TEXT PRIMARY KEY,
    value   TEXT NOT NULL,
    seen_at TEXT NOT NULL
);

-- The overview's daily sums read only this index, not the attempt rows.
CREATE INDEX charge_attempts_overview ON charge_attempts (created_at, state, amount, refunded, settles_by, reason, code);
