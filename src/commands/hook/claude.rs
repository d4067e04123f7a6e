//! `tokledger hook claude`: a Claude Code hook (JSON on stdin).
//!
//! - `SessionStart`: when Claude Code gives the hook `CLAUDE_ENV_FILE`, append `export`
//!   lines naming the session, so the session's later shell commands (skills, `analysis
//!   start`) bind to it exactly.
//! - any other event (`PostToolUse`, `PostToolUseFailure`, `Stop`, `SessionEnd`, …): read
//!   what that session's transcript (and its sub-agent files) gained since the last read,
//!   so usage and tool calls are in the ledger as they happen.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};

use super::{BUSY, MAX_PAYLOAD, READ_UNTIL, STDIN_WAIT, TOTAL, read_stdin_bounded, report, within};
use crate::agents::Agent;
use crate::ctx::Ctx;
use crate::global::GlobalArgs;
use crate::read::{How, Scope, read};
use crate::usage::ToolCall;

#[derive(clap::Args, Debug)]
pub struct Args {}

/// The fields of a Claude Code hook payload that tokledger uses (every event has the first
/// three; `PostToolUse` and `PostToolUseFailure` carry the call).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Payload {
    pub session_id: Option<String>,
    pub transcript_path: Option<PathBuf>,
    pub hook_event_name: Option<String>,
    pub call: Option<ToolCall>,
}

/// The tool call a `PostToolUse`/`PostToolUseFailure` payload describes, as a tool-call
/// record: the transcript says the same of it later, and the two merge by its id.
fn call_of(v: &serde_json::Value, event: Option<&str>, session: Option<&str>) -> Option<ToolCall> {
    let failure = match event? {
        "PostToolUse" => false,
        "PostToolUseFailure" => true,
        _ => return None,
    };
    let text = |v: &serde_json::Value, k: &str| {
        v.get(k)
            .and_then(serde_json::Value::as_str)
            .filter(|s| !s.trim().is_empty())
            .map(str::to_owned)
    };
    let input = v.get("tool_input").unwrap_or(&serde_json::Value::Null);
    let response = v.get("tool_response");
    // A successful event can still report a failed call in its response.
    let says_failed = response.is_some_and(|r| {
        r.get("is_error").and_then(serde_json::Value::as_bool) == Some(true)
            || r.get("success").and_then(serde_json::Value::as_bool) == Some(false)
    });
    Some(ToolCall {
        call_id: text(v, "tool_use_id")?,
        scope: String::new(),
        session_id: session?.to_owned(),
        name: text(v, "tool_name"),
        file_path: text(input, "file_path")
            .or_else(|| text(input, "notebook_path"))
            .or_else(|| text(input, "path")),
        command: text(input, "command")
            .map(|c| crate::usage::command_key(&c))
            .filter(|c| !c.is_empty()),
        program: text(input, "command").and_then(|c| crate::program::program_of(&c)),
        result_at_ms: Some(chrono::Utc::now().timestamp_millis()),
        failed: Some(failure || says_failed || v.get("error").is_some_and(|e| !e.is_null())),
        duration_ms: v
            .get("duration_ms")
            .and_then(serde_json::Value::as_f64)
            .filter(|d| d.is_finite() && (0.0..1e12).contains(d))
            .map(|d| d.round() as i64),
        agent_id: text(v, "agent_id"),
        ..ToolCall::default()
    })
}

