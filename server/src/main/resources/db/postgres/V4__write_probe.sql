-- Readiness probes: each node writes its row every few seconds, so a database that stops taking
-- writes (disk full, read-only after a fail-over) is noticed on an idle node too (see health/WriteProbe).
CREATE TABLE write_probe (
    node  TEXT   PRIMARY KEY,
    at    BIGINT NOT NULL         -- epoch ms of the last probe
);
