//! Which session an analysis belongs to (SPEC §3 "Which session"), and reading just that
//! session's transcripts.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::agents::{self, AgentSpec};
use crate::ctx::Ctx;
use crate::error::Error;
use crate::render::human::{short_time, thousands};
use crate::store::Store;
use crate::usage::Agent;

/// The chosen session and how it was chosen (recorded on the row as `session_binding`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Binding {
    pub session_id: String,
    pub how: &'static str,
}

/// What the caller passed explicitly.
#[derive(Clone, Debug, Default)]
pub struct Explicit {
    pub session_id: Option<String>,
    pub session_path: Option<PathBuf>,
    /// Two candidates modified within this many seconds of each other are ambiguous.
    pub window_secs: f64,
}

/// Read what changed in one session's files (sub-agent files new since included).
pub fn read_session(ctx: &Ctx, store: &mut Store, tool: Agent, session_id: &str) -> Result<()> {
    let fmt = tool.spec();
    let known: Vec<PathBuf> = store
        .session_files(tool, session_id)?
        .into_iter()
        .map(|r| r.path)
        .collect();
    let files = crate::discover::session_sources(fmt, &ctx.env, &known, session_id);
    let report = crate::ingest::ingest_until(store, files, &ctx.pricer, ctx.read_deadline)?;
    for w in report.warnings() {
        ctx.warn(&w);
    }
    crate::anchor::settle(ctx, store, Some((tool, session_id)))?;
    Ok(())
}

/// Read one transcript file (and, for Claude, its session's sub-agent files); the session
/// it belongs to.
pub fn read_path(ctx: &Ctx, store: &mut Store, tool: Agent, path: &Path) -> Result<String> {
    let fmt = tool.spec();
    if !path.is_file() {
        return Err(Error::NotFound(format!("no transcript file at {}", path.display())).into());
    }
    let src = crate::discover::source_for_path(fmt, &ctx.env, path)
        .unwrap_or_else(|| outside_roots(fmt, path));
    let hint = src.role.session_hint.clone();
    let report = crate::ingest::ingest_until(store, vec![src], &ctx.pricer, ctx.read_deadline)?;
    for w in report.warnings() {
        ctx.warn(&w);
    }
    let stored = store.files()?.get(path).and_then(|r| r.session_id.clone());
    let session = stored
        .or(hint)
        .with_context(|| format!("{} names no session", path.display()))?;
    // Out of time (a hook's read): the sub-agent files wait for the next read too.
    if report.stopped_at_deadline {
        crate::anchor::settle(ctx, store, Some((tool, &session)))?;
    } else {
        read_session(ctx, store, tool, &session)?;
    }
    Ok(session)
}

/// A file outside the agent's usual folders: its name is its session id.
fn outside_roots(fmt: &dyn AgentSpec, path: &Path) -> crate::discover::SourceFile {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let role = fmt.classify(Path::new(&name)).unwrap_or(agents::FileRole {
        session_hint: path.file_stem().map(|s| s.to_string_lossy().into_owned()),
        main: true,
    });
    let (size, mtime_ns) = crate::discover::stat(path).unwrap_or((0, 0));
    crate::discover::SourceFile {
        tool: fmt.agent(),
        path: path.to_owned(),
        role,
        archived: false,
        size,
        mtime_ns,
    }
}

/// Choose the session for `start`, reading its transcripts on the way.
pub fn resolve(ctx: &Ctx, store: &mut Store, tool: Agent, explicit: &Explicit) -> Result<Binding> {
    if let Some(id) = &explicit.session_id {
        read_session(ctx, store, tool, id)?;
        return Ok(Binding {
            session_id: id.clone(),
            how: "usage_session_id",
        });
    }
    if let Some(path) = &explicit.session_path {
        let id = read_path(ctx, store, tool, path)?;
        return Ok(Binding {
            session_id: id,
            how: "usage_session_path",
        });
    }
    if let Some(b) = from_agent(ctx, tool) {
        read_session(ctx, store, tool, &b.session_id)?;
        return Ok(b);
    }
    if let Some(path) = ctx
        .agent
        .tokledger_session_path
        .as_ref()
        .filter(|_| tokledger_env_applies(ctx, tool))
    {
        let id = read_path(ctx, store, tool, Path::new(path))?;
        return Ok(Binding {
            session_id: id,
            how: "tokledger_session_path",
        });
    }
    heuristic(ctx, store, tool, explicit.window_secs)
}

