//! `tokledger statusline`: Claude Code's status line command. Claude Code runs it with the
//! session's JSON on stdin (`session_id`, `transcript_path`, `model.display_name`, …) after
//! every message and shows the first line it prints. Like the hook it must never get in the
//! way: it answers within `--max-ms` (600 by default), exits 0 whatever happens, and prints
//! a line even when it has nothing but an error to say. It reads what the session's
//! transcript gained since the last read (for at most [`READ_SHARE`] of that time; a busy
//! ledger is not waited for), then prints from what the ledger holds. See docs/WORKFLOWS.md.

use std::io::Write;
use std::time::{Duration, Instant};

use anyhow::Result;

use super::hook::claude::{Payload, parse_payload, read_transcript};
use super::hook::{read_stdin_bounded, within};
use crate::agents::Agent;
use crate::ctx::Ctx;
use crate::global::GlobalArgs;
use crate::ingest::{Pending, settle_pending};
use crate::reports::live::{Live, Spent, running};

/// Kept for the queries after the read and pricing, whatever they took.
const QUERY_RESERVE: Duration = Duration::from_millis(60);
/// The transcript read writes nothing after this share of `--max-ms` (from the start).
const READ_SHARE: f64 = 0.4;
/// How long the payload may take to arrive.
const STDIN_WAIT: Duration = Duration::from_millis(200);
/// How long a write waits for another tokledger's lock: then the line shows what the
/// ledger holds, and the next line reads what this one could not.
const BUSY: Duration = Duration::from_millis(30);
/// The payload is a few hundred bytes.
const MAX_PAYLOAD: u64 = 1 << 20;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// One JSON document instead of the line
    #[arg(long)]
    pub json: bool,
    /// Time zone that "today" starts in: an IANA name or `local`
    #[arg(long, value_name = "IANA|local", default_value = "local")]
    pub tz: String,
    /// Only print from the ledger: do not read the session's transcript first
    #[arg(long)]
    pub no_read: bool,
    /// Answer within this many milliseconds (what the read could not do in time, the next
    /// line does)
    #[arg(long, value_name = "MS", default_value_t = 600)]
    pub max_ms: u64,
}

/// Never fails: a problem becomes the line (and a line on stderr).
pub fn run(global: &GlobalArgs, args: &Args) -> Result<()> {
    let started = Instant::now();
    let json = args.json;
    let printed = live(global, args, started).and_then(|l| {
        let mut out = std::io::stdout().lock();
        if json {
            crate::render::statusline::json(&mut out, &l)
        } else {
            writeln!(out, "{}", crate::render::statusline::line(&l))?;
            Ok(())
        }
    });
    if let Err(e) = printed {
        let first = format!("{e:#}");
        let first = first.lines().next().unwrap_or("error");
        eprintln!("tokledger statusline: {first}");
        // Said on stdout too (the status bar is where the user looks), on one short line.
        let _ = writeln!(
            std::io::stdout(),
            "tokledger: {}",
            crate::format::printable(&first.chars().take(80).collect::<String>(), false)
        );
    }
    Ok(())
}

fn live(global: &GlobalArgs, args: &Args, started: Instant) -> Result<Live> {
    let mut ctx = Ctx::new(global)?;
    ctx.busy = ctx.busy.min(BUSY);
    let total = Duration::from_millis(args.max_ms);
    ctx.read_deadline = Some(started + total.mul_f64(READ_SHARE));
    // Warnings of the read (a malformed line) are the hook's and reports' to show.
    ctx.quiet = true;
    let tz = crate::dates::resolve_zone(&args.tz, ctx.tz_env.as_deref())?;
    let bytes = read_stdin_bounded(STDIN_WAIT, MAX_PAYLOAD)?;
    let raw: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
    let model = raw
        .pointer("/model/display_name")
        .or_else(|| raw.pointer("/model/id"))
        .and_then(serde_json::Value::as_str)
        .filter(|m| !m.trim().is_empty())
        .map(str::to_owned);
    // A payload that is not a JSON object still gets today's line.
    let payload = parse_payload(&bytes).unwrap_or_default();
    let now_ms = chrono::Utc::now().timestamp_millis();
    let day = crate::dates::local_date(tz, now_ms).unwrap_or_default();
    let day_start = crate::dates::day_start_ms(tz, day).unwrap_or(now_ms);
    let next = day.succ_opt().unwrap_or(day);
    let day_end = crate::dates::day_start_ms(tz, next).unwrap_or(i64::MAX);
    let mut stale = None;
    if !args.no_read {
        let c = ctx.clone();
        let p = payload.clone();
        let left = total
            .saturating_sub(started.elapsed())
            .saturating_sub(QUERY_RESERVE);
        let today = (day_start, day_end);
        if let Err(e) = within(left, move || refresh(&c, &p, today)) {
            stale = Some(format!("{e:#}").lines().next().unwrap_or("").to_owned());
        }
    }
    let store = ctx.open_store()?;
    let today = Spent::of_range(&store.usage_in_range(day_start, day_end)?);
    let tool = Agent::Claude.as_str();
    let (session, analysis, count) = match &payload.session_id {
        Some(id) => {
            let now = store.session_snapshot(tool, id)?;
            let runs = store.running_in_session(tool, id)?;
            let newest = runs.first().map(|a| running(a, &now));
            (Some(Spent::of_snapshot(&now)), newest, runs.len())
        }
        None => (None, None, 0),
    };
    Ok(Live {
        session_id: payload.session_id,
        model,
        analysis,
        running: count,
        session,
        day: day.format("%Y-%m-%d").to_string(),
        today,
        stale,
    })
}

/// Read the session's new lines, then price what is unpriced in the session and today (its
/// new responses, and those other small reads left): the line shows their cost. The price
/// database loads only when something is unpriced; repricing after a price change is left
/// to the next report or `prices` command.
fn refresh(ctx: &Ctx, p: &Payload, (since, until): (i64, i64)) -> Result<()> {
    if p.session_id.is_some() || p.transcript_path.is_some() {
        read_transcript(ctx, p)?;
    }
    let mut store = ctx.open_store()?;
    if let Some(id) = &p.session_id {
        settle_pending(&mut store, &ctx.pricer, Pending::Session(Agent::Claude, id))?;
    }
    settle_pending(&mut store, &ctx.pricer, Pending::Between(since, until))
}
