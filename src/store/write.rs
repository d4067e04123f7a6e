//! What ingest writes: file records, usage, tool calls, compactions, sessions.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::Result;
use rusqlite::{OptionalExtension, Statement, ToSql, Transaction, params, params_from_iter};
use rustc_hash::FxHashMap;

use super::{Store, token_params};
use crate::agents::Agent;
use crate::usage::{Compaction, SessionInfo, Tokens, ToolCall, UsageEvent};

/// How far a transcript file was read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileRecord {
    pub id: i64,
    pub path: PathBuf,
    pub tool: String,
    pub session_id: Option<String>,
    pub size: i64,
    pub mtime_ns: i64,
    pub consumed: i64,
    pub head_hash: i64,
    pub tail_hash: i64,
    pub parser_version: i64,
    pub parser_state: Option<String>,
}

/// A file record to save after a read (the id is assigned on first save).
#[derive(Clone, Debug)]
pub struct FileUpdate<'a> {
    pub path: &'a str,
    pub tool: Agent,
    pub session_id: Option<&'a str>,
    pub size: i64,
    pub mtime_ns: i64,
    pub consumed: i64,
    pub head_hash: i64,
    pub tail_hash: i64,
    pub parser_version: i64,
    pub parser_state: Option<&'a str>,
    pub read_at_ms: i64,
}

const FILE_COLUMNS: &str = "id, path, tool, session_id, size, mtime_ns, consumed, head_hash, tail_hash, parser_version, parser_state";

/// Up to this many files are looked up one by one.
const FEW_FILES: usize = 512;

fn file_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<FileRecord> {
    Ok(FileRecord {
        id: r.get(0)?,
        path: PathBuf::from(r.get::<_, String>(1)?),
        tool: r.get(2)?,
        session_id: r.get(3)?,
        size: r.get(4)?,
        mtime_ns: r.get(5)?,
        consumed: r.get(6)?,
        head_hash: r.get(7)?,
        tail_hash: r.get(8)?,
        parser_version: r.get(9)?,
        parser_state: r.get(10)?,
    })
}

impl Store {
    /// Every file record, by path (one query; ingest decides per file what to read).
    pub fn files(&self) -> Result<HashMap<PathBuf, FileRecord>> {
        self.read(|c| {
            let mut st = c.prepare(&format!("SELECT {FILE_COLUMNS} FROM source_files"))?;
            let rows = st.query_map([], file_row)?;
            let mut out = HashMap::new();
            for r in rows {
                let r = r?;
                out.insert(r.path.clone(), r);
            }
            Ok(out)
        })
    }

