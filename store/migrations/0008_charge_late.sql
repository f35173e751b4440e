-- Issue 11 follow-up: an attempt the gateway took after we held it as
-- declined ("late") is live money again, but it must not collide with the
-- document's other attempt in the one-live index: which of the two pays the
-- document is decided when each one's money is certain (approved), not when
-- the late one reappears. 'late' exempts it from the index; 'superseded'
-- now only says "another attempt paid the document; this money goes to the
-- balance (or back)".
ALTER TABLE charge_attempts ADD COLUMN late INTEGER NOT NULL DEFAULT 0;
DROP INDEX charge_attempts_one_live;
CREATE UNIQUE INDEX charge_attempts_one_live ON charge_attempts (charge_key)
    WHERE state IN ('created', 'sending', 'unknown', 'review', 'pending', 'approved') AND superseded = 0 AND late = 0;
-- refund_due: with late_settlement=refund, a superseded charge whose refund
-- has not been done; the settlement job tries again until it is, or a person
-- decides to keep the money on the balance (audited).
ALTER TABLE charge_attempts ADD COLUMN refund_due INTEGER NOT NULL DEFAULT 0;
