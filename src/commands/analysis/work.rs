//! The tool calls of analyses over the span of their tokens (`show`, `export --format md`).

use std::collections::HashMap;

use anyhow::Result;

use crate::reports::work::{WorkReport, ends_of, work};
use crate::store::Store;
use crate::store::analyses::Analysis;

/// Per analysis id, what it did; analyses without a session (or a start) have no entry.
/// Every session's calls are read in one pass.
pub fn work_of(store: &Store, rows: &[&Analysis]) -> Result<HashMap<String, WorkReport>> {
    let bound: Vec<(&Analysis, (String, String))> = rows
        .iter()
        .filter_map(|a| Some((*a, (a.usage_provider.clone()?, a.usage_session_id.clone()?))))
        .collect();
    if bound.is_empty() {
        return Ok(HashMap::new());
    }
    let mut sessions: Vec<(String, String)> = bound.iter().map(|(_, k)| k.clone()).collect();
    sessions.sort();
    sessions.dedup();
    let calls = store.calls_of_sessions(&sessions)?;
    let mut out = HashMap::new();
    for (a, (tool, session)) in bound {
        let ms = |t: &Option<String>| t.as_deref().and_then(crate::usage::parse_ts_ms);
        let Some(ends) = ends_of(
            &store.snapshot_ends(&a.id)?,
            ms(&a.started_at),
            ms(&a.completed_at),
            a.status == "in_progress",
        ) else {
            continue;
        };
        let project = store.session_project(&tool, &session)?;
        let none = Vec::new();
        let these = calls.get(&(tool.clone(), session.clone())).unwrap_or(&none);
        out.insert(
            a.id.clone(),
            work(&tool, &session, project.as_deref(), these, &ends),
        );
    }
    Ok(out)
}
