-- The Discord message a request answers. The gateway delivers at least once
-- (a RESUME replays events), so the same message may arrive again, also
-- after a restart: the unique index makes its second request fail to
-- store, and the daemon then drops it instead of running Claude twice.
-- NULL for rows written before this column existed.
ALTER TABLE requests ADD COLUMN message_id TEXT NULL;
CREATE UNIQUE INDEX requests_by_message_id ON requests (message_id)
    WHERE message_id IS NOT NULL;
