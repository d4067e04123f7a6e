//! Which prices priced each response (`usage_events.price_source`), so that when the price
//! file or the bundled database changes, what the old prices priced is priced again — the
//! running totals and the analyses' snapshots with it (issue: "a price file never reprices
//! what is already in the ledger").
//!
//! `ledger_meta.prices_all` names the source every priced response was priced by, when one
//! did: then a read with the same prices has only new responses to price, and finding out
//! costs one lookup. A response priced by any other source clears it.

use std::collections::BTreeSet;

use anyhow::Result;
use rusqlite::{OptionalExtension, Transaction, params};

use super::Store;
use super::sessions::tokens_at;
use crate::agents::Agent;
use crate::cost::{Rates, ResolvedRates};
use crate::usage::{ModelUsage, Snapshot, Tokens};

const PRICES_ALL: &str = "prices_all";

impl Store {
    /// The rates `source` resolved (and the ledger kept) for these UTC days.
    pub fn resolved_rates(&self, source: i64, days: &[i64]) -> Result<Vec<ResolvedRates>> {
        self.read(|c| {
            let mut st = c.prepare_cached(
                "SELECT model, tool, day, priced, input, output, cache_read, cache_write, cache_write_1h,
                        model_id, provider_id, flat_up_to, tiered_from
                 FROM resolved_prices WHERE source = ?1 AND day = ?2",
            )?;
            let mut out = Vec::new();
            for day in days {
                let rows = st.query_map(params![source, day], |r| {
                    let tool: String = r.get(1)?;
                    let priced: bool = r.get(3)?;
                    let rates = if priced {
                        Some((
                            Rates {
                                input: r.get(4)?,
                                output: r.get(5)?,
                                cache_read: r.get(6)?,
                                cache_write: r.get(7)?,
                                cache_write_1h: r.get(8)?,
                            },
                            r.get(9)?,
                            r.get(10)?,
                            r.get(11)?,
                            r.get(12)?,
                        ))
                    } else {
                        None
                    };
                    Ok((tool, r.get(0)?, r.get(2)?, rates))
                })?;
                for row in rows {
                    let (tool, model, day, rates) = row?;
                    if let Some(tool) = Agent::parse(&tool) {
                        out.push(ResolvedRates {
                            tool,
                            model,
                            day,
                            rates,
                        });
                    }
                }
            }
            Ok(out)
        })
    }

    /// Keep the rates `source` resolved (those already kept stay as they are).
    pub fn keep_resolved_rates(&mut self, source: i64, rows: &[ResolvedRates]) -> Result<()> {
        if rows.is_empty() || self.read_only().is_some() {
            return Ok(());
        }
        self.write(|tx| {
            let mut st = tx.prepare_cached(
                "INSERT OR IGNORE INTO resolved_prices VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
            )?;
            for r in rows {
                let (rates, model_id, provider_id, up_to, from) = match &r.rates {
                    Some((rates, m, p, u, f)) => (Some(*rates), Some(m), Some(p), Some(*u), Some(*f)),
                    None => (None, None, None, None, None),
                };
                st.execute(params![
                    source,
                    r.model,
                    r.tool.as_str(),
                    r.day,
                    rates.is_some(),
                    rates.map(|x| x.input),
                    rates.map(|x| x.output),
                    rates.and_then(|x| x.cache_read),
                    rates.and_then(|x| x.cache_write),
                    rates.and_then(|x| x.cache_write_1h),
                    model_id,
                    provider_id,
                    up_to,
                    from
                ])?;
            }
            Ok(())
        })
    }

    /// The id of the prices `fingerprint` names (recorded the first time it prices).
    pub fn price_source(&mut self, fingerprint: &str, described: &str) -> Result<i64> {
        let known = self.read(|c| {
            Ok(c.query_row(
                "SELECT id FROM price_sources WHERE fingerprint = ?1",
                [fingerprint],
                |r| r.get(0),
            )
            .optional()?)
        })?;
        if let Some(id) = known {
            return Ok(id);
        }
        self.write(|tx| {
            tx.execute(
                "INSERT OR IGNORE INTO price_sources(fingerprint, described, first_at_ms)
                 VALUES (?1, ?2, ?3)",
                params![
                    fingerprint,
                    described,
                    chrono::Utc::now().timestamp_millis()
                ],
            )?;
            Ok(tx.query_row(
                "SELECT id FROM price_sources WHERE fingerprint = ?1",
                [fingerprint],
                |r| r.get(0),
            )?)
        })
    }

