//! What an analysis did, beside what it cost: its session's tool calls over the same span as
//! its tokens (docs/WORKFLOWS.md). A call belongs to the span when the response that issued
//! it does: after the response its baseline counted through, up to and including the one its
//! final snapshot counted through (so the call that ran `complete` is in, the one that ran
//! `start` is not). Each snapshot ends where it counted:
//!
//! - anchored: through its anchor response, by time then row order, as its tokens;
//! - not anchored: the responses that were in the ledger when it was taken;
//! - for rows without snapshots (`analysis run`, `add`, backfilled ones): the started and
//!   completed times; a running analysis's span is open at its end.
//!
//! A call whose response is not in the ledger is placed by its own time.

use crate::reports::files::{FileStats, FilesReport};
use crate::reports::tools::{ToolStats, ToolsBy, ToolsReport};
use crate::store::reports::ToolCallRef;
use crate::store::spans::{Position, SnapshotEnd, SpanCall};

/// Where a span starts or ends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum End {
    /// Through this response (anchored snapshots).
    Through(Position, Option<i64>),
    /// The responses with a row id up to this one, taken at this time (others).
    UpTo(i64, Option<i64>),
    /// By time only.
    At(Option<i64>),
    /// Not yet (a running analysis).
    Open,
}

impl End {
    pub fn of_snapshot(s: &SnapshotEnd) -> End {
        match (s.anchor, s.max_response_id) {
            (Some(p), _) => End::Through(p, s.at_ms),
            (None, Some(id)) => End::UpTo(id, s.at_ms),
            (None, None) => End::At(s.at_ms),
        }
    }

    /// Whether the call comes no later than this end.
    fn holds(&self, c: &SpanCall) -> bool {
        let call_ms = c.called_at_ms.or(c.result_at_ms);
        let by_time = |at: Option<i64>| match (call_ms, at) {
            (Some(c), Some(a)) => c <= a,
            // Without a time it cannot be placed after anything.
            _ => true,
        };
        match (self, c.response) {
            (End::Open, _) => true,
            // `snapshots::through`: later when its time is greater, or equal with a greater
            // row id; a response without a time is later only than an untimed anchor.
            (End::Through((ts, id), _), Some((cts, cid))) => {
                let later = match (cts, ts) {
                    (Some(c), Some(t)) => c > *t || (c == *t && cid > *id),
                    (None, Some(_)) => false,
                    (_, None) => cid > *id,
                };
                !later
            }
            (End::UpTo(max, _), Some((_, cid))) => cid <= *max,
            (End::Through(_, at) | End::UpTo(_, at) | End::At(at), _) => by_time(*at),
        }
    }
}

/// One part of the span: from the previous snapshot to this one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StageCalls {
    /// `stage` (a mark), `final` (to `complete`) or `running` (since the last snapshot).
    pub kind: String,
    pub stage: Option<String>,
    pub calls: i64,
    pub failures: i64,
}

/// The calls of an analysis: by tool name, shell calls by program, the files read and
/// edited, and how many fell in each stage.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WorkReport {
    pub by_name: ToolsReport,
    pub by_command: ToolsReport,
    pub files: FilesReport,
    pub stages: Vec<StageCalls>,
}

/// `ends`: the span's start (the baseline) and each later end, in order (at least two).
pub fn work(
    tool: &str,
    session_id: &str,
    project: Option<&str>,
    calls: &[SpanCall],
    ends: &[(End, String, Option<String>)],
) -> WorkReport {
    let mut by_name = ToolStats::new(ToolsBy::Name);
    let mut by_command = ToolStats::new(ToolsBy::Command);
    let mut files = FileStats::default();
    let mut stages: Vec<StageCalls> = ends
        .iter()
        .skip(1)
        .map(|(_, kind, stage)| StageCalls {
            kind: kind.clone(),
            stage: stage.clone(),
            calls: 0,
            failures: 0,
        })
        .collect();
    let Some(((start, _, _), rest)) = ends.split_first() else {
        return WorkReport::default();
    };
    for c in calls {
        if start.holds(c) {
            continue;
        }
        // The first end the call comes no later than is the part it belongs to.
        let Some(part) = rest.iter().position(|(e, _, _)| e.holds(c)) else {
            continue;
        };
        stages[part].calls += 1;
        stages[part].failures += i64::from(c.failed == Some(true));
        let r = ToolCallRef {
            tool,
            session_id,
            project,
            call_id: &c.call_id,
            name: c.name.as_deref(),
            called_at_ms: c.called_at_ms,
            result_at_ms: c.result_at_ms,
            failed: c.failed,
            stated_duration_ms: c.duration_ms,
            file_path: c.file_path.as_deref(),
            shell: c.shell,
            program: c.program.as_deref(),
        };
        by_name.add(&r);
        by_command.add(&r);
        files.add(&r);
    }
    WorkReport {
        by_name: by_name.finish(),
        by_command: by_command.finish(),
        files: files.finish(None),
        stages,
    }
}

