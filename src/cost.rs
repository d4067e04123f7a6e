//! Prices: per model, per request, at the request's date, from the `genai-prices` database
//! (bundled) or the user's price file. An unknown model has no price (`None`), never $0.
//!
//! Model names as transcripts write them are normalised by explicit rules ([`normalize`]);
//! a database match is accepted only when it names the same model ([`same_model`]), so a
//! name the database would match loosely (a prefix rule) is not priced as another model.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, UNIX_EPOCH};

use anyhow::{Context, Result};
use genai_prices::{PriceRequest, Usage, UsageKey};
use serde::Deserialize;

use crate::agents::Agent;
use crate::usage::Tokens;

/// USD per million tokens, per bucket.
#[derive(Clone, Copy, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rates {
    pub input: f64,
    pub output: f64,
    #[serde(default)]
    pub cache_read: Option<f64>,
    /// 5-minute cache writes (the default TTL).
    #[serde(default)]
    pub cache_write: Option<f64>,
    #[serde(default)]
    pub cache_write_1h: Option<f64>,
}

impl Rates {
    fn cache_read(&self) -> f64 {
        self.cache_read.unwrap_or(self.input)
    }
    fn cache_write(&self) -> f64 {
        self.cache_write.unwrap_or(self.input)
    }
    fn cache_write_1h(&self) -> f64 {
        self.cache_write_1h.unwrap_or_else(|| self.cache_write())
    }

    /// The price of `t` at these flat rates.
    pub fn price(&self, t: &Tokens) -> f64 {
        let m = |n: i64, rate: f64| n as f64 * rate / 1e6;
        m(t.input_tokens, self.input)
            + m(t.cache_creation_5m_tokens, self.cache_write())
            + m(t.cache_creation_1h_tokens, self.cache_write_1h())
            + m(t.cache_read_tokens, self.cache_read())
            + m(t.output_tokens, self.output)
    }
}

/// Where a price came from.
#[derive(Clone, Debug, PartialEq)]
pub enum Source {
    Database {
        provider_id: String,
        model_id: String,
    },
    PriceFile {
        path: PathBuf,
        key: String,
    },
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Database {
                provider_id,
                model_id,
            } => {
                write!(
                    f,
                    "genai-prices database (bundled): {provider_id} / {model_id}"
                )
            }
            Source::PriceFile { path, key } => {
                write!(f, "price file {} [models.\"{key}\"]", path.display())
            }
        }
    }
}

/// The user's price file: `[models."NAME"]` tables of [`Rates`] (USD per million tokens).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceFile {
    #[serde(default)]
    pub models: BTreeMap<String, Rates>,
    /// A model name (as transcripts write it) priced as another model: a proxy's or a
    /// router's name for a model the database or `models` knows.
    #[serde(default)]
    pub aliases: BTreeMap<String, String>,
    /// Per agent (`[agents.codex]`): what to price its responses that name no model as.
    #[serde(default)]
    pub agents: BTreeMap<String, AgentPrices>,
    #[serde(skip)]
    pub path: PathBuf,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentPrices {
    /// The model a response without a model name is priced as.
    pub missing_model: Option<String>,
}

/// Bumped when what prices a response changes in the code (normalisation, aliases, tiers):
/// the ledger's costs are then priced again, as for a new price file.
const PRICING_RULES: u32 = 1;

impl PriceFile {
    pub fn load(path: &Path) -> Result<PriceFile> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("could not read price file {}", path.display()))?;
        let mut f: PriceFile = toml::from_str(&text)
            .with_context(|| format!("price file {} is not valid", path.display()))?;
        f.path = path.to_owned();
        Ok(f)
    }
}

/// Fast-mode multipliers over the standard price, for models the database has no fast
/// rates for (Anthropic's fast mode for Opus 4.6/4.7 is 6× the standard rate; these are the
/// figures ccusage ships in its fast-multiplier overrides, see docs/COST.md).
const FAST_MULTIPLIERS: &[(&str, f64)] = &[
    ("claude-opus-4-6", 6.0),
    ("claude-opus-4-7", 6.0),
    ("claude-opus-4-8", 2.0),
];

