//! Anchoring a snapshot to the tool call that took it (SPEC "What a snapshot counts").
//!
//! A tokledger run by an agent's tool call counts its session through the response that
//! issued the call. Codex names the call (`CODEX_TOOL_CALL_ID`); for Claude Code the call is
//! the shell call still waiting for its result whose command our parent shell is running
//! (see [`Caller::commands`]). The agents write that response late, so the call may not be on
//! disk yet: we re-read the session until it is, within `--anchor-wait`, and otherwise store
//! the snapshot as provisional with a [`Probe`]; `settle.rs` finishes it on a later read.

use std::time::{Duration, Instant};

use anyhow::Result;

use crate::agents::{Agent, Anchoring};
use crate::ctx::Ctx;
use crate::settle::Probe;
use crate::store::Store;
use crate::store::snapshots::Counting;

/// How long to wait between two reads of a session whose anchor is not on disk yet.
const POLL: Duration = Duration::from_millis(40);

/// The agent tool call this process runs in, as far as the environment tells.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    pub call_id: Option<String>,
    /// The command lines of our ancestors up to the agent, as `command_key` forms them
    /// (uncut): the calling shell call's command is inside one of them.
    pub commands: Vec<String>,
}

/// The calling tool call when this process runs in one of `tool`'s sessions, `session_id`:
/// a snapshot of another session (a `--tool codex` analysis started from Claude Code, an
/// explicit other session) counts what is on disk.
pub fn caller(ctx: &Ctx, tool: Agent, session_id: &str) -> Option<Caller> {
    let a = &ctx.agent;
    match tool.spec().anchoring() {
        Anchoring::None => None,
        Anchoring::CallIdVar {
            call_var,
            session_var,
        } => {
            let call_id = a.var(call_var)?.to_owned();
            if a.var(session_var).is_some_and(|t| t != session_id) {
                return None;
            }
            Some(Caller {
                call_id: Some(call_id),
                commands: Vec::new(),
            })
        }
        Anchoring::CallWrittenAfter { marker_var } => {
            a.var(marker_var)?;
            Some(Caller {
                call_id: None,
                commands: crate::process::ancestor_commands(),
            })
        }
        Anchoring::PendingShellCall {
            session_var,
            marker_var,
        } => {
            let ours = match session_var.and_then(|v| a.var(v)) {
                Some(id) => id == session_id,
                None if a.var(marker_var).is_none() => false,
                // Only the marker: the session is the one a running agent among our
                // ancestors names, when the agent keeps such files; else any (a pending
                // call of this session running our command is what is looked for).
                None => match crate::process::ancestor_session(&ctx.env, tool) {
                    Some((id, _)) => id == session_id,
                    None => tool.spec().running_session_dirs(&ctx.env).1.is_empty(),
                },
            };
            ours.then(|| Caller {
                call_id: None,
                commands: crate::process::ancestor_commands(),
            })
        }
    }
}

/// The calling call with its response, if both are in the ledger now. `Err(Some(id))`: the
/// call `id` is there but its response is not.
fn find_now(
    store: &Store,
    tool: Agent,
    session_id: &str,
    who: &Caller,
) -> Result<Result<(String, String), Option<String>>> {
    let call = match &who.call_id {
        Some(id) => store.tool_call(tool.as_str(), id)?,
        None => store
            .pending_shell_calls(tool.as_str(), session_id)?
            .into_iter()
            .rev()
            .find(|c| crate::settle::runs(c, &who.commands)),
    };
    let Some(call) = call else {
        return Ok(Err(None));
    };
    match call.response_key {
        Some(key) if store.has_response(tool.as_str(), session_id, &key)? => {
            Ok(Ok((call.call_id, key)))
        }
        _ => Ok(Err(Some(call.call_id))),
    }
}

/// How a snapshot of `session_id` taken now is counted: through the calling call's response
/// (waiting for it, bounded), provisional when it does not come, or plainly (no caller).
/// Reads the session's new lines while it waits.
pub fn counting(ctx: &Ctx, store: &mut Store, tool: Agent, session_id: &str) -> Result<Counting> {
    let Some(who) = caller(ctx, tool, session_id) else {
        return Ok(Counting::default());
    };
    let started = Instant::now();
    if matches!(tool.spec().anchoring(), Anchoring::CallWrittenAfter { .. }) {
        // What is on disk is exactly through the calling response: count it, and settle to
        // the same number once the call is written (nothing to wait for).
        let probe = Probe::Command {
            commands: who.commands,
            after: store.last_tool_call_rowid()?,
        };
        return Ok(Counting {
            anchor: None,
            probe_json: Some(serde_json::to_string(&probe)?),
            waited_ms: 0,
        });
    }
    // When the call is on disk and its response is not, how much longer that may take.
    let mut call_seen: Option<(Instant, Duration)> = None;
    let mut seen_call: Option<String> = None;
    loop {
        match find_now(store, tool, session_id, &who)? {
            Ok(anchor) => {
                return Ok(Counting {
                    anchor: Some(anchor),
                    probe_json: None,
                    waited_ms: elapsed_ms(started),
                });
            }
            Err(Some(id)) if call_seen.is_none() => {
                seen_call = Some(id);
                let version = store.session_cli_version(tool.as_str(), session_id)?;
                let wait = tool
                    .spec()
                    .response_wait(version.as_deref(), ctx.anchor_wait);
                call_seen = Some((Instant::now(), wait));
            }
            Err(_) => {}
        }
        let out_of_time = started.elapsed() >= ctx.anchor_wait
            || call_seen.is_some_and(|(t, wait)| t.elapsed() >= wait);
        if out_of_time {
            break;
        }
        std::thread::sleep(POLL);
        crate::read::read(
            ctx,
            store,
            crate::read::Scope::Session(tool, session_id),
            crate::read::How::default(),
        )?;
    }
    // A call found without its response is found again by its id.
    let probe = match who.call_id.or(seen_call) {
        Some(call_id) => Probe::Call { call_id },
        None => Probe::Command {
            commands: who.commands,
            after: store.last_tool_call_rowid()?,
        },
    };
    ctx.status(&format!(
        "the {tool} response that ran this command is not in its transcript after {} ms: \
         the snapshot is provisional and settles on a later read of the session",
        elapsed_ms(started)
    ));
    Ok(Counting {
        anchor: None,
        probe_json: Some(serde_json::to_string(&probe)?),
        waited_ms: elapsed_ms(started),
    })
}

fn elapsed_ms(t: Instant) -> i64 {
    i64::try_from(t.elapsed().as_millis()).unwrap_or(i64::MAX)
}
