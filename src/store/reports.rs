//! What reports read: usage summed by time slot or by session and model, tool calls,
//! compactions. Sums are done here; calendars, medians and costs in `crate::reporting`.

use std::collections::HashMap;

use anyhow::Result;
use rusqlite::{Connection, named_params};

use super::Store;
use super::sessions::{SUM_COLUMNS, tokens_at};
use crate::usage::{Tokens, Tool};

/// Usage summed over a span of time (`slot_ms` long from `start_ms`) for one model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Slot {
    pub start_ms: i64,
    pub model: String,
    pub tokens: Tokens,
}

/// Which rows a report covers. Times are UTC ms, `until_ms` exclusive.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReportFilter {
    pub tool: Option<Tool>,
    pub session_id: Option<String>,
    /// A session's working directory equal to this, below it, or ending in `/` + this.
    pub project: Option<String>,
    pub since_ms: Option<i64>,
    pub until_ms: Option<i64>,
}

impl ReportFilter {
    pub fn bounded(&self) -> bool {
        self.since_ms.is_some() || self.until_ms.is_some()
    }
}

/// The filter as SQL over alias `x` with time column `time` (named parameters; see `bind`).
/// The project test runs once over `sessions` (a few rows), not once per usage row.
fn filter_sql(x: &str, time: &str) -> String {
    format!(
        "(:tool IS NULL OR {x}.tool = :tool)
         AND (:session IS NULL OR {x}.session_id = :session)
         AND (:since IS NULL OR {time} >= :since)
         AND (:until IS NULL OR {time} < :until)
         AND (:project IS NULL OR ({x}.tool, {x}.session_id) IN (
             SELECT tool, session_id FROM sessions
             WHERE project = :project
                OR substr(project, 1, length(:project) + 1) = :project || '/'
                OR substr(project, -length(:project) - 1) = '/' || :project))"
    )
}

/// Run `sql` (which uses every parameter of `filter_sql`, plus `extra`) and map its rows.
fn query<T>(
    c: &Connection,
    sql: &str,
    f: &ReportFilter,
    extra: &[(&str, &dyn rusqlite::ToSql)],
    map: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> Result<Vec<T>> {
    let mut st = c.prepare(sql)?;
    let tool = f.tool.map(Tool::as_str);
    let mut params: Vec<(&str, &dyn rusqlite::ToSql)> = named_params! {
        ":tool": tool,
        ":session": f.session_id,
        ":since": f.since_ms,
        ":until": f.until_ms,
        ":project": f.project,
    }
    .to_vec();
    params.extend_from_slice(extra);
    let rows = st.query_map(params.as_slice(), map)?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// One session's usage of one model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionModelUsage {
    pub tool: String,
    pub session_id: String,
    pub model: String,
    pub tokens: Tokens,
    /// The earliest time of these responses; the session's first time when unbounded.
    pub first_ms: Option<i64>,
}

/// What a report shows about a session.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SessionMeta {
    pub project: Option<String>,
    pub first_ts_ms: Option<i64>,
    pub last_ts_ms: Option<i64>,
}

/// One tool call, as reports see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ToolCallRow {
    pub tool: String,
    pub session_id: String,
    pub project: Option<String>,
    pub name: Option<String>,
    pub called_at_ms: Option<i64>,
    pub result_at_ms: Option<i64>,
    pub failed: Option<bool>,
    /// Stated by the transcript, else result − call when both times are known and in order.
    pub duration_ms: Option<i64>,
    pub file_path: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompactionRow {
    pub tool: String,
    pub session_id: String,
    pub project: Option<String>,
    pub kind: String,
    pub at_ms: Option<i64>,
    pub trigger: Option<String>,
    pub pre_tokens: Option<i64>,
}

impl Store {
    /// Usage with a time, summed per model and `slot_ms` span (aligned to the Unix epoch).
    pub fn usage_by_slot(&self, f: &ReportFilter, slot_ms: i64) -> Result<Vec<Slot>> {
        let slot_ms = slot_ms.max(1);
        self.read(|c| {
            // Floor division, also for times before 1970.
            let sql = format!(
                "SELECT ts_ms - ((ts_ms % :slot) + :slot) % :slot AS slot, coalesce(model, ''), {SUM_COLUMNS}
                 FROM usage_events u
                 WHERE ts_ms IS NOT NULL AND {}
                 GROUP BY 1, 2",
                filter_sql("u", "u.ts_ms")
            );
            query(c, &sql, f, &[(":slot", &slot_ms)], |r| {
                Ok(Slot {
                    start_ms: r.get(0)?,
                    model: r.get(1)?,
                    tokens: tokens_at(r, 2)?,
                })
            })
        })
    }

    /// Responses without a time that `f` would otherwise cover, and their tokens.
    pub fn usage_untimed(&self, f: &ReportFilter) -> Result<(i64, Tokens)> {
        let unbounded = ReportFilter {
            since_ms: None,
            until_ms: None,
            ..f.clone()
        };
        self.read(|c| {
            let sql = format!(
                "SELECT count(*), {SUM_COLUMNS} FROM usage_events u WHERE ts_ms IS NULL AND {}",
                filter_sql("u", "u.ts_ms")
            );
            let rows = query(c, &sql, &unbounded, &[], |r| {
                Ok((r.get::<_, i64>(0)?, tokens_at(r, 1)?))
            })?;
            Ok(rows.into_iter().next().unwrap_or_default())
        })
    }

