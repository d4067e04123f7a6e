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
    payload: Option<&'a RawValue>,
}

/// Payloads are read in two steps (their `type`, then the fields that type has), so an
/// unknown event whose fields clash with ours in type cannot spoil a line.
#[derive(Deserialize)]
struct Kind<'a> {
    #[serde(rename = "type", borrow)]
    kind: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct SessionMeta {
    id: Option<String>,
    cwd: Option<String>,
    cli_version: Option<String>,
    git: Option<Git>,
    forked_from_id: Option<String>,
    source: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct TurnContext {
    model: Option<String>,
    cwd: Option<String>,
}

#[derive(Deserialize)]
struct TokenCount {
    info: Option<Info>,
    model: Option<String>,
}

#[derive(Deserialize)]
struct CallItem {
    call_id: Option<String>,
    name: Option<String>,
    arguments: Option<String>,
    input: Option<String>,
}

#[derive(Deserialize)]
struct OutputItem<'a> {
    call_id: Option<String>,
    #[serde(borrow)]
    output: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct ToolEnd {
    call_id: Option<String>,
    exit_code: Option<i64>,
    duration: Option<Duration>,
    success: Option<bool>,
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

/// Codex 0.171's record of one response, written before its tool runs; `thread_token_usage`
/// is the total the response's later `token_count` repeats.
#[derive(Deserialize)]
struct UsageRecord {
    usage: Option<Counters>,
    thread_token_usage: Option<Counters>,
}

/// Codex 0.171's `event_msg/item_completed`: a command's or a patch's outcome.
#[derive(Deserialize)]
struct ItemCompleted {
    item: Option<CompletedItem>,
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
            let Some(raw_payload) = env.payload else {
                continue;
            };
            let was_compacted = std::mem::take(&mut st.last_was_compacted);
            let env_kind = env.kind.as_deref().unwrap_or("");
            let pk = serde_json::from_str::<Kind<'_>>(raw_payload.get())
                .ok()
                .and_then(|k| k.kind);
            let payload_kind = pk.as_deref().unwrap_or("");
            let json = raw_payload.get();
            let line = LineCtx {
                session: &session,
                ts,
                env_kind,
                payload_kind,
                was_compacted,
            };
            let mut ok = on_payload(&mut st, &mut out, line, json);
            // A payload repeating a key (the envelope's parse cannot see inside it): read
            // again with the last value of each key, as the envelope was.
            if !ok
                && crate::agents::lenient::repeats_a_key(json)
                && let Ok(v) = serde_json::from_str::<serde_json::Value>(json)
            {
                ok = on_payload(&mut st, &mut out, line, &v.to_string());
            }
            if !ok {
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
/// `exec_command`'s `cmd`.
fn shell_command(args: &serde_json::Value) -> Option<String> {
    let words = |v: &serde_json::Value| -> Option<Vec<String>> {
        v.as_array()?
            .iter()
            .map(|w| w.as_str().map(str::to_owned))
            .collect()
    };
    match args.get("command").or_else(|| args.get("cmd"))? {
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
    let args: Option<serde_json::Value> = p
        .arguments
        .as_deref()
        .and_then(|a| serde_json::from_str(a).ok());
    let file_path = p.input.as_deref().and_then(patch_path).or_else(|| {
        Some(
            args.as_ref()?
                .get("file_path")
                .or_else(|| args.as_ref()?.get("path"))?
                .as_str()?
                .to_owned(),
        )
    });
    out.tools.push(ToolCall {
        call_id: id,
        session_id: session.to_owned(),
        name,
        called_at_ms: ts,
        file_path,
        program: args
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
    let Ok(text) = serde_json::from_str::<Cow<'_, str>>(output.get()) else {
        return (None, None);
    };
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(&text)
        && let Some(meta) = v.get("metadata")
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

/// One line's payload into the state and the output; false when it is malformed.
fn on_payload(st: &mut State, out: &mut Parsed, line: LineCtx<'_>, json: &str) -> bool {
    let LineCtx {
        session,
        ts,
        env_kind,
        payload_kind,
        was_compacted,
    } = line;
    match (env_kind, payload_kind) {
        ("session_meta", _) => serde_json::from_str(json)
            .map(|p| on_session_meta(st, out, session, p))
            .is_ok(),
        ("turn_context", _) => serde_json::from_str(json)
            .map(|p: TurnContext| {
                if let Some(m) = p.model.as_deref().filter(|m| !m.is_empty()) {
                    st.model = Some(m.to_owned());
                }
                SessionInfo::set_if_some(&mut out.session_mut(session).cwd, p.cwd.as_deref());
            })
            .is_ok(),
        // A counter below zero is damage, not usage: the line is malformed.
        ("event_msg", "token_count") => serde_json::from_str(json).is_ok_and(|p: TokenCount| {
            let Some(info) = &p.info else { return true };
            if !info.valid() {
                return false;
            }
            let model = st.model.clone().or_else(|| info.model.clone()).or(p.model);
            if let Some(ev) = count(st, info, ts, session, model) {
                claim_calls(st, out, session, &ev.dedup_key);
                out.usage.push(ev);
            }
            true
        }),
        ("token_usage_record", _) => serde_json::from_str(json).is_ok_and(|p: UsageRecord| {
            let info = Info {
                total_token_usage: p.thread_token_usage,
                last_token_usage: p.usage,
                model: None,
            };
            if !info.valid() {
                return false;
            }
            let model = st.model.clone();
            if let Some(ev) = count(st, &info, ts, session, model) {
                claim_calls(st, out, session, &ev.dedup_key);
                out.usage.push(ev);
            }
            true
        }),
        ("event_msg", "item_completed") => serde_json::from_str(json)
            .map(|p: ItemCompleted| {
                let Some(item) = p.item else { return };
                if !matches!(
                    item.kind.as_deref(),
                    Some("CommandExecution" | "FileChange" | "McpToolCall")
                ) {
                    return;
                }
                let Some(id) = item.id else { return };
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
            })
            .is_ok(),
        ("response_item", k @ ("function_call" | "custom_tool_call" | "local_shell_call")) => {
            serde_json::from_str(json)
                .map(|p: CallItem| on_call(st, out, session, ts, k, p))
                .is_ok()
        }
        ("response_item", "function_call_output" | "custom_tool_call_output") => {
            serde_json::from_str(json)
                .map(|p: OutputItem<'_>| {
                    let Some(id) = p.call_id else { return };
                    let (failed, duration_ms) = p.output.map_or((None, None), judge_output);
                    out.tools
                        .push(tool_result(id, session, ts, failed, duration_ms));
                })
                .is_ok()
        }
        ("event_msg", "exec_command_end" | "patch_apply_end" | "mcp_tool_call_end") => {
            serde_json::from_str(json)
                .map(|p: ToolEnd| {
                    let Some(id) = p.call_id else { return };
                    let failed = p.exit_code.map(|c| c != 0).or(p.success.map(|s| !s));
                    let duration_ms = p.duration.map(|d| d.ms());
                    out.tools
                        .push(tool_result(id, session, ts, failed, duration_ms));
                })
                .is_ok()
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
            true
        }
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::shell_command;
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
            assert_eq!(shell_command(&args).as_deref(), want, "{args}");
        }
    }
}
