//! Analyses: creation with an atomically allocated id, stage marks, completion, queries.
//!
//! Every state change reads the row, checks it, takes the session snapshot and writes, all
//! inside one IMMEDIATE transaction: concurrent marks queue and each sees the one before.

use std::collections::HashMap;

use anyhow::Result;
use rusqlite::{OptionalExtension, ToSql, Transaction, params, params_from_iter};
use serde::{Deserialize, Serialize};

use super::sessions::{NONZERO, SUM_COLUMNS, model_usage_row, snapshot, tokens_at};
use super::snapshots::{self as snaps, Counting, SnapshotRow, through};
use super::{Store, token_params};
use crate::error::Error;
use crate::usage::{ModelUsage, Snapshot};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stage {
    pub stage: String,
    pub at: String,
    /// Session total tokens at the mark.
    pub tokens: i64,
    /// Tokens since the previous snapshot (the start or the previous mark).
    pub delta: i64,
}

/// One row of `analysis_logs`, plus its per-model usage.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Analysis {
    pub id: String,
    pub source_id: String,
    pub pass: Option<String>,
    pub status: String,
    pub tool: String,
    pub model: Option<String>,
    pub started_at: Option<String>,
    pub completed_at: Option<String>,
    pub tokens_in: Option<i64>,
    pub tokens_out: Option<i64>,
    pub total_tokens: Option<i64>,
    pub cost_usd: Option<f64>,
    pub stages: Vec<Stage>,
    pub notes: Option<String>,
    pub claims_extracted: Option<i64>,
    pub claims_updated: Option<i64>,
    pub tokens_baseline: Option<i64>,
    pub tokens_final: Option<i64>,
    pub tokens_check: Option<i64>,
    pub usage_provider: Option<String>,
    pub usage_mode: Option<String>,
    pub usage_session_id: Option<String>,
    pub inputs_source_ids: Option<Vec<String>>,
    pub inputs_analysis_ids: Option<Vec<String>>,
    pub session_binding: Option<String>,
    pub baseline: Option<Snapshot>,
    pub usage_by_model: Snapshot,
    /// The snapshots behind the token fields, oldest first (empty for rows made before
    /// they were kept, and for `analysis run` and `add` rows).
    pub snapshots: Vec<SnapshotRow>,
}

/// What `start` and `add` insert.
#[derive(Clone, Debug, Default)]
pub struct NewAnalysis {
    pub source_id: String,
    pub pass: Option<String>,
    pub status: String,
    pub tool: String,
    pub model: Option<String>,
    pub started_at: Option<String>,
    pub completed_at: Option<String>,
    pub tokens_in: Option<i64>,
    pub tokens_out: Option<i64>,
    pub cost_usd: Option<f64>,
    pub notes: Option<String>,
    pub tokens_baseline: Option<i64>,
    pub usage_provider: Option<String>,
    pub usage_mode: Option<String>,
    pub usage_session_id: Option<String>,
    pub inputs_source_ids: Option<Vec<String>>,
    pub inputs_analysis_ids: Option<Vec<String>>,
    pub session_binding: Option<String>,
    pub baseline: Option<Snapshot>,
    /// For one-shot rows whose usage is known per model (`add --usage-from`).
    pub usage_by_model: Option<Snapshot>,
    /// A bound `start`: the baseline is counted inside the insert's transaction, this way,
    /// and kept as the row's first snapshot (instead of `baseline`).
    pub counting: Option<Counting>,
}

/// What `complete` sets.
#[derive(Clone, Debug, Default)]
pub struct Completion {
    pub status: String,
    pub notes: Option<String>,
    pub claims_extracted: Option<i64>,
    pub claims_updated: Option<i64>,
    pub usage_mode: String,
}

/// Filters of `analysis list` (times compare as RFC 3339 strings, all UTC).
#[derive(Clone, Debug, Default)]
pub struct AnalysisFilter {
    pub source_id: Option<String>,
    pub tool: Option<String>,
    pub status: Option<String>,
    pub since: Option<String>,
    pub until: Option<String>,
}

