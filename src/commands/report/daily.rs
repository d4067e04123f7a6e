//! `tokledger report daily`

use anyhow::Result;

use crate::ctx::Ctx;
use crate::reports::usage::Period;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub usage: super::UsageArgs,
}

pub fn run(ctx: &Ctx, args: &Args) -> Result<()> {
    super::period_report(ctx, &args.usage, Period::Day)
}
