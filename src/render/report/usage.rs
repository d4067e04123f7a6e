//! The token reports: daily, weekly, monthly, session, model.

use std::io::Write;

use anyhow::Result;
use serde::Serialize;

use super::{Report, Style, numeric, utc};
use crate::reports::usage::{
    ModelLine, Period, RowKey, UsageKind, UsageReport, UsageRow, UsageTotals,
};
use crate::usage::Tokens;

/// The note on stderr for responses a time report leaves out, if any.
pub fn untimed_note(r: &UsageReport) -> Option<String> {
    let u = r.untimed.filter(|u| u.responses > 0)?;
    let n = u.responses;
    Some(format!(
        "{n} response{} without a time ({} tokens) {} not in this report; `report session` and \
         `report model` count {}",
        if n == 1 { "" } else { "s" },
        u.tokens.total(),
        if n == 1 { "is" } else { "are" },
        if n == 1 { "it" } else { "them" },
    ))
}

/// A cost for people: `$0.03`; `≥$0.03` when responses without a price are left out of
/// it; `-` when nothing of it is known.
fn cost_cell(c: Cost) -> String {
    match c.usd {
        Some(c) => format!("${c:.2}"),
        None if c.known_usd > 0.0 => format!("≥${:.2}", c.known_usd),
        None => "-".into(),
    }
}

/// The note on stderr for what a report's costs leave out, if anything.
pub fn unpriced_note(r: &UsageReport) -> Option<String> {
    let parts = crate::reports::usage::unpriced_models(&r.rows);
    if parts.is_empty() {
        return None;
    }
    let named: Vec<String> = parts
        .iter()
        .take(5)
        .map(|(m, t)| {
            format!(
                "{} ({} tokens)",
                m.as_deref().unwrap_or("responses without a model name"),
                crate::format::thousands(*t)
            )
        })
        .collect();
    let more = parts.len().saturating_sub(5);
    Some(format!(
        "the costs leave out responses without a price (≥ marks a known part): {}{}; give them \
         a price in a price file (`[models.\"NAME\"]`, `[aliases]`, `[agents.NAME] missing_model`; \
         docs/COST.md)",
        named.join(", "),
        if more > 0 {
            format!(" and {more} more models")
        } else {
            String::new()
        }
    ))
}

/// A cost: the whole (`usd`), known only when every response in it has a price, and the
/// part that is known.
#[derive(Clone, Copy)]
struct Cost {
    usd: Option<f64>,
    known_usd: f64,
    unpriced_tokens: i64,
}

impl Cost {
    fn of_row(r: &UsageRow) -> Cost {
        Cost {
            usd: r.cost_usd,
            known_usd: r.cost_known_usd,
            unpriced_tokens: r.unpriced_tokens,
        }
    }
    fn of_model(m: &ModelLine) -> Cost {
        Cost {
            usd: m.cost_usd,
            known_usd: m.cost_known_usd,
            unpriced_tokens: m.unpriced_tokens,
        }
    }
    fn of_totals(t: &UsageTotals) -> Cost {
        Cost {
            usd: t.cost_usd,
            known_usd: t.cost_known_usd,
            unpriced_tokens: t.unpriced_tokens,
        }
    }
}

#[derive(Serialize)]
struct Amounts<'a> {
    #[serde(flatten)]
    tokens: &'a Tokens,
    total_tokens: i64,
    /// Null when some response in it has no price.
    cost_usd: Option<f64>,
    /// The priced responses' part (the whole cost when `cost_usd` is not null).
    cost_known_usd: f64,
    /// Tokens of models with responses that have no price.
    unpriced_tokens: i64,
}

impl<'a> Amounts<'a> {
    fn new(tokens: &'a Tokens, cost: Cost) -> Self {
        Amounts {
            tokens,
            total_tokens: tokens.total(),
            cost_usd: cost.usd,
            cost_known_usd: crate::money::round_nano(cost.known_usd),
            unpriced_tokens: cost.unpriced_tokens,
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

impl<'a> RowJson<'a> {
    fn new(r: &'a UsageRow, breakdown: bool) -> Self {
        let key = match &r.key {
            RowKey::Period(p) => KeyJson::Period {
                period: p,
                models: r.named_models(),
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
                first_timestamp: utc(*first_ms),
                last_timestamp: utc(*last_ms),
                models: r.named_models(),
            },
            RowKey::Model { model, tools } => KeyJson::Model {
                model: model.as_deref(),
                tools,
            },
        };
        RowJson {
            key,
            amounts: Amounts::new(&r.tokens, Cost::of_row(r)),
            breakdown: breakdown.then(|| {
                r.models
                    .iter()
                    .map(|m| ModelJson {
                        model: m.model.as_deref(),
                        amounts: Amounts::new(&m.tokens, Cost::of_model(m)),
                    })
                    .collect()
            }),
        }
    }
}

#[derive(Serialize)]
struct UntimedJson {
    responses: i64,
    total_tokens: i64,
}

const BUCKET_HEADER: [&str; 9] = [
    "input_tokens",
    "cache_creation_tokens",
    "cache_creation_5m_tokens",
    "cache_creation_1h_tokens",
    "cache_read_tokens",
    "output_tokens",
    "reasoning_tokens",
    "total_tokens",
    "cost_usd",
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
            utc(*first_ms).unwrap_or_default(),
            utc(*last_ms).unwrap_or_default(),
        ],
        RowKey::Model { model, tools } => {
            vec![model.clone().unwrap_or_default(), tools.join(";")]
        }
    }
}

fn key_header(kind: UsageKind) -> Vec<&'static str> {
    match kind {
        UsageKind::Session => vec![
            "tool",
            "session_id",
            "project",
            "first_timestamp",
            "last_timestamp",
        ],
        UsageKind::Model => vec!["model", "tools"],
        UsageKind::Period(_) => vec!["period"],
    }
}

