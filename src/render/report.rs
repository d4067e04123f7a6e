//! `report` output: JSON documents, CSV, and tables that fit an 80-column terminal.
//!
//! On a terminal, tables are compact: counts are abbreviated (`1.2M`), ids and paths are cut,
//! and below 100 columns the widest reports drop columns (JSON and CSV keep everything, with
//! exact integers). Piped, tables are plain text with full numbers.

use std::io::Write;

use anyhow::Result;
use chrono::TimeZone;
use chrono_tz::Tz;
use comfy_table::{Cell, CellAlignment, ColumnConstraint, Table};
use serde::Serialize;

use super::human::{abbreviated, duration, tail, thousands};
use crate::reporting::{ModelLine, RowKey, UsageRow};
use crate::store::reports::ToolCallRow;
use crate::usage::{Tokens, format_ts_ms};

/// How to draw a table: on a terminal or not, its width when known (set in tests; a
/// terminal's own width otherwise), and the zone its times are shown in (JSON and CSV times
/// are UTC).
#[derive(Clone, Copy, Debug)]
pub struct Style {
    pub tty: bool,
    pub width: Option<u16>,
    pub tz: Tz,
}

impl Style {
    /// `2026-03-02 09:33` in the report's zone.
    fn time(self, ms: Option<i64>) -> String {
        ms.and_then(|ms| self.tz.timestamp_millis_opt(ms).single())
            .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
            .unwrap_or_else(|| "-".into())
    }

    fn table(self, header: &[&str]) -> Table {
        let mut t = super::new_table(header, self.tty);
        if let (true, Some(w)) = (self.tty, self.width) {
            t.set_width(w);
        }
        t
    }

    /// A terminal narrower than 100 columns (or of unknown width): the compact column set.
    fn narrow(self) -> bool {
        self.tty
            && self
                .width
                .or_else(|| Table::new().width())
                .is_none_or(|w| w < 100)
    }

    fn num(self, n: i64) -> String {
        if self.tty {
            abbreviated(n)
        } else {
            thousands(n)
        }
    }

    /// Session ids on a terminal: their first 8 characters (after Amp's `T-`), enough to tell
    /// sessions apart and to find them in `--json`.
    fn id(self, id: &str) -> String {
        if self.tty {
            let keep = if id.starts_with("T-") { 10 } else { 8 };
            id.chars().take(keep).collect()
        } else {
            id.to_owned()
        }
    }

    fn path(self, p: Option<&str>, max: usize) -> String {
        let p = p.unwrap_or("-");
        if self.tty { tail(p, max) } else { p.to_owned() }
    }

    fn model(self, m: Option<&str>) -> String {
        let m = m.unwrap_or("(unknown)");
        if self.tty {
            short_model(m).to_owned()
        } else {
            m.to_owned()
        }
    }
}

/// `claude-sonnet-4-5-20250929` → `claude-sonnet-4-5` (the date only tells versions apart
/// that a table row already keeps apart).
fn short_model(m: &str) -> &str {
    match m.rsplit_once('-') {
        Some((head, date)) if date.len() == 8 && date.bytes().all(|b| b.is_ascii_digit()) => head,
        _ => m,
    }
}

fn cost_cell(c: Option<f64>) -> String {
    c.map_or_else(|| "-".into(), |c| format!("${c:.2}"))
}

/// Right-align the given columns; numbers never wrap (text columns take what is left).
fn numeric(t: &mut Table, cols: impl IntoIterator<Item = usize>) {
    for i in cols {
        if let Some(c) = t.column_mut(i) {
            c.set_cell_alignment(CellAlignment::Right);
            c.set_constraint(ColumnConstraint::ContentWidth);
        }
    }
}

// ------------------------------------------------------------------------------- usage

/// A usage report ready to print.
pub struct UsageReport<'a> {
    /// `daily`, `weekly`, `monthly`, `session` or `model`.
    pub kind: &'a str,
    /// Time reports: the zone days are cut in, and the first day of a week.
    pub time_zone: Option<String>,
    pub week_start: Option<&'a str>,
    pub rows: &'a [UsageRow],
    pub totals: (Tokens, Option<f64>),
    /// Time reports: responses without a time (left out), and their tokens.
    pub untimed: Option<(i64, Tokens)>,
    pub breakdown: bool,
}

