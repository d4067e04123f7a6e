//! `report blocks`: 5-hour billing windows, the active one with its burn rate and projection.

use std::io::Write;

use anyhow::Result;
use serde::Serialize;

use super::{Report, Style, numeric, opt_string, utc};
use crate::render::human::duration;
use crate::render::{write_csv_line, write_table};
use crate::reports::blocks::{Block, BlocksReport};
use crate::usage::Tokens;

#[derive(Serialize)]
struct BurnJson {
    tokens_per_minute: f64,
    cost_usd_per_hour: f64,
}

#[derive(Serialize)]
struct ProjectionJson {
    remaining_minutes: i64,
    total_tokens: i64,
    cost_known_usd: f64,
}

#[derive(Serialize)]
struct RowJson<'a> {
    start: Option<String>,
    end: Option<String>,
    first_at: Option<String>,
    last_at: Option<String>,
    active: bool,
    responses: i64,
    #[serde(flatten)]
    tokens: &'a Tokens,
    total_tokens: i64,
    /// `null` when a response in it has no price.
    cost_usd: Option<f64>,
    cost_known_usd: f64,
    models: &'a [String],
    burn_rate: Option<BurnJson>,
    projection: Option<ProjectionJson>,
}

impl<'a> From<&'a Block> for RowJson<'a> {
    fn from(b: &'a Block) -> Self {
        RowJson {
            start: utc(Some(b.start_ms)),
            end: utc(Some(b.end_ms)),
            first_at: utc(Some(b.first_ms)),
            last_at: utc(Some(b.last_ms)),
            active: b.active,
            responses: b.responses,
            tokens: &b.tokens,
            total_tokens: b.tokens.total(),
            cost_usd: b.cost_usd(),
            cost_known_usd: b.cost_known_usd,
            models: &b.models,
            burn_rate: b.burn.map(|r| BurnJson {
                tokens_per_minute: r.tokens_per_minute,
                cost_usd_per_hour: r.usd_per_hour,
            }),
            projection: b.projection.map(|p| ProjectionJson {
                remaining_minutes: p.remaining_minutes,
                total_tokens: p.total_tokens,
                cost_known_usd: p.cost_known_usd,
            }),
        }
    }
}

#[derive(Serialize)]
struct TotalsJson {
    blocks: i64,
    responses: i64,
    total_tokens: i64,
    cost_known_usd: f64,
    /// Responses without a time, in no block.
    untimed_responses: i64,
}

fn usd(v: Option<f64>) -> String {
    v.map_or_else(|| "-".into(), |c| format!("${c:.2}"))
}

impl Report for BlocksReport {
    fn json(&self, out: &mut dyn Write) -> Result<()> {
        super::write_rows_json(
            out,
            "blocks",
            self.rows.iter().map(RowJson::from).collect(),
            TotalsJson {
                blocks: i64::try_from(self.rows.len()).unwrap_or(i64::MAX),
                responses: self.rows.iter().map(|b| b.responses).sum(),
                total_tokens: self.rows.iter().map(|b| b.tokens.total()).sum(),
                cost_known_usd: self.rows.iter().map(|b| b.cost_known_usd).sum(),
                untimed_responses: self.untimed,
            },
        )
    }

    fn csv(&self, out: &mut dyn Write) -> Result<()> {
        write_csv_line(
            out,
            &[
                "start",
                "end",
                "active",
                "responses",
                "input_tokens",
                "cache_creation_tokens",
                "cache_read_tokens",
                "output_tokens",
                "total_tokens",
                "cost_usd",
                "cost_known_usd",
                "models",
                "tokens_per_minute",
                "cost_usd_per_hour",
                "projected_total_tokens",
                "projected_cost_known_usd",
            ],
        )?;
        for b in &self.rows {
            let t = &b.tokens;
            write_csv_line(
                out,
                &[
                    utc(Some(b.start_ms)).unwrap_or_default(),
                    utc(Some(b.end_ms)).unwrap_or_default(),
                    b.active.to_string(),
                    b.responses.to_string(),
                    t.input_tokens.to_string(),
                    t.cache_creation_tokens.to_string(),
                    t.cache_read_tokens.to_string(),
                    t.output_tokens.to_string(),
                    t.total().to_string(),
                    opt_string(b.cost_usd()),
                    b.cost_known_usd.to_string(),
                    b.models.join(" "),
                    opt_string(b.burn.map(|r| r.tokens_per_minute)),
                    opt_string(b.burn.map(|r| r.usd_per_hour)),
                    opt_string(b.projection.map(|p| p.total_tokens)),
                    opt_string(b.projection.map(|p| p.cost_known_usd)),
                ],
            )?;
        }
        Ok(())
    }

    fn table(&self, out: &mut dyn Write, style: Style) -> Result<()> {
        if self.rows.is_empty() {
            writeln!(out, "no usage in this range")?;
            return Ok(());
        }
        let narrow = style.narrow();
        let mut header = vec!["block", "status"];
        if !narrow {
            header.push("models");
        }
        header.extend(["responses", "tokens", "cost"]);
        let mut t = style.table(&header);
        for b in &self.rows {
            // Inactive: how long it was in use, first response to last.
            let status = match (b.active, b.last_ms - b.first_ms) {
                (true, _) => "active".to_owned(),
                (false, 0) => "done".to_owned(),
                (false, span) => format!("done ({})", duration(span)),
            };
            let mut row = vec![style.time(Some(b.start_ms)), status];
            if !narrow {
                let models: Vec<String> = b.models.iter().map(|m| style.model(Some(m))).collect();
                row.push(models.join(", "));
            }
            row.extend([
                style.num(b.responses),
                style.num(b.tokens.total()),
                usd(b.cost_usd()),
            ]);
            t.add_row(row);
        }
        let n = header.len();
        numeric(&mut t, n - 3..n);
        write_table(out, &t)?;
        if let Some(b) = self.active() {
            writeln!(
                out,
                "active block {} – {}: {} left",
                style.time(Some(b.start_ms)),
                style.time(Some(b.end_ms)),
                b.projection
                    .map_or_else(|| "-".into(), |p| duration(p.remaining_minutes * 60_000))
            )?;
            match (b.burn, b.projection) {
                (Some(r), Some(p)) => writeln!(
                    out,
                    "  burn rate {} tokens/min, ${:.2}/h; projected at its end: {} tokens, ${:.2}",
                    style.num(r.tokens_per_minute.round() as i64),
                    r.usd_per_hour,
                    style.num(p.total_tokens),
                    p.cost_known_usd
                )?,
                _ => writeln!(out, "  burn rate: not yet (one response so far)")?,
            }
        }
        Ok(())
    }
}
