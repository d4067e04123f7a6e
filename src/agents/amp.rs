//! Amp: `threads/T-<id>.json`, one JSON document per thread, rewritten whole as it runs.
//!
//! An inference may be recorded twice: in `usageLedger.events` (older threads; input and
//! output only) and in the assistant message's `usage` (with cache counts). A ledger event
//! whose `toMessageId` names an assistant message with usage is that message's inference:
//! the two merge under one key. Ledger events with no such message (title generation) and
//! messages with no ledger event each count once on their own.

use std::collections::HashMap;
use std::path::{Component, Path};

use serde::Deserialize;

use super::{Agent, AgentSpec, Env, FileRole, Parsed, Root, Source, split_dirs};
use crate::usage::{Compaction, SessionInfo, Tokens, ToolCall, UsageEvent, parse_ts_ms};

pub struct Amp;

#[derive(Deserialize)]
struct Thread {
    id: Option<String>,
    created: Option<i64>,
    env: Option<ThreadEnv>,
    /// Read one by one, so one odd message costs only itself.
    #[serde(default)]
    messages: Vec<serde_json::Value>,
    #[serde(rename = "usageLedger")]
    usage_ledger: Option<Ledger>,
}

#[derive(Deserialize)]
struct ThreadEnv {
    initial: Option<Initial>,
}

#[derive(Deserialize)]
struct Initial {
    cwd: Option<String>,
    #[serde(default)]
    trees: Vec<Tree>,
    platform: Option<Platform>,
}

#[derive(Deserialize)]
struct Tree {
    uri: Option<String>,
    repository: Option<Repository>,
}

#[derive(Deserialize)]
struct Repository {
    #[serde(rename = "ref")]
    git_ref: Option<String>,
}

#[derive(Deserialize)]
struct Platform {
    #[serde(rename = "clientVersion")]
    client_version: Option<String>,
}

#[derive(Deserialize)]
struct Message {
    role: Option<String>,
    #[serde(rename = "messageId")]
    message_id: Option<i64>,
    #[serde(default)]
    content: Vec<Block>,
    usage: Option<MessageUsage>,
    meta: Option<Meta>,
}

#[derive(Deserialize)]
struct Meta {
    #[serde(rename = "sentAt")]
    sent_at: Option<i64>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct MessageUsage {
    model: Option<String>,
    timestamp: Option<String>,
    input_tokens: Option<i64>,
    output_tokens: Option<i64>,
    cache_creation_input_tokens: Option<i64>,
    cache_read_input_tokens: Option<i64>,
    total_tokens: Option<i64>,
}

#[derive(Deserialize)]
struct Block {
    #[serde(rename = "type")]
    kind: Option<String>,
    id: Option<String>,
    name: Option<String>,
    input: Option<serde_json::Value>,
    #[serde(rename = "toolUseID", alias = "tool_use_id")]
    tool_use_id: Option<String>,
    run: Option<Run>,
}

#[derive(Deserialize)]
struct Run {
    status: Option<String>,
}

#[derive(Deserialize)]
struct Ledger {
    #[serde(default)]
    events: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
struct LedgerEvent {
    id: Option<String>,
    timestamp: Option<String>,
    model: Option<String>,
    tokens: Option<LedgerTokens>,
    #[serde(rename = "toMessageId")]
    to_message_id: Option<i64>,
}

#[derive(Deserialize, Default)]
struct LedgerTokens {
    input: Option<i64>,
    output: Option<i64>,
    total: Option<i64>,
}

fn tokens_of(u: &MessageUsage) -> Tokens {
    let input = u.input_tokens.unwrap_or(0).max(0);
    let creation = u.cache_creation_input_tokens.unwrap_or(0).max(0);
    let read = u.cache_read_input_tokens.unwrap_or(0).max(0);
    let mut output = u.output_tokens.unwrap_or(0).max(0);
    // Some messages carry only `totalTokens`: what the parts do not explain is output.
    if let Some(total) = u.total_tokens {
        let known = input
            .saturating_add(creation)
            .saturating_add(read)
            .saturating_add(output);
        if output == 0 && total > known {
            output = total - known;
        }
    }
    Tokens {
        input_tokens: input,
        cache_creation_tokens: creation,
        cache_creation_5m_tokens: creation,
        cache_read_tokens: read,
        output_tokens: output,
        ..Tokens::default()
    }
}

fn ledger_tokens(t: &LedgerTokens) -> Tokens {
    let input = t.input.unwrap_or(0).max(0);
    let mut output = t.output.unwrap_or(0).max(0);
    if let Some(total) = t.total
        && output == 0
        && total > input
    {
        output = total - input;
    }
    Tokens {
        input_tokens: input,
        output_tokens: output,
        ..Tokens::default()
    }
}

impl AgentSpec for Amp {
    fn name(&self) -> &'static str {
        "amp"
    }

