//! The options every command takes (clap types): what `Ctx` is built from. Apart from
//! `cli` so that the commands and `Ctx` need not import the whole command line.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

#[derive(Args, Debug, Clone)]
pub struct GlobalArgs {
    /// Ledger file [default: $XDG_DATA_HOME/tokledger/ledger.db]
    // An empty `TOKLEDGER_DB=` means unset (the default ledger), as for the other variables.
    #[arg(long, global = true, env = "TOKLEDGER_DB", value_name = "PATH", value_parser = ledger_path)]
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
    /// Colour tables: `auto` on a terminal (unless NO_COLOR is set; CLICOLOR_FORCE forces
    /// it), `always`, `never`. JSON and CSV are never coloured
    #[arg(
        long,
        global = true,
        value_enum,
        value_name = "WHEN",
        default_value_t = ColorChoice::Auto
    )]
    pub color: ColorChoice,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// `--db`: a file. SQLite's `:memory:` (or an empty `file:` URI) would take every write and
/// keep none.
fn ledger_path(s: &str) -> Result<PathBuf, String> {
    let t = s.trim();
    if t == ":memory:" || t.starts_with("file:") {
        return Err(
            "the ledger must be a file path (an in-memory ledger would keep nothing)".into(),
        );
    }
    Ok(PathBuf::from(s))
}
