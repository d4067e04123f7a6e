//! `report tools`: tool calls per agent and tool name (how many, how they ended, how long
//! they took), or every call (`--calls`).

use super::{ByAgentAndName, count};
use crate::store::reports::ToolCallRef;

/// How long a call took: the duration the transcript states, else the result's time minus
/// the call's when both are known and the result is not earlier.
pub fn duration_ms(c: &ToolCallRef<'_>) -> Option<i64> {
    c.stated_duration_ms
        .or(match (c.called_at_ms, c.result_at_ms) {
            (Some(called), Some(result)) if result >= called => result.checked_sub(called),
            _ => None,
        })
}

/// Calls of one tool: how many, how they ended, how long they took where known.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CallStats {
    pub calls: i64,
    pub failures: i64,
    pub successes: i64,
    /// No result seen, or a result that does not say.
    pub unknown: i64,
    pub durations_ms: Vec<i64>,
}

impl CallStats {
    pub fn add(&mut self, failed: Option<bool>, duration_ms: Option<i64>) {
        self.calls += 1;
        match failed {
            Some(true) => self.failures += 1,
            Some(false) => self.successes += 1,
            None => self.unknown += 1,
        }
        if let Some(d) = duration_ms {
            self.durations_ms.push(d);
        }
    }

    /// Failures among the calls whose outcome is known; `None` when none is.
    pub fn error_rate(&self) -> Option<f64> {
        let known = self.failures + self.successes;
        (known > 0).then(|| self.failures as f64 / known as f64)
    }

    /// The median duration, in whole ms (the mean of the middle two, rounded down, when
    /// the count is even).
    pub fn median_ms(&self) -> Option<i64> {
        let mut v = self.durations_ms.clone();
        v.sort_unstable();
        let n = v.len();
        match n {
            0 => None,
            _ if n % 2 == 1 => Some(v[n / 2]),
            _ => Some(v[n / 2 - 1] + (v[n / 2] - v[n / 2 - 1]) / 2),
        }
    }
}

/// Calls of one tool name by one agent.
#[derive(Clone, Debug, PartialEq)]
pub struct ToolStatsRow {
    pub tool: String,
    pub name: Option<String>,
    pub calls: i64,
    pub failures: i64,
    pub successes: i64,
    pub unknown: i64,
    pub error_rate: Option<f64>,
    pub median_duration_ms: Option<i64>,
    /// How many calls the median is taken over.
    pub durations_known: i64,
}

/// Every call the report covers.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ToolTotals {
    pub calls: i64,
    pub failures: i64,
    pub successes: i64,
    pub unknown: i64,
    pub error_rate: Option<f64>,
}

impl From<&CallStats> for ToolTotals {
    fn from(s: &CallStats) -> Self {
        ToolTotals {
            calls: s.calls,
            failures: s.failures,
            successes: s.successes,
            unknown: s.unknown,
            error_rate: s.error_rate(),
        }
    }
}

/// What the rows of `report tools` are per: the tool's name, or (`--by command`) the
/// program and subcommand a shell call ran (`crate::program`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ToolsBy {
    #[default]
    Name,
    Command,
}

/// `report tools`: one row per agent and tool name (or shell program), most used first.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ToolsReport {
    pub by: ToolsBy,
    /// With `--by command`: a row's `name` is the program, `None` for a shell call read
    /// without one (before the ledger kept programs, or one that only changes directory).
    pub rows: Vec<ToolStatsRow>,
    pub totals: ToolTotals,
}

/// Builds a [`ToolsReport`] from the calls, one at a time.
#[derive(Debug, Default)]
pub struct ToolStats {
    by: ToolsBy,
    all: CallStats,
    by_tool: ByAgentAndName<CallStats>,
}

impl ToolStats {
    pub fn new(by: ToolsBy) -> Self {
        ToolStats {
            by,
            ..ToolStats::default()
        }
    }

    pub fn add(&mut self, c: &ToolCallRef<'_>) {
        let key = match self.by {
            ToolsBy::Name => c.name,
            // Only shell calls have a program; the others are not in this report.
            ToolsBy::Command if c.shell => c.program,
            ToolsBy::Command => return,
        };
        let duration = duration_ms(c);
        self.all.add(c.failed, duration);
        self.by_tool.get_mut(c.tool, key).add(c.failed, duration);
    }

    pub fn finish(self) -> ToolsReport {
        let mut rows: Vec<ToolStatsRow> = self
            .by_tool
            .groups
            .into_iter()
            .map(|(tool, name, s)| ToolStatsRow {
                tool,
                name,
                calls: s.calls,
                failures: s.failures,
                successes: s.successes,
                unknown: s.unknown,
                error_rate: s.error_rate(),
                median_duration_ms: s.median_ms(),
                durations_known: count(s.durations_ms.len()),
            })
            .collect();
        // Most used first; ties by agent and name, so the order is stable.
        rows.sort_by(|a, b| {
            b.calls
                .cmp(&a.calls)
                .then_with(|| (&a.tool, &a.name).cmp(&(&b.tool, &b.name)))
        });
        ToolsReport {
            by: self.by,
            rows,
            totals: ToolTotals::from(&self.all),
        }
    }
}

/// One tool call, as `report tools --calls` lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Call {
    pub tool: String,
    pub session_id: String,
    pub project: Option<String>,
    pub call_id: String,
    pub name: Option<String>,
    pub called_at_ms: Option<i64>,
    pub result_at_ms: Option<i64>,
    pub failed: Option<bool>,
    /// Stated by the transcript, else result − call when both times are known and in order.
    pub duration_ms: Option<i64>,
    pub file_path: Option<String>,
}

