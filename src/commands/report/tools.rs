//! `tokledger report tools`

use anyhow::Result;

use crate::ctx::Ctx;
use crate::render::report::{self as out, ToolStatsRow, ToolTotals};
use crate::reporting::{ByAgentAndName, CallStats};
use crate::store::reports::ToolCallRow;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub filters: super::Filters,
    /// Only this session (its full id)
    #[arg(long, value_name = "ID")]
    pub session: Option<String>,
    /// Only calls of this tool name (`Read`, `shell_command`; any case)
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// List every call (time, session, project, outcome, duration, file) instead of totals
    #[arg(long)]
    pub calls: bool,
    #[command(flatten)]
    pub format: super::Format,
}

pub fn run(ctx: &Ctx, args: &Args) -> Result<()> {
    // Tables show times in the zone; JSON and CSV in UTC.
    let times = args.calls && !(args.format.json || args.format.csv);
    let p = super::prepare(ctx, &args.filters, args.session.as_deref(), times)?;
    let mut all = CallStats::default();
    let mut by_tool: ByAgentAndName<CallStats> = ByAgentAndName::default();
    let mut calls: Vec<ToolCallRow> = Vec::new();
    p.store
        .for_each_tool_call(&p.filter, args.name.as_deref(), |c| {
            all.add(c.failed, c.duration_ms);
            if args.calls {
                calls.push(c.to_owned_row());
            } else {
                by_tool.get_mut(c.tool, c.name).add(c.failed, c.duration_ms);
            }
        })?;
    let totals = ToolTotals {
        calls: all.calls,
        failures: all.failures,
        successes: all.successes,
        unknown: all.unknown,
        error_rate: all.error_rate(),
    };
    let mut w = std::io::stdout().lock();
    if args.calls {
        // Oldest first; the call id keeps calls of one instant in a stable order.
        calls.sort_by(|a, b| {
            (
                a.called_at_ms.or(a.result_at_ms),
                &a.tool,
                &a.session_id,
                &a.call_id,
            )
                .cmp(&(
                    b.called_at_ms.or(b.result_at_ms),
                    &b.tool,
                    &b.session_id,
                    &b.call_id,
                ))
        });
        return if args.format.json {
            out::calls_json(&mut w, &calls, &totals)
        } else if args.format.csv {
            out::calls_csv(&mut w, &calls)
        } else {
            out::calls_table(&mut w, &calls, super::style(ctx, p.tz))
        };
    }
    let mut rows: Vec<ToolStatsRow> = by_tool
        .groups
        .into_iter()
        .map(|(tool, name, s)| ToolStatsRow {
            tool,
            name,
            calls: s.calls,
            failures: s.failures,
            successes: s.successes,
            unknown: s.unknown,
            error_rate: s.error_rate(),
            median_duration_ms: s.median_ms(),
            durations_known: i64::try_from(s.durations_ms.len()).unwrap_or(i64::MAX),
        })
        .collect();
    // Most used first; ties by agent and name, so the order is stable.
    rows.sort_by(|a, b| {
        b.calls
            .cmp(&a.calls)
            .then_with(|| (&a.tool, &a.name).cmp(&(&b.tool, &b.name)))
    });
    if args.format.json {
        out::tools_json(&mut w, &rows, &totals)
    } else if args.format.csv {
        out::tools_csv(&mut w, &rows)
    } else {
        out::tools_table(&mut w, &rows, &totals, super::style(ctx, p.tz))
    }
}
