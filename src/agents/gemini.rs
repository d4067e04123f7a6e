//! Gemini CLI: `<gemini home>/tmp/<project>/chats/session-<YYYY-MM-DDTHH-MM>-<8 of id>.jsonl`
//! (`GEMINI_CLI_HOME` replaces `~/.gemini`), sub-agents in `chats/<parent session id>/*.jsonl`.
//! One JSON object per line: a header naming the session, messages, `{"$set": …}` updates
//! (on resume a whole-history `messages` rewrite) and `{"$rewindTo": id}`.
//!
//! A response is keyed by its `id`: one with tool calls is written twice (before its tools
//! run, then with `toolCalls`), and a resume's rewrite repeats earlier ones, with or
//! without `tokens`; each counts once. Buckets (docs/FORMATS.md, Gemini CLI): input =
//! prompt − cached + tool-use prompt, cache reads = cached, output = candidates + thoughts.

use std::borrow::Cow;
use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;

use super::lenient::{ObjOr, Present};

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
/// text (`Exit Code: N`), searched in the result's JSON as `Value` prints it.
fn exit_code(result: &RawValue) -> Option<i64> {
    let raw = result.get();
    // Printing decodes only `\u` escapes into other text: without them and without the
    // phrase, the printed form holds no exit code either.
    if !raw.contains("Exit Code: ") && !raw.contains("\\u") {
        return None;
    }
    let text = serde_json::from_str::<Value>(raw).ok()?.to_string();
    let at = text.find("Exit Code: ")?;
    text[at + "Exit Code: ".len()..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .ok()
}

/// A line (a header, a `$set`, a `$rewindTo` or a message) or an item of `$set.messages`;
/// fields kept raw (any may be of any type: `Value::get` and `as_str` read them before).
#[derive(Deserialize, Default, Clone, Copy)]
struct Message<'a> {
    #[serde(rename = "sessionId", default, borrow)]
    session_id: Present<'a>,
    #[serde(default, borrow)]
    kind: Present<'a>,
    #[serde(rename = "$set", default, borrow)]
    set: Present<'a>,
    #[serde(rename = "$rewindTo", default, borrow)]
    rewind_to: Present<'a>,
    #[serde(rename = "type", default, borrow)]
    message_type: Present<'a>,
    #[serde(default, borrow)]
    id: Present<'a>,
    #[serde(default, borrow)]
    timestamp: Present<'a>,
    #[serde(default, borrow)]
    model: Present<'a>,
    #[serde(default, borrow)]
    tokens: Present<'a>,
    #[serde(default, borrow)]
    content: Present<'a>,
    #[serde(rename = "toolCalls", default, borrow)]
    tool_calls: Present<'a>,
}

#[derive(Deserialize)]
struct SetMessages<'a> {
    #[serde(default, borrow)]
    messages: Present<'a>,
}

#[derive(Deserialize)]
struct Call<'a> {
    #[serde(default, borrow)]
    id: Present<'a>,
    #[serde(default, borrow)]
    args: Present<'a>,
    #[serde(default, borrow)]
    status: Present<'a>,
    #[serde(default, borrow)]
    result: Present<'a>,
    #[serde(default, borrow)]
    timestamp: Present<'a>,
    #[serde(default, borrow)]
    name: Present<'a>,
    #[serde(rename = "agentId", default, borrow)]
    agent_id: Present<'a>,
}

#[derive(Deserialize, Default)]
struct CallArgs<'a> {
    #[serde(default, borrow)]
    file_path: Present<'a>,
    #[serde(default, borrow)]
    path: Present<'a>,
    #[serde(default, borrow)]
    command: Present<'a>,
}

/// A list's items (`None` when the value is not a list).
fn items<'a, T: Deserialize<'a>>(v: Present<'a>, rewritten: &'a mut String) -> Option<Vec<T>> {
    let raw = v.0?.get();
    raw.starts_with('[')
        .then(|| crate::agents::lenient::from_json::<Vec<T>>(raw, rewritten).ok())?
}

/// An object's fields (`None` when the value is not an object).
fn fields<'a, T: Deserialize<'a>>(v: Present<'a>, rewritten: &'a mut String) -> Option<T> {
    crate::agents::lenient::object_as(v.0?.get(), rewritten)
}

struct Reader<'a> {
    out: &'a mut Parsed,
    session: &'a str,
}

