-- Tasks a lane's engine has generated and that are being finished (NSFW check, watermark,
-- encoding, storage): reported beside the busy engine slots, never counted among them.
ALTER TABLE worker_lanes ADD COLUMN finishing INTEGER NOT NULL DEFAULT 0;
