//! An analysis's tool calls (`analysis show`, its JSON `tools` object, the md export).

use std::io::Write;

use anyhow::Result;
use serde::Serialize;

use super::human::thousands;
use super::report::ToolRowJson;
use crate::reports::tools::ToolsReport;
use crate::reports::work::WorkReport;

#[derive(Serialize)]
struct FileJson<'a> {
    file_path: &'a str,
    reads: i64,
    edits: i64,
    failures: i64,
}

#[derive(Serialize)]
struct StageJson<'a> {
    /// `stage` (up to that mark), `final` (up to `complete`), `running` (since the last).
    kind: &'a str,
    stage: Option<&'a str>,
    calls: i64,
    failures: i64,
}

/// The `tools` object of `analysis show --json` (docs/WORKFLOWS.md).
#[derive(Serialize)]
pub struct ToolsJson<'a> {
    calls: i64,
    failures: i64,
    unknown: i64,
    /// As `report tools` rows.
    by_name: Vec<ToolRowJson<'a>>,
    /// As `report tools --by command` rows: shell calls per program and subcommand.
    commands: Vec<ToolRowJson<'a>>,
    files: Vec<FileJson<'a>>,
    stages: Vec<StageJson<'a>>,
}

fn counts(r: &ToolsReport) -> Vec<ToolRowJson<'_>> {
    r.rows
        .iter()
        .map(|row| ToolRowJson::new(row, r.by))
        .collect()
}

impl<'a> From<&'a WorkReport> for ToolsJson<'a> {
    fn from(w: &'a WorkReport) -> Self {
        let t = &w.by_name.totals;
        ToolsJson {
            calls: t.calls,
            failures: t.failures,
            unknown: t.unknown,
            by_name: counts(&w.by_name),
            commands: counts(&w.by_command),
            files: w
                .files
                .rows
                .iter()
                .map(|f| FileJson {
                    file_path: &f.file_path,
                    reads: f.reads,
                    edits: f.edits,
                    failures: f.failures,
                })
                .collect(),
            stages: w
                .stages
                .iter()
                .map(|s| StageJson {
                    kind: &s.kind,
                    stage: s.stage.as_deref(),
                    calls: s.calls,
                    failures: s.failures,
                })
                .collect(),
        }
    }
}

fn part(kind: &str, stage: Option<&str>) -> String {
    match (kind, stage) {
        (_, Some(s)) => format!("to {s}"),
        ("final", None) => "to complete".into(),
        ("running", None) => "since the last snapshot".into(),
        (k, None) => k.to_owned(),
    }
}

/// `show`: the calls by tool, the shell programs, the files, the calls per stage.
pub fn human(out: &mut dyn Write, w: &WorkReport, tty: bool) -> Result<()> {
    let t = &w.by_name.totals;
    writeln!(out)?;
    if t.calls == 0 {
        writeln!(out, "tool calls: none in its span")?;
        return Ok(());
    }
    writeln!(
        out,
        "tool calls: {} ({} failed)",
        thousands(t.calls),
        thousands(t.failures)
    )?;
    let mut tab = super::new_table(&["tool", "calls", "failed"], tty);
    for r in &w.by_name.rows {
        tab.add_row(vec![
            r.name.clone().unwrap_or_else(|| "(unnamed)".into()),
            thousands(r.calls),
            thousands(r.failures),
        ]);
    }
    super::write_table(out, &tab)?;
    if !w.by_command.rows.is_empty() {
        writeln!(out)?;
        let mut tab = super::new_table(&["command", "calls", "failed"], tty);
        for r in &w.by_command.rows {
            tab.add_row(vec![
                r.name.clone().unwrap_or_else(|| "(no program)".into()),
                thousands(r.calls),
                thousands(r.failures),
            ]);
        }
        super::write_table(out, &tab)?;
    }
    if !w.files.rows.is_empty() {
        writeln!(out)?;
        let mut tab = super::new_table(&["file", "reads", "edits"], tty);
        for f in &w.files.rows {
            tab.add_row(vec![
                crate::format::printable(&f.file_path, false).into_owned(),
                thousands(f.reads),
                thousands(f.edits),
            ]);
        }
        super::write_table(out, &tab)?;
    }
    if w.stages.len() > 1 {
        writeln!(out)?;
        let mut tab = super::new_table(&["part", "calls", "failed"], tty);
        for s in &w.stages {
            tab.add_row(vec![
                part(&s.kind, s.stage.as_deref()),
                thousands(s.calls),
                thousands(s.failures),
            ]);
        }
        super::write_table(out, &tab)?;
    }
    Ok(())
}

/// The md export's section for one analysis.
pub fn markdown(out: &mut dyn Write, w: &WorkReport, md: impl Fn(&str) -> String) -> Result<()> {
    let t = &w.by_name.totals;
    writeln!(
        out,
        "\n**Tool calls**: {} ({} failed)",
        thousands(t.calls),
        thousands(t.failures)
    )?;
    if t.calls == 0 {
        return Ok(());
    }
    writeln!(out, "\n| tool | calls | failed |\n|---|---:|---:|")?;
    for r in &w.by_name.rows {
        writeln!(
            out,
            "| {} | {} | {} |",
            md(r.name.as_deref().unwrap_or("(unnamed)")),
            thousands(r.calls),
            thousands(r.failures)
        )?;
    }
    if !w.by_command.rows.is_empty() {
        writeln!(out, "\n| command | calls | failed |\n|---|---:|---:|")?;
        for r in &w.by_command.rows {
            writeln!(
                out,
                "| {} | {} | {} |",
                md(r.name.as_deref().unwrap_or("(no program)")),
                thousands(r.calls),
                thousands(r.failures)
            )?;
        }
    }
    if !w.files.rows.is_empty() {
        writeln!(out, "\n| file | reads | edits |\n|---|---:|---:|")?;
        for f in &w.files.rows {
            writeln!(
                out,
                "| {} | {} | {} |",
                md(&f.file_path),
                thousands(f.reads),
                thousands(f.edits)
            )?;
        }
    }
    Ok(())
}
