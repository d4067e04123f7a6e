-- Snapshots anchored to the tool call that took them (SPEC "What a snapshot counts").
--
-- A tool call remembers the response that issued it (`response_key`, that response's
-- `usage_events.dedup_key`) and, for shell calls, its command as `command_key` gives it,
-- so a tokledger run by the call can find the call among its session's.
ALTER TABLE tool_calls ADD COLUMN response_key TEXT;
ALTER TABLE tool_calls ADD COLUMN command TEXT;
-- The sub-agent that made the call, as Claude Code's PostToolUse payload names it.
ALTER TABLE tool_calls ADD COLUMN agent_id TEXT;

-- Every snapshot of an analysis taken since this version: what it counted and how it was
-- anchored. A provisional one (settled = 0) counted what was on disk because its anchor was
-- not yet; a later read of its session settles it, and the row's derived fields (baseline,
-- stages, final, deltas, cost) are recomputed from these rows.
CREATE TABLE analysis_snapshots (
    analysis_id     TEXT NOT NULL REFERENCES analysis_logs(id) ON DELETE CASCADE,
    seq             INTEGER NOT NULL,   -- 0 the baseline, then stages and the final in order
    kind            TEXT NOT NULL CHECK (kind IN ('baseline', 'stage', 'final')),
    stage           TEXT,
    at              TEXT NOT NULL,      -- RFC 3339 UTC
    tool            TEXT NOT NULL,
    session_id      TEXT NOT NULL,
    anchor_call_id  TEXT,               -- the calling tool call, once known
    probe_json      TEXT,               -- how to find it while it is not (see src/anchor.rs)
    settled         INTEGER NOT NULL,
    waited_ms       INTEGER NOT NULL,
    usage_json      TEXT NOT NULL,      -- per-model cumulative usage counted
    PRIMARY KEY (analysis_id, seq)
) STRICT;
CREATE INDEX analysis_snapshots_unsettled ON analysis_snapshots(tool, session_id) WHERE settled = 0;
-- The shell calls still waiting for their result: where a tokledger run by one looks for it.
-- Rows leave the index when their result is stored, so it stays a few rows long.
CREATE INDEX tool_calls_pending_shell ON tool_calls(tool, session_id)
    WHERE command IS NOT NULL AND result_at_ms IS NULL AND failed IS NULL;
