-- The guard (`anquan guard`): a hash-chained audit log and per-user violation counters.

-- One record per proxied request. `seq` is assigned in append order and is part of the hashed
-- content; `hash = sha256(prev_hash || canonical JSON of the record with its seq)` (hex).
CREATE TABLE guard_audit (
    seq           INTEGER PRIMARY KEY,      -- 1, 2, 3, … with no gaps
    time          TEXT NOT NULL,            -- RFC 3339, as the guard wrote it (hashed)
    time_ms       INTEGER NOT NULL,         -- the same instant in Unix milliseconds (for pruning)
    tenant        TEXT NOT NULL,
    user_id       TEXT NOT NULL,
    request_id    TEXT NOT NULL,
    action        TEXT NOT NULL,            -- pass | block | mask | annotate | error | suspended | killed | rate_limited
    verdicts      TEXT NOT NULL,            -- JSON
    latency_ms    REAL NOT NULL,
    input_sha256  TEXT NOT NULL,
    output_sha256 TEXT NOT NULL,
    input_text    TEXT,                     -- only when the policy keeps full text (PII masked)
    output_text   TEXT,
    status        INTEGER NOT NULL,         -- HTTP status given to the client
    error_code    TEXT,
    prev_hash     TEXT NOT NULL,
    hash          TEXT NOT NULL
);
CREATE INDEX guard_audit_time ON guard_audit (time_ms);

-- The last appended link (seq, hash): lets verification notice records deleted from the end.
CREATE TABLE guard_audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  INTEGER NOT NULL,
    hash TEXT NOT NULL
);

-- After pruning: the last pruned link, where verification starts.
CREATE TABLE guard_audit_anchor (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    seq       INTEGER NOT NULL,
    hash      TEXT NOT NULL,
    pruned    INTEGER NOT NULL,             -- records pruned so far, in total
    pruned_at TEXT NOT NULL                 -- RFC 3339 of the last prune
);

-- Violation counters and suspensions per (tenant, user).
CREATE TABLE guard_users (
    tenant             TEXT NOT NULL,
    user_id            TEXT NOT NULL,
    consecutive        INTEGER NOT NULL DEFAULT 0,  -- violations in a row
    day                TEXT NOT NULL DEFAULT '',    -- UTC date (YYYY-MM-DD) that day_count counts
    day_count          INTEGER NOT NULL DEFAULT 0,  -- violations on that day
    suspended_until_ms INTEGER,                     -- Unix ms; NULL when not suspended
    suspensions        INTEGER NOT NULL DEFAULT 0,  -- times suspended, in total
    last_violation_ms  INTEGER,
    PRIMARY KEY (tenant, user_id)
);
CREATE INDEX guard_users_suspended ON guard_users (suspended_until_ms)
    WHERE suspended_until_ms IS NOT NULL;