    /// The source that priced every priced response, when one did.
    pub fn prices_all(&self) -> Result<Option<i64>> {
        self.read(|c| {
            Ok(c.query_row(
                "SELECT CAST(value AS INTEGER) FROM ledger_meta WHERE key = ?1",
                [PRICES_ALL],
                |r| r.get(0),
            )
            .optional()?)
        })
    }

    /// Every priced response is now priced by `source`.
    pub fn set_prices_all(&mut self, source: i64) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO ledger_meta(key, value) VALUES (?1, ?2)
                 ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                params![PRICES_ALL, source.to_string()],
            )?;
            Ok(())
        })
    }

    /// Responses are about to be priced by `source`: unless it priced every one so far, no
    /// single source does any more.
    pub fn forget_prices_all_unless(&mut self, source: i64) -> Result<()> {
        if self.prices_all()? == Some(source) {
            return Ok(());
        }
        self.write(|tx| {
            tx.execute("DELETE FROM ledger_meta WHERE key = ?1", [PRICES_ALL])?;
            Ok(())
        })
    }

    /// Take back the prices of the responses (all, or one session's) that a source other
    /// than `source` priced: they are pending again, out of the running totals' costs. The
    /// sessions they belong to, to re-cost their analyses once priced again.
    pub fn unprice_other_sources(
        &mut self,
        source: i64,
        session: Option<(Agent, &str)>,
    ) -> Result<Vec<(String, String)>> {
        let (tool, id) = session.map_or((None, None), |(t, s)| (Some(t.as_str()), Some(s)));
        self.write(|tx| {
            // One session by its index (`?2 IS NULL OR …` would scan every response).
            let filter = if tool.is_some() {
                "tool = ?2 AND session_id = ?3 AND priced = 1 AND price_source IS NOT ?1"
            } else {
                "priced = 1 AND price_source IS NOT ?1 AND ?2 IS NULL AND ?3 IS NULL"
            };
            // Per slot too, for the rollup (`usage_slots`).
            let slotted: Vec<(String, String, String, i64, i64, i64, i64)> = {
                let mut st = tx.prepare(&format!(
                    "SELECT tool, session_id, coalesce(model, ''), coalesce(sum(cost_nusd), 0),
                            sum(cost_nusd IS NULL), count(*),
                            coalesce(ts_ms - (((ts_ms % {slot}) + {slot}) % {slot}), {untimed})
                     FROM usage_events WHERE {filter} GROUP BY 1, 2, 3, 7",
                    slot = super::rollup::SLOT_MS,
                    untimed = super::rollup::UNTIMED_SLOT,
                ))?;
                let rows = st.query_map(params![source, tool, id], |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                        r.get(6)?,
                    ))
                })?;
                rows.collect::<rusqlite::Result<_>>()?
            };
            let mut slots = super::rollup::SlotDeltas::default();
            let mut by_model: std::collections::BTreeMap<
                (String, String, String),
                (i64, i64, i64),
            > = std::collections::BTreeMap::new();
            for (t, s, m, cost, unpriced, n, slot) in &slotted {
                slots.priced(t, s, m, *slot, (-cost, -unpriced, *n));
                let e = by_model
                    .entry((t.clone(), s.clone(), m.clone()))
                    .or_default();
                e.0 += cost;
                e.1 += unpriced;
                e.2 += n;
            }
            let parts: Vec<(String, String, String, i64, i64, i64)> = by_model
                .into_iter()
                .map(|((t, s, m), (c, u, n))| (t, s, m, c, u, n))
                .collect();
            if parts.is_empty() {
                return Ok(Vec::new());
            }
            let mut totals = tx.prepare(
                "UPDATE session_usage SET cost_nusd = cost_nusd - ?4, unpriced = unpriced - ?5,
                     pending = pending + ?6
                 WHERE tool = ?1 AND session_id = ?2 AND model = ?3",
            )?;
            for (t, s, m, cost, unpriced, n) in &parts {
                totals.execute(params![t, s, m, cost, unpriced, n])?;
            }
            slots.write(tx)?;
            tx.execute(
                &format!(
                    "UPDATE usage_events SET priced = 0, cost_nusd = NULL, price_source = NULL
                     WHERE {filter}"
                ),
                params![source, tool, id],
            )?;
            let sessions: BTreeSet<(String, String)> =
                parts.into_iter().map(|(t, s, ..)| (t, s)).collect();
            Ok(sessions.into_iter().collect())
        })
    }

    /// Each snapshot of the analyses of `sessions` priced again from the responses it
    /// counted, then the analyses' costs re-derived from their snapshots. A snapshot counted
    /// a prefix of its session's responses (in time, then row, order; see
    /// [`super::snapshots`]), so per model the prefix whose tokens equal the snapshot's is
    /// the one it counted, and its cost is that prefix's. A snapshot no prefix matches
    /// (its session's files were rewritten since) keeps its cost. How many were re-costed,
    /// and how many kept.
    pub fn recost_snapshots(&mut self, sessions: &[(String, String)]) -> Result<(usize, usize)> {
        self.write(|tx| {
            let (mut done, mut kept) = (0, 0);
            let mut analyses = BTreeSet::new();
            for (tool, session) in sessions {
                let snaps: Vec<(String, i64, String)> = {
                    let mut st = tx.prepare(
                        "SELECT analysis_id, seq, usage_json FROM analysis_snapshots
                         WHERE tool = ?1 AND session_id = ?2",
                    )?;
                    let rows = st.query_map(params![tool, session], |r| {
                        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                    })?;
                    rows.collect::<rusqlite::Result<_>>()?
                };
                if snaps.is_empty() {
                    continue;
                }
                let responses = session_responses(tx, tool, session)?;
                for (analysis, seq, json) in snaps {
                    let Ok(mut snap) = serde_json::from_str::<Snapshot>(&json) else {
                        kept += 1;
                        continue;
                    };
                    if recost(&mut snap, &responses) {
                        tx.execute(
                            "UPDATE analysis_snapshots SET usage_json = ?3
                             WHERE analysis_id = ?1 AND seq = ?2",
                            params![analysis, seq, serde_json::to_string(&snap)?],
                        )?;
                        analyses.insert(analysis);
                        done += 1;
                    } else {
                        kept += 1;
                    }
                }
            }
            for a in analyses {
                super::analyses::rederive(tx, &a)?;
            }
            Ok((done, kept))
        })
    }
}

