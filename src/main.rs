use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let cli = match tokledger::cli::Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        // A hook must never fail its agent: Claude Code reads exit 2 (clap's usage error)
        // as "block and show stderr to the model". Say what is wrong, exit 0.
        Err(e) if e.use_stderr() && tokledger::cli::is_hook_invocation(&args) => {
            tokledger::commands::hook::report_unparsed(&e.to_string());
            return ExitCode::SUCCESS;
        }
        Err(e) => e.exit(),
    };
    match tokledger::app::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if tokledger::error::is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => match tokledger::error::child_exit(&e) {
            Some(code) => ExitCode::from(code),
            None => {
                let msg = format!("{e:#}");
                eprintln!(
                    "tokledger: error: {}",
                    tokledger::format::printable(&msg, true)
                );
                ExitCode::from(tokledger::error::exit_code_of(&e))
            }
        },
    }
}
