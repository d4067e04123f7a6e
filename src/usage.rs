//! Domain types shared by parsers, ingest, store and rendering. No IO here.

use serde::{Deserialize, Serialize};

/// Token buckets of one response (or a sum of responses). Names match SQL and JSON.
///
/// `cache_creation_tokens` is the total of cache writes; the 5-minute and 1-hour parts are
/// kept apart because they are priced differently (Claude only; zero elsewhere).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Tokens {
    pub input_tokens: i64,
    pub cache_creation_tokens: i64,
    pub cache_creation_5m_tokens: i64,
    pub cache_creation_1h_tokens: i64,
    pub cache_read_tokens: i64,
    pub output_tokens: i64,
    pub reasoning_tokens: i64,
}

/// More tokens than any one response can have in any bucket (today's largest contexts hold
/// a few million): a transcript that says more is damaged or hostile, and the response is
/// skipped with a warning. Sums of a million such responses still fit in an `i64`.
pub const MAX_RESPONSE_TOKENS: i64 = 1_000_000_000;

/// The most one response is priced at, nano-USD ($1,000; a real one costs dollars): keeps
/// cost sums far from overflowing whatever a price file says.
pub const MAX_RESPONSE_COST_NUSD: i64 = 1_000 * 1_000_000_000;

impl Tokens {
    /// Every bucket between 0 and [`MAX_RESPONSE_TOKENS`].
    pub fn plausible(&self) -> bool {
        [
            self.input_tokens,
            self.cache_creation_tokens,
            self.cache_creation_5m_tokens,
            self.cache_creation_1h_tokens,
            self.cache_read_tokens,
            self.output_tokens,
            self.reasoning_tokens,
        ]
        .iter()
        .all(|v| (0..=MAX_RESPONSE_TOKENS).contains(v))
    }

    /// input + cache creation + cache read + output (reasoning is part of output).
    pub fn total(&self) -> i64 {
        self.input_tokens + self.cache_creation_tokens + self.cache_read_tokens + self.output_tokens
    }

    /// Input side as the analysis log counts it: input + cache creation + cache read.
    pub fn input_side(&self) -> i64 {
        self.input_tokens + self.cache_creation_tokens + self.cache_read_tokens
    }

    pub fn is_zero(&self) -> bool {
        *self == Tokens::default()
    }

    fn zip(&self, o: &Tokens, f: impl Fn(i64, i64) -> i64) -> Tokens {
        Tokens {
            input_tokens: f(self.input_tokens, o.input_tokens),
            cache_creation_tokens: f(self.cache_creation_tokens, o.cache_creation_tokens),
            cache_creation_5m_tokens: f(self.cache_creation_5m_tokens, o.cache_creation_5m_tokens),
            cache_creation_1h_tokens: f(self.cache_creation_1h_tokens, o.cache_creation_1h_tokens),
            cache_read_tokens: f(self.cache_read_tokens, o.cache_read_tokens),
            output_tokens: f(self.output_tokens, o.output_tokens),
            reasoning_tokens: f(self.reasoning_tokens, o.reasoning_tokens),
        }
    }

    pub fn add(&self, o: &Tokens) -> Tokens {
        self.zip(o, i64::saturating_add)
    }

    pub fn sub(&self, o: &Tokens) -> Tokens {
        self.zip(o, i64::saturating_sub)
    }

    /// Field-by-field maximum: how two copies of one response merge (a streaming snapshot
    /// never holds more than the final line, so the max of each field is the final value).
    pub fn max(&self, o: &Tokens) -> Tokens {
        self.zip(o, i64::max)
    }
}

/// One API response's usage as read from a transcript.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct UsageEvent {
    /// Identity of the response across all files; copies with the same key merge.
    pub dedup_key: String,
    pub session_id: String,
    /// Claude `requestId`; two copies under one key with different request ids are kept
    /// apart unless one of them is a sidechain replay (see docs/FORMATS.md).
    pub request_id: Option<String>,
    pub timestamp_ms: Option<i64>,
    pub model: Option<String>,
    pub tokens: Tokens,
    pub sidechain: bool,
    /// Claude `usage.speed` (`fast` is priced differently).
    pub speed: Option<String>,
    /// Set by ingest, not parsers: whether `cost_nusd` was computed, and the cost
    /// (nano-USD; `None` when the model has no price).
    pub priced: bool,
    pub cost_nusd: Option<i64>,
}

