//! Dispatch: one `match` from the parsed command to its function.

use anyhow::Result;

use crate::cli::{Cli, Command};
use crate::commands;
use crate::ctx::Ctx;

pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        // The hook resolves its settings itself: it must exit 0 even when they are wrong.
        Command::Hook(cmd) => commands::hook::run(&cli.global, &cmd),
        Command::Statusline(a) => commands::statusline::run(&cli.global, &a),
        Command::Analysis(cmd) => commands::analysis::run(&Ctx::new(&cli.global)?, cmd),
        Command::Prices(cmd) => commands::prices::run(&Ctx::new(&cli.global)?, cmd),
        Command::Skills(cmd) => commands::skills::run(&Ctx::new(&cli.global)?, &cmd),
        Command::Report(cmd) => commands::report::run(&Ctx::new(&cli.global)?, cmd),
        Command::Push(args) => commands::push::run(&Ctx::new(&cli.global)?, &args),
        // From the clap definition alone: no ledger, no settings.
        Command::Completions(a) => {
            crate::generate::completions(a.shell, &mut std::io::stdout().lock())
        }
        Command::Man(a) => {
            let n = crate::generate::man(a.out.as_deref(), &mut std::io::stdout().lock())?;
            if let Some(dir) = &a.out
                && !cli.global.quiet
            {
                eprintln!("wrote {n} man pages into {}", dir.display());
            }
            Ok(())
        }
    }
}
