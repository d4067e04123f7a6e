//! `tokledger analysis show`

use std::collections::BTreeMap;
use std::io::Write;

use anyhow::Result;

use crate::ctx::Ctx;
use crate::render::human::thousands;
use crate::store::analyses::AnalysisFilter;
use crate::synthesis::{end_to_end, is_synthesis};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The analysis: its id, or a unique beginning of it (`ANALYSIS-` may be left out)
    #[arg(long)]
    pub id: String,
    #[arg(short, long)]
    pub json: bool,
}

pub fn run(ctx: &Ctx, args: &Args) -> Result<()> {
    let store = ctx.open_store()?;
    let row = store.analysis(&super::analysis_id(&store, &args.id)?)?;
    // A synthesis also shows its end-to-end totals: itself plus its inputs, recursively.
    let e2e = if is_synthesis(&row) {
        let all: BTreeMap<_, _> = store
            .analyses(&AnalysisFilter::default())?
            .into_iter()
            .map(|a| (a.id.clone(), a))
            .collect();
        Some(end_to_end(&all, &row.id))
    } else {
        None
    };
    // What it did over the span of its tokens (`null`: no session to look in).
    let work = super::work::work_of(&store, &[&row])?.remove(&row.id);
    let mut out = std::io::stdout().lock();
    if args.json {
        let mut v = serde_json::to_value(crate::render::analysis::AnalysisJson::from(&row))?;
        if let serde_json::Value::Object(m) = &mut v {
            if let Some(e) = &e2e {
                m.insert("end_to_end".into(), serde_json::to_value(e)?);
            }
            let tools = work.as_ref().map(crate::render::work::ToolsJson::from);
            m.insert("tools".into(), serde_json::to_value(tools)?);
        }
        return crate::render::write_json(&mut out, &v);
    }
    crate::render::analysis::human(&mut out, &row, ctx.stdout_is_terminal())?;
    if let Some(w) = &work {
        crate::render::work::human(&mut out, w, ctx.stdout_is_terminal())?;
    }
    if let Some(e) = e2e {
        writeln!(out)?;
        writeln!(
            out,
            "end to end ({} analyses: {}): {} in, {} out, {} tokens, cost {}",
            e.analyses.len(),
            e.analyses.join(", "),
            thousands(e.tokens_in),
            thousands(e.tokens_out),
            thousands(e.total_tokens),
            e.cost_usd
                .map_or_else(|| "unknown".into(), |c| format!("${c:.4}"))
        )?;
        if !e.missing.is_empty() {
            writeln!(out, "inputs not in the ledger: {}", e.missing.join(", "))?;
        }
    }
    Ok(())
}
