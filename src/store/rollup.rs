//! `usage_slots` (migration 0011): usage summed per quarter hour of UTC, agent, session and
//! model, kept exact by the ingest writer and by pricing, so that the time reports read a
//! few thousand rows instead of every response (issue #18, docs/PERFORMANCE.md).
//!
//! The writer calls [`SlotDeltas`] where it counts a response into `session_usage`: a new
//! response adds one; a merged copy changes the response in place, or moves it (another
//! session, model or time); [`SlotDeltas::write`] applies a transaction's sums before it
//! commits. A slot's `first_ms`/`last_ms` (the earliest and latest response in it) only widen
//! on an add; when a response leaves a slot they are read again from the responses (a merge
//! that changes a time is rare), and a slot left without responses is deleted.

use anyhow::Result;
use rusqlite::{ToSql, Transaction, params, params_from_iter};
use rustc_hash::FxHashMap;

use super::token_params;
use crate::usage::{Tokens, UsageEvent};

/// A quarter hour: every UTC offset in use since the 1970s is a whole number of them.
pub const SLOT_MS: i64 = 15 * 60_000;
/// The slot of responses without a time.
pub const UNTIMED_SLOT: i64 = i64::MIN;

/// The slot a response time lies in.
pub fn slot_of(ts_ms: Option<i64>) -> i64 {
    ts_ms.map_or(UNTIMED_SLOT, |t| t.div_euclid(SLOT_MS) * SLOT_MS)
}

/// What a transaction changes in one `usage_slots` row.
#[derive(Clone, Copy, Debug, Default)]
struct SlotDelta {
    responses: i64,
    tokens: Tokens,
    cost_nusd: i64,
    unpriced: i64,
    pending: i64,
    /// Times of the responses added.
    first_ms: Option<i64>,
    last_ms: Option<i64>,
    /// A response left the slot: its first/last times are read again.
    shrunk: bool,
}

/// A transaction's changes to `usage_slots`, by session, then (tool, model), then slot (so
/// the common case looks up without allocating).
#[derive(Debug, Default)]
pub struct SlotDeltas {
    by_session: FxHashMap<String, Vec<ToolModelSlots>>,
}

/// One (tool, model) of a session, and its changes per slot.
type ToolModelSlots = (String, String, FxHashMap<i64, SlotDelta>);

impl SlotDeltas {
    fn entry(&mut self, tool: &str, session: &str, model: &str, slot: i64) -> &mut SlotDelta {
        if !self.by_session.contains_key(session) {
            self.by_session.insert(session.to_owned(), Vec::new());
        }
        let rows = self.by_session.get_mut(session).expect("inserted above");
        let i = match rows.iter().position(|(t, m, _)| t == tool && m == model) {
            Some(i) => i,
            None => {
                rows.push((tool.to_owned(), model.to_owned(), FxHashMap::default()));
                rows.len() - 1
            }
        };
        rows[i].2.entry(slot).or_default()
    }

    /// Add (`sign` 1) or take out (−1) one response.
    pub fn count(&mut self, tool: &str, u: &UsageEvent, sign: i64) {
        let model = u.model.as_deref().unwrap_or_default();
        let d = self.entry(tool, &u.session_id, model, slot_of(u.timestamp_ms));
        d.responses += sign;
        super::count_into(
            (
                &mut d.tokens,
                &mut d.cost_nusd,
                &mut d.unpriced,
                &mut d.pending,
            ),
            u,
            sign,
        );
        if sign > 0 {
            d.first_ms = crate::usage::earliest(d.first_ms, u.timestamp_ms);
            d.last_ms = d.last_ms.max(u.timestamp_ms);
        } else {
            d.shrunk = true;
        }
    }

