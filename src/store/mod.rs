//! The ledger: the only module that speaks SQL.
//!
//! One SQLite file in WAL mode. Write transactions take the write lock up front
//! (`BEGIN IMMEDIATE`) so concurrent writers queue on the busy timeout instead of failing on
//! a lock upgrade; a lock held past the timeout becomes [`Error::Locked`] (exit 75).

pub mod analyses;
mod migrate;
pub mod reports;
pub mod sessions;
pub mod snapshots;
pub mod write;

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};
use rusqlite::{Connection, ErrorCode, OpenFlags, TransactionBehavior};

use crate::error::Error;

/// The page size of a new ledger.
const PAGE_SIZE: i64 = 16 << 10;

pub use migrate::SCHEMA_VERSION;

/// See [`Store::checkpointer`].
pub struct Checkpointer(Connection);

impl Checkpointer {
    /// Copy what is committed so far, and say how many WAL frames there were and how many
    /// are now in the ledger file; a failure (`None`) only leaves the work to a later
    /// checkpoint.
    pub fn passive(&self) -> Option<(i64, i64)> {
        self.0
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
                Ok((r.get(1)?, r.get(2)?))
            })
            .ok()
    }
}

pub struct Store {
    conn: Connection,
    path: PathBuf,
    busy: Duration,
}

impl Store {
    /// Open (creating it if needed) and migrate the ledger at `path`.
    pub fn open(path: &Path, busy: Duration) -> Result<Store> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).with_context(|| {
                format!("could not create the ledger directory {}", dir.display())
            })?;
        }
        let conn = Connection::open(path)
            .with_context(|| format!("could not open the ledger {}", path.display()))?;
        let mut store = Store {
            conn,
            path: path.to_owned(),
            busy,
        };
        store.init().map_err(|e| store.classify(e))?;
        Ok(store)
    }

    fn init(&mut self) -> Result<()> {
        self.conn.busy_timeout(self.busy)?;
        // Refuse a newer ledger before anything could write to it.
        migrate::check_version(&self.conn, &self.path)?;
        // 16 KiB pages for a new ledger (no-op for an existing one): a first read of a
        // large history writes and checkpoints a quarter as many pages, ~10% faster than
        // 4 KiB (8, 32 and 64 KiB measured slower than 16).
        self.conn.pragma_update(None, "page_size", PAGE_SIZE)?;
        let mode: String = self
            .conn
            .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") && !mode.eq_ignore_ascii_case("memory") {
            anyhow::bail!(
                "could not switch the ledger {} to WAL mode (got {mode})",
                self.path.display()
            );
        }
        self.conn.pragma_update(None, "synchronous", "NORMAL")?;
        self.conn.pragma_update(None, "foreign_keys", "ON")?;
        // 32 MiB of page cache: a first read of a large history then spills less to the WAL
        // mid-transaction (memory stays well under the 100 MB budget).
        self.conn.pragma_update(None, "cache_size", -32768)?;
        // Checkpoint the WAL every ~64 MiB instead of every 1000 pages: fewer copy-and-fsync
        // passes during a first read; readers are unaffected.
        let page: i64 = self.conn.query_row("PRAGMA page_size", [], |r| r.get(0))?;
        self.conn
            .pragma_update(None, "wal_autocheckpoint", (64 << 20) / page.max(512))?;
        // Statement journals (every multi-row upsert keeps one) stay in memory instead of a
        // temporary file.
        self.conn.pragma_update(None, "temp_store", "MEMORY")?;
        self.conn
            .set_transaction_behavior(TransactionBehavior::Immediate);
        migrate::migrate(&mut self.conn, &self.path)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Run `f` in one write transaction (IMMEDIATE); commit when it returns `Ok`.
    pub fn write<T>(
        &mut self,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T>,
    ) -> Result<T> {
        let r = (|| {
            let tx = self.conn.transaction()?;
            let v = f(&tx)?;
            tx.commit()?;
            Ok(v)
        })();
        r.map_err(|e| self.classify(e))
    }

    /// A second connection to the ledger that copies committed WAL frames into the
    /// database file (a passive checkpoint: it never waits for, nor blocks, a writer).
    pub fn checkpointer(&self) -> Result<Checkpointer> {
        // Never creates a file: a ledger removed meanwhile must not come back empty.
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(&self.path, flags)?;
        Ok(Checkpointer(conn))
    }

    /// Read-only access (a deferred read transaction is implicit per statement).
    pub fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        f(&self.conn).map_err(|e| self.classify(e))
    }

    /// Turn SQLite's busy/locked errors into the typed error behind exit 75.
    fn classify(&self, e: anyhow::Error) -> anyhow::Error {
        let busy = e
            .chain()
            .filter_map(|c| c.downcast_ref::<rusqlite::Error>())
            .any(|c| {
                matches!(
                    c.sqlite_error_code(),
                    Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
                )
            });
        if busy {
            let waited_ms = u64::try_from(self.busy.as_millis()).unwrap_or(u64::MAX);
            return Error::Locked {
                path: self.path.clone(),
                waited_ms,
            }
            .into();
        }
        e
    }
}

/// The seven token buckets as statement parameters, in the column order every table uses.
pub(crate) fn token_params(t: &crate::usage::Tokens) -> [&dyn rusqlite::ToSql; 7] {
    [
        &t.input_tokens,
        &t.cache_creation_tokens,
        &t.cache_creation_5m_tokens,
        &t.cache_creation_1h_tokens,
        &t.cache_read_tokens,
        &t.output_tokens,
        &t.reasoning_tokens,
    ]
}

/// SQLite stores i64; sizes and offsets fit.
pub(crate) fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::Store;

    #[test]
    fn the_checkpointer_copies_committed_frames_and_creates_nothing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("ledger.db");
        let mut store = Store::open(&path, Duration::from_secs(1)).expect("open");
        store
            .write(|tx| Ok(tx.execute_batch("CREATE TABLE t(x); INSERT INTO t VALUES (1);")?))
            .expect("write");
        let (frames, copied) = store
            .checkpointer()
            .expect("second connection")
            .passive()
            .expect("checkpoint");
        assert!(frames > 0, "the write left frames in the WAL");
        assert_eq!(copied, frames);
        drop(store);
        std::fs::remove_file(&path).expect("remove the ledger");
        let gone = Store {
            conn: rusqlite::Connection::open_in_memory().expect("memory"),
            path: path.clone(),
            busy: Duration::from_secs(1),
        };
        assert!(gone.checkpointer().is_err());
        assert!(!path.exists(), "no empty ledger was created");
    }

    /// The bundled SQLite is built with the options in `.cargo/config.toml`.
    #[test]
    fn sqlite_is_built_with_our_options() {
        let conn = rusqlite::Connection::open_in_memory().expect("open");
        let mut stmt = conn.prepare("PRAGMA compile_options").expect("prepare");
        let options: Vec<String> = stmt
            .query_map([], |r| r.get(0))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows");
        for want in ["DEFAULT_MEMSTATUS=0", "OMIT_SHARED_CACHE"] {
            assert!(options.iter().any(|o| o == want), "{want} in {options:?}");
        }
    }
}
