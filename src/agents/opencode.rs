//! OpenCode: one SQLite database, `$XDG_DATA_HOME/opencode/opencode.db` (else
//! `~/.local/share/opencode/opencode.db`; `OPENCODE_DB` names another), in WAL mode and open
//! while OpenCode runs. Ingest reads it read-only with [`QUERIES`], each row as one line of
//! JSON, and this parser reads those lines (docs/FORMATS.md, OpenCode).
//!
//! One assistant message per API response, counted once by its id from its `tokens` (not from
//! its `step-finish` part, which repeats them, nor the session's totals). A message is counted
//! once it has completed: while its tool runs it is stored with zero tokens. Sub-agent
//! sessions (`parent_id`) belong to their root session.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

use serde::Deserialize;

use super::lines::{Lines, utf8_line};
use super::{Agent, AgentSpec, Anchoring, Env, FileRole, Parsed, Root, Source};
use crate::usage::{SessionInfo, Tokens, ToolCall, UsageEvent, command_key};

pub struct OpenCode;

/// Rows changed since the watermark `?1` (ms; `time_updated`), each as `(json, time_updated)`.
/// Sessions are read whole every time (they are few): messages need them to find their root.
/// Only the fields read are selected, so a tool's large output is never loaded.
pub const QUERIES: &[&str] = &[
    "SELECT json_object('kind', 'session', 'id', id, 'parent', parent_id, 'directory', directory,
            'version', version, 'created', time_created, 'updated', time_updated), time_updated
     FROM session",
    "SELECT json_object('kind', 'message', 'id', id, 'session', session_id,
            'created', data ->> '$.time.created', 'completed', data ->> '$.time.completed',
            'model', data ->> '$.modelID', 'tokens', json(data -> '$.tokens')), time_updated
     FROM message WHERE time_updated >= ?1 AND data ->> '$.role' = 'assistant'",
    "SELECT json_object('kind', 'tool', 'message', message_id, 'session', session_id,
            'tool', data ->> '$.tool', 'call', data ->> '$.callID', 'status', data ->> '$.state.status',
            'command', data ->> '$.state.input.command',
            'file', coalesce(data ->> '$.state.input.filePath', data ->> '$.state.input.path'),
            'exit', data ->> '$.state.metadata.exit',
            'start', data ->> '$.state.time.start', 'end', data ->> '$.state.time.end'), time_updated
     FROM part WHERE time_updated >= ?1 AND data ->> '$.type' = 'tool'",
];

