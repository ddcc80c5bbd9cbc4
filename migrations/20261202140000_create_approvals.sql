-- One row per approval prompt: a tool call Claude asked to make that its
-- rules did not allow, shown in Discord with buttons. No file contents:
-- `summary` is the call's short target (a path, a command's first line).
CREATE TABLE approvals (
    id          TEXT PRIMARY KEY NOT NULL,
    request_id  TEXT NOT NULL REFERENCES requests (id),
    channel_id  TEXT NOT NULL,
    tool        TEXT NOT NULL,
    summary     TEXT NOT NULL,
    message_id  TEXT NULL,
    decision    TEXT NULL CHECK (decision IN
                    ('allowed', 'allowed_for_session', 'denied', 'expired', 'cancelled')),
    decided_by  TEXT NULL,
    asked_at    TEXT NOT NULL,
    decided_at  TEXT NULL
);

CREATE INDEX approvals_by_request ON approvals (request_id);
CREATE INDEX approvals_open ON approvals (channel_id) WHERE decision IS NULL;
