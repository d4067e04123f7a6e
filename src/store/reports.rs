//! What reports read: usage summed by time slot or by session and model, tool calls,
//! compactions, as plain rows. Calendars, costs, medians and every other report figure are
//! computed from them in `crate::reports`, which this module knows nothing of.

use std::collections::HashMap;

use anyhow::Result;
use rusqlite::Connection;

use super::Store;
use super::rollup::{SLOT_MS, UNTIMED_SLOT, slot_of};
use super::sessions::{SUM_COLUMNS, tokens_at};
use crate::agents::Agent;
use crate::usage::Tokens;

/// One response's usage, borrowed from the query.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResponseRef<'a> {
    /// Its earliest time; `None` when no copy of it had one.
    pub ts_ms: Option<i64>,
    /// `""` when the transcript named none.
    pub model: &'a str,
    pub tokens: Tokens,
    /// Stored cost (nano-USD, 0 when none), and 1 when it was priced and has no price.
    pub cost_nusd: i64,
    pub unpriced: i64,
}

/// Which rows a report covers. Times are UTC ms, `until_ms` exclusive.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReportFilter {
    pub tool: Option<Agent>,
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

    /// The same filter, narrowed to `[since_ms, until_ms)`.
    pub fn within(&self, since_ms: i64, until_ms: i64) -> ReportFilter {
        ReportFilter {
            since_ms: Some(self.since_ms.map_or(since_ms, |s| s.max(since_ms))),
            until_ms: Some(self.until_ms.map_or(until_ms, |u| u.min(until_ms))),
            ..self.clone()
        }
    }
}

/// The filter as SQL over alias `x` with time column `time` (named parameters; see `params`).
/// The project test runs once over `sessions` (a few rows), not once per usage row.
fn filter_sql(x: &str, time: &str) -> String {
    filter_sql_with(x, time, false)
}

/// [`filter_sql`]; with `keep_untimed`, rows whose time is NULL pass the time bounds.
fn filter_sql_with(x: &str, time: &str, keep_untimed: bool) -> String {
    let untimed = if keep_untimed {
        format!("{time} IS NULL OR ")
    } else {
        String::new()
    };
    format!(
        "(:tool IS NULL OR {x}.tool = :tool)
         AND (:session IS NULL OR {x}.session_id = :session)
         AND ({untimed}:since IS NULL OR {time} >= :since)
         AND ({untimed}:until IS NULL OR {time} < :until)
         AND (:project IS NULL OR ({x}.tool, {x}.session_id) IN (
             SELECT tool, session_id FROM sessions
             WHERE project = :project
                OR substr(project, 1, length(:project) + 1) = :project || '/'
                OR substr(project, -length(:project) - 1) = '/' || :project))"
    )
}

/// The values of `filter_sql`'s parameters, then `extra`.
fn params<'a>(
    f: &'a ReportFilter,
    tool: &'a Option<&'static str>,
    extra: &[(&'a str, &'a dyn rusqlite::ToSql)],
) -> Vec<(&'a str, &'a dyn rusqlite::ToSql)> {
    let mut p: Vec<(&str, &dyn rusqlite::ToSql)> = vec![
        (":tool", tool),
        (":session", &f.session_id),
        (":since", &f.since_ms),
        (":until", &f.until_ms),
        (":project", &f.project),
    ];
    p.extend_from_slice(extra);
    p
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
    let tool = f.tool.map(Agent::as_str);
    let rows = st.query_map(params(f, &tool, extra).as_slice(), map)?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// Usage of one quarter hour (or of one response in it), session and model, borrowed from
/// the query ([`Store::for_each_slot`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SlotRef<'a> {
    /// The quarter hour's start; `None` for responses without a time.
    pub slot_ms: Option<i64>,
    /// `""` when the transcript named none.
    pub model: &'a str,
    pub responses: i64,
    /// The earliest and latest time of these responses.
    pub first_ms: Option<i64>,
    pub last_ms: Option<i64>,
    pub tokens: Tokens,
    /// Stored cost (nano-USD), and how many responses have no price.
    pub cost_nusd: i64,
    pub unpriced: i64,
}

/// A filter's time range as whole quarter hours `[lo, hi)` (read from the rollup) and the
/// pieces at its ends (read response by response).
struct SlotSpan {
    lo: i64,
    hi: i64,
    ends: Vec<(i64, i64)>,
}

