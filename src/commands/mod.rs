//! One module per leaf command: an `Args` struct and a `run` function.

pub mod analysis;
pub mod hook;
pub mod prices;
pub mod report;
pub mod skills;

use anyhow::Result;

use crate::ctx::Ctx;
use crate::store::Store;
use crate::usage::Agent;

/// The incremental read every reading command starts with; warnings go to stderr. `price`:
/// the command will want costs, so a large read prices responses as it goes (`sessions list`
/// does not: it leaves them for the first command that asks).
pub fn read_transcripts(
    ctx: &Ctx,
    store: &mut Store,
    tools: &[Agent],
    price: bool,
) -> Result<crate::ingest::IngestReport> {
    let formats: Vec<_> = tools.iter().map(|t| t.spec()).collect();
    let files = crate::discover::discover(&ctx.env, &formats);
    let show = !ctx.quiet && std::io::IsTerminal::is_terminal(&std::io::stderr());
    let report = crate::ingest::ingest_with(
        store,
        files,
        price.then_some(&ctx.pricer),
        ctx.read_deadline,
        &mut crate::render::progress::Progress::new(show),
    )?;
    for w in report.warnings() {
        ctx.warn(&w);
    }
    crate::anchor::settle(ctx, store, None)?;
    if ctx.verbose {
        ctx.status(&format!(
            "read {} of {} transcript files ({} bytes, {} responses)",
            report.files_read, report.files_seen, report.bytes_read, report.usage_events
        ));
    }
    Ok(report)
}
