//! `tokledger analysis backfill-usage`: fill rows that lack usage from the transcripts, by
//! the window between their `started_at` and `completed_at`.

use std::io::Write;

use anyhow::Result;
use serde::Serialize;

use crate::agents::Agent;
use crate::ctx::Ctx;
use crate::store::analyses::{Analysis, AnalysisFilter, Fill};
use crate::usage::parse_ts_ms;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Only rows of this agent
    #[arg(long, value_enum)]
    pub tool: Option<Agent>,
    /// Rows started at or after: a UTC day (YYYY-MM-DD, YYYYMMDD, today, yesterday), an RFC
    /// 3339 time, or back from now (30m, 24h, 7d, 2w)
    #[arg(short, long, value_name = "WHEN")]
    pub since: Option<String>,
    /// Rows started before the end of a day, or at/before a time (as --since)
    #[arg(short, long, value_name = "WHEN")]
    pub until: Option<String>,
    /// Report what would be filled; change no row
    #[arg(long)]
    pub dry_run: bool,
    /// Fill at most this many rows
    #[arg(long)]
    pub limit: Option<usize>,
    /// Recompute rows that already have usage
    #[arg(long)]
    pub force: bool,
    #[arg(short, long)]
    pub json: bool,
}

#[derive(Serialize)]
struct Updated {
    id: String,
    tokens_check: i64,
    usage_session_id: String,
    #[serde(skip)]
    cost_usd: Option<f64>,
}

#[derive(Serialize)]
struct Skipped {
    id: String,
    reason: String,
}

#[derive(Serialize)]
struct Outcome {
    dry_run: bool,
    updated: Vec<Updated>,
    skipped: Vec<Skipped>,
}

/// A row has usage when any of its token fields is set.
fn has_usage(a: &Analysis) -> bool {
    a.tokens_check.is_some()
        || a.total_tokens.is_some()
        || a.tokens_in.is_some()
        || a.tokens_out.is_some()
}

pub fn run(ctx: &Ctx, args: &Args) -> Result<()> {
    let (since, until) = crate::dates::started_range(args.since.as_deref(), args.until.as_deref())?;
    let filter = AnalysisFilter {
        tool: args.tool.map(|t| t.as_str().to_owned()),
        since,
        until,
        ..AnalysisFilter::default()
    };
    let mut store = ctx.open_store()?;
    crate::read::read(
        ctx,
        &mut store,
        crate::read::Scope::Agents(Agent::ALL),
        crate::read::How {
            price: true,
            progress: true,
        },
    )?;
    crate::ingest::settle_costs(&mut store, &ctx.pricer, None)?;

    let mut outcome = Outcome {
        dry_run: args.dry_run,
        updated: Vec::new(),
        skipped: Vec::new(),
    };
    for a in store.analyses(&filter)? {
        if has_usage(&a) && !args.force {
            continue;
        }
        if args.limit.is_some_and(|l| outcome.updated.len() >= l) {
            break;
        }
        let fill = match plan(&store, &a)? {
            Ok(f) => f,
            Err(reason) => {
                outcome.skipped.push(Skipped {
                    id: a.id.clone(),
                    reason,
                });
                continue;
            }
        };
        if !args.dry_run {
            store.fill_usage(&a.id, &fill)?;
        }
        outcome.updated.push(Updated {
            id: a.id.clone(),
            tokens_check: fill.usage.total(),
            usage_session_id: fill.session_id.clone(),
            cost_usd: fill.usage.cost_usd(),
        });
    }
    let mut out = std::io::stdout().lock();
    if args.json {
        return crate::render::write_json(&mut out, &outcome);
    }
    summary(&mut out, &outcome, ctx.stdout_is_terminal())
}

/// The session and windowed usage for one row, or why it is skipped.
fn plan(store: &crate::store::Store, a: &Analysis) -> Result<Result<Fill, String>> {
    let Some(tool) = Agent::parse(&a.tool) else {
        return Ok(Err(format!("tool {} has no transcripts", a.tool)));
    };
    let window = (
        a.started_at.as_deref().and_then(parse_ts_ms),
        a.completed_at.as_deref().and_then(parse_ts_ms),
    );
    let (Some(from), Some(to)) = window else {
        return Ok(Err(
            "no window: started_at and completed_at are both needed".into(),
        ));
    };
    let session = match &a.usage_session_id {
        Some(id) => {
            if !store.session_known(tool.as_str(), id)? {
                return Ok(Err(format!("session {id} is not in any {tool} transcript")));
            }
            id.clone()
        }
        None => {
            let found = store.sessions_in_window(tool.as_str(), from, to)?;
            match found.as_slice() {
                [one] => one.clone(),
                [] => return Ok(Err(format!("no {tool} session has usage in the window"))),
                many => {
                    return Ok(Err(format!(
                        "ambiguous: {} {tool} sessions have usage in the window ({})",
                        many.len(),
                        many.join(", ")
                    )));
                }
            }
        }
    };
    let usage = store.window_usage(tool.as_str(), &session, from, to)?;
    Ok(Ok(Fill {
        session_id: session,
        provider: tool.as_str().to_owned(),
        usage,
    }))
}

fn summary(out: &mut dyn Write, o: &Outcome, tty: bool) -> Result<()> {
    let verb = if o.dry_run { "would fill" } else { "filled" };
    writeln!(
        out,
        "{verb} {} row(s), skipped {}",
        o.updated.len(),
        o.skipped.len()
    )?;
    if !o.updated.is_empty() {
        let mut t = crate::render::new_table(&["id", "tokens", "cost", "session"], tty);
        for u in &o.updated {
            t.add_row(vec![
                u.id.clone(),
                crate::render::human::thousands(u.tokens_check),
                u.cost_usd
                    .map_or_else(|| "unknown".into(), |c| format!("${c:.4}")),
                u.usage_session_id.clone(),
            ]);
        }
        crate::render::write_table(out, &t)?;
    }
    if !o.skipped.is_empty() {
        let mut t = crate::render::new_table(&["skipped", "reason"], tty);
        for s in &o.skipped {
            t.add_row(vec![s.id.clone(), s.reason.clone()]);
        }
        crate::render::write_table(out, &t)?;
    }
    Ok(())
}
