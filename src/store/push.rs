//! The ledger's side of `tokledger push`: each destination's cursor, and the rows a push
//! sends (migration 9 explains how changes are found).

use anyhow::Result;
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::Store;
use crate::usage::Tokens;

/// How far a destination has every row of this ledger.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cursor {
    pub usage_id: i64,
    pub tool_call_id: i64,
    pub change_seq: i64,
}

impl Cursor {
    /// At or past `other` in every part.
    pub fn covers(&self, other: &Cursor) -> bool {
        self.usage_id >= other.usage_id
            && self.tool_call_id >= other.tool_call_id
            && self.change_seq >= other.change_seq
    }
}

/// A destination as the ledger remembers it.
#[derive(Clone, Copy, Debug)]
pub struct Destination {
    pub cursor: Cursor,
    /// A push to it has committed (before that the cursor is all zeros).
    pub committed: bool,
}

/// What one push sends: rows after `from` up to `to`, or (`full`) every row up to `to`.
#[derive(Clone, Copy, Debug)]
pub struct Range {
    pub from: Cursor,
    pub to: Cursor,
    pub full: bool,
}

pub struct UsageRow<'a> {
    pub dedup_key: &'a str,
    pub tool: &'a str,
    pub session_id: &'a str,
    pub ts_ms: Option<i64>,
    pub model: Option<&'a str>,
    pub tokens: Tokens,
    pub sidechain: bool,
    pub priced: bool,
    pub cost_nusd: Option<i64>,
}

pub struct ToolCallRow<'a> {
    pub tool: &'a str,
    pub scope: &'a str,
    pub call_id: &'a str,
    pub session_id: &'a str,
    pub name: Option<&'a str>,
    pub called_at_ms: Option<i64>,
    pub result_at_ms: Option<i64>,
    pub failed: Option<bool>,
    pub duration_ms: Option<i64>,
    pub file_path: Option<&'a str>,
    /// The session's working directory (file paths are sent relative to it).
    pub project_dir: Option<&'a str>,
}

pub struct SessionRow<'a> {
    pub tool: &'a str,
    pub session_id: &'a str,
    pub project_dir: Option<&'a str>,
    pub first_ts_ms: Option<i64>,
    pub last_ts_ms: Option<i64>,
}

/// An `analysis_logs` row: the SPEC §2 fields, as stored.
pub struct AnalysisRow<'a> {
    pub id: &'a str,
    pub source_id: &'a str,
    pub pass: Option<&'a str>,
    pub status: &'a str,
    pub tool: &'a str,
    pub model: Option<&'a str>,
    pub started_at: Option<&'a str>,
    pub completed_at: Option<&'a str>,
    pub tokens_in: Option<i64>,
    pub tokens_out: Option<i64>,
    pub total_tokens: Option<i64>,
    pub cost_usd: Option<f64>,
    pub stages_json: &'a str,
    pub notes: Option<&'a str>,
    pub claims_extracted: Option<i64>,
    pub claims_updated: Option<i64>,
    pub tokens_baseline: Option<i64>,
    pub tokens_final: Option<i64>,
    pub tokens_check: Option<i64>,
    pub usage_provider: Option<&'a str>,
    pub usage_mode: Option<&'a str>,
    pub usage_session_id: Option<&'a str>,
    pub inputs_source_ids: Option<&'a str>,
    pub inputs_analysis_ids: Option<&'a str>,
}

pub struct AnalysisUsageRow<'a> {
    pub analysis_id: &'a str,
    pub model: &'a str,
    pub tokens: Tokens,
    pub cost_nusd: i64,
    pub unpriced: i64,
}

pub struct SnapshotRow<'a> {
    pub analysis_id: &'a str,
    pub seq: i64,
    pub kind: &'a str,
    pub stage: Option<&'a str>,
    pub at: &'a str,
    pub tool: &'a str,
    pub session_id: &'a str,
    pub settled: bool,
    pub usage_json: &'a str,
}

impl Store {
    /// The random id that names this ledger on the servers.
    pub fn ledger_id(&self) -> Result<String> {
        self.read(|c| Ok(c.query_row("SELECT id FROM push_ledger", [], |r| r.get(0))?))
    }

    pub fn push_destination(
        &self,
        destination: &str,
        machine: &str,
    ) -> Result<Option<Destination>> {
        self.read(|c| destination_row(c, destination, machine))
    }