/// The ends of an analysis's span: its snapshots, or its times, and an open end while it
/// runs. `None` when it has no session or no start.
pub fn ends_of(
    snapshots: &[SnapshotEnd],
    started_ms: Option<i64>,
    completed_ms: Option<i64>,
    running: bool,
) -> Option<Vec<(End, String, Option<String>)>> {
    let mut ends: Vec<(End, String, Option<String>)> = if snapshots.is_empty() {
        let mut v = vec![(End::At(Some(started_ms?)), "baseline".to_owned(), None)];
        if let Some(done) = completed_ms {
            v.push((End::At(Some(done)), "final".to_owned(), None));
        }
        v
    } else {
        snapshots
            .iter()
            .map(|s| (End::of_snapshot(s), s.kind.clone(), s.stage.clone()))
            .collect()
    };
    if running {
        ends.push((End::Open, "running".to_owned(), None));
    }
    (ends.len() >= 2).then_some(ends)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(id: &str, name: &str, response: Option<Position>, at: Option<i64>) -> SpanCall {
        SpanCall {
            call_id: id.into(),
            name: Some(name.into()),
            called_at_ms: at,
            failed: Some(id.ends_with('!')),
            response,
            ..SpanCall::default()
        }
    }

    #[test]
    fn calls_fall_in_the_span_of_their_responses() {
        let calls = [
            // Issued by the response the baseline counted through: the `start` call.
            call("start", "Bash", Some((Some(100), 1)), Some(100)),
            call("a", "Read", Some((Some(200), 2)), Some(200)),
            // Same time as the mark's anchor, a later row: after it.
            call("b!", "Bash", Some((Some(300), 4)), Some(300)),
            call("mark", "Bash", Some((Some(300), 3)), Some(300)),
            // No response in the ledger: by its time (400, before the final's 500).
            call("c", "Edit", None, Some(400)),
            call("done", "Bash", Some((Some(500), 5)), Some(500)),
            call("after", "Read", Some((Some(600), 6)), Some(600)),
        ];
        let ends = vec![
            (
                End::Through((Some(100), 1), Some(100)),
                "baseline".into(),
                None,
            ),
            (
                End::Through((Some(300), 3), Some(300)),
                "stage".into(),
                Some("read".into()),
            ),
            (End::UpTo(5, Some(500)), "final".into(), None),
        ];
        let w = work("claude", "s", None, &calls, &ends);
        let names: Vec<_> = w
            .by_name
            .rows
            .iter()
            .map(|r| (r.name.as_deref(), r.calls, r.failures))
            .collect();
        assert_eq!(
            names,
            [
                (Some("Bash"), 3, 1),
                (Some("Edit"), 1, 0),
                (Some("Read"), 1, 0)
            ]
        );
        let parts: Vec<_> = w
            .stages
            .iter()
            .map(|s| (s.kind.as_str(), s.calls, s.failures))
            .collect();
        assert_eq!(parts, [("stage", 2, 0), ("final", 3, 1)]);
        assert_eq!(w.by_name.totals.calls, 5);
    }

    #[test]
    fn rows_without_snapshots_use_their_times_and_a_running_one_is_open() {
        let ends = ends_of(&[], Some(1_000), None, true).expect("ends");
        assert_eq!(ends[0].0, End::At(Some(1_000)));
        assert_eq!(ends[1].0, End::Open);
        let calls = [
            call("x", "Read", None, Some(999)),
            call("y", "Read", None, Some(1_001)),
            call("z", "Read", None, Some(10_000_000)),
        ];
        let w = work("codex", "s", None, &calls, &ends);
        assert_eq!(w.by_name.totals.calls, 2);
        assert_eq!(ends_of(&[], None, None, true), None, "no start: no span");
        assert_eq!(
            ends_of(&[], Some(1), Some(2), false).map(|e| e.len()),
            Some(2)
        );
    }
}