    /// A stored response `old` became `new` (a merged copy).
    pub fn moved(&mut self, tool: &str, old: &UsageEvent, new: &UsageEvent) {
        let same_place = old.session_id == new.session_id
            && old.model == new.model
            && old.timestamp_ms == new.timestamp_ms;
        if !same_place {
            self.count(tool, old, -1);
            self.count(tool, new, 1);
            return;
        }
        // The same response in the same place: only its counts and cost change.
        let model = new.model.as_deref().unwrap_or_default();
        let d = self.entry(tool, &new.session_id, model, slot_of(new.timestamp_ms));
        d.tokens = d.tokens.add(&new.tokens).sub(&old.tokens);
        d.cost_nusd = d
            .cost_nusd
            .saturating_add(new.cost_nusd.unwrap_or(0))
            .saturating_sub(old.cost_nusd.unwrap_or(0));
        let unpriced = |u: &UsageEvent| i64::from(u.priced && u.cost_nusd.is_none());
        d.unpriced += unpriced(new) - unpriced(old);
        d.pending += i64::from(!new.priced) - i64::from(!old.priced);
    }

    /// A response's price changed: `cost_nusd`, `unpriced` and `pending` added.
    pub fn priced(
        &mut self,
        tool: &str,
        session: &str,
        model: &str,
        slot: i64,
        (cost_nusd, unpriced, pending): (i64, i64, i64),
    ) {
        let d = self.entry(tool, session, model, slot);
        d.cost_nusd = d.cost_nusd.saturating_add(cost_nusd);
        d.unpriced += unpriced;
        d.pending += pending;
    }

    /// Apply the changes (inside the transaction that made them).
    pub fn write(&mut self, tx: &Transaction<'_>) -> Result<()> {
        if self.by_session.is_empty() {
            return Ok(());
        }
        let mut add = tx.prepare_cached(ADD_SLOT)?;
        let mut shrunk = Vec::new();
        for (session, rows) in &self.by_session {
            for (tool, model, slots) in rows {
                for (slot, d) in slots {
                    let key: [&dyn ToSql; 7] = [
                        slot,
                        tool,
                        session,
                        model,
                        &d.responses,
                        &d.first_ms,
                        &d.last_ms,
                    ];
                    let counts: [&dyn ToSql; 3] = [&d.cost_nusd, &d.unpriced, &d.pending];
                    add.execute(params_from_iter(
                        key.into_iter().chain(token_params(&d.tokens)).chain(counts),
                    ))?;
                    if d.shrunk {
                        shrunk.push((*slot, tool.as_str(), session.as_str(), model.as_str()));
                    }
                }
            }
        }
        if !shrunk.is_empty() {
            let mut times = tx.prepare_cached(TIMES_AGAIN)?;
            let mut empty = tx.prepare_cached(
                "DELETE FROM usage_slots
                 WHERE slot_ms = ?1 AND tool = ?2 AND session_id = ?3 AND model = ?4 AND responses <= 0",
            )?;
            for (slot, tool, session, model) in shrunk {
                if slot != UNTIMED_SLOT {
                    times.execute(params![slot, tool, session, model, SLOT_MS])?;
                }
                empty.execute(params![slot, tool, session, model])?;
            }
        }
        self.by_session.clear();
        Ok(())
    }
}

const ADD_SLOT: &str = concat!(
    "INSERT INTO usage_slots(slot_ms, tool, session_id, model, responses, first_ms, last_ms,
                 input_tokens, cache_creation_tokens, cache_creation_5m_tokens, cache_creation_1h_tokens,
                 cache_read_tokens, output_tokens, reasoning_tokens, cost_nusd, unpriced, pending)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)
             ON CONFLICT DO UPDATE SET
                 responses = responses + excluded.responses,
                 first_ms = coalesce(min(first_ms, excluded.first_ms), first_ms, excluded.first_ms),
                 last_ms = coalesce(max(last_ms, excluded.last_ms), last_ms, excluded.last_ms), ",
    super::added_sums!()
);

