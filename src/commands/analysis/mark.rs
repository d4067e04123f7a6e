//! `tokledger analysis mark`: append a stage with the session total and the delta.

use anyhow::Result;

use crate::ctx::Ctx;
use crate::usage::now_rfc3339;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The analysis: its id, or a unique beginning of it (`ANALYSIS-` may be left out)
    #[arg(long)]
    pub id: String,
    /// The stage's name
    #[arg(long)]
    pub stage: String,
    /// Print the row as JSON
    #[arg(long)]
    pub json: bool,
}

pub fn run(ctx: &Ctx, args: &Args) -> Result<()> {
    let mut store = ctx.open_store()?;
    let id = super::analysis_id(&store, &args.id)?;
    let (_, how) = super::read_bound_session(ctx, &mut store, &id, "mark")?;
    let row = store.mark_analysis(&id, &args.stage, &now_rfc3339(), &how)?;
    if args.json {
        return crate::render::analysis::json(&mut std::io::stdout().lock(), &row);
    }
    if let Some(s) = row.stages.last() {
        ctx.status(&format!("{} {}: +{} tokens", row.id, s.stage, s.delta));
    }
    Ok(())
}
