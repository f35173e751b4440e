-- Hosted card / bank entry (card_entry = hosted, issue 13): every gateway
-- hosted page we created, so the return (<prefix>/hosted/return?webPageToken=)
-- accepts only a token we issued, for the customer and the browser that
-- started it. A payment page names its charge attempt, whose reference was
-- persisted before the page was created.
CREATE TABLE hosted_pages (
    token        TEXT    PRIMARY KEY,
    customer_id  INTEGER NOT NULL,
    kind         TEXT    NOT NULL CHECK (kind IN ('HPP', 'EDDR')),
    -- method: save a card or bank account; pay: pay attempt_id
    purpose      TEXT    NOT NULL CHECK (purpose IN ('method', 'pay')),
    attempt_id   INTEGER REFERENCES charge_attempts (id),
    save         INTEGER NOT NULL DEFAULT 0,
    direct       INTEGER NOT NULL DEFAULT 0,
    -- sha256 of the random value the starting browser holds in a cookie
    browser_hash TEXT    NOT NULL DEFAULT '',
    created_at   TEXT    NOT NULL,
    expires_at   TEXT    NOT NULL,
    done_at      TEXT    NOT NULL DEFAULT '',
    method_id    INTEGER,
    -- our page the browser goes to after a saved method (e.g. the pay page)
    next         TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX hosted_pages_customer ON hosted_pages (customer_id, created_at);
