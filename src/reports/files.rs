//! `report files`: the most read and edited files, whichever agent touched them.

use std::collections::{BTreeSet, HashMap};
use std::path::{Component, Path, PathBuf};

pub use crate::agents::FileAction;

use super::{ByAgentAndName, count};
use crate::agents::Agent;
use crate::store::reports::ToolCallRef;

/// What a call of the tool `name` of `agent` (a stored agent name) does to its file.
pub fn file_action(agent: &str, name: &str) -> FileAction {
    crate::agents::Agent::parse(agent).map_or_else(
        || FileAction::of_common_name(name),
        |a| a.spec().file_action(name),
    )
}

/// A tool's file path as an absolute path: relative ones (Codex patches, Amp) are taken
/// from the session's working directory, so one file is one row whichever agent touched it.
/// `.` and `..` are resolved by name, not on disk (the file may be gone).
pub fn file_key(path: &str, project: Option<&str>) -> String {
    // Most paths need no resolving: join them as text (this runs once per call).
    let plain =
        !path.is_empty() && !path.contains("//") && !path.split('/').any(|c| c == "." || c == "..");
    if plain {
        match project {
            _ if path.starts_with('/') => return path.to_owned(),
            Some(dir) if dir.starts_with('/') && !dir.split('/').any(|c| c == "." || c == "..") => {
                return format!("{}/{path}", dir.trim_end_matches('/'));
            }
            None => return path.to_owned(),
            Some(_) => {}
        }
    }
    let p = Path::new(path);
    let joined = match project {
        Some(dir) if p.is_relative() => Path::new(dir).join(p),
        _ => p.to_path_buf(),
    };
    let mut out = PathBuf::new();
    for c in joined.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out.to_string_lossy().into_owned()
}

/// One file: how often it was read and edited, by any agent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileRow {
    pub file_path: String,
    pub reads: i64,
    pub edits: i64,
    /// Reads and edits that failed.
    pub failures: i64,
    pub sessions: i64,
    pub tools: Vec<String>,
    /// The latest call's time.
    pub last_ms: Option<i64>,
}

/// Every file the report covers, not just the rows shown.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FileTotals {
    pub files: i64,
    pub reads: i64,
    pub edits: i64,
    pub failures: i64,
}

/// `report files`: the most read and edited first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FilesReport {
    pub rows: Vec<FileRow>,
    pub totals: FileTotals,
}

#[derive(Debug, Default)]
struct Acc {
    reads: i64,
    edits: i64,
    failures: i64,
    /// Indexes into the sessions seen (see [`FileStats`]).
    sessions: BTreeSet<usize>,
    tools: BTreeSet<&'static str>,
    last_ms: Option<i64>,
}

/// Builds a [`FilesReport`] from the tool calls, one at a time.
#[derive(Debug, Default)]
pub struct FileStats {
    files: HashMap<String, Acc>,
    /// Sessions are numbered once each, so a file's set of sessions costs no strings per call.
    sessions: ByAgentAndName<()>,
}

impl FileStats {
    /// Count the call if it reads or edits a file.
    pub fn add(&mut self, c: &ToolCallRef<'_>) {
        let (Some(path), Some(name)) = (c.file_path, c.name) else {
            return;
        };
        let action = file_action(c.tool, name);
        if action == FileAction::Other {
            return;
        }
        let session = self.sessions.index(c.tool, Some(c.session_id));
        let a = self.files.entry(file_key(path, c.project)).or_default();
        match action {
            FileAction::Read => a.reads += 1,
            _ => a.edits += 1,
        }
        a.failures += i64::from(c.failed == Some(true));
        a.sessions.insert(session);
        if let Some(t) = Agent::parse(c.tool) {
            a.tools.insert(t.as_str());
        }
        a.last_ms = a.last_ms.max(c.called_at_ms.or(c.result_at_ms));
    }

    /// The rows, most read and edited first, the first `limit` of them (all with `None`);
    /// the totals cover every file.
    pub fn finish(self, limit: Option<usize>) -> FilesReport {
        let files = self.files;
        let totals = FileTotals {
            files: count(files.len()),
            reads: files.values().map(|a| a.reads).sum(),
            edits: files.values().map(|a| a.edits).sum(),
            failures: files.values().map(|a| a.failures).sum(),
        };
        let mut rows: Vec<FileRow> = files
            .into_iter()
            .map(|(path, a)| FileRow {
                file_path: path,
                reads: a.reads,
                edits: a.edits,
                failures: a.failures,
                sessions: count(a.sessions.len()),
                tools: a.tools.into_iter().map(str::to_owned).collect(),
                last_ms: a.last_ms,
            })
            .collect();
        rows.sort_by(|a, b| {
            (b.reads + b.edits)
                .cmp(&(a.reads + a.edits))
                .then_with(|| a.file_path.cmp(&b.file_path))
        });
        if let Some(n) = limit {
            rows.truncate(n);
        }
        FilesReport { rows, totals }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files() {
        assert_eq!(file_action("claude", "Read"), FileAction::Read);
        assert_eq!(file_action("codex", "apply_patch"), FileAction::Edit);
        assert_eq!(file_action("claude", "Grep"), FileAction::Other);
        assert_eq!(
            file_key("src/lib.rs", Some("/home/dev/app")),
            "/home/dev/app/src/lib.rs"
        );
        assert_eq!(file_key("/etc/hosts", Some("/home/dev/app")), "/etc/hosts");
        assert_eq!(file_key("./a/../b.rs", Some("/w")), "/w/b.rs");
        assert_eq!(file_key("b.rs", None), "b.rs");
        assert_eq!(file_key("src/a.rs", Some("/w/")), "/w/src/a.rs");
        assert_eq!(file_key("src//a.rs", Some("/w")), "/w/src/a.rs");
        assert_eq!(file_key("a.rs", Some("/w/x/..")), "/w/a.rs");
        assert_eq!(file_key("/", Some("/w")), "/");
    }

    #[test]
    fn one_row_per_file_whichever_agent_and_totals_over_all() {
        let call = |tool, name, path, project| ToolCallRef {
            tool,
            session_id: "s",
            project,
            call_id: "c",
            name: Some(name),
            called_at_ms: Some(1),
            result_at_ms: Some(2),
            failed: None,
            stated_duration_ms: None,
            file_path: Some(path),
            shell: false,
            program: None,
        };
        let mut stats = FileStats::default();
        stats.add(&call("claude", "Edit", "/w/src/lib.rs", Some("/w")));
        stats.add(&call("codex", "apply_patch", "src/lib.rs", Some("/w")));
        stats.add(&call("claude", "Read", "/w/a.rs", None));
        stats.add(&call("claude", "Grep", "/w/b.rs", None));
        let report = stats.finish(Some(1));
        assert_eq!(report.rows.len(), 1);
        let r = &report.rows[0];
        assert_eq!(
            (r.file_path.as_str(), r.edits, r.sessions),
            ("/w/src/lib.rs", 2, 2)
        );
        assert_eq!(r.tools, ["claude", "codex"]);
        assert_eq!(r.last_ms, Some(1));
        assert_eq!((report.totals.files, report.totals.reads), (2, 1));
    }
}
