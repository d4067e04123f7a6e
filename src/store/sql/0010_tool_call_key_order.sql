-- `tool_calls`' unique key is indexed call id first: (call_id, scope, tool). Ordered
-- (tool, scope, call_id), every comparison on a first read's random inserts found the first
-- two columns equal ('claude', '') and went on to SQLite's general record comparison; with
-- the call id first, its fast path for a leading text column decides almost every one. Every
-- query names all three columns, so any order serves them. SQLite cannot change a
-- constraint in place: the table is rebuilt, with its rows and their ids (push finds new
-- calls by id), its partial index and its trigger (migration 9's, the same text).
--
-- Written to run again over its own result (tests rebuild older ledgers and re-run the
-- later migrations).
CREATE TABLE tool_calls_v10 (
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
    response_key  TEXT,               -- the usage_events.dedup_key of the issuing response
    command       TEXT,               -- a shell call's command, as `command_key` gives it
    agent_id      TEXT,               -- the sub-agent that made the call
    program       TEXT,               -- a shell call's program and subcommand
    UNIQUE (call_id, scope, tool)
) STRICT;
INSERT INTO tool_calls_v10(id, tool, scope, call_id, session_id, name, called_at_ms, result_at_ms, failed,
                           duration_ms, file_path, response_key, command, agent_id, program)
    SELECT id, tool, scope, call_id, session_id, name, called_at_ms, result_at_ms, failed,
           duration_ms, file_path, response_key, command, agent_id, program
    FROM tool_calls ORDER BY id;
DROP TABLE tool_calls;
ALTER TABLE tool_calls_v10 RENAME TO tool_calls;
CREATE INDEX tool_calls_pending_shell ON tool_calls(tool, session_id)
    WHERE command IS NOT NULL AND result_at_ms IS NULL AND failed IS NULL;
CREATE TRIGGER push_tool_call_changed AFTER UPDATE ON tool_calls
WHEN (OLD.name IS NOT NEW.name OR OLD.called_at_ms IS NOT NEW.called_at_ms
      OR OLD.result_at_ms IS NOT NEW.result_at_ms OR OLD.failed IS NOT NEW.failed
      OR OLD.duration_ms IS NOT NEW.duration_ms OR OLD.file_path IS NOT NEW.file_path
      OR OLD.session_id IS NOT NEW.session_id)
     AND NEW.id <= (SELECT max(watch_tool_call_id) FROM push_destinations)
BEGIN
    INSERT INTO push_changes(kind, row_id) VALUES ('tool_call', NEW.id);
END;
