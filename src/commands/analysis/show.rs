//! `tokledger analysis show`

use anyhow::Result;

use crate::ctx::Ctx;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[arg(long)]
    pub id: String,
    #[arg(long)]
    pub json: bool,
}

pub fn run(ctx: &Ctx, args: &Args) -> Result<()> {
    let store = ctx.open_store()?;
    let row = store.analysis(&args.id)?;
    let mut out = std::io::stdout().lock();
    if args.json {
        crate::render::analysis::json(&mut out, &row)
    } else {
        crate::render::analysis::human(&mut out, &row, ctx.stdout_is_terminal())
    }
}
