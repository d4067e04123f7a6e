//! `report compactions`.

use std::io::Write;

use anyhow::Result;
use serde::Serialize;

use super::{Report, Style, numeric, opt_string, utc};
use crate::render::{write_csv_line, write_table};
use crate::reports::compactions::{CompactionStatsRow, CompactionTotals, CompactionsReport};

#[derive(Serialize)]
struct RowJson<'a> {
    tool: &'a str,
    session_id: &'a str,
    project: Option<&'a str>,
    compactions: i64,
    compact: i64,
    microcompact: i64,
    auto: i64,
    manual: i64,
    max_pre_tokens: Option<i64>,
    first_at: Option<String>,
    last_at: Option<String>,
}

impl<'a> From<&'a CompactionStatsRow> for RowJson<'a> {
    fn from(r: &'a CompactionStatsRow) -> Self {
        RowJson {
            tool: &r.tool,
            session_id: &r.session_id,
            project: r.project.as_deref(),
            compactions: r.compactions,
            compact: r.compact,
            microcompact: r.microcompact,
            auto: r.auto,
            manual: r.manual,
            max_pre_tokens: r.max_pre_tokens,
            first_at: utc(r.first_ms),
            last_at: utc(r.last_ms),
        }
    }
}

#[derive(Serialize)]
struct TotalsJson {
    compactions: i64,
    sessions: i64,
}

impl From<&CompactionTotals> for TotalsJson {
    fn from(t: &CompactionTotals) -> Self {
        TotalsJson {
            compactions: t.compactions,
            sessions: t.sessions,
        }
    }
}

impl Report for CompactionsReport {
    fn json(&self, out: &mut dyn Write) -> Result<()> {
        super::write_rows_json(
            out,
            "compactions",
            self.rows.iter().map(RowJson::from).collect(),
            TotalsJson::from(&self.totals),
        )
    }

    fn csv(&self, out: &mut dyn Write) -> Result<()> {
        write_csv_line(
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
        for r in &self.rows {
            write_csv_line(
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
                    utc(r.first_ms).unwrap_or_default(),
                    utc(r.last_ms).unwrap_or_default(),
                ],
            )?;
        }
        Ok(())
    }

    fn table(&self, out: &mut dyn Write, style: Style) -> Result<()> {
        if self.rows.is_empty() {
            writeln!(out, "no compactions in this range")?;
            return Ok(());
        }
        let mut t = style.table(&[
            "agent", "session", "project", "count", "auto", "manual", "last",
        ]);
        for r in &self.rows {
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
        t.add_row(crate::render::paint::total_row([
            "total".to_owned(),
            String::new(),
            format!("{} sessions", self.totals.sessions),
            style.num(self.totals.compactions),
            String::new(),
            String::new(),
            String::new(),
        ]));
        numeric(&mut t, 3..6);
        write_table(out, &t)
    }
}
