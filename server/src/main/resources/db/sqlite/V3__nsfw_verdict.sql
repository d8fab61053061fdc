-- The NSFW verdict on a succeeded task's image; NULL when detection did not run.
ALTER TABLE tasks ADD COLUMN nsfw_flagged INTEGER;
ALTER TABLE tasks ADD COLUMN nsfw_confidence REAL;
