-- Status changes the engine applied and acknowledged, for gateways that
-- cannot be told (IPpay's returns report). Self-contained.
CREATE TABLE gateway_acks (
    gateway  TEXT NOT NULL,
    ack_id   TEXT NOT NULL,
    acked_at TEXT NOT NULL,
    PRIMARY KEY (gateway, ack_id)
) WITHOUT ROWID;
