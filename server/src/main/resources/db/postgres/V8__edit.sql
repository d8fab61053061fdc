-- Qwen-Image-Edit (issue 12): as SQLite's V9. A task's kind and an edit's stored input image,
-- edits counted apart in usage, and the kinds each worker lane can run.
ALTER TABLE tasks ADD COLUMN kind TEXT NOT NULL DEFAULT 'txt2img';
ALTER TABLE tasks ADD COLUMN input_key TEXT;

ALTER TABLE usage_hourly ADD COLUMN edit_submitted BIGINT NOT NULL DEFAULT 0;
ALTER TABLE usage_hourly ADD COLUMN edit_succeeded BIGINT NOT NULL DEFAULT 0;
ALTER TABLE usage_hourly ADD COLUMN edit_engine_millis BIGINT NOT NULL DEFAULT 0;

ALTER TABLE worker_lanes ADD COLUMN kinds TEXT NOT NULL DEFAULT 'txt2img';

CREATE OR REPLACE FUNCTION tasks_usage_submitted() RETURNS trigger AS $$
BEGIN
    INSERT INTO usage_hourly AS u (owner, hour, submitted, edit_submitted)
    SELECT owner, created_at - created_at % 3600000, count(*), count(*) FILTER (WHERE kind = 'edit')
      FROM inserted GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (owner, hour) DO UPDATE SET submitted = u.submitted + EXCLUDED.submitted,
                                            edit_submitted = u.edit_submitted + EXCLUDED.edit_submitted;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION tasks_usage_finished() RETURNS trigger AS $$
BEGIN
    INSERT INTO usage_hourly AS u (owner, hour, succeeded, failed, cancelled, images, pixels, engine_millis, nsfw_flagged,
                                   edit_succeeded, edit_engine_millis)
    VALUES (NEW.owner, NEW.finished_at - NEW.finished_at % 3600000,
            (NEW.state = 'SUCCEED')::int,
            (NEW.state = 'FAILED' AND NEW.reason <> 'cancelled')::int,
            (NEW.state = 'FAILED' AND NEW.reason = 'cancelled')::int,
            (NEW.state = 'SUCCEED')::int,
            CASE WHEN NEW.state = 'SUCCEED' THEN NEW.width::bigint * NEW.height ELSE 0 END,
            NEW.run_millis,
            (NEW.state = 'SUCCEED' AND COALESCE(NEW.nsfw_flagged, 0) = 1)::int,
            (NEW.state = 'SUCCEED' AND NEW.kind = 'edit')::int,
            CASE WHEN NEW.kind = 'edit' THEN NEW.run_millis ELSE 0 END)
    ON CONFLICT (owner, hour) DO UPDATE SET
        succeeded = u.succeeded + EXCLUDED.succeeded, failed = u.failed + EXCLUDED.failed,
        cancelled = u.cancelled + EXCLUDED.cancelled, images = u.images + EXCLUDED.images,
        pixels = u.pixels + EXCLUDED.pixels, engine_millis = u.engine_millis + EXCLUDED.engine_millis,
        nsfw_flagged = u.nsfw_flagged + EXCLUDED.nsfw_flagged, edit_succeeded = u.edit_succeeded + EXCLUDED.edit_succeeded,
        edit_engine_millis = u.edit_engine_millis + EXCLUDED.edit_engine_millis;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
