-- Agent calls were keyed by (tool, call_id). Two Amp threads that hold the same call id then
-- merged into one row owned by whichever thread was read first, and the other thread lost its
-- call. Amp counts each thread's messages on their own (`amp:<thread>:m<id>`), so its calls are
-- now keyed per thread too. Claude and Codex keep one key per agent (`scope` = ''): their
-- call ids come from the API, and the copies a fork or a sub-agent replay makes in another file
-- are the same call. SQLite cannot change a primary key in place: the table is rebuilt.
-- (The Amp parser's version goes up with this, so every thread is read again and the calls
-- lost to a merge come back; the rows already stored keep their thread.)
CREATE TABLE tool_calls_v3 (
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
    PRIMARY KEY (tool, scope, call_id)
) STRICT, WITHOUT ROWID;
INSERT INTO tool_calls_v3(tool, scope, call_id, session_id, name, called_at_ms, result_at_ms, failed,
                          duration_ms, file_path)
    SELECT tool, CASE WHEN tool = 'amp' THEN session_id ELSE '' END, call_id, session_id, name,
           called_at_ms, result_at_ms, failed, duration_ms, file_path
    FROM tool_calls;
DROP TABLE tool_calls;
ALTER TABLE tool_calls_v3 RENAME TO tool_calls;
CREATE INDEX tool_calls_session ON tool_calls(tool, session_id);
