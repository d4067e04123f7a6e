//! What is wrong with the ledger file itself, said in words: the path, the cause and what to
//! do — SQLite's own messages ("disk I/O error: Error code 4874") name none of them. Also
//! the cheap checks run before writing into a file that may be damaged.

use std::path::Path;

use anyhow::Result;
use rusqlite::{Connection, ErrorCode, ffi};

/// The first 100 bytes of an SQLite file: magic, page size, in-header page count.
const HEADER: usize = 100;

/// The words for an error SQLite raised on the ledger at `path`, or `None` when it is not
/// about the file (a constraint, a bug: those keep their own message).
pub fn explain(path: &Path, e: &rusqlite::Error, read_only_why: Option<&str>) -> Option<String> {
    let rusqlite::Error::SqliteFailure(f, msg) = e else {
        return None;
    };
    let p = path.display();
    let ext = f.extended_code;
    let detail = format!("SQLite: {}", msg.clone().unwrap_or_else(|| f.to_string()));
    let s = match f.code {
        ErrorCode::DiskFull => format!(
            "the disk holding the ledger {p} is full ({detail}); nothing was written: free some space and retry"
        ),
        ErrorCode::SystemIoFailure if ext == ffi::SQLITE_IOERR_SHMSIZE => format!(
            "could not grow the ledger's shared-memory file {p}-shm: the disk is probably full \
             ({detail}); nothing was written: free some space and retry"
        ),
        ErrorCode::SystemIoFailure => format!(
            "an I/O error on the ledger {p} or its -wal/-shm files (extended code {ext}; {detail}); \
             nothing was written: the disk may be full or failing (check `df` and the system log)"
        ),
        ErrorCode::ReadOnly => {
            let why = read_only_why.map_or_else(|| read_only_cause(path, ext), |w| w.to_owned());
            format!(
                "the ledger {p} cannot be written: {why}; nothing was written (fix that, or \
                 pass --db or TOKLEDGER_DB another ledger)"
            )
        }
        ErrorCode::CannotOpen => format!(
            "could not open the ledger {p}: {}; pass --db (or TOKLEDGER_DB) a ledger you can open",
            open_cause(path)
        ),
        ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase => damaged(path, &detail),
        ErrorCode::PermissionDenied => {
            format!("the system refused access to the ledger {p} ({detail}); nothing was written")
        }
        ErrorCode::FileLockingProtocolFailed => format!(
            "the ledger {p} could not be locked ({detail}): is it on a network file system? \
             Keep the ledger on a local disk (--db)"
        ),
        _ => return None,
    };
    Some(s)
}

/// The message for a damaged ledger: what it holds that nothing else does, and how to keep it.
pub fn damaged(path: &Path, detail: &str) -> String {
    let p = path.display();
    format!(
        "the ledger {p} is damaged ({detail}); nothing was written. Keep a copy of it, then \
         move it aside: a new ledger reads the transcripts again, but analyses live only in \
         this file (`sqlite3 {p} .recover` salvages what it can)"
    )
}

/// Why a ledger SQLite opened read-only cannot be written, in words.
pub fn read_only_cause(path: &Path, ext: i32) -> String {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if ext == ffi::SQLITE_READONLY_DIRECTORY {
        return format!(
            "its folder {} is not writable, and SQLite keeps the -wal and -shm files beside it",
            dir.display()
        );
    }
    match std::fs::OpenOptions::new().write(true).open(path) {
        Err(e) => describe_io(&e),
        Ok(_) => match std::fs::metadata(dir) {
            Ok(m) if m.permissions().readonly() => format!(
                "its folder {} is not writable (SQLite keeps the -wal and -shm files there)",
                dir.display()
            ),
            _ => "SQLite opened it read-only (its -wal or -shm file may not be writable)".into(),
        },
    }
}

/// Why a file cannot be opened, from the file system itself (SQLite does not say).
fn open_cause(path: &Path) -> String {
    match std::fs::metadata(path) {
        Ok(m) if m.is_dir() => "it is a folder".into(),
        Ok(_) => match std::fs::OpenOptions::new().read(true).open(path) {
            Err(e) => describe_io(&e),
            Ok(_) => "SQLite could not open it or create its -wal/-shm files beside it".into(),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            match path.parent().map(std::fs::metadata) {
                Some(Err(pe)) => format!("its folder cannot be used ({pe})"),
                _ => format!(
                    "it does not exist and cannot be created there ({})",
                    create_error(path)
                ),
            }
        }
        Err(e) => describe_io(&e),
    }
}

fn create_error(path: &Path) -> String {
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
    {
        Ok(_) => {
            let _ = std::fs::remove_file(path);
            "no reason the file system gives".into()
        }
        Err(e) => e.to_string(),
    }
}

