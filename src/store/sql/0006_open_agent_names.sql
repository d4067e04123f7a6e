-- `analysis_logs.tool` loses its CHECK: the agents are the registry's (src/agents/mod.rs),
-- and the command line admits only those and `manual`/`other`, so a new agent needs no
-- migration. SQLite cannot drop a constraint in place: the table is rebuilt. Its children
-- are set aside first, so dropping it cascades to nothing.
CREATE TEMP TABLE keep_usage AS SELECT * FROM analysis_usage;
CREATE TEMP TABLE keep_snapshots AS SELECT * FROM analysis_snapshots;
DROP TABLE analysis_usage;
DROP TABLE analysis_snapshots;
CREATE TABLE analysis_logs_v6 (
    id                   TEXT PRIMARY KEY,            -- ANALYSIS-YYYY-NNN
    year                 INTEGER NOT NULL,
    seq                  INTEGER NOT NULL,
    source_id            TEXT NOT NULL,
    pass                 TEXT,
    status               TEXT NOT NULL CHECK (status IN ('in_progress', 'completed', 'failed')),
    tool                 TEXT NOT NULL,               -- an agent's name, `manual` or `other`
    model                TEXT,
    started_at           TEXT,
    completed_at         TEXT,
    tokens_in            INTEGER,
    tokens_out           INTEGER,
    total_tokens         INTEGER,
    cost_usd             REAL,
    stages_json          TEXT NOT NULL DEFAULT '[]',
    notes                TEXT,
    claims_extracted     INTEGER,
    claims_updated       INTEGER,
    tokens_baseline      INTEGER,
    tokens_final         INTEGER,
    tokens_check         INTEGER,
    usage_provider       TEXT,
    usage_mode           TEXT,
    usage_session_id     TEXT,
    inputs_source_ids    TEXT,                        -- JSON array
    inputs_analysis_ids  TEXT,                        -- JSON array
    session_binding      TEXT,                        -- how the session was chosen
    baseline_json        TEXT,                        -- per-model buckets at start
    UNIQUE (year, seq)
) STRICT;
INSERT INTO analysis_logs_v6 SELECT * FROM analysis_logs;
DROP TABLE analysis_logs;
ALTER TABLE analysis_logs_v6 RENAME TO analysis_logs;
CREATE INDEX analysis_logs_source ON analysis_logs(source_id);
CREATE INDEX analysis_logs_started ON analysis_logs(started_at);

CREATE TABLE analysis_usage (
    analysis_id               TEXT NOT NULL REFERENCES analysis_logs(id) ON DELETE CASCADE,
    model                     TEXT NOT NULL,           -- '' when the transcript names none
    input_tokens              INTEGER NOT NULL,
    cache_creation_tokens     INTEGER NOT NULL,
    cache_creation_5m_tokens  INTEGER NOT NULL,
    cache_creation_1h_tokens  INTEGER NOT NULL,
    cache_read_tokens         INTEGER NOT NULL,
    output_tokens             INTEGER NOT NULL,
    reasoning_tokens          INTEGER NOT NULL,
    cost_nusd                 INTEGER NOT NULL,        -- known part of the cost, nano-USD
    unpriced                  INTEGER NOT NULL,        -- responses without a price (cost unknown if > 0)
    PRIMARY KEY (analysis_id, model)
) STRICT;
INSERT INTO analysis_usage SELECT * FROM keep_usage;

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
INSERT INTO analysis_snapshots SELECT * FROM keep_snapshots;
CREATE INDEX analysis_snapshots_unsettled ON analysis_snapshots(tool, session_id) WHERE settled = 0;
DROP TABLE keep_usage;
DROP TABLE keep_snapshots;
