//! `report` output: JSON documents, CSV, and tables that fit an 80-column terminal. The rows
//! are computed in `crate::reports`; here they are only written, in the [`Format`] asked for.
//!
//! On a terminal, tables are compact: counts are abbreviated (`1.2M`), ids and paths are cut,
//! and below 100 columns the widest reports drop columns (JSON and CSV keep everything, with
//! exact integers). Piped, tables are plain text with full numbers.

mod blocks;
mod compactions;
mod files;
mod tools;
mod usage;

use std::io::Write;

use anyhow::Result;
use chrono::TimeZone;
use chrono_tz::Tz;
use comfy_table::{CellAlignment, ColumnConstraint, Table};

use super::human::{abbreviated, tail, thousands};

pub(crate) use tools::RowJson as ToolRowJson;
pub use usage::{unpriced_note, untimed_note};

/// How a report is written, chosen once from the command's flags: a table (the default),
/// one JSON document (`--json`) or CSV (`--csv`).
#[derive(Clone, Copy, Debug)]
pub enum Format {
    Table(Style),
    Json,
    Csv,
}

/// A computed report that can be written in every [`Format`].
pub trait Report {
    /// A table for people.
    fn table(&self, out: &mut dyn Write, style: Style) -> Result<()>;
    /// One JSON document; times are UTC (RFC 3339), numbers exact.
    fn json(&self, out: &mut dyn Write) -> Result<()>;
    /// A header line, then one line per row.
    fn csv(&self, out: &mut dyn Write) -> Result<()>;

    fn print(&self, format: Format, out: &mut dyn Write) -> Result<()> {
        match format {
            Format::Table(style) => self.table(out, style),
            Format::Json => self.json(out),
            Format::Csv => self.csv(out),
        }
    }
}

/// How to draw a table: on a terminal or not, its width when known (set in tests; a
/// terminal's own width otherwise), and the zone its times are shown in (JSON and CSV times
/// are UTC).
#[derive(Clone, Copy, Debug)]
pub struct Style {
    pub tty: bool,
    pub width: Option<u16>,
    pub tz: Tz,
    /// How many characters of a session id a table shows: enough to tell the ledger's
    /// sessions apart (at least 8), so what it shows can be typed back as `--session`.
    pub id_len: usize,
}

