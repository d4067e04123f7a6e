//! Claude Code: `projects/<encoded-cwd>/<session>.jsonl`, one JSON object per line.
//!
//! One API response is written as several `assistant` lines (one per content block), each
//! with the usage snapshot of that moment; copies merge by `message.id` (see
//! docs/FORMATS.md for the whole rule). `<synthetic>` lines are local notices and count
//! nothing. Sub-agent files under `<session>/subagents/` belong to the parent session.

use std::fmt::{self, Write as _};
use std::path::{Component, Path, PathBuf};

use memchr::memmem::Finder;
use rustc_hash::FxHashMap;
use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, SeqAccess, Visitor};

use super::lenient::{Str, ToolInputPath};
use super::lines::{Lines, contains_any, utf8_line};
use super::{
    Agent, AgentSpec, Anchoring, Env, FileRole, Parsed, Root, Source, json_line_with, non_blank,
    split_dirs,
};
use crate::usage::{Compaction, Tokens, ToolCall, UsageEvent, parse_ts_ms};

pub struct Claude;

const SYNTHETIC_MODEL: &str = "<synthetic>";

#[derive(Deserialize)]
struct Line<'a> {
    #[serde(rename = "type", borrow)]
    kind: Option<Str<'a>>,
    #[serde(borrow)]
    subtype: Option<Str<'a>>,
    #[serde(borrow)]
    timestamp: Option<Str<'a>>,
    #[serde(rename = "sessionId", borrow)]
    session_id: Option<Str<'a>>,
    #[serde(rename = "requestId", borrow)]
    request_id: Option<Str<'a>>,
    #[serde(rename = "isSidechain")]
    is_sidechain: Option<bool>,
    #[serde(borrow)]
    uuid: Option<Str<'a>>,
    #[serde(borrow)]
    cwd: Option<Str<'a>>,
    #[serde(rename = "gitBranch", borrow)]
    git_branch: Option<Str<'a>>,
    #[serde(borrow)]
    version: Option<Str<'a>>,
    #[serde(rename = "compactMetadata")]
    compact_metadata: Option<CompactMetadata>,
    #[serde(rename = "microcompactMetadata")]
    microcompact_metadata: Option<CompactMetadata>,
    #[serde(borrow)]
    message: Option<Message<'a>>,
}

#[derive(Deserialize)]
struct CompactMetadata {
    trigger: Option<String>,
    #[serde(rename = "preTokens")]
    pre_tokens: Option<i64>,
}

#[derive(Deserialize)]
struct Message<'a> {
    #[serde(borrow)]
    id: Option<Str<'a>>,
    #[serde(borrow)]
    model: Option<Str<'a>>,
    usage: Option<Usage>,
    #[serde(default, borrow)]
    content: Content<'a>,
}

#[derive(Deserialize, Default)]
struct Usage {
    input_tokens: Option<u64>,
    output_tokens: Option<u64>,
    cache_creation_input_tokens: Option<u64>,
    cache_read_input_tokens: Option<u64>,
    cache_creation: Option<CacheCreation>,
    speed: Option<String>,
}

#[derive(Deserialize, Default)]
struct CacheCreation {
    ephemeral_5m_input_tokens: Option<u64>,
    ephemeral_1h_input_tokens: Option<u64>,
}

#[derive(Deserialize)]
struct Block<'a> {
    #[serde(rename = "type", borrow)]
    kind: Option<Str<'a>>,
    #[serde(borrow)]
    id: Option<Str<'a>>,
    #[serde(borrow)]
    name: Option<Str<'a>>,
    input: Option<ToolInputPath>,
    #[serde(borrow)]
    tool_use_id: Option<Str<'a>>,
    is_error: Option<bool>,
}

/// `message.content`: a plain string (prompts) or an array of blocks.
#[derive(Default)]
struct Content<'a>(Vec<Block<'a>>);

impl<'de: 'a, 'a> Deserialize<'de> for Content<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Content<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string or an array of content blocks")
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
                Ok(Content(Vec::new()))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Content(Vec::new()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut v = Vec::new();
                while let Some(b) = seq.next_element::<Block<'a>>()? {
                    v.push(b);
                }
                Ok(Content(v))
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Content(Vec::new()))
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

fn n(v: Option<u64>) -> i64 {
    v.map_or(0, |x| i64::try_from(x).unwrap_or(i64::MAX))
}

fn tokens_of(u: &Usage) -> Tokens {
    let (m5, h1) = u.cache_creation.as_ref().map_or((None, None), |c| {
        (c.ephemeral_5m_input_tokens, c.ephemeral_1h_input_tokens)
    });
    let split_sum = n(m5).saturating_add(n(h1));
    // The summed field is the total of cache writes; the TTL split says how it divides.
    // Without a split every write is a 5-minute write (the API's default TTL).
    let creation = u
        .cache_creation_input_tokens
        .map_or(split_sum, |c| n(Some(c)).max(split_sum));
    let h1 = n(h1).min(creation);
    Tokens {
        input_tokens: n(u.input_tokens),
        cache_creation_tokens: creation,
        cache_creation_5m_tokens: creation - h1,
        cache_creation_1h_tokens: h1,
        cache_read_tokens: n(u.cache_read_input_tokens),
        output_tokens: n(u.output_tokens),
        reasoning_tokens: 0,
    }
}

