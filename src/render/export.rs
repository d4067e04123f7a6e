//! `analysis export`: every row and field as YAML, CSV, JSON or a Markdown report.

use std::collections::BTreeMap;
use std::io::Write;

use anyhow::Result;

use super::analysis::AnalysisJson;
use super::human::thousands;
use crate::store::analyses::{Analysis, model_rows};
use crate::synthesis::{end_to_end, is_synthesis};

/// The rows of YAML and CSV: every field of the JSON row object, in its order (`id` first),
/// without `stages` (JSON repeats `stages_json` under that name for its readers; a table of
/// columns needs it once), with costs at whole nano-dollars (the ledger's unit), so a sum of
/// floats shows no `0.30000000000000004`.
fn rows_in_order(rows: &[Analysis]) -> Result<Vec<serde_norway::Mapping>> {
    rows.iter()
        .map(|a| {
            // serde_norway's mapping keeps the struct's field order (serde_json's map sorts).
            let mut m = match serde_norway::to_value(AnalysisJson::from(a))? {
                serde_norway::Value::Mapping(m) => m,
                _ => anyhow::bail!("an analysis row did not serialise to a mapping"),
            };
            m.shift_remove("stages");
            let mut v = serde_norway::Value::Mapping(m);
            round_costs(&mut v);
            match v {
                serde_norway::Value::Mapping(m) => Ok(m),
                _ => unreachable!("still the mapping it was"),
            }
        })
        .collect()
}

/// Every `…_usd` number, at any depth, rounded to whole nano-dollars.
fn round_costs(v: &mut serde_norway::Value) {
    match v {
        serde_norway::Value::Mapping(m) => {
            for (k, v) in m.iter_mut() {
                if k.as_str().is_some_and(|k| k.ends_with("_usd"))
                    && let Some(x) = v.as_f64()
                {
                    *v = serde_norway::Value::from(crate::money::round_nano(x));
                } else {
                    round_costs(v);
                }
            }
        }
        serde_norway::Value::Sequence(items) => items.iter_mut().for_each(round_costs),
        _ => {}
    }
}

/// As `list --json` (the same document), costs rounded as in YAML and CSV.
pub fn json(out: &mut dyn Write, rows: &[Analysis]) -> Result<()> {
    let rows: Vec<serde_norway::Value> = rows
        .iter()
        .map(|a| {
            let mut v = serde_norway::to_value(AnalysisJson::from(a))?;
            round_costs(&mut v);
            Ok(v)
        })
        .collect::<Result<_>>()?;
    // Written straight from the ordered values: a `serde_json::Value` would sort the keys.
    #[derive(serde::Serialize)]
    struct Doc {
        analyses: Vec<serde_norway::Value>,
    }
    super::write_json(out, &Doc { analyses: rows })
}

pub fn yaml(out: &mut dyn Write, rows: &[Analysis]) -> Result<()> {
    #[derive(serde::Serialize)]
    struct Doc {
        analyses: Vec<serde_norway::Mapping>,
    }
    let text = serde_norway::to_string(&Doc {
        analyses: rows_in_order(rows)?,
    })?;
    out.write_all(text.as_bytes())?;
    Ok(())
}

/// One row per analysis, one column per field in the order of YAML; lists and nested values
/// as JSON text, none as an empty cell.
pub fn csv(out: &mut dyn Write, rows: &[Analysis]) -> Result<()> {
    let objs = rows_in_order(rows)?;
    let header: Vec<String> = match objs.first() {
        Some(o) => o
            .keys()
            .filter_map(|k| k.as_str().map(str::to_owned))
            .collect(),
        None => rows_in_order(&[Analysis::default()])?
            .remove(0)
            .keys()
            .filter_map(|k| k.as_str().map(str::to_owned))
            .collect(),
    };
    let mut w = ::csv::Writer::from_writer(out);
    w.write_record(&header)?;
    for o in &objs {
        let cells: Vec<String> = header
            .iter()
            .map(|k| match o.get(k.as_str()) {
                None | Some(serde_norway::Value::Null) => Ok(String::new()),
                Some(serde_norway::Value::String(s)) => Ok(s.clone()),
                Some(v) => serde_json::to_string(v),
            })
            .collect::<Result<_, _>>()?;
        w.write_record(&cells)?;
    }
    w.flush()?;
    Ok(())
}

fn num(v: Option<i64>) -> String {
    v.map_or_else(|| "–".into(), thousands)
}

fn usd(v: Option<f64>) -> String {
    v.map_or_else(|| "unknown".into(), |c| format!("${c:.4}"))
}