/// What the agent itself says about the running session: the variables it sets in the
/// commands it runs, then a running agent among our ancestors.
fn from_agent(ctx: &Ctx, tool: Agent) -> Option<Binding> {
    let spec = tool.spec();
    for (var, how) in spec.session_vars() {
        if let Some(id) = ctx.agent.var(var) {
            return Some(Binding {
                session_id: id.to_owned(),
                how,
            });
        }
    }
    if let Some((id, how)) = ancestor_session(ctx, tool) {
        return Some(Binding {
            session_id: id,
            how,
        });
    }
    ctx.agent
        .tokledger_session_id
        .clone()
        .filter(|_| tokledger_env_applies(ctx, tool))
        .map(|id| Binding {
            session_id: id,
            how: "tokledger_session_id",
        })
}

/// `TOKLEDGER_SESSION_ID`/`_PATH` name a session of `TOKLEDGER_SESSION_TOOL` (the Claude
/// hook sets it to `claude`): a `--tool codex` analysis started inside that Claude Code
/// session must not bind to the Claude session. Unset means the caller vouches for any tool.
fn tokledger_env_applies(ctx: &Ctx, tool: Agent) -> bool {
    ctx.agent
        .tokledger_session_tool
        .as_deref()
        .is_none_or(|t| t.trim().eq_ignore_ascii_case(tool.as_str()))
}

/// The session of a running agent among our ancestors: one that keeps `<pid>.json` files
/// naming its session ([`AgentSpec::running_session_dirs`]; Claude Code).
///
/// [`AgentSpec::running_session_dirs`]: crate::agents::AgentSpec::running_session_dirs
pub(crate) fn ancestor_session(ctx: &Ctx, tool: Agent) -> Option<(String, &'static str)> {
    let (how, dirs) = tool.spec().running_session_dirs(&ctx.env);
    if dirs.is_empty() {
        return None;
    }
    let mut pid = std::os::unix::process::parent_id();
    for _ in 0..64 {
        if pid <= 1 {
            break;
        }
        for dir in &dirs {
            let file = dir.join(format!("{pid}.json"));
            if let Ok(text) = std::fs::read_to_string(&file) {
                let v: Option<serde_json::Value> = serde_json::from_str(&text).ok();
                if let Some(id) = v
                    .as_ref()
                    .and_then(|v| v.get("sessionId"))
                    .and_then(|s| s.as_str())
                {
                    return Some((id.to_owned(), how));
                }
            }
        }
        pid = parent_of(pid)?;
    }
    None
}

/// The parent pid from `/proc/<pid>/stat` (the field after the parenthesised name).
pub(crate) fn parent_of(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &stat[stat.rfind(')')? + 1..];
    after.split_whitespace().nth(1)?.parse().ok()
}

