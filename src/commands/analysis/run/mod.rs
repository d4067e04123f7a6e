//! `tokledger analysis run … -- COMMAND`: start an analysis, run the command (stdio passed
//! through, signals forwarded), complete the analysis as `completed` (exit 0) or `failed`,
//! and exit with the command's own code.
//!
//! Which session. With `--usage-session-id`/`--usage-session-path` the row is bound at the
//! start, as `start` would. Otherwise the binding waits until the command has run: the
//! usual rules would name the session tokledger runs *in* (an ancestor Claude Code, an
//! inherited `CODEX_THREAD_ID`), not the one the command creates. Before the command, every
//! transcript of the tool is read and each session's usage and each file's size and mtime
//! are kept; after it, in this order:
//! 1. a session id the command printed on stdout (`codex exec --json`'s `thread.started`;
//!    Claude's `-p --output-format json|stream-json`) — `run_printed_id`;
//! 2. the sessions whose files are new or changed: one of them (or only one that spent
//!    tokens) — `run_changed_session`; several that spent tokens — the one that spent the
//!    most, with a warning naming the others — `run_most_growth`;
//! 3. nothing changed: the usual rules of `start` (the delta is then 0); when those are
//!    ambiguous too, the row is completed without a session and its token fields stay NULL.
//!
//! The baseline is the session's usage before the command: 0 for a session it created.

mod bind;
mod child;

use std::ffi::OsString;

use anyhow::Result;

use super::start::StartOptions;
use crate::agents::Agent;
use crate::ctx::Ctx;
use crate::error::Error;
use crate::render::human::thousands;
use crate::store::Store;
use crate::store::analyses::{Analysis, Completion};
use crate::usage::now_rfc3339;
use bind::{Before, settle, take_before};
use child::{Outcome, run_child};

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub opts: StartOptions,
    /// The command to run and its arguments, after `--`
    #[arg(last = true, required = true, value_name = "COMMAND")]
    pub command: Vec<OsString>,
}

pub fn run(ctx: &Ctx, args: &Args) -> Result<()> {
    let tool: Agent = args.opts.tool;
    let mut store = ctx.open_store()?;
    let explicit = args.opts.explicit(ctx);
    let watch = explicit.session_id.is_none() && explicit.session_path.is_none();
    let (row, before) = if watch {
        let before = take_before(ctx, &mut store, tool)?;
        let row = store.create_analysis(&args.opts.new_row(None), crate::dates::year_now())?;
        (row, Some(before))
    } else {
        (
            super::start::start_bound(ctx, &mut store, &args.opts)?,
            None,
        )
    };
    let shown = crate::shell::join(
        &args
            .command
            .iter()
            .map(|a| a.to_string_lossy())
            .collect::<Vec<_>>(),
    );
    ctx.status(&format!("tokledger: {} started; running {shown}", row.id));

    // An agent that prints no session id a wrapper could read: its stdout is left alone.
    let scan = watch
        .then_some(tool)
        .filter(|t| t.spec().prints_session_id());
    let outcome = run_child(ctx, &args.command, &shown, scan)?;

    match finish(
        ctx,
        &mut store,
        &row,
        tool,
        before.as_ref(),
        &outcome,
        &args.opts,
    ) {
        Ok(done) => eprintln!("tokledger: {}", summary(&done, outcome.code)),
        Err(e) => {
            eprintln!(
                "tokledger: error: could not complete {}: {e:#} (close it with `tokledger analysis complete --id {} --status …`)",
                row.id, row.id
            );
            // The command's own failure is the one the caller needs to see.
            if outcome.code == 0 {
                return Err(Error::ChildExit(crate::error::exit_code_of(&e)).into());
            }
        }
    }
    if outcome.code == 0 {
        Ok(())
    } else {
        Err(Error::ChildExit(outcome.code).into())
    }
}

fn finish(
    ctx: &Ctx,
    store: &mut Store,
    row: &Analysis,
    tool: Agent,
    before: Option<&Before>,
    outcome: &Outcome,
    opts: &StartOptions,
) -> Result<Analysis> {
    if let Some(before) = before
        && outcome.ran
        && let Some((b, baseline)) =
            settle(ctx, store, tool, before, outcome.printed.as_deref(), opts)?
    {
        store.bind_analysis(&row.id, tool.as_str(), &b.session_id, b.how, &baseline)?;
    }
    let (mode, how) = super::prepare_completion(ctx, store, &row.id)?;
    store.complete_analysis(
        &row.id,
        &Completion {
            status: if outcome.code == 0 {
                "completed"
            } else {
                "failed"
            }
            .into(),
            usage_mode: mode.into(),
            ..Completion::default()
        },
        &now_rfc3339(),
        &how,
    )
}

fn summary(row: &Analysis, code: u8) -> String {
    let head = format!("{} {} (exit {code})", row.id, row.status);
    match (&row.usage_session_id, row.total_tokens) {
        (Some(session), Some(total)) => format!(
            "{head}: {} tokens ({} in, {} out), {} session {session} ({})",
            thousands(total),
            thousands(row.tokens_in.unwrap_or(0)),
            thousands(row.tokens_out.unwrap_or(0)),
            row.tool,
            row.session_binding.as_deref().unwrap_or("-")
        ),
        _ => format!("{head}: no session, no usage recorded"),
    }
}
