-- Customer payment pages (issue 13): our own visitor sessions, kept in the
-- database so a restart does not log customers out. Only a hash of the
-- session id is stored: a copy of the database opens no session.
CREATE TABLE portal_sessions (
    id_hash     TEXT    PRIMARY KEY,
    customer_id INTEGER NOT NULL,
    -- How the visitor proved who they are: splynx (portal session cookie) or login (our form).
    via         TEXT    NOT NULL CHECK (via IN ('splynx', 'login')),
    ip          TEXT    NOT NULL DEFAULT '',
    -- For via=splynx: a hash of the portal session it came from, so another
    -- portal login in the same browser is noticed.
    origin      TEXT    NOT NULL DEFAULT '',
    created_at  TEXT    NOT NULL,
    last_seen   TEXT    NOT NULL
);
CREATE INDEX portal_sessions_last_seen ON portal_sessions (last_seen);
