//! Provisional snapshots settled: a snapshot whose calling tool call was not on disk keeps a
//! [`Probe`]; every read of its session looks for the call again, and once the call and its
//! response are in the ledger the snapshot is recounted through that response.

use anyhow::Result;
use serde::{Deserialize, Serialize};

use crate::agents::Agent;
use crate::ctx::Ctx;
use crate::store::Store;
use crate::store::snapshots::CallRow;

/// How to find a provisional snapshot's anchor later (stored as JSON with the snapshot).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "by")]
pub enum Probe {
    /// The call's id (Codex).
    Call { call_id: String },
    /// The first shell call stored after tool-call row `after` whose command one of our
    /// ancestors ran (Claude Code); any shell call when `commands` is empty.
    Command { commands: Vec<String>, after: i64 },
}

/// Whether a shell call's command is the one one of `commands` runs.
pub(crate) fn runs(call: &CallRow, commands: &[String]) -> bool {
    match &call.command {
        Some(c) => commands.is_empty() || commands.iter().any(|a| a.contains(c.as_str())),
        None => false,
    }
}

/// Settle the provisional snapshots (of one session, or all) whose anchor is now in the
/// ledger; how many settled. Their sessions' new responses are priced first, so a settled
/// snapshot's cost is exact too.
pub fn settle(ctx: &Ctx, store: &mut Store, session: Option<(Agent, &str)>) -> Result<usize> {
    if store.read_only().is_some() {
        return Ok(0);
    }
    let pending = store.unsettled_snapshots(session.map(|(t, s)| (t.as_str(), s)))?;
    let mut settled = 0;
    let mut priced: Vec<(String, String)> = Vec::new();
    for (analysis, snap) in pending {
        let Some(tool) = Agent::parse(&snap.tool) else {
            continue;
        };
        let Some(probe) = snap
            .probe_json
            .as_deref()
            .and_then(|p| serde_json::from_str::<Probe>(p).ok())
        else {
            continue;
        };
        let found = match &probe {
            Probe::Call { call_id } => store.tool_call(&snap.tool, call_id)?,
            Probe::Command { commands, after } => store
                .shell_calls_after(&snap.tool, &snap.session_id, *after)?
                .into_iter()
                .find(|c| runs(c, commands)),
        };
        let Some((call_id, Some(key))) = found.map(|c| (c.call_id, c.response_key)) else {
            continue;
        };
        let session_key = (snap.tool.clone(), snap.session_id.clone());
        if !priced.contains(&session_key) {
            crate::ingest::settle_costs(store, &ctx.pricer, Some((tool, &snap.session_id)))?;
            priced.push(session_key);
        }
        if store.settle_snapshot(&analysis, snap.seq, &call_id, &key)? {
            settled += 1;
        }
    }
    Ok(settled)
}
