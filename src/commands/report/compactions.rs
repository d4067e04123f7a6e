//! `tokledger report compactions`

use std::collections::BTreeMap;

use anyhow::Result;

use crate::ctx::Ctx;
use crate::render::report::{self as out, CompactionStatsRow, CompactionTotals};
use crate::usage::format_ts_ms;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub filters: super::Filters,
    /// Only this session (its full id)
    #[arg(long, value_name = "ID")]
    pub session: Option<String>,
    #[command(flatten)]
    pub format: super::Format,
}

pub fn run(ctx: &Ctx, args: &Args) -> Result<()> {
    let table = !(args.format.json || args.format.csv);
    let p = super::prepare(ctx, &args.filters, args.session.as_deref(), table)?;
    let events = p.store.compaction_rows(&p.filter)?;
    let mut by_session: BTreeMap<(&str, &str), CompactionStatsRow> = BTreeMap::new();
    for e in &events {
        let key = (e.tool.as_str(), e.session_id.as_str());
        let r = by_session.entry(key).or_insert_with(|| CompactionStatsRow {
            tool: e.tool.clone(),
            session_id: e.session_id.clone(),
            project: e.project.clone(),
            compactions: 0,
            compact: 0,
            microcompact: 0,
            auto: 0,
            manual: 0,
            max_pre_tokens: None,
            first_at: None,
            last_at: None,
            first_ms: None,
            last_ms: None,
        });
        r.compactions += 1;
        r.compact += i64::from(e.kind == "compact");
        r.microcompact += i64::from(e.kind == "microcompact");
        r.auto += i64::from(e.trigger.as_deref() == Some("auto"));
        r.manual += i64::from(e.trigger.as_deref() == Some("manual"));
        r.max_pre_tokens = r.max_pre_tokens.max(e.pre_tokens);
        if let Some(at) = e.at_ms {
            r.first_ms = Some(r.first_ms.map_or(at, |f| f.min(at)));
            r.last_ms = Some(r.last_ms.map_or(at, |l| l.max(at)));
        }
    }
    let mut rows: Vec<CompactionStatsRow> = by_session
        .into_values()
        .map(|mut r| {
            r.first_at = r.first_ms.map(format_ts_ms);
            r.last_at = r.last_ms.map(format_ts_ms);
            r
        })
        .collect();
    // Most compacted first.
    rows.sort_by(|a, b| {
        b.compactions
            .cmp(&a.compactions)
            .then_with(|| (&a.tool, &a.session_id).cmp(&(&b.tool, &b.session_id)))
    });
    let totals = CompactionTotals {
        compactions: rows.iter().map(|r| r.compactions).sum(),
        sessions: i64::try_from(rows.len()).unwrap_or(i64::MAX),
    };
    let mut w = std::io::stdout().lock();
    if args.format.json {
        out::compactions_json(&mut w, &rows, &totals)
    } else if args.format.csv {
        out::compactions_csv(&mut w, &rows)
    } else {
        out::compactions_table(&mut w, &rows, &totals, super::style(ctx, p.tz))
    }
}