#[derive(Serialize)]
struct Amounts<'a> {
    #[serde(flatten)]
    tokens: &'a Tokens,
    total_tokens: i64,
    cost_usd: Option<f64>,
}

impl<'a> Amounts<'a> {
    fn new(tokens: &'a Tokens, cost_usd: Option<f64>) -> Self {
        Amounts {
            tokens,
            total_tokens: tokens.total(),
            cost_usd,
        }
    }
}

#[derive(Serialize)]
#[serde(untagged)]
enum KeyJson<'a> {
    Period {
        period: &'a str,
        models: Vec<&'a str>,
    },
    Session {
        tool: &'a str,
        session_id: &'a str,
        project: Option<&'a str>,
        first_timestamp: Option<String>,
        last_timestamp: Option<String>,
        models: Vec<&'a str>,
    },
    Model {
        model: Option<&'a str>,
        tools: &'a [String],
    },
}

#[derive(Serialize)]
struct ModelJson<'a> {
    model: Option<&'a str>,
    #[serde(flatten)]
    amounts: Amounts<'a>,
}

#[derive(Serialize)]
struct RowJson<'a> {
    #[serde(flatten)]
    key: KeyJson<'a>,
    #[serde(flatten)]
    amounts: Amounts<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    breakdown: Option<Vec<ModelJson<'a>>>,
}

fn named_models(models: &[ModelLine]) -> Vec<&str> {
    models.iter().filter_map(|m| m.model.as_deref()).collect()
}

impl<'a> RowJson<'a> {
    fn new(r: &'a UsageRow, breakdown: bool) -> Self {
        let key = match &r.key {
            RowKey::Period(p) => KeyJson::Period {
                period: p,
                models: named_models(&r.models),
            },
            RowKey::Session {
                tool,
                session_id,
                project,
                first_ms,
                last_ms,
            } => KeyJson::Session {
                tool,
                session_id,
                project: project.as_deref(),
                first_timestamp: first_ms.map(format_ts_ms),
                last_timestamp: last_ms.map(format_ts_ms),
                models: named_models(&r.models),
            },
            RowKey::Model { model, tools } => KeyJson::Model {
                model: model.as_deref(),
                tools,
            },
        };
        RowJson {
            key,
            amounts: Amounts::new(&r.tokens, r.cost_usd),
            breakdown: breakdown.then(|| {
                r.models
                    .iter()
                    .map(|m| ModelJson {
                        model: m.model.as_deref(),
                        amounts: Amounts::new(&m.tokens, m.cost_usd),
                    })
                    .collect()
            }),
        }
    }
}

#[derive(Serialize)]
struct Untimed {
    responses: i64,
    total_tokens: i64,
}

pub fn usage_json(out: &mut dyn Write, r: &UsageReport<'_>) -> Result<()> {
    #[derive(Serialize)]
    struct Doc<'a> {
        report: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        time_zone: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        week_start: Option<&'a str>,
        rows: Vec<RowJson<'a>>,
        totals: Amounts<'a>,
        #[serde(skip_serializing_if = "Option::is_none")]
        untimed: Option<Untimed>,
    }
    super::write_json(
        out,
        &Doc {
            report: r.kind,
            time_zone: r.time_zone.as_deref(),
            week_start: r.week_start,
            rows: r
                .rows
                .iter()
                .map(|x| RowJson::new(x, r.breakdown))
                .collect(),
            totals: Amounts::new(&r.totals.0, r.totals.1),
            untimed: r.untimed.map(|(n, t)| Untimed {
                responses: n,
                total_tokens: t.total(),
            }),
        },
    )
}

const BUCKET_HEADER: [&str; 10] = [
    "input_tokens",
    "cache_creation_tokens",
    "cache_creation_5m_tokens",
    "cache_creation_1h_tokens",
    "cache_read_tokens",
    "output_tokens",
    "reasoning_tokens",
    "total_tokens",
    "cost_usd",
    "",
];

fn bucket_fields(t: &Tokens, cost: Option<f64>) -> Vec<String> {
    vec![
        t.input_tokens.to_string(),
        t.cache_creation_tokens.to_string(),
        t.cache_creation_5m_tokens.to_string(),
        t.cache_creation_1h_tokens.to_string(),
        t.cache_read_tokens.to_string(),
        t.output_tokens.to_string(),
        t.reasoning_tokens.to_string(),
        t.total().to_string(),
        cost.map(|c| c.to_string()).unwrap_or_default(),
    ]
}