    /// Whether anything was added or changed after `c`.
    pub fn push_pending(&self, c: &Cursor) -> Result<bool> {
        self.read(|conn| {
            Ok(conn.query_row(
                "SELECT EXISTS (SELECT 1 FROM usage_events WHERE id > ?1)
                     OR EXISTS (SELECT 1 FROM tool_calls WHERE id > ?2)
                     OR EXISTS (SELECT 1 FROM push_changes WHERE seq > ?3)",
                params![c.usage_id, c.tool_call_id, c.change_seq],
                |r| r.get(0),
            )?)
        })
    }

    /// Start a push: remember the destination (its cursor stays where it was) and watch for
    /// changes to every row that exists now. Returns the upper bounds of what this push sends:
    /// every row committed before this call.
    pub fn push_begin(&mut self, destination: &str, machine: &str) -> Result<Cursor> {
        self.write(|tx| {
            let to: Cursor = tx.query_row(
                "SELECT (SELECT coalesce(max(id), 0) FROM usage_events),
                        (SELECT coalesce(max(id), 0) FROM tool_calls),
                        (SELECT coalesce(max(seq), 0) FROM push_changes)",
                [],
                |r| {
                    Ok(Cursor {
                        usage_id: r.get(0)?,
                        tool_call_id: r.get(1)?,
                        change_seq: r.get(2)?,
                    })
                },
            )?;
            tx.execute(
                "INSERT INTO push_destinations(destination, machine, usage_id, tool_call_id, change_seq,
                                               watch_usage_id, watch_tool_call_id)
                 VALUES (?1, ?2, 0, 0, 0, ?3, ?4)
                 ON CONFLICT DO UPDATE SET watch_usage_id = max(watch_usage_id, excluded.watch_usage_id),
                     watch_tool_call_id = max(watch_tool_call_id, excluded.watch_tool_call_id)",
                params![destination, machine, to.usage_id, to.tool_call_id],
            )?;
            Ok(to)
        })
    }

    /// The server committed everything up to `to`: advance the cursor (never backwards: a
    /// concurrent push may have committed more) and drop the changes every destination has.
    pub fn push_commit(
        &mut self,
        destination: &str,
        machine: &str,
        to: &Cursor,
        at_ms: i64,
    ) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "UPDATE push_destinations SET usage_id = max(usage_id, ?3),
                     tool_call_id = max(tool_call_id, ?4), change_seq = max(change_seq, ?5),
                     pushed_at_ms = ?6
                 WHERE destination = ?1 AND machine = ?2",
                params![destination, machine, to.usage_id, to.tool_call_id, to.change_seq, at_ms],
            )?;
            tx.execute(
                "DELETE FROM push_changes WHERE seq <= (SELECT min(change_seq) FROM push_destinations)",
                [],
            )?;
            Ok(())
        })
    }

    /// Read the rows of `range` in one read transaction (one consistent view of the ledger):
    /// `f` calls the [`PushReader`]'s methods, each streaming one table's rows.
    pub fn push_read<T>(&self, f: impl FnOnce(&PushReader<'_>) -> Result<T>) -> Result<T> {
        self.read(|c| {
            c.execute_batch("BEGIN DEFERRED")?;
            let r = f(&PushReader { c });
            // A read transaction has nothing to keep: end it either way.
            let end = c.execute_batch("COMMIT");
            let v = r?;
            end?;
            Ok(v)
        })
    }
}

fn destination_row(
    c: &Connection,
    destination: &str,
    machine: &str,
) -> Result<Option<Destination>> {
    Ok(c.query_row(
        "SELECT usage_id, tool_call_id, change_seq, pushed_at_ms IS NOT NULL
             FROM push_destinations WHERE destination = ?1 AND machine = ?2",
        params![destination, machine],
        |r| {
            Ok(Destination {
                cursor: Cursor {
                    usage_id: r.get(0)?,
                    tool_call_id: r.get(1)?,
                    change_seq: r.get(2)?,
                },
                committed: r.get(3)?,
            })
        },
    )
    .optional()?)
}

/// Streams the rows of one push, table by table (see [`Store::push_read`]).
pub struct PushReader<'c> {
    c: &'c Connection,
}

/// The rows of `table` (alias `t`, rowid `t.id`) a push of `range` sends: new ones by id,
/// older ones that changed by the log. The two halves never overlap.
fn rows_of(kind: &str, range: &Range) -> String {
    if range.full {
        "t.id <= ?2".to_owned()
    } else {
        format!(
            "((t.id > ?1 AND t.id <= ?2) OR (t.id <= ?1 AND t.id IN
                (SELECT row_id FROM push_changes WHERE kind = '{kind}' AND seq > ?3 AND seq <= ?4)))"
        )
    }
}

