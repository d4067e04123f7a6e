//! One chunk into the current write transaction, and into the read's report.

use std::collections::HashMap;

use anyhow::Result;

use super::IngestReport;
use super::file::Chunk;
use crate::discover::SourceFile;
use crate::store::write::{FileUpdate, IngestTx};

/// How many implausible responses a warning names.
const EXAMPLES: usize = 3;

/// Count a chunk into the report.
pub(super) fn account(
    f: &SourceFile,
    chunk: &Chunk,
    report: &mut IngestReport,
    malformed_in_file: &mut usize,
) {
    if let Some(e) = &chunk.error {
        report.unreadable.push(e.clone());
        *malformed_in_file = 0;
        return;
    }
    let p = &chunk.parsed;
    report.bytes_read += chunk.bytes;
    report.usage_events += p.usage.len();
    report.malformed_lines += p.malformed;
    report.lossy_lines += p.lossy_utf8;
    *malformed_in_file += p.malformed;
    for e in p.usage.iter().filter(|e| !e.tokens.plausible()) {
        report.implausible += 1;
        if report.implausible_examples.len() < EXAMPLES {
            report.implausible_examples.push(format!(
                "{} response {} ({:?})",
                f.path.display(),
                e.dedup_key,
                e.tokens
            ));
        }
    }
    if chunk.last {
        report.files_read += 1;
        report.incomplete_files += usize::from(p.incomplete_tail);
        report.malformed_files += usize::from(*malformed_in_file > 0);
        *malformed_in_file = 0;
    }
}

pub(super) fn write_chunk(
    w: &mut IngestTx<'_>,
    f: &SourceFile,
    chunk: &Chunk,
    now_ms: i64,
) -> Result<()> {
    let fmt = f.tool.spec();
    let p = &chunk.parsed;
    let path = f.path.to_string_lossy();
    // A file whose content names its session (old-layout sub-agent files) is filed under
    // the first session it names.
    let session = f
        .role
        .session_hint
        .as_deref()
        .or_else(|| p.sessions.first().map(|s| s.session_id.as_str()));
    let file_id = w.save_file(&FileUpdate {
        path: &path,
        tool: f.tool,
        session_id: session,
        // Until the last chunk is in, the record must not look like the whole file was
        // read: a run stopped between chunks then resumes from `consumed` next time.
        size: if chunk.last {
            crate::store::to_i64(f.size)
        } else {
            -1
        },
        mtime_ns: f.mtime_ns,
        consumed: crate::store::to_i64(chunk.consumed),
        head_hash: chunk.hashes.0,
        tail_hash: chunk.hashes.1,
        parser_version: fmt.parser_version(),
        parser_state: p.state.as_deref(),
        read_at_ms: now_ms,
    })?;
    // One absurd counter must not poison the session's totals: such a response is left out
    // (and named in the read's warnings).
    for e in p.usage.iter().filter(|e| e.tokens.plausible()) {
        w.add_usage(f.tool, file_id, e)?;
    }
    for c in &p.tools {
        w.add_tool_call(f.tool, c)?;
    }
    for c in &p.compactions {
        w.add_compaction(f.tool, c)?;
    }
    let mtime_ms = f.mtime_ns / 1_000_000;
    let main = f.role.main && !f.archived;
    // A database holds every session: its file's time says when any of them changed, so a
    // session's own last activity stands for it.
    let shared = fmt.database(&f.path).is_some();
    let mut touched: HashMap<&str, ()> = HashMap::new();
    for s in &p.sessions {
        touched.insert(&s.session_id, ());
        let modified = if shared {
            s.last_ts_ms.unwrap_or(mtime_ms)
        } else {
            mtime_ms
        };
        w.touch_session(f.tool, s, &path, main, modified)?;
    }
    if let Some(hint) = f.role.session_hint.as_deref()
        && !touched.contains_key(hint)
    {
        w.touch_session(
            f.tool,
            &crate::usage::SessionInfo::new(hint),
            &path,
            main,
            mtime_ms,
        )?;
    }
    Ok(())
}