#[derive(Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
enum Row {
    Session {
        id: String,
        parent: Option<String>,
        directory: Option<String>,
        version: Option<String>,
        created: Option<i64>,
        updated: Option<i64>,
    },
    Message {
        id: String,
        session: String,
        created: Option<i64>,
        completed: Option<i64>,
        model: Option<String>,
        tokens: Option<MessageTokens>,
    },
    Tool {
        message: String,
        session: String,
        tool: Option<String>,
        call: Option<String>,
        status: Option<String>,
        command: Option<String>,
        file: Option<String>,
        exit: Option<i64>,
        start: Option<i64>,
        end: Option<i64>,
    },
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct MessageTokens {
    input: i64,
    output: i64,
    reasoning: i64,
    cache: Cache,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Cache {
    read: i64,
    write: i64,
}

/// OpenCode's `input` excludes cache reads and writes; its `output` excludes reasoning.
fn tokens_of(t: &MessageTokens) -> Tokens {
    let write = t.cache.write.max(0);
    Tokens {
        input_tokens: t.input.max(0),
        cache_creation_tokens: write,
        cache_creation_5m_tokens: write,
        cache_read_tokens: t.cache.read.max(0),
        output_tokens: t.output.max(0).saturating_add(t.reasoning.max(0)),
        reasoning_tokens: t.reasoning.max(0),
        ..Tokens::default()
    }
}

/// The session a session belongs to: its root ancestor (sub-agents count under it).
fn root_of<'a>(parents: &'a HashMap<String, Option<String>>, id: &'a str) -> &'a str {
    let mut at = id;
    for _ in 0..32 {
        match parents.get(at).and_then(Option::as_deref) {
            Some(p) if p != at => at = p,
            _ => break,
        }
    }
    at
}

/// Rows (of the database, or one legacy document) into usage, calls and sessions.
fn process(out: &mut Parsed, rows: &[Row]) {
    let parents: HashMap<String, Option<String>> = rows
        .iter()
        .filter_map(|r| match r {
            Row::Session { id, parent, .. } => Some((id.clone(), parent.clone())),
            _ => None,
        })
        .collect();
    for r in rows {
        match r {
            Row::Session {
                id,
                parent: None,
                directory,
                version,
                created,
                updated,
            } => {
                let info = out.session_mut(id);
                SessionInfo::set_if_some(&mut info.cwd, directory.as_deref());
                SessionInfo::set_if_some(&mut info.cli_version, version.as_deref());
                info.saw_time(*created);
                info.saw_time(*updated);
            }
            Row::Session { .. } => {}
            Row::Message {
                id,
                session,
                created,
                completed,
                model,
                tokens,
            } => {
                // Still streaming or running its tools: its usage is not in yet.
                let (Some(_), Some(t)) = (completed, tokens) else {
                    continue;
                };
                let root = root_of(&parents, session);
                out.usage.push(UsageEvent {
                    dedup_key: format!("opencode:{id}"),
                    session_id: root.to_owned(),
                    request_id: None,
                    timestamp_ms: *created,
                    model: model.clone(),
                    tokens: tokens_of(t),
                    sidechain: false,
                    speed: None,
                    priced: false,
                    cost_nusd: None,
                });
            }
            Row::Tool {
                message,
                session,
                tool,
                call,
                status,
                command,
                file,
                exit,
                start,
                end,
            } => {
                let Some(call_id) = call.clone() else {
                    continue;
                };
                // A failing command is `completed` with its exit code; `error` is a
                // tool that could not run.
                let failed = match status.as_deref() {
                    Some("completed") => Some(exit.is_some_and(|c| c != 0)),
                    Some("error") => Some(true),
                    _ => None,
                };
                let done = failed.is_some();
                out.tools.push(ToolCall {
                    call_id,
                    scope: String::new(),
                    session_id: root_of(&parents, session).to_owned(),
                    name: tool.clone(),
                    called_at_ms: *start,
                    file_path: file.clone(),
                    result_at_ms: end.filter(|_| done),
                    failed,
                    duration_ms: match (start, end) {
                        (Some(s), Some(e)) if done && e >= s => e.checked_sub(*s),
                        _ => None,
                    },
                    response_key: Some(format!("opencode:{message}")),
                    command: command
                        .as_deref()
                        .map(command_key)
                        .filter(|c| !c.is_empty()),
                    program: command.as_deref().and_then(crate::program::program_of),
                    agent_id: (root_of(&parents, session) != session).then(|| session.clone()),
                });
            }
        }
    }
}

/// One document of OpenCode's older JSON storage as the row the database would give.
fn legacy_row(v: &serde_json::Value) -> Option<Row> {
    let s = |v: &serde_json::Value, k: &str| {
        v.get(k)
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned)
    };
    let n = |v: &serde_json::Value, path: &[&str]| {
        path.iter()
            .try_fold(v, |v, k| v.get(*k))
            .and_then(serde_json::Value::as_i64)
    };
    if v.get("role").is_some() {
        if s(v, "role").as_deref() != Some("assistant") {
            return None;
        }
        return Some(Row::Message {
            id: s(v, "id")?,
            session: s(v, "sessionID")?,
            created: n(v, &["time", "created"]),
            completed: n(v, &["time", "completed"]),
            model: s(v, "modelID"),
            tokens: v
                .get("tokens")
                .and_then(|t| serde_json::from_value(t.clone()).ok()),
        });
    }
    if v.get("messageID").is_some() {
        if s(v, "type").as_deref() != Some("tool") {
            return None;
        }
        let state = v.get("state").unwrap_or(&serde_json::Value::Null);
        let input = state.get("input").unwrap_or(&serde_json::Value::Null);
        return Some(Row::Tool {
            message: s(v, "messageID")?,
            session: s(v, "sessionID")?,
            tool: s(v, "tool"),
            call: s(v, "callID"),
            status: s(state, "status"),
            command: s(input, "command"),
            file: s(input, "filePath").or_else(|| s(input, "path")),
            exit: n(state, &["metadata", "exit"]),
            start: n(state, &["time", "start"]),
            end: n(state, &["time", "end"]),
        });
    }
    Some(Row::Session {
        id: s(v, "id")?,
        parent: s(v, "parentID"),
        directory: s(v, "directory"),
        version: s(v, "version"),
        created: n(v, &["time", "created"]),
        updated: n(v, &["time", "updated"]),
    })
}

impl AgentSpec for OpenCode {
    fn name(&self) -> &'static str {
        "opencode"
    }

    fn agent(&self) -> Agent {
        Agent::OpenCode
    }

    fn parser_version(&self) -> i64 {
        1
    }

