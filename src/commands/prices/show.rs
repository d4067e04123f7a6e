//! `tokledger prices show MODEL`

use std::io::Write;

use anyhow::Result;
use serde::Serialize;

use crate::agents::Agent;
use crate::cost::{Rates, normalize};
use crate::ctx::Ctx;
use crate::error::Error;
use crate::usage::Tokens;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The model name as a transcript writes it
    pub model: String,
    /// The agent that used it (decides the provider: Claude → Anthropic, Codex → OpenAI)
    #[arg(long, value_enum, default_value_t = Agent::Claude)]
    pub tool: Agent,
    /// The date to price at (YYYY-MM-DD or RFC 3339) [default: now]
    #[arg(long)]
    pub at: Option<String>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Serialize)]
struct Shown<'a> {
    model: &'a str,
    normalized: String,
    at: String,
    source: String,
    /// USD per million tokens.
    input: f64,
    cache_write_5m: f64,
    cache_write_1h: f64,
    cache_read: f64,
    output: f64,
    /// USD for one request of 300,000 uncached input tokens, where a long-context tier
    /// makes it dearer than the flat rate.
    long_context_300k_input_usd: Option<f64>,
}

pub fn run(ctx: &Ctx, args: &Args) -> Result<()> {
    let tool: Agent = args.tool;
    let at = match &args.at {
        Some(s) => crate::dates::parse_bound("--at", s, false)?,
        None => chrono::Utc::now().timestamp_millis(),
    };
    let Some((rates, source)) = ctx.pricer.rates(Some(tool), &args.model, at) else {
        return Err(Error::NotFound(format!(
            "no price known for {} ({tool}); add it to a price file ([models.\"{}\"] with input, output, \
             cache_read, cache_write, cache_write_1h in USD per million tokens)",
            args.model,
            normalize(&args.model)
        ))
        .into());
    };
    let big = Tokens {
        input_tokens: 300_000,
        ..Tokens::default()
    };
    let tiered = ctx
        .pricer
        .price(tool, Some(&args.model), &big, None, at)
        .filter(|p| (p - rates.price(&big)).abs() > 1e-9);
    let shown = Shown {
        model: &args.model,
        normalized: normalize(&args.model),
        at: crate::usage::format_ts_ms(at),
        source: source.to_string(),
        input: rates.input,
        cache_write_5m: rates.cache_write.unwrap_or(rates.input),
        cache_write_1h: rates
            .cache_write_1h
            .or(rates.cache_write)
            .unwrap_or(rates.input),
        cache_read: rates.cache_read.unwrap_or(rates.input),
        output: rates.output,
        long_context_300k_input_usd: tiered,
    };
    let mut out = std::io::stdout().lock();
    if args.json {
        return crate::render::write_json(&mut out, &shown);
    }
    human(&mut out, &shown, &rates)
}

fn human(out: &mut dyn Write, s: &Shown<'_>, _rates: &Rates) -> Result<()> {
    writeln!(out, "{} (as {}) at {}", s.model, s.normalized, s.at)?;
    writeln!(out, "source: {}", s.source)?;
    writeln!(out, "USD per million tokens:")?;
    for (k, v) in [
        ("input", s.input),
        ("cache write 5m", s.cache_write_5m),
        ("cache write 1h", s.cache_write_1h),
        ("cache read", s.cache_read),
        ("output", s.output),
    ] {
        writeln!(out, "  {k:<15} {v:>10.4}")?;
    }
    if let Some(p) = s.long_context_300k_input_usd {
        writeln!(
            out,
            "long context: a request of 300,000 input tokens costs {p:.4} (a higher tier applies per request)"
        )?;
    }
    Ok(())
}
