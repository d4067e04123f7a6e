//! Transcript parsers: bytes in, events out. No IO, no SQL, no clock.
//!
//! Each agent format is one module implementing [`AgentSpec`]. Ingest hands a parser
//! the bytes of a file (from the offset it had consumed before, for append-only formats) and
//! the state the parser left there; the parser returns what it found, how many bytes it
//! consumed (complete lines only) and its new state.

pub mod amp;
pub mod claude;
pub mod codex;
pub mod gemini;
pub mod lenient;
pub mod lines;
pub mod opencode;

use std::path::{Path, PathBuf};

use rustc_hash::FxHashMap;

use crate::usage::{Compaction, SessionInfo, ToolCall, UsageEvent};

/// Environment the agents need to find their files; filled once from the process
/// environment: `HOME`, the XDG base directories and each agent's
/// [`AgentSpec::discovery_vars`].
#[derive(Clone, Debug, Default)]
pub struct Env {
    pub home: Option<PathBuf>,
    vars: std::collections::BTreeMap<&'static str, String>,
}

/// Variables every agent may look at.
const SHARED_VARS: [&str; 2] = ["XDG_DATA_HOME", "XDG_CONFIG_HOME"];

impl Env {
    /// `home`, and the variables the agents name, from `lookup` (blank counts as unset).
    pub fn new(home: Option<PathBuf>, lookup: impl Fn(&str) -> Option<String>) -> Env {
        let names = SHARED_VARS.iter().copied().chain(
            Agent::ALL
                .iter()
                .flat_map(|a| a.spec().discovery_vars().iter().copied()),
        );
        let vars = names
            .filter_map(|n| lookup(n).filter(|v| !v.trim().is_empty()).map(|v| (n, v)))
            .collect();
        Env { home, vars }
    }

    /// A variable an agent's description names, when set.
    pub fn var(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(|v| v.trim())
    }

    pub fn xdg_data_home(&self) -> Option<&str> {
        self.var("XDG_DATA_HOME")
    }

