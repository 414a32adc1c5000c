-- Runs and their trials: the evaluation ledger.
CREATE TABLE runs (
    id           TEXT PRIMARY KEY,          -- UUID v7
    created      TEXT NOT NULL,             -- RFC 3339
    finished     TEXT,
    status       TEXT NOT NULL,             -- running | complete | interrupted | failed
    target_id    TEXT NOT NULL,
    tool_version TEXT NOT NULL,
    spec         TEXT NOT NULL              -- JSON: what to run (banks, sample, seed, attacks, judges, target without secrets, hashes)
);

CREATE TABLE trials (
    run_id            TEXT NOT NULL REFERENCES runs(id),
    key               TEXT NOT NULL,        -- deterministic: item id + attack variant; the exactly-once key
    id                TEXT NOT NULL,        -- UUID v7
    seq               INTEGER NOT NULL,     -- position in the plan
    item_id           TEXT NOT NULL,
    bank              TEXT NOT NULL,
    lang              TEXT NOT NULL,
    risk_ids          TEXT NOT NULL,        -- JSON array
    attack            TEXT NOT NULL,        -- id@version
    request           TEXT NOT NULL,        -- JSON: messages sent
    response          TEXT,
    status            TEXT NOT NULL,        -- ok | error
    error             TEXT,
    outcome           TEXT,                 -- pass | fail | unsure (ok trials)
    verdicts          TEXT NOT NULL,        -- JSON array of judge verdicts
    first_token_ms    REAL,
    total_ms          REAL,
    prompt_tokens     INTEGER,
    completion_tokens INTEGER,
    tokens_estimated  INTEGER NOT NULL DEFAULT 0,
    attempts          INTEGER NOT NULL DEFAULT 0,
    created           TEXT NOT NULL,
    PRIMARY KEY (run_id, key)
);

CREATE TABLE response_cache (
    key     TEXT PRIMARY KEY,               -- SHA-256 of target + request
    value   TEXT NOT NULL,                  -- JSON response
    created TEXT NOT NULL
);
