//! `report blocks`: usage in 5-hour billing windows, as Claude (and ChatGPT) subscribers'
//! limits count it. The definition follows ccusage's `blocks` (docs/REPORTS.md lists where
//! it differs):
//!
//! - responses are taken in time order; the first one opens a block at its hour, floored in
//!   UTC; the block lasts [`BLOCK_MS`];
//! - a response more than 5 hours after the block's start, or more than 5 hours after the
//!   previous response, closes the block and opens the next one at its own hour;
//! - a block is active while now is before its end and less than 5 hours after its last
//!   response;
//! - burn rate: the block's tokens (all four buckets) and cost over the minutes from its
//!   first response to its last; the projection adds that rate over the minutes left until
//!   the block ends.

use std::collections::HashMap;

use crate::store::reports::{ResponseRef, SlotRef};
use crate::usage::Tokens;

pub const BLOCK_MS: i64 = 5 * 3_600_000;
const HOUR_MS: i64 = 3_600_000;

/// One response, or the responses of one model in one quarter hour (from the rollup), as
/// blocks need them (the model by index into [`Responses::models`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Entry {
    /// The earliest and latest time of its responses.
    ts_ms: i64,
    last_ms: i64,
    responses: i64,
    model: usize,
    tokens: Tokens,
    cost_nusd: i64,
    unpriced: i64,
    /// The quarter hour, for a rollup part.
    slot: Option<i64>,
}

/// The responses a report covers, gathered one at a time or per quarter hour.
#[derive(Debug, Default)]
pub struct Responses {
    entries: Vec<Entry>,
    models: Vec<String>,
    index: HashMap<String, usize>,
    /// Rollup parts by (quarter hour, model).
    parts: HashMap<(i64, usize), usize>,
    /// Responses without a time: in no block.
    pub untimed: i64,
}

impl Responses {
    fn model(&mut self, model: &str) -> usize {
        match self.index.get(model) {
            Some(&i) => i,
            None => {
                self.models.push(model.to_owned());
                self.index.insert(model.to_owned(), self.models.len() - 1);
                self.models.len() - 1
            }
        }
    }

    pub fn add(&mut self, r: &ResponseRef<'_>) {
        let Some(ts_ms) = r.ts_ms else {
            self.untimed += 1;
            return;
        };
        let model = self.model(r.model);
        self.entries.push(Entry {
            ts_ms,
            last_ms: ts_ms,
            responses: 1,
            model,
            tokens: r.tokens,
            cost_nusd: r.cost_nusd,
            unpriced: r.unpriced,
            slot: None,
        });
    }

    /// Add a rollup part (several sessions' parts of one quarter hour and model are summed).
    pub fn add_slot(&mut self, r: &SlotRef<'_>) {
        let (Some(slot), Some(first), Some(last)) = (r.slot_ms, r.first_ms, r.last_ms) else {
            self.untimed += r.responses;
            return;
        };
        let model = self.model(r.model);
        if let Some(&i) = self.parts.get(&(slot, model)) {
            let e = &mut self.entries[i];
            e.ts_ms = e.ts_ms.min(first);
            e.last_ms = e.last_ms.max(last);
            e.responses += r.responses;
            e.tokens = e.tokens.add(&r.tokens);
            e.cost_nusd += r.cost_nusd;
            e.unpriced += r.unpriced;
            return;
        }
        self.parts.insert((slot, model), self.entries.len());
        self.entries.push(Entry {
            ts_ms: first,
            last_ms: last,
            responses: r.responses,
            model,
            tokens: r.tokens,
            cost_nusd: r.cost_nusd,
            unpriced: r.unpriced,
            slot: Some(slot),
        });
    }

    /// The quarter hours that a block's end could cut in two, taken out: a block ends five
    /// hours after a whole hour, and a response exactly then is still in it while a later
    /// one of the same quarter hour is not. They are to be added again response by
    /// response. (Every other quarter hour lies wholly in one block: a gap of over five
    /// hours cannot lie inside one.)
    pub fn take_split_slots(&mut self) -> Vec<i64> {
        let mut split: Vec<i64> = self
            .entries
            .iter()
            .filter(|e| e.slot.is_some() && e.ts_ms.rem_euclid(HOUR_MS) == 0 && e.last_ms > e.ts_ms)
            .filter_map(|e| e.slot)
            .collect();
        split.sort_unstable();
        split.dedup();
        if !split.is_empty() {
            self.entries
                .retain(|e| e.slot.is_none_or(|s| split.binary_search(&s).is_err()));
            self.parts.clear();
            for (i, e) in self.entries.iter().enumerate() {
                if let Some(s) = e.slot {
                    self.parts.insert((s, e.model), i);
                }
            }
        }
        split
    }
}