fn key_fields(k: &RowKey) -> Vec<String> {
    match k {
        RowKey::Period(p) => vec![p.clone()],
        RowKey::Session {
            tool,
            session_id,
            project,
            first_ms,
            last_ms,
        } => vec![
            tool.clone(),
            session_id.clone(),
            project.clone().unwrap_or_default(),
            first_ms.map(format_ts_ms).unwrap_or_default(),
            last_ms.map(format_ts_ms).unwrap_or_default(),
        ],
        RowKey::Model { model, tools } => {
            vec![model.clone().unwrap_or_default(), tools.join(";")]
        }
    }
}

fn key_header(kind: &str) -> Vec<&'static str> {
    match kind {
        "session" => vec![
            "tool",
            "session_id",
            "project",
            "first_timestamp",
            "last_timestamp",
        ],
        "model" => vec!["model", "tools"],
        _ => vec!["period"],
    }
}

/// CSV: a header and one line per row; with `--breakdown`, one line per row and model.
pub fn usage_csv(out: &mut dyn Write, r: &UsageReport<'_>) -> Result<()> {
    let mut header = key_header(r.kind);
    let by_model = r.breakdown && r.kind != "model";
    if by_model {
        header.push("model");
    }
    header.extend_from_slice(&BUCKET_HEADER[..9]);
    if !by_model && r.kind != "model" {
        header.push("models");
    }
    super::write_csv_line(out, &header)?;
    for row in r.rows {
        let key = key_fields(&row.key);
        if by_model {
            for m in &row.models {
                let mut f = key.clone();
                f.push(m.model.clone().unwrap_or_default());
                f.extend(bucket_fields(&m.tokens, m.cost_usd));
                super::write_csv_line(out, &f)?;
            }
        } else {
            let mut f = key;
            f.extend(bucket_fields(&row.tokens, row.cost_usd));
            if r.kind != "model" {
                f.push(named_models(&row.models).join(";"));
            }
            super::write_csv_line(out, &f)?;
        }
    }
    Ok(())
}

pub fn usage_table(out: &mut dyn Write, r: &UsageReport<'_>, style: Style) -> Result<()> {
    if r.rows.is_empty() {
        writeln!(out, "no usage in this range")?;
        return Ok(());
    }
    let narrow = style.narrow();
    let (cw, cr) = if style.tty {
        ("cache w", "cache r")
    } else {
        ("cache write", "cache read")
    };
    // The key columns; what each row puts in them; which one a breakdown line names its
    // model in.
    let (mut header, model_col): (Vec<&str>, usize) = match r.kind {
        "session" if narrow => (vec!["agent", "session", "project"], 2),
        "session" => (vec!["agent", "session", "project", "last"], 2),
        "model" if narrow => (vec!["model"], 0),
        "model" => (vec!["model", "agents"], 0),
        "weekly" => (vec!["week of"], 0),
        "monthly" => (vec!["month"], 0),
        _ => (vec!["date"], 0),
    };
    let keys = header.len();
    // Narrow session tables keep the token columns people compare first.
    let full_buckets = !(narrow && r.kind == "session");
    if full_buckets {
        header.extend(["input", cw, cr, "output", "total", "cost"]);
    } else {
        header.extend(["input", "output", "total", "cost"]);
    }
    let amounts = |t: &Tokens, c: Option<f64>| -> Vec<String> {
        let mut v = vec![style.num(t.input_tokens)];
        if full_buckets {
            v.push(style.num(t.cache_creation_tokens));
            v.push(style.num(t.cache_read_tokens));
        }
        v.push(style.num(t.output_tokens));
        v.push(style.num(t.total()));
        v.push(cost_cell(c));
        v
    };
    let mut t = style.table(&header);
    for row in r.rows {
        let mut cells: Vec<String> = match &row.key {
            RowKey::Period(p) => vec![p.clone()],
            RowKey::Session {
                tool,
                session_id,
                project,
                last_ms,
                ..
            } => {
                let mut v = vec![
                    tool.clone(),
                    style.id(session_id),
                    style.path(project.as_deref(), if narrow { 18 } else { 32 }),
                ];
                if !narrow {
                    v.push(style.time(*last_ms));
                }
                v
            }
            RowKey::Model { model, tools } => {
                let mut v = vec![style.model(model.as_deref())];
                if !narrow {
                    v.push(tools.join(", "));
                }
                v
            }
        };
        cells.extend(amounts(&row.tokens, row.cost_usd));
        t.add_row(cells);
        if r.breakdown && r.kind != "model" {
            for m in &row.models {
                let mut cells = vec![String::new(); keys];
                cells[model_col] = format!("└ {}", style.model(m.model.as_deref()));
                cells.extend(amounts(&m.tokens, m.cost_usd));
                t.add_row(cells);
            }
        }
    }
    let mut total = vec![String::new(); keys];
    total[0] = "total".into();
    total.extend(amounts(&r.totals.0, r.totals.1));
    t.add_row(total.into_iter().map(Cell::new).collect::<Vec<_>>());
    numeric(&mut t, keys..header.len());
    super::write_table(out, &t)
}

