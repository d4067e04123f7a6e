-- tokledger's tables on a shared PostgreSQL server (docs/TEAM.md). Every row is keyed by the
-- machine that pushed it and its key in that machine's ledger; analyses also by the ledger
-- (`ledger_id`), whose ids count from ANALYSIS-YYYY-001 in every ledger.

-- What the server has of each ledger: the cursor of its last committed push.
CREATE TABLE tokledger_ledgers (
    machine            text NOT NULL,
    ledger_id          text NOT NULL,
    usage_id           bigint NOT NULL,
    tool_call_id       bigint NOT NULL,
    change_seq         bigint NOT NULL,
    tokledger_version  text NOT NULL,
    first_push_at      timestamptz NOT NULL DEFAULT now(),
    last_push_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (machine, ledger_id)
);

CREATE TABLE tokledger_sessions (
    machine     text NOT NULL,
    tool        text NOT NULL,
    session_id  text NOT NULL,
    project     text,            -- the last part of the working directory (see --redact)
    first_at    timestamptz,
    last_at     timestamptz,
    PRIMARY KEY (machine, tool, session_id)
);

-- One row per API response, as the ledger counts it.
CREATE TABLE tokledger_usage (
    machine                   text NOT NULL,
    dedup_key                 text NOT NULL,
    tool                      text NOT NULL,
    session_id                text NOT NULL,
    at                        timestamptz,
    model                     text,
    input_tokens              bigint NOT NULL,
    cache_creation_tokens     bigint NOT NULL,
    cache_creation_5m_tokens  bigint NOT NULL,
    cache_creation_1h_tokens  bigint NOT NULL,
    cache_read_tokens         bigint NOT NULL,
    output_tokens             bigint NOT NULL,
    reasoning_tokens          bigint NOT NULL,
    sidechain                 boolean NOT NULL,
    priced                    boolean NOT NULL,   -- false: not priced yet
    cost_nusd                 bigint,             -- nano-USD; NULL when priced and no price is known
    PRIMARY KEY (machine, dedup_key)
);
CREATE INDEX tokledger_usage_at ON tokledger_usage (at);

CREATE TABLE tokledger_tool_calls (
    machine       text NOT NULL,
    tool          text NOT NULL,
    scope         text NOT NULL,
    call_id       text NOT NULL,
    session_id    text NOT NULL,
    name          text,
    called_at     timestamptz,
    result_at     timestamptz,
    failed        boolean,        -- NULL: no result seen
    duration_ms   bigint,
    file_path     text,           -- relative to the project, or the file name alone (see --redact)
    PRIMARY KEY (machine, tool, scope, call_id)
);

-- One row per analysis (SPEC §2 fields).
CREATE TABLE tokledger_analyses (
    machine              text NOT NULL,
    ledger_id            text NOT NULL,
    id                   text NOT NULL,
    source_id            text NOT NULL,
    pass                 text,
    status               text NOT NULL,
    tool                 text NOT NULL,
    model                text,
    started_at           timestamptz,
    completed_at         timestamptz,
    tokens_in            bigint,
    tokens_out           bigint,
    total_tokens         bigint,
    cost_usd             double precision,
    stages               jsonb NOT NULL,
    notes                text,
    claims_extracted     bigint,
    claims_updated       bigint,
    tokens_baseline      bigint,
    tokens_final         bigint,
    tokens_check         bigint,
    usage_provider       text,
    usage_mode           text,
    usage_session_id     text,
    inputs_source_ids    jsonb,
    inputs_analysis_ids  jsonb,
    PRIMARY KEY (machine, ledger_id, id)
);

-- An analysis's usage per model (what its cost is computed from); replaced whole on each push
-- of the analysis.
CREATE TABLE tokledger_analysis_usage (
    machine                   text NOT NULL,
    ledger_id                 text NOT NULL,
    analysis_id               text NOT NULL,
    model                     text NOT NULL,
    input_tokens              bigint NOT NULL,
    cache_creation_tokens     bigint NOT NULL,
    cache_creation_5m_tokens  bigint NOT NULL,
    cache_creation_1h_tokens  bigint NOT NULL,
    cache_read_tokens         bigint NOT NULL,
    output_tokens             bigint NOT NULL,
    reasoning_tokens          bigint NOT NULL,
    cost_nusd                 bigint NOT NULL,
    unpriced                  bigint NOT NULL,
    PRIMARY KEY (machine, ledger_id, analysis_id, model)
);

-- The snapshots of an analysis: baseline, stages, final (replaced whole like its usage).
CREATE TABLE tokledger_analysis_snapshots (
    machine      text NOT NULL,
    ledger_id    text NOT NULL,
    analysis_id  text NOT NULL,
    seq          bigint NOT NULL,
    kind         text NOT NULL,
    stage        text,
    at           timestamptz,
    tool         text NOT NULL,
    session_id   text NOT NULL,
    settled      boolean NOT NULL,
    usage        jsonb NOT NULL,   -- per-model cumulative usage counted
    PRIMARY KEY (machine, ledger_id, analysis_id, seq)
);