const COLUMNS: &str = "id, source_id, pass, status, tool, model, started_at, completed_at, tokens_in, tokens_out,
    total_tokens, cost_usd, stages_json, notes, claims_extracted, claims_updated, tokens_baseline, tokens_final,
    tokens_check, usage_provider, usage_mode, usage_session_id, inputs_source_ids, inputs_analysis_ids,
    session_binding, baseline_json";

fn json_col<T: for<'de> Deserialize<'de>>(v: Option<String>) -> Option<T> {
    v.and_then(|s| serde_json::from_str(&s).ok())
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Analysis> {
    Ok(Analysis {
        id: r.get(0)?,
        source_id: r.get(1)?,
        pass: r.get(2)?,
        status: r.get(3)?,
        tool: r.get(4)?,
        model: r.get(5)?,
        started_at: r.get(6)?,
        completed_at: r.get(7)?,
        tokens_in: r.get(8)?,
        tokens_out: r.get(9)?,
        total_tokens: r.get(10)?,
        cost_usd: r.get(11)?,
        stages: json_col(r.get(12)?).unwrap_or_default(),
        notes: r.get(13)?,
        claims_extracted: r.get(14)?,
        claims_updated: r.get(15)?,
        tokens_baseline: r.get(16)?,
        tokens_final: r.get(17)?,
        tokens_check: r.get(18)?,
        usage_provider: r.get(19)?,
        usage_mode: r.get(20)?,
        usage_session_id: r.get(21)?,
        inputs_source_ids: json_col(r.get(22)?),
        inputs_analysis_ids: json_col(r.get(23)?),
        session_binding: r.get(24)?,
        baseline: json_col(r.get(25)?),
        usage_by_model: Snapshot::default(),
        snapshots: Vec::new(),
    })
}

fn load(c: &rusqlite::Connection, id: &str) -> Result<Option<Analysis>> {
    let found = c
        .query_row(
            &format!("SELECT {COLUMNS} FROM analysis_logs WHERE id = ?1"),
            [id],
            row,
        )
        .optional()?;
    let Some(mut a) = found else { return Ok(None) };
    a.usage_by_model = usage_of(c, id)?;
    a.snapshots = snaps::of_analysis(c, id)?;
    Ok(Some(a))
}

fn usage_of(c: &rusqlite::Connection, id: &str) -> Result<Snapshot> {
    let mut st = c.prepare_cached(
        "SELECT model, input_tokens, cache_creation_tokens, cache_creation_5m_tokens, cache_creation_1h_tokens,
                cache_read_tokens, output_tokens, reasoning_tokens, cost_nusd, unpriced
         FROM analysis_usage WHERE analysis_id = ?1 ORDER BY model",
    )?;
    let rows = st.query_map([id], model_usage_row)?;
    Ok(Snapshot(rows.collect::<rusqlite::Result<_>>()?))
}

fn not_found(id: &str) -> anyhow::Error {
    Error::NotFound(format!(
        "no analysis {id} in the ledger (see `tokledger analysis list`)"
    ))
    .into()
}

/// The row must still be running for `mark` and `complete`.
fn require_in_progress(a: &Analysis, verb: &str) -> Result<()> {
    if a.status != "in_progress" {
        return Err(Error::InvalidState(format!(
            "cannot {verb} {}: it is {}, not in_progress (the row was left as it was)",
            a.id, a.status
        ))
        .into());
    }
    Ok(())
}

pub(crate) fn save_usage(tx: &Transaction<'_>, id: &str, usage: &Snapshot) -> Result<()> {
    tx.execute("DELETE FROM analysis_usage WHERE analysis_id = ?1", [id])?;
    let mut st = tx.prepare_cached(
        "INSERT INTO analysis_usage(analysis_id, model, input_tokens, cache_creation_tokens, cache_creation_5m_tokens,
             cache_creation_1h_tokens, cache_read_tokens, output_tokens, reasoning_tokens, cost_nusd, unpriced)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?;
    for (model, u) in &usage.0 {
        let key: [&dyn ToSql; 2] = [&id, model];
        let cost: [&dyn ToSql; 2] = [&u.cost_nusd, &u.unpriced];
        st.execute(params_from_iter(
            key.into_iter().chain(token_params(&u.tokens)).chain(cost),
        ))?;
    }
    Ok(())
}

fn to_json<T: Serialize>(v: &T) -> Result<String> {
    Ok(serde_json::to_string(v)?)
}

impl Store {
    /// The session's usage per model now (for a baseline).
    pub fn session_snapshot(&self, tool: &str, session_id: &str) -> Result<Snapshot> {
        self.read(|c| snapshot(c, tool, session_id))
    }

    /// Insert a row under the next id of `year` (allocated inside the write lock).
    pub fn create_analysis(&mut self, a: &NewAnalysis, year: i32) -> Result<Analysis> {
        self.write_checked(|tx| {
            let seq: i64 = tx.query_row(
                "SELECT coalesce(max(seq), 0) + 1 FROM analysis_logs WHERE year = ?1",
                [year],
                |r| r.get(0),
            )?;
            let id = format!("ANALYSIS-{year}-{seq:03}");
            let counted = match (&a.counting, &a.usage_provider, &a.usage_session_id) {
                (Some(how), Some(tool), Some(session)) => {
                    let (usage, settled) = snaps::count(tx, tool, session, how)?;
                    Some(SnapshotRow {
                        seq: 0,
                        kind: "baseline".into(),
                        stage: None,
                        at: a.started_at.clone().unwrap_or_default(),
                        tool: tool.clone(),
                        session_id: session.clone(),
                        anchor_call_id: how.anchor.as_ref().map(|(c, _)| c.clone()),
                        probe_json: how.probe_json.clone(),
                        settled,
                        waited_ms: how.waited_ms,
                        usage,
                    })
                }
                _ => None,
            };
            let baseline = counted.as_ref().map(|s| &s.usage).or(a.baseline.as_ref());
            let total = match (a.tokens_in, a.tokens_out) {
                (None, None) => None,
                (i, o) => Some(i.unwrap_or(0) + o.unwrap_or(0)),
            };
            tx.execute(
                "INSERT INTO analysis_logs(id, year, seq, source_id, pass, status, tool, model, started_at, completed_at,
                     tokens_in, tokens_out, total_tokens, cost_usd, notes, tokens_baseline, tokens_check, usage_provider,
                     usage_mode, usage_session_id, inputs_source_ids, inputs_analysis_ids, session_binding, baseline_json)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21,
                     ?22, ?23, ?24)",
                params![
                    id,
                    year,
                    seq,
                    a.source_id,
                    a.pass,
                    a.status,
                    a.tool,
                    a.model,
                    a.started_at,
                    a.completed_at,
                    a.tokens_in,
                    a.tokens_out,
                    total,
                    a.cost_usd,
                    a.notes,
                    baseline.map(Snapshot::total).or(a.tokens_baseline),
                    a.usage_by_model.as_ref().map(|u| u.total()),
                    a.usage_provider,
                    a.usage_mode,
                    a.usage_session_id,
                    a.inputs_source_ids.as_ref().map(to_json).transpose()?,
                    a.inputs_analysis_ids.as_ref().map(to_json).transpose()?,
                    a.session_binding,
                    baseline.map(to_json).transpose()?,
                ],
            )?;
            if let Some(u) = &a.usage_by_model {
                save_usage(tx, &id, u)?;
            }
            if let Some(s) = &counted {
                snaps::insert(tx, &id, s)?;
            }
            load(tx, &id)?.ok_or_else(|| not_found(&id))
        })
    }

    pub fn analysis(&self, id: &str) -> Result<Analysis> {
        self.read(|c| load(c, id)?.ok_or_else(|| not_found(id)))
    }

    /// The row as it stands, before any transcript is read for it (its status and session).
    pub fn analysis_if_in_progress(&self, id: &str, verb: &str) -> Result<Analysis> {
        let a = self.analysis(id)?;
        require_in_progress(&a, verb)?;
        Ok(a)
    }

    /// Append a stage: the session total now (counted as `how` says) and the delta since
    /// the previous snapshot.
    pub fn mark_analysis(
        &mut self,
        id: &str,
        stage: &str,
        at: &str,
        how: &Counting,
    ) -> Result<Analysis> {
        self.write_checked(|tx| {
            let mut a = load(tx, id)?.ok_or_else(|| not_found(id))?;
            require_in_progress(&a, "mark")?;
            if kept_snapshot(tx, &a, "stage", Some(stage), at, how)? {
                return load(tx, id)?.ok_or_else(|| not_found(id));
            }
            let now = match (&a.usage_provider, &a.usage_session_id) {
                (Some(tool), Some(session)) => snaps::count(tx, tool, session, how)?.0.total(),
                _ => 0,
            };
            let previous = a
                .stages
                .last()
                .map(|s| s.tokens)
                .or(a.tokens_baseline)
                .unwrap_or(0);
            a.stages.push(Stage {
                stage: stage.to_owned(),
                at: at.to_owned(),
                tokens: now,
                delta: now - previous,
            });
            tx.execute(
                "UPDATE analysis_logs SET stages_json = ?2 WHERE id = ?1",
                params![id, to_json(&a.stages)?],
            )?;
            Ok(a)
        })
    }

    /// Close the row: final snapshot, deltas (total and per model), outcome fields.
    pub fn complete_analysis(
        &mut self,
        id: &str,
        c: &Completion,
        at: &str,
        how: &Counting,
    ) -> Result<Analysis> {
        self.write_checked(|tx| {
            let a = load(tx, id)?.ok_or_else(|| not_found(id))?;
            require_in_progress(&a, "complete")?;
            let (Some(tool), Some(session)) = (&a.usage_provider, &a.usage_session_id) else {
                // No session (an `analysis run` whose session could not be told): the
                // outcome is recorded, the token fields stay NULL rather than a false 0.
                tx.execute(
                    "UPDATE analysis_logs SET status = ?2, completed_at = ?3, notes = coalesce(?4, notes),
                         claims_extracted = coalesce(?5, claims_extracted), claims_updated = coalesce(?6, claims_updated)
                     WHERE id = ?1",
                    params![id, c.status, at, c.notes, c.claims_extracted, c.claims_updated],
                )?;
                return load(tx, id)?.ok_or_else(|| not_found(id));
            };
            if kept_snapshot(tx, &a, "final", None, at, how)? {
                tx.execute(
                    "UPDATE analysis_logs SET status = ?2, completed_at = ?3, usage_mode = ?4,
                         notes = coalesce(?5, notes), claims_extracted = coalesce(?6, claims_extracted),
                         claims_updated = coalesce(?7, claims_updated)
                     WHERE id = ?1",
                    params![id, c.status, at, c.usage_mode, c.notes, c.claims_extracted, c.claims_updated],
                )?;
                return load(tx, id)?.ok_or_else(|| not_found(id));
            }
            let final_snap = snaps::count(tx, tool, session, how)?.0;
            let delta = final_snap.since(&a.baseline.clone().unwrap_or_default());
            let sum = delta.sum();
            let baseline = a.tokens_baseline.unwrap_or(0);
            let final_total = final_snap.total();
            tx.execute(
                "UPDATE analysis_logs SET status = ?2, completed_at = ?3, tokens_final = ?4, tokens_check = ?5,
                     tokens_in = ?6, tokens_out = ?7, total_tokens = ?8, usage_mode = ?9,
                     notes = coalesce(?10, notes), claims_extracted = coalesce(?11, claims_extracted),
                     claims_updated = coalesce(?12, claims_updated), cost_usd = ?13
                 WHERE id = ?1",
                params![
                    id,
                    c.status,
                    at,
                    final_total,
                    final_total - baseline,
                    sum.input_side(),
                    sum.output_tokens,
                    sum.total(),
                    c.usage_mode,
                    c.notes,
                    c.claims_extracted,
                    c.claims_updated,
                    delta.cost_usd()
                ],
            )?;
            save_usage(tx, id, &delta)?;
            load(tx, id)?.ok_or_else(|| not_found(id))
        })
    }

    /// Bind a running, unbound row to its session once it is known (`analysis run` learns
    /// the session only after its command ran). `baseline` is the session's usage before
    /// the run: empty for a session the run created.
    pub fn bind_analysis(
        &mut self,
        id: &str,
        tool: &str,
        session_id: &str,
        how: &str,
        baseline: &Snapshot,
    ) -> Result<Analysis> {
        self.write_checked(|tx| {
            let a = load(tx, id)?.ok_or_else(|| not_found(id))?;
            require_in_progress(&a, "bind")?;
            if a.usage_session_id.is_some() {
                return Err(Error::InvalidState(format!(
                    "{id} is already bound to session {}",
                    a.usage_session_id.as_deref().unwrap_or_default()
                ))
                .into());
            }
            tx.execute(
                "UPDATE analysis_logs SET usage_provider = ?2, usage_session_id = ?3, session_binding = ?4,
                     tokens_baseline = ?5, baseline_json = ?6
                 WHERE id = ?1",
                params![id, tool, session_id, how, baseline.total(), to_json(baseline)?],
            )?;
            load(tx, id)?.ok_or_else(|| not_found(id))
        })
    }

    /// Every session of `tool` with its usage per model now (the "before" picture of
    /// `analysis run`: any of them may be the one its command continues).
    pub fn tool_snapshots(&self, tool: &str) -> Result<HashMap<String, Snapshot>> {
        self.read(|c| {
            let mut st = c.prepare(&format!(
                "SELECT session_id, model, {SUM_COLUMNS}, sum(cost_nusd), sum(unpriced) FROM session_usage
                 WHERE tool = ?1 GROUP BY session_id, model HAVING {NONZERO}"
            ))?;
            let rows = st.query_map([tool], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    ModelUsage { tokens: tokens_at(r, 2)?, cost_nusd: r.get(9)?, unpriced: r.get(10)? },
                ))
            })?;
            let mut out: HashMap<String, Snapshot> = HashMap::new();
            for row in rows {
                let (session, model, tokens) = row?;
                out.entry(session).or_default().0.insert(model, tokens);
            }
            Ok(out)
        })
    }

    /// The analyses still running in one session, newest first (what `statusline` shows).
    pub fn running_in_session(&self, tool: &str, session_id: &str) -> Result<Vec<Analysis>> {
        self.read(|c| {
            let mut st = c.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM analysis_logs
                 WHERE status = 'in_progress' AND usage_provider = ?1 AND usage_session_id = ?2
                 ORDER BY year DESC, seq DESC"
            ))?;
            let rows = st.query_map(params![tool, session_id], row)?;
            let mut out = rows.collect::<rusqlite::Result<Vec<_>>>()?;
            for a in &mut out {
                a.snapshots = snaps::of_analysis(c, &a.id)?;
            }
            Ok(out)
        })
    }

    pub fn analyses(&self, f: &AnalysisFilter) -> Result<Vec<Analysis>> {
        self.read(|c| {
            let mut st = c.prepare(&format!(
                "SELECT {COLUMNS} FROM analysis_logs
                 WHERE (?1 IS NULL OR source_id = ?1) AND (?2 IS NULL OR tool = ?2) AND (?3 IS NULL OR status = ?3)
                   AND (?4 IS NULL OR started_at >= ?4) AND (?5 IS NULL OR started_at < ?5)
                 ORDER BY year, seq"
            ))?;
            let rows = st.query_map(params![f.source_id, f.tool, f.status, f.since, f.until], row)?;
            let mut out = rows.collect::<rusqlite::Result<Vec<_>>>()?;
            for a in &mut out {
                a.usage_by_model = usage_of(c, &a.id)?;
                a.snapshots = snaps::of_analysis(c, &a.id)?;
            }
            Ok(out)
        })
    }
}

