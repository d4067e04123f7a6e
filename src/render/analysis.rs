//! Analysis rows: the JSON object of SPEC §2 and a readable view.

use std::io::Write;

use anyhow::Result;
use serde::Serialize;

use super::human::thousands;
use crate::store::analyses::{Analysis, Stage, model_rows};
use crate::usage::Tokens;

#[derive(Serialize)]
struct ModelUsageJson<'a> {
    model: Option<&'a str>,
    #[serde(flatten)]
    tokens: &'a Tokens,
    total_tokens: i64,
    /// `null` when this model has no price.
    cost_usd: Option<f64>,
}

/// One snapshot: what it counted and whether that is final (SPEC "What a snapshot counts").
#[derive(Serialize)]
struct SnapshotJson<'a> {
    kind: &'a str,
    stage: Option<&'a str>,
    at: &'a str,
    tokens: i64,
    /// Counted through its anchor, or taken outside a tool call; `false`: provisional.
    settled: bool,
    anchor_call_id: Option<&'a str>,
    /// How long it waited for its anchor to reach the transcript.
    waited_ms: i64,
}

/// The row object: SPEC names; `stages_json` and the input lists as real arrays (`stages`
/// repeats `stages_json` for readers that expect that name); per-model usage added.
#[derive(Serialize)]
pub struct AnalysisJson<'a> {
    id: &'a str,
    source_id: &'a str,
    pass: Option<&'a str>,
    status: &'a str,
    tool: &'a str,
    model: Option<&'a str>,
    started_at: Option<&'a str>,
    completed_at: Option<&'a str>,
    tokens_in: Option<i64>,
    tokens_out: Option<i64>,
    total_tokens: Option<i64>,
    cost_usd: Option<f64>,
    stages_json: &'a [Stage],
    stages: &'a [Stage],
    notes: Option<&'a str>,
    claims_extracted: Option<i64>,
    claims_updated: Option<i64>,
    tokens_baseline: Option<i64>,
    tokens_final: Option<i64>,
    tokens_check: Option<i64>,
    usage_provider: Option<&'a str>,
    usage_mode: Option<&'a str>,
    usage_session_id: Option<&'a str>,
    inputs_source_ids: Option<&'a [String]>,
    inputs_analysis_ids: Option<&'a [String]>,
    session_binding: Option<&'a str>,
    usage_by_model: Vec<ModelUsageJson<'a>>,
    /// The cost of the models that have a price (shown even when `cost_usd` is null).
    cost_known_usd: f64,
    /// Models without a price (why `cost_usd` is null).
    unpriced_models: Vec<&'a str>,
    snapshots: Vec<SnapshotJson<'a>>,
    /// Every snapshot is settled (no later read will change the token fields).
    snapshots_settled: bool,
}

impl<'a> From<&'a Analysis> for AnalysisJson<'a> {
    fn from(a: &'a Analysis) -> Self {
        AnalysisJson {
            id: &a.id,
            source_id: &a.source_id,
            pass: a.pass.as_deref(),
            status: &a.status,
            tool: &a.tool,
            model: a.model.as_deref(),
            started_at: a.started_at.as_deref(),
            completed_at: a.completed_at.as_deref(),
            tokens_in: a.tokens_in,
            tokens_out: a.tokens_out,
            total_tokens: a.total_tokens,
            cost_usd: a.cost_usd,
            stages_json: &a.stages,
            stages: &a.stages,
            notes: a.notes.as_deref(),
            claims_extracted: a.claims_extracted,
            claims_updated: a.claims_updated,
            tokens_baseline: a.tokens_baseline,
            tokens_final: a.tokens_final,
            tokens_check: a.tokens_check,
            usage_provider: a.usage_provider.as_deref(),
            usage_mode: a.usage_mode.as_deref(),
            usage_session_id: a.usage_session_id.as_deref(),
            inputs_source_ids: a.inputs_source_ids.as_deref(),
            inputs_analysis_ids: a.inputs_analysis_ids.as_deref(),
            session_binding: a.session_binding.as_deref(),
            usage_by_model: model_rows(&a.usage_by_model)
                .into_iter()
                .map(|(model, u)| ModelUsageJson {
                    model,
                    tokens: &u.tokens,
                    total_tokens: u.tokens.total(),
                    cost_usd: u.cost_usd(),
                })
                .collect(),
            cost_known_usd: crate::money::from_nano(
                a.usage_by_model.0.values().map(|u| u.cost_nusd).sum(),
            ),
            unpriced_models: a.usage_by_model.unpriced_models(),
            snapshots: a
                .snapshots
                .iter()
                .map(|s| SnapshotJson {
                    kind: &s.kind,
                    stage: s.stage.as_deref(),
                    at: &s.at,
                    tokens: s.usage.total(),
                    settled: s.settled,
                    anchor_call_id: s.anchor_call_id.as_deref(),
                    waited_ms: s.waited_ms,
                })
                .collect(),
            snapshots_settled: a.snapshots.iter().all(|s| s.settled),
        }
    }
}

pub fn json(out: &mut dyn Write, a: &Analysis) -> Result<()> {
    super::write_json(out, &AnalysisJson::from(a))
}

