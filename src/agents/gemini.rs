//! Gemini CLI: `<gemini home>/tmp/<project>/chats/session-<YYYY-MM-DDTHH-MM>-<8 of id>.jsonl`
//! (`GEMINI_CLI_HOME` replaces `~/.gemini`), sub-agents in `chats/<parent session id>/*.jsonl`.
//! One JSON object per line: a header naming the session, messages, `{"$set": …}` updates
//! (on resume a whole-history `messages` rewrite) and `{"$rewindTo": id}`.
//!
//! A response is keyed by its `id`: one with tool calls is written twice (before its tools
//! run, then with `toolCalls`), and a resume's rewrite repeats earlier ones, with or
//! without `tokens`; each counts once. Buckets (docs/FORMATS.md, Gemini CLI): input =
//! prompt − cached + tool-use prompt, cache reads = cached, output = candidates + thoughts.

use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::lines::{Lines, utf8_line};
use super::{Agent, AgentSpec, Anchoring, Env, FileRole, Parsed, Root, Source};
use crate::usage::{SessionInfo, Tokens, ToolCall, UsageEvent, command_key, parse_ts_ms};

pub struct Gemini;

/// What a file's earlier lines leave for its later ones.
#[derive(Serialize, Deserialize, Default, Debug, Clone)]
struct State {
    /// The header's `sessionId`.
    session: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct GeminiTokens {
    input: i64,
    output: i64,
    cached: i64,
    thoughts: i64,
    tool: i64,
}

fn tokens_of(t: &GeminiTokens) -> Tokens {
    let cached = t.cached.clamp(0, t.input.max(0));
    Tokens {
        input_tokens: (t.input.max(0) - cached).saturating_add(t.tool.max(0)),
        cache_read_tokens: cached,
        output_tokens: t.output.max(0).saturating_add(t.thoughts.max(0)),
        reasoning_tokens: t.thoughts.max(0),
        ..Tokens::default()
    }
}

/// The working directory a session's context message names (`Workspace Directories`).
fn workspace_of(text: &str) -> Option<&str> {
    let after = text.split_once("Workspace Directories:**")?.1;
    after
        .lines()
        .skip(1)
        .find_map(|l| l.trim().strip_prefix("- "))
        .map(str::trim)
        .filter(|d| d.starts_with('/'))
}

/// A failed shell command is recorded as `success`; its exit code is only in the result
/// text (`Exit Code: N`).
fn exit_code(result: &Value) -> Option<i64> {
    let text = result.to_string();
    let at = text.find("Exit Code: ")?;
    text[at + "Exit Code: ".len()..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .ok()
}

struct Reader<'a> {
    out: &'a mut Parsed,
    session: &'a str,
}

impl Reader<'_> {
    /// One message, from a line or from a `$set.messages` list.
    fn message(&mut self, m: &Value) {
        let text = |k: &str| m.get(k).and_then(Value::as_str);
        let ts = text("timestamp").and_then(parse_ts_ms);
        let session = self.session.to_owned();
        let info = self.out.session_mut(&session);
        info.saw_time(ts);
        match text("type") {
            Some("user") => {
                let context = m
                    .get("content")
                    .and_then(Value::as_array)
                    .and_then(|c| c.first())
                    .and_then(|c| c.get("text"))
                    .and_then(Value::as_str)
                    .filter(|t| t.starts_with("<session_context>"));
                if let Some(dir) = context.and_then(workspace_of) {
                    SessionInfo::set_if_some(&mut info.cwd, Some(dir));
                }
            }
            Some("gemini") => {
                let Some(id) = text("id") else { return };
                if let Some(t) = m.get("tokens") {
                    let Ok(t) = serde_json::from_value::<GeminiTokens>(t.clone()) else {
                        self.out.malformed += 1;
                        return;
                    };
                    self.out.usage.push(UsageEvent {
                        dedup_key: format!("gemini:{id}"),
                        session_id: session.clone(),
                        request_id: None,
                        timestamp_ms: ts,
                        model: text("model").map(str::to_owned),
                        tokens: tokens_of(&t),
                        sidechain: false,
                        speed: None,
                        priced: false,
                        cost_nusd: None,
                    });
                }
                for call in m
                    .get("toolCalls")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    self.tool_call(id, ts, call);
                }
            }
            _ => {}
        }
    }

    fn tool_call(&mut self, response: &str, called: Option<i64>, c: &Value) {
        let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
        let Some(call_id) = text(c, "id") else { return };
        let args = c.get("args").unwrap_or(&Value::Null);
        let status = text(c, "status");
        let failed = match status.as_deref() {
            Some("success") => Some(c.get("result").and_then(exit_code).is_some_and(|e| e != 0)),
            Some("error" | "cancelled") => Some(true),
            _ => None,
        };
        let result_at = failed
            .and(text(c, "timestamp"))
            .and_then(|t| parse_ts_ms(&t));
        self.out.tools.push(ToolCall {
            call_id,
            scope: String::new(),
            session_id: self.session.to_owned(),
            name: text(c, "name"),
            called_at_ms: called,
            file_path: text(args, "file_path").or_else(|| text(args, "path")),
            result_at_ms: result_at,
            failed,
            // Gemini states none: from the response to the call's result.
            duration_ms: match (called, result_at) {
                (Some(c), Some(r)) if r >= c => r.checked_sub(c),
                _ => None,
            },
            response_key: Some(format!("gemini:{response}")),
            command: text(args, "command")
                .map(|c| command_key(&c))
                .filter(|c| !c.is_empty()),
            program: text(args, "command").and_then(|c| crate::program::program_of(&c)),
            agent_id: text(c, "agentId"),
        });
    }
}

