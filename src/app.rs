//! Dispatch: one `match` from the parsed command to its function.

use anyhow::Result;

use crate::cli::{Cli, Command};
use crate::commands;
use crate::ctx::Ctx;

pub fn run(cli: Cli) -> Result<()> {
    let ctx = Ctx::new(&cli.global)?;
    match cli.command {
        Command::Analysis(cmd) => commands::analysis::run(&ctx, cmd),
        Command::Report(cmd) => commands::report::run(&ctx, cmd),
    }
}
