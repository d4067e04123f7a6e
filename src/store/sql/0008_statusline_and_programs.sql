-- (It depends on nothing after 0006, so a merge may give it whichever place it needs.)
--
-- 1. `statusline` and `report blocks` sum the responses of a time range across every
--    session (today's total): without an index on time that is a scan of every response
--    ever read. The index costs a first read little: times
--    mostly grow within a file, so its pages fill in order.
CREATE INDEX IF NOT EXISTS usage_events_time ON usage_events(ts_ms);

-- 2. A shell call's program and subcommand (`git commit`), taken from its raw command when
--    it is read (`command` has its spaces removed and cannot be split again): what
--    `report tools --by command` groups by. Calls read before this version have none.
ALTER TABLE tool_calls ADD COLUMN program TEXT;

-- 3. What a snapshot taken without an anchor counted is the responses in the ledger when
--    it was taken: the highest response row id then bounds them (an older line read later
--    gets a higher id and was not counted). `analysis show` bounds the analysis's tool calls
--    by it, over the same span as its tokens. NULL for snapshots taken before.
ALTER TABLE analysis_snapshots ADD COLUMN max_response_id INTEGER;
