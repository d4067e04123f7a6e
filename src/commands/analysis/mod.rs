use anyhow::Result;
use clap::Subcommand;

use crate::ctx::Ctx;

pub mod sessions_list;

#[derive(Subcommand, Debug)]
pub enum AnalysisCommand {
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
        AnalysisCommand::Sessions(SessionsCommand::List(a)) => sessions_list::run(ctx, &a),
    }
}
