use anyhow::Result;
use clap::Subcommand;

use crate::ctx::Ctx;

pub mod show;

#[derive(Subcommand, Debug)]
pub enum PricesCommand {
    /// The rates that would price a model, and where they come from
    Show(show::Args),
}

pub fn run(ctx: &Ctx, cmd: PricesCommand) -> Result<()> {
    match cmd {
        PricesCommand::Show(a) => show::run(ctx, &a),
    }
}
