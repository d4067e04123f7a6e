//! Which session an analysis belongs to (SPEC §3 "Which session").

use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::agents::Agent;
use crate::agents::Anchoring;
use crate::ctx::Ctx;
use crate::error::Error;
use crate::format::{short_time, thousands};
use crate::read::{How, Scope};
use crate::store::Store;

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

/// Choose the session for `start`, then read it (once: a rule that had to read to choose,
/// a transcript path or the newest session, has read it already).
pub fn resolve(ctx: &Ctx, store: &mut Store, tool: Agent, explicit: &Explicit) -> Result<Binding> {
    let (binding, read) = choose(ctx, store, tool, explicit)?;
    if !read {
        crate::read::read(
            ctx,
            store,
            Scope::Session(tool, &binding.session_id),
            How::default(),
        )?;
    }
    Ok(binding)
}

/// The session by the rules of SPEC §3 in order, and whether choosing it read it.
fn choose(
    ctx: &Ctx,
    store: &mut Store,
    tool: Agent,
    explicit: &Explicit,
) -> Result<(Binding, bool)> {
    let by_path = |store: &mut Store, path: &Path, how: &'static str| -> Result<(Binding, bool)> {
        let read = crate::read::read(ctx, store, Scope::Path(tool, path), How::default())?;
        let session_id = read.session.unwrap_or_default();
        Ok((Binding { session_id, how }, true))
    };
    if let Some(id) = &explicit.session_id {
        let b = Binding {
            session_id: id.clone(),
            how: "usage_session_id",
        };
        return Ok((b, false));
    }
    if let Some(path) = &explicit.session_path {
        return by_path(store, path, "usage_session_path");
    }
    if let Some(b) = from_agent(ctx, tool) {
        return Ok((b, false));
    }
    if let Some(id) = running_call_session(ctx, store, tool)? {
        let b = Binding {
            session_id: id,
            how: "running_call",
        };
        return Ok((b, true));
    }
    if let Some(path) = ctx
        .agent
        .tokledger_session_path
        .as_ref()
        .filter(|_| tokledger_env_applies(ctx, tool))
    {
        return by_path(store, Path::new(path), "tokledger_session_path");
    }
    heuristic(ctx, store, tool, explicit.window_secs).map(|b| (b, true))
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
    if let Some((id, how)) = crate::process::ancestor_session(&ctx.env, tool) {
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

/// `--usage-session-id` as typed: the session itself when a transcript knows it, else the
/// one known session of `tool` it is a unique beginning of (after reading that agent's
/// transcripts, so a session not read yet can be named too). Several: a usage error listing
/// them (exit 2: a longer prefix fixes it). None: as given (the caller decides whether an
/// unseen session is accepted).
pub fn expand_session_prefix(
    ctx: &Ctx,
    store: &mut Store,
    tool: Agent,
    given: &str,
) -> Result<String> {
    let known = |store: &Store| -> Result<bool> {
        Ok(!store.session_files(tool, given)?.is_empty()
            || store.session_known(tool.as_str(), given)?)
    };
    if known(store)? {
        return Ok(given.to_owned());
    }
    crate::read::read(ctx, store, Scope::Agents(&[tool]), How::default())?;
    let ids: Vec<String> = store
        .sessions_with_prefix(given, Some(tool.as_str()))?
        .into_iter()
        .map(|(_, id)| id)
        .collect();
    if ids.is_empty() {
        return Ok(given.to_owned());
    }
    Ok(crate::ids::pick(
        given,
        ids,
        "session",
        &format!("tokledger analysis sessions list --tool {tool} --all"),
    )?)
}

/// Whether the agent itself names `session_id` as its session (its variables, a running
/// agent among our ancestors, tokledger's hook): the word that vouches for a session whose
/// transcript is not on disk yet.
pub fn agent_says(ctx: &Ctx, tool: Agent, session_id: &str) -> bool {
    from_agent(ctx, tool).is_some_and(|b| b.session_id == session_id)
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

/// The session whose running shell call is the one that runs us, for an agent that names
/// neither (OpenCode): binding's rule after the agent's own variables. `None` when there is
/// no such call, or when calls of several sessions match.
fn running_call_session(ctx: &Ctx, store: &mut Store, tool: Agent) -> Result<Option<String>> {
    let Anchoring::PendingShellCall {
        session_var: None,
        marker_var,
    } = tool.spec().anchoring()
    else {
        return Ok(None);
    };
    if ctx.agent.var(marker_var).is_none() {
        return Ok(None);
    }
    let commands = crate::process::ancestor_commands();
    if commands.is_empty() {
        return Ok(None);
    }
    crate::read::read(
        ctx,
        store,
        crate::read::Scope::Agents(&[tool]),
        crate::read::How::default(),
    )?;
    let mut sessions: Vec<String> = store
        .pending_shell_calls_of(tool.as_str())?
        .into_iter()
        .filter(|(_, c)| crate::settle::runs(c, &commands))
        .map(|(s, _)| s)
        .collect();
    sessions.sort();
    sessions.dedup();
    Ok((sessions.len() == 1).then(|| sessions.remove(0)))
}

/// How many ambiguous candidates `start` lists.
const MAX_CANDIDATES_SHOWN: usize = 20;

/// The most recently modified session of the tool, preferring the current directory's; two
/// candidates within the window are ambiguous (exit 3, candidates on stderr).
fn heuristic(ctx: &Ctx, store: &mut Store, tool: Agent, window_secs: f64) -> Result<Binding> {
    crate::read::read(ctx, store, Scope::Agents(&[tool]), How::default())?;
    // A session whose transcript is gone is not the one running now (an agent writes its
    // transcript as it runs): never chosen, never listed as a candidate.
    let all: Vec<_> = store
        .sessions(Some(tool), None)?
        .into_iter()
        .filter(|s| s.path.as_deref().is_none_or(|p| Path::new(p).exists()))
        .collect();
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
        // The newest few say enough; a history of thousands would flood the terminal.
        let shown = close.len().min(MAX_CANDIDATES_SHOWN);
        for s in close.iter().take(shown) {
            msg.push_str(&format!(
                "\n  {}  {}  {}  {} tokens",
                s.session_id,
                s.path.as_deref().unwrap_or("-"),
                short_time(s.last_modified_ms),
                thousands(s.tokens.total())
            ));
        }
        if close.len() > shown {
            msg.push_str(&format!(
                "\n  … and {} more (tokledger analysis sessions list --tool {tool} --all)",
                close.len() - shown
            ));
        }
        return Err(Error::Ambiguous(msg).into());
    }
    Ok(Binding {
        session_id: best.session_id.clone(),
        how: "heuristic",
    })
}