/// One response as re-costing walks them: its model, tokens, cost and whether it is priced
/// without a price.
struct Response {
    model: String,
    tokens: Tokens,
    cost_nusd: i64,
    unpriced: bool,
}

fn session_responses(tx: &Transaction<'_>, tool: &str, session: &str) -> Result<Vec<Response>> {
    let mut st = tx.prepare(
        "SELECT coalesce(model, ''), input_tokens, cache_creation_tokens, cache_creation_5m_tokens,
                cache_creation_1h_tokens, cache_read_tokens, output_tokens, reasoning_tokens,
                coalesce(cost_nusd, 0), priced = 1 AND cost_nusd IS NULL
         FROM usage_events WHERE tool = ?1 AND session_id = ?2 ORDER BY ts_ms, id",
    )?;
    let rows = st.query_map(params![tool, session], |r| {
        Ok(Response {
            model: r.get(0)?,
            tokens: tokens_at(r, 1)?,
            cost_nusd: r.get(8)?,
            unpriced: r.get(9)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Price `snap` model by model from the prefix of `responses` it counted; false (and `snap`
/// unchanged) when some model's tokens match no prefix.
fn recost(snap: &mut Snapshot, responses: &[Response]) -> bool {
    let mut priced = Vec::new();
    for (model, usage) in &snap.0 {
        let mut sum = ModelUsage::default();
        let mut found = usage.tokens.is_zero();
        for r in responses.iter().filter(|r| &r.model == model) {
            if found {
                break;
            }
            sum.tokens = sum.tokens.add(&r.tokens);
            sum.cost_nusd = sum.cost_nusd.saturating_add(r.cost_nusd);
            sum.unpriced += i64::from(r.unpriced);
            found = sum.tokens == usage.tokens;
        }
        if !found {
            return false;
        }
        priced.push((model.clone(), sum.cost_nusd, sum.unpriced));
    }
    for (model, cost, unpriced) in priced {
        if let Some(u) = snap.0.get_mut(&model) {
            u.cost_nusd = cost;
            u.unpriced = unpriced;
        }
    }
    true
}
