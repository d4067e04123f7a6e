//! Errors that decide an exit code. Everything else is `anyhow` with context (exit 1).

use std::path::PathBuf;

/// Exit codes of SPEC §3.
pub mod exit {
    pub const OK: u8 = 0;
    pub const FAILED: u8 = 1;
    pub const USAGE: u8 = 2;
    pub const AMBIGUOUS: u8 = 3;
    pub const LOCKED: u8 = 75;
    /// A push destination could not be reached, or went away mid-push: retry later
    /// (EX_TEMPFAIL, as for a locked ledger).
    pub const UNREACHABLE: u8 = 75;
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "the ledger {path} stayed locked by another tokledger process for more than {waited_ms} ms; nothing was written (retry, or raise --busy-timeout)"
    )]
    Locked { path: PathBuf, waited_ms: u64 },
    #[error(
        "the ledger {path} has schema version {found}, newer than this tokledger understands ({supported}); upgrade tokledger (the file was left untouched)"
    )]
    DatabaseTooNew {
        path: PathBuf,
        found: i64,
        supported: i64,
    },
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Ambiguous(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    InvalidState(String),
    /// A push destination that did not answer (the message names it and the cause).
    #[error("{0}")]
    Unreachable(String),
    /// `analysis run` exits with its command's code; the command already said why.
    #[error("the command exited with code {0}")]
    ChildExit(u8),
}

impl Error {
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Locked { .. } => exit::LOCKED,
            Error::Unreachable(_) => exit::UNREACHABLE,
            Error::Usage(_) => exit::USAGE,
            Error::Ambiguous(_) => exit::AMBIGUOUS,
            Error::DatabaseTooNew { .. } | Error::NotFound(_) | Error::InvalidState(_) => {
                exit::FAILED
            }
            Error::ChildExit(code) => *code,
        }
    }
}

/// The exit code for any error chain: the first typed error in it decides.
pub fn exit_code_of(err: &anyhow::Error) -> u8 {
    err.chain()
        .find_map(|e| e.downcast_ref::<Error>())
        .map_or(exit::FAILED, Error::exit_code)
}

/// The code of a command `analysis run` ran, when that is what ends this invocation: it
/// exits with it and prints no error of its own.
pub fn child_exit(err: &anyhow::Error) -> Option<u8> {
    err.chain()
        .find_map(|e| e.downcast_ref::<Error>())
        .and_then(|e| match e {
            Error::ChildExit(code) => Some(*code),
            _ => None,
        })
}

pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain()
        .filter_map(|e| e.downcast_ref::<std::io::Error>())
        .any(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
}
