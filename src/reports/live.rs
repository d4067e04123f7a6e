//! `statusline`: the figures of its one line — the analysis running in the session (its
//! usage since its baseline), the session's, today's — from plain rows.

use crate::store::analyses::Analysis;
use crate::store::reports::RangeUsage;
use crate::usage::Snapshot;

/// Tokens and the known part of their cost; `complete` when every response in it is priced.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Spent {
    pub total_tokens: i64,
    pub cost_known_usd: f64,
    /// Every response in it has a price (else the cost shown is a lower bound).
    pub complete: bool,
}

impl Spent {
    pub fn of_snapshot(s: &Snapshot) -> Spent {
        Spent {
            total_tokens: s.total(),
            cost_known_usd: crate::money::from_nano(s.0.values().map(|u| u.cost_nusd).sum()),
            complete: s.0.values().all(|u| u.unpriced == 0),
        }
    }

    /// `pending`: responses read but not priced yet (their cost is not in `cost_nusd`).
    pub fn of_range(r: &RangeUsage) -> Spent {
        Spent {
            total_tokens: r.tokens.total(),
            cost_known_usd: crate::money::from_nano(r.cost_nusd),
            complete: r.unpriced == 0 && r.pending == 0,
        }
    }
}

/// The analysis a statusline shows.
#[derive(Clone, Debug, PartialEq)]
pub struct Running {
    pub id: String,
    pub source_id: String,
    /// Its latest stage, when it has marked one.
    pub stage: Option<String>,
    pub started_at: Option<String>,
    /// Since its baseline, through what the ledger holds now.
    pub spent: Spent,
}

/// What one statusline says.
#[derive(Clone, Debug, PartialEq)]
pub struct Live {
    pub session_id: Option<String>,
    pub model: Option<String>,
    /// The newest analysis running in the session.
    pub analysis: Option<Running>,
    /// How many analyses run in the session (the line shows the newest).
    pub running: usize,
    pub session: Option<Spent>,
    /// Today in the zone, as `YYYY-MM-DD`.
    pub day: String,
    pub today: Spent,
    /// Why the figures may lag the transcript (the ledger was busy, the read ran out of
    /// time): the line still shows what the ledger holds.
    pub stale: Option<String>,
}

/// A running analysis's usage so far: the session now, less its baseline (its first
/// snapshot; the row's baseline for rows made before snapshots were kept).
pub fn running(a: &Analysis, session_now: &Snapshot) -> Running {
    let baseline = a
        .snapshots
        .first()
        .map(|s| &s.usage)
        .or(a.baseline.as_ref());
    let since = baseline.map_or_else(|| session_now.clone(), |b| session_now.since(b));
    Running {
        id: a.id.clone(),
        source_id: a.source_id.clone(),
        stage: a.stages.last().map(|s| s.stage.clone()),
        started_at: a.started_at.clone(),
        spent: Spent::of_snapshot(&since),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::snapshots::SnapshotRow;
    use crate::usage::{ModelUsage, Tokens};

    fn snap(model: &str, input: i64, output: i64, cost_nusd: i64, unpriced: i64) -> Snapshot {
        let mut s = Snapshot::default();
        s.0.insert(
            model.into(),
            ModelUsage {
                tokens: Tokens {
                    input_tokens: input,
                    output_tokens: output,
                    ..Tokens::default()
                },
                cost_nusd,
                unpriced,
            },
        );
        s
    }

    #[test]
    fn an_analysis_so_far_is_the_session_less_its_baseline() {
        let base = snap("m", 1_000, 100, 5_000_000, 0);
        let a = Analysis {
            id: "ANALYSIS-2026-001".into(),
            source_id: "src".into(),
            snapshots: vec![SnapshotRow {
                seq: 0,
                kind: "baseline".into(),
                stage: None,
                at: "2026-03-02T10:00:00Z".into(),
                tool: "claude".into(),
                session_id: "s".into(),
                anchor_call_id: None,
                probe_json: None,
                settled: true,
                waited_ms: 0,
                usage: base,
            }],
            ..Analysis::default()
        };
        let mut now = snap("m", 4_000, 600, 12_500_000, 0);
        now.0.extend(snap("x", 50, 0, 0, 1).0);
        let r = running(&a, &now);
        assert_eq!(r.spent.total_tokens, 3_000 + 500 + 50);
        assert_eq!(r.spent.cost_known_usd, 0.0075);
        assert!(!r.spent.complete, "model x has no price");
        assert_eq!(r.stage, None);
    }

    #[test]
    fn a_day_with_pending_responses_is_a_lower_bound() {
        let r = RangeUsage {
            responses: 3,
            tokens: Tokens {
                input_tokens: 10,
                cache_read_tokens: 5,
                output_tokens: 1,
                ..Tokens::default()
            },
            cost_nusd: 2_000_000_000,
            unpriced: 0,
            pending: 1,
        };
        let s = Spent::of_range(&r);
        assert_eq!(
            (s.total_tokens, s.cost_known_usd, s.complete),
            (16, 2.0, false)
        );
    }
}
