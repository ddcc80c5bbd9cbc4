-- One row per relayed message. The message text is never stored.
CREATE TABLE requests (
    id                  TEXT    PRIMARY KEY NOT NULL,
    channel_id          TEXT    NOT NULL REFERENCES sessions (channel_id),
    user_id             TEXT    NOT NULL,
    project             TEXT    NOT NULL,
    session_id_used     TEXT    NULL,
    session_id_returned TEXT    NULL,
    status              TEXT    NOT NULL CHECK (status IN
                            ('queued', 'running', 'done', 'failed',
                             'cancelled', 'timeout', 'interrupted')),
    created_at          TEXT    NOT NULL,
    started_at          TEXT    NULL,
    finished_at         TEXT    NULL,
    duration_ms         INTEGER NULL,
    claude_duration_ms  INTEGER NULL,
    cost_usd            REAL    NULL,
    error_id            TEXT    NULL,
    error_kind          TEXT    NULL
);

CREATE INDEX requests_by_channel ON requests (channel_id, created_at);
CREATE INDEX requests_by_project ON requests (project, created_at);
-- Start-up marks unfinished rows as interrupted; this keeps that a lookup of
-- a handful of rows however long the history grows.
CREATE INDEX requests_unfinished ON requests (status)
    WHERE status IN ('queued', 'running');
-- Operators look requests up by the error id a user was shown.
CREATE INDEX requests_by_error_id ON requests (error_id)
    WHERE error_id IS NOT NULL;
