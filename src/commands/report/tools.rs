//! `tokledger report tools`

use anyhow::Result;

use crate::ctx::Ctx;
use crate::reports::tools::{CallLog, ToolStats, ToolsBy};

/// What `report tools` rows are per.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum By {
    /// The tool's name (`Bash`, `Read`)
    Name,
    /// Shell calls only, per program and subcommand (`git commit`, `cargo test`)
    Command,
}

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub filters: super::Filters,
    /// Only this session: its id, or a unique beginning of it
    #[arg(long, value_name = "ID")]
    pub session: Option<String>,
    /// Only calls of this tool name (`Read`, `shell_command`; any case)
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// List every call (time, session, project, outcome, duration, file) instead of totals
    #[arg(long, conflicts_with = "by")]
    pub calls: bool,
    /// Rows per tool name, or per shell program and subcommand (docs/REPORTS.md)
    #[arg(long, value_enum, default_value_t = By::Name)]
    pub by: By,
    #[command(flatten)]
    pub format: super::FormatFlags,
}

pub fn run(ctx: &Ctx, args: &Args) -> Result<()> {
    // Tables show times in the zone; JSON and CSV in UTC.
    let times = args.calls && args.format.table();
    let p = super::prepare(ctx, &args.filters, args.session.as_deref(), times)?;
    let format = args.format.format(ctx, &p);
    let name = args.name.as_deref();
    if args.calls {
        let mut log = CallLog::default();
        p.store
            .for_each_tool_call(&p.filter, name, |c| log.add(c))?;
        super::print(&log.finish(), format)
    } else {
        let mut stats = ToolStats::new(match args.by {
            By::Name => ToolsBy::Name,
            By::Command => ToolsBy::Command,
        });
        p.store
            .for_each_tool_call(&p.filter, name, |c| stats.add(c))?;
        super::print(&stats.finish(), format)
    }
}
