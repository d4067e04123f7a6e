//! `tokledger analysis complete`: final snapshot, deltas, outcome.

use anyhow::Result;

use crate::ctx::Ctx;
use crate::store::analyses::Completion;
use crate::usage::now_rfc3339;

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum FinalStatus {
    Completed,
    Failed,
}

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The analysis: its id, or a unique beginning of it (`ANALYSIS-` may be left out)
    #[arg(long)]
    pub id: String,
    #[arg(long, value_enum, default_value_t = FinalStatus::Completed)]
    pub status: FinalStatus,
    #[arg(long)]
    pub notes: Option<String>,
    #[arg(long)]
    pub claims_extracted: Option<i64>,
    #[arg(long)]
    pub claims_updated: Option<i64>,
    /// Print the row as JSON
    #[arg(long)]
    pub json: bool,
}

pub fn run(ctx: &Ctx, args: &Args) -> Result<()> {
    let mut store = ctx.open_store()?;
    let id = super::analysis_id(&store, &args.id)?;
    let (mode, how) = super::prepare_completion(ctx, &mut store, &id)?;
    let status = match args.status {
        FinalStatus::Completed => "completed",
        FinalStatus::Failed => "failed",
    };
    let row = store.complete_analysis(
        &id,
        &Completion {
            status: status.into(),
            notes: args.notes.clone(),
            claims_extracted: args.claims_extracted,
            claims_updated: args.claims_updated,
            usage_mode: mode.into(),
        },
        &now_rfc3339(),
        &how,
    )?;
    super::warn_unpriced(ctx, &row);
    if args.json {
        return crate::render::analysis::json(&mut std::io::stdout().lock(), &row);
    }
    ctx.status(&format!(
        "{} {}: {} tokens ({} in, {} out)",
        row.id,
        row.status,
        row.total_tokens.unwrap_or(0),
        row.tokens_in.unwrap_or(0),
        row.tokens_out.unwrap_or(0)
    ));
    Ok(())
}
