//! Codex CLI: `sessions/YYYY/MM/DD/rollout-<time>-<thread>.jsonl` (and flat copies in
//! `archived_sessions/`), one `{timestamp, type, payload}` envelope per line.
//!
//! Usage comes from `event_msg`/`token_count`, whose `total_token_usage` is cumulative for the
//! thread. We count the difference of totals; an unchanged total is a re-emit (zero); a total
//! that went down is a reset (count that event's `last_token_usage`, continue from the new
//! total); `info: null` counts nothing. The model is the latest `turn_context` model.

use std::borrow::Cow;
use std::path::{Component, Path};

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::lenient::{NotA, ObjOr, Present};
use super::lines::{Lines, utf8_line};
use super::{
    Agent, AgentSpec, Anchoring, Env, FileRole, Parsed, Root, Source, json_line_with, non_blank,
    split_dirs,
};
use crate::usage::{Compaction, SessionInfo, Tokens, ToolCall, UsageEvent, parse_ts_ms};

pub struct Codex;

/// What a rollout's earlier lines leave for its later ones.
#[derive(Serialize, Deserialize, Default, Debug, Clone)]
struct State {
    /// The cumulative total seen last (the watermark for deltas and re-emits).
    prev: Option<Counters>,
    model: Option<String>,
    /// Dedup keys are scoped to the thread whose counter they continue: a fork's replay of
    /// its parent's history then lands on the parent's keys instead of counting twice.
    scope: Option<String>,
    saw_meta: bool,
    last_was_compacted: bool,
    /// Resets seen so far: part of the dedup key, so two resets to one total stay apart.
    #[serde(default)]
    epoch: u32,
    /// This thread is a fork or a spawned sub-agent: its rows may replay its parent's.
    #[serde(default)]
    forked: bool,
    /// Calls seen since the last counted response: the next one counted issued them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    unclaimed_calls: Vec<String>,
}

/// Codex's `TokenUsage`: input includes cached input, output includes reasoning.
#[derive(Serialize, Deserialize, Default, Debug, Clone, Copy, PartialEq, Eq)]
struct Counters {
    #[serde(default, alias = "prompt_tokens")]
    input_tokens: i64,
    #[serde(default, alias = "cache_read_input_tokens", alias = "cached_tokens")]
    cached_input_tokens: i64,
    /// Cache writes (Codex 0.171 on): part of input too.
    #[serde(default, skip_serializing_if = "is_zero")]
    cache_write_input_tokens: i64,
    #[serde(default, alias = "completion_tokens")]
    output_tokens: i64,
    #[serde(default, alias = "reasoning_tokens")]
    reasoning_output_tokens: i64,
    #[serde(default)]
    total_tokens: i64,
}

#[expect(
    clippy::trivially_copy_pass_by_ref,
    reason = "serde's skip_serializing_if"
)]
fn is_zero(v: &i64) -> bool {
    *v == 0
}

impl Info {
    /// No counter below zero.
    fn valid(&self) -> bool {
        [self.total_token_usage, self.last_token_usage]
            .iter()
            .flatten()
            .all(Counters::valid)
    }
}

impl Counters {
    fn valid(&self) -> bool {
        [
            self.input_tokens,
            self.cached_input_tokens,
            self.cache_write_input_tokens,
            self.output_tokens,
            self.reasoning_output_tokens,
            self.total_tokens,
        ]
        .iter()
        .all(|v| *v >= 0)
    }

    fn ge(&self, o: &Counters) -> bool {
        self.input_tokens >= o.input_tokens
            && self.cached_input_tokens >= o.cached_input_tokens
            && self.cache_write_input_tokens >= o.cache_write_input_tokens
            && self.output_tokens >= o.output_tokens
            && self.reasoning_output_tokens >= o.reasoning_output_tokens
    }

    fn minus(&self, o: &Counters) -> Counters {
        Counters {
            input_tokens: self.input_tokens - o.input_tokens,
            cached_input_tokens: self.cached_input_tokens - o.cached_input_tokens,
            cache_write_input_tokens: self.cache_write_input_tokens - o.cache_write_input_tokens,
            output_tokens: self.output_tokens - o.output_tokens,
            reasoning_output_tokens: self.reasoning_output_tokens - o.reasoning_output_tokens,
            total_tokens: self.total_tokens - o.total_tokens,
        }
    }

    fn same_usage(&self, o: &Counters) -> bool {
        let strip = |c: &Counters| Counters {
            total_tokens: 0,
            ..*c
        };
        strip(self) == strip(o)
    }