    fn agent(&self) -> Agent {
        Agent::Amp
    }

    fn templates(&self) -> &'static [(&'static str, &'static str)] {
        &[(
            "amp/skills/tokledger-check/SKILL.md.j2",
            include_str!("../../templates/amp/skills/tokledger-check/SKILL.md.j2"),
        )]
    }

    fn parser_version(&self) -> i64 {
        // 2: tool calls are keyed per thread (migration 0003). Reading every thread again
        // restores the calls that version 1 merged into another thread's call of the same id.
        2
    }

    fn discovery_vars(&self) -> &'static [&'static str] {
        &["AMP_DATA_DIR"]
    }

    fn roots(&self, env: &Env) -> Vec<Root> {
        let home = env.home.as_deref();
        let dirs = match env.var("AMP_DATA_DIR") {
            Some(list) => split_dirs(list, home),
            None => env
                .xdg_data_home()
                .map(|x| Path::new(x).join("amp"))
                .or_else(|| home.map(|h| h.join(".local/share/amp")))
                .into_iter()
                .collect(),
        };
        dirs.into_iter()
            .map(|d| Root {
                dir: d.join("threads"),
                archived: false,
            })
            .collect()
    }

    fn classify(&self, rel: &Path) -> Option<FileRole> {
        let name = match rel.components().next_back()? {
            Component::Normal(s) => s.to_str()?,
            _ => return None,
        };
        let stem = name.strip_suffix(".json")?;
        stem.starts_with("T-").then(|| FileRole {
            session_hint: Some(stem.to_owned()),
            main: true,
        })
    }

    fn whole_document(&self, _path: &Path) -> bool {
        true
    }

    fn parse(&self, src: &Source<'_>, bytes: &[u8], _state: Option<&str>) -> Parsed {
        let mut out = Parsed::default();
        if bytes.iter().all(u8::is_ascii_whitespace) {
            out.incomplete_tail = !bytes.is_empty();
            return out;
        }
        let parsed = match serde_json::from_slice::<Thread>(bytes) {
            Err(e) if crate::agents::lenient::is_duplicate_key(&e) => {
                serde_json::from_slice::<serde_json::Value>(bytes).and_then(Thread::deserialize)
            }
            r => r,
        };
        let thread: Thread = match parsed {
            Ok(t) => t,
            Err(e) => {
                // Amp rewrites the file whole; a read in the middle of that sees a cut
                // document. It is read again when it changes.
                if e.is_eof() {
                    out.incomplete_tail = true;
                } else {
                    out.malformed = 1;
                }
                return out;
            }
        };
        // The file name is the thread id; the document's own `id` only when the name is not.
        let session = src
            .role
            .session_hint
            .clone()
            .or_else(|| thread.id.clone())
            .unwrap_or_else(|| src.fallback_session());
        read_thread(&thread, &session, &mut out);
        out.consumed = bytes.len();
        out
    }
}

