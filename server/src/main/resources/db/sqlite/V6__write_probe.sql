-- Readiness probes: each node writes its row every few seconds, so a full or read-only disk is
-- noticed on an idle node too (see health/WriteProbe).
CREATE TABLE write_probe (
    node  TEXT    PRIMARY KEY,
    at    INTEGER NOT NULL        -- epoch ms of the last probe
);
