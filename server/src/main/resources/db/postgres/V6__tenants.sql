-- Tenants (issue 11): managed API keys, and usage per key per hour. Same columns and meaning as
-- the SQLite store (times in epoch ms), so both share one row mapping.

CREATE TABLE api_keys (
    id                  TEXT    PRIMARY KEY,
    owner               TEXT    NOT NULL UNIQUE,
    name                TEXT    NOT NULL,
    prefix              TEXT    NOT NULL,
    secret_sha256       TEXT    NOT NULL UNIQUE,
    previous_sha256     TEXT,
    previous_until      BIGINT,
    created_at          BIGINT  NOT NULL,
    expires_at          BIGINT,
    revoked_at          BIGINT,
    max_queued          BIGINT,
    submits_per_minute  BIGINT,
    images_per_day      BIGINT,
    max_pixels          BIGINT,
    allowed_engines     TEXT,
    labels              TEXT    NOT NULL DEFAULT '{}'
);

CREATE TABLE usage_hourly (
    owner         TEXT    NOT NULL,
    hour          BIGINT  NOT NULL,
    submitted     BIGINT  NOT NULL DEFAULT 0,
    succeeded     BIGINT  NOT NULL DEFAULT 0,
    failed        BIGINT  NOT NULL DEFAULT 0,
    cancelled     BIGINT  NOT NULL DEFAULT 0,
    images        BIGINT  NOT NULL DEFAULT 0,
    pixels        BIGINT  NOT NULL DEFAULT 0,
    engine_millis BIGINT  NOT NULL DEFAULT 0,
    nsfw_flagged  BIGINT  NOT NULL DEFAULT 0,
    PRIMARY KEY (owner, hour)
);
CREATE INDEX usage_hourly_hour ON usage_hourly (hour);

ALTER TABLE tasks ADD COLUMN allowed_engines TEXT;
ALTER TABLE tasks ADD COLUMN attempt_started_at BIGINT;
ALTER TABLE tasks ADD COLUMN run_millis BIGINT NOT NULL DEFAULT 0;
UPDATE tasks SET attempt_started_at = started_at WHERE state = 'PROCESSING';

-- Once per INSERT statement, not per row: a node inserts a batch of one key's submits in one
-- statement, and this is one upsert for all of them (in key order, like any other writer of these rows).
CREATE FUNCTION tasks_usage_submitted() RETURNS trigger AS $$
BEGIN
    INSERT INTO usage_hourly AS u (owner, hour, submitted)
    SELECT owner, created_at - created_at % 3600000, count(*) FROM inserted GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (owner, hour) DO UPDATE SET submitted = u.submitted + EXCLUDED.submitted;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER tasks_usage_submitted AFTER INSERT ON tasks REFERENCING NEW TABLE AS inserted
FOR EACH STATEMENT EXECUTE FUNCTION tasks_usage_submitted();

CREATE FUNCTION tasks_usage_finished() RETURNS trigger AS $$
BEGIN
    INSERT INTO usage_hourly AS u (owner, hour, succeeded, failed, cancelled, images, pixels, engine_millis, nsfw_flagged)
    VALUES (NEW.owner, NEW.finished_at - NEW.finished_at % 3600000,
            (NEW.state = 'SUCCEED')::int,
            (NEW.state = 'FAILED' AND NEW.reason <> 'cancelled')::int,
            (NEW.state = 'FAILED' AND NEW.reason = 'cancelled')::int,
            (NEW.state = 'SUCCEED')::int,
            CASE WHEN NEW.state = 'SUCCEED' THEN NEW.width::bigint * NEW.height ELSE 0 END,
            NEW.run_millis,
            (NEW.state = 'SUCCEED' AND COALESCE(NEW.nsfw_flagged, 0) = 1)::int)
    ON CONFLICT (owner, hour) DO UPDATE SET
        succeeded = u.succeeded + EXCLUDED.succeeded, failed = u.failed + EXCLUDED.failed,
        cancelled = u.cancelled + EXCLUDED.cancelled, images = u.images + EXCLUDED.images,
        pixels = u.pixels + EXCLUDED.pixels, engine_millis = u.engine_millis + EXCLUDED.engine_millis,
        nsfw_flagged = u.nsfw_flagged + EXCLUDED.nsfw_flagged;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER tasks_usage_finished AFTER UPDATE OF state ON tasks
FOR EACH ROW
WHEN (NEW.state IN ('SUCCEED', 'FAILED') AND OLD.state NOT IN ('SUCCEED', 'FAILED'))
EXECUTE FUNCTION tasks_usage_finished();