impl AgentSpec for Gemini {
    fn name(&self) -> &'static str {
        "gemini"
    }

    fn process_names(&self) -> &'static [&'static str] {
        &["gemini"]
    }

    /// `<root>/<project>/chats/session-….jsonl` keeps its sub-agents in
    /// `<root>/<project>/chats/<session id>/`.
    fn subagent_folder(&self, main: &Path, session_id: &str) -> Option<(PathBuf, PathBuf)> {
        let chats = main.parent()?;
        let root = chats.parent()?.parent()?.to_path_buf();
        Some((root, chats.join(session_id)))
    }

    /// A main file's name ends in the first 8 characters of its session id.
    fn may_hold(&self, path: &Path, session_id: &str) -> bool {
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        session_id
            .get(..8)
            .is_some_and(|head| stem.starts_with("session-") && stem.ends_with(head))
    }

    /// The response is written before its tools run; the call once it has run.
    fn anchoring(&self) -> Anchoring {
        Anchoring::CallWrittenAfter {
            marker_var: "GEMINI_CLI",
        }
    }

    /// `gemini -p --output-format json|stream-json` prints `session_id` (stream-json in its
    /// first event, `init`).
    fn printed_session_id(&self, line: &[u8]) -> Option<String> {
        let v = super::json_line_with(line, b"session_id")?;
        super::non_blank(v.get("session_id")?.as_str()?)
    }

    fn prints_session_id(&self) -> bool {
        true
    }

    fn templates(&self) -> &'static [(&'static str, &'static str)] {
        &[(
            "gemini/skills/tokledger-check/SKILL.md.j2",
            include_str!("../../templates/gemini/skills/tokledger-check/SKILL.md.j2"),
        )]
    }

    fn agent(&self) -> Agent {
        Agent::Gemini
    }

    fn parser_version(&self) -> i64 {
        1
    }

    fn discovery_vars(&self) -> &'static [&'static str] {
        &["GEMINI_CLI_HOME"]
    }

    fn roots(&self, env: &Env) -> Vec<Root> {
        let home = match env.var("GEMINI_CLI_HOME") {
            Some(h) => Some(Path::new(h).to_path_buf()),
            None => env.home.as_ref().map(|h| h.join(".gemini")),
        };
        home.map(|h| Root {
            dir: h.join("tmp"),
            archived: false,
        })
        .into_iter()
        .collect()
    }

    /// `<project>/chats/session-*.jsonl` (a session; its header names it) and
    /// `<project>/chats/<parent session id>/<sub-agent>.jsonl`.
    fn classify(&self, rel: &Path) -> Option<FileRole> {
        let parts: Vec<&str> = rel
            .components()
            .map(|c| match c {
                Component::Normal(s) => s.to_str(),
                _ => None,
            })
            .collect::<Option<_>>()?;
        match parts.as_slice() {
            [_, "chats", file] if file.starts_with("session-") && file.ends_with(".jsonl") => {
                Some(FileRole {
                    session_hint: None,
                    main: true,
                })
            }
            [_, "chats", parent, file] if file.ends_with(".jsonl") => Some(FileRole {
                session_hint: Some((*parent).to_owned()),
                main: false,
            }),
            _ => None,
        }
    }

    fn parse(&self, src: &Source<'_>, bytes: &[u8], state: Option<&str>) -> Parsed {
        let mut st: State = state
            .and_then(|s| serde_json::from_str(s).ok())
            .unwrap_or_default();
        let fallback = src.fallback_session();
        let mut out = Parsed::default();
        let mut lines = Lines::new(bytes);
        for raw in &mut lines {
            if raw.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let (text, lossy) = utf8_line(raw);
            out.lossy_utf8 += usize::from(lossy);
            let Ok(v) = serde_json::from_str::<Value>(&text) else {
                out.malformed += 1;
                continue;
            };
            // A header (`kind` main or subagent) names the file's session; a sub-agent file
            // belongs to its parent, which its folder names.
            if let Some(id) = v.get("sessionId").and_then(Value::as_str)
                && v.get("kind").is_some()
            {
                if st.session.is_none() {
                    st.session = Some(id.to_owned());
                }
                continue;
            }
            let session = src
                .role
                .session_hint
                .clone()
                .or_else(|| st.session.clone())
                .unwrap_or_else(|| fallback.clone());
            let mut r = Reader {
                out: &mut out,
                session: &session,
            };
            if let Some(set) = v.get("$set") {
                for m in set
                    .get("messages")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    r.message(m);
                }
            } else if v.get("$rewindTo").is_none() {
                r.message(&v);
            }
        }
        out.consumed = lines.consumed();
        out.incomplete_tail = lines.has_tail();
        out.state = serde_json::to_string(&st).ok();
        out
    }
}
