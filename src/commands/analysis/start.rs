//! `tokledger analysis start`: bind a session, record its total as the baseline, print the id.

use std::path::PathBuf;

use anyhow::Result;

use crate::binding::{Explicit, resolve};
use crate::cli::ToolArg;
use crate::ctx::Ctx;
use crate::store::analyses::NewAnalysis;
use crate::usage::{Tool, now_rfc3339};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// What is analysed (free text)
    #[arg(long)]
    pub source_id: String,
    /// The agent whose session this analysis runs in
    #[arg(long, value_enum)]
    pub tool: ToolArg,
    /// A model label for the row
    #[arg(long)]
    pub model: Option<String>,
    /// A pass label (1, 2, synthesis, …)
    #[arg(long)]
    pub pass: Option<String>,
    /// Bind to this session (UUID, Codex thread id or Amp T-… id)
    #[arg(long, conflicts_with = "usage_session_path")]
    pub usage_session_id: Option<String>,
    /// Bind to the session of this transcript file
    #[arg(long)]
    pub usage_session_path: Option<PathBuf>,
    /// What a synthesis was built from (comma-separated source ids)
    #[arg(long, value_delimiter = ',')]
    pub inputs_source_ids: Option<Vec<String>>,
    /// What a synthesis was built from (comma-separated analysis ids)
    #[arg(long, value_delimiter = ',')]
    pub inputs_analysis_ids: Option<Vec<String>>,
    #[arg(long)]
    pub notes: Option<String>,
    /// Sessions modified within this many seconds of the newest are ambiguous
    #[arg(
        long,
        env = "TOKLEDGER_AMBIGUITY_WINDOW",
        default_value_t = 120.0,
        value_name = "SECS"
    )]
    pub ambiguity_window: f64,
    /// Print the row as JSON instead of the id
    #[arg(long)]
    pub json: bool,
}

pub fn run(ctx: &Ctx, args: &Args) -> Result<()> {
    let tool: Tool = args.tool.into();
    let mut store = ctx.open_store()?;
    let explicit = Explicit {
        session_id: args.usage_session_id.clone(),
        session_path: args.usage_session_path.clone(),
        window_secs: args.ambiguity_window,
    };
    let binding = resolve(ctx, &mut store, tool, &explicit)?;
    // Priced now, so the cost at completion is exactly what came after.
    crate::ingest::settle_costs(&mut store, &ctx.pricer, Some((tool, &binding.session_id)))?;
    let baseline = store.session_snapshot(tool.as_str(), &binding.session_id)?;
    if baseline.0.is_empty() && store.session_files(tool, &binding.session_id)?.is_empty() {
        ctx.warn(&format!(
            "no {tool} transcript for session {} yet: its baseline is 0",
            binding.session_id
        ));
    }
    let row = store.create_analysis(
        &NewAnalysis {
            source_id: args.source_id.clone(),
            pass: args.pass.clone(),
            status: "in_progress".into(),
            tool: tool.as_str().into(),
            model: args.model.clone(),
            started_at: Some(now_rfc3339()),
            notes: args.notes.clone(),
            tokens_baseline: Some(baseline.total()),
            usage_provider: Some(tool.as_str().into()),
            usage_session_id: Some(binding.session_id.clone()),
            inputs_source_ids: args.inputs_source_ids.clone(),
            inputs_analysis_ids: args.inputs_analysis_ids.clone(),
            session_binding: Some(binding.how.into()),
            baseline: Some(baseline),
            ..NewAnalysis::default()
        },
        crate::dates::year_now(),
    )?;
    super::print_row_or_id(ctx, &row, args.json)
}
