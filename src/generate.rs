//! Shell completions and man pages, generated from the clap definition (`Cli::command()`),
//! so they never disagree with the parser.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};
use clap::CommandFactory;

use crate::cli::Cli;

/// The completion script of `shell` on `out`.
pub fn completions(shell: clap_complete::Shell, out: &mut dyn Write) -> Result<()> {
    let mut cmd = Cli::command();
    // Into a buffer first: clap_complete panics on a write error (a closed pipe).
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut cmd, "tokledger", &mut buf);
    out.write_all(&buf)?;
    Ok(())
}

/// `tokledger.1` on `out`, or, with `dir`, that page and one per subcommand
/// (`tokledger-report-daily.1`, …) written into `dir`; returns how many pages were written.
pub fn man(dir: Option<&Path>, out: &mut dyn Write) -> Result<usize> {
    let cmd = Cli::command();
    match dir {
        None => {
            let mut buf = Vec::new();
            clap_mangen::Man::new(cmd).render(&mut buf)?;
            out.write_all(&buf)?;
            Ok(1)
        }
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("could not create {}", dir.display()))?;
            clap_mangen::generate_to(cmd, dir)
                .with_context(|| format!("could not write man pages into {}", dir.display()))?;
            Ok(std::fs::read_dir(dir)?
                .filter_map(Result::ok)
                .filter(|e| e.path().extension().is_some_and(|x| x == "1"))
                .count())
        }
    }
}
