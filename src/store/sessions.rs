//! Per-session totals.

use anyhow::Result;
use rusqlite::params;

use super::Store;
use crate::agents::Agent;
use crate::usage::Tokens;
use crate::usage::{ModelUsage, Snapshot};

#[derive(Clone, Debug, PartialEq)]
pub struct SessionSummary {
    pub tool: String,
    pub session_id: String,
    pub path: Option<String>,
    pub project: Option<String>,
    pub git_branch: Option<String>,
    pub cli_version: Option<String>,
    pub first_ts_ms: Option<i64>,
    pub last_ts_ms: Option<i64>,
    pub last_modified_ms: Option<i64>,
    pub models: Vec<String>,
    pub tokens: Tokens,
}

pub(crate) const SUM_COLUMNS: &str = "coalesce(sum(input_tokens), 0), coalesce(sum(cache_creation_tokens), 0),
    coalesce(sum(cache_creation_5m_tokens), 0), coalesce(sum(cache_creation_1h_tokens), 0),
    coalesce(sum(cache_read_tokens), 0), coalesce(sum(output_tokens), 0), coalesce(sum(reasoning_tokens), 0)";

/// Leaves out per-model rows whose counts all went back to zero (a response that moved).
pub(crate) const NONZERO: &str =
    "sum(input_tokens) + sum(cache_creation_tokens) + sum(cache_read_tokens)
    + sum(output_tokens) + sum(reasoning_tokens) > 0";

/// Read seven summed bucket columns starting at column `i`.
pub(crate) fn tokens_at(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Tokens> {
    Ok(Tokens {
        input_tokens: r.get(i)?,
        cache_creation_tokens: r.get(i + 1)?,
        cache_creation_5m_tokens: r.get(i + 2)?,
        cache_creation_1h_tokens: r.get(i + 3)?,
        cache_read_tokens: r.get(i + 4)?,
        output_tokens: r.get(i + 5)?,
        reasoning_tokens: r.get(i + 6)?,
    })
}

impl Store {
    /// Sessions, newest first; `limit` of `None` means all.
    pub fn sessions(
        &self,
        tool: Option<Agent>,
        limit: Option<usize>,
    ) -> Result<Vec<SessionSummary>> {
        self.read(|c| {
            let sql = format!(
                "WITH u AS (SELECT tool, session_id, {SUM_COLUMNS},
                                   group_concat(CASE WHEN model <> '' AND input_tokens + cache_creation_tokens
                                       + cache_read_tokens + output_tokens > 0 THEN model END) AS models
                            FROM session_usage GROUP BY tool, session_id)
                 SELECT s.tool, s.session_id, s.path, s.project, s.git_branch, s.cli_version, s.first_ts_ms,
                        s.last_ts_ms, s.last_modified_ms, u.models, u.*
                 FROM sessions s LEFT JOIN u ON u.tool = s.tool AND u.session_id = s.session_id
                 WHERE ?1 IS NULL OR s.tool = ?1
                 ORDER BY s.last_modified_ms DESC, s.tool, s.session_id
                 LIMIT ?2"
            );
            let limit = limit.map_or(-1, |l| i64::try_from(l).unwrap_or(i64::MAX));
            let mut st = c.prepare(&sql)?;
            let rows = st.query_map(params![tool.map(Agent::as_str), limit], |r| {
                let models: Option<String> = r.get(9)?;
                let mut models: Vec<String> =
                    models.unwrap_or_default().split(',').filter(|m| !m.is_empty()).map(str::to_owned).collect();
                models.sort();
                // u.* repeats tool and session_id before the sums; NULL when no usage.
                let has_usage: Option<String> = r.get(10)?;
                let tokens = if has_usage.is_some() { tokens_at(r, 12)? } else { Tokens::default() };
                Ok(SessionSummary {
                    tool: r.get(0)?,
                    session_id: r.get(1)?,
                    path: r.get(2)?,
                    project: r.get(3)?,
                    git_branch: r.get(4)?,
                    cli_version: r.get(5)?,
                    first_ts_ms: r.get(6)?,
                    last_ts_ms: r.get(7)?,
                    last_modified_ms: r.get(8)?,
                    models,
                    tokens,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }
}

/// A session's cumulative usage per model, as the ledger holds it now.
pub(crate) fn snapshot(c: &rusqlite::Connection, tool: &str, session_id: &str) -> Result<Snapshot> {
    let mut st = c.prepare_cached(&format!(
        "SELECT model, {SUM_COLUMNS}, sum(cost_nusd), sum(unpriced) FROM session_usage
         WHERE tool = ?1 AND session_id = ?2 GROUP BY model HAVING {NONZERO}"
    ))?;
    let rows = st.query_map(params![tool, session_id], model_usage_row)?;
    Ok(Snapshot(rows.collect::<rusqlite::Result<_>>()?))
}

/// `model`, seven buckets, cost (nano-USD), unpriced count.
pub(crate) fn model_usage_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(String, ModelUsage)> {
    Ok((
        r.get(0)?,
        ModelUsage {
            tokens: tokens_at(r, 1)?,
            cost_nusd: r.get(8)?,
            unpriced: r.get(9)?,
        },
    ))
}
