//! Transcript parsers: bytes in, events out. No IO, no SQL, no clock.
//!
//! Each agent format is one module implementing [`TranscriptFormat`]. Ingest hands a parser
//! the bytes of a file (from the offset it had consumed before, for append-only formats) and
//! the state the parser left there; the parser returns what it found, how many bytes it
//! consumed (complete lines only) and its new state.

pub mod amp;
pub mod claude;
pub mod codex;
pub mod lenient;
pub mod lines;

use std::path::{Path, PathBuf};

use rustc_hash::FxHashMap;

use crate::usage::{Compaction, SessionInfo, Tool, ToolCall, UsageEvent};

/// Environment a format needs to find its files; filled once from the process environment.
#[derive(Clone, Debug, Default)]
pub struct Env {
    pub home: Option<PathBuf>,
    pub claude_config_dir: Option<String>,
    pub codex_home: Option<String>,
    pub amp_data_dir: Option<String>,
    pub xdg_data_home: Option<String>,
    pub xdg_config_home: Option<String>,
}

/// A directory under which a format's files live.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Root {
    pub dir: PathBuf,
    /// Files found here are archived copies; an active copy of the same name wins.
    pub archived: bool,
}

/// What a path below a root is, decided from the path alone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileRole {
    /// The session the file belongs to, when the path says (Claude sub-agent files name
    /// their parent's directory; Codex names the thread id; Amp the thread id).
    pub session_hint: Option<String>,
    /// The session's main file (shown as its path), as opposed to a sub-agent file.
    pub main: bool,
}

/// What the parser is told about the file it reads.
#[derive(Clone, Debug)]
pub struct Source<'a> {
    pub path: &'a Path,
    pub role: &'a FileRole,
}

impl Source<'_> {
    /// The session id to use when the content names none.
    pub fn fallback_session(&self) -> String {
        self.role.session_hint.clone().unwrap_or_else(|| {
            self.path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default()
        })
    }
}

/// The result of parsing a slice of a transcript.
#[derive(Debug, Default)]
pub struct Parsed {
    pub usage: Vec<UsageEvent>,
    pub tools: Vec<ToolCall>,
    pub compactions: Vec<Compaction>,
    pub sessions: Vec<SessionInfo>,
    /// Bytes of the input that were complete lines (or the whole document) and are done.
    pub consumed: usize,
    /// Lines (or documents) that were not valid JSON of the expected shape.
    pub malformed: usize,
    /// Lines with invalid UTF-8 that were decoded lossily and then read.
    pub lossy_utf8: usize,
    /// The input ended in a line (or document) still being written; left for next time.
    pub incomplete_tail: bool,
    /// Parser state to resume from at `consumed` (JSON, format-specific).
    pub state: Option<String>,
}

impl Parsed {
    /// Fold a tool call and its result into one record when both are in this batch (halves
    /// the store's work; the store merges halves across batches the same way).
    pub fn merge_tool_halves(&mut self) {
        let tools = std::mem::take(&mut self.tools);
        // Each record's first half, found by borrowed key (no key copies).
        let mut first = FxHashMap::default();
        let owner: Vec<usize> = tools
            .iter()
            .enumerate()
            .map(|(i, t)| {
                *first
                    .entry((t.scope.as_str(), t.call_id.as_str()))
                    .or_insert(i)
            })
            .collect();
        drop(first);
        let mut slots: Vec<Option<ToolCall>> = tools.into_iter().map(Some).collect();
        // An owner comes before its later halves and is never taken, so both are there.
        for (i, &o) in owner.iter().enumerate() {
            if o == i {
                continue;
            }
            if let (Some(t), Some(m)) = (slots[i].take(), slots[o].as_mut()) {
                m.merge(t);
            }
        }
        self.tools = slots.into_iter().flatten().collect();
    }

    pub fn session_mut(&mut self, id: &str) -> &mut SessionInfo {
        match self.sessions.iter().position(|s| s.session_id == id) {
            Some(i) => &mut self.sessions[i],
            None => {
                self.sessions.push(SessionInfo::new(id));
                self.sessions.last_mut().expect("just pushed")
            }
        }
    }
}

pub trait TranscriptFormat: Sync {
    fn tool(&self) -> Tool;
    /// Bump when parsing changes what is read from the same bytes: files read by an older
    /// version are read again whole (merged by dedup key, so nothing counts twice).
    fn parser_version(&self) -> i64;
    /// Where this agent keeps transcripts, after its environment overrides.
    fn roots(&self, env: &Env) -> Vec<Root>;
    /// `rel` is the path below a root; `None` when the file is not a transcript.
    fn classify(&self, rel: &Path) -> Option<FileRole>;
    /// One JSON document rewritten whole (Amp) instead of appended JSONL.
    fn whole_document(&self) -> bool {
        false
    }
    /// Parse `bytes`, which start at a line boundary. `state` is what the previous call on
    /// this file returned, `None` from the start of the file.
    fn parse(&self, src: &Source<'_>, bytes: &[u8], state: Option<&str>) -> Parsed;
}

pub static CLAUDE: claude::Claude = claude::Claude;
pub static CODEX: codex::Codex = codex::Codex;
pub static AMP: amp::Amp = amp::Amp;

/// Every format we read. Adding an agent: one module, one line here, fixtures.
pub fn all() -> [&'static dyn TranscriptFormat; 3] {
    [&CLAUDE, &CODEX, &AMP]
}

pub fn format_for(tool: Tool) -> &'static dyn TranscriptFormat {
    match tool {
        Tool::Claude => &CLAUDE,
        Tool::Codex => &CODEX,
        Tool::Amp => &AMP,
    }
}

/// Split a comma-separated override (`CLAUDE_CONFIG_DIR=a,b`) into paths, expanding `~`.
pub fn split_dirs(value: &str, home: Option<&Path>) -> Vec<PathBuf> {
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| match (s.strip_prefix("~/"), home) {
            (Some(rest), Some(h)) => h.join(rest),
            _ if s == "~" && home.is_some() => home.map(Path::to_path_buf).unwrap_or_default(),
            _ => PathBuf::from(s),
        })
        .collect()
}

pub(crate) fn non_empty(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}
