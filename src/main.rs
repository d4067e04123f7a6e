use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = tokledger::cli::Cli::parse();
    match tokledger::app::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if tokledger::error::is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tokledger: error: {e:#}");
            ExitCode::from(tokledger::error::exit_code_of(&e))
        }
    }
}