    /// Usage per session and model. Without time bounds it is read from the running totals
    /// (`session_usage`, a few rows per session, the numbers `sessions list` shows, and
    /// responses without a time included); with bounds, summed from the responses in range.
    pub fn usage_by_session(&self, f: &ReportFilter) -> Result<Vec<SessionModelUsage>> {
        self.read(|c| {
            let map = |r: &rusqlite::Row<'_>| {
                Ok(SessionModelUsage {
                    tool: r.get(0)?,
                    session_id: r.get(1)?,
                    model: r.get(2)?,
                    first_ms: r.get(3)?,
                    tokens: tokens_at(r, 4)?,
                })
            };
            if f.bounded() {
                let sql = format!(
                    "SELECT u.tool, u.session_id, coalesce(u.model, ''), min(u.ts_ms), {SUM_COLUMNS}
                     FROM usage_events u
                     WHERE ts_ms IS NOT NULL AND {}
                     GROUP BY 1, 2, 3",
                    filter_sql("u", "u.ts_ms")
                );
                query(c, &sql, f, &[], map)
            } else {
                let sql = format!(
                    "SELECT u.tool, u.session_id, u.model,
                            (SELECT first_ts_ms FROM sessions s WHERE s.tool = u.tool AND s.session_id = u.session_id),
                            {SUM_COLUMNS}
                     FROM session_usage u
                     WHERE {}
                     GROUP BY 1, 2, 3",
                    filter_sql("u", "NULL")
                );
                query(c, &sql, f, &[], map)
            }
        })
        .map(|rows| rows.into_iter().filter(|r| !r.tokens.is_zero()).collect())
    }

    /// Project and first/last times of every session, by (tool, session id).
    pub fn session_meta(&self) -> Result<HashMap<(String, String), SessionMeta>> {
        self.read(|c| {
            let mut st = c.prepare(
                "SELECT tool, session_id, project, first_ts_ms, last_ts_ms FROM sessions",
            )?;
            let rows = st.query_map([], |r| {
                Ok((
                    (r.get(0)?, r.get(1)?),
                    SessionMeta {
                        project: r.get(2)?,
                        first_ts_ms: r.get(3)?,
                        last_ts_ms: r.get(4)?,
                    },
                ))
            })?;
            Ok(rows.collect::<rusqlite::Result<HashMap<_, _>>>()?)
        })
    }

    /// Tool calls in `f` (timed by the call, else by its result), optionally of one tool
    /// name (without case), oldest first.
    pub fn tool_call_rows(&self, f: &ReportFilter, name: Option<&str>) -> Result<Vec<ToolCallRow>> {
        self.read(|c| {
            let sql = format!(
                "SELECT t.tool, t.session_id, s.project, t.name, t.called_at_ms, t.result_at_ms, t.failed,
                        coalesce(t.duration_ms, CASE WHEN t.result_at_ms >= t.called_at_ms
                                                     THEN t.result_at_ms - t.called_at_ms END),
                        t.file_path
                 FROM tool_calls t LEFT JOIN sessions s ON s.tool = t.tool AND s.session_id = t.session_id
                 WHERE (:name IS NULL OR t.name = :name COLLATE NOCASE) AND {}
                 ORDER BY coalesce(t.called_at_ms, t.result_at_ms), t.tool, t.session_id, t.call_id",
                filter_sql("t", "coalesce(t.called_at_ms, t.result_at_ms)")
            );
            query(c, &sql, f, &[(":name", &name)], |r| {
                Ok(ToolCallRow {
                    tool: r.get(0)?,
                    session_id: r.get(1)?,
                    project: r.get(2)?,
                    name: r.get(3)?,
                    called_at_ms: r.get(4)?,
                    result_at_ms: r.get(5)?,
                    failed: r.get::<_, Option<i64>>(6)?.map(|v| v != 0),
                    duration_ms: r.get(7)?,
                    file_path: r.get(8)?,
                })
            })
        })
    }

    /// Compactions in `f`, oldest first.
    pub fn compaction_rows(&self, f: &ReportFilter) -> Result<Vec<CompactionRow>> {
        self.read(|c| {
            let sql = format!(
                "SELECT k.tool, k.session_id, s.project, k.kind, k.at_ms, k.trigger, k.pre_tokens
                 FROM compactions k LEFT JOIN sessions s ON s.tool = k.tool AND s.session_id = k.session_id
                 WHERE {}
                 ORDER BY k.at_ms, k.tool, k.session_id, k.dedup_key",
                filter_sql("k", "k.at_ms")
            );
            query(c, &sql, f, &[], |r| {
                Ok(CompactionRow {
                    tool: r.get(0)?,
                    session_id: r.get(1)?,
                    project: r.get(2)?,
                    kind: r.get(3)?,
                    at_ms: r.get(4)?,
                    trigger: r.get(5)?,
                    pre_tokens: r.get(6)?,
                })
            })
        })
    }
}
