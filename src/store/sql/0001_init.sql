-- Transcript files we have read, and how far.
CREATE TABLE source_files (
    id              INTEGER PRIMARY KEY,
    path            TEXT NOT NULL UNIQUE,
    tool            TEXT NOT NULL,
    session_id      TEXT,
    size            INTEGER NOT NULL,
    mtime_ns        INTEGER NOT NULL,
    consumed        INTEGER NOT NULL,   -- bytes of complete lines read (whole size for Amp)
    head_hash       INTEGER NOT NULL,   -- FNV-1a of the first <=4 KiB of what was consumed
    tail_hash       INTEGER NOT NULL,   -- FNV-1a of the last <=4 KiB of what was consumed
    parser_version  INTEGER NOT NULL,
    parser_state    TEXT,               -- JSON the parser resumes from at `consumed`
    read_at_ms      INTEGER NOT NULL
) STRICT;
CREATE INDEX source_files_session ON source_files(tool, session_id);

CREATE TABLE sessions (
    tool              TEXT NOT NULL,
    session_id        TEXT NOT NULL,
    path              TEXT,             -- the main transcript file
    project           TEXT,             -- working directory
    git_branch        TEXT,
    cli_version       TEXT,
    first_ts_ms       INTEGER,
    last_ts_ms        INTEGER,
    last_modified_ms  INTEGER,          -- newest mtime of the session's files
    PRIMARY KEY (tool, session_id)
) STRICT;

-- One row per API response; copies of the same response merge into it (max per field).
CREATE TABLE usage_events (
    id                        INTEGER PRIMARY KEY,
    dedup_key                 TEXT NOT NULL UNIQUE,
    tool                      TEXT NOT NULL,
    session_id                TEXT NOT NULL,
    request_id                TEXT,
    ts_ms                     INTEGER,
    model                     TEXT,
    input_tokens              INTEGER NOT NULL,
    cache_creation_tokens     INTEGER NOT NULL,
    cache_creation_5m_tokens  INTEGER NOT NULL,
    cache_creation_1h_tokens  INTEGER NOT NULL,
    cache_read_tokens         INTEGER NOT NULL,
    output_tokens             INTEGER NOT NULL,
    reasoning_tokens          INTEGER NOT NULL,
    sidechain                 INTEGER NOT NULL,
    speed                     TEXT,
    priced                    INTEGER NOT NULL,  -- 0: cost not computed yet
    cost_nusd                 INTEGER,           -- nano-USD; NULL when priced and no price is known
    file_id                   INTEGER NOT NULL   -- the file of the first copy read
) STRICT;
CREATE INDEX usage_events_session ON usage_events(tool, session_id, ts_ms);

-- Running totals per session and model, kept by the triggers below, so a snapshot (every
-- `mark`) reads a few rows instead of summing a session's whole history.
CREATE TABLE session_usage (
    tool                      TEXT NOT NULL,
    session_id                TEXT NOT NULL,
    model                     TEXT NOT NULL,     -- '' when the transcript names none
    input_tokens              INTEGER NOT NULL,
    cache_creation_tokens     INTEGER NOT NULL,
    cache_creation_5m_tokens  INTEGER NOT NULL,
    cache_creation_1h_tokens  INTEGER NOT NULL,
    cache_read_tokens         INTEGER NOT NULL,
    output_tokens             INTEGER NOT NULL,
    reasoning_tokens          INTEGER NOT NULL,
    cost_nusd                 INTEGER NOT NULL,  -- sum of the known costs
    unpriced                  INTEGER NOT NULL,  -- responses whose model has no price
    pending                   INTEGER NOT NULL,  -- responses not priced yet
    PRIMARY KEY (tool, session_id, model)
) STRICT, WITHOUT ROWID;