    fn discovery_vars(&self) -> &'static [&'static str] {
        &["OPENCODE_DB"]
    }

    fn roots(&self, env: &Env) -> Vec<Root> {
        let dir = match env.var("OPENCODE_DB").map(Path::new) {
            Some(db) if db.is_absolute() => db.parent().map(Path::to_path_buf),
            _ => env
                .xdg_data_home()
                .map(|x| PathBuf::from(x).join("opencode"))
                .or_else(|| env.home.as_ref().map(|h| h.join(".local/share/opencode"))),
        };
        dir.map(|dir| Root {
            dir,
            archived: false,
        })
        .into_iter()
        .collect()
    }

    /// The databases at the top of the data folder (`opencode.db`, a release channel's
    /// `opencode-<channel>.db`, or the file `OPENCODE_DB` names), and the JSON files older
    /// versions wrote: `storage/message/<session>/<message>.json`,
    /// `storage/part/<message>/<part>.json`, `storage/session/<project>/<session>.json`.
    fn classify(&self, rel: &Path) -> Option<FileRole> {
        let parts: Vec<&str> = rel
            .components()
            .map(|c| match c {
                Component::Normal(s) => s.to_str(),
                _ => None,
            })
            .collect::<Option<_>>()?;
        let role = |hint: Option<&str>| FileRole {
            session_hint: hint.map(str::to_owned),
            main: true,
        };
        match parts.as_slice() {
            [name] if name.ends_with(".db") => Some(role(None)),
            ["storage", "message", session, file] if file.ends_with(".json") => {
                Some(role(Some(session)))
            }
            ["storage", "part" | "session", _, file] if file.ends_with(".json") => Some(role(None)),
            _ => None,
        }
    }

    fn holds_every_session(&self) -> bool {
        true
    }

    fn database(&self, path: &Path) -> Option<&'static [&'static str]> {
        path.extension()
            .is_some_and(|e| e == "db")
            .then_some(QUERIES)
    }

    /// The JSON files of OpenCode before its database, one document each.
    fn whole_document(&self, path: &Path) -> bool {
        path.extension().is_some_and(|e| e == "json")
    }

    fn parse(&self, src: &Source<'_>, bytes: &[u8], _state: Option<&str>) -> Parsed {
        let mut out = Parsed::default();
        let mut rows = Vec::new();
        if self.whole_document(src.path) {
            match serde_json::from_slice::<serde_json::Value>(bytes) {
                Ok(v) => rows.extend(legacy_row(&v)),
                // Half written (OpenCode writes these whole): read again when it changes.
                Err(e) if e.is_eof() => {
                    out.incomplete_tail = true;
                    return out;
                }
                Err(_) => out.malformed += 1,
            }
            out.consumed = bytes.len();
            process(&mut out, &rows);
            return out;
        }
        let mut lines = Lines::new(bytes);
        for raw in &mut lines {
            if raw.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let (text, lossy) = utf8_line(raw);
            out.lossy_utf8 += usize::from(lossy);
            match serde_json::from_str::<Row>(&text) {
                Ok(r) => rows.push(r),
                Err(_) => out.malformed += 1,
            }
        }
        process(&mut out, &rows);
        out.consumed = lines.consumed();
        out.incomplete_tail = lines.has_tail();
        out
    }

    /// OpenCode names no session and no call: its bash tool runs `bash -c '<command>'`, and
    /// the running call is in the store with that command (`OPENCODE` marks the process).
    fn anchoring(&self) -> Anchoring {
        Anchoring::PendingShellCall {
            session_var: None,
            marker_var: "OPENCODE",
        }
    }

    /// The issuing message gets its usage only after its tools ran: waiting cannot help.
    fn response_wait(
        &self,
        _cli_version: Option<&str>,
        _budget: std::time::Duration,
    ) -> std::time::Duration {
        std::time::Duration::ZERO
    }

    fn process_names(&self) -> &'static [&'static str] {
        &["opencode"]
    }

    /// `opencode run --format json` prints events that carry `sessionID`.
    fn printed_session_id(&self, line: &[u8]) -> Option<String> {
        let v = super::json_line_with(line, b"sessionID")?;
        super::non_blank(v.get("sessionID")?.as_str()?)
    }

    fn prints_session_id(&self) -> bool {
        true
    }

    fn templates(&self) -> &'static [(&'static str, &'static str)] {
        &[(
            "opencode/skills/tokledger-check/SKILL.md.j2",
            include_str!("../../templates/opencode/skills/tokledger-check/SKILL.md.j2"),
        )]
    }
}