pub fn json_list(out: &mut dyn Write, rows: &[Analysis]) -> Result<()> {
    #[derive(Serialize)]
    struct Doc<'a> {
        analyses: Vec<AnalysisJson<'a>>,
    }
    super::write_json(
        out,
        &Doc {
            analyses: rows.iter().map(AnalysisJson::from).collect(),
        },
    )
}

/// The cost, or why there is none and what the priced part comes to.
fn cost_line(a: &Analysis) -> String {
    match a.cost_usd {
        Some(c) => format!("{c:.4}"),
        None => {
            let unpriced = a.usage_by_model.unpriced_models();
            if unpriced.is_empty() {
                "-".into()
            } else {
                let known: i64 = a.usage_by_model.0.values().map(|u| u.cost_nusd).sum();
                format!(
                    "unknown (no price for {}); priced part {:.4}",
                    unpriced.join(", "),
                    crate::money::from_nano(known)
                )
            }
        }
    }
}

fn opt_num(v: Option<i64>) -> String {
    v.map_or_else(|| "-".into(), thousands)
}

fn opt<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map_or_else(|| "-".into(), |v| v.to_string())
}

/// `show`: the row's fields, its stages and its per-model usage.
pub fn human(out: &mut dyn Write, a: &Analysis, tty: bool) -> Result<()> {
    let fields: Vec<(&str, String)> = vec![
        ("id", a.id.clone()),
        ("source_id", a.source_id.clone()),
        ("pass", opt(a.pass.as_deref())),
        ("status", a.status.clone()),
        ("tool", a.tool.clone()),
        ("model", opt(a.model.as_deref())),
        ("started_at", opt(a.started_at.as_deref())),
        ("completed_at", opt(a.completed_at.as_deref())),
        ("session", opt(a.usage_session_id.as_deref())),
        ("bound by", opt(a.session_binding.as_deref())),
        ("tokens_baseline", opt_num(a.tokens_baseline)),
        ("tokens_final", opt_num(a.tokens_final)),
        ("tokens_check", opt_num(a.tokens_check)),
        ("tokens_in", opt_num(a.tokens_in)),
        ("tokens_out", opt_num(a.tokens_out)),
        ("total_tokens", opt_num(a.total_tokens)),
        ("cost_usd", cost_line(a)),
        (
            "usage",
            format!(
                "{} / {}",
                opt(a.usage_provider.as_deref()),
                opt(a.usage_mode.as_deref())
            ),
        ),
        ("notes", opt(a.notes.as_deref())),
        (
            "claims",
            format!(
                "{} extracted, {} updated",
                opt(a.claims_extracted),
                opt(a.claims_updated)
            ),
        ),
    ];
    for (k, v) in fields {
        writeln!(out, "{k:>16}  {v}")?;
    }
    if let Some(ids) = &a.inputs_analysis_ids {
        writeln!(out, "{:>16}  {}", "inputs", ids.join(", "))?;
    }
    if !a.stages.is_empty() {
        writeln!(out)?;
        let mut t = super::new_table(&["stage", "at", "session tokens", "delta"], tty);
        for s in &a.stages {
            t.add_row(vec![
                s.stage.clone(),
                s.at.clone(),
                thousands(s.tokens),
                thousands(s.delta),
            ]);
        }
        super::write_table(out, &t)?;
    }
    if !a.usage_by_model.0.is_empty() {
        writeln!(out)?;
        let mut t = super::new_table(
            &[
                "model",
                "input",
                "cache write",
                "cache read",
                "output",
                "total",
                "cost",
            ],
            tty,
        );
        for (m, u) in model_rows(&a.usage_by_model) {
            let tok = &u.tokens;
            t.add_row(vec![
                m.unwrap_or("(unknown)").to_owned(),
                thousands(tok.input_tokens),
                thousands(tok.cache_creation_tokens),
                thousands(tok.cache_read_tokens),
                thousands(tok.output_tokens),
                thousands(tok.total()),
                u.cost_usd()
                    .map_or_else(|| "unknown".into(), |c| format!("${c:.4}")),
            ]);
        }
        super::write_table(out, &t)?;
    }
    Ok(())
}

/// `list`: one line per analysis.
pub fn table(out: &mut dyn Write, rows: &[Analysis], tty: bool) -> Result<()> {
    if rows.is_empty() {
        writeln!(out, "no analyses")?;
        return Ok(());
    }
    let mut t = super::new_table(
        &[
            "id", "source", "pass", "status", "tool", "started", "tokens", "cost",
        ],
        tty,
    );
    for a in rows {
        use comfy_table::Cell;
        t.add_row(vec![
            Cell::new(&a.id),
            Cell::new(super::human::tail(&a.source_id, 28)),
            Cell::new(opt(a.pass.as_deref())),
            super::paint::status(&a.status),
            Cell::new(&a.tool),
            Cell::new(
                a.started_at
                    .as_deref()
                    .map_or("-", |s| s.get(..16).unwrap_or(s))
                    .replace('T', " "),
            ),
            Cell::new(opt_num(a.total_tokens)),
            Cell::new(
                a.cost_usd
                    .map_or_else(|| "-".into(), |c| format!("${c:.2}")),
            ),
        ]);
    }
    super::write_table(out, &t)
}
