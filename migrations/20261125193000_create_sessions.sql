-- One row per Discord channel or thread that has talked to the bot.
-- Ids are decimal text so `sqlite3` shows snowflakes exactly; times are
-- ISO-8601 UTC text (2026-11-25T19:33:36.123Z) so a person can read them.
CREATE TABLE sessions (
    channel_id        TEXT    PRIMARY KEY NOT NULL,
    project           TEXT    NOT NULL,
    claude_session_id TEXT    NULL,
    created_at        TEXT    NOT NULL,
    updated_at        TEXT    NOT NULL,
    message_count     INTEGER NOT NULL DEFAULT 0 CHECK (message_count >= 0),
    total_cost_usd    REAL    NOT NULL DEFAULT 0,
    model_override    TEXT    NULL,
    last_error_id     TEXT    NULL
);

CREATE INDEX sessions_by_updated_at ON sessions (updated_at);
