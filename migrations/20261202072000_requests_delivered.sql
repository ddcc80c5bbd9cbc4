-- Whether everything meant for the user reached the channel: 1, or 0 when
-- Discord refused part of the answer after its retries (the user was then
-- told under an error id, if Discord took that). NULL for rows written
-- before this column existed, and for requests that never ran.
ALTER TABLE requests ADD COLUMN delivered INTEGER NULL CHECK (delivered IN (0, 1));