/// Lines worth parsing hold one of these; the rest (snapshots, progress, titles) are skipped
/// before JSON parsing.
fn needles() -> [Finder<'static>; 4] {
    [
        Finder::new(br#""usage""#),
        Finder::new(br#""user""#),
        Finder::new(br#""tool_use""#),
        Finder::new(b"compact_boundary"),
    ]
}

impl AgentSpec for Claude {
    fn name(&self) -> &'static str {
        "claude"
    }

    fn agent(&self) -> Agent {
        Agent::Claude
    }

    /// `<root>/<project>/<session>.jsonl` keeps its sub-agents in
    /// `<root>/<project>/<session>/subagents/`.
    fn subagent_folder(&self, main: &Path, _session_id: &str) -> Option<(PathBuf, PathBuf)> {
        let dir = main.with_extension("");
        let root = dir.parent()?.parent()?.to_path_buf();
        Some((root, dir.join("subagents")))
    }

    fn session_vars(&self) -> &'static [(&'static str, &'static str)] {
        &[("CLAUDE_CODE_SESSION_ID", "claude_code_session_id")]
    }

    /// A running Claude Code writes `<config>/sessions/<pid>.json` holding its `sessionId`.
    fn running_session_dirs(&self, env: &Env) -> (&'static str, Vec<PathBuf>) {
        let dirs = self
            .roots(env)
            .into_iter()
            .filter_map(|r| r.dir.parent().map(|c| c.join("sessions")))
            .collect();
        ("claude_process", dirs)
    }

    /// Claude Code names no call: its Bash tool runs `bash -c "… eval '<command>' …"`.
    fn anchoring(&self) -> Anchoring {
        Anchoring::PendingShellCall {
            session_var: Some("CLAUDE_CODE_SESSION_ID"),
            marker_var: "CLAUDECODE",
        }
    }

    fn process_names(&self) -> &'static [&'static str] {
        &["claude", "claude.exe"]
    }

    /// `-p --output-format json` or `stream-json` prints objects of type `result` (and
    /// `system`, subtype `init`) carrying `session_id`.
    fn printed_session_id(&self, line: &[u8]) -> Option<String> {
        let v = json_line_with(line, b"session_id")?;
        let str_of = |k: &str| v.get(k).and_then(serde_json::Value::as_str);
        let id = match str_of("type") {
            Some("result") => str_of("session_id"),
            Some("system") if str_of("subtype") == Some("init") => str_of("session_id"),
            _ => None,
        }?;
        non_blank(id)
    }

    fn prints_session_id(&self) -> bool {
        true
    }

    fn price_provider(&self, _normalized_model: &str) -> Option<&'static str> {
        Some("anthropic")
    }

    fn templates(&self) -> &'static [(&'static str, &'static str)] {
        &[
            (
                "claude/skills/tokledger-check/SKILL.md.j2",
                include_str!("../../templates/claude/skills/tokledger-check/SKILL.md.j2"),
            ),
            (
                "claude/settings.json",
                include_str!("../../templates/claude/settings.json"),
            ),
        ]
    }

    fn parser_version(&self) -> i64 {
        1
    }

    fn discovery_vars(&self) -> &'static [&'static str] {
        &["CLAUDE_CONFIG_DIR"]
    }

    fn roots(&self, env: &Env) -> Vec<Root> {
        let home = env.home.as_deref();
        let dirs = match env.var("CLAUDE_CONFIG_DIR") {
            Some(list) => split_dirs(list, home),
            None => {
                let config = env
                    .xdg_config_home()
                    .map(std::path::PathBuf::from)
                    .or_else(|| home.map(|h| h.join(".config")));
                config
                    .map(|c| c.join("claude"))
                    .into_iter()
                    .chain(home.map(|h| h.join(".claude")))
                    .collect()
            }
        };
        dirs.into_iter()
            .map(|d| {
                let dir = if d.ends_with("projects") {
                    d
                } else {
                    d.join("projects")
                };
                Root {
                    dir,
                    archived: false,
                }
            })
            .collect()
    }

    fn classify(&self, rel: &Path) -> Option<FileRole> {
        let parts: Vec<&str> = rel
            .components()
            .map(|c| match c {
                Component::Normal(s) => s.to_str(),
                _ => None,
            })
            .collect::<Option<_>>()?;
        let file = *parts.last()?;
        let stem = file.strip_suffix(".jsonl")?;
        match parts.as_slice() {
            // Old layout: sidechain files beside the sessions; the lines name the parent.
            [_, _] if stem.starts_with("agent-") => Some(FileRole {
                session_hint: None,
                main: false,
            }),
            [_, _] => Some(FileRole {
                session_hint: Some(stem.to_owned()),
                main: true,
            }),
            [_, session, "subagents", .., _] if file != "journal.jsonl" => Some(FileRole {
                session_hint: Some((*session).to_owned()),
                main: false,
            }),
            _ => None,
        }
    }

    fn parse(&self, src: &Source<'_>, bytes: &[u8], _state: Option<&str>) -> Parsed {
        let mut out = Parsed::default();
        let needles = needles();
        let fallback = src.fallback_session();
        // Streaming copies of one response are usually adjacent: merge them here so the
        // store sees one row per response and file.
        let mut seen: FxHashMap<String, usize> = FxHashMap::default();
        let mut key = String::new();
        let mut lines = Lines::new(bytes);
        for raw in &mut lines {
            if raw.iter().all(u8::is_ascii_whitespace) || !contains_any(raw, &needles) {
                continue;
            }
            let (text, lossy) = utf8_line(raw);
            let mut rewritten = String::new();
            let Ok(line) = crate::agents::lenient::from_json::<Line<'_>>(&text, &mut rewritten)
            else {
                out.malformed += 1;
                continue;
            };
            out.lossy_utf8 += usize::from(lossy);
            let ts = line.timestamp.as_deref().and_then(parse_ts_ms);
            let session: &str = src
                .role
                .session_hint
                .as_deref()
                .or(line.session_id.as_deref())
                .unwrap_or(&fallback);
            let info = out.session_mut(session);
            info.saw_time(ts);
            crate::usage::SessionInfo::set_if_some(&mut info.cwd, line.cwd.as_deref());
            crate::usage::SessionInfo::set_if_some(
                &mut info.git_branch,
                line.git_branch.as_deref(),
            );
            crate::usage::SessionInfo::set_if_some(&mut info.cli_version, line.version.as_deref());

            match line.kind.as_deref() {
                Some("assistant") => {
                    let Some(msg) = &line.message else { continue };
                    for b in &msg.content.0 {
                        if b.kind.as_deref() == Some("tool_use")
                            && let Some(id) = &b.id
                        {
                            out.tools.push(ToolCall {
                                call_id: id.to_string(),
                                session_id: session.to_owned(),
                                name: b.name.as_deref().map(str::to_owned),
                                called_at_ms: ts,
                                file_path: b.input.as_ref().and_then(|i| i.0.clone()),
                                command: b.input.as_ref().and_then(|i| i.1.clone()),
                                program: b.input.as_ref().and_then(|i| i.2.clone()),
                                response_key: msg.id.as_ref().map(|m| format!("claude:{}", &**m)),
                                ..Default::default()
                            });
                        }
                    }
                    let model = msg.model.as_deref();
                    let (Some(usage), Some(id)) = (&msg.usage, &msg.id) else {
                        continue;
                    };
                    if model == Some(SYNTHETIC_MODEL) {
                        continue;
                    }
                    let request_id = line.request_id.as_deref();
                    // `claude:<id>`, then the request id after the key's length (so no id and
                    // request id pair can spell another's).
                    key.clear();
                    key.push_str("claude:");
                    key.push_str(id);
                    let key_len = key.len();
                    if let Some(r) = request_id {
                        let _ = write!(key, "/{key_len}:{r}");
                    }
                    let event = UsageEvent {
                        dedup_key: key[..key_len].to_owned(),
                        session_id: session.to_owned(),
                        request_id: request_id.map(str::to_owned),
                        timestamp_ms: ts,
                        model: model.map(str::to_owned),
                        tokens: tokens_of(usage),
                        sidechain: line.is_sidechain.unwrap_or(false),
                        speed: usage.speed.clone(),
                        priced: false,
                        cost_nusd: None,
                    };
                    match seen.get(key.as_str()) {
                        Some(&i) => out.usage[i].merge(&event),
                        None => {
                            seen.insert(key.clone(), out.usage.len());
                            out.usage.push(event);
                        }
                    }
                }
                Some("user") => {
                    let Some(msg) = &line.message else { continue };
                    for b in &msg.content.0 {
                        if b.kind.as_deref() == Some("tool_result")
                            && let Some(id) = &b.tool_use_id
                        {
                            out.tools.push(ToolCall {
                                call_id: id.to_string(),
                                session_id: session.to_owned(),
                                result_at_ms: ts,
                                failed: Some(b.is_error == Some(true)),
                                ..Default::default()
                            });
                        }
                    }
                }
                Some("system") => {
                    let (kind, meta) = match line.subtype.as_deref() {
                        Some("compact_boundary") => ("compact", &line.compact_metadata),
                        Some("microcompact_boundary") => {
                            ("microcompact", &line.microcompact_metadata)
                        }
                        _ => continue,
                    };
                    let dedup_key = match &line.uuid {
                        Some(u) => format!("claude:{}", &**u),
                        None => format!("claude:{session}:{}", ts.unwrap_or_default()),
                    };
                    out.compactions.push(Compaction {
                        dedup_key,
                        session_id: session.to_owned(),
                        kind,
                        at_ms: ts,
                        trigger: meta.as_ref().and_then(|m| m.trigger.clone()),
                        pre_tokens: meta.as_ref().and_then(|m| m.pre_tokens),
                    });
                }
                _ => {}
            }
        }
        out.consumed = lines.consumed();
        out.incomplete_tail = lines.has_tail();
        out
    }
}
