//! Schema migrations keyed by `PRAGMA user_version`, applied in one IMMEDIATE transaction
//! that reads the version itself (so two processes opening a new ledger cannot both migrate).

use std::path::Path;

use anyhow::{Context, Result};
use rusqlite::Connection;

use crate::error::Error;

/// Append-only: never edit a migration that has shipped.
const MIGRATIONS: &[&str] = &[
    include_str!("sql/0001_init.sql"),
    include_str!("sql/0002_analyses.sql"),
    include_str!("sql/0003_tool_call_scope.sql"),
    include_str!("sql/0004_ingest_writes.sql"),
    include_str!("sql/0005_anchored_snapshots.sql"),
    include_str!("sql/0006_open_agent_names.sql"),
    include_str!("sql/0007_price_sources.sql"),
    include_str!("sql/0008_statusline_and_programs.sql"),
    include_str!("sql/0009_push.sql"),
    include_str!("sql/0010_tool_call_key_order.sql"),
    include_str!("sql/0011_usage_slots.sql"),
    include_str!("sql/0012_resolved_prices.sql"),
];

pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

fn user_version(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("PRAGMA user_version", [], |r| r.get(0))?)
}

pub fn check_version(conn: &Connection, path: &Path) -> Result<()> {
    let found = user_version(conn)?;
    if found > SCHEMA_VERSION {
        return Err(Error::DatabaseTooNew {
            path: path.to_owned(),
            found,
            supported: SCHEMA_VERSION,
        }
        .into());
    }
    Ok(())
}

/// A ledger opened read-only is read as it is: one that needs migrating cannot be.
pub fn require_current(conn: &Connection, path: &Path, why: &str) -> Result<()> {
    let found = user_version(conn)?;
    if found < SCHEMA_VERSION {
        anyhow::bail!(
            "the ledger {} has schema version {found} and must be upgraded to {SCHEMA_VERSION} \
             before this tokledger can read it, but it cannot be written: {why}",
            path.display()
        );
    }
    Ok(())
}

pub fn migrate(conn: &mut Connection, path: &Path) -> Result<()> {
    if user_version(conn)? == SCHEMA_VERSION {
        return Ok(());
    }
    let tx = conn.transaction()?;
    let found = user_version(&tx)?;
    if found > SCHEMA_VERSION {
        return Err(Error::DatabaseTooNew {
            path: path.to_owned(),
            found,
            supported: SCHEMA_VERSION,
        }
        .into());
    }
    for (i, sql) in MIGRATIONS
        .iter()
        .enumerate()
        .skip(usize::try_from(found).unwrap_or(0))
    {
        tx.execute_batch(sql)
            .with_context(|| format!("ledger migration {} failed", i + 1))?;
    }
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    tx.commit()?;
    Ok(())
}
