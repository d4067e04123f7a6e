//! `analysis export`: every row and field as YAML, CSV, JSON or a Markdown report.

use std::collections::BTreeMap;
use std::io::Write;

use anyhow::Result;

use super::analysis::AnalysisJson;
use super::human::thousands;
use crate::store::analyses::{Analysis, model_rows};
use crate::synthesis::{end_to_end, is_synthesis};

/// The rows as their JSON objects (the one field list every format follows).
fn objects(rows: &[Analysis]) -> Result<Vec<serde_json::Map<String, serde_json::Value>>> {
    rows.iter()
        .map(|a| match serde_json::to_value(AnalysisJson::from(a))? {
            serde_json::Value::Object(m) => Ok(m),
            _ => anyhow::bail!("an analysis row did not serialise to an object"),
        })
        .collect()
}

pub fn json(out: &mut dyn Write, rows: &[Analysis]) -> Result<()> {
    super::analysis::json_list(out, rows)
}

/// A YAML scalar: JSON's own text for numbers, booleans and null; strings double-quoted with
/// JSON escapes, which YAML reads the same way.
fn yaml_scalar(v: &serde_json::Value) -> Result<String> {
    Ok(serde_json::to_string(v)?)
}

fn yaml_value(out: &mut dyn Write, v: &serde_json::Value, indent: usize) -> Result<()> {
    let pad = " ".repeat(indent);
    match v {
        serde_json::Value::Array(items) if items.is_empty() => writeln!(out, " []")?,
        serde_json::Value::Array(items) => {
            writeln!(out)?;
            for item in items {
                match item {
                    serde_json::Value::Object(m) if !m.is_empty() => {
                        let mut first = true;
                        for (k, v) in m {
                            let lead = if first {
                                format!("{pad}- ")
                            } else {
                                format!("{pad}  ")
                            };
                            first = false;
                            write!(out, "{lead}{k}:")?;
                            yaml_value(out, v, indent + 4)?;
                        }
                    }
                    other => writeln!(out, "{pad}- {}", yaml_scalar(other)?)?,
                }
            }
        }
        serde_json::Value::Object(m) if m.is_empty() => writeln!(out, " {{}}")?,
        serde_json::Value::Object(m) => {
            writeln!(out)?;
            for (k, v) in m {
                write!(out, "{pad}{k}:")?;
                yaml_value(out, v, indent + 2)?;
            }
        }
        scalar => writeln!(out, " {}", yaml_scalar(scalar)?)?,
    }
    Ok(())
}

pub fn yaml(out: &mut dyn Write, rows: &[Analysis]) -> Result<()> {
    writeln!(out, "analyses:{}", if rows.is_empty() { " []" } else { "" })?;
    for obj in objects(rows)? {
        let mut first = true;
        for (k, v) in &obj {
            write!(out, "{}{k}:", if first { "  - " } else { "    " })?;
            first = false;
            yaml_value(out, v, 6)?;
        }
    }
    Ok(())
}

/// One row per analysis, one column per field; lists and nested values as JSON text.
pub fn csv(out: &mut dyn Write, rows: &[Analysis]) -> Result<()> {
    let objs = objects(rows)?;
    let header: Vec<String> = match objs.first() {
        Some(o) => o.keys().cloned().collect(),
        None => objects(&[Analysis::default()])?
            .remove(0)
            .keys()
            .cloned()
            .collect(),
    };
    let mut w = ::csv::Writer::from_writer(out);
    w.write_record(&header)?;
    for o in &objs {
        let cells: Vec<String> = header
            .iter()
            .map(|k| match o.get(k) {
                None | Some(serde_json::Value::Null) => String::new(),
                Some(serde_json::Value::String(s)) => s.clone(),
                Some(v) => v.to_string(),
            })
            .collect();
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
