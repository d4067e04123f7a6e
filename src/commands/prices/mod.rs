use anyhow::Result;
use clap::Subcommand;

use crate::ctx::Ctx;

pub mod reprice;
pub mod show;

#[derive(Subcommand, Debug)]
pub enum PricesCommand {
    /// The rates that would price a model, and where they come from
    Show(show::Args),
    /// Price every response in the ledger again with this run's prices (reads do this by
    /// themselves when the prices changed)
    Reprice(reprice::Args),
}

pub fn run(ctx: &Ctx, cmd: PricesCommand) -> Result<()> {
    match cmd {
        PricesCommand::Show(a) => show::run(ctx, &a),
        PricesCommand::Reprice(a) => reprice::run(ctx, &a),
    }
}