    /// Our buckets: uncached input, cached input as cache reads, cache writes as cache
    /// creation (the two never more than input, which holds them).
    fn tokens(&self) -> Tokens {
        let input = self.input_tokens.max(0);
        let cached = self.cached_input_tokens.clamp(0, input);
        let written = self.cache_write_input_tokens.clamp(0, input - cached);
        Tokens {
            input_tokens: input - cached - written,
            cache_creation_tokens: written,
            cache_creation_5m_tokens: written,
            cache_read_tokens: cached,
            output_tokens: self.output_tokens.max(0),
            reasoning_tokens: self.reasoning_output_tokens.max(0),
            ..Tokens::default()
        }
    }
}

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow)]
    timestamp: Option<Cow<'a, str>>,
    #[serde(rename = "type", borrow)]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow)]
    payload: Option<Payload<'a>>,
}

/// A payload, read in the envelope's one pass over the line. Its `type` is known only once
/// the pass is over, so every field any kind we read has is kept raw and parsed by the
/// kind's handler: a field of an event we ignore may then have any shape, and the bulky
/// values no rule reads (reasoning, messages) are skipped once instead of three times.
/// A payload that is not an object: only the envelope's kind can say what it was.
type Payload<'a> = ObjOr<Box<Fields<'a>>>;

#[derive(Deserialize, Default)]
struct Fields<'a> {
    #[serde(rename = "type", default, borrow)]
    kind: Present<'a>,
    #[serde(default, borrow)]
    id: Present<'a>,
    #[serde(default, borrow)]
    cwd: Present<'a>,
    #[serde(default, borrow)]
    cli_version: Present<'a>,
    #[serde(default, borrow)]
    git: Present<'a>,
    #[serde(default, borrow)]
    forked_from_id: Present<'a>,
    #[serde(default, borrow)]
    source: Present<'a>,
    #[serde(default, borrow)]
    model: Present<'a>,
    #[serde(default, borrow)]
    info: Present<'a>,
    #[serde(default, borrow)]
    call_id: Present<'a>,
    #[serde(default, borrow)]
    name: Present<'a>,
    #[serde(default, borrow)]
    arguments: Present<'a>,
    #[serde(default, borrow)]
    input: Present<'a>,
    #[serde(default, borrow)]
    output: Present<'a>,
    #[serde(default, borrow)]
    exit_code: Present<'a>,
    #[serde(default, borrow)]
    duration: Present<'a>,
    #[serde(default, borrow)]
    success: Present<'a>,
    #[serde(default, borrow)]
    usage: Present<'a>,
    #[serde(default, borrow)]
    thread_token_usage: Present<'a>,
    #[serde(default, borrow)]
    item: Present<'a>,
}

struct SessionMeta {
    id: Option<String>,
    cwd: Option<String>,
    cli_version: Option<String>,
    git: Option<Git>,
    forked_from_id: Option<String>,
    source: Option<serde_json::Value>,
}

impl SessionMeta {
    fn of(f: &Fields<'_>) -> Result<Self, NotA> {
        Ok(SessionMeta {
            id: f.id.get()?,
            cwd: f.cwd.get()?,
            cli_version: f.cli_version.get()?,
            git: f.git.get()?,
            forked_from_id: f.forked_from_id.get()?,
            source: f.source.get()?,
        })
    }
}

/// A `function_call`, `custom_tool_call` or `local_shell_call`.
struct CallItem {
    call_id: Option<String>,
    name: Option<String>,
    arguments: Option<String>,
    input: Option<String>,
}

impl CallItem {
    fn of(f: &Fields<'_>) -> Result<Self, NotA> {
        Ok(CallItem {
            call_id: f.call_id.get()?,
            name: f.name.get()?,
            arguments: f.arguments.get()?,
            input: f.input.get()?,
        })
    }
}

/// What a call's arguments say about its command and file (a `Value::get` each before:
/// present-but-null keys are kept, so `command: null` still hides `cmd`).
#[derive(Deserialize, Default)]
struct CallArgs<'a> {
    #[serde(default, borrow)]
    command: Present<'a>,
    #[serde(default, borrow)]
    cmd: Present<'a>,
    #[serde(default, borrow)]
    file_path: Present<'a>,
    #[serde(default, borrow)]
    path: Present<'a>,
}

#[derive(Deserialize)]
struct Git {
    branch: Option<String>,
}

#[derive(Deserialize)]
struct Duration {
    secs: Option<i64>,
    nanos: Option<i64>,
}

impl Duration {
    fn ms(&self) -> i64 {
        self.secs
            .unwrap_or(0)
            .saturating_mul(1000)
            .saturating_add(self.nanos.unwrap_or(0) / 1_000_000)
    }
}

#[derive(Deserialize)]
struct CompletedItem {
    #[serde(rename = "type")]
    kind: Option<String>,
    id: Option<String>,
    status: Option<String>,
    exit_code: Option<i64>,
    duration: Option<Duration>,
}

