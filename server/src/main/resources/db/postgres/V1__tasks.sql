-- Tasks and their queue (PostgreSQL). Same columns and meaning as the SQLite store: times are
-- epoch milliseconds (UTC), flags are integers, so both stores share one row mapping.
CREATE TABLE tasks (
    seq              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,  -- order of arrival
    turn             BIGINT  NOT NULL,                   -- fair-queueing round (claims go in turn, seq order)
    id               TEXT    NOT NULL UNIQUE,            -- the task_id clients see (UUIDv7)
    owner            TEXT    NOT NULL,                   -- fingerprint of the submitting API key
    state            TEXT    NOT NULL CHECK (state IN ('QUEUED', 'PROCESSING', 'SUCCEED', 'FAILED')),
    prompt           TEXT    NOT NULL,
    negative_prompt  TEXT    NOT NULL DEFAULT '',
    width            INTEGER NOT NULL,
    height           INTEGER NOT NULL,
    watermark        INTEGER NOT NULL,
    seed             BIGINT  NOT NULL,
    steps            INTEGER,                            -- NULL: the engine's default
    attempts         INTEGER NOT NULL DEFAULT 0,
    max_attempts     INTEGER NOT NULL,
    available_at     BIGINT  NOT NULL,                   -- a QUEUED task is claimable from then on
    lease_owner      TEXT,
    lease_expires_at BIGINT,
    progress         INTEGER NOT NULL DEFAULT 0,
    engine           TEXT,
    failed_on        TEXT,                               -- engine of the last transient failure
    reason           TEXT    NOT NULL DEFAULT '',
    image_key        TEXT,
    created_at       BIGINT  NOT NULL,
    started_at       BIGINT,
    finished_at      BIGINT,
    engine_millis    INTEGER,
    nsfw_flagged     INTEGER,
    nsfw_confidence  DOUBLE PRECISION
);

-- The claim order.
CREATE INDEX tasks_queue ON tasks (turn, seq) WHERE state = 'QUEUED';
-- A key's last queued turn, its queued count (per-key cap) and the per-key queue snapshot.
CREATE INDEX tasks_owner_queued ON tasks (owner, turn) WHERE state = 'QUEUED';
-- The turn being served: the highest turn of any task that was ever claimed.
CREATE INDEX tasks_claimed_turn ON tasks (turn) WHERE started_at IS NOT NULL;
-- The rescuer looks for expired leases.
CREATE INDEX tasks_leases ON tasks (lease_expires_at) WHERE state = 'PROCESSING';
-- The janitor removes finished tasks past retention.
CREATE INDEX tasks_finished ON tasks (finished_at) WHERE state IN ('SUCCEED', 'FAILED');

-- Worker nodes publish their engine lanes here so that api nodes can show them in /healthz and
-- base ETAs on the fleet's real capacity and pace.
CREATE TABLE worker_lanes (
    worker_id          TEXT    NOT NULL,
    engine             TEXT    NOT NULL,
    state              TEXT    NOT NULL,
    slots              INTEGER NOT NULL,
    busy               INTEGER NOT NULL,
    default_steps      INTEGER NOT NULL,
    seconds_per_step   DOUBLE PRECISION NOT NULL,  -- at 1024x1024
    post_seconds       DOUBLE PRECISION NOT NULL,
    description        TEXT    NOT NULL,
    last_error         TEXT    NOT NULL DEFAULT '',
    updated_at         BIGINT  NOT NULL,
    PRIMARY KEY (worker_id, engine)
);
