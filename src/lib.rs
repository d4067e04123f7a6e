//! tokledger: exact token accounting for AI coding agents.
//!
//! ```text
//! main ─► cli (clap types) ─► app (Ctx, dispatch) ─► commands      (thin glue)
//! commands ─┬─► binding ─┐                     (which session)
//!           ├─► anchor ──┼─► read ─► ingest ─┬─► discover      (files on disk)
//!           │            │                   ├─► agents (pure) (bytes → usage, calls)
//!           │            │                   └─► store         (SQL, one writer)
//!           ├─► store                          (queries → plain rows)
//!           ├─► reports (pure)                 (plain rows → report rows)
//!           └─► render                         (report rows → table | JSON | CSV)
//! ```
//! docs/ARCHITECTURE.md walks through it, with the recipe for adding an agent.

pub mod agents;
pub(crate) mod anchor;
pub mod app;
pub(crate) mod binding;
pub mod cli;
pub mod commands;
pub mod cost;
pub(crate) mod ctx;
pub(crate) mod dates;
pub mod discover;
pub mod error;
pub mod format;
pub(crate) mod generate;
pub mod global;
pub(crate) mod ids;
pub mod ingest;
pub(crate) mod money;
pub(crate) mod process;
pub(crate) mod program;
pub mod progress;
pub(crate) mod push;
pub(crate) mod read;
pub(crate) mod render;
pub(crate) mod reports;
pub(crate) mod settle;
pub(crate) mod shell;
pub mod skills;
pub mod store;
pub(crate) mod synthesis;
pub mod usage;
