//! `statusline`: one short line for Claude Code's status bar, or one JSON document.

use std::io::Write;

use anyhow::Result;
use serde::Serialize;

use super::human::abbreviated;
use crate::reports::live::{Live, Spent};

/// Source ids are cut to this many characters: the bar is one line.
const SOURCE_MAX: usize = 24;

/// `$0.21`, with `+` when part of it has no price (yet): the known part is a lower bound.
fn money(s: &Spent) -> String {
    let more = if s.complete { "" } else { "+" };
    format!("${:.2}{more}", s.cost_known_usd)
}

fn cut(s: &str, max: usize) -> String {
    let s = crate::format::printable(s, false);
    if s.chars().count() <= max {
        return s.into_owned();
    }
    let mut out: String = s.chars().take(max - 1).collect();
    out.push('…');
    out
}

/// `Opus | ANALYSIS-2026-004 review-x (read) 12.3K $0.21 | session 1.2M $3.40 | today 4.5M $12.80`
pub fn line(live: &Live) -> String {
    let mut parts = Vec::new();
    if let Some(m) = &live.model {
        parts.push(cut(m, SOURCE_MAX));
    }
    if let Some(a) = &live.analysis {
        let mut s = format!("{} {}", a.id, cut(&a.source_id, SOURCE_MAX));
        if let Some(stage) = &a.stage {
            s.push_str(&format!(" ({})", cut(stage, SOURCE_MAX)));
        }
        s.push_str(&format!(
            " {} {}",
            abbreviated(a.spent.total_tokens),
            money(&a.spent)
        ));
        if live.running > 1 {
            s.push_str(&format!(" +{} running", live.running - 1));
        }
        parts.push(s);
    }
    if let Some(s) = &live.session {
        parts.push(format!(
            "session {} {}",
            abbreviated(s.total_tokens),
            money(s)
        ));
    }
    parts.push(format!(
        "today {} {}",
        abbreviated(live.today.total_tokens),
        money(&live.today)
    ));
    parts.join(" | ")
}

#[derive(Serialize)]
struct SpentJson {
    total_tokens: i64,
    cost_known_usd: f64,
    /// Every response in it is priced: `cost_known_usd` is the whole cost.
    cost_complete: bool,
}

impl From<&Spent> for SpentJson {
    fn from(s: &Spent) -> Self {
        SpentJson {
            total_tokens: s.total_tokens,
            cost_known_usd: s.cost_known_usd,
            cost_complete: s.complete,
        }
    }
}

#[derive(Serialize)]
struct AnalysisJson<'a> {
    id: &'a str,
    source_id: &'a str,
    stage: Option<&'a str>,
    started_at: Option<&'a str>,
    #[serde(flatten)]
    spent: SpentJson,
}

#[derive(Serialize)]
struct TodayJson<'a> {
    date: &'a str,
    #[serde(flatten)]
    spent: SpentJson,
}

#[derive(Serialize)]
struct Doc<'a> {
    session_id: Option<&'a str>,
    model: Option<&'a str>,
    analysis: Option<AnalysisJson<'a>>,
    running_analyses: usize,
    session: Option<SpentJson>,
    today: TodayJson<'a>,
    stale: Option<&'a str>,
}

pub fn json(out: &mut dyn Write, live: &Live) -> Result<()> {
    super::write_json(
        out,
        &Doc {
            session_id: live.session_id.as_deref(),
            model: live.model.as_deref(),
            analysis: live.analysis.as_ref().map(|a| AnalysisJson {
                id: &a.id,
                source_id: &a.source_id,
                stage: a.stage.as_deref(),
                started_at: a.started_at.as_deref(),
                spent: SpentJson::from(&a.spent),
            }),
            running_analyses: live.running,
            session: live.session.as_ref().map(SpentJson::from),
            today: TodayJson {
                date: &live.day,
                spent: SpentJson::from(&live.today),
            },
            stale: live.stale.as_deref(),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reports::live::Running;

    #[test]
    fn one_line_with_every_part() {
        let spent = |t, c, complete| Spent {
            total_tokens: t,
            cost_known_usd: c,
            complete,
        };
        let mut live = Live {
            session_id: Some("s".into()),
            model: Some("Opus".into()),
            analysis: Some(Running {
                id: "ANALYSIS-2026-004".into(),
                source_id: "a-very-long-source-id-with-\u{1b}[31m-in-it".into(),
                stage: Some("read".into()),
                started_at: None,
                spent: spent(12_345, 0.214, true),
            }),
            running: 2,
            session: Some(spent(1_234_567, 3.4, true)),
            day: "2026-03-02".into(),
            today: spent(4_500_000, 12.8, false),
            stale: None,
        };
        assert_eq!(
            line(&live),
            "Opus | ANALYSIS-2026-004 a-very-long-source-id-w… (read) 12.3K $0.21 +1 running \
             | session 1.2M $3.40 | today 4.5M $12.80+"
        );
        live.analysis = None;
        live.session = None;
        live.model = None;
        assert_eq!(line(&live), "today 4.5M $12.80+");
    }
}
