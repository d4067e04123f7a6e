//! Running the command: stdio passed through, signals forwarded, its exit code, and a
//! session id it prints on stdout (read as it is passed on).

use std::ffi::OsString;
use std::io::{Read, Write};
use std::process::{Command, Stdio};

use anyhow::{Context, Result};

use crate::agents::Agent;
use crate::ctx::Ctx;
use crate::error::Error;

/// How the command ended.
pub(super) struct Outcome {
    /// The code we exit with: the command's, 128 + signal when a signal ended it, 127/126
    /// when it could not be started (as a shell reports those).
    pub(super) code: u8,
    /// A session id the command printed.
    pub(super) printed: Option<String>,
    pub(super) ran: bool,
}

pub(super) fn run_child(
    ctx: &Ctx,
    command: &[OsString],
    shown: &str,
    scan: Option<Agent>,
) -> Result<Outcome> {
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
                found = tool.spec().printed_session_id(&line);
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
    found.or_else(|| tool.spec().printed_session_id(&line))
}