/// Names the database prices as another model on purpose (the same rates), accepted as
/// such; any other differing match is refused.
const ALIASES: &[(&str, &str)] = &[
    ("gpt-5-codex", "gpt-5"),
    ("gpt-5.1-codex", "gpt-5.1"),
    ("gpt-5.1-codex-max", "gpt-5.1"),
    ("gpt-5.2-codex", "gpt-5.2"),
    ("codex-mini-latest", "codex-mini"),
];

/// 64-bit FNV-1a: a hash that is the same in every build (std's is not promised to be).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// A transcript's model name in the form the database knows: no `[1m]`-style suffix, no
/// provider or router prefix, no Bedrock region prefix or version suffix, lowercase, and a
/// Vertex `@date` written as `-date`.
pub fn normalize(raw: &str) -> String {
    let mut s = raw.trim().to_ascii_lowercase();
    if let Some(i) = s.find('[') {
        s.truncate(i);
    }
    if let Some(i) = s.rfind('/') {
        s = s[i + 1..].to_owned();
    }
    for region in ["us.", "eu.", "apac.", "global.", "jp.", "au."] {
        if let Some(rest) = s.strip_prefix(region)
            && rest.starts_with("anthropic.")
        {
            s = rest.to_owned();
        }
    }
    if let Some(rest) = s.strip_prefix("anthropic.") {
        s = rest.to_owned();
    }
    // Bedrock `-v1:0`.
    if let Some(i) = s.rfind("-v") {
        let tail = &s[i + 2..];
        if let Some((a, b)) = tail.split_once(':')
            && !a.is_empty()
            && a.bytes().all(|c| c.is_ascii_digit())
            && b.bytes().all(|c| c.is_ascii_digit())
        {
            s.truncate(i);
        }
    }
    s.replace('@', "-")
}

/// The name without a trailing `-YYYYMMDD` date or `-latest`.
fn undated(name: &str) -> &str {
    if let Some(rest) = name.strip_suffix("-latest") {
        return rest;
    }
    match name.rsplit_once('-') {
        Some((base, date)) if date.len() == 8 && date.bytes().all(|c| c.is_ascii_digit()) => base,
        _ => name,
    }
}

/// Whether the database's `model_id` is the model `normalized` names.
pub fn same_model(normalized: &str, model_id: &str) -> bool {
    let base = undated(normalized);
    model_id == base
        || undated(model_id) == base
        || model_id.strip_suffix("-0") == Some(base)
        || ALIASES
            .iter()
            .any(|(n, id)| (*n == normalized || *n == base) && *id == model_id)
}

/// The provider to look a model up under: the agent's own ([`AgentSpec::price_provider`]).
///
/// [`AgentSpec::price_provider`]: crate::agents::AgentSpec::price_provider
pub fn provider_hint(tool: Option<Agent>, normalized: &str) -> Option<&'static str> {
    match tool {
        Some(t) => t.spec().price_provider(normalized),
        None => crate::agents::provider_by_model_name(normalized),
    }
}

/// genai-prices counts input *including* cache reads and writes (OpenAI's convention).
fn db_usage(t: &Tokens) -> Usage {
    let mut u = Usage::new();
    let mut put = |k: UsageKey, v: i64| {
        if v > 0 {
            u.insert(k, v as f64);
        }
    };
    put(UsageKey::INPUT_TOKENS, t.input_side());
    put(UsageKey::CACHE_READ_TOKENS, t.cache_read_tokens);
    put(UsageKey::CACHE_WRITE_TOKENS, t.cache_creation_tokens);
    put(UsageKey::CACHE_WRITE_5M_TOKENS, t.cache_creation_5m_tokens);
    put(UsageKey::CACHE_WRITE_1H_TOKENS, t.cache_creation_1h_tokens);
    put(UsageKey::OUTPUT_TOKENS, t.output_tokens);
    u
}

