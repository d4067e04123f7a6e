//! Command-line types only (clap); no logic.

use clap::{Parser, Subcommand, ValueEnum};

pub use crate::global::{ColorChoice, GlobalArgs};

use crate::commands::analysis::AnalysisCommand;
use crate::commands::hook::HookCommand;
use crate::commands::report::ReportCommand;
use crate::commands::skills::SkillsCommand;

#[derive(Parser, Debug)]
#[command(
    name = "tokledger",
    version,
    about = "Exact token and cost accounting for AI coding agents, per analysis",
    after_help = "Exit codes: 0 ok; 1 failed (unknown id, invalid transition, I/O, validation); \
                  2 usage error; 3 session ambiguous; 75 ledger locked past the busy timeout, or a push \
                  destination unreachable (retry later)."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Record analyses and read sessions
    #[command(subcommand)]
    Analysis(AnalysisCommand),
    /// Tokens by day, week, month, session or model; tool calls, files and compactions
    #[command(subcommand)]
    Report(ReportCommand),
    /// Model prices
    #[command(subcommand)]
    Prices(crate::commands::prices::PricesCommand),
    /// Agent hooks: read the event on stdin, never block or fail the agent
    #[command(subcommand)]
    Hook(HookCommand),
    /// Claude Code's status line: the running analysis, the session and today, on one line
    /// (reads the status JSON on stdin; always exits 0)
    Statusline(crate::commands::statusline::Args),
    /// Send what is new in the ledger to a shared PostgreSQL database (docs/TEAM.md)
    Push(crate::commands::push::Args),
    /// The agents' skill files, rendered from templates/
    #[command(subcommand)]
    Skills(SkillsCommand),
}

/// Whether `args` (argv, program name first) invoke `tokledger hook …`: the first word that
/// is neither an option nor the value of a global option is `hook`. Used only when the
/// arguments failed to parse, so the hook can still exit 0.
pub fn is_hook_invocation(args: &[std::ffi::OsString]) -> bool {
    const TAKES_VALUE: [&str; 4] = ["--db", "--busy-timeout", "--color", "--prices"];
    let mut words = args.iter().skip(1).map(|a| a.to_string_lossy());
    while let Some(w) = words.next() {
        if TAKES_VALUE.contains(&w.as_ref()) {
            words.next();
        } else if !w.starts_with('-') {
            return w == "hook";
        }
    }
    false
}

impl ValueEnum for crate::agents::Agent {
    fn value_variants<'a>() -> &'a [Self] {
        crate::agents::Agent::ALL
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(self.as_str()))
    }
}
