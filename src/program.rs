//! What a shell call ran, as `report tools --by command` groups it: the program and, for
//! programs driven by subcommands, the subcommand (`git commit`, `cargo test`, `make check`).
//! Computed from the raw command when a call is read (the stored `command` has its spaces
//! removed, so it cannot be split afterwards). The rule (docs/REPORTS.md):
//!
//! 1. The line is split into words as a POSIX shell would (quotes, escapes; `shlex`), and into
//!    simple commands at `&&`, `||`, `;`, `|` and `&`.
//! 2. The first simple command that is not set-up is the one counted: `cd`, `pushd`, `popd`,
//!    `export`, `set`, `unset`, `source`, `.` and `true` are set-up.
//! 3. In it, leading `NAME=value` assignments and wrappers are skipped: `sudo`, `env`, `time`,
//!    `nohup`, `exec`, `command`, `nice`, `timeout DURATION` (with their options).
//! 4. The program is the next word, by its file name (`/usr/bin/git` is `git`).
//! 5. For the programs in [`WITH_SUBCOMMANDS`], the first later word that is not an option
//!    (nor the value of an option that takes one, as `git -C DIR`) is the subcommand, when it
//!    looks like one (letters, digits, `-`, `_`, `:`, `.`; at most 40 characters). `python -m
//!    MODULE` is grouped by its module.

/// Programs whose first argument is a subcommand (for `make`, `just` and `rake`: a target;
/// for `npx`, `uvx` and `bunx`: the package run).
const WITH_SUBCOMMANDS: &[&str] = &[
    "apt",
    "apt-get",
    "brew",
    "bun",
    "bunx",
    "cargo",
    "composer",
    "deno",
    "docker",
    "dotnet",
    "gcloud",
    "gh",
    "git",
    "go",
    "gradle",
    "helm",
    "just",
    "kubectl",
    "make",
    "mvn",
    "npm",
    "npx",
    "pip",
    "pip3",
    "pnpm",
    "podman",
    "poetry",
    "rake",
    "rustup",
    "swift",
    "systemctl",
    "terraform",
    "tokledger",
    "uv",
    "uvx",
    "yarn",
];

/// Options that take the next word as their value, per program.
fn takes_value(program: &str, option: &str) -> bool {
    match program {
        "git" => matches!(option, "-C" | "-c" | "--git-dir" | "--work-tree"),
        "make" => matches!(option, "-C" | "-f" | "--file" | "--directory" | "-j" | "-l"),
        "cargo" => matches!(option, "--manifest-path" | "--config" | "-Z" | "-C"),
        "docker" | "podman" => matches!(option, "-H" | "--host" | "--context" | "--config"),
        "kubectl" | "helm" => {
            matches!(option, "-n" | "--namespace" | "--context" | "--kubeconfig")
        }
        "npm" | "pnpm" | "yarn" => matches!(option, "--prefix" | "-C" | "--cwd" | "--dir"),
        "go" => option == "-C",
        "tokledger" => matches!(
            option,
            "--db" | "--busy-timeout" | "--color" | "--prices" | "--anchor-wait"
        ),
        _ => false,
    }
}

const SETUP: &[&str] = &[
    "cd", "pushd", "popd", "export", "set", "unset", "source", ".", "true",
];

const WRAPPERS: &[&str] = &["sudo", "env", "time", "nohup", "exec", "command", "nice"];

/// Raw commands are read up to this many bytes (a heredoc can be megabytes).
const READ_MAX: usize = 4096;

/// `git commit`, `cargo test`, `ls`; `None` when the command names no program.
pub fn program_of(command: &str) -> Option<String> {
    let head = match command.char_indices().nth(READ_MAX) {
        Some((i, _)) => &command[..i],
        None => command,
    };
    let mut segment: Vec<String> = Vec::new();
    for word in shlex::Shlex::new(head) {
        let (word, ends) = match word.as_str() {
            "&&" | "||" | ";" | "|" | "&" | "|&" => (None, true),
            w if w.len() > 1 && w.ends_with(';') => (Some(w[..w.len() - 1].to_owned()), true),
            _ => (Some(word), false),
        };
        segment.extend(word);
        // A heredoc runs to kilobytes of words: once the first few settle the answer, the
        // rest of the line cannot change it.
        if segment.len() == SETTLE_WORDS
            && let (Some(p), true) = judge(&segment)
        {
            return Some(p);
        }
        if ends {
            if let Some(p) = of_simple(&segment) {
                return Some(p);
            }
            segment.clear();
        }
    }
    of_simple(&segment)
}

fn is_assignment(w: &str) -> bool {
    w.split_once('=').is_some_and(|(name, _)| {
        !name.is_empty()
            && !name.starts_with(|c: char| c.is_ascii_digit())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}

fn file_name(w: &str) -> &str {
    w.rsplit('/').next().unwrap_or(w)
}

fn looks_like_subcommand(w: &str) -> bool {
    !w.is_empty()
        && w.len() <= 40
        && w.starts_with(|c: char| c.is_ascii_alphanumeric())
        && w.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':' | '.'))
}

/// Words of a simple command judged before its end is reached.
const SETTLE_WORDS: usize = 8;

/// The program (and subcommand) of one simple command; `None` for set-up or nothing.
fn of_simple(words: &[String]) -> Option<String> {
    judge(words).0
}

