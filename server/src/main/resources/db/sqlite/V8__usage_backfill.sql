-- Usage of the tasks a database held before usage was metered (V7): accepted in the hour they were
-- created, ended in the hour they finished (engine time: the last attempt's, all that was kept).
-- Only into an empty usage table, so that a database whose tasks the triggers already counted is
-- never counted twice.
INSERT INTO usage_hourly (owner, hour, submitted, succeeded, failed, cancelled, images, pixels, engine_millis, nsfw_flagged)
SELECT owner, hour, sum(submitted), sum(succeeded), sum(failed), sum(cancelled), sum(images), sum(pixels), sum(engine_millis),
       sum(nsfw_flagged)
  FROM (SELECT owner, created_at - created_at % 3600000 AS hour, 1 AS submitted, 0 AS succeeded, 0 AS failed, 0 AS cancelled,
               0 AS images, 0 AS pixels, 0 AS engine_millis, 0 AS nsfw_flagged
          FROM tasks
        UNION ALL
        SELECT owner, finished_at - finished_at % 3600000, 0, state = 'SUCCEED', state = 'FAILED' AND reason <> 'cancelled',
               state = 'FAILED' AND reason = 'cancelled', state = 'SUCCEED',
               CASE WHEN state = 'SUCCEED' THEN width * height ELSE 0 END, COALESCE(engine_millis, 0),
               state = 'SUCCEED' AND COALESCE(nsfw_flagged, 0) = 1
          FROM tasks WHERE state IN ('SUCCEED', 'FAILED') AND finished_at IS NOT NULL) u
 WHERE NOT EXISTS (SELECT 1 FROM usage_hourly)
 GROUP BY owner, hour;