impl SlotSpan {
    fn of(f: &ReportFilter) -> SlotSpan {
        let ceil = |t: i64| {
            slot_of(Some(t)).saturating_add(if t.rem_euclid(SLOT_MS) == 0 {
                0
            } else {
                SLOT_MS
            })
        };
        let lo = f
            .since_ms
            .map_or(i64::MIN, |s| ceil(s.max(i64::MIN + SLOT_MS)));
        let hi = f.until_ms.map_or(i64::MAX, |u| slot_of(Some(u)));
        if let (Some(s), Some(u)) = (f.since_ms, f.until_ms)
            && lo >= hi
        {
            // Less than a whole quarter hour: all of it from the responses.
            return SlotSpan {
                lo: 0,
                hi: 0,
                ends: vec![(s, u)],
            };
        }
        let mut ends = Vec::new();
        if let Some(s) = f.since_ms
            && s < lo
        {
            ends.push((s, lo));
        }
        if let Some(u) = f.until_ms
            && hi < u
        {
            ends.push((hi, u));
        }
        SlotSpan { lo, hi, ends }
    }
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
    /// Stored cost (nano-USD), and how many responses have no price.
    pub cost_nusd: i64,
    pub unpriced: i64,
}

/// What a report shows about a session.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SessionMeta {
    pub project: Option<String>,
    pub first_ts_ms: Option<i64>,
    pub last_ts_ms: Option<i64>,
}

/// One tool call, as reports see it, borrowed from the query.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ToolCallRef<'a> {
    pub tool: &'a str,
    pub session_id: &'a str,
    pub project: Option<&'a str>,
    pub call_id: &'a str,
    pub name: Option<&'a str>,
    pub called_at_ms: Option<i64>,
    pub result_at_ms: Option<i64>,
    pub failed: Option<bool>,
    /// As the transcript states it (reports derive one from the times otherwise).
    pub stated_duration_ms: Option<i64>,
    pub file_path: Option<&'a str>,
    /// A shell call (it has a command or a program).
    pub shell: bool,
    /// A shell call's program and subcommand (`git commit`), when it was read with one.
    pub program: Option<&'a str>,
}

/// One compaction, with its session's project.
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

/// Every response of a time range summed, whatever its session or model.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RangeUsage {
    pub responses: i64,
    pub tokens: Tokens,
    /// The known part of the cost (nano-USD).
    pub cost_nusd: i64,
    /// Responses whose model has no price, and responses not priced yet.
    pub unpriced: i64,
    pub pending: i64,
}

impl Store {
    /// The responses timed in `[since_ms, until_ms)`, summed (by the time index: a day's
    /// rows, not the whole ledger's).
    pub fn usage_in_range(&self, since_ms: i64, until_ms: i64) -> Result<RangeUsage> {
        self.read(|c| {
            let mut st = c.prepare_cached(&format!(
                "SELECT count(*), {SUM_COLUMNS}, coalesce(sum(cost_nusd), 0),
                        coalesce(sum(priced = 1 AND cost_nusd IS NULL), 0), coalesce(sum(priced = 0), 0)
                 FROM usage_events INDEXED BY usage_events_time
                 WHERE ts_ms >= ?1 AND ts_ms < ?2"
            ))?;
            Ok(st.query_row(rusqlite::params![since_ms, until_ms], |r| {
                Ok(RangeUsage {
                    responses: r.get(0)?,
                    tokens: tokens_at(r, 1)?,
                    cost_nusd: r.get(8)?,
                    unpriced: r.get(9)?,
                    pending: r.get(10)?,
                })
            })?)
        })
    }

