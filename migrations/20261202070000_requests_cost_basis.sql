-- What `cost_usd` covers: 'run' (the run's own cost) or 'session_total'
-- (only the Claude session's running total was known). Rows written before
-- this column existed have NULL: after --resume their cost_usd is the
-- session's running total, earlier runs included (docs/DATABASE.md).
ALTER TABLE requests ADD COLUMN cost_basis TEXT NULL
    CHECK (cost_basis IN ('run', 'session_total'));