const DAY_MS: i64 = 86_400_000;

/// Input sizes up to this are probed for a long-context tier (the largest contexts today hold
/// a few million tokens).
const TIER_PROBE_MAX: i64 = 100_000_000;

/// One (model, agent, UTC day) as the database resolved it, as the ledger keeps it
/// (`resolved_prices`, migration 0012): `rates` is `None` when the database has no price for
/// it. Requests of up to `flat_up_to` input tokens cost the flat rates.
#[derive(Clone, Debug, PartialEq)]
pub struct ResolvedRates {
    pub tool: Agent,
    pub model: String,
    pub day: i64,
    pub rates: Option<(Rates, String, String, i64, i64)>,
}

/// What one (model, provider, day) resolved to, with what is known about where its prices
/// are flat (below any long-context tier) so most requests need no database call.
#[derive(Clone, Debug)]
struct Resolved {
    model_id: Option<String>,
    provider_id: String,
    flat: Rates,
    /// Requests up to this input size (input + cache writes + cache reads) were checked to
    /// cost the flat rate. The database's tiers start at an input size (per request), so
    /// every smaller request is flat too.
    flat_up_to: i64,
    /// The smallest input side found priced above the flat rate (a tier).
    tiered_from: i64,
}

/// What is known about one model name as transcripts write it.
struct ModelEntry {
    normalized: String,
    /// Rates from the price file, which win over the database.
    file: Option<Rates>,
    fast_multiplier: Option<f64>,
    /// Database resolutions per (provider hint, UTC day).
    days: HashMap<(Option<&'static str>, i64), Option<Resolved>>,
}

/// Prices requests. Shared by the reader threads (the cache is behind a mutex).
pub struct Pricer {
    file: PriceFile,
    cache: Mutex<HashMap<String, ModelEntry>>,
}

impl Clone for Pricer {
    /// The same prices with an empty cache.
    fn clone(&self) -> Pricer {
        Pricer::new(self.file.clone())
    }
}

impl Pricer {
    /// What these prices are, as a stable text: the same prices give the same fingerprint
    /// in every process and version that prices alike (the bundled database ships with
    /// the binary, so the binary's version stands for it).
    pub fn fingerprint(&self) -> String {
        let f = &self.file;
        let canonical = format!(
            "rules {PRICING_RULES}; tokledger {}; models {:?}; aliases {:?}; agents {:?}",
            env!("CARGO_PKG_VERSION"),
            f.models,
            f.aliases,
            f.agents
                .iter()
                .map(|(a, p)| (a, &p.missing_model))
                .collect::<Vec<_>>()
        );
        format!("{PRICING_RULES}-{:016x}", fnv1a(canonical.as_bytes()))
    }

    /// The prices in words, for `prices show` and the ledger's record of them.
    pub fn describe(&self) -> String {
        let f = &self.file;
        let db = format!(
            "the bundled genai-prices database (tokledger {})",
            env!("CARGO_PKG_VERSION")
        );
        if f.models.is_empty() && f.aliases.is_empty() && f.agents.is_empty() {
            return db;
        }
        format!(
            "{db} and the price file {} ({} models, {} aliases, {} agents)",
            f.path.display(),
            f.models.len(),
            f.aliases.len(),
            f.agents.len()
        )
    }

    /// The model a response is priced as: its own name through the price file's aliases,
    /// or, when it names none, the one the price file gives its agent.
    fn priced_as<'a>(&'a self, tool: Option<Agent>, model: Option<&'a str>) -> Option<&'a str> {
        self.named(tool, model).map(|m| self.alias_of(m))
    }

