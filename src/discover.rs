//! Find transcript files under each format's roots.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use crate::agents::Agent;
use crate::agents::{AgentSpec, Env, FileRole};

#[derive(Clone, Debug)]
pub struct SourceFile {
    pub tool: Agent,
    pub path: PathBuf,
    pub role: FileRole,
    pub archived: bool,
    pub size: u64,
    pub mtime_ns: i64,
}

/// Size and modification time (ns since the epoch) of a file.
pub fn stat(path: &Path) -> std::io::Result<(u64, i64)> {
    let m = std::fs::metadata(path)?;
    let mtime = m
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX));
    Ok((m.len(), mtime))
}

/// Size and mtime of a source: for a database, with its write-ahead log (`<db>-wal`),
/// where a running agent's writes are until a checkpoint copies them into the file.
fn stat_source(fmt: &dyn AgentSpec, path: &Path) -> std::io::Result<(u64, i64)> {
    let (size, mtime) = stat(path)?;
    if fmt.database(path).is_none() {
        return Ok((size, mtime));
    }
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    Ok(match stat(Path::new(&wal)) {
        Ok((ws, wm)) => (size + ws, mtime.max(wm)),
        Err(_) => (size, mtime),
    })
}

/// What a walk could not look at: a folder it may not enter, a name it cannot store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    pub path: PathBuf,
    pub why: String,
}

/// Every transcript of the given formats, oldest first (then by path), each path once.
pub fn discover(env: &Env, formats: &[&dyn AgentSpec]) -> Vec<SourceFile> {
    discover_all(env, formats).0
}

/// [`discover`], and what the walk had to skip (for the caller to warn about).
pub fn discover_all(env: &Env, formats: &[&dyn AgentSpec]) -> (Vec<SourceFile>, Vec<Skipped>) {
    let mut out = Vec::new();
    let mut skipped = Vec::new();
    let mut seen_roots = HashSet::new();
    for fmt in formats {
        for root in fmt.roots(env) {
            // Two configured roots may be one directory (a symlinked ~/.config/claude).
            let Ok(canon) = root.dir.canonicalize() else {
                continue;
            };
            if !seen_roots.insert(canon) {
                continue;
            }
            walk_below(
                *fmt,
                &root.dir,
                &root.dir,
                root.archived,
                &mut out,
                &mut skipped,
            );
        }
    }
    out.sort_by(|a, b| {
        a.mtime_ns
            .cmp(&b.mtime_ns)
            .then_with(|| a.path.cmp(&b.path))
    });
    (out, skipped)
}

/// Walk `start`, a directory inside the root `dir`, classifying paths relative to `dir`.
fn walk_below(
    fmt: &dyn AgentSpec,
    dir: &Path,
    start: &Path,
    archived: bool,
    out: &mut Vec<SourceFile>,
    skipped: &mut Vec<Skipped>,
) {
    for entry in walkdir::WalkDir::new(start).follow_links(false) {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                // A folder without read or search permission, or one removed meanwhile.
                if let Some(path) = e.path().filter(|_| {
                    e.io_error()
                        .is_some_and(|io| io.kind() != std::io::ErrorKind::NotFound)
                }) {
                    skipped.push(Skipped {
                        path: path.to_owned(),
                        why: e
                            .io_error()
                            .map_or_else(|| e.to_string(), ToString::to_string),
                    });
                }
                continue;
            }
        };
        if !entry.file_type().is_file() {
            continue;
        }
        let path = entry.path();
        let Ok(rel) = path.strip_prefix(dir) else {
            continue;
        };
        let Some(role) = fmt.classify(rel) else {
            if rel.to_str().is_none()
                && fmt
                    .classify(Path::new(rel.to_string_lossy().as_ref()))
                    .is_some()
            {
                // The ledger keys files by their path as text: one that is not UTF-8
                // could not be found again.
                skipped.push(Skipped {
                    path: path.to_owned(),
                    why: "its name is not valid UTF-8".into(),
                });
            }
            continue;
        };
        let Ok((size, mtime_ns)) = stat_source(fmt, path) else {
            continue;
        };
        out.push(SourceFile {
            tool: fmt.agent(),
            path: path.to_owned(),
            role,
            archived,
            size,
            mtime_ns,
        });
    }
}

/// A known path as a source of `fmt`, if it lies below one of its roots and is a transcript.
pub fn source_for_path(fmt: &dyn AgentSpec, env: &Env, path: &Path) -> Option<SourceFile> {
    let canon = path.canonicalize().ok()?;
    fmt.roots(env).into_iter().find_map(|root| {
        let dir = root.dir.canonicalize().ok()?;
        let rel = canon.strip_prefix(&dir).ok()?;
        let role = fmt.classify(rel)?;
        let (size, mtime_ns) = stat_source(fmt, path).ok()?;
        Some(SourceFile {
            tool: fmt.agent(),
            path: path.to_owned(),
            role,
            archived: root.archived,
            size,
            mtime_ns,
        })
    })
}

/// The files of one session: those the ledger already tied to it, or (for a session it has
/// not seen) those whose path names it; for Claude also every sub-agent file that has
/// appeared in its sub-agent folder since (`AgentSpec::subagent_folder`).
pub fn session_sources(
    fmt: &dyn AgentSpec,
    env: &Env,
    known: &[PathBuf],
    session_id: &str,
) -> Vec<SourceFile> {
    if fmt.holds_every_session() {
        return discover(env, &[fmt]);
    }
    let mut files: Vec<SourceFile> = known
        .iter()
        .filter_map(|p| source_for_path(fmt, env, p))
        .collect();
    if files.is_empty() {
        files = discover(env, &[fmt])
            .into_iter()
            .filter(|f| {
                f.role.session_hint.as_deref() == Some(session_id)
                    || fmt.may_hold(&f.path, session_id)
            })
            .collect();
    }
    let folders: Vec<(PathBuf, PathBuf)> = files
        .iter()
        .filter(|f| f.role.main)
        .filter_map(|f| fmt.subagent_folder(&f.path, session_id))
        .collect();
    for (root, sub) in folders {
        if !sub.is_dir() {
            continue;
        }
        let mut found = Vec::new();
        walk_below(fmt, &root, &sub, false, &mut found, &mut Vec::new());
        for f in found {
            if !files.iter().any(|k| k.path == f.path) {
                files.push(f);
            }
        }
    }
    files.sort_by(|a, b| {
        a.mtime_ns
            .cmp(&b.mtime_ns)
            .then_with(|| a.path.cmp(&b.path))
    });
    files
}
