//! Our process's ancestors: what a running agent above us says (its session file), and the
//! command lines of the shells between it and us (the command an agent's tool call runs).
//! Reads `/proc` and only regular files.

use crate::agents::Agent;
use crate::agents::Env;

/// The session of a running agent among our ancestors: one that keeps `<pid>.json` files
/// naming its session ([`AgentSpec::running_session_dirs`]; Claude Code).
///
/// [`AgentSpec::running_session_dirs`]: crate::agents::AgentSpec::running_session_dirs
pub(crate) fn ancestor_session(env: &Env, tool: Agent) -> Option<(String, &'static str)> {
    let (how, dirs) = tool.spec().running_session_dirs(env);
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
            // Only a regular file: opening a FIFO someone left there would block.
            let regular = std::fs::metadata(&file).is_ok_and(|m| m.is_file());
            if let Some(text) = regular
                .then(|| std::fs::read_to_string(&file).ok())
                .flatten()
            {
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

/// The normalised command lines of up to eight ancestors (the shell running the tool call
/// and its wrappers), stopping below the agent itself, whose own command line (a prompt)
/// may quote any command.
pub(crate) fn ancestor_commands() -> Vec<String> {
    let mut out = Vec::new();
    let mut pid = std::os::unix::process::parent_id();
    for _ in 0..8 {
        if pid <= 1 {
            break;
        }
        let Ok(raw) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
            break;
        };
        let argv: Vec<String> = raw
            .split(|b| *b == 0)
            .filter(|a| !a.is_empty())
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        if argv.first().is_some_and(|a| is_agent(a)) {
            break;
        }
        let key = crate::usage::normalize_command(&argv.join(" "), usize::MAX);
        if !key.is_empty() {
            out.push(key);
        }
        match parent_of(pid) {
            Some(p) => pid = p,
            None => break,
        }
    }
    out
}

/// Whether `argv0` is one of the agents themselves.
fn is_agent(argv0: &str) -> bool {
    let name = std::path::Path::new(argv0)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Agent::ALL
        .iter()
        .any(|a| a.spec().process_names().contains(&name.as_str()))
}
