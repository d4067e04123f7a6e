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

use std::ffi::OsString;
use std::io::{Read, Write};
use std::process::{Command, Stdio};

use anyhow::{Context, Result};

use super::start::StartOptions;
use crate::binding::{self, Binding, FileStats};
use crate::ctx::Ctx;
use crate::error::Error;
use crate::read::{How, Scope, read};
use crate::render::human::thousands;
use crate::store::Store;
use crate::store::analyses::{Analysis, Completion};
use crate::usage::{Agent, Snapshot, now_rfc3339};

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub opts: StartOptions,
    /// The command to run and its arguments, after `--`
    #[arg(last = true, required = true, value_name = "COMMAND")]
    pub command: Vec<OsString>,
}

/// The picture before the command: each session's usage, each transcript file's stats.
struct Before {
    files: FileStats,
    usage: std::collections::HashMap<String, Snapshot>,
}

/// How the command ended.
struct Outcome {
    /// The code we exit with: the command's, 128 + signal when a signal ended it, 127/126
    /// when it could not be started (as a shell reports those).
    code: u8,
    /// A session id the command printed.
    printed: Option<String>,
    ran: bool,
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

fn take_before(ctx: &Ctx, store: &mut Store, tool: Agent) -> Result<Before> {
    let files = crate::discover::discover(&ctx.env, &[tool.spec()]);
    let stats = binding::stats_of(&files);
    read(ctx, store, Scope::Files(files), How::default())?;
    Ok(Before {
        files: stats,
        usage: {
            // Priced first, so the cost at completion is exactly what the command added.
            crate::ingest::settle_costs(store, &ctx.pricer, None)?;
            store.tool_snapshots(tool.as_str())?
        },
    })
}

fn run_child(ctx: &Ctx, command: &[OsString], shown: &str, scan: Option<Agent>) -> Result<Outcome> {
    use signal_hook::consts::signal::{SIGHUP, SIGINT, SIGQUIT, SIGTERM};
    let Some((program, rest)) = command.split_first() else {
        return Err(Error::Usage("no command to run after `--`".into()).into());
    };
    // Installed before the command starts: from here a Ctrl-C must not end tokledger before
    // the row is completed. SIGINT and SIGQUIT from a terminal reach the whole foreground
    // process group, the command included, so they are not forwarded (Claude Code, for one,
    // reads a second Ctrl-C as "exit"). SIGTERM and SIGHUP are usually sent to one process,
    // us: they are passed on.
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGQUIT, SIGTERM, SIGHUP])
        .context("could not install signal handlers")?;
    let handle = signals.handle();
    // The command's stdout is read (and passed on byte for byte) only where a session id
    // printed there can help and our stdout is not a terminal: an interactive program keeps
    // its terminal.
    let tee = scan.filter(|_| !ctx.stdout_is_terminal());
    let mut cmd = Command::new(program);
    cmd.args(rest);
    if tee.is_some() {
        cmd.stdout(Stdio::piped());
    }
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            handle.close();
            eprintln!("tokledger: could not run {shown}: {e}");
            let code = if e.kind() == std::io::ErrorKind::NotFound {
                127
            } else {
                126
            };
            return Ok(Outcome {
                code,
                printed: None,
                ran: false,
            });
        }
    };
    let pid = i32::try_from(child.id())
        .ok()
        .map(nix::unistd::Pid::from_raw);
    let forwarder = std::thread::spawn(move || {
        for sig in signals.forever() {
            if (sig == SIGTERM || sig == SIGHUP)
                && let (Some(pid), Ok(s)) = (pid, nix::sys::signal::Signal::try_from(sig))
            {
                let _ = nix::sys::signal::kill(pid, s);
            }
        }
    });
    let reader = match (child.stdout.take(), tee) {
        (Some(out), Some(tool)) => Some(std::thread::spawn(move || tee_and_scan(out, tool))),
        _ => None,
    };
    let status = child.wait();
    handle.close();
    let _ = forwarder.join();
    // Like a pipe, this waits for the end of the command's output.
    let printed = reader.and_then(|r| r.join().ok()).flatten();
    let status = status.context("could not wait for the command")?;
    let code = match (
        status.code(),
        std::os::unix::process::ExitStatusExt::signal(&status),
    ) {
        (Some(c), _) => u8::try_from(c & 0xff).unwrap_or(1),
        (None, Some(sig)) => u8::try_from(128 + sig).unwrap_or(255),
        (None, None) => 1,
    };
    Ok(Outcome {
        code,
        printed,
        ran: true,
    })
}

