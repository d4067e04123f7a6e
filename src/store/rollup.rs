//! `usage_slots` (migration 0015): usage summed per quarter hour of UTC, agent, session and
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
    by_session: FxHashMap<String, Vec<(String, String, FxHashMap<i64, SlotDelta>)>>,
}

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
        d.tokens = if sign > 0 {
            d.tokens.add(&u.tokens)
        } else {
            d.tokens.sub(&u.tokens)
        };
        d.cost_nusd = d
            .cost_nusd
            .saturating_add(sign.saturating_mul(u.cost_nusd.unwrap_or(0)));
        d.unpriced += sign * i64::from(u.priced && u.cost_nusd.is_none());
        d.pending += sign * i64::from(!u.priced);
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

const ADD_SLOT: &str = "INSERT INTO usage_slots(slot_ms, tool, session_id, model, responses, first_ms, last_ms,
                 input_tokens, cache_creation_tokens, cache_creation_5m_tokens, cache_creation_1h_tokens,
                 cache_read_tokens, output_tokens, reasoning_tokens, cost_nusd, unpriced, pending)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)
             ON CONFLICT DO UPDATE SET
                 responses = responses + excluded.responses,
                 first_ms = coalesce(min(first_ms, excluded.first_ms), first_ms, excluded.first_ms),
                 last_ms = coalesce(max(last_ms, excluded.last_ms), last_ms, excluded.last_ms),
                 input_tokens = input_tokens + excluded.input_tokens,
                 cache_creation_tokens = cache_creation_tokens + excluded.cache_creation_tokens,
                 cache_creation_5m_tokens = cache_creation_5m_tokens + excluded.cache_creation_5m_tokens,
                 cache_creation_1h_tokens = cache_creation_1h_tokens + excluded.cache_creation_1h_tokens,
                 cache_read_tokens = cache_read_tokens + excluded.cache_read_tokens,
                 output_tokens = output_tokens + excluded.output_tokens,
                 reasoning_tokens = reasoning_tokens + excluded.reasoning_tokens,
                 cost_nusd = cost_nusd + excluded.cost_nusd,
                 unpriced = unpriced + excluded.unpriced,
                 pending = pending + excluded.pending";

/// A slot's first and last times read again from its responses (by the session index).
const TIMES_AGAIN: &str = "UPDATE usage_slots SET
                 first_ms = (SELECT min(ts_ms) FROM usage_events WHERE tool = ?2 AND session_id = ?3
                             AND ts_ms >= ?1 AND ts_ms < ?1 + ?5 AND coalesce(model, '') = ?4),
                 last_ms = (SELECT max(ts_ms) FROM usage_events WHERE tool = ?2 AND session_id = ?3
                            AND ts_ms >= ?1 AND ts_ms < ?1 + ?5 AND coalesce(model, '') = ?4)
             WHERE slot_ms = ?1 AND tool = ?2 AND session_id = ?3 AND model = ?4";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_quarter_hours_of_utc() {
        assert_eq!(slot_of(None), UNTIMED_SLOT);
        assert_eq!(slot_of(Some(0)), 0);
        assert_eq!(slot_of(Some(SLOT_MS - 1)), 0);
        assert_eq!(slot_of(Some(SLOT_MS)), SLOT_MS);
        assert_eq!(slot_of(Some(-1)), -SLOT_MS);
    }
}
