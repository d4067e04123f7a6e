//! Anchored snapshots: what a session had counted through one response, the calls a
//! snapshot can be anchored to, and the `analysis_snapshots` rows an analysis's derived
//! fields are recomputed from when a provisional snapshot settles.

use anyhow::Result;
use rusqlite::{Connection, OptionalExtension, Transaction, params};

use super::Store;
use super::sessions::SUM_COLUMNS;
use super::sessions::{model_usage_row, snapshot};
use crate::usage::{ModelUsage, Snapshot};

/// A tool call as the anchor search sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallRow {
    pub rowid: i64,
    pub call_id: String,
    pub command: Option<String>,
    pub response_key: Option<String>,
    /// No result stored yet: the call is still running (or its result is not on disk).
    pub pending: bool,
}

fn call_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<CallRow> {
    Ok(CallRow {
        rowid: r.get(0)?,
        call_id: r.get(1)?,
        command: r.get(2)?,
        response_key: r.get(3)?,
        pending: r.get(4)?,
    })
}

const CALL_COLUMNS: &str =
    "id, call_id, command, response_key, result_at_ms IS NULL AND failed IS NULL";

/// One stored snapshot of an analysis.
#[derive(Clone, Debug, PartialEq)]
pub struct SnapshotRow {
    pub seq: i64,
    pub kind: String,
    pub stage: Option<String>,
    pub at: String,
    pub tool: String,
    pub session_id: String,
    pub anchor_call_id: Option<String>,
    pub probe_json: Option<String>,
    pub settled: bool,
    pub waited_ms: i64,
    pub usage: Snapshot,
}

const SNAPSHOT_COLUMNS: &str =
    "seq, kind, stage, at, tool, session_id, anchor_call_id, probe_json, settled,
    waited_ms, usage_json";

fn snapshot_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<SnapshotRow> {
    let usage: String = r.get(10)?;
    Ok(SnapshotRow {
        seq: r.get(0)?,
        kind: r.get(1)?,
        stage: r.get(2)?,
        at: r.get(3)?,
        tool: r.get(4)?,
        session_id: r.get(5)?,
        anchor_call_id: r.get(6)?,
        probe_json: r.get(7)?,
        settled: r.get(8)?,
        waited_ms: r.get(9)?,
        usage: serde_json::from_str(&usage).unwrap_or_default(),
    })
}

/// How a snapshot is to be counted, decided before its write transaction.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counting {
    /// The calling tool call and the response that issued it: count through that response.
    pub anchor: Option<(String, String)>,
    /// The anchor is not on disk yet: count what is, and keep this to find it later.
    pub probe_json: Option<String>,
    pub waited_ms: i64,
}

