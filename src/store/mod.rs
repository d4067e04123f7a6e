//! The ledger: the only module that speaks SQL.
//!
//! One SQLite file in WAL mode. Write transactions take the write lock up front
//! (`BEGIN IMMEDIATE`) so concurrent writers queue on the busy timeout instead of failing on
//! a lock upgrade; a lock held past the timeout becomes [`Error::Locked`] (exit 75).

pub mod analyses;
mod health;
pub mod ids;
mod migrate;
mod prices;
pub mod push;
pub mod reports;
pub mod rollup;
pub mod sessions;
pub mod snapshots;
pub mod spans;
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
    /// Why the ledger can only be read, when it can only be read.
    read_only: Option<String>,
    /// A write transaction committed through this connection.
    wrote: bool,
    /// The prices that price responses while a read parses them (see
    /// [`Store::set_read_price_source`]).
    read_price_source: Option<i64>,
    /// This connection is a long read's: its waits are announced as bulk (see
    /// [`Store::small_writer_waiting`]).
    bulk: bool,
}

impl Drop for Store {
    /// Copy what this command committed into the ledger file before it exits: SQLite does
    /// so by itself only when the last connection closes, and a ledger another process
    /// keeps open would otherwise hold acknowledged writes in the WAL alone until 64 MiB
    /// of them accumulate (a copied or lost WAL would lose them). Passive: it never waits
    /// for, nor blocks, another connection.
    fn drop(&mut self) {
        if self.wrote {
            let _ = self
                .conn
                .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
        }
    }
}

/// The analysis tables: checked before a command writes into them (see
/// [`Store::write_checked`]).
pub(crate) const ANALYSIS_TABLES: [&str; 3] =
    ["analysis_logs", "analysis_usage", "analysis_snapshots"];

