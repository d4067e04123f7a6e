//! `tokledger report files`

use std::collections::{BTreeSet, HashMap};

use anyhow::Result;

use crate::ctx::Ctx;
use crate::render::report::{self as out, FileRow, FileTotals};
use crate::reporting::{ByAgentAndName, FileAction, file_action, file_key};
use crate::usage::{Agent, format_ts_ms};

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub filters: super::Filters,
    /// Only this session (its full id)
    #[arg(long, value_name = "ID")]
    pub session: Option<String>,
    /// How many files to show
    #[arg(long, default_value_t = 20, conflicts_with = "all")]
    pub limit: usize,
    /// Show every file
    #[arg(long)]
    pub all: bool,
    #[command(flatten)]
    pub format: super::Format,
}

#[derive(Default)]
struct Acc {
    reads: i64,
    edits: i64,
    failures: i64,
    /// Indexes into the sessions seen (see `run`).
    sessions: BTreeSet<usize>,
    tools: BTreeSet<&'static str>,
    last_ms: Option<i64>,
}

pub fn run(ctx: &Ctx, args: &Args) -> Result<()> {
    let p = super::prepare(ctx, &args.filters, args.session.as_deref(), false)?;
    let mut files: HashMap<String, Acc> = HashMap::new();
    // Sessions are numbered once each, so a file's set of sessions costs no strings per call.
    let mut sessions: ByAgentAndName<()> = ByAgentAndName::default();
    p.store.for_each_tool_call(&p.filter, None, |c| {
        let (Some(path), Some(name)) = (c.file_path, c.name) else {
            return;
        };
        let action = file_action(c.tool, name);
        if action == FileAction::Other {
            return;
        }
        let session = sessions.index(c.tool, Some(c.session_id));
        let a = files.entry(file_key(path, c.project)).or_default();
        match action {
            FileAction::Read => a.reads += 1,
            _ => a.edits += 1,
        }
        a.failures += i64::from(c.failed == Some(true));
        a.sessions.insert(session);
        if let Some(t) = Agent::parse(c.tool) {
            a.tools.insert(t.as_str());
        }
        a.last_ms = a.last_ms.max(c.called_at_ms.or(c.result_at_ms));
    })?;
    let totals = FileTotals {
        files: i64::try_from(files.len()).unwrap_or(i64::MAX),
        reads: files.values().map(|a| a.reads).sum(),
        edits: files.values().map(|a| a.edits).sum(),
        failures: files.values().map(|a| a.failures).sum(),
    };
    let mut rows: Vec<FileRow> = files
        .into_iter()
        .map(|(path, a)| FileRow {
            file_path: path,
            reads: a.reads,
            edits: a.edits,
            failures: a.failures,
            sessions: i64::try_from(a.sessions.len()).unwrap_or(i64::MAX),
            tools: a.tools.into_iter().map(str::to_owned).collect(),
            last_at: a.last_ms.map(format_ts_ms),
        })
        .collect();
    rows.sort_by(|a, b| {
        (b.reads + b.edits)
            .cmp(&(a.reads + a.edits))
            .then_with(|| a.file_path.cmp(&b.file_path))
    });
    if !args.all {
        rows.truncate(args.limit);
    }
    let mut w = std::io::stdout().lock();
    if args.format.json {
        out::files_json(&mut w, &rows, &totals)
    } else if args.format.csv {
        out::files_csv(&mut w, &rows)
    } else {
        out::files_table(&mut w, &rows, super::style(ctx, p.tz))
    }
}
