//! `report tools`: per agent and tool name, or every call (`--calls`).

use std::io::Write;

use anyhow::Result;
use comfy_table::{Cell, CellAlignment, ColumnConstraint};
use serde::Serialize;

use super::{Report, Style, numeric, opt_string, utc};
use crate::render::human::duration;
use crate::render::{paint, write_csv_line, write_json, write_table};
use crate::reports::tools::{Call, CallsReport, ToolStatsRow, ToolTotals, ToolsBy, ToolsReport};

/// A row: `name` is the tool's name, or with `--by command`, `command` the program.
#[derive(Serialize)]
pub(crate) struct RowJson<'a> {
    tool: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<Option<&'a str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    command: Option<Option<&'a str>>,
    calls: i64,
    failures: i64,
    successes: i64,
    unknown: i64,
    error_rate: Option<f64>,
    median_duration_ms: Option<i64>,
    durations_known: i64,
}

impl<'a> RowJson<'a> {
    pub(crate) fn new(r: &'a ToolStatsRow, by: ToolsBy) -> Self {
        let key = Some(r.name.as_deref());
        RowJson {
            tool: &r.tool,
            name: key.filter(|_| by == ToolsBy::Name),
            command: key.filter(|_| by == ToolsBy::Command),
            calls: r.calls,
            failures: r.failures,
            successes: r.successes,
            unknown: r.unknown,
            error_rate: r.error_rate,
            median_duration_ms: r.median_duration_ms,
            durations_known: r.durations_known,
        }
    }
}

#[derive(Serialize)]
struct TotalsJson {
    calls: i64,
    failures: i64,
    successes: i64,
    unknown: i64,
    error_rate: Option<f64>,
}

impl From<&ToolTotals> for TotalsJson {
    fn from(t: &ToolTotals) -> Self {
        TotalsJson {
            calls: t.calls,
            failures: t.failures,
            successes: t.successes,
            unknown: t.unknown,
            error_rate: t.error_rate,
        }
    }
}

fn percent(r: Option<f64>) -> String {
    r.map_or_else(|| "-".into(), |r| format!("{:.0}%", r * 100.0))
}

impl ToolsReport {
    /// The JSON and CSV name of what a row is per.
    fn key_name(&self) -> &'static str {
        match self.by {
            ToolsBy::Name => "name",
            ToolsBy::Command => "command",
        }
    }
}

impl Report for ToolsReport {
    fn json(&self, out: &mut dyn Write) -> Result<()> {
        super::write_rows_json(
            out,
            "tools",
            self.rows.iter().map(|r| RowJson::new(r, self.by)).collect(),
            TotalsJson::from(&self.totals),
        )
    }

    fn csv(&self, out: &mut dyn Write) -> Result<()> {
        write_csv_line(
            out,
            &[
                "tool",
                self.key_name(),
                "calls",
                "failures",
                "successes",
                "unknown",
                "error_rate",
                "median_duration_ms",
                "durations_known",
            ],
        )?;
        for r in &self.rows {
            write_csv_line(
                out,
                &[
                    r.tool.clone(),
                    r.name.clone().unwrap_or_default(),
                    r.calls.to_string(),
                    r.failures.to_string(),
                    r.successes.to_string(),
                    r.unknown.to_string(),
                    opt_string(r.error_rate),
                    opt_string(r.median_duration_ms),
                    r.durations_known.to_string(),
                ],
            )?;
        }
        Ok(())
    }

    fn table(&self, out: &mut dyn Write, style: Style) -> Result<()> {
        let (rows, totals) = (&self.rows, &self.totals);
        if rows.is_empty() {
            writeln!(out, "no tool calls in this range")?;
            return Ok(());
        }
        let unknown = totals.unknown > 0;
        let what = match self.by {
            ToolsBy::Name => "tool",
            ToolsBy::Command => "command",
        };
        let mut header = vec!["agent", what, "calls", "failed", "error %"];
        if unknown {
            header.push("no result");
        }
        header.push("median");
        let mut t = style.table(&header);
        let line = |agent: &str, name: &str, calls, failures, unk, rate, median: String| {
            let mut v = vec![
                Cell::new(agent),
                Cell::new(name),
                Cell::new(style.num(calls)),
                paint::failures(style.num(failures), failures),
                Cell::new(percent(rate)),
            ];
            if unknown {
                v.push(Cell::new(style.num(unk)));
            }
            v.push(Cell::new(median));
            v
        };
        for r in rows {
            t.add_row(line(
                &r.tool,
                r.name.as_deref().unwrap_or(match self.by {
                    ToolsBy::Name => "(unnamed)",
                    ToolsBy::Command => "(no program)",
                }),
                r.calls,
                r.failures,
                r.unknown,
                r.error_rate,
                r.median_duration_ms.map_or_else(|| "-".into(), duration),
            ));
        }
        let total = line(
            "total",
            "",
            totals.calls,
            totals.failures,
            totals.unknown,
            totals.error_rate,
            String::new(),
        );
        t.add_row(paint::total_row(total.iter().map(Cell::content)));
        numeric(&mut t, 2..header.len());
        write_table(out, &t)
    }
}

