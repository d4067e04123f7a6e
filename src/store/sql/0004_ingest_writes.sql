-- The running totals in `session_usage` are now kept by the ingest writer (src/store/write.rs)
-- and by `set_costs`, not by triggers: a trigger's upsert per response, and the statement
-- journal every such upsert needs, cost a first read about 15% of its time. The rows the
-- triggers kept stay as they are; they were exact and are carried on from here.
DROP TRIGGER IF EXISTS usage_events_added;
DROP TRIGGER IF EXISTS usage_events_merged;

-- No query can use this index (every tool-call report filters with `(:session IS NULL OR …)`,
-- which SQLite answers with a scan), and keeping it cost a first read an index insert per call.
DROP INDEX IF EXISTS tool_calls_session;