#[derive(Deserialize)]
struct Info {
    total_token_usage: Option<Counters>,
    last_token_usage: Option<Counters>,
    model: Option<String>,
}

/// The first Codex version seen writing `token_usage_record` (a response's usage when it
/// completes, which may be before or after its tool ran); older ones write usage only after.
const RECORDS_FROM: (u64, u64) = (0, 171);
/// A session whose version is unknown waits this long for a call's response.
const UNKNOWN_VERSION_WAIT: std::time::Duration = std::time::Duration::from_millis(1500);

impl AgentSpec for Codex {
    fn name(&self) -> &'static str {
        "codex"
    }

    fn agent(&self) -> Agent {
        Agent::Codex
    }

    fn usage_mode(&self) -> &'static str {
        "counter_delta"
    }

    /// Codex puts the thread id into every shell command's environment (openai/codex#10096).
    fn session_vars(&self) -> &'static [(&'static str, &'static str)] {
        &[("CODEX_THREAD_ID", "codex_thread_id")]
    }

    fn anchoring(&self) -> Anchoring {
        Anchoring::CallIdVar {
            call_var: "CODEX_TOOL_CALL_ID",
            session_var: "CODEX_THREAD_ID",
        }
    }

    fn response_wait(
        &self,
        cli_version: Option<&str>,
        budget: std::time::Duration,
    ) -> std::time::Duration {
        let parsed = cli_version.and_then(|v| {
            let mut parts = v.trim().split('.').map(|p| p.parse::<u64>().ok());
            Some((parts.next()??, parts.next()??))
        });
        match parsed {
            Some(v) if v >= RECORDS_FROM => budget,
            Some(_) => std::time::Duration::ZERO,
            None => UNKNOWN_VERSION_WAIT.min(budget),
        }
    }

    fn process_names(&self) -> &'static [&'static str] {
        &["codex"]
    }

    /// `exec --json` prints `{"type":"thread.started","thread_id":…}`.
    fn printed_session_id(&self, line: &[u8]) -> Option<String> {
        let v = json_line_with(line, b"thread.started")?;
        let str_of = |k: &str| v.get(k).and_then(serde_json::Value::as_str);
        if str_of("type") != Some("thread.started") {
            return None;
        }
        non_blank(str_of("thread_id")?)
    }

    fn prints_session_id(&self) -> bool {
        true
    }

    fn price_provider(&self, _normalized_model: &str) -> Option<&'static str> {
        Some("openai")
    }

    fn templates(&self) -> &'static [(&'static str, &'static str)] {
        &[(
            "codex/skills/tokledger-check/SKILL.md.j2",
            include_str!("../../templates/codex/skills/tokledger-check/SKILL.md.j2"),
        )]
    }

    fn parser_version(&self) -> i64 {
        1
    }

    fn discovery_vars(&self) -> &'static [&'static str] {
        &["CODEX_HOME"]
    }

    fn roots(&self, env: &Env) -> Vec<Root> {
        let home = env.home.as_deref();
        let homes = match env.var("CODEX_HOME") {
            Some(list) => split_dirs(list, home),
            None => home.map(|h| h.join(".codex")).into_iter().collect(),
        };
        homes
            .into_iter()
            .flat_map(|h| {
                [
                    Root {
                        dir: h.join("sessions"),
                        archived: false,
                    },
                    Root {
                        dir: h.join("archived_sessions"),
                        archived: true,
                    },
                ]
            })
            .collect()
    }

    fn classify(&self, rel: &Path) -> Option<FileRole> {
        let name = match rel.components().next_back()? {
            Component::Normal(s) => s.to_str()?,
            _ => return None,
        };
        let stem = name.strip_prefix("rollout-")?.strip_suffix(".jsonl")?;
        Some(FileRole {
            session_hint: thread_id_from_stem(stem),
            main: true,
        })
    }

    fn parse(&self, src: &Source<'_>, bytes: &[u8], state: Option<&str>) -> Parsed {
        let mut st: State = state
            .and_then(|s| serde_json::from_str(s).ok())
            .unwrap_or_default();
        let mut out = Parsed::default();
        let session = src.fallback_session();
        let mut lines = Lines::new(bytes);
        for raw in &mut lines {
            if raw.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            if let Some(ts) = unread_line_time(raw) {
                out.lossy_utf8 += usize::from(simdutf8::basic::from_utf8(raw).is_err());
                out.session_mut(&session).saw_time(ts);
                st.last_was_compacted = false;
                continue;
            }
            let (text, lossy) = utf8_line(raw);
            let mut rewritten = String::new();
            let Ok(env) = crate::agents::lenient::from_json::<Envelope<'_>>(&text, &mut rewritten)
            else {
                out.malformed += 1;
                continue;
            };
            out.lossy_utf8 += usize::from(lossy);
            let ts = env.timestamp.as_deref().and_then(parse_ts_ms);
            out.session_mut(&session).saw_time(ts);
            let Some(payload) = &env.payload else {
                continue;
            };
            let was_compacted = std::mem::take(&mut st.last_was_compacted);
            let fields = payload.object().map(|f| &**f);
            let payload_kind = fields.and_then(|f| f.kind.str());
            let line = LineCtx {
                session: &session,
                ts,
                env_kind: env.kind.as_deref().unwrap_or(""),
                payload_kind: payload_kind.as_deref().unwrap_or(""),
                was_compacted,
            };
            if !on_payload(&mut st, &mut out, line, fields) {
                out.malformed += 1;
            }
        }
        out.consumed = lines.consumed();
        out.incomplete_tail = lines.has_tail();
        out.state = serde_json::to_string(&st).ok();
        out
    }
}

