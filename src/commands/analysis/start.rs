//! `tokledger analysis start`: bind a session, record its total as the baseline, print the id.

use std::path::PathBuf;

use anyhow::Result;

use crate::agents::Agent;
use crate::binding::{Binding, Explicit, resolve};
use crate::ctx::Ctx;
use crate::store::Store;
use crate::store::analyses::{Analysis, NewAnalysis};
use crate::usage::{Snapshot, now_rfc3339};

/// What a new analysis is and how its session is found; shared by `start` and `run`.
#[derive(clap::Args, Debug, Clone)]
pub struct StartOptions {
    /// What is analysed (free text)
    #[arg(long)]
    pub source_id: String,
    /// The agent whose session this analysis runs in
    #[arg(long, value_enum)]
    pub tool: Agent,
    /// A model label for the row
    #[arg(long)]
    pub model: Option<String>,
    /// A pass label (1, 2, synthesis, …)
    #[arg(long)]
    pub pass: Option<String>,
    /// Bind to this session (UUID, Codex thread id or Amp T-… id), or the one known session
    /// whose id begins with it
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
    /// Accept a --usage-session-id that no transcript knows yet (its baseline is then 0):
    /// for a session whose transcript will appear later
    #[arg(long)]
    pub allow_unseen_session: bool,
    /// Sessions modified within this many seconds of the newest are ambiguous
    #[arg(
        long,
        env = "TOKLEDGER_AMBIGUITY_WINDOW",
        default_value_t = 120.0,
        value_name = "SECS"
    )]
    pub ambiguity_window: f64,
}

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub opts: StartOptions,
    /// Print the row as JSON instead of the id
    #[arg(long)]
    pub json: bool,
}

impl StartOptions {
    /// The explicit binding flags. An empty `--usage-session-id ""` is what a skill's
    /// `"${CLAUDE_SESSION_ID}"` becomes where nothing substituted it (an agent that reads
    /// Claude skills without that substitution): treated as absent, with a warning, so the
    /// other rules still bind instead of a session named "".
    pub fn explicit(&self, ctx: &Ctx) -> Explicit {
        let blank = |s: &str| s.trim().is_empty();
        let session_id = match &self.usage_session_id {
            Some(s) if blank(s) => {
                ctx.warn("--usage-session-id is empty (an unsubstituted session variable?); using the other binding rules");
                None
            }
            other => other.clone(),
        };
        let session_path = self
            .usage_session_path
            .clone()
            .filter(|p| !blank(&p.to_string_lossy()));
        Explicit {
            session_id,
            session_path,
            window_secs: self.ambiguity_window,
        }
    }

    /// The row `start` inserts, bound to `binding` (none: `run` binds it later).
    pub fn new_row(&self, bound: Option<(&Binding, &Snapshot)>) -> NewAnalysis {
        let tool: Agent = self.tool;
        NewAnalysis {
            source_id: self.source_id.clone(),
            pass: self.pass.clone(),
            status: "in_progress".into(),
            tool: tool.as_str().into(),
            model: self.model.clone(),
            started_at: Some(now_rfc3339()),
            notes: self.notes.clone(),
            tokens_baseline: bound.map(|(_, s)| s.total()),
            usage_provider: bound.map(|_| tool.as_str().into()),
            usage_session_id: bound.map(|(b, _)| b.session_id.clone()),
            inputs_source_ids: self.inputs_source_ids.clone(),
            inputs_analysis_ids: self.inputs_analysis_ids.clone(),
            session_binding: bound.map(|(b, _)| b.how.into()),
            baseline: bound.map(|(_, s)| s.clone()),
            ..NewAnalysis::default()
        }
    }
}

/// The session's baseline now, warning when it has no transcript yet. Its responses are
/// priced first, so the cost at completion is exactly what came after.
///
/// A session no transcript knows, named by `--usage-session-id` and by nothing the agent
/// itself says, is refused (exit 1): a typo would otherwise make a row bound to nothing that
/// counts 0 for ever. `--allow-unseen-session` accepts it, for a transcript that will appear
/// later; the agent's own word (its variables, a running Claude Code above us) is trusted
/// the same way, since its transcript may not be on disk yet.
pub fn baseline(
    ctx: &Ctx,
    store: &mut Store,
    tool: Agent,
    binding: &Binding,
    allow_unseen: bool,
) -> Result<Snapshot> {
    let session_id = binding.session_id.as_str();
    crate::ingest::settle_costs(store, &ctx.pricer, Some((tool, session_id)))?;
    let baseline = store.session_snapshot(tool.as_str(), session_id)?;
    if baseline.0.is_empty() && store.session_files(tool, session_id)?.is_empty() {
        let vouched = allow_unseen
            || binding.how != "usage_session_id"
            || crate::binding::agent_says(ctx, tool, session_id);
        if !vouched {
            return Err(crate::error::Error::NotFound(format!(
                "no {tool} transcript knows session {session_id}: check the id (`tokledger analysis sessions list --tool {tool}`), or pass --allow-unseen-session if its transcript will appear later"
            ))
            .into());
        }
        ctx.warn(&format!(
            "no {tool} transcript for session {session_id} yet: its baseline is 0"
        ));
    }
    Ok(baseline)
}

/// Resolve the session and insert the bound row, its baseline anchored to the calling tool
/// call when an agent's tool call runs us (SPEC "What a snapshot counts").
pub fn start_bound(ctx: &Ctx, store: &mut Store, opts: &StartOptions) -> Result<Analysis> {
    let tool: Agent = opts.tool;
    let mut binding = resolve(ctx, store, tool, &opts.explicit(ctx))?;
    if binding.how == "usage_session_id" {
        binding.session_id =
            crate::binding::expand_session_prefix(ctx, store, tool, &binding.session_id)?;
    }
    let counting = crate::anchor::counting(ctx, store, tool, &binding.session_id)?;
    let snap = baseline(ctx, store, tool, &binding, opts.allow_unseen_session)?;
    let mut row = opts.new_row(Some((&binding, &snap)));
    row.counting = Some(counting);
    store.create_analysis(&row, crate::dates::year_now())
}

pub fn run(ctx: &Ctx, args: &Args) -> Result<()> {
    let mut store = ctx.open_store()?;
    let row = start_bound(ctx, &mut store, &args.opts)?;
    super::print_row_or_id(ctx, &row, args.json)
}
