//! What ingest writes: file records, usage, tool calls, compactions, sessions.

use std::collections::HashMap;
use std::path::PathBuf;

use anyhow::Result;
use rusqlite::{Statement, Transaction, params};

use super::Store;
use crate::usage::{Compaction, SessionInfo, Tool, ToolCall, UsageEvent};

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
    pub tool: Tool,
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

    /// The files known to belong to one session.
    pub fn session_files(&self, tool: Tool, session_id: &str) -> Result<Vec<FileRecord>> {
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

impl Store {
    /// Responses not priced yet, of one session or of all.
    pub fn unpriced(&self, session: Option<(Tool, &str)>) -> Result<Vec<Unpriced>> {
        self.read(|c| {
            let mut st = c.prepare(
                "SELECT id, tool, model, input_tokens, cache_creation_tokens, cache_creation_5m_tokens,
                        cache_creation_1h_tokens, cache_read_tokens, output_tokens, reasoning_tokens, speed, ts_ms
                 FROM usage_events WHERE priced = 0 AND (?1 IS NULL OR (tool = ?1 AND session_id = ?2))",
            )?;
            let (tool, id) = session.map_or((None, None), |(t, s)| (Some(t.as_str()), Some(s)));
            let rows = st.query_map(params![tool, id], |r| {
                Ok(Unpriced {
                    rowid: r.get(0)?,
                    tool: r.get(1)?,
                    model: r.get(2)?,
                    tokens: crate::store::sessions::tokens_at(r, 3)?,
                    speed: r.get(10)?,
                    ts_ms: r.get(11)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    /// Record computed costs (`None`: the model has no price).
    pub fn set_costs(&mut self, costs: &[(i64, Option<i64>)]) -> Result<()> {
        if costs.is_empty() {
            return Ok(());
        }
        self.write(|tx| {
            let mut st =
                tx.prepare("UPDATE usage_events SET priced = 1, cost_nusd = ?2 WHERE id = ?1")?;
            for (id, cost) in costs {
                st.execute(params![id, cost])?;
            }
            Ok(())
        })
    }
}

/// Writes of one ingest transaction, through statements prepared once for it.
pub struct IngestTx<'t> {
    save_file: Statement<'t>,
    add_usage: Statement<'t>,
    add_tool_call: Statement<'t>,
    add_compaction: Statement<'t>,
    touch_session: Statement<'t>,
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

/// Insert a response, or merge it into an earlier copy of the same response: each counter
/// keeps its maximum (never a sum), the earliest time stays, and a main-thread copy takes
/// over a sidechain replay. Two copies under one key whose request ids both exist and
/// differ, neither a sidechain, are different responses: the caller then keeps the second
/// under `key:request_id`.
const ADD_USAGE: &str = "INSERT INTO usage_events(dedup_key, tool, session_id, request_id, ts_ms, model, input_tokens,
                 cache_creation_tokens, cache_creation_5m_tokens, cache_creation_1h_tokens, cache_read_tokens,
                 output_tokens, reasoning_tokens, sidechain, speed, file_id, priced, cost_nusd)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)
             ON CONFLICT(dedup_key) DO UPDATE SET
                 -- A copy read without prices leaves the row to be priced again (its
                 -- counts may have grown); two priced copies keep the dearer one's cost.
                 cost_nusd = CASE WHEN priced = 0 OR excluded.priced = 0 THEN NULL
                                  WHEN cost_nusd IS NULL THEN excluded.cost_nusd
                                  WHEN excluded.cost_nusd IS NULL THEN cost_nusd
                                  ELSE max(cost_nusd, excluded.cost_nusd) END,
                 priced = min(priced, excluded.priced),
                 input_tokens = max(input_tokens, excluded.input_tokens),
                 cache_creation_tokens = max(cache_creation_tokens, excluded.cache_creation_tokens),
                 cache_creation_5m_tokens = max(cache_creation_5m_tokens, excluded.cache_creation_5m_tokens),
                 cache_creation_1h_tokens = max(cache_creation_1h_tokens, excluded.cache_creation_1h_tokens),
                 cache_read_tokens = max(cache_read_tokens, excluded.cache_read_tokens),
                 output_tokens = max(output_tokens, excluded.output_tokens),
                 reasoning_tokens = max(reasoning_tokens, excluded.reasoning_tokens),
                 ts_ms = coalesce(min(ts_ms, excluded.ts_ms), ts_ms, excluded.ts_ms),
                 model = coalesce(model, excluded.model),
                 speed = coalesce(excluded.speed, speed),
                 request_id = coalesce(request_id, excluded.request_id),
                 session_id = CASE WHEN sidechain = 1 AND excluded.sidechain = 0
                                   THEN excluded.session_id ELSE session_id END,
                 sidechain = min(sidechain, excluded.sidechain)
             WHERE sidechain = 1 OR excluded.sidechain = 1 OR request_id IS NULL
                OR excluded.request_id IS NULL OR request_id = excluded.request_id";

const ADD_TOOL_CALL: &str = "INSERT INTO tool_calls(tool, scope, call_id, session_id, name, called_at_ms, result_at_ms,
                                        failed, duration_ms, file_path)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
                 ON CONFLICT(tool, scope, call_id) DO UPDATE SET
                     name = coalesce(name, excluded.name),
                     called_at_ms = coalesce(min(called_at_ms, excluded.called_at_ms), called_at_ms, excluded.called_at_ms),
                     result_at_ms = coalesce(excluded.result_at_ms, result_at_ms),
                     failed = coalesce(excluded.failed, failed),
                     duration_ms = coalesce(excluded.duration_ms, duration_ms),
                     file_path = coalesce(file_path, excluded.file_path)";

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
    pub fn new(tx: &'t Transaction<'t>) -> Result<Self> {
        Ok(IngestTx {
            save_file: tx.prepare(SAVE_FILE)?,
            add_usage: tx.prepare(ADD_USAGE)?,
            add_tool_call: tx.prepare(ADD_TOOL_CALL)?,
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

    pub fn add_usage(&mut self, tool: Tool, file_id: i64, e: &UsageEvent) -> Result<()> {
        let t = &e.tokens;
        let st = &mut self.add_usage;
        let mut run = |key: &str| -> Result<usize> {
            Ok(st.execute(params![
                key,
                tool.as_str(),
                e.session_id,
                e.request_id,
                e.timestamp_ms,
                e.model,
                t.input_tokens,
                t.cache_creation_tokens,
                t.cache_creation_5m_tokens,
                t.cache_creation_1h_tokens,
                t.cache_read_tokens,
                t.output_tokens,
                t.reasoning_tokens,
                e.sidechain,
                e.speed,
                file_id,
                e.priced,
                e.cost_nusd
            ])?)
        };
        if run(&e.dedup_key)? == 0 {
            let rid = e.request_id.as_deref().unwrap_or_default();
            run(&format!("{}:{rid}", e.dedup_key))?;
        }
        Ok(())
    }

    pub fn add_tool_call(&mut self, tool: Tool, c: &ToolCall) -> Result<()> {
        self.add_tool_call.execute(params![
            tool.as_str(),
            c.scope,
            c.call_id,
            c.session_id,
            c.name,
            c.called_at_ms,
            c.result_at_ms,
            c.failed,
            c.duration_ms,
            c.file_path
        ])?;
        Ok(())
    }

    pub fn add_compaction(&mut self, tool: Tool, c: &Compaction) -> Result<()> {
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
        tool: Tool,
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