fn on_session_meta(st: &mut State, out: &mut Parsed, session: &str, p: SessionMeta) {
    // A fork embeds its parent's session_meta after its own: the first one is the file's.
    if st.saw_meta {
        return;
    }
    st.saw_meta = true;
    let parent = p
        .forked_from_id
        .or_else(|| p.source.as_ref().and_then(spawn_parent));
    st.forked = parent.is_some();
    st.scope = Some(parent.or(p.id).unwrap_or_else(|| session.to_owned()));
    let info = out.session_mut(session);
    SessionInfo::set_if_some(&mut info.cwd, p.cwd.as_deref());
    SessionInfo::set_if_some(&mut info.cli_version, p.cli_version.as_deref());
    SessionInfo::set_if_some(
        &mut info.git_branch,
        p.git.as_ref().and_then(|g| g.branch.as_deref()),
    );
}

/// The result half of a tool call.
fn tool_result(
    call_id: String,
    session: &str,
    ts: Option<i64>,
    failed: Option<bool>,
    duration_ms: Option<i64>,
) -> ToolCall {
    ToolCall {
        call_id,
        session_id: session.to_owned(),
        result_at_ms: ts,
        failed,
        duration_ms,
        ..Default::default()
    }
}

/// The command line of a shell call's arguments: `shell`'s `command` array (the script of
/// `bash -lc SCRIPT`, else the words joined), `shell_command`'s `command` string or
/// `exec_command`'s `cmd` (given that value).
fn shell_command(command: &serde_json::Value) -> Option<String> {
    let words = |v: &serde_json::Value| -> Option<Vec<String>> {
        v.as_array()?
            .iter()
            .map(|w| w.as_str().map(str::to_owned))
            .collect()
    };
    match command {
        serde_json::Value::String(s) => Some(s.clone()),
        v => {
            let w = words(v)?;
            match w.as_slice() {
                [sh, flag, script]
                    if flag.starts_with('-') && flag.ends_with('c') && sh.ends_with("sh") =>
                {
                    Some(script.clone())
                }
                _ => Some(crate::shell::join(&w)),
            }
        }
    }
}

/// The calls waiting for their response, now counted under `key`, learn it.
fn claim_calls(st: &mut State, out: &mut Parsed, session: &str, key: &str) {
    for call_id in st.unclaimed_calls.drain(..) {
        out.tools.push(ToolCall {
            call_id,
            session_id: session.to_owned(),
            response_key: Some(key.to_owned()),
            ..Default::default()
        });
    }
}

