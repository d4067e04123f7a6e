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
    /// A shell's completion script, on stdout (`tokledger completions zsh > ~/.zfunc/_tokledger`)
    Completions(CompletionsArgs),
    /// The man page on stdout, or every page (one per subcommand) into a directory
    Man(ManArgs),
}

#[derive(clap::Args, Debug)]
pub struct CompletionsArgs {
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(clap::Args, Debug)]
pub struct ManArgs {
    /// Write tokledger.1 and a page per subcommand here (e.g. ~/.local/share/man/man1)
    #[arg(long, value_name = "DIR")]
    pub out: Option<std::path::PathBuf>,
}

/// Whether `args` (argv, program name first) invoke `tokledger hook …`, asked of clap itself
/// with its errors ignored (it then parses what it can): so every global option, with its
/// value in either spelling, is skipped as the parser would. Used only when the arguments
/// failed to parse, so the hook can still exit 0.
pub fn is_hook_invocation(args: &[std::ffi::OsString]) -> bool {
    use clap::CommandFactory;
    Cli::command()
        .ignore_errors(true)
        .try_get_matches_from(args)
        .is_ok_and(|m| m.subcommand_name() == Some("hook"))
}

impl ValueEnum for crate::agents::Agent {
    fn value_variants<'a>() -> &'a [Self] {
        crate::agents::Agent::ALL
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(self.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hook(args: &[&str]) -> bool {
        let args: Vec<std::ffi::OsString> = args.iter().map(Into::into).collect();
        is_hook_invocation(&args)
    }

    #[test]
    fn a_hook_is_told_apart_whatever_comes_before_or_after_it() {
        assert!(hook(&["tokledger", "hook", "claude", "--no-such-flag"]));
        assert!(hook(&[
            "tokledger",
            "--anchor-wait",
            "5",
            "hook",
            "claude",
            "--x"
        ]));
        assert!(hook(&[
            "tokledger",
            "--db=/tmp/l.db",
            "-q",
            "hook",
            "claude",
            "x"
        ]));
        assert!(hook(&[
            "tokledger",
            "--busy-timeout",
            "soon",
            "hook",
            "claude"
        ]));
        assert!(hook(&["tokledger", "hook"]));
        assert!(!hook(&["tokledger", "report", "daily", "--no-such-flag"]));
        assert!(!hook(&[
            "tokledger",
            "--db",
            "hook",
            "report",
            "daily",
            "--x"
        ]));
        assert!(!hook(&["tokledger"]));
    }
}