/// Copy the command's stdout to ours unchanged, and return the first session id printed on
/// a line of it. When our stdout goes away the command's pipe is closed too, as a direct
/// pipe would be.
fn tee_and_scan(mut from: std::process::ChildStdout, tool: Agent) -> Option<String> {
    /// Longer lines are passed on but not scanned (the lines looked for are short).
    const MAX_LINE: usize = 1 << 20;
    let mut out = std::io::stdout().lock();
    let mut buf = vec![0u8; 64 << 10];
    let mut line: Vec<u8> = Vec::new();
    let mut overlong = false;
    let mut found: Option<String> = None;
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        };
        let bytes = &buf[..n];
        if out.write_all(bytes).and_then(|()| out.flush()).is_err() {
            return found;
        }
        if found.is_some() {
            continue;
        }
        let mut rest = bytes;
        while let Some(i) = memchr::memchr(b'\n', rest) {
            if !overlong && line.len() + i <= MAX_LINE {
                line.extend_from_slice(&rest[..i]);
                found = binding::printed_session_id(tool, &line);
            }
            line.clear();
            overlong = false;
            rest = &rest[i + 1..];
            if found.is_some() {
                break;
            }
        }
        if found.is_none() && !overlong {
            if line.len() + rest.len() > MAX_LINE {
                overlong = true;
                line.clear();
            } else {
                line.extend_from_slice(rest);
            }
        }
    }
    found.or_else(|| binding::printed_session_id(tool, &line))
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

/// Which session the command ran in, and its usage before the command.
fn settle(
    ctx: &Ctx,
    store: &mut Store,
    tool: Agent,
    before: &Before,
    printed: Option<&str>,
    opts: &StartOptions,
) -> Result<Option<(Binding, Snapshot)>> {
    let before_of = |s: &str| before.usage.get(s).cloned().unwrap_or_default();
    if let Some(id) = printed {
        read(ctx, store, Scope::Session(tool, id), How::default())?;
        let b = Binding {
            session_id: id.to_owned(),
            how: "run_printed_id",
        };
        return Ok(Some((b, before_of(id))));
    }
    let fmt = tool.spec();
    let changed =
        binding::changed_since(&before.files, crate::discover::discover(&ctx.env, &[fmt]));
    let paths: Vec<std::path::PathBuf> = changed.iter().map(|f| f.path.clone()).collect();
    read(ctx, store, Scope::Files(changed), How::default())?;
    let records = store.files()?;
    let mut sessions: Vec<String> = paths
        .iter()
        .filter_map(|p| records.get(p).and_then(|r| r.session_id.clone()))
        .collect();
    sessions.sort();
    sessions.dedup();
    let mut grown: Vec<(String, i64)> = Vec::with_capacity(sessions.len());
    for s in sessions {
        let now = store.session_snapshot(tool.as_str(), &s)?.total();
        let growth = now - before_of(&s).total();
        grown.push((s, growth));
    }
    grown.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let spent = grown.iter().filter(|(_, g)| *g > 0).count();
    let Some((first, _)) = grown.first() else {
        return fallback(ctx, store, tool, opts);
    };
    let how = if grown.len() == 1 || spent <= 1 {
        "run_changed_session"
    } else {
        let mut msg = format!(
            "the command wrote to {} {tool} sessions; bound to the one that spent the most tokens:",
            grown.len()
        );
        for (s, g) in &grown {
            msg.push_str(&format!("\n  {s}  +{} tokens", thousands(*g)));
        }
        ctx.warn(&msg);
        "run_most_growth"
    };
    let b = Binding {
        session_id: first.clone(),
        how,
    };
    let base = before_of(first);
    Ok(Some((b, base)))
}

/// No transcript of the tool changed: bind as `start` would. The baseline is the session's
/// usage now, which is also its usage before (nothing changed), so the delta is 0 even for
/// a session whose files lie outside the tool's folders.
fn fallback(
    ctx: &Ctx,
    store: &mut Store,
    tool: Agent,
    opts: &StartOptions,
) -> Result<Option<(Binding, Snapshot)>> {
    // No explicit session here (else the row was bound at the start): only the window.
    let rules = binding::Explicit {
        window_secs: opts.ambiguity_window,
        ..binding::Explicit::default()
    };
    match binding::resolve(ctx, store, tool, &rules) {
        Ok(b) => {
            let now = store.session_snapshot(tool.as_str(), &b.session_id)?;
            Ok(Some((b, now)))
        }
        Err(e) if crate::error::exit_code_of(&e) == crate::error::exit::AMBIGUOUS => {
            ctx.warn(&format!(
                "no {tool} transcript changed while the command ran, and the session could not be told: {e:#}\nthe analysis is completed without a session (no usage recorded)"
            ));
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// The one line printed when the analysis is closed.
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
