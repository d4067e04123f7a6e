-- One row per analysis; column names are the contract (SPEC §2).
CREATE TABLE analysis_logs (
    id                   TEXT PRIMARY KEY,            -- ANALYSIS-YYYY-NNN
    year                 INTEGER NOT NULL,
    seq                  INTEGER NOT NULL,
    source_id            TEXT NOT NULL,
    pass                 TEXT,
    status               TEXT NOT NULL CHECK (status IN ('in_progress', 'completed', 'failed')),
    tool                 TEXT NOT NULL CHECK (tool IN ('claude', 'codex', 'amp', 'manual', 'other')),
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
CREATE INDEX analysis_logs_source ON analysis_logs(source_id);
CREATE INDEX analysis_logs_started ON analysis_logs(started_at);

-- The usage of an analysis, per model (what cost is computed from).
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
