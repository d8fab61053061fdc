-- Fair queueing: each owner's last given turn. A new task's turn is this plus one (or the turn being
-- served, if that is later), taken with one upsert that row-locks the owner's counter, so parallel
-- submits of one owner get distinct turns (read from the tasks table, two inserts on two connections
-- could not see each other and would share one). UNLOGGED: the upsert writes no WAL, so its commit
-- waits for no disk flush and one owner's submits queue on the lock only for microseconds. After a
-- crash the table is empty and each owner's counter is rebuilt from its queued tasks on its next submit.
CREATE UNLOGGED TABLE owner_turns (
    owner     TEXT   PRIMARY KEY,
    last_turn BIGINT NOT NULL
);
