//! End-to-end totals of a synthesis: its own usage plus that of its inputs, recursively,
//! each analysis counted once however often it is reached. Pure: rows in, totals out.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::store::analyses::Analysis;

/// Whether a row is a synthesis (built from other analyses).
pub fn is_synthesis(a: &Analysis) -> bool {
    a.pass.as_deref() == Some("synthesis")
        || a.inputs_analysis_ids
            .as_ref()
            .is_some_and(|i| !i.is_empty())
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct EndToEnd {
    /// Every analysis counted, the synthesis first, then its inputs in the order reached.
    pub analyses: Vec<String>,
    pub tokens_in: i64,
    pub tokens_out: i64,
    pub total_tokens: i64,
    /// `None` when any counted analysis has no cost.
    pub cost_usd: Option<f64>,
    /// Analyses counted that have no usage recorded (they add nothing).
    pub without_usage: Vec<String>,
    /// Input ids that are not in the ledger.
    pub missing: Vec<String>,
}

/// The end-to-end totals of `root` over `rows` (all analyses, by id).
pub fn end_to_end(rows: &BTreeMap<String, Analysis>, root: &str) -> EndToEnd {
    let mut out = EndToEnd {
        cost_usd: Some(0.0),
        ..EndToEnd::default()
    };
    let mut seen = BTreeSet::new();
    let mut queue = vec![root.to_owned()];
    // Breadth-first; `seen` makes diamonds count once and cycles terminate.
    let mut i = 0;
    while i < queue.len() {
        let id = queue[i].clone();
        i += 1;
        if !seen.insert(id.clone()) {
            continue;
        }
        let Some(a) = rows.get(&id) else {
            out.missing.push(id);
            continue;
        };
        out.analyses.push(id.clone());
        if a.tokens_in.is_none() && a.tokens_out.is_none() && a.total_tokens.is_none() {
            out.without_usage.push(id.clone());
        } else {
            out.tokens_in += a.tokens_in.unwrap_or(0);
            out.tokens_out += a.tokens_out.unwrap_or(0);
            out.total_tokens += a
                .total_tokens
                .unwrap_or(a.tokens_in.unwrap_or(0) + a.tokens_out.unwrap_or(0));
            out.cost_usd = match (out.cost_usd, a.cost_usd) {
                (Some(x), Some(y)) => Some(x + y),
                _ => None,
            };
        }
        for input in a.inputs_analysis_ids.iter().flatten() {
            if !seen.contains(input) {
                queue.push(input.clone());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, total: Option<i64>, cost: Option<f64>, inputs: &[&str]) -> (String, Analysis) {
        let a = Analysis {
            id: id.into(),
            tokens_in: total.map(|t| t - 10),
            tokens_out: total.map(|_| 10),
            total_tokens: total,
            cost_usd: cost,
            inputs_analysis_ids: (!inputs.is_empty())
                .then(|| inputs.iter().map(|s| (*s).to_owned()).collect()),
            ..Analysis::default()
        };
        (id.into(), a)
    }

    #[test]
    fn diamonds_count_once_and_cycles_end() {
        // S ← A, B; A ← C; B ← C; C ← S (a cycle back to the root).
        let rows: BTreeMap<_, _> = [
            row("S", Some(100), Some(1.0), &["A", "B", "GONE"]),
            row("A", Some(200), Some(2.0), &["C"]),
            row("B", Some(300), Some(3.0), &["C"]),
            row("C", Some(400), Some(4.0), &["S"]),
        ]
        .into_iter()
        .collect();
        let e = end_to_end(&rows, "S");
        assert_eq!(e.analyses, ["S", "A", "B", "C"]);
        assert_eq!(e.total_tokens, 1000);
        assert_eq!(e.tokens_out, 40);
        assert_eq!(e.cost_usd, Some(10.0));
        assert_eq!(e.missing, ["GONE"]);
    }

    #[test]
    fn an_input_without_cost_makes_the_cost_unknown() {
        let rows: BTreeMap<_, _> = [
            row("S", Some(1), Some(1.0), &["A", "B"]),
            row("A", Some(2), None, &[]),
            row("B", None, None, &[]),
        ]
        .into_iter()
        .collect();
        let e = end_to_end(&rows, "S");
        assert_eq!((e.total_tokens, e.cost_usd), (3, None));
        assert_eq!(e.without_usage, ["B"]);
    }
}
