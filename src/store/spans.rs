//! What `analysis show` needs to put an analysis's tool calls over the span of its tokens:
//! its session's calls, each with the position of the response that issued it, and where
//! each of its snapshots ends (`crate::reports::work` does the arithmetic).

use std::collections::HashMap;

use anyhow::Result;
use rusqlite::params;

use super::Store;

/// A response's place in its session, as `snapshots::through` orders them: by time, then by
/// row id (`ts_ms` is `None` for a response without a time).
pub type Position = (Option<i64>, i64);

/// One tool call of a session.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SpanCall {
    pub call_id: String,
    pub name: Option<String>,
    pub called_at_ms: Option<i64>,
    pub result_at_ms: Option<i64>,
    pub failed: Option<bool>,
    pub duration_ms: Option<i64>,
    pub file_path: Option<String>,
    pub shell: bool,
    pub program: Option<String>,
    /// The issuing response, when it is in the ledger.
    pub response: Option<Position>,
}

/// Where one snapshot of an analysis ends.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SnapshotEnd {
    pub kind: String,
    pub stage: Option<String>,
    /// Its time (RFC 3339 in the row), in ms.
    pub at_ms: Option<i64>,
    /// Anchored: through this response.
    pub anchor: Option<Position>,
    /// Not anchored: the responses in the ledger then (row ids up to this one).
    pub max_response_id: Option<i64>,
}

impl Store {
    /// Every tool call of these sessions (of one agent each), per session, in one pass over
    /// the calls (the table has no session index: it would slow every first read).
    pub fn calls_of_sessions(
        &self,
        sessions: &[(String, String)],
    ) -> Result<HashMap<(String, String), Vec<SpanCall>>> {
        let ids: Vec<&str> = sessions.iter().map(|(_, s)| s.as_str()).collect();
        let ids = serde_json::to_string(&ids)?;
        self.read(|c| {
            let mut st = c.prepare_cached(
                "SELECT t.tool, t.session_id, t.call_id, t.name, t.called_at_ms, t.result_at_ms, t.failed,
                        t.duration_ms, t.file_path, t.command IS NOT NULL OR t.program IS NOT NULL,
                        t.program, u.ts_ms, u.id
                 FROM tool_calls t LEFT JOIN usage_events u ON u.dedup_key = t.response_key
                     AND u.tool = t.tool AND u.session_id = t.session_id
                 WHERE t.session_id IN (SELECT value FROM json_each(?1))
                 ORDER BY t.id",
            )?;
            let mut out: HashMap<(String, String), Vec<SpanCall>> = HashMap::new();
            let mut rows = st.query(params![ids])?;
            while let Some(r) = rows.next()? {
                let key: (String, String) = (r.get(0)?, r.get(1)?);
                if !sessions.contains(&key) {
                    continue;
                }
                let id: Option<i64> = r.get(12)?;
                let response = match id {
                    Some(id) => Some((r.get(11)?, id)),
                    None => None,
                };
                out.entry(key).or_default().push(SpanCall {
                    call_id: r.get(2)?,
                    name: r.get(3)?,
                    called_at_ms: r.get(4)?,
                    result_at_ms: r.get(5)?,
                    failed: r.get::<_, Option<i64>>(6)?.map(|v| v != 0),
                    duration_ms: r.get(7)?,
                    file_path: r.get(8)?,
                    shell: r.get(9)?,
                    program: r.get(10)?,
                    response,
                });
            }
            Ok(out)
        })
    }

    /// The project (working directory) of a session.
    pub fn session_project(&self, tool: &str, session_id: &str) -> Result<Option<String>> {
        self.read(|c| {
            Ok(c.query_row(
                "SELECT project FROM sessions WHERE tool = ?1 AND session_id = ?2",
                params![tool, session_id],
                |r| r.get(0),
            )
            .unwrap_or(None))
        })
    }

    /// Where each snapshot of the analysis ends, in order.
    pub fn snapshot_ends(&self, analysis_id: &str) -> Result<Vec<SnapshotEnd>> {
        self.read(|c| {
            let mut st = c.prepare_cached(
                "SELECT s.kind, s.stage, s.at, u.ts_ms, u.id, s.max_response_id
                 FROM analysis_snapshots s
                 LEFT JOIN tool_calls t ON t.tool = s.tool AND t.scope = '' AND t.call_id = s.anchor_call_id
                 LEFT JOIN usage_events u ON u.dedup_key = t.response_key
                     AND u.tool = s.tool AND u.session_id = s.session_id
                 WHERE s.analysis_id = ?1
                 ORDER BY s.seq",
            )?;
            let rows = st.query_map([analysis_id], |r| {
                let at: String = r.get(2)?;
                let id: Option<i64> = r.get(4)?;
                Ok(SnapshotEnd {
                    kind: r.get(0)?,
                    stage: r.get(1)?,
                    at_ms: crate::usage::parse_ts_ms(&at),
                    anchor: match id {
                        Some(id) => Some((r.get(3)?, id)),
                        None => None,
                    },
                    max_response_id: r.get(5)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }
}