/// A row with a baseline snapshot keeps every later one too: record this one (counted as
/// `how` says) and recompute the row from its snapshots. `false` for a row without one.
fn kept_snapshot(
    tx: &Transaction<'_>,
    a: &Analysis,
    kind: &str,
    stage: Option<&str>,
    at: &str,
    how: &Counting,
) -> Result<bool> {
    let (Some(tool), Some(session)) = (&a.usage_provider, &a.usage_session_id) else {
        return Ok(false);
    };
    let seq: Option<i64> = tx.query_row(
        "SELECT max(seq) FROM analysis_snapshots WHERE analysis_id = ?1",
        [&a.id],
        |r| r.get(0),
    )?;
    let Some(seq) = seq else { return Ok(false) };
    let (usage, settled) = snaps::count(tx, tool, session, how)?;
    snaps::insert(
        tx,
        &a.id,
        &SnapshotRow {
            seq: seq + 1,
            kind: kind.into(),
            stage: stage.map(str::to_owned),
            at: at.to_owned(),
            tool: tool.clone(),
            session_id: session.clone(),
            anchor_call_id: how.anchor.as_ref().map(|(c, _)| c.clone()),
            probe_json: how.probe_json.clone(),
            settled,
            waited_ms: how.waited_ms,
            usage,
        },
    )?;
    rederive(tx, &a.id)?;
    Ok(true)
}

