-- Tenants (issue 11): managed API keys, and usage per key per hour.

-- Managed API keys. The secret is never stored: secret_sha256 is its digest (hex). Times are epoch
-- ms; a NULL limit means the global default; allowed_engines is a JSON array or NULL (every engine).
CREATE TABLE api_keys (
    id                  TEXT    PRIMARY KEY,
    owner               TEXT    NOT NULL UNIQUE,          -- owner of the key's tasks (= id for a managed key)
    name                TEXT    NOT NULL,
    prefix              TEXT    NOT NULL,
    secret_sha256       TEXT    NOT NULL UNIQUE,
    previous_sha256     TEXT,                             -- after a rotation with grace: the old secret ...
    previous_until      INTEGER,                          -- ... valid until then
    created_at          INTEGER NOT NULL,
    expires_at          INTEGER,
    revoked_at          INTEGER,
    max_queued          INTEGER,
    submits_per_minute  INTEGER,
    images_per_day      INTEGER,
    max_pixels          INTEGER,
    allowed_engines     TEXT,
    labels              TEXT    NOT NULL DEFAULT '{}'     -- JSON object
);

-- What each owner used per UTC hour (hour = epoch ms of its start). Written only by the triggers
-- below, in the transaction of the task's own change, so each task counts exactly once.
CREATE TABLE usage_hourly (
    owner         TEXT    NOT NULL,
    hour          INTEGER NOT NULL,
    submitted     INTEGER NOT NULL DEFAULT 0,
    succeeded     INTEGER NOT NULL DEFAULT 0,
    failed        INTEGER NOT NULL DEFAULT 0,
    cancelled     INTEGER NOT NULL DEFAULT 0,
    images        INTEGER NOT NULL DEFAULT 0,
    pixels        INTEGER NOT NULL DEFAULT 0,
    engine_millis INTEGER NOT NULL DEFAULT 0,
    nsfw_flagged  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (owner, hour)
);
CREATE INDEX usage_hourly_hour ON usage_hourly (hour);

-- The engines a task may run on (the key's allowed engines, a comma-separated list; NULL: any),
-- when its current attempt began, and the time all its attempts ran so far.
ALTER TABLE tasks ADD COLUMN allowed_engines TEXT;
ALTER TABLE tasks ADD COLUMN attempt_started_at INTEGER;
ALTER TABLE tasks ADD COLUMN run_millis INTEGER NOT NULL DEFAULT 0;
UPDATE tasks SET attempt_started_at = started_at WHERE state = 'PROCESSING';

CREATE TRIGGER tasks_usage_submitted AFTER INSERT ON tasks
BEGIN
    INSERT INTO usage_hourly (owner, hour, submitted) VALUES (NEW.owner, NEW.created_at - NEW.created_at % 3600000, 1)
    ON CONFLICT (owner, hour) DO UPDATE SET submitted = submitted + 1;
END;

CREATE TRIGGER tasks_usage_finished AFTER UPDATE OF state ON tasks
WHEN NEW.state IN ('SUCCEED', 'FAILED') AND OLD.state NOT IN ('SUCCEED', 'FAILED')
BEGIN
    INSERT INTO usage_hourly (owner, hour, succeeded, failed, cancelled, images, pixels, engine_millis, nsfw_flagged)
    VALUES (NEW.owner, NEW.finished_at - NEW.finished_at % 3600000,
            NEW.state = 'SUCCEED',
            NEW.state = 'FAILED' AND NEW.reason <> 'cancelled',
            NEW.state = 'FAILED' AND NEW.reason = 'cancelled',
            NEW.state = 'SUCCEED',
            CASE WHEN NEW.state = 'SUCCEED' THEN NEW.width * NEW.height ELSE 0 END,
            NEW.run_millis,
            NEW.state = 'SUCCEED' AND COALESCE(NEW.nsfw_flagged, 0) = 1)
    ON CONFLICT (owner, hour) DO UPDATE SET
        succeeded = succeeded + excluded.succeeded, failed = failed + excluded.failed,
        cancelled = cancelled + excluded.cancelled, images = images + excluded.images,
        pixels = pixels + excluded.pixels, engine_millis = engine_millis + excluded.engine_millis,
        nsfw_flagged = nsfw_flagged + excluded.nsfw_flagged;
END;
