//! `tokledger report …`: usage by period, session or model, and tool, file and compaction
//! analytics. Each report first reads what changed in the transcripts, then queries the
//! ledger, so usage whose transcript was deleted since is still in it. See docs/REPORTS.md.

use anyhow::Result;
use chrono_tz::Tz;
use clap::Subcommand;

use crate::agents::Agent;
use crate::ctx::Ctx;
use crate::dates::{parse_bound_in, resolve_zone};
use crate::error::Error;
use crate::render::report::{Format, Report, Style, unpriced_note, untimed_note};
use crate::reports::usage::{
    self, Period, Periods, SLOT_MS, SlotSums, SlotUsage, StoredCosts, UsageKind, UsageReport,
};
use crate::store::Store;
use crate::store::reports::ReportFilter;

pub mod blocks;
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
    /// 5-hour billing windows; the active one with its burn rate and projection
    Blocks(blocks::Args),
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
        ReportCommand::Blocks(a) => blocks::run(ctx, &a),
    }
}

/// Which rows every report can be narrowed to.
#[derive(clap::Args, Debug, Clone)]
pub struct Filters {
    /// Only this agent
    #[arg(long, value_enum)]
    pub tool: Option<Agent>,
    /// From: a day in --tz (YYYY-MM-DD, YYYYMMDD, today, yesterday), an RFC 3339 time, or back
    /// from now (30m, 24h, 7d, 2w)
    #[arg(short, long, value_name = "WHEN")]
    pub since: Option<String>,
    /// Up to: as --since; a day includes its whole day
    #[arg(short, long, value_name = "WHEN")]
    pub until: Option<String>,
    /// Time zone that days start in: an IANA name (Europe/Paris, UTC) or `local` (TZ, else the
    /// system's)
    #[arg(
        long,
        short = 'z',
        visible_alias = "timezone",
        value_name = "IANA|local",
        default_value = "local"
    )]
    pub tz: String,
    /// Sessions whose working directory is P, is below P, or ends in /P
    #[arg(long, value_name = "P")]
    pub project: Option<String>,
}

/// Output format of the data on stdout (a table by default).
#[derive(clap::Args, Debug, Clone)]
pub struct FormatFlags {
    /// One JSON document
    #[arg(short, long, conflicts_with = "csv")]
    pub json: bool,
    /// CSV: a header line, then one line per row
    #[arg(long)]
    pub csv: bool,
}

impl FormatFlags {
    pub fn table(&self) -> bool {
        !(self.json || self.csv)
    }

    /// The format asked for; a table shows its times in the report's zone and session ids
    /// as long as the ledger's need to be told apart.
    pub fn format(&self, ctx: &Ctx, p: &Prepared) -> Format {
        if self.json {
            Format::Json
        } else if self.csv {
            Format::Csv
        } else {
            Format::Table(Style {
                tty: ctx.stdout_is_terminal(),
                width: None,
                tz: p.tz,
                id_len: p.id_len,
            })
        }
    }
}

/// Options of the token reports (daily, weekly, monthly, session, model).
#[derive(clap::Args, Debug, Clone)]
pub struct UsageArgs {
    #[command(flatten)]
    pub filters: Filters,
    /// A line per model under each row
    #[arg(short, long)]
    pub breakdown: bool,
    /// Row order: periods and sessions by time, `asc` (oldest first, the default) or `desc`;
    /// models by tokens, `desc` (most first, the default) or `asc`
    #[arg(short, long, value_enum)]
    pub order: Option<Order>,
    #[command(flatten)]
    pub format: FormatFlags,
}

/// `--order`, as ccusage spells it.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Order {
    Asc,
    Desc,
}