impl UsageEvent {
    /// Merge a later copy of the same response into this one: each counter keeps its
    /// maximum (never a sum), the earliest time stays, a main-thread copy takes over a
    /// sidechain replay, and the first model and request id stay. A copy read without
    /// prices leaves the response to be priced again (its counts may have grown); two
    /// priced copies keep the dearer cost.
    pub fn merge(&mut self, later: &UsageEvent) {
        self.cost_nusd = if !self.priced || !later.priced {
            None
        } else {
            match (self.cost_nusd, later.cost_nusd) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b),
            }
        };
        self.priced = self.priced && later.priced;
        self.tokens = self.tokens.max(&later.tokens);
        self.timestamp_ms = earliest(self.timestamp_ms, later.timestamp_ms);
        if self.sidechain && !later.sidechain {
            self.session_id.clone_from(&later.session_id);
            self.sidechain = false;
        }
        if self.model.is_none() {
            self.model.clone_from(&later.model);
        }
        if self.request_id.is_none() {
            self.request_id.clone_from(&later.request_id);
        }
        if later.speed.is_some() {
            self.speed.clone_from(&later.speed);
        }
    }
}

/// The earlier of two optional times (either when the other is unknown).
pub fn earliest(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// A tool call or its result; the store merges the two halves by `(tool, scope, call_id)`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ToolCall {
    pub call_id: String,
    /// Where `call_id` is unique. Empty for Claude and Codex: their ids are issued by the API,
    /// and a fork or sub-agent replay copies a call into another file, where the copy must
    /// merge with the original (as their responses do). Amp: the thread id, because Amp
    /// counts each thread's messages on their own (`amp:<thread>:m<id>`) and nothing says a
    /// call id is unique beyond its thread.
    pub scope: String,
    pub session_id: String,
    pub name: Option<String>,
    pub called_at_ms: Option<i64>,
    pub file_path: Option<String>,
    pub result_at_ms: Option<i64>,
    /// `None` until the result is seen (or when the format does not say).
    pub failed: Option<bool>,
    /// A duration the transcript states; otherwise the store derives one from the times.
    pub duration_ms: Option<i64>,
    /// The dedup key of the response that issued the call: what a snapshot taken by the
    /// command this call ran counts through (SPEC "What a snapshot counts").
    pub response_key: Option<String>,
    /// A shell call's command, in the form [`command_key`] gives it: how a tokledger run by
    /// that call finds the call among those of its session.
    pub command: Option<String>,
    /// A shell call's program and subcommand (`git commit`), from its raw command
    /// (`crate::program::program_of`): what `report tools --by command` groups by.
    pub program: Option<String>,
    /// The sub-agent that made the call (Claude Code's hook payload says).
    pub agent_id: Option<String>,
}

impl ToolCall {
    /// Fold in a later half of the same call, as the store's upsert into `tool_calls` does:
    /// the first name and file path stay, the earliest call time, the latest result.
    pub fn merge(&mut self, later: ToolCall) {
        self.name = self.name.take().or(later.name);
        self.called_at_ms = earliest(self.called_at_ms, later.called_at_ms);
        self.file_path = self.file_path.take().or(later.file_path);
        self.result_at_ms = later.result_at_ms.or(self.result_at_ms);
        self.failed = later.failed.or(self.failed);
        self.duration_ms = later.duration_ms.or(self.duration_ms);
        self.response_key = self.response_key.take().or(later.response_key);
        self.command = self.command.take().or(later.command);
        self.program = self.program.take().or(later.program);
        self.agent_id = self.agent_id.take().or(later.agent_id);
    }
}

/// Longest command kept per shell call (a prefix still tells calls apart).
pub const COMMAND_KEY_MAX: usize = 512;

/// A shell command with whitespace, quotes and backslashes removed, so the text an agent
/// wrote and the same text after a shell wrapper quoted it compare equal (`'it'\''s'` and
/// `it's` are both `its`); cut to [`COMMAND_KEY_MAX`] bytes on a character boundary.
pub fn command_key(command: &str) -> String {
    normalize_command(command, COMMAND_KEY_MAX)
}