/// [`of_simple`], and whether the answer would stay the same for any words after these
/// (false when the rule looked past the last word).
fn judge(words: &[String]) -> (Option<String>, bool) {
    let mut i = 0;
    while i < words.len() {
        let w = words[i].as_str();
        if is_assignment(w) {
            i += 1;
        } else if WRAPPERS.contains(&w) {
            i += 1;
            // The wrapper's own options (`sudo -u root`, `nice -n 5`): skip flags, and the
            // value of a short flag given alone.
            while i < words.len() && words[i].starts_with('-') {
                let flag = words[i].as_str();
                i += 1;
                if matches!(flag, "-u" | "-g" | "-n" | "-C" | "-S" | "-p") {
                    i += 1;
                }
            }
        } else if w == "timeout" {
            i += 1;
            while i < words.len() && words[i].starts_with('-') {
                i += 1;
            }
            i += 1; // the duration
        } else {
            break;
        }
    }
    let Some(first) = words.get(i) else {
        return (None, false);
    };
    let program = file_name(first);
    if program.is_empty() || SETUP.contains(&program) {
        return (None, true);
    }
    let rest = &words[i + 1..];
    if matches!(program, "python" | "python3") {
        if let [flag, module, ..] = rest {
            if flag == "-m" && looks_like_subcommand(module) {
                return (Some(format!("{program} -m {module}")), true);
            }
        } else {
            return (Some(program.to_owned()), false);
        }
    }
    if !WITH_SUBCOMMANDS.contains(&program) {
        return (Some(program.to_owned()), true);
    }
    let mut j = 0;
    while j < rest.len() {
        let w = rest[j].as_str();
        if w.starts_with('-') || w.starts_with('+') {
            j += if takes_value(program, w) { 2 } else { 1 };
        } else if matches!(program, "make" | "just" | "rake") && is_assignment(w) {
            j += 1;
        } else {
            break;
        }
    }
    match rest.get(j) {
        Some(sub) if looks_like_subcommand(sub) => (Some(format!("{program} {sub}")), true),
        Some(_) => (Some(program.to_owned()), true),
        None => (Some(program.to_owned()), false),
    }
}

#[cfg(test)]
mod tests {
    use super::program_of;

    #[test]
    fn programs_and_subcommands() {
        let cases = [
            ("git commit -m 'fix: a b'", Some("git commit")),
            ("git -C /work/x status --short", Some("git status")),
            ("cargo +nightly test --test it reports", Some("cargo test")),
            ("cd /work/app && npm install", Some("npm install")),
            ("cd app; cargo build --release", Some("cargo build")),
            ("FOO=1 BAR=x sudo -u root docker ps -a", Some("docker ps")),
            ("env RUST_LOG=debug cargo run", Some("cargo run")),
            ("timeout 60 make -C sub -j4 check", Some("make check")),
            ("make", Some("make")),
            ("make V=1 all", Some("make all")),
            ("ls -la", Some("ls")),
            ("/usr/bin/git log", Some("git log")),
            ("rg -n 'foo|bar' src | head -20", Some("rg")),
            ("python3 -m pytest -q", Some("python3 -m pytest")),
            ("python3 script.py", Some("python3")),
            ("npx prettier --write .", Some("npx prettier")),
            ("kubectl -n prod get pods", Some("kubectl get")),
            ("git", Some("git")),
            ("git $(echo status)", Some("git")),
            ("cd /tmp", None),
            ("", None),
            (
                "export A=1 && ./target/release/tokledger analysis start --source-id x",
                Some("tokledger analysis"),
            ),
        ];
        for (cmd, want) in cases {
            assert_eq!(program_of(cmd).as_deref(), want, "{cmd}");
        }
    }

    #[test]
    fn a_huge_command_is_read_from_its_head_only() {
        let cmd = format!("cat <<'EOF' > x\n{}\nEOF", "y ".repeat(1 << 20));
        assert_eq!(program_of(&cmd).as_deref(), Some("cat"));
    }

    /// Settling after a few words gives what judging the whole line gives.
    #[test]
    fn settling_early_changes_no_answer() {
        use proptest::prelude::*;
        let word = prop::sample::select(vec![
            "git", "cargo", "python", "python3", "-m", "pytest", "sudo", "-u", "root", "env",
            "A=1", "timeout", "60", "-C", "dir", "cd", "make", "V=1", "--x", "+nightly", "&&", ";",
            "|", "test", "'a b'", "x;", "ls", "nice", "-n", "5", "npm", "install", "./run",
        ]);
        let whole = |line: &str| {
            let mut segment: Vec<String> = Vec::new();
            for w in shlex::Shlex::new(line) {
                let (w, ends) = match w.as_str() {
                    "&&" | "||" | ";" | "|" | "&" | "|&" => (None, true),
                    x if x.len() > 1 && x.ends_with(';') => {
                        (Some(x[..x.len() - 1].to_owned()), true)
                    }
                    _ => (Some(w), false),
                };
                segment.extend(w);
                if ends {
                    if let Some(p) = super::of_simple(&segment) {
                        return Some(p);
                    }
                    segment.clear();
                }
            }
            super::of_simple(&segment)
        };
        proptest!(ProptestConfig::with_cases(4000), |(words in prop::collection::vec(word, 0..30))| {
            let line = words.join(" ");
            prop_assert_eq!(program_of(&line), whole(&line), "{}", line);
        });
    }
}