CREATE TRIGGER usage_events_added AFTER INSERT ON usage_events BEGIN
    INSERT INTO session_usage VALUES (NEW.tool, NEW.session_id, coalesce(NEW.model, ''), NEW.input_tokens,
        NEW.cache_creation_tokens, NEW.cache_creation_5m_tokens, NEW.cache_creation_1h_tokens, NEW.cache_read_tokens,
        NEW.output_tokens, NEW.reasoning_tokens, coalesce(NEW.cost_nusd, 0),
        NEW.priced = 1 AND NEW.cost_nusd IS NULL, NEW.priced = 0)
    ON CONFLICT DO UPDATE SET
        input_tokens = input_tokens + excluded.input_tokens,
        cache_creation_tokens = cache_creation_tokens + excluded.cache_creation_tokens,
        cache_creation_5m_tokens = cache_creation_5m_tokens + excluded.cache_creation_5m_tokens,
        cache_creation_1h_tokens = cache_creation_1h_tokens + excluded.cache_creation_1h_tokens,
        cache_read_tokens = cache_read_tokens + excluded.cache_read_tokens,
        output_tokens = output_tokens + excluded.output_tokens,
        reasoning_tokens = reasoning_tokens + excluded.reasoning_tokens,
        cost_nusd = cost_nusd + excluded.cost_nusd,
        unpriced = unpriced + excluded.unpriced,
        pending = pending + excluded.pending;
END;

-- A merge moves a response's counts: take the old copy out, put the new one in (its
-- session or model may have changed too).
CREATE TRIGGER usage_events_merged AFTER UPDATE ON usage_events BEGIN
    UPDATE session_usage SET
        input_tokens = input_tokens - OLD.input_tokens,
        cache_creation_tokens = cache_creation_tokens - OLD.cache_creation_tokens,
        cache_creation_5m_tokens = cache_creation_5m_tokens - OLD.cache_creation_5m_tokens,
        cache_creation_1h_tokens = cache_creation_1h_tokens - OLD.cache_creation_1h_tokens,
        cache_read_tokens = cache_read_tokens - OLD.cache_read_tokens,
        output_tokens = output_tokens - OLD.output_tokens,
        reasoning_tokens = reasoning_tokens - OLD.reasoning_tokens,
        cost_nusd = cost_nusd - coalesce(OLD.cost_nusd, 0),
        unpriced = unpriced - (OLD.priced = 1 AND OLD.cost_nusd IS NULL),
        pending = pending - (OLD.priced = 0)
    WHERE tool = OLD.tool AND session_id = OLD.session_id AND model = coalesce(OLD.model, '');
    INSERT INTO session_usage VALUES (NEW.tool, NEW.session_id, coalesce(NEW.model, ''), NEW.input_tokens,
        NEW.cache_creation_tokens, NEW.cache_creation_5m_tokens, NEW.cache_creation_1h_tokens, NEW.cache_read_tokens,
        NEW.output_tokens, NEW.reasoning_tokens, coalesce(NEW.cost_nusd, 0),
        NEW.priced = 1 AND NEW.cost_nusd IS NULL, NEW.priced = 0)
    ON CONFLICT DO UPDATE SET
        input_tokens = input_tokens + excluded.input_tokens,
        cache_creation_tokens = cache_creation_tokens + excluded.cache_creation_tokens,
        cache_creation_5m_tokens = cache_creation_5m_tokens + excluded.cache_creation_5m_tokens,
        cache_creation_1h_tokens = cache_creation_1h_tokens + excluded.cache_creation_1h_tokens,
        cache_read_tokens = cache_read_tokens + excluded.cache_read_tokens,
        output_tokens = output_tokens + excluded.output_tokens,
        reasoning_tokens = reasoning_tokens + excluded.reasoning_tokens,
        cost_nusd = cost_nusd + excluded.cost_nusd,
        unpriced = unpriced + excluded.unpriced,
        pending = pending + excluded.pending;
END;

CREATE TABLE tool_calls (
    tool          TEXT NOT NULL,
    call_id       TEXT NOT NULL,
    session_id    TEXT NOT NULL,
    name          TEXT,
    called_at_ms  INTEGER,
    result_at_ms  INTEGER,
    failed        INTEGER,            -- NULL: no result seen (or the format does not say)
    duration_ms   INTEGER,            -- stated by the transcript; else result - called
    file_path     TEXT,
    PRIMARY KEY (tool, call_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX tool_calls_session ON tool_calls(tool, session_id);

CREATE TABLE compactions (
    dedup_key   TEXT PRIMARY KEY,
    tool        TEXT NOT NULL,
    session_id  TEXT NOT NULL,
    kind        TEXT NOT NULL,
    at_ms       INTEGER,
    trigger     TEXT,
    pre_tokens  INTEGER
) STRICT, WITHOUT ROWID;
CREATE INDEX compactions_session ON compactions(tool, session_id);
