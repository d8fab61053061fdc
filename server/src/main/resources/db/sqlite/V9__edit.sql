-- Qwen-Image-Edit (issue 12): a task's kind ('txt2img' or 'edit'), the blob key of an edit's input
-- image (stored at submit, so a re-run never fetches it again), and edits counted apart in usage.
ALTER TABLE tasks ADD COLUMN kind TEXT NOT NULL DEFAULT 'txt2img';
ALTER TABLE tasks ADD COLUMN input_key TEXT;

-- Of the hour's counts, those of edits (the other columns count every kind).
ALTER TABLE usage_hourly ADD COLUMN edit_submitted INTEGER NOT NULL DEFAULT 0;
ALTER TABLE usage_hourly ADD COLUMN edit_succeeded INTEGER NOT NULL DEFAULT 0;
ALTER TABLE usage_hourly ADD COLUMN edit_engine_millis INTEGER NOT NULL DEFAULT 0;

DROP TRIGGER tasks_usage_submitted;
CREATE TRIGGER tasks_usage_submitted AFTER INSERT ON tasks
BEGIN
    INSERT INTO usage_hourly (owner, hour, submitted, edit_submitted)
    VALUES (NEW.owner, NEW.created_at - NEW.created_at % 3600000, 1, NEW.kind = 'edit')
    ON CONFLICT (owner, hour) DO UPDATE SET submitted = submitted + 1, edit_submitted = edit_submitted + excluded.edit_submitted;
END;

DROP TRIGGER tasks_usage_finished;
CREATE TRIGGER tasks_usage_finished AFTER UPDATE OF state ON tasks
WHEN NEW.state IN ('SUCCEED', 'FAILED') AND OLD.state NOT IN ('SUCCEED', 'FAILED')
BEGIN
    INSERT INTO usage_hourly (owner, hour, succeeded, failed, cancelled, images, pixels, engine_millis, nsfw_flagged,
                              edit_succeeded, edit_engine_millis)
    VALUES (NEW.owner, NEW.finished_at - NEW.finished_at % 3600000,
            NEW.state = 'SUCCEED',
            NEW.state = 'FAILED' AND NEW.reason <> 'cancelled',
            NEW.state = 'FAILED' AND NEW.reason = 'cancelled',
            NEW.state = 'SUCCEED',
            CASE WHEN NEW.state = 'SUCCEED' THEN NEW.width * NEW.height ELSE 0 END,
            NEW.run_millis,
            NEW.state = 'SUCCEED' AND COALESCE(NEW.nsfw_flagged, 0) = 1,
            NEW.state = 'SUCCEED' AND NEW.kind = 'edit',
            CASE WHEN NEW.kind = 'edit' THEN NEW.run_millis ELSE 0 END)
    ON CONFLICT (owner, hour) DO UPDATE SET
        succeeded = succeeded + excluded.succeeded, failed = failed + excluded.failed,
        cancelled = cancelled + excluded.cancelled, images = images + excluded.images,
        pixels = pixels + excluded.pixels, engine_millis = engine_millis + excluded.engine_millis,
        nsfw_flagged = nsfw_flagged + excluded.nsfw_flagged, edit_succeeded = edit_succeeded + excluded.edit_succeeded,
        edit_engine_millis = edit_engine_millis + excluded.edit_engine_millis;
END;
