-- Changes that make a first read of a large history cheaper to write.
--
-- 1. The running totals in `session_usage` are kept by the ingest writer
--    (src/store/write.rs) and by `set_costs`, not by triggers: a trigger's upsert per
--    response, and the statement journal every such upsert needs, cost a first read about
--    15% of its time. The rows the triggers kept are exact and carry on from here.
DROP TRIGGER IF EXISTS usage_events_added;
DROP TRIGGER IF EXISTS usage_events_merged;

-- 2. `tool_calls` becomes a rowid table with a unique index on its key. Keyed by random call
--    ids, the WITHOUT ROWID table put each new call on a random page of the whole table, so
--    every commit rewrote most of it into the WAL (about 12 MB a commit on a 400 MB
--    history). Rows now append, and only the narrow key index takes random inserts.
--    `tool_calls_session` goes: no query can use it (every tool-call report filters with
--    `(:session IS NULL OR …)`, which SQLite answers with a scan).
CREATE TABLE tool_calls_v4 (
    id            INTEGER PRIMARY KEY,
    tool          TEXT NOT NULL,
    scope         TEXT NOT NULL,      -- '' (Claude, Codex) or the Amp thread id
    call_id       TEXT NOT NULL,
    session_id    TEXT NOT NULL,
    name          TEXT,
    called_at_ms  INTEGER,
    result_at_ms  INTEGER,
    failed        INTEGER,            -- NULL: no result seen (or the format does not say)
    duration_ms   INTEGER,            -- stated by the transcript; else result - called
    file_path     TEXT,
    UNIQUE (tool, scope, call_id)
) STRICT;
INSERT INTO tool_calls_v4(tool, scope, call_id, session_id, name, called_at_ms, result_at_ms, failed,
                          duration_ms, file_path)
    SELECT tool, scope, call_id, session_id, name, called_at_ms, result_at_ms, failed, duration_ms, file_path
    FROM tool_calls ORDER BY coalesce(called_at_ms, result_at_ms);
DROP TABLE tool_calls;
ALTER TABLE tool_calls_v4 RENAME TO tool_calls;
