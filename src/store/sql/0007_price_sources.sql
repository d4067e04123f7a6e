-- Which prices priced each response, so that a change of price file or of the bundled
-- database prices again what the old prices priced (src/store/prices.rs).
CREATE TABLE price_sources (
    id           INTEGER PRIMARY KEY,
    fingerprint  TEXT NOT NULL UNIQUE,   -- what the prices are (Pricer::fingerprint)
    described    TEXT NOT NULL,          -- the same, for people
    first_at_ms  INTEGER NOT NULL
) STRICT;
-- NULL: not priced, or priced before this version (priced again once, by the first read
-- that prices).
ALTER TABLE usage_events ADD COLUMN price_source INTEGER;

-- Small facts about the ledger as a whole (`prices_all`: the source that priced every
-- priced response, when one did).
CREATE TABLE ledger_meta (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
) STRICT;