-- The views: docs/TEAM.md shows them in use. Costs are exact decimals of USD (the sums of
-- nano-USD); `unpriced_responses` counts responses whose model has no known price (their cost
-- is not in `cost_usd`).
CREATE VIEW tokledger_daily AS
SELECT (u.at AT TIME ZONE 'UTC')::date AS day, u.machine, u.tool, u.model,
       count(*) AS responses,
       sum(u.input_tokens) AS input_tokens, sum(u.cache_creation_tokens) AS cache_creation_tokens,
       sum(u.cache_read_tokens) AS cache_read_tokens, sum(u.output_tokens) AS output_tokens,
       sum(u.reasoning_tokens) AS reasoning_tokens,
       sum(u.input_tokens + u.cache_creation_tokens + u.cache_read_tokens + u.output_tokens) AS total_tokens,
       coalesce(sum(u.cost_nusd), 0) / 1e9 AS cost_usd,
       count(*) FILTER (WHERE u.cost_nusd IS NULL) AS unpriced_responses
FROM tokledger_usage u
GROUP BY 1, 2, 3, 4;

CREATE VIEW tokledger_by_machine AS
SELECT u.machine, min(u.at) AS first_at, max(u.at) AS last_at,
       count(DISTINCT (u.tool, u.session_id)) AS sessions, count(*) AS responses,
       sum(u.input_tokens + u.cache_creation_tokens + u.cache_read_tokens + u.output_tokens) AS total_tokens,
       coalesce(sum(u.cost_nusd), 0) / 1e9 AS cost_usd,
       count(*) FILTER (WHERE u.cost_nusd IS NULL) AS unpriced_responses,
       (SELECT max(l.last_push_at) FROM tokledger_ledgers l WHERE l.machine = u.machine) AS last_push_at
FROM tokledger_usage u
GROUP BY u.machine;

CREATE VIEW tokledger_by_model AS
SELECT u.tool, u.model, count(DISTINCT u.machine) AS machines, count(*) AS responses,
       sum(u.input_tokens) AS input_tokens, sum(u.cache_creation_tokens) AS cache_creation_tokens,
       sum(u.cache_read_tokens) AS cache_read_tokens, sum(u.output_tokens) AS output_tokens,
       sum(u.reasoning_tokens) AS reasoning_tokens,
       sum(u.input_tokens + u.cache_creation_tokens + u.cache_read_tokens + u.output_tokens) AS total_tokens,
       coalesce(sum(u.cost_nusd), 0) / 1e9 AS cost_usd,
       count(*) FILTER (WHERE u.cost_nusd IS NULL) AS unpriced_responses
FROM tokledger_usage u
GROUP BY u.tool, u.model;

CREATE VIEW tokledger_by_project AS
SELECT s.project, count(DISTINCT u.machine) AS machines, count(DISTINCT (u.machine, u.tool, u.session_id)) AS sessions,
       count(*) AS responses,
       sum(u.input_tokens + u.cache_creation_tokens + u.cache_read_tokens + u.output_tokens) AS total_tokens,
       coalesce(sum(u.cost_nusd), 0) / 1e9 AS cost_usd,
       count(*) FILTER (WHERE u.cost_nusd IS NULL) AS unpriced_responses
FROM tokledger_usage u
LEFT JOIN tokledger_sessions s ON s.machine = u.machine AND s.tool = u.tool AND s.session_id = u.session_id
GROUP BY s.project;

CREATE VIEW tokledger_by_analysis AS
SELECT a.machine, a.id, a.source_id, a.pass, a.status, a.tool, a.model, a.started_at, a.completed_at,
       a.tokens_in, a.tokens_out, a.total_tokens, a.cost_usd,
       jsonb_array_length(a.stages) AS stages, a.ledger_id
FROM tokledger_analyses a;

CREATE VIEW tokledger_by_source AS
SELECT a.source_id, count(*) AS analyses,
       count(*) FILTER (WHERE a.status = 'completed') AS completed,
       count(*) FILTER (WHERE a.status = 'failed') AS failed,
       count(*) FILTER (WHERE a.status = 'in_progress') AS in_progress,
       count(DISTINCT a.machine) AS machines,
       sum(a.tokens_in) AS tokens_in, sum(a.tokens_out) AS tokens_out, sum(a.total_tokens) AS total_tokens,
       sum(a.cost_usd) AS cost_usd,
       count(*) FILTER (WHERE a.total_tokens IS NOT NULL AND a.cost_usd IS NULL) AS unpriced_analyses,
       min(a.started_at) AS first_started_at, max(a.completed_at) AS last_completed_at
FROM tokledger_analyses a
GROUP BY a.source_id;
