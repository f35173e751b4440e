-- Issue 14 follow-up: when each background job last ran to the end of its
-- main step, for the overview's health box (the settlement poll first: the
-- newest settlement *event* says nothing when no debit settled overnight).
-- One row per job, overwritten on each run; not a history.
CREATE TABLE job_runs (
    job    TEXT PRIMARY KEY,
    last_at TEXT NOT NULL
);