impl Call {
    /// When the call happened: its call time, else its result's.
    pub fn at_ms(&self) -> Option<i64> {
        self.called_at_ms.or(self.result_at_ms)
    }
}

impl From<&ToolCallRef<'_>> for Call {
    fn from(c: &ToolCallRef<'_>) -> Self {
        Call {
            tool: c.tool.to_owned(),
            session_id: c.session_id.to_owned(),
            project: c.project.map(str::to_owned),
            call_id: c.call_id.to_owned(),
            name: c.name.map(str::to_owned),
            called_at_ms: c.called_at_ms,
            result_at_ms: c.result_at_ms,
            failed: c.failed,
            duration_ms: duration_ms(c),
            file_path: c.file_path.map(str::to_owned),
        }
    }
}

/// `report tools --calls`: every call, oldest first.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CallsReport {
    pub calls: Vec<Call>,
    pub totals: ToolTotals,
}

/// Builds a [`CallsReport`] from the calls, one at a time.
#[derive(Debug, Default)]
pub struct CallLog {
    all: CallStats,
    calls: Vec<Call>,
}

impl CallLog {
    pub fn add(&mut self, c: &ToolCallRef<'_>) {
        let call = Call::from(c);
        self.all.add(call.failed, call.duration_ms);
        self.calls.push(call);
    }

    pub fn finish(mut self) -> CallsReport {
        // Oldest first; the call id keeps calls of one instant in a stable order.
        self.calls.sort_by(|a, b| {
            (a.at_ms(), &a.tool, &a.session_id, &a.call_id).cmp(&(
                b.at_ms(),
                &b.tool,
                &b.session_id,
                &b.call_id,
            ))
        });
        CallsReport {
            calls: self.calls,
            totals: ToolTotals::from(&self.all),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn call_stats() {
        let mut s = CallStats::default();
        assert_eq!((s.error_rate(), s.median_ms()), (None, None));
        s.add(Some(true), Some(8000));
        s.add(Some(false), Some(1000));
        s.add(None, None);
        assert_eq!((s.calls, s.failures, s.successes, s.unknown), (3, 1, 1, 1));
        assert_eq!(s.error_rate(), Some(0.5));
        assert_eq!(s.median_ms(), Some(4500));
        s.add(Some(false), Some(3));
        assert_eq!(s.median_ms(), Some(1000));
    }

    #[test]
    fn durations_are_stated_or_taken_from_the_times() {
        let call = |stated, called, result| ToolCallRef {
            tool: "codex",
            session_id: "s",
            project: None,
            call_id: "c",
            name: None,
            called_at_ms: called,
            result_at_ms: result,
            failed: None,
            stated_duration_ms: stated,
            file_path: None,
            shell: false,
            program: None,
        };
        assert_eq!(duration_ms(&call(Some(7), Some(0), Some(100))), Some(7));
        assert_eq!(duration_ms(&call(None, Some(40), Some(100))), Some(60));
        assert_eq!(duration_ms(&call(None, Some(100), Some(100))), Some(0));
        assert_eq!(duration_ms(&call(None, Some(100), Some(40))), None);
        assert_eq!(duration_ms(&call(None, None, Some(40))), None);
    }

    #[test]
    fn by_command_counts_shell_calls_per_program() {
        let call = |name, program, shell, failed| ToolCallRef {
            tool: "claude",
            session_id: "s",
            project: None,
            call_id: "c",
            name: Some(name),
            called_at_ms: Some(1),
            result_at_ms: None,
            failed: Some(failed),
            stated_duration_ms: Some(10),
            file_path: None,
            shell,
            program,
        };
        let mut stats = ToolStats::new(ToolsBy::Command);
        for c in [
            call("Bash", Some("git commit"), true, false),
            call("Bash", Some("cargo test"), true, true),
            call("Bash", Some("git commit"), true, true),
            call("Bash", None, true, false),
            call("Read", None, false, false),
        ] {
            stats.add(&c);
        }
        let r = stats.finish();
        let rows: Vec<_> = r
            .rows
            .iter()
            .map(|r| (r.name.as_deref(), r.calls, r.failures))
            .collect();
        assert_eq!(
            rows,
            [
                (Some("git commit"), 2, 1),
                (None, 1, 0),
                (Some("cargo test"), 1, 1)
            ]
        );
        assert_eq!((r.totals.calls, r.totals.failures), (4, 2));
        assert_eq!(r.by, ToolsBy::Command);
    }

    #[test]
    fn rows_are_most_used_first_and_calls_oldest_first() {
        let call = |tool, name, call_id, at: Option<i64>| ToolCallRef {
            tool,
            session_id: "s",
            project: None,
            call_id,
            name: Some(name),
            called_at_ms: at,
            result_at_ms: None,
            failed: Some(call_id == "c2"),
            stated_duration_ms: None,
            file_path: None,
            shell: false,
            program: None,
        };
        let calls = [
            call("codex", "shell", "c1", Some(30)),
            call("claude", "Read", "c2", Some(20)),
            call("claude", "Read", "c3", None),
        ];
        let mut stats = ToolStats::default();
        let mut log = CallLog::default();
        for c in &calls {
            stats.add(c);
            log.add(c);
        }
        let report = stats.finish();
        let names: Vec<_> = report
            .rows
            .iter()
            .map(|r| (r.tool.as_str(), r.calls))
            .collect();
        assert_eq!(names, [("claude", 2), ("codex", 1)]);
        assert_eq!((report.totals.calls, report.totals.failures), (3, 1));
        let log = log.finish();
        let ids: Vec<_> = log.calls.iter().map(|c| c.call_id.as_str()).collect();
        assert_eq!(ids, ["c3", "c2", "c1"]);
        assert_eq!(log.totals, report.totals);
    }
}