/// The per-model usage as the row's JSON shows it (`None` for an unnamed model).
pub fn model_rows(s: &Snapshot) -> Vec<(Option<&str>, &ModelUsage)> {
    s.0.iter()
        .map(|(m, t)| ((!m.is_empty()).then_some(m.as_str()), t))
        .collect()
}

/// What `backfill-usage` writes into a row.
#[derive(Clone, Debug)]
pub struct Fill {
    pub session_id: String,
    pub provider: String,
    pub usage: Snapshot,
}

impl Store {
    /// A session's usage per model from responses whose time is in `[from, to]` (ms).
    pub fn window_usage(
        &self,
        tool: &str,
        session_id: &str,
        from: i64,
        to: i64,
    ) -> Result<Snapshot> {
        self.read(|c| {
            let mut st = c.prepare_cached(&format!(
                "SELECT coalesce(model, ''), {SUM_COLUMNS}, coalesce(sum(cost_nusd), 0),
                        coalesce(sum(priced = 1 AND cost_nusd IS NULL), 0)
                 FROM usage_events WHERE tool = ?1 AND session_id = ?2 AND ts_ms BETWEEN ?3 AND ?4
                 GROUP BY coalesce(model, '')"
            ))?;
            let rows = st.query_map(params![tool, session_id, from, to], model_usage_row)?;
            Ok(Snapshot(rows.collect::<rusqlite::Result<_>>()?))
        })
    }

