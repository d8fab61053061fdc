-- Submit extensions: the image format, the webhook to call when the task ends.
ALTER TABLE tasks ADD COLUMN image_type TEXT NOT NULL DEFAULT 'jpeg';
ALTER TABLE tasks ADD COLUMN webhook_url TEXT;
-- A cancel asked for while the task runs (possibly on another node): its worker stops it.
ALTER TABLE tasks ADD COLUMN cancel_requested INTEGER NOT NULL DEFAULT 0;

-- Webhook deliveries to make: written in the same transaction that ends a task (a trigger), so
-- none is lost, and sent by any node from this durable outbox.
CREATE TABLE webhook_outbox (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id       TEXT    NOT NULL,
    url           TEXT    NOT NULL,
    attempts      INTEGER NOT NULL DEFAULT 0,
    next_at       INTEGER NOT NULL,             -- epoch ms of the next try (a claim pushes it out)
    delivered_at  INTEGER,
    given_up_at   INTEGER,
    last_error    TEXT    NOT NULL DEFAULT '',
    created_at    INTEGER NOT NULL
);
CREATE INDEX webhook_outbox_due ON webhook_outbox (next_at) WHERE delivered_at IS NULL AND given_up_at IS NULL;

CREATE TRIGGER tasks_finished_webhook AFTER UPDATE OF state ON tasks
WHEN NEW.webhook_url IS NOT NULL AND NEW.state IN ('SUCCEED', 'FAILED') AND OLD.state NOT IN ('SUCCEED', 'FAILED')
BEGIN
    INSERT INTO webhook_outbox (task_id, url, next_at, created_at)
    VALUES (NEW.id, NEW.webhook_url, 0, CAST(strftime('%s', 'now') AS INTEGER) * 1000);  -- next_at 0: due at once
END;

-- Idempotency keys: the same key and body within 24 h return the original task.
CREATE TABLE idempotency_keys (
    owner       TEXT    NOT NULL,
    key         TEXT    NOT NULL,
    body_hash   TEXT    NOT NULL,
    task_id     TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (owner, key)
);
CREATE INDEX idempotency_keys_age ON idempotency_keys (created_at);