/// A report's ledger, after the incremental read, and its resolved filter.
pub struct Prepared {
    pub store: Store,
    pub tz: Tz,
    pub filter: ReportFilter,
    /// How many characters tell every session id of the ledger apart (a table's short ids
    /// are then prefixes `--session` takes).
    pub id_len: usize,
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
    let mut filter = ReportFilter {
        tool: f.tool,
        session_id: None,
        project: project_filter(f.project.as_deref())?,
        since_ms: bound("--since", &f.since, false)?,
        until_ms: bound("--until", &f.until, true)?,
    };
    crate::dates::check_range(filter.since_ms, filter.until_ms)?;
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
    // After the read, so a session first seen by it can be named by a prefix.
    if let Some(given) = session_id {
        filter.session_id = Some(session_by_prefix(&store, given, filter.tool)?);
    }
    let id_len = crate::ids::unique_len(&store.session_ids()?, 8);
    Ok(Prepared {
        store,
        tz,
        filter,
        id_len,
    })
}

/// `--session`: the session whose id is, or uniquely begins with, `given` (of `tool`, when
/// the report is of one); none is exit 1, several exit 2 (src/ids.rs).
fn session_by_prefix(store: &Store, given: &str, tool: Option<Agent>) -> Result<String> {
    let matches = store.sessions_with_prefix(given, tool.map(Agent::as_str))?;
    // The same id under two agents is one `--session` (the filter keeps both).
    let mut ids: Vec<String> = matches.into_iter().map(|(_, id)| id).collect();
    ids.dedup();
    Ok(crate::ids::pick(
        given,
        ids,
        "session",
        "tokledger analysis sessions list --all",
    )?)
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

/// Write `report` to stdout in `format`.
pub fn print(report: &impl Report, format: Format) -> Result<()> {
    report.print(format, &mut std::io::stdout().lock())
}

/// Print a token report, with a note on stderr for the responses it leaves out. The rows
/// come in their kind's natural order (time ascending; models by tokens descending);
/// `--order` the other way reverses them.
fn print_usage(ctx: &Ctx, args: &UsageArgs, mut report: UsageReport, p: &Prepared) -> Result<()> {
    let natural = if report.kind == UsageKind::Model {
        Order::Desc
    } else {
        Order::Asc
    };
    if args.order.is_some_and(|o| o != natural) {
        report.rows.reverse();
    }
    if let Some(note) = untimed_note(&report) {
        ctx.status(&note);
    }
    if let Some(note) = unpriced_note(&report) {
        ctx.status(&note);
    }
    print(&report, args.format.format(ctx, p))
}

/// The responses in `f`, summed per model and `slot_ms` span.
fn slot_usage(store: &Store, f: &ReportFilter, slot_ms: i64) -> Result<SlotUsage> {
    let mut sums = SlotSums::new(slot_ms);
    store.for_each_response(f, |r| sums.add(r))?;
    Ok(sums.finish())
}

/// daily, weekly, monthly: usage with a time, per period of the zone. The quarter hours come
/// from the rollup (`usage_slots`, docs/REPORTS.md), which holds the same sums as the
/// responses.
pub fn period_report(ctx: &Ctx, args: &UsageArgs, period: Period) -> Result<()> {
    let p = prepare(ctx, &args.filters, None, true)?;
    let mut sums = SlotSums::new(SLOT_MS);
    p.store.for_each_slot(&p.filter, |r| sums.add_slot(r))?;
    let usage = sums.finish();
    let mut periods = Periods::new(p.tz, period);
    // A quarter hour that holds two local days (historic offsets): read it again response by
    // response.
    for start in periods.fold(&usage.slots, SLOT_MS) {
        let fine = slot_usage(&p.store, &p.filter.within(start, start + SLOT_MS), 1)?;
        periods.fold(&fine.slots, 1);
    }
    let report = periods.report(usage.untimed, args.breakdown);
    print_usage(ctx, args, report, &p)
}

/// session and model: usage per session and model (the unit both are built from).
pub fn session_model_report(ctx: &Ctx, args: &UsageArgs, kind: UsageKind) -> Result<()> {
    let by_model = kind == UsageKind::Model;
    let p = prepare(ctx, &args.filters, None, args.format.table() && !by_model)?;
    let cells = p.store.usage_by_session(&p.filter)?;
    let rows = if by_model {
        usage::model_rows(&cells, &StoredCosts)
    } else {
        let meta = p.store.session_meta()?;
        usage::session_rows(&cells, &meta, &StoredCosts)
    };
    let report = UsageReport::new(kind, None, rows, None, args.breakdown);
    print_usage(ctx, args, report, &p)
}