fn on_call(
    st: &mut State,
    out: &mut Parsed,
    session: &str,
    ts: Option<i64>,
    kind: &str,
    p: CallItem,
) {
    let Some(id) = p.call_id else { return };
    // A response issues a handful of calls; a cap keeps a line of odd calls from growing
    // the state without end.
    if st.unclaimed_calls.len() < 64 {
        st.unclaimed_calls.push(id.clone());
    }
    let name = p
        .name
        .or_else(|| (kind == "local_shell_call").then(|| "local_shell".to_owned()));
    let mut rewritten = String::new();
    let args = p
        .arguments
        .as_deref()
        .and_then(|a| crate::agents::lenient::object_as::<CallArgs<'_>>(a, &mut rewritten));
    let file_path = p.input.as_deref().and_then(patch_path).or_else(|| {
        let args = args.as_ref()?;
        let v = args.file_path.0.or(args.path.0)?;
        serde_json::from_str::<Cow<'_, str>>(v.get())
            .ok()
            .map(Cow::into_owned)
    });
    let command = args.as_ref().and_then(|a| a.command.0.or(a.cmd.0));
    out.tools.push(ToolCall {
        call_id: id,
        session_id: session.to_owned(),
        name,
        called_at_ms: ts,
        file_path,
        program: command
            .and_then(|c| serde_json::from_str::<serde_json::Value>(c.get()).ok())
            .as_ref()
            .and_then(shell_command)
            .and_then(|c| crate::program::program_of(&c)),
        ..Default::default()
    });
}

/// Apply one `token_count` to the watermark; the usage it adds, if any.
fn count(
    st: &mut State,
    info: &Info,
    ts: Option<i64>,
    session: &str,
    model: Option<String>,
) -> Option<UsageEvent> {
    let total = info.total_token_usage;
    let last = info.last_token_usage;
    let delta = match (total, st.prev) {
        (Some(t), Some(prev)) if t.same_usage(&prev) => return None, // re-emit
        (Some(t), Some(prev)) if t.ge(&prev) => t.minus(&prev),
        // A snapshot written late, just behind the one before it: already counted.
        (Some(t), Some(prev)) if stale(&t, last.as_ref(), &prev) => return None,
        // A reset (compaction, context capping): this event's own usage, then the new total.
        (Some(t), Some(_)) => {
            st.epoch += 1;
            last.unwrap_or(t)
        }
        // The first event: its own usage; a resumed thread's carried total is not ours.
        (Some(t), None) => last.unwrap_or(t),
        (None, _) => last?,
    };
    match total {
        Some(t) => st.prev = Some(t),
        None => {
            let base = st.prev.unwrap_or_default();
            st.prev = Some(Counters {
                // Saturating: a damaged counter is refused by the plausible bound later.
                input_tokens: base.input_tokens.saturating_add(delta.input_tokens),
                cached_input_tokens: base
                    .cached_input_tokens
                    .saturating_add(delta.cached_input_tokens),
                cache_write_input_tokens: base
                    .cache_write_input_tokens
                    .saturating_add(delta.cache_write_input_tokens),
                output_tokens: base.output_tokens.saturating_add(delta.output_tokens),
                reasoning_output_tokens: base
                    .reasoning_output_tokens
                    .saturating_add(delta.reasoning_output_tokens),
                total_tokens: base.total_tokens.saturating_add(delta.total_tokens),
            });
        }
    }
    let tokens = delta.tokens();
    if tokens.is_zero() {
        return None;
    }
    let scope = st.scope.as_deref().unwrap_or(session);
    let key = match (total, last) {
        (Some(t), _) => format!(
            "codex:{scope}:{}:{}:{}:{}:{}{}",
            st.epoch,
            t.input_tokens,
            t.cached_input_tokens,
            t.output_tokens,
            t.reasoning_output_tokens,
            write_part(&t)
        ),
        (None, Some(l)) => format!(
            "codex:{scope}:{}:{}:{}:{}:{}{}",
            ts.unwrap_or_default(),
            l.input_tokens,
            l.cached_input_tokens,
            l.output_tokens,
            l.reasoning_output_tokens,
            write_part(&l)
        ),
        (None, None) => return None,
    };
    Some(UsageEvent {
        dedup_key: key,
        session_id: session.to_owned(),
        request_id: None,
        timestamp_ms: ts,
        model,
        tokens,
        // A fork's rows up to the fork are its parent's: the parent's own copy owns them.
        sidechain: st.forked,
        speed: None,
        priced: false,
        cost_nusd: None,
    })
}

/// Cache writes in a dedup key, only where there are any: keys of rollouts without them stay
/// as they were.
fn write_part(c: &Counters) -> String {
    if c.cache_write_input_tokens == 0 {
        String::new()
    } else {
        format!(":w{}", c.cache_write_input_tokens)
    }
}

/// A regression that is only a late copy of an earlier snapshot: within 2% of the previous
/// total, and not a restarted counter (after a reset the total is this response alone).
fn stale(t: &Counters, last: Option<&Counters>, prev: &Counters) -> bool {
    // Wide: counters are only checked against the plausible bound after this.
    let total = |c: &Counters| i128::from(c.input_tokens) + i128::from(c.output_tokens);
    let (now, before) = (total(t), total(prev));
    now * 50 >= before * 49 && last.is_none_or(|l| total(l) != now)
}

/// `rollout-2026-05-01T10-00-00-<uuid>` → `<uuid>` (the 36 characters after the time).
fn thread_id_from_stem(stem: &str) -> Option<String> {
    let id = stem.get(20..)?;
    (id.len() == 36 && id.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-'))
        .then(|| id.to_owned())
}

fn spawn_parent(source: &serde_json::Value) -> Option<String> {
    let spawn = source.get("subagent")?.get("thread_spawn")?;
    spawn.get("parent_thread_id")?.as_str().map(str::to_owned)
}

/// The first file an `apply_patch` body touches.
fn patch_path(body: &str) -> Option<String> {
    body.lines().find_map(|l| {
        ["*** Update File: ", "*** Add File: ", "*** Delete File: "]
            .iter()
            .find_map(|p| l.strip_prefix(p))
            .map(|p| p.trim().to_owned())
    })
}

/// Success and duration from a tool output. Codex does not persist a success flag, so it
/// is read from the text: `Exit code: N` / `Process exited with code N` (exec tools), the
/// legacy `{"output", "metadata": {"exit_code", "duration_seconds"}}` JSON, and the
/// failure texts of apply_patch and MCP.
fn judge_output(output: &RawValue) -> (Option<bool>, Option<i64>) {
    // Outputs run to hundreds of KiB and only their first lines are read: decode those.
    let head = string_head(output.get(), JUDGED_LINES);
    let Some(text) = head.or_else(|| serde_json::from_str::<Cow<'_, str>>(output.get()).ok())
    else {
        return (None, None);
    };
    judge_text(&text)
}

const JUDGED_LINES: usize = 8;

/// The start of a JSON string up to and including its `lines`-th newline (all of it when it
/// has fewer), when that start settles the verdict: not when it may be a JSON document (the
/// legacy format's metadata comes last) or is blank (the verdict is further on). `None`:
/// decode the whole string instead (also for anything unusual, e.g. a lone surrogate).
fn string_head(raw: &str, lines: usize) -> Option<Cow<'_, str>> {
    let body_text = raw.strip_prefix('"')?;
    let body = body_text.as_bytes();
    let mut out = String::new();
    let mut newlines = 0;
    let mut i = 0;
    let complete = loop {
        let run = memchr::memchr2(b'"', b'\\', &body[i..])?;
        // Both ends are ASCII bytes, so this slices on character boundaries.
        let text = &body_text[i..i + run];
        newlines += memchr::memchr_iter(b'\n', text.as_bytes()).count();
        out.push_str(text);
        i += run;
        if body[i] == b'"' {
            break true;
        }
        let (c, len) = match *body.get(i + 1)? {
            b'n' => ('\n', 2),
            b't' => ('\t', 2),
            b'r' => ('\r', 2),
            b'"' => ('"', 2),
            b'\\' => ('\\', 2),
            b'/' => ('/', 2),
            b'b' => ('\u{8}', 2),
            b'f' => ('\u{c}', 2),
            b'u' => {
                let hex = std::str::from_utf8(body.get(i + 2..i + 6)?).ok()?;
                // Surrogates (and their pairs) go the whole way: serde's rules apply.
                (char::from_u32(u32::from_str_radix(hex, 16).ok()?)?, 6)
            }
            _ => return None,
        };
        newlines += usize::from(c == '\n');
        out.push(c);
        i += len;
        if newlines >= lines {
            break false;
        }
    };
    let start = out.trim_start_matches([' ', '\t', '\n', '\r']);
    if start.starts_with('{') || (!complete && out.trim().is_empty()) {
        return None;
    }
    Some(Cow::Owned(out))
}

/// The legacy output document: its `output` is skipped, not copied.
#[derive(Deserialize)]
struct LegacyOutput<'a> {
    #[serde(default, borrow)]
    metadata: Present<'a>,
}

fn judge_text(text: &str) -> (Option<bool>, Option<i64>) {
    let mut rewritten = String::new();
    let legacy = crate::agents::lenient::object_as::<LegacyOutput<'_>>(text, &mut rewritten);
    if let Some(raw) = legacy.and_then(|l| l.metadata.0)
        && let Ok(meta) = serde_json::from_str::<serde_json::Value>(raw.get())
    {
        let failed = meta
            .get("exit_code")
            .and_then(serde_json::Value::as_i64)
            .map(|c| c != 0);
        let dur = meta
            .get("duration_seconds")
            .and_then(serde_json::Value::as_f64)
            .map(secs_to_ms);
        return (failed, dur);
    }
    let mut failed = None;
    let mut duration = None;
    for line in text.lines().take(8) {
        if let Some(c) = line
            .strip_prefix("Exit code: ")
            .or_else(|| line.strip_prefix("Process exited with code "))
        {
            failed = c.trim().parse::<i64>().ok().map(|c| c != 0);
        } else if let Some(w) = line.strip_prefix("Wall time: ") {
            duration = w
                .trim()
                .trim_end_matches("seconds")
                .trim()
                .parse::<f64>()
                .ok()
                .map(secs_to_ms);
        }
    }
    if failed.is_none() {
        let t = text.trim_start();
        if t.starts_with("apply_patch verification failed") || t.starts_with("err: ") {
            failed = Some(true);
        } else if t.starts_with("Success.") {
            failed = Some(false);
        }
    }
    (failed, duration)
}

#[expect(
    clippy::cast_possible_truncation,
    reason = "durations are far below i64::MAX ms"
)]
fn secs_to_ms(s: f64) -> i64 {
    (s * 1000.0).round() as i64
}