/// A session's usage through the response `response_key` (it and every response before it
/// by time, then by row order); `None` while that response is not in the ledger.
pub(crate) fn through(
    c: &Connection,
    tool: &str,
    session_id: &str,
    response_key: &str,
) -> Result<Option<Snapshot>> {
    let at: Option<(Option<i64>, i64)> = c
        .query_row(
            "SELECT ts_ms, id FROM usage_events WHERE dedup_key = ?1 AND tool = ?2 AND session_id = ?3",
            params![response_key, tool, session_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let Some((ts, id)) = at else { return Ok(None) };
    let mut st = c.prepare_cached(&format!(
        "SELECT coalesce(model, ''), {SUM_COLUMNS}, coalesce(sum(cost_nusd), 0),
                coalesce(sum(priced = 1 AND cost_nusd IS NULL), 0)
         FROM usage_events
         WHERE tool = ?1 AND session_id = ?2
           AND (ts_ms > ?3 OR (ts_ms IS ?3 AND id > ?4) OR (?3 IS NULL AND id > ?4))
         GROUP BY coalesce(model, '')"
    ))?;
    let later = st
        .query_map(params![tool, session_id, ts, id], model_usage_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut snap = snapshot(c, tool, session_id)?;
    for (model, u) in later {
        if let Some(now) = snap.0.get_mut(&model) {
            *now = ModelUsage {
                tokens: now.tokens.sub(&u.tokens),
                cost_nusd: now.cost_nusd - u.cost_nusd,
                unpriced: now.unpriced - u.unpriced,
            };
        }
    }
    snap.0.retain(|_, u| !u.tokens.is_zero());
    Ok(Some(snap))
}

/// The snapshot a write transaction records, per `counting`; whether it is settled.
pub(crate) fn count(
    c: &Connection,
    tool: &str,
    session_id: &str,
    counting: &Counting,
) -> Result<(Snapshot, bool)> {
    if let Some((_, key)) = &counting.anchor
        && let Some(s) = through(c, tool, session_id, key)?
    {
        return Ok((s, true));
    }
    Ok((
        snapshot(c, tool, session_id)?,
        counting.anchor.is_none() && counting.probe_json.is_none(),
    ))
}

pub(crate) fn insert(tx: &Transaction<'_>, id: &str, s: &SnapshotRow) -> Result<()> {
    tx.execute(
        &format!(
            "INSERT INTO analysis_snapshots(analysis_id, {SNAPSHOT_COLUMNS}, max_response_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12,
                     (SELECT coalesce(max(id), 0) FROM usage_events))"
        ),
        params![
            id,
            s.seq,
            s.kind,
            s.stage,
            s.at,
            s.tool,
            s.session_id,
            s.anchor_call_id,
            s.probe_json,
            s.settled,
            s.waited_ms,
            serde_json::to_string(&s.usage)?
        ],
    )?;
    Ok(())
}

pub(crate) fn of_analysis(c: &Connection, id: &str) -> Result<Vec<SnapshotRow>> {
    let mut st = c.prepare_cached(&format!(
        "SELECT {SNAPSHOT_COLUMNS} FROM analysis_snapshots WHERE analysis_id = ?1 ORDER BY seq"
    ))?;
    let rows = st.query_map([id], snapshot_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

impl Store {
    /// The call `call_id` of `tool` (unscoped ids: Claude, Codex).
    pub fn tool_call(&self, tool: &str, call_id: &str) -> Result<Option<CallRow>> {
        self.read(|c| {
            Ok(c.query_row(
                &format!("SELECT {CALL_COLUMNS} FROM tool_calls WHERE tool = ?1 AND scope = '' AND call_id = ?2"),
                params![tool, call_id],
                call_row,
            )
            .optional()?)
        })
    }

    /// The session's shell calls without a result, oldest first.
    pub fn pending_shell_calls(&self, tool: &str, session_id: &str) -> Result<Vec<CallRow>> {
        self.read(|c| {
            let mut st = c.prepare_cached(&format!(
                "SELECT {CALL_COLUMNS} FROM tool_calls INDEXED BY tool_calls_pending_shell
                 WHERE tool = ?1 AND session_id = ?2
                   AND command IS NOT NULL AND result_at_ms IS NULL AND failed IS NULL
                 ORDER BY id"
            ))?;
            let rows = st.query_map(params![tool, session_id], call_row)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    /// Every session's shell calls of `tool` without a result.
    pub fn pending_shell_calls_of(&self, tool: &str) -> Result<Vec<(String, CallRow)>> {
        self.read(|c| {
            let mut st = c.prepare_cached(&format!(
                "SELECT session_id, {CALL_COLUMNS} FROM tool_calls INDEXED BY tool_calls_pending_shell
                 WHERE tool = ?1 AND command IS NOT NULL AND result_at_ms IS NULL AND failed IS NULL
                 ORDER BY id"
            ))?;
            let rows = st.query_map(params![tool], |r| {
                Ok((
                    r.get(0)?,
                    CallRow {
                        rowid: r.get(1)?,
                        call_id: r.get(2)?,
                        command: r.get(3)?,
                        response_key: r.get(4)?,
                        pending: r.get(5)?,
                    },
                ))
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    /// The session's shell calls stored after row `after`, oldest first.
    pub fn shell_calls_after(
        &self,
        tool: &str,
        session_id: &str,
        after: i64,
    ) -> Result<Vec<CallRow>> {
        self.read(|c| {
            let mut st = c.prepare_cached(&format!(
                "SELECT {CALL_COLUMNS} FROM tool_calls
                 WHERE id > ?3 AND tool = ?1 AND session_id = ?2 AND command IS NOT NULL ORDER BY id"
            ))?;
            let rows = st.query_map(params![tool, session_id, after], call_row)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    /// The agent version a session's transcript names.
    pub fn session_cli_version(&self, tool: &str, session_id: &str) -> Result<Option<String>> {
        self.read(|c| {
            Ok(c.query_row(
                "SELECT cli_version FROM sessions WHERE tool = ?1 AND session_id = ?2",
                params![tool, session_id],
                |r| r.get(0),
            )
            .optional()?
            .flatten())
        })
    }

    /// The newest tool-call row id: calls stored later than now have a greater one.
    pub fn last_tool_call_rowid(&self) -> Result<i64> {
        self.read(|c| {
            Ok(
                c.query_row("SELECT coalesce(max(id), 0) FROM tool_calls", [], |r| {
                    r.get(0)
                })?,
            )
        })
    }

    /// Whether the response `response_key` of a session is in the ledger.
    pub fn has_response(&self, tool: &str, session_id: &str, response_key: &str) -> Result<bool> {
        self.read(|c| {
            Ok(c.query_row(
                "SELECT EXISTS(SELECT 1 FROM usage_events WHERE dedup_key = ?1 AND tool = ?2 AND session_id = ?3)",
                params![response_key, tool, session_id],
                |r| r.get(0),
            )?)
        })
    }

    /// Snapshots still provisional: of one session, or all.
    pub fn unsettled_snapshots(
        &self,
        session: Option<(&str, &str)>,
    ) -> Result<Vec<(String, SnapshotRow)>> {
        self.read(|c| {
            let (tool, sid) = session.unzip();
            let mut st = c.prepare_cached(&format!(
                "SELECT analysis_id, {SNAPSHOT_COLUMNS} FROM analysis_snapshots
                 WHERE settled = 0 AND (?1 IS NULL OR (tool = ?1 AND session_id = ?2))
                 ORDER BY analysis_id, seq"
            ))?;
            let rows = st.query_map(params![tool, sid], |r| {
                let id: String = r.get(0)?;
                let usage: String = r.get(11)?;
                Ok((
                    id,
                    SnapshotRow {
                        seq: r.get(1)?,
                        kind: r.get(2)?,
                        stage: r.get(3)?,
                        at: r.get(4)?,
                        tool: r.get(5)?,
                        session_id: r.get(6)?,
                        anchor_call_id: r.get(7)?,
                        probe_json: r.get(8)?,
                        settled: r.get(9)?,
                        waited_ms: r.get(10)?,
                        usage: serde_json::from_str(&usage).unwrap_or_default(),
                    },
                ))
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }
}
