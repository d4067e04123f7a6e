//! `report compactions`: compactions per session.

use std::collections::BTreeMap;

use super::count;
use crate::store::reports::CompactionRow;
use crate::usage::earliest;

/// One session's compactions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompactionStatsRow {
    pub tool: String,
    pub session_id: String,
    pub project: Option<String>,
    pub compactions: i64,
    /// Of which: the context was summarised (`compact`) or old tool output cleared
    /// (`microcompact`, Claude).
    pub compact: i64,
    pub microcompact: i64,
    pub auto: i64,
    pub manual: i64,
    pub max_pre_tokens: Option<i64>,
    /// The first and the last compaction's time.
    pub first_ms: Option<i64>,
    pub last_ms: Option<i64>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CompactionTotals {
    pub compactions: i64,
    pub sessions: i64,
}

/// `report compactions`: the most compacted sessions first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CompactionsReport {
    pub rows: Vec<CompactionStatsRow>,
    pub totals: CompactionTotals,
}

/// One row per session with compactions among `events`.
pub fn by_session(events: &[CompactionRow]) -> CompactionsReport {
    let mut by_session: BTreeMap<(&str, &str), CompactionStatsRow> = BTreeMap::new();
    for e in events {
        let key = (e.tool.as_str(), e.session_id.as_str());
        let r = by_session.entry(key).or_insert_with(|| CompactionStatsRow {
            tool: e.tool.clone(),
            session_id: e.session_id.clone(),
            project: e.project.clone(),
            compactions: 0,
            compact: 0,
            microcompact: 0,
            auto: 0,
            manual: 0,
            max_pre_tokens: None,
            first_ms: None,
            last_ms: None,
        });
        r.compactions += 1;
        r.compact += i64::from(e.kind == "compact");
        r.microcompact += i64::from(e.kind == "microcompact");
        r.auto += i64::from(e.trigger.as_deref() == Some("auto"));
        r.manual += i64::from(e.trigger.as_deref() == Some("manual"));
        r.max_pre_tokens = r.max_pre_tokens.max(e.pre_tokens);
        r.first_ms = earliest(r.first_ms, e.at_ms);
        r.last_ms = r.last_ms.max(e.at_ms);
    }
    let mut rows: Vec<CompactionStatsRow> = by_session.into_values().collect();
    // Most compacted first.
    rows.sort_by(|a, b| {
        b.compactions
            .cmp(&a.compactions)
            .then_with(|| (&a.tool, &a.session_id).cmp(&(&b.tool, &b.session_id)))
    });
    let totals = CompactionTotals {
        compactions: rows.iter().map(|r| r.compactions).sum(),
        sessions: count(rows.len()),
    };
    CompactionsReport { rows, totals }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_session_most_compacted_first() {
        let event = |session: &str, kind: &str, at_ms, trigger: Option<&str>| CompactionRow {
            tool: "claude".into(),
            session_id: session.into(),
            project: None,
            kind: kind.into(),
            at_ms,
            trigger: trigger.map(str::to_owned),
            pre_tokens: at_ms,
        };
        let report = by_session(&[
            event("a", "compact", Some(5), Some("auto")),
            event("b", "compact", Some(1), Some("manual")),
            event("b", "microcompact", None, None),
            event("b", "compact", Some(3), Some("auto")),
        ]);
        let b = &report.rows[0];
        assert_eq!(b.session_id, "b");
        assert_eq!(
            (b.compactions, b.compact, b.microcompact, b.auto, b.manual),
            (3, 2, 1, 1, 1)
        );
        assert_eq!(
            (b.first_ms, b.last_ms, b.max_pre_tokens),
            (Some(1), Some(3), Some(3))
        );
        assert_eq!(
            report.totals,
            CompactionTotals {
                compactions: 4,
                sessions: 2
            }
        );
    }
}
