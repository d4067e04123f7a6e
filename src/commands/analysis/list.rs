//! `tokledger analysis list`

use anyhow::Result;

use crate::ctx::Ctx;
use crate::store::analyses::AnalysisFilter;

/// Which rows: `list` and `export` take the same filters.
#[derive(clap::Args, Debug, Clone)]
pub struct Filters {
    #[arg(long)]
    pub source_id: Option<String>,
    #[arg(long, value_enum)]
    pub tool: Option<super::RowTool>,
    #[arg(long, value_enum)]
    pub status: Option<super::RowStatus>,
    /// Rows started at or after: a UTC day (YYYY-MM-DD, YYYYMMDD, today, yesterday), an RFC
    /// 3339 time, or back from now (30m, 24h, 7d, 2w)
    #[arg(short, long, value_name = "WHEN")]
    pub since: Option<String>,
    /// Rows started before the end of a day, or at/before a time (as --since)
    #[arg(short, long, value_name = "WHEN")]
    pub until: Option<String>,
}

impl Filters {
    pub fn filter(&self) -> Result<AnalysisFilter> {
        let (since, until) =
            crate::dates::started_range(self.since.as_deref(), self.until.as_deref())?;
        Ok(AnalysisFilter {
            source_id: self.source_id.clone(),
            tool: self.tool.map(|t| t.as_str().to_owned()),
            status: self.status.map(|s| s.as_str().to_owned()),
            since,
            until,
        })
    }
}

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub filters: Filters,
    #[arg(short, long)]
    pub json: bool,
}

pub fn run(ctx: &Ctx, args: &Args) -> Result<()> {
    let filter = args.filters.filter()?;
    let store = ctx.open_store()?;
    let rows = store.analyses(&filter)?;
    let mut out = std::io::stdout().lock();
    if args.json {
        crate::render::analysis::json_list(&mut out, &rows)
    } else {
        crate::render::analysis::table(&mut out, &rows, ctx.stdout_is_terminal())
    }
}