fn opt_str<'a>(r: &'a Row<'_>, i: usize) -> rusqlite::Result<Option<&'a str>> {
    match r.get_ref(i)? {
        ValueRef::Null => Ok(None),
        v => Ok(Some(v.as_str()?)),
    }
}

fn text<'a>(r: &'a Row<'_>, i: usize) -> rusqlite::Result<&'a str> {
    Ok(r.get_ref(i)?.as_str()?)
}

/// `range`'s bounds for one table, in the order [`rows_of`] numbers them.
fn bounds(range: &Range, calls: bool) -> [i64; 4] {
    let (lo, hi) = if calls {
        (range.from.tool_call_id, range.to.tool_call_id)
    } else {
        (range.from.usage_id, range.to.usage_id)
    };
    [lo, hi, range.from.change_seq, range.to.change_seq]
}

/// The analyses this push sends: all when full, else those added or changed.
fn analysis_filter(range: &Range, col: &str) -> String {
    if range.full {
        "1".to_owned()
    } else {
        format!(
            "{col} IN (SELECT analysis_id FROM push_changes WHERE kind = 'analysis' AND seq > ?3 AND seq <= ?4)"
        )
    }
}

impl PushReader<'_> {
    /// Run `sql` with the first of `binds` that it numbers (SQLite takes every parameter up to
    /// the highest one a statement names, used or not), calling `f` per row.
    fn each(
        &self,
        sql: &str,
        binds: &[i64],
        mut f: impl FnMut(&Row<'_>) -> Result<()>,
    ) -> Result<u64> {
        let mut st = self.c.prepare(sql)?;
        let n = st.parameter_count().min(binds.len());
        let mut rows = st.query(rusqlite::params_from_iter(&binds[..n]))?;
        let mut count = 0;
        while let Some(r) = rows.next()? {
            f(r)?;
            count += 1;
        }
        Ok(count)
    }

    pub fn usage(
        &self,
        range: &Range,
        mut f: impl FnMut(&UsageRow<'_>) -> Result<()>,
    ) -> Result<u64> {
        let sql = format!(
            "SELECT dedup_key, tool, session_id, ts_ms, model, input_tokens, cache_creation_tokens,
                    cache_creation_5m_tokens, cache_creation_1h_tokens, cache_read_tokens, output_tokens,
                    reasoning_tokens, sidechain, priced, cost_nusd
             FROM usage_events t WHERE {} ORDER BY t.id",
            rows_of("usage", range)
        );
        self.each(&sql, &bounds(range, false), |r| {
            f(&UsageRow {
                dedup_key: text(r, 0)?,
                tool: text(r, 1)?,
                session_id: text(r, 2)?,
                ts_ms: r.get(3)?,
                model: opt_str(r, 4)?,
                tokens: super::sessions::tokens_at(r, 5)?,
                sidechain: r.get::<_, i64>(12)? != 0,
                priced: r.get::<_, i64>(13)? != 0,
                cost_nusd: r.get(14)?,
            })
        })
    }

    pub fn tool_calls(
        &self,
        range: &Range,
        mut f: impl FnMut(&ToolCallRow<'_>) -> Result<()>,
    ) -> Result<u64> {
        let sql = format!(
            "SELECT t.tool, t.scope, t.call_id, t.session_id, t.name, t.called_at_ms, t.result_at_ms,
                    t.failed, t.duration_ms, t.file_path, s.project
             FROM tool_calls t LEFT JOIN sessions s ON s.tool = t.tool AND s.session_id = t.session_id
             WHERE {} ORDER BY t.id",
            rows_of("tool_call", range)
        );
        self.each(&sql, &bounds(range, true), |r| {
            f(&ToolCallRow {
                tool: text(r, 0)?,
                scope: text(r, 1)?,
                call_id: text(r, 2)?,
                session_id: text(r, 3)?,
                name: opt_str(r, 4)?,
                called_at_ms: r.get(5)?,
                result_at_ms: r.get(6)?,
                failed: r.get::<_, Option<i64>>(7)?.map(|v| v != 0),
                duration_ms: r.get(8)?,
                file_path: opt_str(r, 9)?,
                project_dir: opt_str(r, 10)?,
            })
        })
    }

    /// The sessions of the responses and calls this push sends (every session when full).
    pub fn sessions(
        &self,
        range: &Range,
        mut f: impl FnMut(&SessionRow<'_>) -> Result<()>,
    ) -> Result<u64> {
        let sql = if range.full {
            "SELECT tool, session_id, project, first_ts_ms, last_ts_ms FROM sessions ORDER BY tool, session_id"
                .to_owned()
        } else {
            // Each half numbers its table's bounds ?1..?4: the tool-call half is moved to ?5..?8.
            let calls = rows_of("tool_call", range)
                .replace("?1", "?5")
                .replace("?2", "?6")
                .replace("?3", "?7")
                .replace("?4", "?8");
            format!(
                "SELECT tool, session_id, project, first_ts_ms, last_ts_ms FROM sessions
                 WHERE (tool, session_id) IN (
                     SELECT tool, session_id FROM usage_events t WHERE {}
                     UNION SELECT tool, session_id FROM tool_calls t WHERE {calls})
                 ORDER BY tool, session_id",
                rows_of("usage", range)
            )
        };
        let mut binds = bounds(range, false).to_vec();
        binds.extend(bounds(range, true));
        self.each(&sql, &binds, |r| {
            f(&SessionRow {
                tool: text(r, 0)?,
                session_id: text(r, 1)?,
                project_dir: opt_str(r, 2)?,
                first_ts_ms: r.get(3)?,
                last_ts_ms: r.get(4)?,
            })
        })
    }

    pub fn analyses(
        &self,
        range: &Range,
        mut f: impl FnMut(&AnalysisRow<'_>) -> Result<()>,
    ) -> Result<u64> {
        let sql = format!(
            "SELECT id, source_id, pass, status, tool, model, started_at, completed_at, tokens_in, tokens_out,
                    total_tokens, cost_usd, stages_json, notes, claims_extracted, claims_updated, tokens_baseline,
                    tokens_final, tokens_check, usage_provider, usage_mode, usage_session_id, inputs_source_ids,
                    inputs_analysis_ids
             FROM analysis_logs WHERE {} ORDER BY year, seq",
            analysis_filter(range, "id")
        );
        self.each(&sql, &bounds(range, false), |r| {
            f(&AnalysisRow {
                id: text(r, 0)?,
                source_id: text(r, 1)?,
                pass: opt_str(r, 2)?,
                status: text(r, 3)?,
                tool: text(r, 4)?,
                model: opt_str(r, 5)?,
                started_at: opt_str(r, 6)?,
                completed_at: opt_str(r, 7)?,
                tokens_in: r.get(8)?,
                tokens_out: r.get(9)?,
                total_tokens: r.get(10)?,
                cost_usd: r.get(11)?,
                stages_json: text(r, 12)?,
                notes: opt_str(r, 13)?,
                claims_extracted: r.get(14)?,
                claims_updated: r.get(15)?,
                tokens_baseline: r.get(16)?,
                tokens_final: r.get(17)?,
                tokens_check: r.get(18)?,
                usage_provider: opt_str(r, 19)?,
                usage_mode: opt_str(r, 20)?,
                usage_session_id: opt_str(r, 21)?,
                inputs_source_ids: opt_str(r, 22)?,
                inputs_analysis_ids: opt_str(r, 23)?,
            })
        })
    }

    pub fn analysis_usage(
        &self,
        range: &Range,
        mut f: impl FnMut(&AnalysisUsageRow<'_>) -> Result<()>,
    ) -> Result<u64> {
        let sql = format!(
            "SELECT analysis_id, model, input_tokens, cache_creation_tokens, cache_creation_5m_tokens,
                    cache_creation_1h_tokens, cache_read_tokens, output_tokens, reasoning_tokens, cost_nusd,
                    unpriced
             FROM analysis_usage WHERE {} ORDER BY analysis_id, model",
            analysis_filter(range, "analysis_id")
        );
        self.each(&sql, &bounds(range, false), |r| {
            f(&AnalysisUsageRow {
                analysis_id: text(r, 0)?,
                model: text(r, 1)?,
                tokens: super::sessions::tokens_at(r, 2)?,
                cost_nusd: r.get(9)?,
                unpriced: r.get(10)?,
            })
        })
    }

    pub fn snapshots(
        &self,
        range: &Range,
        mut f: impl FnMut(&SnapshotRow<'_>) -> Result<()>,
    ) -> Result<u64> {
        let sql = format!(
            "SELECT analysis_id, seq, kind, stage, at, tool, session_id, settled, usage_json
             FROM analysis_snapshots WHERE {} ORDER BY analysis_id, seq",
            analysis_filter(range, "analysis_id")
        );
        self.each(&sql, &bounds(range, false), |r| {
            f(&SnapshotRow {
                analysis_id: text(r, 0)?,
                seq: r.get(1)?,
                kind: text(r, 2)?,
                stage: opt_str(r, 3)?,
                at: text(r, 4)?,
                tool: text(r, 5)?,
                session_id: text(r, 6)?,
                settled: r.get::<_, i64>(7)? != 0,
                usage_json: text(r, 8)?,
            })
        })
    }
}