    /// The records of these files (those the ledger knows): one lookup each for a few, one
    /// scan of the table for many (a session's read must not cost what the history does).
    pub fn files_of<'p>(
        &self,
        paths: impl IntoIterator<Item = &'p Path>,
    ) -> Result<HashMap<PathBuf, FileRecord>> {
        let paths: Vec<&Path> = paths.into_iter().collect();
        if paths.len() > FEW_FILES {
            return self.files();
        }
        self.read(|c| {
            let mut st = c.prepare_cached(&format!(
                "SELECT {FILE_COLUMNS} FROM source_files WHERE path = ?1"
            ))?;
            let mut out = HashMap::new();
            for p in paths {
                let Some(key) = p.to_str() else { continue };
                if let Some(r) = st.query_row([key], file_row).optional()? {
                    out.insert(r.path.clone(), r);
                }
            }
            Ok(out)
        })
    }

    /// The record of one file, if the ledger knows it.
    pub fn file(&self, path: &Path) -> Result<Option<FileRecord>> {
        Ok(self.files_of([path])?.remove(path))
    }

    /// The files known to belong to one session.
    pub fn session_files(&self, tool: Agent, session_id: &str) -> Result<Vec<FileRecord>> {
        self.read(|c| {
            let mut st = c.prepare(&format!(
                "SELECT {FILE_COLUMNS} FROM source_files WHERE tool = ?1 AND session_id = ?2 ORDER BY path"
            ))?;
            let rows = st.query_map(params![tool.as_str(), session_id], file_row)?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }
}

/// A response whose cost is still to be computed.
#[derive(Clone, Debug)]
pub struct Unpriced {
    pub rowid: i64,
    pub tool: String,
    pub model: Option<String>,
    pub tokens: crate::usage::Tokens,
    pub speed: Option<String>,
    pub ts_ms: Option<i64>,
}

const UNPRICED_COLUMNS: &str =
    "id, tool, model, input_tokens, cache_creation_tokens, cache_creation_5m_tokens,
    cache_creation_1h_tokens, cache_read_tokens, output_tokens, reasoning_tokens, speed, ts_ms";

fn unpriced_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Unpriced> {
    Ok(Unpriced {
        rowid: r.get(0)?,
        tool: r.get(1)?,
        model: r.get(2)?,
        tokens: crate::store::sessions::tokens_at(r, 3)?,
        speed: r.get(10)?,
        ts_ms: r.get(11)?,
    })
}

impl Store {
    /// Responses not priced yet, of one session or of all.
    pub fn unpriced(&self, session: Option<(Agent, &str)>) -> Result<Vec<Unpriced>> {
        self.read(|c| {
            // Two statements: `?1 IS NULL OR tool = ?1` would keep SQLite from the session
            // index, and a session's pricing (every statusline) would scan every response.
            let rows = match session {
                Some((tool, id)) => {
                    let mut st = c.prepare_cached(&format!(
                        "SELECT {UNPRICED_COLUMNS} FROM usage_events
                         WHERE tool = ?1 AND session_id = ?2 AND priced = 0"
                    ))?;
                    st.query_map(params![tool.as_str(), id], unpriced_row)?
                        .collect::<rusqlite::Result<Vec<_>>>()?
                }
                None => {
                    let mut st = c.prepare_cached(&format!(
                        "SELECT {UNPRICED_COLUMNS} FROM usage_events WHERE priced = 0"
                    ))?;
                    st.query_map([], unpriced_row)?
                        .collect::<rusqlite::Result<Vec<_>>>()?
                }
            };
            Ok(rows)
        })
    }

    /// Responses not priced yet timed in `[since_ms, until_ms)` (by the time index).
    pub fn unpriced_between(&self, since_ms: i64, until_ms: i64) -> Result<Vec<Unpriced>> {
        self.read(|c| {
            let mut st = c.prepare(&format!(
                "SELECT {UNPRICED_COLUMNS} FROM usage_events INDEXED BY usage_events_time
                 WHERE ts_ms >= ?1 AND ts_ms < ?2 AND priced = 0"
            ))?;
            let rows = st.query_map(params![since_ms, until_ms], unpriced_row)?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    /// Record computed costs (`None`: the model has no price) of responses not priced yet,
    /// and move them from `pending` to priced in the running totals.
    pub fn set_costs(&mut self, costs: &[(i64, Option<i64>)], source: i64) -> Result<()> {
        if costs.is_empty() {
            return Ok(());
        }
        self.write(|tx| {
            // Another source's prices among this one's: no single source priced every row.
            tx.execute(
                "DELETE FROM ledger_meta WHERE key = 'prices_all' AND value IS NOT CAST(?1 AS TEXT)",
                [source],
            )?;
            // `priced = 0`: a response priced meanwhile by another process is left alone.
            let mut st = tx.prepare(
                "UPDATE usage_events SET priced = 1, cost_nusd = ?2, price_source = ?3
                 WHERE id = ?1 AND priced = 0
                 RETURNING tool, session_id, coalesce(model, ''), ts_ms",
            )?;
            // The running totals and the rollup change once per (session, model[, slot]),
            // not once per response: pricing a whole history is ~300k responses.
            let mut totals: HashMap<(String, String, String), (i64, i64, i64)> = HashMap::new();
            let mut slots = super::rollup::SlotDeltas::default();
            for (id, cost) in costs {
                let row = st
                    .query_row(params![id, cost, source], |r| {
                        Ok((
                            r.get::<_, String>(0)?,
                            r.get::<_, String>(1)?,
                            r.get::<_, String>(2)?,
                            r.get::<_, Option<i64>>(3)?,
                        ))
                    })
                    .optional()?;
                if let Some((tool, session, model, ts_ms)) = row {
                    let change = (cost.unwrap_or(0), i64::from(cost.is_none()), -1);
                    let slot = super::rollup::slot_of(ts_ms);
                    slots.priced(&tool, &session, &model, slot, change);
                    let t = totals.entry((tool, session, model)).or_default();
                    t.0 = t.0.saturating_add(change.0);
                    t.1 += change.1;
                    t.2 += change.2;
                }
            }
            let mut add = tx.prepare(
                "UPDATE session_usage SET cost_nusd = cost_nusd + ?4, unpriced = unpriced + ?5,
                     pending = pending + ?6
                 WHERE tool = ?1 AND session_id = ?2 AND model = ?3",
            )?;
            for ((tool, session, model), (cost, unpriced, pending)) in &totals {
                add.execute(params![tool, session, model, cost, unpriced, pending])?;
            }
            slots.write(tx)?;
            Ok(())
        })
    }
}

impl Store {
    /// One ingest transaction: `f` writes through an [`IngestTx`], and the running totals
    /// it changed are written before the commit.
    pub fn ingest<T>(&mut self, f: impl FnOnce(&mut IngestTx<'_>) -> Result<T>) -> Result<T> {
        let source = self.read_price_source;
        self.write(|tx| {
            let mut w = IngestTx::new(tx, source)?;
            let v = f(&mut w)?;
            w.finish()?;
            Ok(v)
        })
    }
}

/// Writes of one ingest transaction, through statements prepared once for it.
pub struct IngestTx<'t> {
    save_file: Statement<'t>,
    insert_usage: Statement<'t>,
    find_usage: Statement<'t>,
    update_usage: Statement<'t>,
    add_totals: Statement<'t>,
    /// Running-total changes of this transaction, by (tool, session, model); written by
    /// [`IngestTx::finish`]. Kept here rather than by triggers: a trigger's upsert per
    /// response, and the statement journal it needs, made a first read ~15% slower.
    totals: FxHashMap<String, Vec<(Agent, String, TotalsDelta)>>,
    insert_tool_call: Statement<'t>,
    merge_tool_call: Statement<'t>,
    add_compaction: Statement<'t>,
    touch_session: Statement<'t>,
    /// The prices that priced this read's responses as they were parsed, if any did.
    price_source: Option<i64>,
    /// Rollup (issue #18): the same changes per quarter hour, for `usage_slots`.
    slots: super::rollup::SlotDeltas,
    tx: &'t Transaction<'t>,
}

const SAVE_FILE: &str = "INSERT INTO source_files(path, tool, session_id, size, mtime_ns, consumed, head_hash, tail_hash,
                                      parser_version, parser_state, read_at_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
             ON CONFLICT(path) DO UPDATE SET tool = excluded.tool,
                 session_id = coalesce(excluded.session_id, session_id), size = excluded.size,
                 mtime_ns = excluded.mtime_ns, consumed = excluded.consumed, head_hash = excluded.head_hash,
                 tail_hash = excluded.tail_hash, parser_version = excluded.parser_version,
                 parser_state = excluded.parser_state, read_at_ms = excluded.read_at_ms
             RETURNING id";

/// A new response (the common case in any read): a plain insert that does nothing when a
/// copy is already stored; the copy is then merged in Rust ([`UsageEvent::merge`]).
const INSERT_USAGE: &str = "INSERT INTO usage_events(dedup_key, tool, session_id, request_id, ts_ms, model, input_tokens,
                 cache_creation_tokens, cache_creation_5m_tokens, cache_creation_1h_tokens, cache_read_tokens,
                 output_tokens, reasoning_tokens, sidechain, speed, file_id, priced, cost_nusd, price_source)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,
                     CASE WHEN ?17 THEN ?19 END)
             ON CONFLICT(dedup_key) DO NOTHING";

const FIND_USAGE: &str = "SELECT id, session_id, request_id, ts_ms, model, input_tokens, cache_creation_tokens,
                 cache_creation_5m_tokens, cache_creation_1h_tokens, cache_read_tokens, output_tokens,
                 reasoning_tokens, sidechain, speed, priced, cost_nusd
             FROM usage_events WHERE dedup_key = ?1";

const UPDATE_USAGE: &str =
    "UPDATE usage_events SET session_id = ?2, request_id = ?3, ts_ms = ?4, model = ?5,
                 input_tokens = ?6, cache_creation_tokens = ?7, cache_creation_5m_tokens = ?8,
                 cache_creation_1h_tokens = ?9, cache_read_tokens = ?10, output_tokens = ?11,
                 reasoning_tokens = ?12, sidechain = ?13, speed = ?14, priced = ?15, cost_nusd = ?16,
                 price_source = CASE WHEN ?15 THEN coalesce(?17, price_source) END
             WHERE id = ?1";

/// Add a transaction's changes to the running totals (one row per session and model touched).
const ADD_TOTALS: &str = concat!(
    "INSERT INTO session_usage VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
             ON CONFLICT DO UPDATE SET ",
    super::added_sums!()
);

/// Two copies under one key whose request ids both exist and differ, neither a sidechain
/// replay, are different responses (the second is kept under `key:request_id`).
fn same_response(stored: &UsageEvent, e: &UsageEvent) -> bool {
    stored.sidechain
        || e.sidechain
        || match (&stored.request_id, &e.request_id) {
            (Some(a), Some(b)) => a == b,
            _ => true,
        }
}

/// What a transaction adds to one `session_usage` row (negative when a merge moves a
/// response away from it).
#[derive(Clone, Copy, Debug, Default)]
struct TotalsDelta {
    tokens: Tokens,
    cost_nusd: i64,
    unpriced: i64,
    pending: i64,
}

/// A call not stored yet (the common case in any read): a plain insert that does nothing
/// when its key is taken. Without an UPDATE part it needs no statement journal: an upsert's
/// DO UPDATE carries `tool_calls`' UPDATE trigger (migration 9's push log), and a statement
/// that may fire a trigger copies every page it first touches into a statement journal
/// (that copying was a quarter of a first read's writer instructions).
const INSERT_TOOL_CALL: &str = "INSERT INTO tool_calls(tool, scope, call_id, session_id, name, called_at_ms, result_at_ms,
                                        failed, duration_ms, file_path, response_key, command, agent_id, program)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)
                 ON CONFLICT(call_id, scope, tool) DO NOTHING";