impl Store {
    /// Open (creating it if needed) and migrate the ledger at `path`. A ledger this user
    /// can read but not write opens read-only ([`Store::read_only`]): reading commands show
    /// what it holds, writes fail saying why.
    pub fn open(path: &Path, busy: Duration) -> Result<Store> {
        if let Some(dir) = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty() && !d.is_dir())
        {
            std::fs::create_dir_all(dir).with_context(|| {
                format!("could not create the ledger directory {}", dir.display())
            })?;
        }
        if let Err(h) = health::check_header(path) {
            anyhow::bail!(h.message(path));
        }
        let writable = Connection::open(path)
            .map_err(anyhow::Error::from)
            .and_then(|conn| {
                let read_only = conn
                    .is_readonly(rusqlite::MAIN_DB)
                    .unwrap_or(false)
                    .then(|| health::read_only_cause(path, 0));
                let mut store = Store {
                    conn,
                    path: path.to_owned(),
                    busy,
                    read_only,
                    wrote: false,
                    bulk: false,
                    read_price_source: None,
                };
                store.init()?;
                Ok(store)
            });
        let err = match writable {
            Ok(store) => return Ok(store),
            Err(e) => e,
        };
        // SQLite could open the file but not write it (or create its -wal/-shm files):
        // reading may still work.
        let code = err
            .chain()
            .filter_map(|c| c.downcast_ref::<rusqlite::Error>())
            .find_map(rusqlite::Error::sqlite_error);
        let why = match code {
            Some(f) if matches!(f.code, ErrorCode::ReadOnly | ErrorCode::CannotOpen) => {
                health::read_only_cause(path, f.extended_code)
            }
            Some(f)
                if f.code == ErrorCode::DiskFull
                    || f.extended_code == rusqlite::ffi::SQLITE_IOERR_SHMSIZE =>
            {
                "the disk holding it is full".to_owned()
            }
            _ => return Err(Self::classify_at(path, busy, None, err)),
        };
        if !path.is_file() {
            return Err(Self::classify_at(path, busy, None, err));
        }
        Self::open_read_only(path, busy, why.clone())
            .map_err(|_| Self::classify_at(path, busy, Some(&why), err))
    }

    /// Open for reading only. When SQLite cannot create the -shm file either and the WAL
    /// holds nothing, the file alone is the whole ledger: open it as immutable.
    fn open_read_only(path: &Path, busy: Duration, why: String) -> Result<Store> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI;
        let try_open = |conn: Connection| -> Result<Store> {
            conn.busy_timeout(busy)?;
            migrate::check_version(&conn, path)?;
            migrate::require_current(&conn, path, &why)?;
            conn.pragma_update(None, "query_only", true)?;
            Ok(Store {
                conn,
                path: path.to_owned(),
                busy,
                read_only: Some(why.clone()),
                wrote: false,
                bulk: false,
                read_price_source: None,
            })
        };
        let first = Connection::open_with_flags(path, flags)
            .map_err(anyhow::Error::from)
            .and_then(try_open);
        let wal_empty = std::fs::metadata(wal_path(path)).map_or(true, |m| m.len() == 0);
        match first {
            Err(e) if wal_empty && !is_typed(&e) => {
                let uri = format!("file:{}?immutable=1", uri_path(path));
                Connection::open_with_flags(uri, flags)
                    .map_err(anyhow::Error::from)
                    .and_then(try_open)
            }
            r => r,
        }
    }

    /// What `PRAGMA quick_check` finds wrong in the whole file (empty: nothing): every
    /// page of every table and index, so it takes time in proportion to the ledger.
    pub fn damage(&self) -> Result<Vec<String>> {
        let found = self.read(|c| {
            let mut stmt = c.prepare("PRAGMA quick_check(100)")?;
            let rows = stmt
                .query_map([], |r| r.get::<_, String>(0))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        });
        match found {
            Ok(rows) if rows.len() == 1 && rows[0] == "ok" => Ok(Vec::new()),
            Ok(rows) => Ok(rows),
            Err(e) => Ok(vec![e.to_string()]),
        }
    }

    /// Why this ledger can only be read, when it can only be read.
    pub fn read_only(&self) -> Option<&str> {
        self.read_only.as_deref()
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

    /// Run `f` in one write transaction (IMMEDIATE); commit when it returns `Ok`. While it
    /// waits for the write lock it says so (see [`Store::yield_to_waiting`]).
    pub fn write<T>(
        &mut self,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T>,
    ) -> Result<T> {
        let r = (|| {
            let waiting = Waiting::announce(&self.path, self.bulk);
            let tx = self.conn.transaction()?;
            drop(waiting);
            let v = f(&tx)?;
            tx.commit()?;
            self.wrote = true;
            Ok(v)
        })();
        r.map_err(|e| self.classify(e))
    }

    /// [`Store::write`] into the analysis tables, after checking their pages: a damaged
    /// ledger takes no more writes (SQLite notices damage only in the pages a statement
    /// reads, so a mark could otherwise succeed into a broken file).
    pub fn write_checked<T>(
        &mut self,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T>,
    ) -> Result<T> {
        if self.read_only.is_none()
            && let Err(why) = health::check_tables(&self.conn, &ANALYSIS_TABLES)
        {
            anyhow::bail!(health::damaged(&self.path, &why));
        }
        self.write(f)
    }

    /// Before a long read takes the write lock again for its next slice: let the writers
    /// that are waiting for it go first (at most `max`), so a `mark` never waits behind
    /// slice after slice of first reads — SQLite's busy handler polls, and a lock given up
    /// and taken again at once leaves a poller only the moment in between. Every writer
    /// announces itself while it waits, so concurrent long reads take turns too.
    pub fn yield_to_waiting(&self, max: Duration) {
        let started = std::time::Instant::now();
        while started.elapsed() < max && Waiting::others(&self.path, false) {
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    /// The source of the prices a read applies as it parses (`None`: it prices nothing).
    pub fn set_read_price_source(&mut self, source: Option<i64>) {
        self.read_price_source = source;
    }

    /// Mark this connection's writes as a long read's slices (or not).
    pub fn set_bulk(&mut self, bulk: bool) {
        self.bulk = bulk;
    }

    /// Whether a writer that is not a long read (a `mark`, a hook, a `start`) waits for the
    /// lock now: a long read then ends its slice early, so such a writer waits for a
    /// fraction of a slice, not for slice after slice of several reads.
    pub fn small_writer_waiting(&self) -> bool {
        small_writer_waiting(&self.path)
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

    /// Turn SQLite's busy/locked errors into the typed error behind exit 75, and errors of
    /// the file itself into words naming the ledger.
    fn classify(&self, e: anyhow::Error) -> anyhow::Error {
        Self::classify_at(&self.path, self.busy, self.read_only.as_deref(), e)
    }

    fn classify_at(
        path: &Path,
        busy: Duration,
        read_only: Option<&str>,
        e: anyhow::Error,
    ) -> anyhow::Error {
        if is_typed(&e) {
            return e;
        }
        let Some(sqlite) = e
            .chain()
            .filter_map(|c| c.downcast_ref::<rusqlite::Error>())
            .next()
        else {
            return e;
        };
        if matches!(
            sqlite.sqlite_error_code(),
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
        ) {
            let waited_ms = u64::try_from(busy.as_millis()).unwrap_or(u64::MAX);
            return Error::Locked {
                path: path.to_owned(),
                waited_ms,
            }
            .into();
        }
        match health::explain(path, sqlite, read_only) {
            Some(words) => anyhow::anyhow!(words),
            None => e,
        }
    }
}

/// [`Store::small_writer_waiting`] for the ledger at `path` (usable while a transaction
/// borrows the store).
pub fn small_writer_waiting(path: &Path) -> bool {
    Waiting::others(path, true)
}

/// Whether `e` already carries one of our typed errors (its message is final).
fn is_typed(e: &anyhow::Error) -> bool {
    e.chain().any(|c| c.downcast_ref::<Error>().is_some())
}

fn wal_path(ledger: &Path) -> PathBuf {
    let mut name = ledger.as_os_str().to_owned();
    name.push("-wal");
    PathBuf::from(name)
}

/// `path` for an SQLite `file:` URI: absolute, with `%`, `?` and `#` escaped.
fn uri_path(path: &Path) -> String {
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
    let mut out = String::new();
    for c in abs.to_string_lossy().chars() {
        match c {
            '%' => out.push_str("%25"),
            '?' => out.push_str("%3f"),
            '#' => out.push_str("%23"),
            c => out.push(c),
        }
    }
    out
}

/// The seven token buckets as statement parameters, in the column order every table uses.
/// A writer waiting for the write lock: an empty file of its own in `<ledger>.waiting/`,
/// removed once it has the lock (or gave up). Files older than [`STALE`] are a killed
/// process's and are ignored.
struct Waiting(Option<PathBuf>);

/// The name prefix of a long read's announcement.
const BULK: &str = "bulk-";

/// A wait longer than this is not a live writer's (busy timeouts are seconds).
const STALE: Duration = Duration::from_secs(120);

impl Waiting {
    fn dir(ledger: &Path) -> PathBuf {
        let mut name = ledger.file_name().unwrap_or_default().to_owned();
        name.push(".waiting");
        ledger.with_file_name(name)
    }

    /// Best effort: a ledger folder we cannot write into just gets no announcement.
    fn announce(ledger: &Path, bulk: bool) -> Waiting {
        static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let dir = Self::dir(ledger);
        let seq = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let kind = if bulk { BULK } else { "" };
        let file = dir.join(format!("{kind}{}-{seq}", std::process::id()));
        let made = std::fs::create_dir_all(&dir).and_then(|()| {
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&file)
                .map(drop)
        });
        Waiting(made.ok().map(|()| file))
    }

    /// Whether some writer is waiting now (only small ones: `small_only`).
    fn others(ledger: &Path, small_only: bool) -> bool {
        let Ok(entries) = std::fs::read_dir(Self::dir(ledger)) else {
            return false;
        };
        entries.filter_map(Result::ok).any(|e| {
            (!small_only || !e.file_name().to_string_lossy().starts_with(BULK))
                && e.metadata()
                    .ok()
                    .and_then(|m| m.modified().ok())
                    .and_then(|t| t.elapsed().ok())
                    .is_some_and(|age| age < STALE)
        })
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        if let Some(f) = &self.0 {
            let _ = std::fs::remove_file(f);
        }
    }
}

/// The `SET` clauses of an upsert into a table of running sums (`session_usage`,
/// `usage_slots`): the seven token buckets, cost and counts added to the row's.
macro_rules! added_sums {
    () => {
        "input_tokens = input_tokens + excluded.input_tokens,
                 cache_creation_tokens = cache_creation_tokens + excluded.cache_creation_tokens,
                 cache_creation_5m_tokens = cache_creation_5m_tokens + excluded.cache_creation_5m_tokens,
                 cache_creation_1h_tokens = cache_creation_1h_tokens + excluded.cache_creation_1h_tokens,
                 cache_read_tokens = cache_read_tokens + excluded.cache_read_tokens,
                 output_tokens = output_tokens + excluded.output_tokens,
                 reasoning_tokens = reasoning_tokens + excluded.reasoning_tokens,
                 cost_nusd = cost_nusd + excluded.cost_nusd,
                 unpriced = unpriced + excluded.unpriced,
                 pending = pending + excluded.pending"
    };
}
pub(crate) use added_sums;

/// A response's share of running sums (tokens, cost, unpriced, pending), added (`sign` 1) or
/// taken out (−1): the running totals and the rollup count responses alike.
pub(crate) fn count_into(
    (tokens, cost_nusd, unpriced, pending): (
        &mut crate::usage::Tokens,
        &mut i64,
        &mut i64,
        &mut i64,
    ),
    u: &crate::usage::UsageEvent,
    sign: i64,
) {
    *tokens = if sign > 0 {
        tokens.add(&u.tokens)
    } else {
        tokens.sub(&u.tokens)
    };
    *cost_nusd = cost_nusd.saturating_add(sign.saturating_mul(u.cost_nusd.unwrap_or(0)));
    *unpriced += sign * i64::from(u.priced && u.cost_nusd.is_none());
    *pending += sign * i64::from(!u.priced);
}

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

    #[test]
    fn a_long_read_yields_while_a_writer_waits_and_only_then() {
        use super::{Store, Waiting};
        use std::time::Duration;
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(&dir.path().join("l.db"), Duration::from_secs(1)).expect("open");
        let t = std::time::Instant::now();
        store.yield_to_waiting(Duration::from_secs(2));
        assert!(
            t.elapsed() < Duration::from_millis(100),
            "nobody waits: no pause"
        );
        let waiter = Waiting::announce(store.path(), false);
        assert!(waiter.0.is_some());
        let t = std::time::Instant::now();
        let gone = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(150));
            drop(waiter);
        });
        store.yield_to_waiting(Duration::from_secs(2));
        gone.join().expect("join");
        let waited = t.elapsed();
        assert!(
            waited >= Duration::from_millis(140) && waited < Duration::from_secs(1),
            "{waited:?}"
        );
        // A writer's own transaction leaves no announcement behind.
        let mut store = store;
        store.write(|_| Ok(())).expect("write");
        assert!(!Waiting::others(store.path(), false));
        let bulk = Waiting::announce(store.path(), true);
        assert!(Waiting::others(store.path(), false) && !store.small_writer_waiting());
        drop(bulk);
    }

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
            read_only: None,
            wrote: false,
            bulk: false,
            read_price_source: None,
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