/// What a payload's handling needs of its line besides the payload itself.
#[derive(Clone, Copy)]
struct LineCtx<'a> {
    session: &'a str,
    ts: Option<i64>,
    env_kind: &'a str,
    payload_kind: &'a str,
    /// The line before was a `compacted` item.
    was_compacted: bool,
}

/// Of a line no rule reads (reasoning, messages, most events: most of a rollout's bytes), its
/// time, found without parsing it. Only for the shape Codex writes, `{"timestamp":"…",
/// "type":"…","payload":{"type":"…"` with no escapes in those strings, ending in `}}`;
/// anything else (`None`) is parsed whole. Such a line's damage further in goes unreported:
/// it held nothing that counts.
fn unread_line_time(line: &[u8]) -> Option<Option<i64>> {
    fn string<'a>(rest: &'a [u8], key: &[u8]) -> Option<(&'a str, &'a [u8])> {
        let rest = rest.strip_prefix(key)?;
        let end = memchr::memchr2(b'"', b'\\', rest)?;
        if rest[end] != b'"' {
            return None;
        }
        Some((std::str::from_utf8(&rest[..end]).ok()?, &rest[end + 1..]))
    }
    let (ts, rest) = string(line, br#"{"timestamp":""#)?;
    let (env_kind, rest) = string(rest, br#","type":""#)?;
    let (payload_kind, _) = string(rest, br#","payload":{"type":""#)?;
    let read = match env_kind {
        "response_item" => matches!(
            payload_kind,
            "function_call"
                | "custom_tool_call"
                | "local_shell_call"
                | "function_call_output"
                | "custom_tool_call_output"
        ),
        "event_msg" => matches!(
            payload_kind,
            "token_count"
                | "item_completed"
                | "exec_command_end"
                | "patch_apply_end"
                | "mcp_tool_call_end"
                | "context_compacted"
        ),
        _ => true,
    };
    let closed = line.trim_ascii_end().ends_with(b"}}");
    (!read && closed).then(|| parse_ts_ms(ts))
}

/// One line's payload into the state and the output; false when it is malformed. `None`:
/// the payload is not an object.
fn on_payload(st: &mut State, out: &mut Parsed, line: LineCtx<'_>, f: Option<&Fields<'_>>) -> bool {
    let env_kind = line.env_kind;
    // Not an object: its payload kind is "", so only the envelope's kind can want fields.
    let handled = matches!(
        env_kind,
        "session_meta" | "turn_context" | "token_usage_record"
    );
    let f = match f {
        Some(f) => f,
        None if handled => return false,
        None => &Fields::default(),
    };
    on_fields(st, out, line, f).is_ok()
}

fn on_fields(
    st: &mut State,
    out: &mut Parsed,
    line: LineCtx<'_>,
    f: &Fields<'_>,
) -> Result<(), NotA> {
    let LineCtx {
        session,
        ts,
        env_kind,
        payload_kind,
        was_compacted,
    } = line;
    match (env_kind, payload_kind) {
        ("session_meta", _) => on_session_meta(st, out, session, SessionMeta::of(f)?),
        ("turn_context", _) => {
            let model: Option<String> = f.model.get()?;
            let cwd: Option<String> = f.cwd.get()?;
            if let Some(m) = model.filter(|m| !m.is_empty()) {
                st.model = Some(m);
            }
            SessionInfo::set_if_some(&mut out.session_mut(session).cwd, cwd.as_deref());
        }
        // A counter below zero is damage, not usage: the line is malformed.
        ("event_msg", "token_count") => {
            let info: Option<Info> = f.info.get()?;
            let model: Option<String> = f.model.get()?;
            let Some(info) = &info else { return Ok(()) };
            if !info.valid() {
                return Err(NotA);
            }
            let model = st.model.clone().or_else(|| info.model.clone()).or(model);
            if let Some(ev) = count(st, info, ts, session, model) {
                claim_calls(st, out, session, &ev.dedup_key);
                out.usage.push(ev);
            }
        }
        ("token_usage_record", _) => {
            let info = Info {
                total_token_usage: f.thread_token_usage.get()?,
                last_token_usage: f.usage.get()?,
                model: None,
            };
            if !info.valid() {
                return Err(NotA);
            }
            let model = st.model.clone();
            if let Some(ev) = count(st, &info, ts, session, model) {
                claim_calls(st, out, session, &ev.dedup_key);
                out.usage.push(ev);
            }
        }
        ("event_msg", "item_completed") => {
            let Some(item) = f.item.get::<CompletedItem>()? else {
                return Ok(());
            };
            if !matches!(
                item.kind.as_deref(),
                Some("CommandExecution" | "FileChange" | "McpToolCall")
            ) {
                return Ok(());
            }
            let Some(id) = item.id else { return Ok(()) };
            let failed = item
                .exit_code
                .map(|c| c != 0)
                .or(match item.status.as_deref() {
                    Some("completed") => Some(false),
                    Some("failed" | "declined") => Some(true),
                    _ => None,
                });
            let duration_ms = item.duration.map(|d| d.ms());
            out.tools
                .push(tool_result(id, session, ts, failed, duration_ms));
        }
        ("response_item", k @ ("function_call" | "custom_tool_call" | "local_shell_call")) => {
            on_call(st, out, session, ts, k, CallItem::of(f)?);
        }
        ("response_item", "function_call_output" | "custom_tool_call_output") => {
            let call_id: Option<String> = f.call_id.get()?;
            let Some(id) = call_id else { return Ok(()) };
            let (failed, duration_ms) = f.output.raw().map_or((None, None), judge_output);
            out.tools
                .push(tool_result(id, session, ts, failed, duration_ms));
        }
        ("event_msg", "exec_command_end" | "patch_apply_end" | "mcp_tool_call_end") => {
            let call_id: Option<String> = f.call_id.get()?;
            let exit_code: Option<i64> = f.exit_code.get()?;
            let duration: Option<Duration> = f.duration.get()?;
            let success: Option<bool> = f.success.get()?;
            let Some(id) = call_id else { return Ok(()) };
            let failed = exit_code.map(|c| c != 0).or(success.map(|s| !s));
            let duration_ms = duration.map(|d| d.ms());
            out.tools
                .push(tool_result(id, session, ts, failed, duration_ms));
        }
        ("compacted", _) | ("event_msg", "context_compacted") => {
            // Codex writes a `compacted` item and a `context_compacted` event for one
            // compaction: the pair counts once.
            let is_item = env_kind == "compacted";
            st.last_was_compacted = is_item;
            if is_item || !was_compacted {
                out.compactions.push(Compaction {
                    dedup_key: format!(
                        "codex:{}:{}",
                        st.scope.as_deref().unwrap_or(session),
                        ts.unwrap_or_default()
                    ),
                    session_id: session.to_owned(),
                    kind: "compact",
                    at_ms: ts,
                    trigger: None,
                    pre_tokens: None,
                });
            }
        }
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{JUDGED_LINES, judge_output, judge_text, shell_command, string_head};
    use proptest::prelude::*;

    /// The verdict from an output's first lines is the verdict from all of it.
    #[test]
    fn judging_the_head_of_an_output_equals_judging_it_whole() {
        let piece = prop::sample::select(vec![
            "Exit code: 0",
            "Exit code: 3",
            "Process exited with code 1",
            "Wall time: 0.5 seconds",
            "Success.",
            "err: x",
            "apply_patch verification failed",
            "Output:",
            "",
            " ",
            "\n",
            "\r\n",
            "\t",
            "{",
            "}",
            "\"",
            "\\",
            "é",
            "\u{1F600}",
            "\u{7}",
            "{\"metadata\":{\"exit_code\":1}}",
            "{\"output\":\"x\",\"metadata\":{\"exit_code\":0,\"duration_seconds\":1.5}}",
        ]);
        proptest!(ProptestConfig::with_cases(4000), |(parts in prop::collection::vec(piece, 0..24))| {
            let text: String = parts.concat();
            let raw = serde_json::to_string(&text).unwrap();
            let output = serde_json::value::RawValue::from_string(raw.clone()).unwrap();
            prop_assert_eq!(judge_output(&output), judge_text(&text), "{}", raw);
            if let Some(head) = string_head(&raw, JUDGED_LINES) {
                prop_assert!(text.starts_with(&*head), "{}", raw);
            }
        });
    }
    use serde_json::json;

    #[test]
    fn shell_commands_of_each_call_shape() {
        let cases = [
            (
                json!({"command": ["bash", "-lc", "git status"]}),
                Some("git status"),
            ),
            (
                json!({"command": ["cargo", "test", "a b"]}),
                Some("cargo test 'a b'"),
            ),
            (json!({"command": "npm install"}), Some("npm install")),
            (
                json!({"cmd": "make check", "workdir": "/w"}),
                Some("make check"),
            ),
            (json!({"path": "/x"}), None),
            (json!({"command": [1, 2]}), None),
        ];
        for (args, want) in cases {
            let got = args
                .get("command")
                .or_else(|| args.get("cmd"))
                .and_then(shell_command);
            assert_eq!(got.as_deref(), want, "{args}");
        }
    }
}
