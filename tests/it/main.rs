//! The integration tests, one binary (each file a module): they link the crate once.
//! They run the built `tokledger` as a real process in a temporary `HOME` with a temporary
//! ledger (`common`).

mod common;

mod anchoring;
mod backfill_export;
mod blocks;
mod cost;
mod fuzz_budget;
mod gemini;
mod hook;
mod hostile_counts;
mod incremental_prop;
mod ingest_cli;
mod ledger_faults;
mod lifecycle;
mod opencode;
mod output_contract;
mod parser_fuzz;
mod parsers;
mod pg;
mod push;
mod reports;
mod robustness;
mod run;
mod skills;
mod statusline;
mod ux;
mod work_tools;
