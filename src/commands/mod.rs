//! One module per leaf command: an `Args` struct and a `run` function.

pub mod analysis;
pub mod report;

use anyhow::Result;

use crate::ctx::Ctx;
use crate::store::Store;
use crate::usage::Tool;

/// The incremental read every reading command starts with; warnings go to stderr.
pub fn read_transcripts(
    ctx: &Ctx,
    store: &mut Store,
    tools: &[Tool],
) -> Result<crate::ingest::IngestReport> {
    let formats: Vec<_> = tools
        .iter()
        .map(|t| crate::transcript::format_for(*t))
        .collect();
    let files = crate::discover::discover(&ctx.env, &formats);
    let report = crate::ingest::ingest(store, files)?;
    for w in report.warnings() {
        ctx.warn(&w);
    }
    if ctx.verbose {
        ctx.status(&format!(
            "read {} of {} transcript files ({} bytes, {} responses)",
            report.files_read, report.files_seen, report.bytes_read, report.usage_events
        ));
    }
    Ok(report)
}