/// A report a person reads: per analysis its delta fields, stages and models; for a
/// synthesis, the breakdown of its inputs with end-to-end totals.
pub fn markdown(
    out: &mut dyn Write,
    rows: &[Analysis],
    work: &std::collections::HashMap<String, crate::reports::work::WorkReport>,
    generated_at: &str,
) -> Result<()> {
    let by_id: BTreeMap<String, Analysis> =
        rows.iter().map(|a| (a.id.clone(), a.clone())).collect();
    writeln!(out, "# Token ledger report\n")?;
    writeln!(out, "{} analyses · generated {generated_at}\n", rows.len())?;
    let total: i64 = rows.iter().filter_map(|a| a.total_tokens).sum();
    writeln!(
        out,
        "| analysis | source | pass | status | tool | tokens | cost |"
    )?;
    writeln!(out, "|---|---|---|---|---|---:|---:|")?;
    for a in rows {
        writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} |",
            a.id,
            md(&a.source_id),
            md(a.pass.as_deref().unwrap_or("")),
            a.status,
            a.tool,
            num(a.total_tokens),
            usd(a.cost_usd)
        )?;
    }
    writeln!(out, "\nAll analyses: {} tokens.\n", thousands(total))?;
    for a in rows {
        writeln!(out, "## {} — {}\n", a.id, md(&a.source_id))?;
        writeln!(out, "| field | value |\n|---|---|")?;
        for (k, v) in [
            ("pass", a.pass.clone().unwrap_or_default()),
            ("status", a.status.clone()),
            (
                "tool / model",
                format!("{} / {}", a.tool, a.model.as_deref().unwrap_or("–")),
            ),
            (
                "started → completed",
                format!(
                    "{} → {}",
                    a.started_at.as_deref().unwrap_or("–"),
                    a.completed_at.as_deref().unwrap_or("–")
                ),
            ),
            ("session", a.usage_session_id.clone().unwrap_or_default()),
            ("tokens_baseline", num(a.tokens_baseline)),
            ("tokens_final", num(a.tokens_final)),
            ("tokens_check", num(a.tokens_check)),
            (
                "tokens_in / tokens_out",
                format!("{} / {}", num(a.tokens_in), num(a.tokens_out)),
            ),
            ("total_tokens", num(a.total_tokens)),
            ("cost_usd", usd(a.cost_usd)),
            (
                "usage",
                format!(
                    "{} / {}",
                    a.usage_provider.as_deref().unwrap_or("–"),
                    a.usage_mode.as_deref().unwrap_or("–")
                ),
            ),
            ("notes", a.notes.clone().unwrap_or_default()),
        ] {
            writeln!(out, "| {k} | {} |", md(&v))?;
        }
        if !a.stages.is_empty() {
            writeln!(
                out,
                "\n| stage | at | session tokens | delta |\n|---|---|---:|---:|"
            )?;
            for s in &a.stages {
                writeln!(
                    out,
                    "| {} | {} | {} | {} |",
                    md(&s.stage),
                    s.at,
                    thousands(s.tokens),
                    thousands(s.delta)
                )?;
            }
        }
        if !a.usage_by_model.0.is_empty() {
            writeln!(
                out,
                "\n| model | input | cache write | cache read | output | total | cost |"
            )?;
            writeln!(out, "|---|---:|---:|---:|---:|---:|---:|")?;
            for (m, u) in model_rows(&a.usage_by_model) {
                let t = &u.tokens;
                writeln!(
                    out,
                    "| {} | {} | {} | {} | {} | {} | {} |",
                    md(m.unwrap_or("(unnamed)")),
                    thousands(t.input_tokens),
                    thousands(t.cache_creation_tokens),
                    thousands(t.cache_read_tokens),
                    thousands(t.output_tokens),
                    thousands(t.total()),
                    usd(u.cost_usd())
                )?;
            }
        }
        if let Some(w) = work.get(&a.id) {
            super::work::markdown(out, w, md)?;
        }
        if is_synthesis(a) {
            let e = end_to_end(&by_id, &a.id);
            writeln!(
                out,
                "\n**Synthesis inputs** (each analysis counted once):\n"
            )?;
            writeln!(
                out,
                "| analysis | source | tokens in | tokens out | total | cost |\n|---|---|---:|---:|---:|---:|"
            )?;
            for id in &e.analyses {
                if let Some(x) = by_id.get(id) {
                    writeln!(
                        out,
                        "| {}{} | {} | {} | {} | {} | {} |",
                        id,
                        if id == &a.id { " (itself)" } else { "" },
                        md(&x.source_id),
                        num(x.tokens_in),
                        num(x.tokens_out),
                        num(x.total_tokens),
                        usd(x.cost_usd)
                    )?;
                }
            }
            writeln!(
                out,
                "| **end to end** | | **{}** | **{}** | **{}** | **{}** |",
                thousands(e.tokens_in),
                thousands(e.tokens_out),
                thousands(e.total_tokens),
                usd(e.cost_usd)
            )?;
            if !e.missing.is_empty() {
                writeln!(out, "\nInputs not in the ledger: {}.", e.missing.join(", "))?;
            }
        }
        writeln!(out)?;
    }
    Ok(())
}

/// Table-safe Markdown text.
fn md(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}
