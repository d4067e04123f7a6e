-- `tokledger push`: what each shared PostgreSQL destination already has (docs/TEAM.md).
--
-- New responses and tool calls are found by their rowid (`id`, which only grows: neither
-- table loses rows). Rows that change after they were sent (a response merged or priced, a
-- call's result, an analysis marked, completed or backfilled) are logged in `push_changes`
-- by the triggers below, so a push re-sends exactly those.
--
-- Written to run again over its own objects (IF NOT EXISTS): tests rebuild older ledgers by
-- taking out only what an older migration changed, and re-run the later ones.

-- Names this ledger on the servers: two ledgers pushed under one machine name keep their
-- analyses (whose ids both count from ANALYSIS-YYYY-001) apart.
CREATE TABLE IF NOT EXISTS push_ledger (
    id  TEXT NOT NULL
) STRICT;
INSERT INTO push_ledger SELECT lower(hex(randomblob(16))) WHERE NOT EXISTS (SELECT 1 FROM push_ledger);

CREATE TABLE IF NOT EXISTS push_destinations (
    destination     TEXT NOT NULL,      -- postgresql://user@host:port/db (never the password)
    machine         TEXT NOT NULL,
    -- What the server committed: every response up to `usage_id`, every call up to
    -- `tool_call_id`, every change up to `change_seq`. Advanced only after its COMMIT.
    usage_id        INTEGER NOT NULL,
    tool_call_id    INTEGER NOT NULL,
    change_seq      INTEGER NOT NULL,
    pushed_at_ms    INTEGER,            -- NULL until a first push committed
    -- The highest ids a push (perhaps still running) has sent: the triggers log changes to
    -- rows up to these, so a change made while a push reads is sent by the next one.
    watch_usage_id      INTEGER NOT NULL,
    watch_tool_call_id  INTEGER NOT NULL,
    PRIMARY KEY (destination, machine)
) STRICT;

CREATE TABLE IF NOT EXISTS push_changes (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused, even after pruning
    kind         TEXT NOT NULL CHECK (kind IN ('usage', 'tool_call', 'analysis')),
    row_id       INTEGER,              -- usage_events.id or tool_calls.id
    analysis_id  TEXT
) STRICT;

-- Responses: only a change to a row some push has sent is logged (a new row is found by its
-- id), so a first read's pricing of the rows it just added logs nothing.
CREATE TRIGGER IF NOT EXISTS push_usage_changed AFTER UPDATE ON usage_events
WHEN NEW.id <= (SELECT max(watch_usage_id) FROM push_destinations)
BEGIN
    INSERT INTO push_changes(kind, row_id) VALUES ('usage', NEW.id);
END;

-- Tool calls are upserted by every copy read; only a change of what is sent counts.
CREATE TRIGGER IF NOT EXISTS push_tool_call_changed AFTER UPDATE ON tool_calls
WHEN (OLD.name IS NOT NEW.name OR OLD.called_at_ms IS NOT NEW.called_at_ms
      OR OLD.result_at_ms IS NOT NEW.result_at_ms OR OLD.failed IS NOT NEW.failed
      OR OLD.duration_ms IS NOT NEW.duration_ms OR OLD.file_path IS NOT NEW.file_path
      OR OLD.session_id IS NOT NEW.session_id)
     AND NEW.id <= (SELECT max(watch_tool_call_id) FROM push_destinations)
BEGIN
    INSERT INTO push_changes(kind, row_id) VALUES ('tool_call', NEW.id);
END;

-- Analyses are few: every write to one (or to its usage or snapshots) is logged while any
-- destination exists. A destination's first push sends every analysis anyway.
CREATE TRIGGER IF NOT EXISTS push_analysis_added AFTER INSERT ON analysis_logs
WHEN EXISTS (SELECT 1 FROM push_destinations)
BEGIN
    INSERT INTO push_changes(kind, analysis_id) VALUES ('analysis', NEW.id);
END;
CREATE TRIGGER IF NOT EXISTS push_analysis_changed AFTER UPDATE ON analysis_logs
WHEN EXISTS (SELECT 1 FROM push_destinations)
BEGIN
    INSERT INTO push_changes(kind, analysis_id) VALUES ('analysis', NEW.id);
END;
CREATE TRIGGER IF NOT EXISTS push_analysis_usage_added AFTER INSERT ON analysis_usage
WHEN EXISTS (SELECT 1 FROM push_destinations)
BEGIN
    INSERT INTO push_changes(kind, analysis_id) VALUES ('analysis', NEW.analysis_id);
END;
CREATE TRIGGER IF NOT EXISTS push_analysis_usage_changed AFTER UPDATE ON analysis_usage
WHEN EXISTS (SELECT 1 FROM push_destinations)
BEGIN
    INSERT INTO push_changes(kind, analysis_id) VALUES ('analysis', NEW.analysis_id);
END;
CREATE TRIGGER IF NOT EXISTS push_analysis_usage_removed AFTER DELETE ON analysis_usage
WHEN EXISTS (SELECT 1 FROM push_destinations)
BEGIN
    INSERT INTO push_changes(kind, analysis_id) VALUES ('analysis', OLD.analysis_id);
END;
CREATE TRIGGER IF NOT EXISTS push_snapshot_added AFTER INSERT ON analysis_snapshots
WHEN EXISTS (SELECT 1 FROM push_destinations)
BEGIN
    INSERT INTO push_changes(kind, analysis_id) VALUES ('analysis', NEW.analysis_id);
END;
CREATE TRIGGER IF NOT EXISTS push_snapshot_changed AFTER UPDATE ON analysis_snapshots
WHEN EXISTS (SELECT 1 FROM push_destinations)
BEGIN
    INSERT INTO push_changes(kind, analysis_id) VALUES ('analysis', NEW.analysis_id);
END;
CREATE TRIGGER IF NOT EXISTS push_snapshot_removed AFTER DELETE ON analysis_snapshots
WHEN EXISTS (SELECT 1 FROM push_destinations)
BEGIN
    INSERT INTO push_changes(kind, analysis_id) VALUES ('analysis', OLD.analysis_id);
END;
