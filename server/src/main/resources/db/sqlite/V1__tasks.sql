-- Tasks and their queue. Times are epoch milliseconds (UTC).
CREATE TABLE tasks (
    seq              INTEGER PRIMARY KEY AUTOINCREMENT,  -- queue order
    id               TEXT    NOT NULL UNIQUE,            -- the task_id clients see (UUID)
    owner            TEXT    NOT NULL,                   -- fingerprint of the submitting API key
    state            TEXT    NOT NULL CHECK (state IN ('QUEUED', 'PROCESSING', 'SUCCEED', 'FAILED')),
    prompt           TEXT    NOT NULL,
    negative_prompt  TEXT    NOT NULL DEFAULT '',
    width            INTEGER NOT NULL,
    height           INTEGER NOT NULL,
    watermark        INTEGER NOT NULL,
    seed             INTEGER NOT NULL,
    steps            INTEGER,                            -- NULL: the engine's default
    attempts         INTEGER NOT NULL DEFAULT 0,
    max_attempts     INTEGER NOT NULL,
    available_at     INTEGER NOT NULL,                   -- a QUEUED task is claimable from then on
    lease_owner      TEXT,
    lease_expires_at INTEGER,
    progress         INTEGER NOT NULL DEFAULT 0,
    engine           TEXT,
    reason           TEXT    NOT NULL DEFAULT '',
    image_key        TEXT,
    created_at       INTEGER NOT NULL,
    started_at       INTEGER,
    finished_at      INTEGER,
    engine_millis    INTEGER
);

-- The claim query and "queued ahead" counts read only queued rows, in queue order.
CREATE INDEX tasks_queued ON tasks (seq) WHERE state = 'QUEUED';
-- The rescuer looks for expired leases.
CREATE INDEX tasks_leases ON tasks (lease_expires_at) WHERE state = 'PROCESSING';
-- The janitor removes finished tasks past retention.
CREATE INDEX tasks_finished ON tasks (finished_at) WHERE state IN ('SUCCEED', 'FAILED');
