//! `report files`.

use std::io::Write;

use anyhow::Result;
use serde::Serialize;

use super::{Report, Style, numeric, utc};
use crate::render::{write_csv_line, write_table};
use crate::reports::files::{FileRow, FileTotals, FilesReport};

#[derive(Serialize)]
struct RowJson<'a> {
    file_path: &'a str,
    reads: i64,
    edits: i64,
    failures: i64,
    sessions: i64,
    tools: &'a [String],
    last_at: Option<String>,
}

impl<'a> From<&'a FileRow> for RowJson<'a> {
    fn from(r: &'a FileRow) -> Self {
        RowJson {
            file_path: &r.file_path,
            reads: r.reads,
            edits: r.edits,
            failures: r.failures,
            sessions: r.sessions,
            tools: &r.tools,
            last_at: utc(r.last_ms),
        }
    }
}

#[derive(Serialize)]
struct TotalsJson {
    files: i64,
    reads: i64,
    edits: i64,
    failures: i64,
}

impl From<&FileTotals> for TotalsJson {
    fn from(t: &FileTotals) -> Self {
        TotalsJson {
            files: t.files,
            reads: t.reads,
            edits: t.edits,
            failures: t.failures,
        }
    }
}

impl Report for FilesReport {
    fn json(&self, out: &mut dyn Write) -> Result<()> {
        super::write_rows_json(
            out,
            "files",
            self.rows.iter().map(RowJson::from).collect(),
            TotalsJson::from(&self.totals),
        )
    }

    fn csv(&self, out: &mut dyn Write) -> Result<()> {
        write_csv_line(
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
        for r in &self.rows {
            write_csv_line(
                out,
                &[
                    r.file_path.clone(),
                    r.reads.to_string(),
                    r.edits.to_string(),
                    r.failures.to_string(),
                    r.sessions.to_string(),
                    r.tools.join(";"),
                    utc(r.last_ms).unwrap_or_default(),
                ],
            )?;
        }
        Ok(())
    }

    fn table(&self, out: &mut dyn Write, style: Style) -> Result<()> {
        if self.rows.is_empty() {
            writeln!(out, "no file reads or edits in this range")?;
            return Ok(());
        }
        let narrow = style.narrow();
        let mut header = vec!["file", "reads", "edits", "failed", "sessions"];
        if !narrow {
            header.push("agents");
        }
        let mut t = style.table(&header);
        for r in &self.rows {
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
        write_table(out, &t)
    }
}
