//! `tokledger analysis validate`: the ledger's analysis rows are consistent.

use std::collections::BTreeSet;
use std::io::Write;

use anyhow::Result;
use serde::Serialize;

use crate::ctx::Ctx;
use crate::error::Error;
use crate::store::analyses::{Analysis, AnalysisFilter};
use crate::synthesis::is_synthesis;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[arg(short, long)]
    pub json: bool,
}

#[derive(Serialize, Debug, PartialEq, Eq)]
pub struct Problem {
    pub id: String,
    pub problem: String,
}

/// A provisional snapshot taken before this long ago is reported: its session was not
/// read again since, or its anchor never reached the transcript.
pub const UNSETTLED_AFTER_MS: i64 = 24 * 3600 * 1000;

/// Every problem found in `rows`; provisional snapshots taken before `stale_before` (RFC
/// 3339 UTC, as snapshots' `at`) are problems too.
pub fn check(rows: &[Analysis], stale_before: &str) -> Vec<Problem> {
    let ids: BTreeSet<&str> = rows.iter().map(|a| a.id.as_str()).collect();
    let sources: BTreeSet<&str> = rows.iter().map(|a| a.source_id.as_str()).collect();
    let mut out = Vec::new();
    for a in rows {
        let mut say = |p: String| {
            out.push(Problem {
                id: a.id.clone(),
                problem: p,
            })
        };
        if let (Some(c), Some(f), Some(b)) = (a.tokens_check, a.tokens_final, a.tokens_baseline)
            && c != f - b
        {
            say(format!(
                "tokens_check {c} is not tokens_final {f} - tokens_baseline {b} = {}",
                f - b
            ));
        }
        if let (Some(i), Some(o), Some(t)) = (a.tokens_in, a.tokens_out, a.total_tokens)
            && i + o != t
        {
            say(format!(
                "total_tokens {t} is not tokens_in {i} + tokens_out {o}"
            ));
        }
        let mut previous = a.tokens_baseline;
        for s in &a.stages {
            if let Some(p) = previous
                && s.tokens - p != s.delta
            {
                say(format!(
                    "stage {:?}: delta {} is not {} - {} = {}",
                    s.stage,
                    s.delta,
                    s.tokens,
                    p,
                    s.tokens - p
                ));
            }
            previous = Some(s.tokens);
        }
        if let (Some(last), Some(f)) = (a.stages.last(), a.tokens_final)
            && f < last.tokens
        {
            say(format!(
                "tokens_final {f} is below the last stage's session total {}",
                last.tokens
            ));
        }
        for s in a.snapshots.iter().filter(|s| !s.settled) {
            if s.at.as_str() < stale_before {
                say(format!(
                    "the {} snapshot{} taken at {} is still provisional: its calling tool call's \
                     response never reached the {} transcript of session {}",
                    s.kind,
                    s.stage
                        .as_deref()
                        .map(|n| format!(" {n:?}"))
                        .unwrap_or_default(),
                    s.at,
                    s.tool,
                    s.session_id
                ));
            }
        }
        if is_synthesis(a) {
            for input in a.inputs_analysis_ids.iter().flatten() {
                if !ids.contains(input.as_str()) {
                    say(format!("input analysis {input} does not exist"));
                }
            }
            if a.status == "completed" {
                for s in a.inputs_source_ids.iter().flatten() {
                    if !sources.contains(s.as_str()) {
                        say(format!(
                            "input source {s:?} is the source_id of no analysis"
                        ));
                    }
                }
            }
        }
    }
    out
}

pub fn run(ctx: &Ctx, args: &Args) -> Result<()> {
    let mut store = ctx.open_store()?;
    // What the ledger already holds may settle some (a hook stored their anchors).
    crate::settle::settle(ctx, &mut store, None)?;
    let rows = store.analyses(&AnalysisFilter::default())?;
    let stale_before =
        crate::usage::format_ts_ms(chrono::Utc::now().timestamp_millis() - UNSETTLED_AFTER_MS);
    let mut problems: Vec<Problem> = store
        .damage()?
        .into_iter()
        .map(|d| Problem {
            id: "ledger".into(),
            problem: format!("the ledger file is damaged: {d}"),
        })
        .collect();
    problems.extend(check(&rows, &stale_before));
    let mut out = std::io::stdout().lock();
    if args.json {
        #[derive(Serialize)]
        struct Doc<'a> {
            ok: bool,
            checked: usize,
            problems: &'a [Problem],
        }
        crate::render::write_json(
            &mut out,
            &Doc {
                ok: problems.is_empty(),
                checked: rows.len(),
                problems: &problems,
            },
        )?;
    } else if problems.is_empty() {
        writeln!(out, "ok: {} analyses checked, no problems", rows.len())?;
    } else {
        for p in &problems {
            writeln!(out, "{}: {}", p.id, p.problem)?;
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        out.flush()?;
        Err(Error::InvalidState(format!(
            "{} problem(s) in {} analyses",
            problems.len(),
            rows.len()
        ))
        .into())
    }
}
