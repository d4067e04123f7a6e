//! What the reports compute, free of SQL and of output. One module per report owns its rows
//! and the arithmetic that builds them from the plain rows the store returns
//! (`crate::store::reports`): [`usage`] (daily, weekly, monthly, session, model), [`tools`],
//! [`files`], [`compactions`]. Costs are summed in nano-USD and carried in USD, times in Unix
//! ms; `render::report` prints them for people, as JSON or as CSV. See docs/REPORTS.md.

use std::collections::HashMap;

pub mod blocks;
pub mod compactions;
pub mod files;
pub mod live;
pub mod tools;
pub mod usage;
pub mod work;

/// A count as the reports carry it.
fn count(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Values kept per (agent, name) and found by borrowed strings, so that a pass over many
/// rows makes one `String` per group, not per row.
#[derive(Debug)]
pub struct ByAgentAndName<V> {
    index: HashMap<String, (HashMap<String, usize>, Option<usize>)>,
    /// `(agent, name, value)`, in the order first seen.
    pub groups: Vec<(String, Option<String>, V)>,
}

impl<V> Default for ByAgentAndName<V> {
    fn default() -> Self {
        ByAgentAndName {
            index: HashMap::new(),
            groups: Vec::new(),
        }
    }
}

impl<V: Default> ByAgentAndName<V> {
    /// The group's position in `groups` (a new group is added with a default value).
    pub fn index(&mut self, agent: &str, name: Option<&str>) -> usize {
        let at = match self.index.get_mut(agent) {
            Some(e) => e,
            None => self.index.entry(agent.to_owned()).or_default(),
        };
        let found = match name {
            Some(n) => at.0.get(n).copied(),
            None => at.1,
        };
        if let Some(i) = found {
            return i;
        }
        let i = self.groups.len();
        self.groups
            .push((agent.to_owned(), name.map(str::to_owned), V::default()));
        match name {
            Some(n) => {
                at.0.insert(n.to_owned(), i);
            }
            None => at.1 = Some(i),
        }
        i
    }

    pub fn get_mut(&mut self, agent: &str, name: Option<&str>) -> &mut V {
        let i = self.index(agent, name);
        &mut self.groups[i].2
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_by_agent_and_name() {
        let mut g: ByAgentAndName<i64> = ByAgentAndName::default();
        *g.get_mut("claude", Some("Read")) += 1;
        *g.get_mut("amp", Some("Read")) += 10;
        *g.get_mut("claude", None) += 100;
        *g.get_mut("claude", Some("Read")) += 1;
        assert_eq!(
            g.groups,
            [
                ("claude".into(), Some("Read".into()), 2),
                ("amp".into(), Some("Read".into()), 10),
                ("claude".into(), None, 100),
            ]
        );
    }
}