/// A later half or copy of a stored call, folded in as [`ToolCall::merge`] does (the session
/// stays the first copy's). It takes the insert's parameters; `?4`, the session, is unused.
const MERGE_TOOL_CALL: &str = "UPDATE tool_calls SET
                     name = coalesce(name, ?5),
                     called_at_ms = coalesce(min(called_at_ms, ?6), called_at_ms, ?6),
                     result_at_ms = coalesce(?7, result_at_ms),
                     failed = coalesce(?8, failed),
                     duration_ms = coalesce(?9, duration_ms),
                     file_path = coalesce(file_path, ?10),
                     response_key = coalesce(response_key, ?11),
                     command = coalesce(command, ?12),
                     agent_id = coalesce(agent_id, ?13),
                     program = coalesce(program, ?14)
                 WHERE call_id = ?3 AND scope = ?2 AND tool = ?1";

const ADD_COMPACTION: &str = "INSERT OR IGNORE INTO compactions(dedup_key, tool, session_id, kind, at_ms, trigger, pre_tokens)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";

const TOUCH_SESSION: &str = "INSERT INTO sessions(tool, session_id, path, project, git_branch, cli_version, first_ts_ms,
                                      last_ts_ms, last_modified_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                 ON CONFLICT(tool, session_id) DO UPDATE SET
                     path = CASE WHEN ?10 THEN excluded.path ELSE coalesce(path, excluded.path) END,
                     project = coalesce(excluded.project, project),
                     git_branch = coalesce(excluded.git_branch, git_branch),
                     cli_version = coalesce(excluded.cli_version, cli_version),
                     first_ts_ms = coalesce(min(first_ts_ms, excluded.first_ts_ms), first_ts_ms, excluded.first_ts_ms),
                     last_ts_ms = coalesce(max(last_ts_ms, excluded.last_ts_ms), last_ts_ms, excluded.last_ts_ms),
                     last_modified_ms = max(last_modified_ms, excluded.last_modified_ms)";