/// Parse a payload; fields of an unexpected type count as absent.
pub fn parse_payload(bytes: &[u8]) -> Result<Payload> {
    let v: serde_json::Value =
        serde_json::from_slice(bytes).context("the payload on stdin is not JSON")?;
    if !v.is_object() {
        bail!("the payload on stdin is not a JSON object");
    }
    let text = |k: &str| {
        v.get(k)
            .and_then(serde_json::Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let session_id = text("session_id");
    let hook_event_name = text("hook_event_name");
    let call = call_of(&v, hook_event_name.as_deref(), session_id.as_deref());
    Ok(Payload {
        session_id,
        transcript_path: text("transcript_path").map(PathBuf::from),
        hook_event_name,
        call,
    })
}

/// The lines appended to `CLAUDE_ENV_FILE`, shell-quoted where needed. The tool is named so
/// that a `--tool codex` analysis started in this Claude session does not take the id.
pub fn env_file_lines(session_id: &str, transcript: Option<&Path>) -> String {
    let mut s = format!(
        "export TOKLEDGER_SESSION_ID={}\n",
        crate::shell::quote(session_id)
    );
    if let Some(p) = transcript {
        s.push_str(&format!(
            "export TOKLEDGER_SESSION_PATH={}\n",
            crate::shell::quote(&p.to_string_lossy())
        ));
    }
    s.push_str("export TOKLEDGER_SESSION_TOOL=claude\n");
    s
}

pub fn run(global: &GlobalArgs, _args: &Args) {
    let started = Instant::now();
    let mut ctx = match Ctx::new(global) {
        Ok(c) => c,
        Err(e) => {
            report(crate::ctx::state_dir().as_deref(), "hook claude", &e);
            return;
        }
    };
    ctx.busy = ctx.busy.min(BUSY);
    ctx.read_deadline = Some(started + READ_UNTIL);
    let state_dir = ctx.state_dir.clone();
    let payload = match read_stdin_bounded(STDIN_WAIT, MAX_PAYLOAD).and_then(|b| parse_payload(&b))
    {
        Ok(p) => p,
        Err(e) => {
            report(state_dir.as_deref(), "hook claude", &e);
            return;
        }
    };
    let what = format!(
        "hook claude {} session {}",
        payload.hook_event_name.as_deref().unwrap_or("(no event)"),
        payload.session_id.as_deref().unwrap_or("-")
    );
    let left = TOTAL.saturating_sub(started.elapsed());
    if let Err(e) = within(left, move || handle(&ctx, &payload)) {
        report(state_dir.as_deref(), &what, &e);
    }
}

fn handle(ctx: &Ctx, p: &Payload) -> Result<()> {
    if let Some(call) = &p.call {
        // First, and on its own: what the payload says is exact and cheap to keep.
        let mut store = ctx.open_store()?;
        store.ingest(|w| w.add_tool_call(Agent::Claude, call))?;
    }
    match p.hook_event_name.as_deref() {
        Some("SessionStart") => session_start(ctx, p),
        _ => read_transcript(ctx, p),
    }
}

fn session_start(ctx: &Ctx, p: &Payload) -> Result<()> {
    // Claude Code sets CLAUDE_ENV_FILE only where it will source it; without it there is
    // nothing to do.
    let Some(file) = &ctx.agent.claude_env_file else {
        return Ok(());
    };
    let Some(id) = &p.session_id else {
        bail!("the SessionStart payload names no session_id");
    };
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(file)
        .with_context(|| format!("could not open CLAUDE_ENV_FILE {}", file.display()))?;
    f.write_all(env_file_lines(id, p.transcript_path.as_deref()).as_bytes())
        .with_context(|| format!("could not write CLAUDE_ENV_FILE {}", file.display()))
}

/// Only this session's files: the transcript the payload names, or the files the ledger
/// already ties to its session id.
pub(crate) fn read_transcript(ctx: &Ctx, p: &Payload) -> Result<()> {
    let scope = match (&p.transcript_path, &p.session_id) {
        // Claude Code creates the transcript with the first message: nothing to read yet.
        (Some(path), _) if !path.is_file() => return Ok(()),
        // A payload may name any file: only Claude Code's own transcripts are read (a
        // payload naming /etc/shadow must not make it a session). Its session id still is.
        (Some(path), _)
            if crate::discover::source_for_path(Agent::Claude.spec(), &ctx.env, path).is_some() =>
        {
            Scope::Path(Agent::Claude, path)
        }
        (Some(path), None) => bail!(
            "transcript_path {} is not below Claude Code's projects folders; not read",
            path.display()
        ),
        (_, Some(id)) => Scope::Session(Agent::Claude, id),
        (None, None) => bail!("the payload names neither transcript_path nor session_id"),
    };
    let mut store = ctx.open_store()?;
    read(ctx, &mut store, scope, How::default()).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_fields_and_odd_types() {
        let p = parse_payload(
            br#"{"session_id":"abc","transcript_path":"/t/x.jsonl","cwd":"/w","hook_event_name":"PostToolUse","tool_name":"Bash"}"#,
        )
        .expect("parse");
        assert_eq!(
            p,
            Payload {
                session_id: Some("abc".into()),
                transcript_path: Some(PathBuf::from("/t/x.jsonl")),
                hook_event_name: Some("PostToolUse".into()),
                call: None,
            }
        );
        let p = parse_payload(br#"{"session_id":7,"transcript_path":"  "}"#).expect("parse");
        assert_eq!(p, Payload::default());
        assert!(parse_payload(b"[1]").is_err());
        assert!(parse_payload(b"{\"session_id\":").is_err());
    }

    #[test]
    fn env_lines_quote_what_a_shell_would_split() {
        assert_eq!(
            env_file_lines("abc-1", Some(Path::new("/home/a b/x.jsonl"))),
            "export TOKLEDGER_SESSION_ID=abc-1\nexport TOKLEDGER_SESSION_PATH='/home/a b/x.jsonl'\nexport TOKLEDGER_SESSION_TOOL=claude\n"
        );
        assert_eq!(
            env_file_lines("it's", None),
            "export TOKLEDGER_SESSION_ID=\"it's\"\nexport TOKLEDGER_SESSION_TOOL=claude\n"
        );
    }
}
