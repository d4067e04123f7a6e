//! `tokledger report model`

use anyhow::Result;

use crate::ctx::Ctx;
use crate::reports::usage::UsageKind;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub usage: super::UsageArgs,
}

pub fn run(ctx: &Ctx, args: &Args) -> Result<()> {
    super::session_model_report(ctx, &args.usage, UsageKind::Model)
}
