//! Command-line types only (clap); no logic.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

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
                  2 usage error; 3 session ambiguous; 75 ledger locked past the busy timeout."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Args, Debug, Clone)]
pub struct GlobalArgs {
    /// Ledger file [default: $XDG_DATA_HOME/tokledger/ledger.db]
    #[arg(long, global = true, env = "TOKLEDGER_DB", value_name = "PATH")]
    pub db: Option<PathBuf>,
    /// How long to wait for another process's write lock, in seconds
    #[arg(
        long,
        global = true,
        env = "TOKLEDGER_BUSY_TIMEOUT",
        value_name = "SECS",
        default_value_t = 10.0
    )]
    pub busy_timeout: f64,
    /// How long a snapshot taken inside an agent's tool call waits for the call's response
    /// to reach the transcript before it is stored as provisional, in seconds
    #[arg(
        long,
        global = true,
        env = "TOKLEDGER_ANCHOR_WAIT",
        value_name = "SECS",
        default_value_t = 5.0
    )]
    pub anchor_wait: f64,
    /// A price file adding or overriding models [default: $XDG_CONFIG_HOME/tokledger/prices.toml if present]
    #[arg(long, global = true, env = "TOKLEDGER_PRICES", value_name = "FILE")]
    pub prices: Option<PathBuf>,
    /// Print no status or progress (data and errors still print)
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Print more detail on stderr
    #[arg(short, long, global = true)]
    pub verbose: bool,
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
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
