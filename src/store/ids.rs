//! Ids by their beginning: what `crate::ids` resolves a typed prefix against.

use anyhow::Result;
use rusqlite::params;

use super::Store;

/// How many matches a prefix query returns at most: enough to list a few candidates and to
/// know there are more.
pub const MAX_MATCHES: i64 = 21;

impl Store {
    /// Analysis ids beginning with `prefix`, in id order (at most [`MAX_MATCHES`]).
    pub fn analysis_ids_with_prefix(&self, prefix: &str) -> Result<Vec<String>> {
        self.read(|c| {
            let mut st = c.prepare_cached(
                "SELECT id FROM analysis_logs WHERE substr(id, 1, length(?1)) = ?1
                 ORDER BY id LIMIT ?2",
            )?;
            let rows = st.query_map(params![prefix, MAX_MATCHES], |r| r.get(0))?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    /// Sessions (tool, id) whose id begins with `prefix`, of one tool or all (at most
    /// [`MAX_MATCHES`]).
    pub fn sessions_with_prefix(
        &self,
        prefix: &str,
        tool: Option<&str>,
    ) -> Result<Vec<(String, String)>> {
        self.read(|c| {
            let mut st = c.prepare_cached(
                "SELECT tool, session_id FROM sessions
                 WHERE substr(session_id, 1, length(?1)) = ?1 AND (?2 IS NULL OR tool = ?2)
                 ORDER BY session_id, tool LIMIT ?3",
            )?;
            let rows = st.query_map(params![prefix, tool, MAX_MATCHES], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    /// Every session id, sorted (for the shortest prefix that tells them apart).
    pub fn session_ids(&self) -> Result<Vec<String>> {
        self.read(|c| {
            let mut st =
                c.prepare_cached("SELECT DISTINCT session_id FROM sessions ORDER BY session_id")?;
            let rows = st.query_map([], |r| r.get(0))?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }
}
