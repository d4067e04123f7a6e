//! `tokledger analysis list`

use anyhow::Result;

use crate::ctx::Ctx;
use crate::store::analyses::AnalysisFilter;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[arg(long)]
    pub source_id: Option<String>,
    #[arg(long, value_enum)]
    pub tool: Option<super::RowTool>,
    #[arg(long, value_enum)]
    pub status: Option<super::RowStatus>,
    /// Rows started at or after (YYYY-MM-DD or RFC 3339)
    #[arg(long)]
    pub since: Option<String>,
    /// Rows started before the end of (YYYY-MM-DD) or at/before (RFC 3339)
    #[arg(long)]
    pub until: Option<String>,
    #[arg(long)]
    pub json: bool,
}

pub fn run(ctx: &Ctx, args: &Args) -> Result<()> {
    let (since, until) = crate::dates::started_range(args.since.as_deref(), args.until.as_deref())?;
    let filter = AnalysisFilter {
        source_id: args.source_id.clone(),
        tool: args.tool.map(|t| t.as_str().to_owned()),
        status: args.status.map(|s| s.as_str().to_owned()),
        since,
        until,
    };
    let store = ctx.open_store()?;
    let rows = store.analyses(&filter)?;
    let mut out = std::io::stdout().lock();
    if args.json {
        crate::render::analysis::json_list(&mut out, &rows)
    } else {
        crate::render::analysis::table(&mut out, &rows, ctx.stdout_is_terminal())
    }
}