    /// Sessions of `tool` with usage in `[from, to]` (ms), by id.
    pub fn sessions_in_window(&self, tool: &str, from: i64, to: i64) -> Result<Vec<String>> {
        self.read(|c| {
            let mut st = c.prepare_cached(
                "SELECT DISTINCT session_id FROM usage_events WHERE tool = ?1 AND ts_ms BETWEEN ?2 AND ?3
                 ORDER BY session_id",
            )?;
            let rows = st.query_map(params![tool, from, to], |r| r.get(0))?;
            Ok(rows.collect::<rusqlite::Result<Vec<String>>>()?)
        })
    }

    /// Whether the ledger knows a session (it has a transcript file or a session row).
    pub fn session_known(&self, tool: &str, session_id: &str) -> Result<bool> {
        self.read(|c| {
            Ok(c.query_row(
                "SELECT EXISTS(SELECT 1 FROM sessions WHERE tool = ?1 AND session_id = ?2)",
                params![tool, session_id],
                |r| r.get(0),
            )?)
        })
    }

    /// Write a windowed sum into a row (`usage_mode = windowed_sum`), with its per-model usage.
    pub fn fill_usage(&mut self, id: &str, f: &Fill) -> Result<()> {
        self.write_checked(|tx| {
            let sum = f.usage.sum();
            tx.execute(
                "UPDATE analysis_logs SET tokens_check = ?2, tokens_in = ?3, tokens_out = ?4, total_tokens = ?5,
                     usage_session_id = ?6, usage_provider = ?7, usage_mode = 'windowed_sum', cost_usd = ?8
                 WHERE id = ?1",
                params![
                    id,
                    sum.total(),
                    sum.input_side(),
                    sum.output_tokens,
                    sum.total(),
                    f.session_id,
                    f.provider,
                    f.usage.cost_usd()
                ],
            )?;
            save_usage(tx, id, &f.usage)
        })
    }
}