    /// Call `each` with every response in `f`, in no particular order; responses without a
    /// time pass the time bounds, so that one pass also counts them. Rows are lent, not
    /// copied: the time reports sum them in Rust rather than by SQL's GROUP BY, because a hash
    /// map beats SQLite's sorter on a few hundred thousand rows (docs/PERFORMANCE.md).
    pub fn for_each_response(
        &self,
        f: &ReportFilter,
        mut each: impl FnMut(&ResponseRef<'_>),
    ) -> Result<()> {
        self.read(|c| {
            let sql = format!(
                "SELECT ts_ms, model, input_tokens, cache_creation_tokens, cache_creation_5m_tokens,
                        cache_creation_1h_tokens, cache_read_tokens, output_tokens, reasoning_tokens,
                        coalesce(cost_nusd, 0), priced = 1 AND cost_nusd IS NULL
                 FROM usage_events u
                 WHERE {}",
                filter_sql_with("u", "u.ts_ms", true)
            );
            let mut st = c.prepare(&sql)?;
            let tool = f.tool.map(Agent::as_str);
            let mut rows = st.query(params(f, &tool, &[]).as_slice())?;
            while let Some(r) = rows.next()? {
                each(&ResponseRef {
                    ts_ms: r.get(0)?,
                    model: r.get_ref(1)?.as_str_or_null()?.unwrap_or(""),
                    tokens: tokens_at(r, 2)?,
                    cost_nusd: r.get(9)?,
                    unpriced: r.get(10)?,
                });
            }
            Ok(())
        })
    }

    /// Call `each` with the usage in `f` per quarter hour (`usage_slots`), session and model,
    /// in no particular order: the rollup's rows for the whole quarter hours of the range,
    /// and one part per response for the pieces of quarter hours at its ends (a bound such
    /// as `--since 30m` need not fall on one). Untimed usage (`slot_ms: None`) is passed
    /// whatever the bounds, as [`Store::for_each_response`] does.
    pub fn for_each_slot(
        &self,
        f: &ReportFilter,
        mut each: impl FnMut(&SlotRef<'_>),
    ) -> Result<()> {
        let span = SlotSpan::of(f);
        let rest = ReportFilter {
            since_ms: None,
            until_ms: None,
            ..f.clone()
        };
        self.read(|c| {
            let sql = format!(
                "SELECT x.slot_ms, x.model, x.responses, x.first_ms, x.last_ms, x.input_tokens,
                        x.cache_creation_tokens, x.cache_creation_5m_tokens, x.cache_creation_1h_tokens,
                        x.cache_read_tokens, x.output_tokens, x.reasoning_tokens, x.cost_nusd, x.unpriced
                 FROM usage_slots x
                 WHERE (x.slot_ms = {UNTIMED_SLOT} OR (x.slot_ms >= :lo AND x.slot_ms < :hi))
                   AND x.responses > 0 AND {}",
                filter_sql("x", "NULL")
            );
            let mut st = c.prepare(&sql)?;
            let tool = rest.tool.map(Agent::as_str);
            let extra: [(&str, &dyn rusqlite::ToSql); 2] = [(":lo", &span.lo), (":hi", &span.hi)];
            let mut rows = st.query(params(&rest, &tool, &extra).as_slice())?;
            while let Some(r) = rows.next()? {
                let slot: i64 = r.get(0)?;
                each(&SlotRef {
                    slot_ms: (slot != UNTIMED_SLOT).then_some(slot),
                    model: r.get_ref(1)?.as_str()?,
                    responses: r.get(2)?,
                    first_ms: r.get(3)?,
                    last_ms: r.get(4)?,
                    tokens: tokens_at(r, 5)?,
                    cost_nusd: r.get(12)?,
                    unpriced: r.get(13)?,
                });
            }
            // The ends, response by response, by the time index.
            let sql = format!(
                "SELECT u.ts_ms, coalesce(u.model, ''), u.input_tokens, u.cache_creation_tokens,
                        u.cache_creation_5m_tokens, u.cache_creation_1h_tokens, u.cache_read_tokens,
                        u.output_tokens, u.reasoning_tokens, coalesce(u.cost_nusd, 0),
                        u.priced = 1 AND u.cost_nusd IS NULL
                 FROM usage_events u INDEXED BY usage_events_time
                 WHERE u.ts_ms >= :a AND u.ts_ms < :b AND {}",
                filter_sql("u", "u.ts_ms")
            );
            let mut st = c.prepare(&sql)?;
            for (a, b) in span.ends {
                let extra: [(&str, &dyn rusqlite::ToSql); 2] = [(":a", &a), (":b", &b)];
                let mut rows = st.query(params(&rest, &tool, &extra).as_slice())?;
                while let Some(r) = rows.next()? {
                    let ts: i64 = r.get(0)?;
                    each(&SlotRef {
                        slot_ms: Some(slot_of(Some(ts))),
                        model: r.get_ref(1)?.as_str()?,
                        responses: 1,
                        first_ms: Some(ts),
                        last_ms: Some(ts),
                        tokens: tokens_at(r, 2)?,
                        cost_nusd: r.get(9)?,
                        unpriced: r.get(10)?,
                    });
                }
            }
            Ok(())
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
                    cost_nusd: r.get(11)?,
                    unpriced: r.get(12)?,
                })
            };
            if f.bounded() {
                // The whole quarter hours of the range from the rollup, its ends from the
                // responses (by the time index).
                let span = SlotSpan::of(f);
                let rest = ReportFilter {
                    since_ms: None,
                    until_ms: None,
                    ..f.clone()
                };
                let none = (0, 0);
                let e1 = span.ends.first().copied().unwrap_or(none);
                let e2 = span.ends.get(1).copied().unwrap_or(none);
                // Untimed responses are in no range.
                let lo = span.lo.max(UNTIMED_SLOT + 1);
                let rows_part = |a: &str, b: &str| {
                    format!(
                        "SELECT u.tool, u.session_id, coalesce(u.model, '') AS model, u.ts_ms AS first_ms,
                                u.input_tokens, u.cache_creation_tokens, u.cache_creation_5m_tokens,
                                u.cache_creation_1h_tokens, u.cache_read_tokens, u.output_tokens,
                                u.reasoning_tokens, coalesce(u.cost_nusd, 0) AS cost_nusd,
                                u.priced = 1 AND u.cost_nusd IS NULL AS unpriced
                         FROM usage_events u INDEXED BY usage_events_time
                         WHERE u.ts_ms >= {a} AND u.ts_ms < {b} AND {}",
                        filter_sql("u", "u.ts_ms")
                    )
                };
                let sql = format!(
                    "SELECT tool, session_id, model, min(first_ms), {SUM_COLUMNS}, sum(cost_nusd), sum(unpriced)
                     FROM (SELECT x.tool, x.session_id, x.model, x.first_ms, x.input_tokens,
                                  x.cache_creation_tokens, x.cache_creation_5m_tokens, x.cache_creation_1h_tokens,
                                  x.cache_read_tokens, x.output_tokens, x.reasoning_tokens, x.cost_nusd, x.unpriced
                           FROM usage_slots x
                           WHERE x.slot_ms >= :lo AND x.slot_ms < :hi AND {}
                           UNION ALL {}
                           UNION ALL {})
                     GROUP BY 1, 2, 3",
                    filter_sql("x", "NULL"),
                    rows_part(":e1a", ":e1b"),
                    rows_part(":e2a", ":e2b"),
                );
                let extra: [(&str, &dyn rusqlite::ToSql); 6] = [
                    (":lo", &lo),
                    (":hi", &span.hi),
                    (":e1a", &e1.0),
                    (":e1b", &e1.1),
                    (":e2a", &e2.0),
                    (":e2b", &e2.1),
                ];
                query(c, &sql, &rest, &extra, map)
            } else {
                let sql = format!(
                    "SELECT u.tool, u.session_id, u.model,
                            (SELECT first_ts_ms FROM sessions s WHERE s.tool = u.tool AND s.session_id = u.session_id),
                            {SUM_COLUMNS}, sum(u.cost_nusd), sum(u.unpriced)
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

    /// Call `each` with every tool call in `f` (timed by the call, else by its result),
    /// optionally of one tool name (without case), in no particular order. Rows are lent, not
    /// copied: a report over 80,000 calls spent most of its time allocating strings. Projects
    /// come from a map of the sessions table (a few hundred rows): a SQL join looked up two
    /// B-trees per call and was slower still.
    pub fn for_each_tool_call(
        &self,
        f: &ReportFilter,
        name: Option<&str>,
        mut each: impl FnMut(&ToolCallRef<'_>),
    ) -> Result<()> {
        let mut projects: HashMap<String, HashMap<String, Option<String>>> = HashMap::new();
        for ((tool, session), m) in self.session_meta()? {
            projects.entry(tool).or_default().insert(session, m.project);
        }
        self.read(|c| {
            let sql = format!(
                "SELECT t.tool, t.session_id, t.call_id, t.name, t.called_at_ms, t.result_at_ms, t.failed,
                        t.duration_ms, t.file_path, t.command IS NOT NULL OR t.program IS NOT NULL, t.program
                 FROM tool_calls t
                 WHERE (:name IS NULL OR t.name = :name COLLATE NOCASE) AND {}",
                filter_sql("t", "coalesce(t.called_at_ms, t.result_at_ms)")
            );
            let mut st = c.prepare(&sql)?;
            let tool = f.tool.map(Agent::as_str);
            let mut rows = st.query(params(f, &tool, &[(":name", &name)]).as_slice())?;
            while let Some(r) = rows.next()? {
                let tool = r.get_ref(0)?.as_str()?;
                let session_id = r.get_ref(1)?.as_str()?;
                let project = projects
                    .get(tool)
                    .and_then(|s| s.get(session_id))
                    .and_then(|p| p.as_deref());
                each(&ToolCallRef {
                    tool,
                    session_id,
                    project,
                    call_id: r.get_ref(2)?.as_str()?,
                    name: r.get_ref(3)?.as_str_or_null()?,
                    called_at_ms: r.get(4)?,
                    result_at_ms: r.get(5)?,
                    failed: r.get::<_, Option<i64>>(6)?.map(|v| v != 0),
                    stated_duration_ms: r.get(7)?,
                    file_path: r.get_ref(8)?.as_str_or_null()?,
                    shell: r.get(9)?,
                    program: r.get_ref(10)?.as_str_or_null()?,
                });
            }
            Ok(())
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
