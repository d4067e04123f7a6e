//! `tokledger analysis add`: a one-shot row, with usage given or read from a transcript.

use std::path::PathBuf;

use anyhow::Result;

use crate::agents::Agent;
use crate::ctx::Ctx;
use crate::dates::parse_bound;
use crate::error::Error;
use crate::store::analyses::NewAnalysis;
use crate::usage::format_ts_ms;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[arg(long)]
    pub source_id: String,
    #[arg(long, value_enum)]
    pub tool: super::RowTool,
    #[arg(long)]
    pub model: Option<String>,
    /// Input-side tokens (input + cache writes + cache reads)
    #[arg(long, conflicts_with = "usage_from", value_parser = token_count)]
    pub tokens_in: Option<i64>,
    #[arg(long, conflicts_with = "usage_from", value_parser = token_count)]
    pub tokens_out: Option<i64>,
    #[arg(long, value_parser = cost)]
    pub cost_usd: Option<f64>,
    /// The whole usage of one transcript: claude:PATH, codex:PATH or amp:PATH
    #[arg(long, value_name = "PROVIDER:PATH")]
    pub usage_from: Option<String>,
    /// The session the work ran in (for a later backfill)
    #[arg(long, conflicts_with = "usage_from")]
    pub usage_session_id: Option<String>,
    /// When the work started: what --since takes (an RFC 3339 time; a UTC day, YYYY-MM-DD,
    /// YYYYMMDD, today or yesterday, as its midnight; 30m, 2h back from now) [default: now,
    /// when --completed-at is not given either]
    #[arg(long, value_name = "WHEN")]
    pub started_at: Option<String>,
    /// When it ended, as --started-at [default: now, when --started-at is not given either
    /// and the status is not in_progress]
    #[arg(long, value_name = "WHEN")]
    pub completed_at: Option<String>,
    #[arg(long, value_enum, default_value_t = super::RowStatus::Completed)]
    pub status: super::RowStatus,
    #[arg(long)]
    pub pass: Option<String>,
    #[arg(long, value_delimiter = ',')]
    pub inputs_source_ids: Option<Vec<String>>,
    #[arg(long, value_delimiter = ',')]
    pub inputs_analysis_ids: Option<Vec<String>>,
    #[arg(long)]
    pub notes: Option<String>,
    /// Price --tokens-in (as uncached input) and --tokens-out with --model
    #[arg(long, requires = "model", conflicts_with_all = ["cost_usd", "usage_from"])]
    pub estimate_cost: bool,
    /// Print the row as JSON instead of the id
    #[arg(long)]
    pub json: bool,
}

/// `--estimate-cost`: the flat (below any long-context tier) rates of `--model` at the
/// row's start, or now. Request sizes are unknown, so no tier applies.
fn estimate(ctx: &Ctx, args: &Args, started_at: Option<&str>) -> Result<Option<f64>> {
    let model = args.model.as_deref().unwrap_or_default();
    let at = started_at
        .and_then(crate::usage::parse_ts_ms)
        .unwrap_or_else(|| chrono::Utc::now().timestamp_millis());
    // A manual or other row has no agent: the model's maker is looked up by its name.
    let tool = args.tool.agent();
    let tokens = crate::usage::Tokens {
        input_tokens: args.tokens_in.unwrap_or(0),
        output_tokens: args.tokens_out.unwrap_or(0),
        ..crate::usage::Tokens::default()
    };
    match ctx.pricer.rates(tool, model, at) {
        Some((rates, _)) => Ok(Some(rates.price(&tokens))),
        None => {
            ctx.warn(&format!("no price known for {model}: cost_usd is null"));
            Ok(None)
        }
    }
}

/// The most tokens one manual row may hold: a thousand of the largest responses, so sums of
/// rows stay exact.
const MAX_ROW_TOKENS: i64 = 1000 * crate::usage::MAX_RESPONSE_TOKENS;

fn token_count(s: &str) -> Result<i64, String> {
    let n: i64 = s.trim().parse().map_err(|e| format!("{e}"))?;
    if (0..=MAX_ROW_TOKENS).contains(&n) {
        Ok(n)
    } else {
        Err(format!("a token count from 0 to {MAX_ROW_TOKENS}"))
    }
}