impl<'t> IngestTx<'t> {
    fn new(tx: &'t Transaction<'t>, price_source: Option<i64>) -> Result<Self> {
        Ok(IngestTx {
            price_source,
            slots: super::rollup::SlotDeltas::default(),
            tx,
            save_file: tx.prepare(SAVE_FILE)?,
            insert_usage: tx.prepare(INSERT_USAGE)?,
            find_usage: tx.prepare(FIND_USAGE)?,
            update_usage: tx.prepare(UPDATE_USAGE)?,
            add_totals: tx.prepare(ADD_TOTALS)?,
            totals: FxHashMap::default(),
            insert_tool_call: tx.prepare(INSERT_TOOL_CALL)?,
            merge_tool_call: tx.prepare(MERGE_TOOL_CALL)?,
            add_compaction: tx.prepare(ADD_COMPACTION)?,
            touch_session: tx.prepare(TOUCH_SESSION)?,
        })
    }

    pub fn save_file(&mut self, f: &FileUpdate<'_>) -> Result<i64> {
        let id: i64 = self.save_file.query_row(
            params![
                f.path,
                f.tool.as_str(),
                f.session_id,
                f.size,
                f.mtime_ns,
                f.consumed,
                f.head_hash,
                f.tail_hash,
                f.parser_version,
                f.parser_state,
                f.read_at_ms
            ],
            |r| r.get(0),
        )?;
        Ok(id)
    }

