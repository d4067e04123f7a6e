//! `tokledger report files`

use anyhow::Result;

use crate::ctx::Ctx;
use crate::reports::files::FileStats;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub filters: super::Filters,
    /// Only this session: its id, or a unique beginning of it
    #[arg(long, value_name = "ID")]
    pub session: Option<String>,
    /// How many files to show
    #[arg(long, default_value_t = 20, conflicts_with = "all")]
    pub limit: usize,
    /// Show every file
    #[arg(long)]
    pub all: bool,
    #[command(flatten)]
    pub format: super::FormatFlags,
}

pub fn run(ctx: &Ctx, args: &Args) -> Result<()> {
    let p = super::prepare(ctx, &args.filters, args.session.as_deref(), false)?;
    let mut files = FileStats::default();
    p.store
        .for_each_tool_call(&p.filter, None, |c| files.add(c))?;
    let report = files.finish((!args.all).then_some(args.limit));
    super::print(&report, args.format.format(ctx, &p))
}