impl Report for UsageReport {
    fn json(&self, out: &mut dyn Write) -> Result<()> {
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
            untimed: Option<UntimedJson>,
        }
        crate::render::write_json(
            out,
            &Doc {
                report: self.kind.name(),
                time_zone: self.time_zone.as_deref(),
                week_start: self.kind.week_start(),
                rows: self
                    .rows
                    .iter()
                    .map(|x| RowJson::new(x, self.breakdown))
                    .collect(),
                totals: Amounts::new(&self.totals.tokens, Cost::of_totals(&self.totals)),
                untimed: self.untimed.map(|u| UntimedJson {
                    responses: u.responses,
                    total_tokens: u.tokens.total(),
                }),
            },
        )
    }

    /// CSV: a header and one line per row; with `--breakdown`, one line per row and model.
    fn csv(&self, out: &mut dyn Write) -> Result<()> {
        let model_report = self.kind == UsageKind::Model;
        let mut header = key_header(self.kind);
        let by_model = self.breakdown && !model_report;
        if by_model {
            header.push("model");
        }
        header.extend_from_slice(&BUCKET_HEADER);
        if !by_model && !model_report {
            header.push("models");
        }
        crate::render::write_csv_line(out, &header)?;
        for row in &self.rows {
            let key = key_fields(&row.key);
            if by_model {
                for m in &row.models {
                    let mut f = key.clone();
                    f.push(m.model.clone().unwrap_or_default());
                    f.extend(bucket_fields(&m.tokens, m.cost_usd));
                    crate::render::write_csv_line(out, &f)?;
                }
            } else {
                let mut f = key;
                f.extend(bucket_fields(&row.tokens, row.cost_usd));
                if !model_report {
                    f.push(row.named_models().join(";"));
                }
                crate::render::write_csv_line(out, &f)?;
            }
        }
        Ok(())
    }

    fn table(&self, out: &mut dyn Write, style: Style) -> Result<()> {
        if self.rows.is_empty() {
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
        let (mut header, model_col): (Vec<&str>, usize) = match self.kind {
            UsageKind::Session if narrow => (vec!["agent", "session", "project"], 2),
            UsageKind::Session => (vec!["agent", "session", "project", "last"], 2),
            UsageKind::Model if narrow => (vec!["model"], 0),
            UsageKind::Model => (vec!["model", "agents"], 0),
            UsageKind::Period(Period::Week(_)) => (vec!["week of"], 0),
            UsageKind::Period(Period::Month) => (vec!["month"], 0),
            UsageKind::Period(Period::Day) => (vec!["date"], 0),
        };
        let keys = header.len();
        // Narrow session tables keep the token columns people compare first.
        let full_buckets = !(narrow && self.kind == UsageKind::Session);
        if full_buckets {
            header.extend(["input", cw, cr, "output", "total", "cost"]);
        } else {
            header.extend(["input", "output", "total", "cost"]);
        }
        let amounts = |t: &Tokens, c: Cost| -> Vec<String> {
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
        for row in &self.rows {
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
            cells.extend(amounts(&row.tokens, Cost::of_row(row)));
            t.add_row(cells);
            if self.breakdown && self.kind != UsageKind::Model {
                for m in &row.models {
                    let mut cells = vec![String::new(); keys];
                    cells[model_col] = format!("└ {}", style.model(m.model.as_deref()));
                    cells.extend(amounts(&m.tokens, Cost::of_model(m)));
                    t.add_row(cells);
                }
            }
        }
        let mut total = vec![String::new(); keys];
        total[0] = "total".into();
        total.extend(amounts(&self.totals.tokens, Cost::of_totals(&self.totals)));
        t.add_row(crate::render::paint::total_row(total));
        numeric(&mut t, keys..header.len());
        crate::render::write_table(out, &t)
    }
}