/// [`command_key`] cut at `max` bytes instead.
pub fn normalize_command(command: &str, max: usize) -> String {
    let mut out = String::with_capacity(command.len().min(max));
    for c in command.chars() {
        if c.is_whitespace() || matches!(c, '\'' | '"' | '\\' | '`') {
            continue;
        }
        if out.len() + c.len_utf8() > max {
            break;
        }
        out.push(c);
    }
    out
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Compaction {
    pub dedup_key: String,
    pub session_id: String,
    /// `compact` (the context was summarised) or `microcompact` (old tool results cleared).
    pub kind: &'static str,
    pub at_ms: Option<i64>,
    pub trigger: Option<String>,
    pub pre_tokens: Option<i64>,
}

/// What a transcript says about its session; later values win, times widen.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct SessionInfo {
    pub session_id: String,
    pub cwd: Option<String>,
    pub git_branch: Option<String>,
    pub cli_version: Option<String>,
    pub first_ts_ms: Option<i64>,
    pub last_ts_ms: Option<i64>,
}

impl SessionInfo {
    pub fn new(session_id: &str) -> Self {
        SessionInfo {
            session_id: session_id.to_owned(),
            ..Default::default()
        }
    }

    pub fn saw_time(&mut self, ts: Option<i64>) {
        if let Some(t) = ts {
            self.first_ts_ms = Some(self.first_ts_ms.map_or(t, |f| f.min(t)));
            self.last_ts_ms = Some(self.last_ts_ms.map_or(t, |l| l.max(t)));
        }
    }

    pub fn set_if_some(slot: &mut Option<String>, v: Option<&str>) {
        if let Some(v) = v.filter(|v| !v.is_empty())
            && slot.as_deref() != Some(v)
        {
            *slot = Some(v.to_owned());
        }
    }
}

/// Parse an RFC 3339 timestamp into Unix milliseconds.
pub fn parse_ts_ms(s: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|d| d.timestamp_millis())
}

/// Format Unix milliseconds as RFC 3339 UTC (`2026-05-01T10:00:00.000Z`).
pub fn format_ts_ms(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default()
}

/// One model's usage within a session or an analysis, with its cost.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ModelUsage {
    #[serde(flatten)]
    pub tokens: Tokens,
    /// Sum of the known costs, nano-USD.
    pub cost_nusd: i64,
    /// Responses whose model has no price: the cost is unknown while this is not zero.
    pub unpriced: i64,
}

impl ModelUsage {
    /// The cost in USD, `None` when any response in it has no price.
    pub fn cost_usd(&self) -> Option<f64> {
        crate::money::stored_usd(self.cost_nusd, self.unpriced)
    }
}

/// A session's cumulative usage at one moment, per model (`""` when the transcript names none).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Snapshot(pub std::collections::BTreeMap<String, ModelUsage>);

impl Snapshot {
    pub fn sum(&self) -> Tokens {
        self.0
            .values()
            .fold(Tokens::default(), |a, u| a.add(&u.tokens))
    }

    pub fn total(&self) -> i64 {
        self.sum().total()
    }

    /// The cost of everything in it; `None` when any model in it has no price.
    pub fn cost_usd(&self) -> Option<f64> {
        let mut sum = 0;
        for u in self.0.values() {
            if u.unpriced > 0 {
                return None;
            }
            sum += u.cost_nusd;
        }
        Some(crate::money::from_nano(sum))
    }

    /// Models in it that have no price.
    pub fn unpriced_models(&self) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(_, u)| u.unpriced > 0)
            .map(|(m, _)| {
                if m.is_empty() {
                    "(unnamed)"
                } else {
                    m.as_str()
                }
            })
            .collect()
    }

    /// Per-model usage since `earlier` (models with nothing new are left out).
    pub fn since(&self, earlier: &Snapshot) -> Snapshot {
        let mut out = std::collections::BTreeMap::new();
        for (model, now) in &self.0 {
            let before = earlier.0.get(model).copied().unwrap_or_default();
            let d = ModelUsage {
                tokens: now.tokens.sub(&before.tokens),
                cost_nusd: now.cost_nusd - before.cost_nusd,
                unpriced: now.unpriced - before.unpriced,
            };
            if !d.tokens.is_zero() {
                out.insert(model.clone(), d);
            }
        }
        Snapshot(out)
    }
}

/// Now as RFC 3339 UTC with milliseconds.
pub fn now_rfc3339() -> String {
    format_ts_ms(chrono::Utc::now().timestamp_millis())
}