    pub fn xdg_config_home(&self) -> Option<&str> {
        self.var("XDG_CONFIG_HOME")
    }
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

/// One agent, described: where its transcripts are and how to read them (pure: no IO),
/// and what it tells the commands it runs. The defaults fit an agent that says nothing.
pub trait AgentSpec: Sync {
    /// The stable name ([`Agent::as_str`]).
    fn name(&self) -> &'static str;
    fn agent(&self) -> Agent;
    /// Bump when parsing changes what is read from the same bytes: files read by an older
    /// version are read again whole (merged by dedup key, so nothing counts twice).
    fn parser_version(&self) -> i64;
    /// Where this agent keeps transcripts, after its environment overrides.
    fn roots(&self, env: &Env) -> Vec<Root>;
    /// Environment variables that move the agent's files (read into [`Env`]).
    fn discovery_vars(&self) -> &'static [&'static str] {
        &[]
    }
    /// For an agent that keeps its transcripts in a SQLite database: the queries that read
    /// what changed since a watermark (`?1`, ms), each row as `(json text, time_updated)`.
    /// Ingest runs them read-only and hands [`AgentSpec::parse`] the rows, one per line.
    fn database(&self, _path: &Path) -> Option<&'static [&'static str]> {
        None
    }
    /// `rel` is the path below a root; `None` when the file is not a transcript.
    fn classify(&self, rel: &Path) -> Option<FileRole>;
    /// The file at `path` is one JSON document rewritten whole (Amp; OpenCode's older JSON
    /// storage) instead of appended JSONL.
    fn whole_document(&self, _path: &Path) -> bool {
        false
    }
    /// Parse `bytes`, which start at a line boundary. `state` is what the previous call on
    /// this file returned, `None` from the start of the file.
    fn parse(&self, src: &Source<'_>, bytes: &[u8], state: Option<&str>) -> Parsed;

    /// The folder holding the sub-agent files of session `session_id`, whose main file is
    /// `main`, and the root those files are classified under; `None` when sub-agents share
    /// the main file.
    fn subagent_folder(&self, _main: &Path, _session_id: &str) -> Option<(PathBuf, PathBuf)> {
        None
    }
    /// One store holds every session (OpenCode's database): a read of any one session reads
    /// what changed in all of the agent's files.
    fn holds_every_session(&self) -> bool {
        false
    }
    /// Whether the file at `path` may hold session `session_id` when the ledger has not read
    /// it yet (its path names no session in full): the files a first read of one session
    /// looks at.
    fn may_hold(&self, _path: &Path, _session_id: &str) -> bool {
        false
    }
    /// An analysis's `usage_mode`: how its numbers come from this agent's transcripts.
    fn usage_mode(&self) -> &'static str {
        "per_message_sum"
    }
    /// Environment variables the agent sets in the commands it runs that name its session,
    /// with the `session_binding` each records, in order of precedence.
    fn session_vars(&self) -> &'static [(&'static str, &'static str)] {
        &[]
    }
    /// Folders where a running agent keeps `<pid>.json` files naming its session
    /// (`sessionId`): an ancestor process's file binds a session, recorded as the
    /// `session_binding` returned beside them.
    fn running_session_dirs(&self, _env: &Env) -> (&'static str, Vec<PathBuf>) {
        ("", Vec::new())
    }
    /// Every environment variable the agent's description names.
    fn env_vars(&self) -> Vec<&'static str> {
        let mut v: Vec<&'static str> = self.session_vars().iter().map(|(n, _)| *n).collect();
        match self.anchoring() {
            Anchoring::None => {}
            Anchoring::CallIdVar {
                call_var,
                session_var,
            } => v.extend([call_var, session_var]),
            Anchoring::PendingShellCall {
                session_var,
                marker_var,
            } => v.extend(session_var.into_iter().chain([marker_var])),
            Anchoring::CallWrittenAfter { marker_var } => v.push(marker_var),
        }
        v
    }
    /// How a snapshot taken by a command that one of the agent's tool calls ran finds that
    /// call (SPEC "What a snapshot counts").
    fn anchoring(&self) -> Anchoring {
        Anchoring::None
    }
    /// How long a snapshot whose calling call is on disk waits for the call's response,
    /// given the session's agent version (an agent that writes usage only after its tools
    /// ran says `ZERO`).
    fn response_wait(
        &self,
        _cli_version: Option<&str>,
        budget: std::time::Duration,
    ) -> std::time::Duration {
        budget
    }
    /// Executable names of the agent itself (where a search up the process tree stops).
    fn process_names(&self) -> &'static [&'static str] {
        &[]
    }
    /// The session id a headless run of the agent prints on one line of its stdout (what
    /// `analysis run` binds by); `None` for agents that print none.
    fn printed_session_id(&self, _line: &[u8]) -> Option<String> {
        None
    }
    /// Whether a headless run prints its session id at all (`analysis run` leaves the
    /// stdout of one that does not alone).
    fn prints_session_id(&self) -> bool {
        false
    }
    /// The provider a model is priced under (a normalised model name).
    fn price_provider(&self, normalized_model: &str) -> Option<&'static str> {
        provider_by_model_name(normalized_model)
    }
    /// What a call of the agent's tool `name` does to the file it names.
    fn file_action(&self, name: &str) -> FileAction {
        FileAction::of_common_name(name)
    }
    /// The agent's skill and settings templates: `(path under templates/, text)`.
    fn templates(&self) -> &'static [(&'static str, &'static str)] {
        &[]
    }
}

/// How a command run by an agent's tool call finds that call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Anchoring {
    /// Not anchored: the agent tells its commands nothing of the call.
    None,
    /// The agent writes the response before it runs the response's tools, and the call only
    /// once it has run: what is on disk is exactly through the calling response, and the
    /// snapshot is settled when the call, found by its command, is written. `marker_var` is
    /// set in the commands the agent runs.
    CallWrittenAfter { marker_var: &'static str },
    /// `call_var` holds the call's id; `session_var`, when set, must be the session.
    CallIdVar {
        call_var: &'static str,
        session_var: &'static str,
    },
    /// The call is the session's shell call without a result whose command an ancestor
    /// shell runs. `session_var` names the session; without it, `marker_var` being set and
    /// a running agent among the ancestors ([`AgentSpec::running_session_dirs`]) tell it.
    PendingShellCall {
        session_var: Option<&'static str>,
        marker_var: &'static str,
    },
}

/// What a tool call does to the file it names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileAction {
    Read,
    Edit,
    /// Searches, listings, shells: a path, but not a file read or written.
    Other,
}