/// An I/O error in words (the OS's own words when it has no plainer ones).
fn describe_io(e: &std::io::Error) -> String {
    use std::io::ErrorKind as K;
    match e.kind() {
        K::PermissionDenied => "permission denied for this user".into(),
        K::ReadOnlyFilesystem => "the file system is mounted read-only".into(),
        K::NotFound => "it does not exist".into(),
        K::StorageFull => "the disk is full".into(),
        _ => e.to_string(),
    }
}

/// What is wrong with a ledger's first bytes.
pub enum Header {
    /// Not an SQLite file at all: another file given as the ledger.
    Foreign,
    Damaged(String),
}

impl Header {
    pub fn message(&self, path: &Path) -> String {
        match self {
            Header::Foreign => format!(
                "{} is not a tokledger ledger: it is not an SQLite file; nothing was written \
                 (pass --db or TOKLEDGER_DB a ledger's path, or a new file's)",
                path.display()
            ),
            Header::Damaged(why) => damaged(path, why),
        }
    }
}

/// A damaged header, or a file without a WAL whose length is not whole pages: cheap to see
/// (one 100-byte read), and what a truncation, a partial copy or an overwrite at the start
/// leaves.
pub fn check_header(path: &Path) -> Result<(), Header> {
    use std::io::Read;
    let Ok(mut f) = std::fs::File::open(path) else {
        return Ok(()); // SQLite says why when it opens it
    };
    let len = f.metadata().map_or(0, |m| m.len());
    if len == 0 {
        return Ok(()); // a new ledger
    }
    let mut h = [0u8; HEADER];
    let n = f.read(&mut h).unwrap_or(0);
    if !b"SQLite format 3\0".starts_with(&h[..n.min(16)]) || n == 0 {
        return Err(Header::Foreign);
    }
    if n < HEADER {
        return Err(Header::Damaged(format!(
            "{len} bytes, shorter than an SQLite header"
        )));
    }
    let page = match u32::from(u16::from_be_bytes([h[16], h[17]])) {
        1 => 65_536,
        p => p,
    };
    if !(512..=65_536).contains(&page) || !page.is_power_of_two() {
        return Err(Header::Damaged(format!(
            "its header gives an impossible page size ({page})"
        )));
    }
    // Mid-checkpoint (or after one the disk cut short) the file may end in a partial page
    // while the WAL still holds every page: only a file without a WAL must be whole pages.
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    let wal_empty = std::fs::metadata(wal).map_or(true, |m| m.len() == 0);
    if wal_empty && len % u64::from(page) != 0 {
        return Err(Header::Damaged(format!(
            "its length ({len} bytes) is not a whole number of {page}-byte pages: truncated or appended to"
        )));
    }
    Ok(())
}

/// `PRAGMA quick_check` of the named tables and their indexes (their b-tree pages, not the
/// whole file): milliseconds on the small analysis tables, run before writing into them.
pub fn check_tables(conn: &Connection, tables: &[&str]) -> Result<(), String> {
    for t in tables {
        let mut stmt = conn
            .prepare(&format!("PRAGMA quick_check({t})"))
            .map_err(|e| e.to_string())?;
        let rows: Vec<String> = stmt
            .query_map([], |r| r.get(0))
            .and_then(Iterator::collect)
            .map_err(|e| e.to_string())?;
        if rows.first().map(String::as_str) != Some("ok") {
            let first = rows.first().cloned().unwrap_or_default();
            return Err(format!("table {t}: {first}"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(extended: i32) -> rusqlite::Error {
        rusqlite::Error::SqliteFailure(ffi::Error::new(extended), None)
    }

    #[test]
    fn each_file_error_names_the_ledger_and_its_cause() {
        let p = Path::new("/l/ledger.db");
        let say = |code| explain(p, &failure(code), None).expect("a file error");
        assert!(say(ffi::SQLITE_FULL).contains("the disk holding the ledger /l/ledger.db is full"));
        assert!(
            say(ffi::SQLITE_IOERR_SHMSIZE).contains("/l/ledger.db-shm: the disk is probably full")
        );
        assert!(say(ffi::SQLITE_IOERR_WRITE).contains("an I/O error on the ledger /l/ledger.db"));
        assert!(say(ffi::SQLITE_READONLY_DIRECTORY).contains("its folder /l is not writable"));
        assert!(
            say(ffi::SQLITE_CORRUPT).contains("is damaged")
                && say(ffi::SQLITE_NOTADB).contains(".recover")
        );
        assert!(say(ffi::SQLITE_PERM).contains("refused access"));
        assert!(say(ffi::SQLITE_PROTOCOL).contains("network file system"));
        assert_eq!(
            explain(p, &failure(ffi::SQLITE_READONLY), Some("the disk holding it is full")),
            Some("the ledger /l/ledger.db cannot be written: the disk holding it is full; nothing was written (fix that, or pass --db or TOKLEDGER_DB another ledger)".into())
        );
        // Not about the file: the error keeps its own message.
        assert!(explain(p, &failure(ffi::SQLITE_CONSTRAINT), None).is_none());
        assert!(explain(p, &rusqlite::Error::QueryReturnedNoRows, None).is_none());
    }
}
