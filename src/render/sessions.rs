//! `sessions list` output.

use std::io::Write;

use anyhow::Result;
use serde::Serialize;

use super::human::{short_time, tail, thousands};
use crate::store::sessions::SessionSummary;
use crate::usage::format_ts_ms;

/// One session in the JSON of SPEC §3.
#[derive(Serialize)]
pub struct SessionJson<'a> {
    pub tool: &'a str,
    pub session_id: &'a str,
    pub path: Option<&'a str>,
    pub project: Option<&'a str>,
    pub last_modified: Option<String>,
    pub first_timestamp: Option<String>,
    pub last_timestamp: Option<String>,
    pub models: &'a [String],
    pub input_tokens: i64,
    pub cache_creation_tokens: i64,
    pub cache_read_tokens: i64,
    pub output_tokens: i64,
    pub reasoning_tokens: i64,
    pub tokens_so_far: i64,
}

impl<'a> From<&'a SessionSummary> for SessionJson<'a> {
    fn from(s: &'a SessionSummary) -> Self {
        SessionJson {
            tool: &s.tool,
            session_id: &s.session_id,
            path: s.path.as_deref(),
            project: s.project.as_deref(),
            last_modified: s.last_modified_ms.map(format_ts_ms),
            first_timestamp: s.first_ts_ms.map(format_ts_ms),
            last_timestamp: s.last_ts_ms.map(format_ts_ms),
            models: &s.models,
            input_tokens: s.tokens.input_tokens,
            cache_creation_tokens: s.tokens.cache_creation_tokens,
            cache_read_tokens: s.tokens.cache_read_tokens,
            output_tokens: s.tokens.output_tokens,
            reasoning_tokens: s.tokens.reasoning_tokens,
            tokens_so_far: s.tokens.total(),
        }
    }
}

pub fn json(out: &mut dyn Write, rows: &[SessionSummary]) -> Result<()> {
    #[derive(Serialize)]
    struct Doc<'a> {
        sessions: Vec<SessionJson<'a>>,
    }
    super::write_json(
        out,
        &Doc {
            sessions: rows.iter().map(SessionJson::from).collect(),
        },
    )
}

pub fn table(out: &mut dyn Write, rows: &[SessionSummary], tty: bool) -> Result<()> {
    if rows.is_empty() {
        writeln!(out, "no sessions found")?;
        return Ok(());
    }
    let mut t = super::new_table(
        &[
            "tool",
            "session",
            "project",
            "last modified",
            "tokens",
            "models",
        ],
        tty,
    );
    for s in rows {
        t.add_row(vec![
            s.tool.clone(),
            s.session_id.clone(),
            tail(s.project.as_deref().unwrap_or("-"), 32),
            short_time(s.last_modified_ms),
            thousands(s.tokens.total()),
            s.models.join(", "),
        ]);
    }
    if let Some(c) = t.column_mut(4) {
        c.set_cell_alignment(comfy_table::CellAlignment::Right);
    }
    super::write_table(out, &t)
}
