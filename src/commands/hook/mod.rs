//! `tokledger hook …`: run by an agent on its events. A hook must never get in the agent's
//! way: it answers within [`TOTAL`], exits 0 whatever happens and prints nothing on stdout
//! (Claude Code adds a SessionStart hook's stdout to the model's context). Problems go to
//! stderr and are appended to `<state dir>/hook.log`.

pub mod claude;

use std::io::{Read, Write};
use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::Subcommand;

use crate::global::GlobalArgs;

/// The whole hook, from start to exit.
pub const TOTAL: Duration = Duration::from_millis(700);
/// Transcript reads write nothing after this (from the start), leaving time for the last
/// chunk in flight and its commit: every call commits what it read, so a long first read
/// progresses over successive events instead of being cut off each time.
pub const READ_UNTIL: Duration = Duration::from_millis(500);
/// How long the payload may take to arrive on stdin.
pub const STDIN_WAIT: Duration = Duration::from_millis(300);
/// How long a write waits for another tokledger's lock (the default 10 s would stall the
/// agent; what is not read now is read by the next event).
pub const BUSY: Duration = Duration::from_millis(200);
/// Payloads carry tool inputs and outputs; Claude Code caps those far below this.
pub const MAX_PAYLOAD: u64 = 16 << 20;
/// The log is rotated to `hook.log.1` past this size.
const LOG_LIMIT: u64 = 1 << 20;

#[derive(Subcommand, Debug)]
pub enum HookCommand {
    /// A Claude Code hook: reads the event's JSON on stdin; always exits 0
    Claude(claude::Args),
}

/// Never fails: every problem is reported and swallowed.
pub fn run(global: &GlobalArgs, cmd: &HookCommand) -> Result<()> {
    match cmd {
        HookCommand::Claude(a) => claude::run(global, a),
    }
    Ok(())
}

/// The hook's arguments did not parse (a wrong flag in the agent's settings, a bad
/// `TOKLEDGER_BUSY_TIMEOUT`): report it like any other hook problem.
pub fn report_unparsed(msg: &str) {
    report(
        crate::ctx::state_dir().as_deref(),
        "hook",
        &anyhow::anyhow!("{}", msg.trim_end()),
    );
}

/// A problem: one line on stderr, one line in the log.
pub fn report(state_dir: Option<&Path>, what: &str, err: &anyhow::Error) {
    let text = format!("{what}: {err:#}");
    let line = text
        .lines()
        .map(str::trim_end)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" | ");
    eprintln!("tokledger: {line}");
    if let Some(dir) = state_dir
        && let Err(e) = append_log(dir, &line)
    {
        eprintln!(
            "tokledger: could not write the hook log in {}: {e:#}",
            dir.display()
        );
    }
}

fn append_log(dir: &Path, line: &str) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    let log = dir.join("hook.log");
    // Only a regular file (or none yet): opening a FIFO there for writing would block the
    // hook past its deadline.
    if std::fs::symlink_metadata(&log).is_ok_and(|m| !m.file_type().is_file()) {
        bail!("{} is not a regular file; not written", log.display());
    }
    if std::fs::metadata(&log).is_ok_and(|m| m.len() > LOG_LIMIT) {
        std::fs::rename(&log, dir.join("hook.log.1"))?;
    }
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log)?;
    writeln!(f, "{} {line}", crate::usage::now_rfc3339())?;
    Ok(())
}

/// Read stdin to its end, giving up after `wait` or past `cap` bytes. The read runs on its
/// own thread: a payload that never ends leaves that thread blocked, and the process exits
/// over it.
pub fn read_stdin_bounded(wait: Duration, cap: u64) -> Result<Vec<u8>> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let r = std::io::stdin().lock().take(cap + 1).read_to_end(&mut buf);
        let _ = tx.send(r.map(|_| buf));
    });
    match rx.recv_timeout(wait) {
        Ok(Ok(buf)) if buf.len() as u64 > cap => {
            bail!("the payload on stdin is larger than {cap} bytes; ignored")
        }
        Ok(Ok(buf)) => Ok(buf),
        Ok(Err(e)) => Err(e).context("could not read the payload on stdin"),
        Err(_) => bail!(
            "no complete payload on stdin within {} ms",
            wait.as_millis()
        ),
    }
}

/// Run `f` on a thread and wait at most `limit` for it. Past the limit the caller goes on
/// (and exits): a read cut off mid-way commits what it had and resumes next time, like any
/// killed read (docs/FORMATS.md §5).
pub fn within<T: Send + 'static>(
    limit: Duration,
    f: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(limit) {
        Ok(r) => r,
        Err(mpsc::RecvTimeoutError::Timeout) => bail!(
            "not finished within {} ms; the rest is read by the next event",
            limit.as_millis()
        ),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            bail!("stopped unexpectedly (see the message above)")
        }
    }
}
