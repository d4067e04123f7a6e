//! Our process's ancestors: what a running agent above us says (its session file), and the
//! command lines of the shells between it and us (the command an agent's tool call runs).
//!
//! Parents and command lines come from `/proc` on Linux (a few small reads), and from the
//! `sysinfo` crate elsewhere (macOS, the BSDs: `libproc`/`sysctl`), asked about one process
//! at a time, never a refresh of every process (that takes tens of ms, and this runs per
//! snapshot). Otherwise only regular files are read.

use crate::agents::Agent;
use crate::agents::Env;

#[cfg(not(target_os = "linux"))]
use portable::Procs;
/// The processes above us, asked one at a time.
#[cfg(target_os = "linux")]
use proc_fs::Procs;

/// The session of a running agent among our ancestors: one that keeps `<pid>.json` files
/// naming its session ([`AgentSpec::running_session_dirs`]; Claude Code).
///
/// [`AgentSpec::running_session_dirs`]: crate::agents::AgentSpec::running_session_dirs
pub(crate) fn ancestor_session(env: &Env, tool: Agent) -> Option<(String, &'static str)> {
    let (how, dirs) = tool.spec().running_session_dirs(env);
    if dirs.is_empty() {
        return None;
    }
    let mut procs = Procs::new();
    let mut pid = std::os::unix::process::parent_id();
    for _ in 0..64 {
        if pid <= 1 {
            break;
        }
        for dir in &dirs {
            let file = dir.join(format!("{pid}.json"));
            // Only a regular file: opening a FIFO someone left there would block.
            let regular = std::fs::metadata(&file).is_ok_and(|m| m.is_file());
            if let Some(text) = regular
                .then(|| std::fs::read_to_string(&file).ok())
                .flatten()
            {
                let v: Option<serde_json::Value> = serde_json::from_str(&text).ok();
                if let Some(id) = v
                    .as_ref()
                    .and_then(|v| v.get("sessionId"))
                    .and_then(|s| s.as_str())
                {
                    return Some((id.to_owned(), how));
                }
            }
        }
        pid = procs.parent_of(pid)?;
    }
    None
}

/// The normalised command lines of up to eight ancestors (the shell running the tool call
/// and its wrappers), stopping below the agent itself, whose own command line (a prompt)
/// may quote any command.
pub(crate) fn ancestor_commands() -> Vec<String> {
    let mut out = Vec::new();
    let mut procs = Procs::new();
    let mut pid = std::os::unix::process::parent_id();
    for _ in 0..8 {
        if pid <= 1 {
            break;
        }
        let Some(argv) = procs.argv(pid) else {
            break;
        };
        if argv.first().is_some_and(|a| is_agent(a)) {
            break;
        }
        let key = crate::usage::normalize_command(&argv.join(" "), usize::MAX);
        if !key.is_empty() {
            out.push(key);
        }
        match procs.parent_of(pid) {
            Some(p) => pid = p,
            None => break,
        }
    }
    out
}

/// Whether `argv0` is one of the agents themselves.
fn is_agent(argv0: &str) -> bool {
    let name = std::path::Path::new(argv0)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Agent::ALL
        .iter()
        .any(|a| a.spec().process_names().contains(&name.as_str()))
}

/// Linux: `/proc/<pid>/stat` and `/proc/<pid>/cmdline`.
#[cfg(target_os = "linux")]
mod proc_fs {
    pub(super) struct Procs;

    impl Procs {
        pub(super) fn new() -> Procs {
            Procs
        }

        /// The parent pid: the field after the parenthesised name in `stat`.
        pub(super) fn parent_of(&mut self, pid: u32) -> Option<u32> {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            let after = &stat[stat.rfind(')')? + 1..];
            after.split_whitespace().nth(1)?.parse().ok()
        }

        /// The command line, one string per argument (empty ones dropped).
        pub(super) fn argv(&mut self, pid: u32) -> Option<Vec<String>> {
            let raw = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
            Some(
                raw.split(|b| *b == 0)
                    .filter(|a| !a.is_empty())
                    .map(|a| String::from_utf8_lossy(a).into_owned())
                    .collect(),
            )
        }
    }
}

/// Elsewhere (and in Linux tests, against `/proc`): `sysinfo`, refreshing only the one
/// process asked about.
#[cfg(any(not(target_os = "linux"), test))]
mod portable {
    use sysinfo::{Pid, ProcessRefreshKind, ProcessesToUpdate, System, UpdateKind};

    pub(super) struct Procs {
        /// `None` where the system cannot be asked (then no ancestor is found, as before).
        sys: Option<System>,
    }

    impl Procs {
        pub(super) fn new() -> Procs {
            Procs {
                sys: System::new().ok(),
            }
        }

        fn refresh(&mut self, pid: u32, cmd: bool) -> Option<&sysinfo::Process> {
            let what = if cmd {
                ProcessRefreshKind::nothing().with_cmd(UpdateKind::Always)
            } else {
                ProcessRefreshKind::nothing()
            };
            let pid = Pid::from_u32(pid);
            let sys = self.sys.as_mut()?;
            sys.refresh_processes_specifics(ProcessesToUpdate::Some(&[pid]), true, what);
            sys.process(pid)
        }

        pub(super) fn parent_of(&mut self, pid: u32) -> Option<u32> {
            self.refresh(pid, false)?.parent().map(Pid::as_u32)
        }

        pub(super) fn argv(&mut self, pid: u32) -> Option<Vec<String>> {
            Some(
                self.refresh(pid, true)?
                    .cmd()
                    .iter()
                    .map(|a| a.to_string_lossy().into_owned())
                    .filter(|a| !a.is_empty())
                    .collect(),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    /// The portable reader sees what `/proc` says, up our ancestry, and answers in well under
    /// a millisecond per process (it refreshes one process, not the table).
    #[cfg(target_os = "linux")]
    #[test]
    fn the_portable_reader_agrees_with_proc() {
        let mut fs = super::proc_fs::Procs::new();
        let mut portable = super::portable::Procs::new();
        let mut pid = std::process::id();
        let mut seen = 0;
        let began = std::time::Instant::now();
        while pid > 1 && seen < 8 {
            assert_eq!(
                portable.parent_of(pid),
                fs.parent_of(pid),
                "parent of {pid}"
            );
            assert_eq!(portable.argv(pid), fs.argv(pid), "argv of {pid}");
            pid = fs.parent_of(pid).expect("a parent");
            seen += 1;
        }
        assert!(seen >= 1);
        let per = began.elapsed() / seen;
        assert!(
            per < std::time::Duration::from_millis(20),
            "{per:?} per process"
        );
    }
}