    /// Store a response, or merge it into the stored copy of the same response.
    pub fn add_usage(&mut self, tool: Agent, file_id: i64, e: &UsageEvent) -> Result<()> {
        if self.insert_new(tool, file_id, &e.dedup_key, e)? {
            return Ok(());
        }
        let Some((id, old)) = self.find(&e.dedup_key)? else {
            return Ok(());
        };
        if same_response(&old, e) {
            return self.merge(tool, id, &old, e);
        }
        let key = format!(
            "{}:{}",
            e.dedup_key,
            e.request_id.as_deref().unwrap_or_default()
        );
        if self.insert_new(tool, file_id, &key, e)? {
            return Ok(());
        }
        match self.find(&key)? {
            Some((id, old)) if same_response(&old, e) => self.merge(tool, id, &old, e),
            _ => Ok(()),
        }
    }

    /// Insert `e` under `key` unless that key is taken; true when inserted.
    fn insert_new(&mut self, tool: Agent, file_id: i64, key: &str, e: &UsageEvent) -> Result<bool> {
        let (tool_name, head) = (tool.as_str(), &e.tokens);
        let before: [&dyn ToSql; 6] = [
            &key,
            &tool_name,
            &e.session_id,
            &e.request_id,
            &e.timestamp_ms,
            &e.model,
        ];
        let after: [&dyn ToSql; 6] = [
            &e.sidechain,
            &e.speed,
            &file_id,
            &e.priced,
            &e.cost_nusd,
            &self.price_source,
        ];
        let n = self.insert_usage.execute(params_from_iter(
            before.into_iter().chain(token_params(head)).chain(after),
        ))?;
        if n == 1 {
            self.count(tool, e, 1);
            self.slots.count(tool.as_str(), e, 1);
        }
        Ok(n == 1)
    }

    fn find(&mut self, key: &str) -> Result<Option<(i64, UsageEvent)>> {
        let row = self
            .find_usage
            .query_row([key], |r| {
                Ok((
                    r.get(0)?,
                    UsageEvent {
                        dedup_key: key.to_owned(),
                        session_id: r.get(1)?,
                        request_id: r.get(2)?,
                        timestamp_ms: r.get(3)?,
                        model: r.get(4)?,
                        tokens: super::sessions::tokens_at(r, 5)?,
                        sidechain: r.get(12)?,
                        speed: r.get(13)?,
                        priced: r.get(14)?,
                        cost_nusd: r.get(15)?,
                    },
                ))
            })
            .optional()?;
        Ok(row)
    }