fn cost(s: &str) -> Result<f64, String> {
    let c: f64 = s.trim().parse().map_err(|e| format!("{e}"))?;
    if c.is_finite() && (0.0..=1e9).contains(&c) {
        Ok(c)
    } else {
        Err("a cost in USD from 0 to 1e9".into())
    }
}

fn time_arg(flag: &str, v: Option<&String>) -> Result<Option<String>, Error> {
    v.map(|s| parse_bound(flag, s, false).map(format_ts_ms))
        .transpose()
}

/// The row's times. Given neither, the row happened now: it is stamped now (and completed
/// now unless it is in progress), so `list --since` finds it. Given one, the other stays
/// unset: inventing it would open a backfill window the caller never named.
fn times(args: &Args) -> Result<(Option<String>, Option<String>), Error> {
    let started_at = time_arg("--started-at", args.started_at.as_ref())?;
    let completed_at = time_arg("--completed-at", args.completed_at.as_ref())?;
    if started_at.is_none() && completed_at.is_none() {
        let now = crate::usage::now_rfc3339();
        let done = args.status != super::RowStatus::InProgress;
        return Ok((Some(now.clone()), done.then_some(now)));
    }
    Ok((started_at, completed_at))
}

pub fn run(ctx: &Ctx, args: &Args) -> Result<()> {
    let (started_at, completed_at) = times(args)?;
    if let (Some(a), Some(b)) = (&started_at, &completed_at)
        && b < a
    {
        return Err(Error::Usage("--completed-at is before --started-at".into()).into());
    }
    let usage_from = args
        .usage_from
        .as_deref()
        .map(parse_usage_from)
        .transpose()?;
    let mut store = ctx.open_store()?;
    let mut row = NewAnalysis {
        source_id: args.source_id.clone(),
        pass: args.pass.clone(),
        status: args.status.as_str().into(),
        tool: args.tool.as_str().into(),
        model: args.model.clone(),
        started_at,
        completed_at,
        tokens_in: args.tokens_in,
        tokens_out: args.tokens_out,
        cost_usd: args.cost_usd,
        notes: args.notes.clone(),
        usage_session_id: args.usage_session_id.clone(),
        inputs_source_ids: args.inputs_source_ids.clone(),
        inputs_analysis_ids: args.inputs_analysis_ids.clone(),
        ..NewAnalysis::default()
    };
    if args.tokens_in.is_some() || args.tokens_out.is_some() {
        row.usage_provider = Some("manual".into());
        row.usage_mode = Some("manual".into());
    }
    if let Some((tool, path)) = usage_from {
        let read = crate::read::read(
            ctx,
            &mut store,
            crate::read::Scope::Path(tool, &path),
            crate::read::How::default(),
        )?;
        let session = read.session.unwrap_or_default();
        crate::ingest::settle_costs(&mut store, &ctx.pricer, Some((tool, &session)))?;
        let usage = store.session_snapshot(tool.as_str(), &session)?;
        let sum = usage.sum();
        row.tokens_in = Some(sum.input_side());
        row.tokens_out = Some(sum.output_tokens);
        row.usage_provider = Some(tool.as_str().into());
        row.usage_mode = Some(tool.spec().usage_mode().into());
        row.usage_session_id = Some(session);
        row.session_binding = Some("usage_from".into());
        if row.cost_usd.is_none() {
            row.cost_usd = usage.cost_usd();
        }
        row.usage_by_model = Some(usage);
    }
    if args.estimate_cost {
        row.cost_usd = estimate(ctx, args, row.started_at.as_deref())?;
    }
    let created = store.create_analysis(&row, crate::dates::year_now())?;
    super::warn_unpriced(ctx, &created);
    super::print_row_or_id(ctx, &created, args.json)
}

fn parse_usage_from(s: &str) -> Result<(Agent, PathBuf), Error> {
    let bad = || {
        Error::Usage(format!(
            "--usage-from takes PROVIDER:PATH with PROVIDER claude, codex or amp, not {s:?}"
        ))
    };
    let (provider, path) = s.split_once(':').ok_or_else(bad)?;
    let tool = Agent::parse(provider).ok_or_else(bad)?;
    if path.is_empty() {
        return Err(bad());
    }
    Ok((tool, PathBuf::from(path)))
}
