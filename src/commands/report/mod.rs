//! `tokledger report …`: usage by period, session or model, and tool, file and compaction
//! analytics. Each report first reads what changed in the transcripts, then queries the
//! ledger, so usage whose transcript was deleted since is still in it. See docs/REPORTS.md.

use std::collections::BTreeMap;

use anyhow::Result;
use chrono_tz::Tz;
use clap::Subcommand;

use crate::ctx::Ctx;
use crate::dates::{parse_bound_in, resolve_zone};
use crate::error::Error;
use crate::render::report::{Style, UsageReport};
use crate::reporting::{self, Period, RowKey, StoredCosts, Usage};
use crate::store::Store;
use crate::store::reports::ReportFilter;
use crate::usage::Agent;

pub mod compactions;
pub mod daily;
pub mod files;
pub mod model;
pub mod monthly;
pub mod session;
pub mod tools;
pub mod weekly;

#[derive(Subcommand, Debug)]
pub enum ReportCommand {
    /// Tokens per day (in --tz)
    Daily(daily::Args),
    /// Tokens per week (weeks start on Monday unless --week-start says otherwise)
    Weekly(weekly::Args),
    /// Tokens per month
    Monthly(monthly::Args),
    /// Tokens per session
    Session(session::Args),
    /// Tokens per model
    Model(model::Args),
    /// Tool calls per agent and tool: calls, failures, error rate, median duration
    Tools(tools::Args),
    /// The most read and edited files
    Files(files::Args),
    /// Compactions per session
    Compactions(compactions::Args),
}

pub fn run(ctx: &Ctx, cmd: ReportCommand) -> Result<()> {
    match cmd {
        ReportCommand::Daily(a) => daily::run(ctx, &a),
        ReportCommand::Weekly(a) => weekly::run(ctx, &a),
        ReportCommand::Monthly(a) => monthly::run(ctx, &a),
        ReportCommand::Session(a) => session::run(ctx, &a),
        ReportCommand::Model(a) => model::run(ctx, &a),
        ReportCommand::Tools(a) => tools::run(ctx, &a),
        ReportCommand::Files(a) => files::run(ctx, &a),
        ReportCommand::Compactions(a) => compactions::run(ctx, &a),
    }
}

/// Which rows every report can be narrowed to.
#[derive(clap::Args, Debug, Clone)]
pub struct Filters {
    /// Only this agent
    #[arg(long, value_enum)]
    pub tool: Option<Agent>,
    /// From: YYYY-MM-DD (a day in --tz), an RFC 3339 time, or back from now (30m, 24h, 7d, 2w)
    #[arg(long, value_name = "WHEN")]
    pub since: Option<String>,
    /// Up to: as --since; a date includes its whole day
    #[arg(long, value_name = "WHEN")]
    pub until: Option<String>,
    /// Time zone that days start in: an IANA name (Europe/Paris, UTC) or `local` (TZ, else the
    /// system's)
    #[arg(long, value_name = "IANA|local", default_value = "local")]
    pub tz: String,
    /// Sessions whose working directory is P, is below P, or ends in /P
    #[arg(long, value_name = "P")]
    pub project: Option<String>,
}

/// Output format of the data on stdout (a table by default).
#[derive(clap::Args, Debug, Clone)]
pub struct Format {
    /// One JSON document
    #[arg(long, conflicts_with = "csv")]
    pub json: bool,
    /// CSV: a header line, then one line per row
    #[arg(long)]
    pub csv: bool,
}

/// Options of the token reports (daily, weekly, monthly, session, model).
#[derive(clap::Args, Debug, Clone)]
pub struct UsageArgs {
    #[command(flatten)]
    pub filters: Filters,
    /// A line per model under each row
    #[arg(long)]
    pub breakdown: bool,
    #[command(flatten)]
    pub format: Format,
}

/// A report's ledger, after the incremental read, and its resolved filter.
pub struct Prepared {
    pub store: Store,
    pub tz: Tz,
    pub filter: ReportFilter,
}

/// Check the arguments (usage errors come before any read), read what changed in the
/// transcripts of the agents the report covers, and resolve the filter. The zone is resolved
/// only when days matter (`needs_zone`, or a date bound), so a bad `TZ` does not break a report
/// that never looks at days.
pub fn prepare(
    ctx: &Ctx,
    f: &Filters,
    session_id: Option<&str>,
    needs_zone: bool,
) -> Result<Prepared> {
    let tz = if needs_zone || f.since.is_some() || f.until.is_some() {
        resolve_zone(&f.tz, ctx.tz_env.as_deref())?
    } else {
        Tz::UTC
    };
    let now = chrono::Utc::now().timestamp_millis();
    let bound = |flag: &str, v: &Option<String>, end: bool| {
        v.as_deref()
            .map(|s| parse_bound_in(flag, s, end, tz, now))
            .transpose()
    };
    let filter = ReportFilter {
        tool: f.tool,
        session_id: session_id.map(str::to_owned),
        project: project_filter(f.project.as_deref())?,
        since_ms: bound("--since", &f.since, false)?,
        until_ms: bound("--until", &f.until, true)?,
    };
    let tools: Vec<Agent> = filter.tool.map_or(Agent::ALL.to_vec(), |t| vec![t]);
    let mut store = ctx.open_store()?;
    crate::read::read(
        ctx,
        &mut store,
        crate::read::Scope::Agents(&tools),
        crate::read::How {
            price: true,
            progress: true,
        },
    )?;
    // Responses read by small reads (marks, hooks) are priced now, before they are summed.
    crate::ingest::settle_costs(&mut store, &ctx.pricer, None)?;
    Ok(Prepared { store, tz, filter })
}