/// `report tools --calls`: every call.
#[derive(Serialize)]
struct CallJson<'a> {
    tool: &'a str,
    session_id: &'a str,
    project: Option<&'a str>,
    call_id: &'a str,
    name: Option<&'a str>,
    called_at: Option<String>,
    result_at: Option<String>,
    failed: Option<bool>,
    duration_ms: Option<i64>,
    file_path: Option<&'a str>,
}

impl<'a> From<&'a Call> for CallJson<'a> {
    fn from(c: &'a Call) -> Self {
        CallJson {
            tool: &c.tool,
            session_id: &c.session_id,
            project: c.project.as_deref(),
            call_id: &c.call_id,
            name: c.name.as_deref(),
            called_at: utc(c.called_at_ms),
            result_at: utc(c.result_at_ms),
            failed: c.failed,
            duration_ms: c.duration_ms,
            file_path: c.file_path.as_deref(),
        }
    }
}

fn outcome(failed: Option<bool>) -> &'static str {
    match failed {
        Some(true) => "failed",
        Some(false) => "ok",
        None => "-",
    }
}

impl Report for CallsReport {
    fn json(&self, out: &mut dyn Write) -> Result<()> {
        #[derive(Serialize)]
        struct Doc<'a> {
            report: &'static str,
            calls: Vec<CallJson<'a>>,
            totals: TotalsJson,
        }
        write_json(
            out,
            &Doc {
                report: "tools",
                calls: self.calls.iter().map(CallJson::from).collect(),
                totals: TotalsJson::from(&self.totals),
            },
        )
    }

    fn csv(&self, out: &mut dyn Write) -> Result<()> {
        write_csv_line(
            out,
            &[
                "tool",
                "session_id",
                "project",
                "call_id",
                "name",
                "called_at",
                "result_at",
                "failed",
                "duration_ms",
                "file_path",
            ],
        )?;
        for c in &self.calls {
            write_csv_line(
                out,
                &[
                    c.tool.clone(),
                    c.session_id.clone(),
                    c.project.clone().unwrap_or_default(),
                    c.call_id.clone(),
                    c.name.clone().unwrap_or_default(),
                    utc(c.called_at_ms).unwrap_or_default(),
                    utc(c.result_at_ms).unwrap_or_default(),
                    opt_string(c.failed),
                    opt_string(c.duration_ms),
                    c.file_path.clone().unwrap_or_default(),
                ],
            )?;
        }
        Ok(())
    }

    fn table(&self, out: &mut dyn Write, style: Style) -> Result<()> {
        if self.calls.is_empty() {
            writeln!(out, "no tool calls in this range")?;
            return Ok(());
        }
        // Narrow: no session column, and the time without its year.
        let narrow = style.narrow();
        let mut header = vec!["time", "agent"];
        if !narrow {
            header.push("session");
        }
        header.extend(["tool", "result", "duration", "file"]);
        let mut t = style.table(&header);
        for c in &self.calls {
            let mut time = style.time(c.at_ms());
            if narrow && time.len() > 5 {
                time = time.split_off(5);
            }
            let mut row = vec![Cell::new(time), Cell::new(&c.tool)];
            if !narrow {
                row.push(Cell::new(style.id(&c.session_id)));
            }
            row.extend([
                Cell::new(c.name.as_deref().unwrap_or("(unnamed)")),
                paint::status(outcome(c.failed)),
                Cell::new(c.duration_ms.map_or_else(|| "-".into(), duration)),
                Cell::new(style.path(c.file_path.as_deref(), if narrow { 20 } else { 32 })),
            ]);
            t.add_row(row);
        }
        let n = header.len();
        // Short columns never wrap; the tool name and the file share what is left.
        for i in [0, 1, n - 3, n - 2] {
            if let Some(c) = t.column_mut(i) {
                c.set_constraint(ColumnConstraint::ContentWidth);
            }
        }
        if let Some(c) = t.column_mut(n - 2) {
            c.set_cell_alignment(CellAlignment::Right);
        }
        write_table(out, &t)
    }
}