/// From this many columns, tables show whole session ids.
const WIDE: u16 = 160;

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

    /// Session ids on a terminal: as git shows hashes, the first characters that tell the
    /// ledger's sessions apart (`id_len`, at least 8 after Amp's `T-`), which `--session`
    /// takes back; whole on a terminal of 160 columns or more, and when piped.
    fn id(self, id: &str) -> String {
        let wide = self
            .width
            .or_else(|| Table::new().width())
            .is_some_and(|w| w >= WIDE);
        if self.tty && !wide {
            let min = if id.starts_with("T-") { 10 } else { 8 };
            id.chars().take(self.id_len.max(min)).collect()
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

/// Right-align the given columns; numbers never wrap (text columns take what is left).
fn numeric(t: &mut Table, cols: impl IntoIterator<Item = usize>) {
    for i in cols {
        if let Some(c) = t.column_mut(i) {
            c.set_cell_alignment(CellAlignment::Right);
            c.set_constraint(ColumnConstraint::ContentWidth);
        }
    }
}

/// A CSV field: the value, or empty for none.
fn opt_string<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

/// A time in JSON and CSV: RFC 3339 UTC.
fn utc(ms: Option<i64>) -> Option<String> {
    ms.map(crate::usage::format_ts_ms)
}

/// The JSON document of the tools, files and compactions reports: `{report, rows, totals}`.
pub(super) fn write_rows_json<R: serde::Serialize, T: serde::Serialize>(
    out: &mut dyn Write,
    report: &'static str,
    rows: Vec<R>,
    totals: T,
) -> Result<()> {
    #[derive(serde::Serialize)]
    struct Doc<R, T> {
        report: &'static str,
        rows: Vec<R>,
        totals: T,
    }
    crate::render::write_json(
        out,
        &Doc {
            report,
            rows,
            totals,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reports::files::{FileRow, FilesReport};
    use crate::reports::tools::{Call, CallsReport, ToolStatsRow, ToolsReport};
    use crate::reports::usage::{NoPrices, Period, RowKey, Usage, UsageKind, UsageReport, priced};
    use crate::usage::Tokens;

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

    fn rows() -> Vec<crate::reports::usage::UsageRow> {
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

    fn table(report: &impl Report, style: Style) -> String {
        let mut out = Vec::new();
        report.print(Format::Table(style), &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    /// Every report, on an 80-column terminal, with ten-billion-token rows and a breakdown.
    #[test]
    fn tables_fit_80_columns_on_a_terminal() {
        let style = Style {
            tty: true,
            width: Some(80),
            tz: Tz::UTC,
            id_len: 8,
        };
        let all = rows();
        for (kind, row) in [
            (UsageKind::Period(Period::Day), &all[0]),
            (
                UsageKind::Period(Period::Week(chrono::Weekday::Mon)),
                &all[0],
            ),
            (UsageKind::Session, &all[1]),
            (UsageKind::Model, &all[2]),
        ] {
            let report = UsageReport::new(kind, None, vec![row.clone(), row.clone()], None, true);
            let text = table(&report, style);
            let kind = kind.name();
            for line in text.lines() {
                assert!(
                    unicode_width::UnicodeWidthStr::width(line) <= 80,
                    "{kind}: {line:?}\n{text}"
                );
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
        let stats = ToolsReport {
            by: Default::default(),
            rows: vec![ToolStatsRow {
                tool: "claude".into(),
                name: Some("mcp__playwright__browser_navigate".into()),
                calls: 123_456_789,
                failures: 1_234_567,
                successes: 122_222_222,
                unknown: 0,
                error_rate: Some(0.01),
                median_duration_ms: Some(2_500),
                durations_known: 1,
            }],
            totals: Default::default(),
        };
        let text = table(&stats, style);
        assert!(
            text.lines()
                .all(|l| unicode_width::UnicodeWidthStr::width(l) <= 80),
            "{text}"
        );

        let long = "/home/someone/work/a-project/with/deeply/nested/sources/of_a_long_name.rs";
        let call = Call {
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
        let calls = CallsReport {
            calls: vec![call],
            totals: Default::default(),
        };
        let text = table(&calls, style);
        assert!(
            text.lines()
                .all(|l| unicode_width::UnicodeWidthStr::width(l) <= 80),
            "{text}"
        );
        let file = FileRow {
            file_path: long.into(),
            reads: 123_456,
            edits: 7_890_123,
            failures: 45_678,
            sessions: 12_345,
            tools: vec!["amp".into(), "claude".into(), "codex".into()],
            last_ms: None,
        };
        let files = FilesReport {
            rows: vec![file],
            totals: Default::default(),
        };
        let text = table(&files, style);
        assert!(
            text.lines()
                .all(|l| unicode_width::UnicodeWidthStr::width(l) <= 80),
            "{text}"
        );
        assert_eq!(text.lines().count(), 5, "one line per file:\n{text}");
    }

    #[test]
    fn session_ids_are_as_long_as_the_ledger_needs_and_whole_when_wide() {
        let id = "11111111-1111-4111-8111-111111111111";
        let at = |width, id_len| Style {
            tty: true,
            width: Some(width),
            tz: Tz::UTC,
            id_len,
        };
        assert_eq!(at(80, 8).id(id), "11111111");
        assert_eq!(at(80, 13).id(id), "11111111-1111");
        assert_eq!(at(80, 8).id("T-55555555-5555"), "T-55555555");
        assert_eq!(at(200, 8).id(id), id);
        let piped = Style {
            tty: false,
            ..at(80, 8)
        };
        assert_eq!(piped.id(id), id);
    }

    #[test]
    fn piped_tables_are_plain_with_full_numbers() {
        let style = Style {
            tty: false,
            width: None,
            tz: Tz::UTC,
            id_len: 8,
        };
        let rows = rows();
        let report = UsageReport::new(
            UsageKind::Period(Period::Day),
            None,
            rows[..1].to_vec(),
            None,
            false,
        );
        let text = table(&report, style);
        assert!(text.contains("11,068,504,443"), "{text}");
        assert!(!text.contains('│'), "no borders when piped:\n{text}");
    }
}