/// Rewrite an analysis's derived fields from its snapshots: the baseline, each stage's
/// tokens and delta, and, once it has a final snapshot, the final, check, in/out, cost and
/// per-model usage. A row without a baseline snapshot (made before snapshots were kept, or
/// by `analysis run`) is left as it is.
pub(crate) fn rederive(tx: &Transaction<'_>, id: &str) -> Result<()> {
    let snaps = snaps::of_analysis(tx, id)?;
    let Some(base) = snaps.iter().find(|s| s.kind == "baseline") else {
        return Ok(());
    };
    let mut stages = Vec::new();
    let mut previous = base.usage.total();
    for s in snaps.iter().filter(|s| s.kind == "stage") {
        let tokens = s.usage.total();
        stages.push(Stage {
            stage: s.stage.clone().unwrap_or_default(),
            at: s.at.clone(),
            tokens,
            delta: tokens - previous,
        });
        previous = tokens;
    }
    tx.execute(
        "UPDATE analysis_logs SET tokens_baseline = ?2, baseline_json = ?3, stages_json = ?4 WHERE id = ?1",
        params![
            id,
            base.usage.total(),
            serde_json::to_string(&base.usage)?,
            serde_json::to_string(&stages)?
        ],
    )?;
    if let Some(fin) = snaps.iter().find(|s| s.kind == "final") {
        let delta = fin.usage.since(&base.usage);
        let sum = delta.sum();
        tx.execute(
            "UPDATE analysis_logs SET tokens_final = ?2, tokens_check = ?3, tokens_in = ?4, tokens_out = ?5,
                 total_tokens = ?6, cost_usd = ?7
             WHERE id = ?1",
            params![
                id,
                fin.usage.total(),
                fin.usage.total() - base.usage.total(),
                sum.input_side(),
                sum.output_tokens,
                sum.total(),
                delta.cost_usd()
            ],
        )?;
        save_usage(tx, id, &delta)?;
    }
    Ok(())
}

impl Store {
    /// Settle one snapshot at its anchor: count through the anchor's response and recompute
    /// the analysis. Nothing changes when that response is not in the ledger yet.
    pub fn settle_snapshot(
        &mut self,
        id: &str,
        seq: i64,
        call_id: &str,
        response_key: &str,
    ) -> Result<bool> {
        self.write_checked(|tx| {
            let Some((tool, session)) = tx
                .query_row(
                    "SELECT tool, session_id FROM analysis_snapshots WHERE analysis_id = ?1 AND seq = ?2 AND settled = 0",
                    params![id, seq],
                    |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)),
                )
                .optional()?
            else {
                return Ok(false);
            };
            let Some(usage) = through(tx, &tool, &session, response_key)? else {
                return Ok(false);
            };
            tx.execute(
                "UPDATE analysis_snapshots SET settled = 1, anchor_call_id = ?3, usage_json = ?4
                 WHERE analysis_id = ?1 AND seq = ?2",
                params![id, seq, call_id, serde_json::to_string(&usage)?],
            )?;
            rederive(tx, id)?;
            Ok(true)
        })
    }
}
