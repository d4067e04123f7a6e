-- Usage summed per quarter hour of UTC, agent, session and model (issue #18): what the time
-- reports (daily, weekly, monthly, blocks, and session/model with a time bound) read instead
-- of every response. A ledger of a 1.6 GB history holds ~330k responses in ~13k such rows.
--
-- Kept exact by the ingest writer (src/store/rollup.rs, called from src/store/write.rs: new
-- responses, merged copies, a copy that moves to another session, model or time) and by
-- pricing (`set_costs`, `unprice_other_sources`), like `session_usage`; rows whose responses
-- all moved away are deleted. A quarter hour is the span the reports fold into local days
-- (docs/REPORTS.md): every UTC offset in use since the 1970s is a whole number of them.
--
-- Written to run again over its own objects: it rebuilds the table from the responses.
DROP TABLE IF EXISTS usage_slots;
CREATE TABLE usage_slots (
    slot_ms                   INTEGER NOT NULL,  -- start of the quarter hour (UTC ms); -2^63 for responses without a time
    tool                      TEXT NOT NULL,
    session_id                TEXT NOT NULL,
    model                     TEXT NOT NULL,     -- '' when the transcript names none
    responses                 INTEGER NOT NULL,
    first_ms                  INTEGER,           -- earliest and latest response time in the slot
    last_ms                   INTEGER,
    input_tokens              INTEGER NOT NULL,
    cache_creation_tokens     INTEGER NOT NULL,
    cache_creation_5m_tokens  INTEGER NOT NULL,
    cache_creation_1h_tokens  INTEGER NOT NULL,
    cache_read_tokens         INTEGER NOT NULL,
    output_tokens             INTEGER NOT NULL,
    reasoning_tokens          INTEGER NOT NULL,
    cost_nusd                 INTEGER NOT NULL,  -- sum of the known costs
    unpriced                  INTEGER NOT NULL,  -- responses priced without a price
    pending                   INTEGER NOT NULL,  -- responses not priced yet
    PRIMARY KEY (slot_ms, tool, session_id, model)
) STRICT, WITHOUT ROWID;

INSERT INTO usage_slots
SELECT coalesce(ts_ms - (((ts_ms % 900000) + 900000) % 900000), -9223372036854775808), tool, session_id,
       coalesce(model, ''), count(*), min(ts_ms), max(ts_ms), sum(input_tokens), sum(cache_creation_tokens),
       sum(cache_creation_5m_tokens), sum(cache_creation_1h_tokens), sum(cache_read_tokens), sum(output_tokens),
       sum(reasoning_tokens), coalesce(sum(cost_nusd), 0), sum(priced = 1 AND cost_nusd IS NULL), sum(priced = 0)
FROM usage_events
GROUP BY 1, 2, 3, 4;

-- Responses not priced yet, found without a scan of every response: every report and
-- `start` asks, and the answer is nearly always "none".
CREATE INDEX IF NOT EXISTS usage_events_pending ON usage_events(id) WHERE priced = 0;