fn read_thread(thread: &Thread, session: &str, out: &mut Parsed) {
    let info = out.session_mut(session);
    info.saw_time(thread.created);
    if let Some(init) = thread.env.as_ref().and_then(|e| e.initial.as_ref()) {
        let cwd = init.cwd.clone().or_else(|| {
            init.trees
                .iter()
                .find_map(|t| t.uri.as_deref()?.strip_prefix("file://").map(str::to_owned))
        });
        SessionInfo::set_if_some(&mut info.cwd, cwd.as_deref());
        let git_ref = init
            .trees
            .iter()
            .find_map(|t| t.repository.as_ref()?.git_ref.clone());
        let branch = git_ref
            .as_deref()
            .map(|r| r.strip_prefix("refs/heads/").unwrap_or(r));
        SessionInfo::set_if_some(&mut info.git_branch, branch);
        let version = init
            .platform
            .as_ref()
            .and_then(|p| p.client_version.as_deref());
        SessionInfo::set_if_some(&mut info.cli_version, version);
    }

    // Times: a message's own, else the latest `sentAt` before it, else the thread's start.
    let mut clock = thread.created;
    let mut msg_time: HashMap<i64, Option<i64>> = HashMap::new();
    let mut usage_at: HashMap<i64, usize> = HashMap::new();
    let messages: Vec<Message> = thread
        .messages
        .iter()
        .filter_map(|v| {
            let m = Message::deserialize(v).ok();
            out.malformed += usize::from(m.is_none());
            m
        })
        .collect();
    let events: Vec<LedgerEvent> = thread
        .usage_ledger
        .iter()
        .flat_map(|l| l.events.iter())
        .filter_map(|v| {
            let e = LedgerEvent::deserialize(v).ok();
            out.malformed += usize::from(e.is_none());
            e
        })
        .collect();
    for m in &messages {
        let own = m
            .usage
            .as_ref()
            .and_then(|u| u.timestamp.as_deref())
            .and_then(parse_ts_ms);
        if let Some(s) = m.meta.as_ref().and_then(|m| m.sent_at) {
            clock = Some(s);
        }
        let at = own.or(m.meta.as_ref().and_then(|m| m.sent_at)).or(clock);
        out.session_mut(session).saw_time(at);
        let Some(mid) = m.message_id else { continue };
        msg_time.insert(mid, at);
        for b in &m.content {
            match b.kind.as_deref() {
                Some("tool_use") => {
                    let Some(id) = &b.id else { continue };
                    let path = b.input.as_ref().and_then(|i| {
                        i.get("path")
                            .or_else(|| i.get("file_path"))
                            .and_then(|p| p.as_str())
                            .map(str::to_owned)
                    });
                    out.tools.push(ToolCall {
                        call_id: id.clone(),
                        scope: session.to_owned(),
                        session_id: session.to_owned(),
                        name: b.name.clone(),
                        called_at_ms: at,
                        file_path: path,
                        ..Default::default()
                    });
                }
                Some("tool_result") => {
                    let Some(id) = &b.tool_use_id else { continue };
                    let status = b.run.as_ref().and_then(|r| r.status.as_deref());
                    let failed =
                        status.map(|s| matches!(s, "error" | "cancelled" | "rejected-by-user"));
                    out.tools.push(ToolCall {
                        call_id: id.clone(),
                        scope: session.to_owned(),
                        session_id: session.to_owned(),
                        result_at_ms: at,
                        failed,
                        ..Default::default()
                    });
                }
                Some("summary" | "thread") if m.role.as_deref() == Some("info") => {
                    out.compactions.push(Compaction {
                        dedup_key: format!("amp:{session}:{mid}"),
                        session_id: session.to_owned(),
                        kind: "compact",
                        at_ms: at,
                        trigger: None,
                        pre_tokens: None,
                    });
                }
                _ => {}
            }
        }
        if m.role.as_deref() == Some("assistant")
            && let Some(u) = &m.usage
        {
            let tokens = tokens_of(u);
            let model = u.model.clone();
            usage_at.insert(mid, out.usage.len());
            out.usage.push(UsageEvent {
                dedup_key: format!("amp:{session}:m{mid}"),
                session_id: session.to_owned(),
                request_id: None,
                timestamp_ms: at,
                model,
                tokens,
                sidechain: false,
                speed: None,
                priced: false,
                cost_nusd: None,
            });
        }
    }

    for (i, ev) in events.iter().enumerate() {
        let tokens = ev.tokens.as_ref().map(ledger_tokens).unwrap_or_default();
        let ts = ev.timestamp.as_deref().and_then(parse_ts_ms);
        match ev.to_message_id.and_then(|m| usage_at.get(&m).copied()) {
            Some(idx) => {
                // The same inference as the message: the ledger's time is the request's.
                let e = &mut out.usage[idx];
                e.tokens = e.tokens.max(&tokens);
                e.timestamp_ms = ts.or(e.timestamp_ms);
                if e.model.is_none() {
                    e.model.clone_from(&ev.model);
                }
            }
            None => {
                if tokens.is_zero() {
                    continue;
                }
                let key = ev.id.clone().unwrap_or_else(|| i.to_string());
                let at = ts.or_else(|| {
                    ev.to_message_id
                        .and_then(|m| msg_time.get(&m).copied().flatten())
                });
                out.usage.push(UsageEvent {
                    dedup_key: format!("amp:{session}:e{key}"),
                    session_id: session.to_owned(),
                    request_id: None,
                    timestamp_ms: at,
                    model: ev.model.clone(),
                    tokens,
                    sidechain: false,
                    speed: None,
                    priced: false,
                    cost_nusd: None,
                });
            }
        }
        out.session_mut(session).saw_time(ts);
    }
    out.usage.retain(|e| !e.tokens.is_zero());
}
