-- Fairness between API keys: each task gets a turn; the queue is served in (turn, seq) order.
-- A key's next task takes the turn after its own last queued one, but never one before the
-- turn being served now, so a key with a thousand queued tasks delays another key's single
-- task by at most one task per slot.
ALTER TABLE tasks ADD COLUMN turn INTEGER NOT NULL DEFAULT 0;
UPDATE tasks SET turn = seq;
DROP INDEX tasks_queued;
-- The claim order.
CREATE INDEX tasks_queue ON tasks (turn, seq) WHERE state = 'QUEUED';
-- A key's last queued turn, its queued count (per-key cap) and the per-key queue snapshot.
CREATE INDEX tasks_owner_queued ON tasks (owner, turn) WHERE state = 'QUEUED';
-- The turn being served: the highest turn of any task that was ever claimed.
CREATE INDEX tasks_claimed_turn ON tasks (turn) WHERE started_at IS NOT NULL;
