-- The rates the bundled price database resolved per model, agent and UTC day, with where
-- its long-context tier starts, kept per price source (src/cost.rs `Pricer::resolved`): a
-- command that prices a few new responses (`statusline`, `complete`) then prices them
-- without loading the database (tens of milliseconds). A new binary or price file is a new
-- source, whose rates are resolved again.
CREATE TABLE IF NOT EXISTS resolved_prices (
    source          INTEGER NOT NULL,   -- price_sources.id
    model           TEXT NOT NULL,      -- as transcripts write it
    tool            TEXT NOT NULL,
    day             INTEGER NOT NULL,   -- UTC days since 1970-01-01
    priced          INTEGER NOT NULL,   -- 0: the database has no price for it
    input           REAL,               -- USD per million tokens, flat (below any tier)
    output          REAL,
    cache_read      REAL,
    cache_write     REAL,
    cache_write_1h  REAL,
    model_id        TEXT,
    provider_id     TEXT,
    flat_up_to      INTEGER,            -- requests of up to this many input tokens cost the flat rates
    tiered_from     INTEGER,
    PRIMARY KEY (source, day, model, tool)
) STRICT, WITHOUT ROWID;
