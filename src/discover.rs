//! Find transcript files under each format's roots.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use crate::transcript::{Env, FileRole, TranscriptFormat};
use crate::usage::Tool;

#[derive(Clone, Debug)]
pub struct SourceFile {
    pub tool: Tool,
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

/// Every transcript of the given formats, oldest first (then by path), each path once.
pub fn discover(env: &Env, formats: &[&dyn TranscriptFormat]) -> Vec<SourceFile> {
    let mut out = Vec::new();
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
            walk_root(*fmt, &root.dir, root.archived, &mut out);
        }
    }
    out.sort_by(|a, b| {
        a.mtime_ns
            .cmp(&b.mtime_ns)
            .then_with(|| a.path.cmp(&b.path))
    });
    out
}

pub fn walk_root(
    fmt: &dyn TranscriptFormat,
    dir: &Path,
    archived: bool,
    out: &mut Vec<SourceFile>,
) {
    for entry in walkdir::WalkDir::new(dir)
        .follow_links(false)
        .into_iter()
        .filter_map(Result::ok)
    {
        if !entry.file_type().is_file() {
            continue;
        }
        let path = entry.path();
        let Ok(rel) = path.strip_prefix(dir) else {
            continue;
        };
        let Some(role) = fmt.classify(rel) else {
            continue;
        };
        let Ok((size, mtime_ns)) = stat(path) else {
            continue;
        };
        out.push(SourceFile {
            tool: fmt.tool(),
            path: path.to_owned(),
            role,
            archived,
            size,
            mtime_ns,
        });
    }
}