impl Reader<'_> {
    /// One message, from a line or from a `$set.messages` list (`None`: not an object).
    fn message(&mut self, m: Option<&Message<'_>>) {
        let m = m.copied().unwrap_or_default();
        let ts = m.timestamp.str().as_deref().and_then(parse_ts_ms);
        let session = self.session.to_owned();
        let info = self.out.session_mut(&session);
        info.saw_time(ts);
        match m.message_type.str().as_deref() {
            Some("user") => {
                let content = m
                    .content
                    .raw()
                    .and_then(|c| serde_json::from_str::<Value>(c.get()).ok());
                let context = content
                    .as_ref()
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
                let Some(id) = m.id.str() else { return };
                if let Some(t) = m.tokens.0 {
                    let mut rewritten = String::new();
                    let Ok(t) =
                        crate::agents::lenient::from_json::<GeminiTokens>(t.get(), &mut rewritten)
                    else {
                        self.out.malformed += 1;
                        return;
                    };
                    self.out.usage.push(UsageEvent {
                        dedup_key: format!("gemini:{id}"),
                        session_id: session.clone(),
                        request_id: None,
                        timestamp_ms: ts,
                        model: m.model.str().map(Cow::into_owned),
                        tokens: tokens_of(&t),
                        sidechain: false,
                        speed: None,
                        priced: false,
                        cost_nusd: None,
                    });
                }
                let mut rewritten = String::new();
                for call in items::<ObjOr<Call<'_>>>(m.tool_calls, &mut rewritten)
                    .into_iter()
                    .flatten()
                {
                    if let Some(c) = call.object() {
                        self.tool_call(&id, ts, c);
                    }
                }
            }
            _ => {}
        }
    }

    fn tool_call(&mut self, response: &str, called: Option<i64>, c: &Call<'_>) {
        let text = |v: Present<'_>| v.str().map(Cow::into_owned);
        let Some(call_id) = text(c.id) else { return };
        let mut rewritten = String::new();
        let args: CallArgs<'_> = fields(c.args, &mut rewritten).unwrap_or_default();
        let status = text(c.status);
        let failed = match status.as_deref() {
            Some("success") => Some(c.result.0.and_then(exit_code).is_some_and(|e| e != 0)),
            Some("error" | "cancelled") => Some(true),
            _ => None,
        };
        let result_at = failed.and(text(c.timestamp)).and_then(|t| parse_ts_ms(&t));
        let command = text(args.command);
        self.out.tools.push(ToolCall {
            call_id,
            scope: String::new(),
            session_id: self.session.to_owned(),
            name: text(c.name),
            called_at_ms: called,
            file_path: text(args.file_path).or_else(|| text(args.path)),
            result_at_ms: result_at,
            failed,
            // Gemini states none: from the response to the call's result.
            duration_ms: match (called, result_at) {
                (Some(c), Some(r)) if r >= c => r.checked_sub(c),
                _ => None,
            },
            response_key: Some(format!("gemini:{response}")),
            command: command
                .as_deref()
                .map(command_key)
                .filter(|c| !c.is_empty()),
            program: command.as_deref().and_then(crate::program::program_of),
            agent_id: text(c.agent_id),
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
            let mut rewritten = String::new();
            let Ok(record) =
                crate::agents::lenient::from_json::<ObjOr<Message<'_>>>(&text, &mut rewritten)
            else {
                out.malformed += 1;
                continue;
            };
            let record = record.object();
            // A header (`kind` main or subagent) names the file's session; a sub-agent file
            // belongs to its parent, which its folder names.
            if let Some(r) = record
                && let Some(id) = r.session_id.str()
                && r.kind.0.is_some()
            {
                if st.session.is_none() {
                    st.session = Some(id.into_owned());
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
            match record {
                Some(rec) if rec.set.0.is_some() => {
                    let mut set_text = String::new();
                    let set: Option<SetMessages<'_>> = fields(rec.set, &mut set_text);
                    let mut list_text = String::new();
                    let messages =
                        set.and_then(|s| items::<ObjOr<Message<'_>>>(s.messages, &mut list_text));
                    for m in messages.iter().flatten() {
                        r.message(m.object());
                    }
                }
                Some(rec) if rec.rewind_to.0.is_some() => {}
                Some(rec) => r.message(Some(rec)),
                None => r.message(None),
            }
        }
        out.consumed = lines.consumed();
        out.incomplete_tail = lines.has_tail();
        out.state = serde_json::to_string(&st).ok();
        out
    }
}