/// Tokens per minute and USD per hour over a block's active span.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Burn {
    pub tokens_per_minute: f64,
    /// Of the known part of the cost.
    pub usd_per_hour: f64,
}

/// Where the active block ends if usage goes on at its burn rate.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Projection {
    pub remaining_minutes: i64,
    pub total_tokens: i64,
    pub cost_known_usd: f64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Block {
    pub start_ms: i64,
    pub end_ms: i64,
    pub first_ms: i64,
    pub last_ms: i64,
    pub responses: i64,
    pub tokens: Tokens,
    pub cost_known_usd: f64,
    /// Responses without a price: the cost is unknown (null) when there are any.
    pub unpriced: i64,
    /// Named models, sorted; `""` (none named) is left out.
    pub models: Vec<String>,
    pub active: bool,
    pub burn: Option<Burn>,
    /// Only for the active block.
    pub projection: Option<Projection>,
}

impl Block {
    pub fn cost_usd(&self) -> Option<f64> {
        (self.unpriced == 0).then_some(self.cost_known_usd)
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct BlocksReport {
    /// Oldest first.
    pub rows: Vec<Block>,
    pub untimed: i64,
}

impl BlocksReport {
    /// The active block, when there is one.
    pub fn active(&self) -> Option<&Block> {
        self.rows.iter().find(|b| b.active)
    }
}

/// Build the blocks of `r` as of `now_ms`; with `active_only`, only the active one.
pub fn blocks(mut r: Responses, now_ms: i64, active_only: bool) -> BlocksReport {
    r.entries.sort_by_key(|e| e.ts_ms);
    let mut rows = Vec::new();
    let mut current: Vec<Entry> = Vec::new();
    let mut start = 0;
    // The latest response of the current block (entries of one quarter hour overlap).
    let mut last_ms = i64::MIN;
    for e in r.entries {
        if !current.is_empty() && (e.ts_ms - start > BLOCK_MS || e.ts_ms - last_ms > BLOCK_MS) {
            rows.push(block(start, &current, &r.models, now_ms));
            current.clear();
        }
        if current.is_empty() {
            start = e.ts_ms.div_euclid(HOUR_MS) * HOUR_MS;
            last_ms = e.last_ms;
        }
        last_ms = last_ms.max(e.last_ms);
        current.push(e);
    }
    if !current.is_empty() {
        rows.push(block(start, &current, &r.models, now_ms));
    }
    if active_only {
        rows.retain(|b| b.active);
    }
    BlocksReport {
        rows,
        untimed: r.untimed,
    }
}

fn block(start_ms: i64, entries: &[Entry], models: &[String], now_ms: i64) -> Block {
    let first_ms = entries.first().map_or(start_ms, |e| e.ts_ms);
    let last_ms = entries.iter().map(|e| e.last_ms).max().unwrap_or(start_ms);
    let end_ms = start_ms + BLOCK_MS;
    let mut tokens = Tokens::default();
    let (mut cost, mut unpriced) = (0, 0);
    let mut names: Vec<String> = Vec::new();
    for e in entries {
        tokens = tokens.add(&e.tokens);
        cost += e.cost_nusd;
        unpriced += e.unpriced;
        let m = &models[e.model];
        if !m.is_empty() && !names.contains(m) {
            names.push(m.clone());
        }
    }
    names.sort();
    let active = now_ms < end_ms && now_ms - last_ms < BLOCK_MS;
    let cost_known_usd = crate::money::from_nano(cost);
    let minutes = (last_ms - first_ms) as f64 / 60_000.0;
    let burn = (minutes > 0.0).then(|| Burn {
        tokens_per_minute: tokens.total() as f64 / minutes,
        usd_per_hour: cost_known_usd / minutes * 60.0,
    });
    let projection = burn.filter(|_| active).map(|b| {
        let left = (end_ms - now_ms).max(0) as f64 / 60_000.0;
        Projection {
            remaining_minutes: (left.round()) as i64,
            total_tokens: tokens.total() + (b.tokens_per_minute * left).round() as i64,
            cost_known_usd: cost_known_usd + b.usd_per_hour / 60.0 * left,
        }
    });
    Block {
        start_ms,
        end_ms,
        first_ms,
        last_ms,
        responses: entries.iter().map(|e| e.responses).sum(),
        tokens,
        cost_known_usd,
        unpriced,
        models: names,
        active,
        burn,
        projection,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = HOUR_MS;
    const M: i64 = 60_000;
    /// 2026-03-02T00:00:00Z
    const DAY: i64 = 1_772_409_600_000;

    fn add(r: &mut Responses, ts: i64, model: &str, input: i64, output: i64, cost_nusd: i64) {
        r.add(&ResponseRef {
            ts_ms: Some(ts),
            model,
            tokens: Tokens {
                input_tokens: input,
                output_tokens: output,
                ..Tokens::default()
            },
            cost_nusd,
            unpriced: 0,
        });
    }

    #[test]
    fn blocks_start_at_the_hour_and_end_five_hours_later_or_at_a_gap() {
        let mut r = Responses::default();
        // Block 1 opens at 09:00 (first response 09:42); 13:59 is inside it, 14:01 is not.
        add(&mut r, DAY + 9 * H + 42 * M, "opus", 100, 10, 1_000);
        add(&mut r, DAY + 13 * H + 59 * M, "sonnet", 200, 20, 2_000);
        add(&mut r, DAY + 14 * H + M, "sonnet", 300, 30, 3_000);
        // More than 5 h after the previous response: a new block at 20:00.
        add(&mut r, DAY + 20 * H + 30 * M, "opus", 1, 1, 0);
        r.add(&ResponseRef {
            ts_ms: None,
            model: "opus",
            tokens: Tokens::default(),
            cost_nusd: 0,
            unpriced: 0,
        });
        let report = blocks(r, DAY + 30 * H, false);
        let got: Vec<_> = report
            .rows
            .iter()
            .map(|b| {
                (
                    (b.start_ms - DAY) / M,
                    (b.end_ms - DAY) / M,
                    b.responses,
                    b.tokens.total(),
                    b.models.clone(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (
                    9 * 60,
                    14 * 60,
                    2,
                    330,
                    vec!["opus".into(), "sonnet".into()]
                ),
                (14 * 60, 19 * 60, 1, 330, vec!["sonnet".into()]),
                (20 * 60, 25 * 60, 1, 2, vec!["opus".into()]),
            ]
        );
        assert_eq!(report.untimed, 1);
        assert!(report.rows.iter().all(|b| !b.active));
        // 330 tokens over 09:42→13:59 (257 minutes); $0.000003 over it.
        let burn = report.rows[0].burn.expect("burn");
        assert!((burn.tokens_per_minute - 330.0 / 257.0).abs() < 1e-12);
        assert!((burn.usd_per_hour - 0.000_003 / 257.0 * 60.0).abs() < 1e-15);
        assert_eq!(report.rows[1].burn, None, "one response: no span, no rate");
    }

    #[test]
    fn the_active_block_projects_its_rate_to_its_end() {
        let mut r = Responses::default();
        add(&mut r, DAY + 10 * H, "opus", 1_000, 0, 1_000_000_000);
        add(
            &mut r,
            DAY + 10 * H + 30 * M,
            "opus",
            2_000,
            0,
            2_000_000_000,
        );
        // An hour after the last response: 3,000 tokens and $3 over 30 minutes, so 100 a
        // minute and $6 an hour; 3.5 hours (210 minutes) left.
        let now = DAY + 11 * H + 30 * M;
        let report = blocks(r, now, true);
        assert_eq!(report.rows.len(), 1);
        let b = &report.rows[0];
        assert!(b.active);
        let burn = b.burn.expect("burn");
        assert_eq!((burn.tokens_per_minute, burn.usd_per_hour), (100.0, 6.0));
        assert_eq!(
            b.projection,
            Some(Projection {
                remaining_minutes: 210,
                total_tokens: 3_000 + 21_000,
                cost_known_usd: 3.0 + 21.0,
            })
        );
    }

    fn blocks_at(now: i64) -> BlocksReport {
        let mut r = Responses::default();
        add(&mut r, DAY + 10 * H + 30 * M, "opus", 1, 0, 0);
        blocks(r, now, true)
    }

    #[test]
    fn a_block_ends_five_hours_after_its_last_response_or_at_its_end() {
        // Last response 10:30, block 10:00–15:00: active at 14:59, not at 15:00.
        assert_eq!(blocks_at(DAY + 14 * H + 59 * M).rows.len(), 1);
        assert!(blocks_at(DAY + 15 * H).rows.is_empty());
    }
}