// ------------------------------------------------------------------------------- tools

/// Calls of one tool name by one agent.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ToolStatsRow {
    pub tool: String,
    pub name: Option<String>,
    pub calls: i64,
    pub failures: i64,
    pub successes: i64,
    pub unknown: i64,
    pub error_rate: Option<f64>,
    pub median_duration_ms: Option<i64>,
    /// How many calls the median is taken over.
    pub durations_known: i64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ToolTotals {
    pub calls: i64,
    pub failures: i64,
    pub successes: i64,
    pub unknown: i64,
    pub error_rate: Option<f64>,
}

pub fn tools_json(out: &mut dyn Write, rows: &[ToolStatsRow], totals: &ToolTotals) -> Result<()> {
    #[derive(Serialize)]
    struct Doc<'a> {
        report: &'static str,
        rows: &'a [ToolStatsRow],
        totals: &'a ToolTotals,
    }
    super::write_json(
        out,
        &Doc {
            report: "tools",
            rows,
            totals,
        },
    )
}

fn opt_string<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

pub fn tools_csv(out: &mut dyn Write, rows: &[ToolStatsRow]) -> Result<()> {
    super::write_csv_line(
        out,
        &[
            "tool",
            "name",
            "calls",
            "failures",
            "successes",
            "unknown",
            "error_rate",
            "median_duration_ms",
            "durations_known",
        ],
    )?;
    for r in rows {
        super::write_csv_line(
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

fn percent(r: Option<f64>) -> String {
    r.map_or_else(|| "-".into(), |r| format!("{:.0}%", r * 100.0))
}

pub fn tools_table(
    out: &mut dyn Write,
    rows: &[ToolStatsRow],
    totals: &ToolTotals,
    style: Style,
) -> Result<()> {
    if rows.is_empty() {
        writeln!(out, "no tool calls in this range")?;
        return Ok(());
    }
    let unknown = totals.unknown > 0;
    let mut header = vec!["agent", "tool", "calls", "failed", "error %"];
    if unknown {
        header.push("no result");
    }
    header.push("median");
    let mut t = style.table(&header);
    let line = |agent: &str, name: &str, calls, failures, unk, rate, median: String| {
        let mut v = vec![
            agent.to_owned(),
            name.to_owned(),
            style.num(calls),
            style.num(failures),
            percent(rate),
        ];
        if unknown {
            v.push(style.num(unk));
        }
        v.push(median);
        v
    };
    for r in rows {
        t.add_row(line(
            &r.tool,
            r.name.as_deref().unwrap_or("(unnamed)"),
            r.calls,
            r.failures,
            r.unknown,
            r.error_rate,
            r.median_duration_ms.map_or_else(|| "-".into(), duration),
        ));
    }
    t.add_row(line(
        "total",
        "",
        totals.calls,
        totals.failures,
        totals.unknown,
        totals.error_rate,
        String::new(),
    ));
    numeric(&mut t, 2..header.len());
    super::write_table(out, &t)
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

impl<'a> From<&'a ToolCallRow> for CallJson<'a> {
    fn from(c: &'a ToolCallRow) -> Self {
        CallJson {
            tool: &c.tool,
            session_id: &c.session_id,
            project: c.project.as_deref(),
            call_id: &c.call_id,
            name: c.name.as_deref(),
            called_at: c.called_at_ms.map(format_ts_ms),
            result_at: c.result_at_ms.map(format_ts_ms),
            failed: c.failed,
            duration_ms: c.duration_ms,
            file_path: c.file_path.as_deref(),
        }
    }
}

pub fn calls_json(out: &mut dyn Write, calls: &[ToolCallRow], totals: &ToolTotals) -> Result<()> {
    #[derive(Serialize)]
    struct Doc<'a> {
        report: &'static str,
        calls: Vec<CallJson<'a>>,
        totals: &'a ToolTotals,
    }
    super::write_json(
        out,
        &Doc {
            report: "tools",
            calls: calls.iter().map(CallJson::from).collect(),
            totals,
        },
    )
}

fn outcome(failed: Option<bool>) -> &'static str {
    match failed {
        Some(true) => "failed",
        Some(false) => "ok",
        None => "-",
    }
}

pub fn calls_csv(out: &mut dyn Write, calls: &[ToolCallRow]) -> Result<()> {
    super::write_csv_line(
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
    for c in calls {
        super::write_csv_line(
            out,
            &[
                c.tool.clone(),
                c.session_id.clone(),
                c.project.clone().unwrap_or_default(),
                c.call_id.clone(),
                c.name.clone().unwrap_or_default(),
                c.called_at_ms.map(format_ts_ms).unwrap_or_default(),
                c.result_at_ms.map(format_ts_ms).unwrap_or_default(),
                opt_string(c.failed),
                opt_string(c.duration_ms),
                c.file_path.clone().unwrap_or_default(),
            ],
        )?;
    }
    Ok(())
}

pub fn calls_table(out: &mut dyn Write, calls: &[ToolCallRow], style: Style) -> Result<()> {
    if calls.is_empty() {
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
    for c in calls {
        let mut time = style.time(c.called_at_ms.or(c.result_at_ms));
        if narrow && time.len() > 5 {
            time = time.split_off(5);
        }
        let mut row = vec![time, c.tool.clone()];
        if !narrow {
            row.push(style.id(&c.session_id));
        }
        row.extend([
            c.name.clone().unwrap_or_else(|| "(unnamed)".into()),
            outcome(c.failed).to_owned(),
            c.duration_ms.map_or_else(|| "-".into(), duration),
            style.path(c.file_path.as_deref(), if narrow { 20 } else { 32 }),
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
    super::write_table(out, &t)
}

// ------------------------------------------------------------------------------- files

/// One file: how often it was read and edited, by any agent.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FileRow {
    pub file_path: String,
    pub reads: i64,
    pub edits: i64,
    /// Reads and edits that failed.
    pub failures: i64,
    pub sessions: i64,
    pub tools: Vec<String>,
    pub last_at: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct FileTotals {
    pub files: i64,
    pub reads: i64,
    pub edits: i64,
    pub failures: i64,
}

pub fn files_json(out: &mut dyn Write, rows: &[FileRow], totals: &FileTotals) -> Result<()> {
    #[derive(Serialize)]
    struct Doc<'a> {
        report: &'static str,
        rows: &'a [FileRow],
        totals: &'a FileTotals,
    }
    super::write_json(
        out,
        &Doc {
            report: "files",
            rows,
            totals,
        },
    )
}

pub fn files_csv(out: &mut dyn Write, rows: &[FileRow]) -> Result<()> {
    super::write_csv_line(
        out,
        &[
            "file_path",
            "reads",
            "edits",
            "failures",
            "sessions",
            "tools",
            "last_at",
        ],
    )?;
    for r in rows {
        super::write_csv_line(
            out,
            &[
                r.file_path.clone(),
                r.reads.to_string(),
                r.edits.to_string(),
                r.failures.to_string(),
                r.sessions.to_string(),
                r.tools.join(";"),
                r.last_at.clone().unwrap_or_default(),
            ],
        )?;
    }
    Ok(())
}

pub fn files_table(out: &mut dyn Write, rows: &[FileRow], style: Style) -> Result<()> {
    if rows.is_empty() {
        writeln!(out, "no file reads or edits in this range")?;
        return Ok(());
    }
    let narrow = style.narrow();
    let mut header = vec!["file", "reads", "edits", "failed", "sessions"];
    if !narrow {
        header.push("agents");
    }
    let mut t = style.table(&header);
    for r in rows {
        let mut row = vec![
            style.path(Some(&r.file_path), if narrow { 36 } else { 48 }),
            style.num(r.reads),
            style.num(r.edits),
            style.num(r.failures),
            style.num(r.sessions),
        ];
        if !narrow {
            row.push(r.tools.join(", "));
        }
        t.add_row(row);
    }
    numeric(&mut t, 1..5);
    super::write_table(out, &t)
}

// ------------------------------------------------------------------------------- compactions

/// One session's compactions.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CompactionStatsRow {
    pub tool: String,
    pub session_id: String,
    pub project: Option<String>,
    pub compactions: i64,
    /// Of which: the context was summarised (`compact`) or old tool output cleared
    /// (`microcompact`, Claude).
    pub compact: i64,
    pub microcompact: i64,
    pub auto: i64,
    pub manual: i64,
    pub max_pre_tokens: Option<i64>,
    pub first_at: Option<String>,
    pub last_at: Option<String>,
    #[serde(skip)]
    pub first_ms: Option<i64>,
    #[serde(skip)]
    pub last_ms: Option<i64>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct CompactionTotals {
    pub compactions: i64,
    pub sessions: i64,
}

pub fn compactions_json(
    out: &mut dyn Write,
    rows: &[CompactionStatsRow],
    totals: &CompactionTotals,
) -> Result<()> {
    #[derive(Serialize)]
    struct Doc<'a> {
        report: &'static str,
        rows: &'a [CompactionStatsRow],
        totals: &'a CompactionTotals,
    }
    super::write_json(
        out,
        &Doc {
            report: "compactions",
            rows,
            totals,
        },
    )
}

pub fn compactions_csv(out: &mut dyn Write, rows: &[CompactionStatsRow]) -> Result<()> {
    super::write_csv_line(
        out,
        &[
            "tool",
            "session_id",
            "project",
            "compactions",
            "compact",
            "microcompact",
            "auto",
            "manual",
            "max_pre_tokens",
            "first_at",
            "last_at",
        ],
    )?;
    for r in rows {
        super::write_csv_line(
            out,
            &[
                r.tool.clone(),
                r.session_id.clone(),
                r.project.clone().unwrap_or_default(),
                r.compactions.to_string(),
                r.compact.to_string(),
                r.microcompact.to_string(),
                r.auto.to_string(),
                r.manual.to_string(),
                opt_string(r.max_pre_tokens),
                r.first_at.clone().unwrap_or_default(),
                r.last_at.clone().unwrap_or_default(),
            ],
        )?;
    }
    Ok(())
}

pub fn compactions_table(
    out: &mut dyn Write,
    rows: &[CompactionStatsRow],
    totals: &CompactionTotals,
    style: Style,
) -> Result<()> {
    if rows.is_empty() {
        writeln!(out, "no compactions in this range")?;
        return Ok(());
    }
    let mut t = style.table(&[
        "agent", "session", "project", "count", "auto", "manual", "last",
    ]);
    for r in rows {
        t.add_row(vec![
            r.tool.clone(),
            style.id(&r.session_id),
            style.path(r.project.as_deref(), 18),
            style.num(r.compactions),
            style.num(r.auto),
            style.num(r.manual),
            style.time(r.last_ms),
        ]);
    }
    t.add_row(vec![
        "total".to_owned(),
        String::new(),
        format!("{} sessions", totals.sessions),
        style.num(totals.compactions),
        String::new(),
        String::new(),
        String::new(),
    ]);
    numeric(&mut t, 3..6);
    super::write_table(out, &t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reporting::{NoPrices, Usage, priced};

    fn big(n: i64) -> Tokens {
        Tokens {
            input_tokens: 12 * n,
            cache_creation_tokens: 345 * n,
            cache_creation_5m_tokens: 345 * n,
            cache_read_tokens: 98_765 * n,
            output_tokens: 4_321 * n,
            ..Tokens::default()
        }
    }

    fn rows() -> Vec<UsageRow> {
        let mut u = Usage::default();
        u.add("claude-sonnet-4-5-20250929", &big(100_000), Some(0));
        u.add("gpt-5-codex", &big(7_000), Some(0));
        u.add("", &big(1), None);
        vec![
            priced(RowKey::Period("2026-03-02".into()), &u, &NoPrices),
            priced(
                RowKey::Session {
                    tool: "claude".into(),
                    session_id: "11111111-1111-4111-8111-111111111111".into(),
                    project: Some("/home/someone/projects/a-rather-long-project-name".into()),
                    first_ms: Some(0),
                    last_ms: Some(1_772_442_000_000),
                },
                &u,
                &NoPrices,
            ),
            priced(
                RowKey::Model {
                    model: Some("claude-sonnet-4-5-20250929".into()),
                    tools: vec!["amp".into(), "claude".into()],
                },
                &u,
                &NoPrices,
            ),
        ]
    }

    /// Every report, on an 80-column terminal, with ten-billion-token rows and a breakdown.
    #[test]
    fn tables_fit_80_columns_on_a_terminal() {
        let style = Style {
            tty: true,
            width: Some(80),
            tz: Tz::UTC,
        };
        let all = rows();
        for (kind, row) in [
            ("daily", &all[0]),
            ("weekly", &all[0]),
            ("session", &all[1]),
            ("model", &all[2]),
        ] {
            let rows = vec![row.clone(), row.clone()];
            let report = UsageReport {
                kind,
                time_zone: None,
                week_start: None,
                rows: &rows,
                totals: crate::reporting::totals(&rows),
                untimed: None,
                breakdown: true,
            };
            let mut out = Vec::new();
            usage_table(&mut out, &report, style).unwrap();
            let text = String::from_utf8(out).unwrap();
            for line in text.lines() {
                assert!(line.chars().count() <= 80, "{kind}: {line:?}\n{text}");
            }
            assert!(text.contains("11.1B"), "{kind}: abbreviated\n{text}");
            // One line per row and model: nothing wrapped.
            let lines_per_row = if kind == "model" { 1 } else { 4 };
            assert_eq!(
                text.lines().count(),
                4 + 2 * lines_per_row + 1,
                "{kind}\n{text}"
            );
        }
        let stats = vec![ToolStatsRow {
            tool: "claude".into(),
            name: Some("mcp__playwright__browser_navigate".into()),
            calls: 123_456_789,
            failures: 1_234_567,
            successes: 122_222_222,
            unknown: 0,
            error_rate: Some(0.01),
            median_duration_ms: Some(2_500),
            durations_known: 1,
        }];
        let mut out = Vec::new();
        tools_table(&mut out, &stats, &ToolTotals::default(), style).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.lines().all(|l| l.chars().count() <= 80), "{text}");

        let long = "/home/someone/work/a-project/with/deeply/nested/sources/of_a_long_name.rs";
        let call = ToolCallRow {
            tool: "claude".into(),
            session_id: "11111111-1111-4111-8111-111111111111".into(),
            project: None,
            call_id: "toolu_1".into(),
            name: Some("mcp__playwright__browser_navigate".into()),
            called_at_ms: Some(1_772_442_000_000),
            result_at_ms: None,
            failed: Some(true),
            duration_ms: Some(3_723_000),
            file_path: Some(long.into()),
        };
        let mut out = Vec::new();
        calls_table(&mut out, &[call], style).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.lines().all(|l| l.chars().count() <= 80), "{text}");
        let file = FileRow {
            file_path: long.into(),
            reads: 123_456,
            edits: 7_890_123,
            failures: 45_678,
            sessions: 12_345,
            tools: vec!["amp".into(), "claude".into(), "codex".into()],
            last_at: None,
        };
        let mut out = Vec::new();
        files_table(&mut out, &[file], style).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.lines().all(|l| l.chars().count() <= 80), "{text}");
        assert_eq!(text.lines().count(), 5, "one line per file:\n{text}");
    }

    #[test]
    fn piped_tables_are_plain_with_full_numbers() {
        let style = Style {
            tty: false,
            width: None,
            tz: Tz::UTC,
        };
        let rows = rows();
        let report = UsageReport {
            kind: "daily",
            time_zone: None,
            week_start: None,
            rows: &rows[..1],
            totals: crate::reporting::totals(&rows[..1]),
            untimed: None,
            breakdown: false,
        };
        let mut out = Vec::new();
        usage_table(&mut out, &report, style).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("11,068,504,443"), "{text}");
        assert!(!text.contains('│'), "no borders when piped:\n{text}");
    }
}