/// The most recently modified session of the tool, preferring the current directory's; two
/// candidates within the window are ambiguous (exit 3, candidates on stderr).
fn heuristic(ctx: &Ctx, store: &mut Store, tool: Agent, window_secs: f64) -> Result<Binding> {
    crate::commands::read_transcripts(ctx, store, &[tool], false)?;
    let all = store.sessions(Some(tool), None)?;
    let cwd = std::env::current_dir().ok();
    let canon = cwd.as_ref().and_then(|c| c.canonicalize().ok());
    let here = |p: &Option<String>| {
        p.as_deref().is_some_and(|p| {
            cwd.as_deref() == Some(Path::new(p))
                || canon.as_deref() == Path::new(p).canonicalize().ok().as_deref()
        })
    };
    let preferred: Vec<_> = all.iter().filter(|s| here(&s.project)).collect();
    let pool: Vec<_> = if preferred.is_empty() {
        all.iter().collect()
    } else {
        preferred
    };
    let Some(best) = pool.first() else {
        return Err(Error::Ambiguous(format!(
            "no {tool} session found to bind to; pass --usage-session-id or --usage-session-path"
        ))
        .into());
    };
    #[expect(
        clippy::cast_possible_truncation,
        reason = "a window in seconds fits easily"
    )]
    let window_ms = (window_secs * 1000.0) as i64;
    let newest = best.last_modified_ms.unwrap_or(0);
    let close: Vec<_> = pool
        .iter()
        .filter(|s| newest - s.last_modified_ms.unwrap_or(0) <= window_ms)
        .collect();
    if close.len() > 1 {
        let mut msg = format!(
            "{} {tool} sessions were modified within {window_secs} s of each other; pass --usage-session-id:",
            close.len()
        );
        for s in close {
            msg.push_str(&format!(
                "\n  {}  {}  {}  {} tokens",
                s.session_id,
                s.path.as_deref().unwrap_or("-"),
                short_time(s.last_modified_ms),
                thousands(s.tokens.total())
            ));
        }
        return Err(Error::Ambiguous(msg).into());
    }
    Ok(Binding {
        session_id: best.session_id.clone(),
        how: "heuristic",
    })
}

/// Size and mtime of transcript files by path: what `analysis run` compares before and
/// after its command to see which sessions the command wrote to.
pub type FileStats = std::collections::HashMap<PathBuf, (u64, i64)>;

pub fn stats_of(files: &[crate::discover::SourceFile]) -> FileStats {
    files
        .iter()
        .map(|f| (f.path.clone(), (f.size, f.mtime_ns)))
        .collect()
}

/// The files of `after` that are new since `before` or whose size or mtime changed.
pub fn changed_since(
    before: &FileStats,
    after: Vec<crate::discover::SourceFile>,
) -> Vec<crate::discover::SourceFile> {
    after
        .into_iter()
        .filter(|f| before.get(&f.path) != Some(&(f.size, f.mtime_ns)))
        .collect()
}

/// A session id that a command printed as one line of JSON on stdout, naming the session
/// it ran in ([`AgentSpec::printed_session_id`]).
///
/// [`AgentSpec::printed_session_id`]: crate::agents::AgentSpec::printed_session_id
pub fn printed_session_id(tool: Agent, line: &[u8]) -> Option<String> {
    tool.spec().printed_session_id(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printed_ids_by_tool() {
        let codex =
            br#"{"type":"thread.started","thread_id":"0199a213-81c0-7800-8aa1-bbab2a035a53"}"#;
        assert_eq!(
            printed_session_id(Agent::Codex, codex).as_deref(),
            Some("0199a213-81c0-7800-8aa1-bbab2a035a53")
        );
        assert_eq!(printed_session_id(Agent::Claude, codex), None);
        assert_eq!(
            printed_session_id(Agent::Codex, br#"{"type":"turn.started","thread_id":"x"}"#),
            None
        );
        let init = br#"  {"type":"system","subtype":"init","session_id":"abc"}  "#;
        assert_eq!(
            printed_session_id(Agent::Claude, init).as_deref(),
            Some("abc")
        );
        let result = br#"{"type":"result","subtype":"success","session_id":"def","usage":{}}"#;
        assert_eq!(
            printed_session_id(Agent::Claude, result).as_deref(),
            Some("def")
        );
        assert_eq!(
            printed_session_id(Agent::Claude, br#"{"type":"assistant","session_id":"x"}"#),
            None
        );
        assert_eq!(printed_session_id(Agent::Codex, b"thread.started {"), None);
        assert_eq!(printed_session_id(Agent::Amp, codex), None);
    }
}
