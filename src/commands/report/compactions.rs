//! `tokledger report compactions`

use anyhow::Result;

use crate::ctx::Ctx;
use crate::reports::compactions;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub filters: super::Filters,
    /// Only this session: its id, or a unique beginning of it
    #[arg(long, value_name = "ID")]
    pub session: Option<String>,
    #[command(flatten)]
    pub format: super::FormatFlags,
}

pub fn run(ctx: &Ctx, args: &Args) -> Result<()> {
    let p = super::prepare(
        ctx,
        &args.filters,
        args.session.as_deref(),
        args.format.table(),
    )?;
    let report = compactions::by_session(&p.store.compaction_rows(&p.filter)?);
    super::print(&report, args.format.format(ctx, &p))
}
