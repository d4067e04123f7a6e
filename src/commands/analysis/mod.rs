use anyhow::Result;
use clap::Subcommand;

use crate::agents::Agent;
use crate::ctx::Ctx;
use crate::store::Store;
use crate::store::analyses::Analysis;
use crate::store::snapshots::Counting;

pub mod add;
pub mod backfill_usage;
pub mod complete;
pub mod export;
pub mod list;
pub mod mark;
pub mod run;
pub mod sessions_list;
pub mod show;
pub mod start;
pub mod validate;
pub mod work;

#[derive(Subcommand, Debug)]
pub enum AnalysisCommand {
    /// Start an analysis bound to one agent session; prints its id
    Start(start::Args),
    /// Record a named stage of a running analysis
    Mark(mark::Args),
    /// Close an analysis with its token deltas
    Complete(complete::Args),
    /// Run a command as one analysis: start, run it, complete it; exit with its code
    Run(run::Args),
    /// Add a one-shot row (manual tokens, or the usage of one transcript)
    Add(add::Args),
    /// Show one analysis
    Show(show::Args),
    /// List analyses
    List(list::Args),
    /// Fill rows that lack usage from the transcripts, by their time window
    BackfillUsage(backfill_usage::Args),
    /// Every row and field as YAML, Markdown, JSON or CSV
    Export(export::Args),
    /// Check the analysis rows are consistent (exit 1 when not)
    Validate(validate::Args),
    /// Transcript sessions the ledger knows
    #[command(subcommand)]
    Sessions(SessionsCommand),
}

#[derive(Subcommand, Debug)]
pub enum SessionsCommand {
    /// List sessions, newest first, with their token totals so far
    List(sessions_list::Args),
}

pub fn run(ctx: &Ctx, cmd: AnalysisCommand) -> Result<()> {
    match cmd {
        AnalysisCommand::Start(a) => start::run(ctx, &a),
        AnalysisCommand::Mark(a) => mark::run(ctx, &a),
        AnalysisCommand::Complete(a) => complete::run(ctx, &a),
        AnalysisCommand::Run(a) => run::run(ctx, &a),
        AnalysisCommand::Add(a) => add::run(ctx, &a),
        AnalysisCommand::Show(a) => show::run(ctx, &a),
        AnalysisCommand::List(a) => list::run(ctx, &a),
        AnalysisCommand::BackfillUsage(a) => backfill_usage::run(ctx, &a),
        AnalysisCommand::Export(a) => export::run(ctx, &a),
        AnalysisCommand::Validate(a) => validate::run(ctx, &a),
        AnalysisCommand::Sessions(SessionsCommand::List(a)) => sessions_list::run(ctx, &a),
    }
}

/// Row labels for `tool` (wider than the agents we read: manual and other rows exist).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RowTool {
    Agent(Agent),
    Manual,
    Other,
}

impl RowTool {
    pub fn as_str(self) -> &'static str {
        match self {
            RowTool::Agent(a) => a.as_str(),
            RowTool::Manual => "manual",
            RowTool::Other => "other",
        }
    }

    /// The agent, for a row of one.
    pub fn agent(self) -> Option<Agent> {
        match self {
            RowTool::Agent(a) => Some(a),
            RowTool::Manual | RowTool::Other => None,
        }
    }
}

/// Every label, the agents of the registry first.
static ROW_TOOLS: std::sync::LazyLock<Vec<RowTool>> = std::sync::LazyLock::new(|| {
    Agent::ALL
        .iter()
        .map(|a| RowTool::Agent(*a))
        .chain([RowTool::Manual, RowTool::Other])
        .collect()
});

impl clap::ValueEnum for RowTool {
    fn value_variants<'a>() -> &'a [Self] {
        &ROW_TOOLS
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(self.as_str()))
    }
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum RowStatus {
    /// The ledger's own spelling; `in-progress` is taken too.
    #[value(name = "in_progress", alias = "in-progress")]
    InProgress,
    Completed,
    Failed,
}

impl RowStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RowStatus::InProgress => "in_progress",
            RowStatus::Completed => "completed",
            RowStatus::Failed => "failed",
        }
    }
}

/// The analysis `given` names: its id, or a unique beginning of one (`ANALYSIS-` may be
/// left out: `2026-007`). Several: a usage error listing them (src/ids.rs). None: `given`
/// as it is, for the caller's own "no analysis" error.
pub(crate) fn analysis_id(store: &Store, given: &str) -> Result<String> {
    let mut matches = store.analysis_ids_with_prefix(given)?;
    let mut target = given.to_owned();
    if matches.is_empty() && !given.to_ascii_uppercase().starts_with("ANALYSIS-") {
        target = format!("ANALYSIS-{given}");
        matches = store.analysis_ids_with_prefix(&target)?;
    }
    if matches.is_empty() {
        return Ok(given.to_owned());
    }
    Ok(crate::ids::pick(
        &target,
        matches,
        "analysis",
        "tokledger analysis list",
    )?)
}

/// `start` and `add` print the new id alone (for `id=$(…)`), or the row with `--json`.
fn print_row_or_id(ctx: &Ctx, row: &Analysis, json: bool) -> Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if json {
        return crate::render::analysis::json(&mut out, row);
    }
    writeln!(out, "{}", row.id)?;
    if ctx.verbose {
        ctx.status(&format!(
            "{} bound to {} session {} ({})",
            row.id,
            row.tool,
            row.usage_session_id.as_deref().unwrap_or("-"),
            row.session_binding.as_deref().unwrap_or("-")
        ));
    }
    Ok(())
}

/// Check the row can take `verb`, then read what its session appended since, and decide
/// how its snapshot is counted (anchored to the calling tool call, when there is one).
fn read_bound_session(
    ctx: &Ctx,
    store: &mut Store,
    id: &str,
    verb: &str,
) -> Result<(Analysis, Counting)> {
    let row = store.analysis_if_in_progress(id, verb)?;
    let mut how = Counting::default();
    if let (Some(tool), Some(session)) = (
        row.usage_provider.as_deref().and_then(Agent::parse),
        &row.usage_session_id,
    ) {
        crate::read::read(
            ctx,
            store,
            crate::read::Scope::Session(tool, session),
            crate::read::How::default(),
        )?;
        how = crate::anchor::counting(ctx, store, tool, session)?;
    }
    Ok((row, how))
}

/// Before `complete`: read what the session appended, price what is pending, and name the
/// usage mode of the row's agent (a counter for Codex, summed responses otherwise).
fn prepare_completion(ctx: &Ctx, store: &mut Store, id: &str) -> Result<(&'static str, Counting)> {
    let (row, how) = read_bound_session(ctx, store, id, "complete")?;
    let tool = row.usage_provider.as_deref().and_then(Agent::parse);
    if let (Some(tool), Some(session)) = (tool, &row.usage_session_id) {
        crate::ingest::settle_costs(store, &ctx.pricer, Some((tool, session)))?;
    }
    let mode = tool.map_or("per_message_sum", |t| t.spec().usage_mode());
    Ok((mode, how))
}

/// Name the models whose price is unknown (the reason `cost_usd` is null).
fn warn_unpriced(ctx: &Ctx, row: &Analysis) {
    let models = row.usage_by_model.unpriced_models();
    if !models.is_empty() {
        ctx.warn(&format!(
            "no price known for {}: cost_usd of {} is null (add the model to a price file: see `tokledger prices show`)",
            models.join(", "),
            row.id
        ));
    }
}
