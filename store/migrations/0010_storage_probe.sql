-- One row the daemon rewrites every few seconds to prove the database can
-- still commit (disk full, read-only remount, a lock held by another
-- process): the pad makes the probe fail before a charge's writes would.
CREATE TABLE storage_probe (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    at  TEXT NOT NULL,
    pad BLOB NOT NULL
);