/// A slot's first and last times read again from its responses (by the session index).
const TIMES_AGAIN: &str = "UPDATE usage_slots SET
                 first_ms = (SELECT min(ts_ms) FROM usage_events WHERE tool = ?2 AND session_id = ?3
                             AND ts_ms >= ?1 AND ts_ms < ?1 + ?5 AND coalesce(model, '') = ?4),
                 last_ms = (SELECT max(ts_ms) FROM usage_events WHERE tool = ?2 AND session_id = ?3
                            AND ts_ms >= ?1 AND ts_ms < ?1 + ?5 AND coalesce(model, '') = ?4)
             WHERE slot_ms = ?1 AND tool = ?2 AND session_id = ?3 AND model = ?4";

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::agents::Agent;
    use crate::reports::blocks::{Responses, blocks};
    use crate::reports::usage::SlotSums;
    use crate::store::Store;
    use crate::store::reports::ReportFilter;
    use crate::store::write::FileUpdate;
    use crate::usage::SessionInfo;

    /// 2026-03-02T00:00:00Z
    const DAY: i64 = 1_772_409_600_000;
    const H: i64 = 3_600_000;
    const M: i64 = 60_000;

    fn event(
        key: &str,
        session: &str,
        ts: Option<i64>,
        model: Option<&str>,
        out: i64,
    ) -> UsageEvent {
        UsageEvent {
            dedup_key: key.into(),
            session_id: session.into(),
            request_id: None,
            timestamp_ms: ts,
            model: model.map(str::to_owned),
            tokens: Tokens {
                input_tokens: 10,
                cache_read_tokens: 100,
                output_tokens: out,
                ..Tokens::default()
            },
            sidechain: false,
            speed: None,
            priced: false,
            cost_nusd: None,
        }
    }

    /// The rollup as the writer keeps it, and as the responses sum.
    type Rows = Vec<Vec<Option<i64>>>;

    fn both(store: &Store) -> (Rows, Rows) {
        let cols = "responses, first_ms, last_ms, input_tokens, cache_creation_tokens,
                    cache_read_tokens, output_tokens, cost_nusd, unpriced, pending";
        let kept = format!(
            "SELECT slot_ms, {cols} FROM usage_slots ORDER BY slot_ms, tool, session_id, model"
        );
        let summed = format!(
            "SELECT coalesce(ts_ms - (((ts_ms % {SLOT_MS}) + {SLOT_MS}) % {SLOT_MS}), {UNTIMED_SLOT}), count(*),
                    min(ts_ms), max(ts_ms), sum(input_tokens), sum(cache_creation_tokens),
                    sum(cache_read_tokens), sum(output_tokens), coalesce(sum(cost_nusd), 0),
                    sum(priced = 1 AND cost_nusd IS NULL), sum(priced = 0)
             FROM usage_events GROUP BY 1, tool, session_id, coalesce(model, '')
             ORDER BY 1, tool, session_id, coalesce(model, '')"
        );
        let rows = |sql: &str| {
            store
                .read(|c| {
                    let mut st = c.prepare(sql)?;
                    let rows = st.query_map([], |r| (0..11).map(|i| r.get(i)).collect())?;
                    Ok(rows.collect::<rusqlite::Result<Vec<Vec<Option<i64>>>>>()?)
                })
                .expect("query")
        };
        (rows(&kept), rows(&summed))
    }

    /// Reports read from the rollup equal the same reports summed from the responses.
    fn reports_agree(store: &Store, f: &ReportFilter) {
        let mut from_slots = SlotSums::new(SLOT_MS);
        store
            .for_each_slot(f, |r| from_slots.add_slot(r))
            .expect("slots");
        let mut from_rows = SlotSums::new(SLOT_MS);
        store
            .for_each_response(f, |r| from_rows.add(r))
            .expect("rows");
        assert_eq!(from_slots.finish(), from_rows.finish(), "{f:?}");
        let mut by_slot = Responses::default();
        store
            .for_each_slot(f, |r| by_slot.add_slot(r))
            .expect("slots");
        for slot in by_slot.take_split_slots() {
            store
                .for_each_response(&f.within(slot, slot + SLOT_MS), |r| {
                    if r.ts_ms.is_some() {
                        by_slot.add(r);
                    }
                })
                .expect("split slot");
        }
        let mut by_row = Responses::default();
        store.for_each_response(f, |r| by_row.add(r)).expect("rows");
        let now = DAY + 40 * H;
        assert_eq!(
            blocks(by_slot, now, false),
            blocks(by_row, now, false),
            "{f:?}"
        );
        let bounded = ReportFilter {
            since_ms: f.since_ms.or(Some(DAY - 3 * H - 7 * M)),
            ..f.clone()
        };
        let mut rows_sql = store.usage_by_session(&bounded).expect("bounded");
        rows_sql.sort_by(|a, b| (&a.session_id, &a.model).cmp(&(&b.session_id, &b.model)));
        let mut want: std::collections::BTreeMap<(String, String), Tokens> = Default::default();
        store
            .read(|c| {
                let mut st = c.prepare(
                    "SELECT session_id, coalesce(model, ''), ts_ms, input_tokens, cache_read_tokens, output_tokens
                     FROM usage_events WHERE ts_ms IS NOT NULL AND (?1 IS NULL OR tool = ?1)
                         AND (?2 IS NULL OR session_id IN
                              (SELECT session_id FROM sessions WHERE project LIKE '%/' || ?2))",
                )?;
                let mut rows = st.query(rusqlite::params![f.tool.map(Agent::as_str), f.project])?;
                while let Some(r) = rows.next()? {
                    let ts: i64 = r.get(2)?;
                    if bounded.since_ms.is_some_and(|s| ts < s) || bounded.until_ms.is_some_and(|u| ts >= u) {
                        continue;
                    }
                    let t = want.entry((r.get(0)?, r.get(1)?)).or_default();
                    t.input_tokens += r.get::<_, i64>(3)?;
                    t.cache_read_tokens += r.get::<_, i64>(4)?;
                    t.output_tokens += r.get::<_, i64>(5)?;
                }
                Ok(())
            })
            .expect("rows");
        let got: std::collections::BTreeMap<(String, String), Tokens> = rows_sql
            .into_iter()
            .map(|u| ((u.session_id, u.model), u.tokens))
            .collect();
        assert_eq!(
            got,
            want.into_iter().filter(|(_, t)| !t.is_zero()).collect(),
            "{bounded:?}"
        );
    }

    #[test]
    fn the_rollup_equals_the_responses_through_merges_moves_and_reprices() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut store =
            Store::open(&dir.path().join("l.db"), Duration::from_secs(1)).expect("open");
        let claude = Agent::Claude;
        let at = |h: i64, m: i64| Some(DAY + h * H + m * M);
        store
            .ingest(|w| {
                let file = w.save_file(&FileUpdate {
                    path: "/t/a.jsonl",
                    tool: claude,
                    session_id: Some("s1"),
                    size: 1,
                    mtime_ns: 1,
                    consumed: 1,
                    head_hash: 0,
                    tail_hash: 0,
                    parser_version: 1,
                    parser_state: None,
                    read_at_ms: 0,
                })?;
                let mut info = SessionInfo::new("s1");
                info.cwd = Some("/home/dev/app".into());
                w.touch_session(claude, &info, "/t/a.jsonl", true, 0)?;
                let mut info = SessionInfo::new("s2");
                info.cwd = Some("/home/dev/other".into());
                w.touch_session(claude, &info, "/t/b.jsonl", true, 0)?;
                // Streaming copies of one response (the same place, growing output).
                for out in [9, 9, 250] {
                    w.add_usage(
                        claude,
                        file,
                        &event("r1", "s1", at(9, 42), Some("opus"), out),
                    )?;
                }
                w.add_usage(
                    claude,
                    file,
                    &event("r2", "s1", at(13, 59), Some("sonnet"), 20),
                )?;
                w.add_usage(
                    claude,
                    file,
                    &event("r3", "s1", at(14, 1), Some("sonnet"), 30),
                )?;
                // A block opened at 00:00 ends at 05:00: a response exactly then is in it, one
                // later in that quarter hour is not.
                w.add_usage(claude, file, &event("e0", "s2", Some(DAY), Some("opus"), 1))?;
                w.add_usage(
                    claude,
                    file,
                    &event("e1", "s2", Some(DAY + 5 * H), Some("opus"), 2),
                )?;
                w.add_usage(
                    claude,
                    file,
                    &event("e2", "s2", Some(DAY + 5 * H + 3 * M), Some("opus"), 3),
                )?;
                w.add_usage(claude, file, &event("u1", "s2", None, Some("opus"), 5))?;
                w.add_usage(
                    Agent::Codex,
                    file,
                    &event("c1", "x1", at(20, 30), Some("gpt-5"), 7),
                )?;
                // A copy read later with an earlier time: the response moves to another slot.
                w.add_usage(
                    claude,
                    file,
                    &event("r3", "s1", at(12, 0), Some("sonnet"), 31),
                )?;
                Ok(())
            })
            .expect("first read");
        let (kept, summed) = both(&store);
        assert_eq!(kept, summed);
        store
            .ingest(|w| {
                // A sidechain replay first, then the main copy in another session and with a
                // model named: the response moves session and model; its old slot empties.
                let mut side = event("m1", "agent-1", at(10, 5), None, 4);
                side.sidechain = true;
                w.add_usage(claude, 1, &side)?;
                Ok(())
            })
            .expect("sidechain");
        store
            .ingest(|w| {
                w.add_usage(claude, 1, &event("m1", "s2", at(10, 5), Some("haiku"), 6))?;
                w.add_usage(claude, 1, &event("u1", "s2", at(3, 0), Some("opus"), 5))?;
                Ok(())
            })
            .expect("main copy");
        let (kept, summed) = both(&store);
        assert_eq!(kept, summed);
        let emptied: i64 = store
            .read(|c| {
                Ok(c.query_row(
                    "SELECT count(*) FROM usage_slots WHERE session_id = 'agent-1'",
                    [],
                    |r| r.get(0),
                )?)
            })
            .expect("count");
        assert_eq!(emptied, 0, "a slot left without responses is deleted");
        // Priced, then taken back by other prices and priced again.
        let pending = store.unpriced(None).expect("pending");
        let costs: Vec<(i64, Option<i64>)> = pending
            .iter()
            .map(|u| {
                (
                    u.rowid,
                    (u.model.as_deref() != Some("haiku")).then_some(u.tokens.total() * 1000),
                )
            })
            .collect();
        store.set_costs(&costs, 1).expect("priced");
        assert_eq!(both(&store).0, both(&store).1);
        store.unprice_other_sources(2, None).expect("unpriced");
        assert_eq!(both(&store).0, both(&store).1);
        let half: Vec<_> = costs.iter().step_by(2).copied().collect();
        store.set_costs(&half, 2).expect("repriced");
        let (kept, summed) = both(&store);
        assert_eq!(kept, summed);
        for f in [
            ReportFilter::default(),
            ReportFilter {
                tool: Some(claude),
                ..ReportFilter::default()
            },
            ReportFilter {
                project: Some("app".into()),
                ..ReportFilter::default()
            },
            ReportFilter {
                since_ms: Some(DAY + 9 * H + 50 * M),
                ..ReportFilter::default()
            },
            ReportFilter {
                until_ms: Some(DAY + 13 * H + 59 * M + 1),
                ..ReportFilter::default()
            },
            ReportFilter {
                since_ms: Some(DAY + 9 * H + 41 * M),
                until_ms: Some(DAY + 9 * H + 43 * M),
                ..ReportFilter::default()
            },
            ReportFilter {
                since_ms: Some(DAY + 4 * H + 59 * M),
                until_ms: Some(DAY + 14 * H + 7 * M),
                tool: Some(claude),
                ..ReportFilter::default()
            },
        ] {
            reports_agree(&store, &f);
        }
    }

    #[test]
    fn slots_are_quarter_hours_of_utc() {
        assert_eq!(slot_of(None), UNTIMED_SLOT);
        assert_eq!(slot_of(Some(0)), 0);
        assert_eq!(slot_of(Some(SLOT_MS - 1)), 0);
        assert_eq!(slot_of(Some(SLOT_MS)), SLOT_MS);
        assert_eq!(slot_of(Some(-1)), -SLOT_MS);
    }
}