    /// The response's model name, or the one the price file gives its agent when it names
    /// none.
    fn named<'a>(&'a self, tool: Option<Agent>, model: Option<&'a str>) -> Option<&'a str> {
        match model.filter(|m| !m.is_empty()) {
            Some(m) => Some(m),
            None => self
                .file
                .agents
                .get(tool?.as_str())?
                .missing_model
                .as_deref(),
        }
    }

    /// The model `named` is priced as through the price file's `[aliases]`.
    fn alias_of<'a>(&'a self, named: &'a str) -> &'a str {
        if self.file.aliases.is_empty() {
            return named;
        }
        self.file
            .aliases
            .get(named)
            .or_else(|| self.file.aliases.get(&normalize(named)))
            .map_or(named, String::as_str)
    }

    pub fn new(file: PriceFile) -> Pricer {
        Pricer {
            file,
            cache: Mutex::new(HashMap::new()),
        }
    }

    fn at(ms: i64) -> std::time::SystemTime {
        UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).unwrap_or(0))
    }

    fn db_price(
        model: &str,
        provider: &str,
        t: &Tokens,
        at_ms: i64,
    ) -> Option<(f64, String, String)> {
        let usage = db_usage(t);
        let req = PriceRequest::new(model, &usage)
            .with_provider_id(provider)
            .with_timestamp(Self::at(at_ms));
        let c = genai_prices::calculate(&req).ok()?;
        Some((c.total_price, c.model_id, c.provider_id))
    }

    /// `hint`: another day's resolution of the model; when its flat rates are these and its
    /// tier bounds check out at this day (two probes), they are taken instead of bisecting.
    fn resolve(
        normalized: &str,
        provider: Option<&'static str>,
        day: i64,
        hint: Option<(Rates, i64, i64)>,
    ) -> Option<Resolved> {
        let provider = provider?;
        let at = day * DAY_MS + DAY_MS / 2;
        let probe = |t: Tokens| Self::db_price(normalized, provider, &t, at);
        // 1000 tokens of one bucket at a time: far below any tier, so these are flat rates.
        let k = 1000;
        let (input, model_id, provider_id) = probe(Tokens {
            input_tokens: k,
            ..Tokens::default()
        })?;
        if !same_model(normalized, &model_id) {
            return None;
        }
        let rate = |t: Tokens| probe(t).map_or(0.0, |p| p.0 * 1e6 / k as f64);
        let flat = Rates {
            input: input * 1e6 / k as f64,
            output: rate(Tokens {
                output_tokens: k,
                ..Tokens::default()
            }),
            cache_read: Some(rate(Tokens {
                cache_read_tokens: k,
                ..Tokens::default()
            })),
            cache_write: Some(rate(Tokens {
                cache_creation_tokens: k,
                cache_creation_5m_tokens: k,
                ..Tokens::default()
            })),
            cache_write_1h: Some(rate(Tokens {
                cache_creation_tokens: k,
                cache_creation_1h_tokens: k,
                ..Tokens::default()
            })),
        };
        // Where a long-context tier starts (the smallest input size not priced flat), found
        // once by bisection, so that every smaller request is priced without the database
        // — and, with the rates kept in the ledger ([`Pricer::resolved`]), without loading it.
        let flat_at = |size: i64| {
            let t = Tokens {
                input_tokens: size,
                ..Tokens::default()
            };
            let Some((exact, _, _)) = probe(t) else {
                return true;
            };
            let flat = flat.price(&t);
            (exact - flat).abs() <= 1e-9 * exact.abs().max(1e-12)
        };
        let (mut lo, mut hi) = (k, TIER_PROBE_MAX);
        let hinted = hint.filter(|(rates, up_to, from)| {
            *rates == flat
                && flat_at(*up_to)
                && if *from == i64::MAX {
                    *up_to == TIER_PROBE_MAX
                } else {
                    !flat_at(*from)
                }
        });
        let (flat_up_to, tiered_from) = if let Some((_, up_to, from)) = hinted {
            (up_to, from)
        } else if flat_at(hi) {
            (hi, i64::MAX)
        } else {
            // flat at `lo`, not at `hi`.
            while hi - lo > 1 {
                let mid = lo + (hi - lo) / 2;
                if flat_at(mid) { lo = mid } else { hi = mid }
            }
            (lo, hi)
        };
        Some(Resolved {
            model_id: Some(model_id),
            provider_id,
            flat,
            flat_up_to,
            tiered_from,
        })
    }

    fn file_entry(&self, raw: &str, normalized: &str) -> Option<(&str, &Rates)> {
        [raw, normalized, undated(normalized)]
            .into_iter()
            .find_map(|k| {
                self.file
                    .models
                    .get_key_value(k)
                    .map(|(k, r)| (k.as_str(), r))
            })
    }

    /// What prices `raw` (through `[aliases]`): built once per model name (`price` caches it).
    fn entry(&self, raw: &str) -> ModelEntry {
        let raw = self.alias_of(raw);
        let normalized = normalize(raw);
        let file = self.file_entry(raw, &normalized).map(|(_, r)| *r);
        let fast_multiplier = FAST_MULTIPLIERS
            .iter()
            .find(|(id, _)| undated(&normalized).starts_with(id))
            .map(|(_, m)| *m);
        ModelEntry {
            normalized,
            file,
            fast_multiplier,
            days: HashMap::new(),
        }
    }

    /// The rates that apply to `model` of `tool` (none: a row of no agent) at `at_ms`, and
    /// their source.
    pub fn rates(&self, tool: Option<Agent>, model: &str, at_ms: i64) -> Option<(Rates, Source)> {
        let model = self.priced_as(tool, Some(model))?;
        let normalized = normalize(model);
        if let Some((key, r)) = self.file_entry(model, &normalized) {
            return Some((
                *r,
                Source::PriceFile {
                    path: self.file.path.clone(),
                    key: key.to_owned(),
                },
            ));
        }
        let r = Self::resolve(
            &normalized,
            provider_hint(tool, &normalized),
            at_ms.div_euclid(DAY_MS),
            None,
        )?;
        Some((
            r.flat,
            Source::Database {
                provider_id: r.provider_id,
                model_id: r.model_id.unwrap_or_default(),
            },
        ))
    }

    /// The database resolutions this pricer made (or was given), for the ledger to keep.
    /// Models the price file prices are left out (they need no database).
    pub fn resolved(&self) -> Vec<ResolvedRates> {
        let Ok(cache) = self.cache.lock() else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (model, e) in cache.iter().filter(|(_, e)| e.file.is_none()) {
            for ((provider, day), r) in &e.days {
                // The provider follows from the agent; keep one agent per provider.
                let Some(tool) = Agent::ALL
                    .iter()
                    .copied()
                    .find(|t| provider_hint(Some(*t), &e.normalized) == *provider)
                else {
                    continue;
                };
                out.push(ResolvedRates {
                    tool,
                    model: model.clone(),
                    day: *day,
                    rates: r.as_ref().map(|r| {
                        (
                            r.flat,
                            r.model_id.clone().unwrap_or_default(),
                            r.provider_id.clone(),
                            r.flat_up_to,
                            r.tiered_from,
                        )
                    }),
                });
            }
        }
        out
    }

    /// Take resolutions the ledger kept (made by the same prices: the caller matches the
    /// price source), so that pricing requests below a tier needs no database load.
    pub fn seed(&self, rows: &[ResolvedRates]) {
        let Ok(mut cache) = self.cache.lock() else {
            return;
        };
        for r in rows {
            if !cache.contains_key(&r.model) {
                let e = self.entry(&r.model);
                cache.insert(r.model.clone(), e);
            }
            let Some(e) = cache.get_mut(&r.model) else {
                continue;
            };
            if e.file.is_some() {
                continue;
            }
            let provider = provider_hint(Some(r.tool), &e.normalized);
            e.days.entry((provider, r.day)).or_insert_with(|| {
                r.rates
                    .as_ref()
                    .map(|(flat, model_id, provider_id, up_to, from)| Resolved {
                        model_id: Some(model_id.clone()),
                        provider_id: provider_id.clone(),
                        flat: *flat,
                        flat_up_to: *up_to,
                        tiered_from: *from,
                    })
            });
        }
    }

    /// The price of one request (one response's usage), or `None` when the model has no
    /// price. Long-context tiers apply per request, as the providers bill them.
    pub fn price(
        &self,
        tool: Agent,
        model: Option<&str>,
        t: &Tokens,
        speed: Option<&str>,
        at_ms: i64,
    ) -> Option<f64> {
        // The cache is keyed by the name as written; `entry` applies the aliases once.
        let model = self.named(Some(tool), model)?;
        let mut cache = self.cache.lock().ok()?;
        if !cache.contains_key(model) {
            let e = self.entry(model);
            cache.insert(model.to_owned(), e);
        }
        let e = cache.get_mut(model)?;
        let multiplier = match speed {
            Some("fast") => e.fast_multiplier?,
            _ => 1.0,
        };
        if let Some(r) = e.file {
            return Some(r.price(t) * multiplier);
        }
        let provider = provider_hint(Some(tool), &e.normalized);
        let day = at_ms.div_euclid(DAY_MS);
        let normalized = e.normalized.clone();
        if !e.days.contains_key(&(provider, day)) {
            let hint = e
                .days
                .iter()
                .filter(|((p, _), _)| *p == provider)
                .find_map(|(_, r)| r.as_ref().map(|r| (r.flat, r.flat_up_to, r.tiered_from)));
            let r = Self::resolve(&normalized, provider, day, hint);
            e.days.insert((provider, day), r);
        }
        let r = e.days.get_mut(&(provider, day))?.as_mut()?;
        let size = t.input_side();
        let flat = r.flat.price(t);
        if size <= r.flat_up_to && size < r.tiered_from {
            return Some(flat * multiplier);
        }
        // Not yet known to be flat at this size: ask the database, and remember the answer.
        let (exact, _, _) = Self::db_price(&normalized, &r.provider_id, t, at_ms)?;
        if (exact - flat).abs() <= 1e-9 * exact.abs().max(1e-12) {
            r.flat_up_to = r.flat_up_to.max(size);
        } else {
            r.tiered_from = r.tiered_from.min(size);
        }
        Some(exact * multiplier)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalisation_is_explicit() {
        assert_eq!(normalize("claude-opus-4-6[1m]"), "claude-opus-4-6");
        assert_eq!(
            normalize("us.anthropic.claude-sonnet-4-5-20250929-v1:0"),
            "claude-sonnet-4-5-20250929"
        );
        assert_eq!(
            normalize("anthropic.claude-3-5-haiku-20241022-v1:0"),
            "claude-3-5-haiku-20241022"
        );
        assert_eq!(
            normalize("claude-sonnet-4-5@20250929"),
            "claude-sonnet-4-5-20250929"
        );
        assert_eq!(normalize("openrouter/openai/gpt-5"), "gpt-5");
        assert_eq!(normalize("Claude-Sonnet-4-5"), "claude-sonnet-4-5");
    }

    #[test]
    fn only_the_same_model_is_accepted() {
        assert!(same_model(
            "claude-sonnet-4-5-20250929",
            "claude-sonnet-4-5"
        ));
        assert!(same_model("claude-sonnet-4-20250514", "claude-sonnet-4-0"));
        assert!(same_model(
            "claude-3-5-haiku-20241022",
            "claude-3-5-haiku-latest"
        ));
        assert!(same_model("gpt-5-codex", "gpt-5"));
        assert!(!same_model("claude-sonnet-4-5-mini", "claude-sonnet-4-5"));
        assert!(!same_model("gpt-5-codex-mini", "gpt-5"));
        assert!(!same_model("claude-opus-4-6-fast", "claude-opus-4-6"));
    }
}