    fn merge(&mut self, tool: Agent, id: i64, old: &UsageEvent, e: &UsageEvent) -> Result<()> {
        let mut new = old.clone();
        new.merge(e);
        if new == *old {
            return Ok(());
        }
        let before: [&dyn ToSql; 5] = [
            &id,
            &new.session_id,
            &new.request_id,
            &new.timestamp_ms,
            &new.model,
        ];
        let after: [&dyn ToSql; 5] = [
            &new.sidechain,
            &new.speed,
            &new.priced,
            &new.cost_nusd,
            &self.price_source,
        ];
        self.update_usage.execute(params_from_iter(
            before
                .into_iter()
                .chain(token_params(&new.tokens))
                .chain(after),
        ))?;
        self.count(tool, old, -1);
        self.count(tool, &new, 1);
        self.slots.moved(tool.as_str(), old, &new);
        Ok(())
    }

    /// Add (`sign` 1) or take out (−1) a response's share of its session's running totals.
    fn count(&mut self, tool: Agent, u: &UsageEvent, sign: i64) {
        let model = u.model.as_deref().unwrap_or_default();
        // Keyed by session so the common case (a row of a session already touched) looks up
        // without allocating.
        if !self.totals.contains_key(&u.session_id) {
            self.totals.insert(u.session_id.clone(), Vec::new());
        }
        let rows = self.totals.get_mut(&u.session_id).expect("inserted above");
        let i = match rows.iter().position(|(t, m, _)| *t == tool && m == model) {
            Some(i) => i,
            None => {
                rows.push((tool, model.to_owned(), TotalsDelta::default()));
                rows.len() - 1
            }
        };
        let d = &mut rows[i].2;
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
    }

    /// Write the running totals this transaction changed (before it commits).
    fn finish(mut self) -> Result<()> {
        let totals = std::mem::take(&mut self.totals);
        for (session, rows) in &totals {
            for (tool, model, d) in rows {
                let tool_name = tool.as_str();
                let key: [&dyn ToSql; 3] = [&tool_name, session, model];
                let counts: [&dyn ToSql; 3] = [&d.cost_nusd, &d.unpriced, &d.pending];
                self.add_totals.execute(params_from_iter(
                    key.into_iter().chain(token_params(&d.tokens)).chain(counts),
                ))?;
            }
        }
        self.slots.write(self.tx)?;
        Ok(())
    }

    /// Store a call, or fold it into the stored copy of the same call.
    pub fn add_tool_call(&mut self, tool: Agent, c: &ToolCall) -> Result<()> {
        let tool_name = tool.as_str();
        let p: [&dyn ToSql; 14] = [
            &tool_name,
            &c.scope,
            &c.call_id,
            &c.session_id,
            &c.name,
            &c.called_at_ms,
            &c.result_at_ms,
            &c.failed,
            &c.duration_ms,
            &c.file_path,
            &c.response_key,
            &c.command,
            &c.agent_id,
            &c.program,
        ];
        if self.insert_tool_call.execute(p.as_slice())? == 0 {
            self.merge_tool_call.execute(p.as_slice())?;
        }
        Ok(())
    }

    pub fn add_compaction(&mut self, tool: Agent, c: &Compaction) -> Result<()> {
        self.add_compaction.execute(params![
            c.dedup_key,
            tool.as_str(),
            c.session_id,
            c.kind,
            c.at_ms,
            c.trigger,
            c.pre_tokens
        ])?;
        Ok(())
    }

    /// Record what a file says about its session. `main_path` is set when the file is the
    /// session's active main transcript (its path then wins over any other).
    pub fn touch_session(
        &mut self,
        tool: Agent,
        info: &SessionInfo,
        path: &str,
        main_path: bool,
        mtime_ms: i64,
    ) -> Result<()> {
        self.touch_session.execute(params![
            tool.as_str(),
            info.session_id,
            path,
            info.cwd,
            info.git_branch,
            info.cli_version,
            info.first_ts_ms,
            info.last_ts_ms,
            mtime_ms,
            main_path
        ])?;
        Ok(())
    }
}