/// `--project`: a trailing `/` is dropped (`/` alone matches everything).
fn project_filter(p: Option<&str>) -> Result<Option<String>, Error> {
    let Some(p) = p else { return Ok(None) };
    if p.trim().is_empty() {
        return Err(Error::Usage(
            "--project takes a directory or its last part".into(),
        ));
    }
    let t = p.trim_end_matches('/');
    Ok((!t.is_empty()).then(|| t.to_owned()))
}

pub fn style(ctx: &Ctx, tz: Tz) -> Style {
    Style {
        tty: ctx.stdout_is_terminal(),
        width: None,
        tz,
    }
}

/// Print a usage report in the format asked for.
fn print_usage(ctx: &Ctx, format: &Format, report: &UsageReport<'_>, tz: Tz) -> Result<()> {
    use crate::render::report as r;
    if let Some((n, t)) = report.untimed.filter(|(n, _)| *n > 0) {
        ctx.status(&format!(
            "{n} response{} without a time ({} tokens) {} not in this report; `report session` and \
             `report model` count {}",
            if n == 1 { "" } else { "s" },
            t.total(),
            if n == 1 { "is" } else { "are" },
            if n == 1 { "it" } else { "them" },
        ));
    }
    let mut out = std::io::stdout().lock();
    if format.json {
        r::usage_json(&mut out, report)
    } else if format.csv {
        r::usage_csv(&mut out, report)
    } else {
        r::usage_table(&mut out, report, style(ctx, tz))
    }
}

/// daily, weekly, monthly: usage with a time, per period of the zone.
pub fn period_report(
    ctx: &Ctx,
    args: &UsageArgs,
    period: Period,
    kind: &str,
    week_start: Option<&str>,
) -> Result<()> {
    let p = prepare(ctx, &args.filters, None, true)?;
    // Sum per quarter hour in SQL (every UTC offset in use is a whole number of quarter hours,
    // so no quarter hour holds two local days), then give each quarter to its local day.
    const SLOT: i64 = 15 * 60_000;
    let usage = p.store.usage_by_slot(&p.filter, SLOT)?;
    let mut buckets: BTreeMap<chrono::NaiveDate, Usage> = BTreeMap::new();
    let split = reporting::fold_slots(&usage.slots, SLOT, p.tz, period, &mut buckets);
    // A quarter that does hold two days (historic offsets): read it again response by response.
    for start in split {
        let f = ReportFilter {
            since_ms: Some(p.filter.since_ms.map_or(start, |s| s.max(start))),
            until_ms: Some(
                p.filter
                    .until_ms
                    .map_or(start + SLOT, |u| u.min(start + SLOT)),
            ),
            ..p.filter.clone()
        };
        let fine = p.store.usage_by_slot(&f, 1)?;
        reporting::fold_slots(&fine.slots, 1, p.tz, period, &mut buckets);
    }
    let rows: Vec<_> = buckets
        .iter()
        .map(|(d, u)| reporting::priced(RowKey::Period(period.label(*d)), u, &StoredCosts))
        .collect();
    let report = UsageReport {
        kind,
        time_zone: Some(p.tz.name().to_owned()),
        week_start,
        totals: reporting::totals(&rows),
        rows: &rows,
        untimed: Some(usage.untimed),
        breakdown: args.breakdown,
    };
    print_usage(ctx, &args.format, &report, p.tz)
}

/// session and model: usage per session and model (the unit both are built from).
pub fn session_model_report(ctx: &Ctx, args: &UsageArgs, by_model: bool) -> Result<()> {
    let table = !(args.format.json || args.format.csv);
    let p = prepare(ctx, &args.filters, None, table && !by_model)?;
    let cells = p.store.usage_by_session(&p.filter)?;
    let rows = if by_model {
        reporting::model_rows(&cells, &StoredCosts)
    } else {
        let meta = p.store.session_meta()?;
        reporting::session_rows(&cells, &meta, &StoredCosts)
    };
    let report = UsageReport {
        kind: if by_model { "model" } else { "session" },
        time_zone: None,
        week_start: None,
        totals: reporting::totals(&rows),
        rows: &rows,
        untimed: None,
        breakdown: args.breakdown,
    };
    print_usage(ctx, &args.format, &report, p.tz)
}