impl FileAction {
    /// By the tool names the agents share (compared without case).
    pub fn of_common_name(name: &str) -> FileAction {
        match name.to_ascii_lowercase().as_str() {
            "read" | "read_file" | "notebookread" | "view" => FileAction::Read,
            "edit" | "multiedit" | "write" | "notebookedit" | "apply_patch" | "edit_file"
            | "create_file" | "write_file" | "undo_edit" => FileAction::Edit,
            _ => FileAction::Other,
        }
    }
}

/// Generates [`Agent`] and its lookups from the registry below.
macro_rules! registry {
    ($($variant:ident => $spec:path),+ $(,)?) => {
        /// An agent whose transcripts tokledger reads. Its name ([`Agent::as_str`]) is the
        /// contract's `tool` value, stored in SQLite and printed in JSON: never rename one.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Agent {
            $($variant),+
        }

        impl Agent {
            pub const ALL: &'static [Agent] = &[$(Agent::$variant),+];

            /// Everything that differs between agents.
            pub fn spec(self) -> &'static dyn AgentSpec {
                match self {
                    $(Agent::$variant => &$spec),+
                }
            }
        }
    };
}

// The registry. Adding an agent: its module (an `AgentSpec`), its fixtures, one line here.
registry! {
    Claude => claude::Claude,
    Codex => codex::Codex,
    Amp => amp::Amp,
    OpenCode => opencode::OpenCode,
    Gemini => gemini::Gemini,
}

impl Agent {
    /// The stable name (`claude`, `codex`, …).
    pub fn as_str(self) -> &'static str {
        self.spec().name()
    }

    pub fn parse(s: &str) -> Option<Agent> {
        Agent::ALL.iter().copied().find(|t| t.as_str() == s)
    }
}

impl std::fmt::Display for Agent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
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

/// The model's maker, by its name: for agents that run several makers' models (Amp).
pub fn provider_by_model_name(normalized: &str) -> Option<&'static str> {
    if normalized.starts_with("claude") {
        Some("anthropic")
    } else if ["gpt-", "o1", "o3", "o4", "codex"]
        .iter()
        .any(|p| normalized.starts_with(p))
    {
        Some("openai")
    } else if normalized.starts_with("gemini") {
        Some("google")
    } else {
        None
    }
}

/// A line of JSON that mentions `needle`, parsed (cheap to reject for any other line).
pub(crate) fn json_line_with(line: &[u8], needle: &[u8]) -> Option<serde_json::Value> {
    let text = line.trim_ascii();
    if !text.starts_with(b"{") || memchr::memmem::find(text, needle).is_none() {
        return None;
    }
    serde_json::from_slice(text).ok()
}

pub(crate) fn non_blank(id: &str) -> Option<String> {
    let id = id.trim();
    (!id.is_empty()).then(|| id.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printed_ids_by_tool() {
        let codex =
            br#"{"type":"thread.started","thread_id":"0199a213-81c0-7800-8aa1-bbab2a035a53"}"#;
        assert_eq!(
            Agent::Codex.spec().printed_session_id(codex).as_deref(),
            Some("0199a213-81c0-7800-8aa1-bbab2a035a53")
        );
        assert_eq!(Agent::Claude.spec().printed_session_id(codex), None);
        assert_eq!(
            Agent::Codex
                .spec()
                .printed_session_id(br#"{"type":"turn.started","thread_id":"x"}"#),
            None
        );
        let init = br#"  {"type":"system","subtype":"init","session_id":"abc"}  "#;
        assert_eq!(
            Agent::Claude.spec().printed_session_id(init).as_deref(),
            Some("abc")
        );
        let result = br#"{"type":"result","subtype":"success","session_id":"def","usage":{}}"#;
        assert_eq!(
            Agent::Claude.spec().printed_session_id(result).as_deref(),
            Some("def")
        );
        assert_eq!(
            Agent::Claude
                .spec()
                .printed_session_id(br#"{"type":"assistant","session_id":"x"}"#),
            None
        );
        assert_eq!(
            Agent::Codex.spec().printed_session_id(b"thread.started {"),
            None
        );
        assert_eq!(Agent::Amp.spec().printed_session_id(codex), None);
    }
}
