//! A transcript file's new bytes, read in chunks of complete lines and parsed.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::mpsc::SyncSender;

use super::price::price;
use crate::agents::{self, AgentSpec, Parsed, Source};
use crate::cost::Pricer;
use crate::discover::SourceFile;
use crate::store::write::FileRecord;

pub(super) const HASH_WINDOW: u64 = 4096;
/// The longest line read (a Claude line with an image inlined is a few MiB): a longer one is
/// skipped as malformed, so a file ending in gigabytes without a newline (what a crash or a
/// sparse file leaves) costs at most this much memory.
pub(super) const MAX_LINE: usize = 64 << 20;
/// The largest document read whole (Amp threads are a few MiB).
pub(super) const MAX_DOCUMENT: u64 = 4 * MAX_LINE as u64;

/// FNV-1a: a small, stable content check (not a security hash).
pub(super) fn fnv1a(bytes: &[u8]) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    i64::from_ne_bytes(h.to_ne_bytes())
}

pub(super) fn hash_range(f: &File, start: u64, len: u64) -> std::io::Result<i64> {
    let mut buf = vec![0; usize::try_from(len).unwrap_or(0)];
    f.read_exact_at(&mut buf, start)?;
    Ok(fnv1a(&buf))
}

/// Content checks of what was consumed: its first and last few KiB.
pub(super) fn content_hashes(f: &File, consumed: u64) -> std::io::Result<(i64, i64)> {
    let w = consumed.min(HASH_WINDOW);
    Ok((hash_range(f, 0, w)?, hash_range(f, consumed - w, w)?))
}

/// A piece of a file's read, sent from a reader thread to the writer.
pub(super) struct Chunk {
    pub(super) parsed: Parsed,
    /// Absolute offset up to which the file is now consumed.
    pub(super) consumed: u64,
    pub(super) hashes: (i64, i64),
    pub(super) bytes: u64,
    pub(super) last: bool,
    pub(super) error: Option<String>,
}

impl Chunk {
    pub(super) fn failed(e: &std::io::Error, path: &Path) -> Chunk {
        Chunk {
            parsed: Parsed::default(),
            consumed: 0,
            hashes: (0, 0),
            bytes: 0,
            last: true,
            error: Some(format!("{}: {e}", path.display())),
        }
    }
}

/// Whether a file needs reading at all, from its size and mtime.
pub(super) fn unchanged(f: &SourceFile, rec: Option<&FileRecord>, fmt: &dyn AgentSpec) -> bool {
    rec.is_some_and(|r| {
        r.parser_version == fmt.parser_version()
            && r.size == crate::store::to_i64(f.size)
            && r.mtime_ns == f.mtime_ns
    })
}

/// Read one file from where it was left (or from the start if it was rewritten), sending
/// chunks of parsed complete lines.
pub(super) fn read_file(
    f: &SourceFile,
    rec: Option<&FileRecord>,
    pricer: Option<&Pricer>,
    tx: &SyncSender<Chunk>,
    chunk_size: usize,
) {
    let fmt = f.tool.spec();
    let mut file = match File::open(&f.path) {
        Ok(h) => h,
        Err(e) => {
            let _ = tx.send(Chunk::failed(&e, &f.path));
            return;
        }
    };
    if let Err(e) = read_open_file(fmt, f, rec, pricer, &mut file, tx, chunk_size) {
        let _ = tx.send(Chunk::failed(&e, &f.path));
    }
}

pub(super) fn read_open_file(
    fmt: &dyn AgentSpec,
    f: &SourceFile,
    rec: Option<&FileRecord>,
    pricer: Option<&Pricer>,
    file: &mut File,
    tx: &SyncSender<Chunk>,
    chunk_size: usize,
) -> std::io::Result<()> {
    let src = Source {
        path: &f.path,
        role: &f.role,
    };
    if let Some(queries) = fmt.database(&f.path) {
        return read_database(fmt, f, rec, pricer, queries, tx);
    }
    let size = file.metadata()?.len();
    // Continue where we stopped only if what we consumed is still there, byte for byte.
    let resume = match rec {
        Some(r) if !fmt.whole_document(&f.path) && r.parser_version == fmt.parser_version() => {
            let consumed = u64::try_from(r.consumed).unwrap_or(0);
            let same =
                consumed <= size && content_hashes(file, consumed)? == (r.head_hash, r.tail_hash);
            same.then(|| (consumed, r.parser_state.clone()))
        }
        _ => None,
    };
    let (mut offset, mut state) = resume.unwrap_or((0, None));
    if size < offset {
        offset = 0;
        state = None;
    }

    if fmt.whole_document(&f.path) && size > MAX_DOCUMENT {
        // Not read at all (memory stays bounded); named as malformed until it changes.
        let _ = tx.send(Chunk {
            parsed: agents::Parsed {
                malformed: 1,
                ..agents::Parsed::default()
            },
            consumed: size,
            hashes: content_hashes(file, size)?,
            bytes: 0,
            last: true,
            error: None,
        });
        return Ok(());
    }
    if fmt.whole_document(&f.path) {
        let mut buf = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
        file.read_to_end(&mut buf)?;
        let mut parsed = fmt.parse(&src, &buf, None);
        parsed.merge_tool_halves();
        price(&mut parsed, f.tool, pricer);
        let consumed = parsed.consumed as u64;
        let hashes = if consumed > 0 {
            content_hashes(file, consumed)?
        } else {
            (0, 0)
        };
        let _ = tx.send(Chunk {
            parsed,
            consumed,
            hashes,
            bytes: buf.len() as u64,
            last: true,
            error: None,
        });
        return Ok(());
    }

    file.seek(SeekFrom::Start(offset))?;
    // Room for a whole chunk up front: grown from empty, the buffer was copied on every
    // doubling (one extra copy of everything read).
    let unread = usize::try_from(size - offset).unwrap_or(usize::MAX);
    let mut buf: Vec<u8> = Vec::with_capacity(unread.min(chunk_size) + 1);
    loop {
        // Top the buffer up to the chunk size; a line longer than that doubles it.
        let want = if buf.len() < chunk_size {
            chunk_size - buf.len()
        } else {
            buf.len()
        };
        let n = file.by_ref().take(want as u64).read_to_end(&mut buf)?;
        let eof = n == 0;
        let cut = agents::lines::complete_prefix_len(&buf);
        if cut == 0 && buf.len() >= MAX_LINE {
            // No line is this long: skip it to its end (or the file's), so memory stays
            // bounded by MAX_LINE whatever the file holds.
            let (skipped, eof) = skip_line(file, &mut buf)?;
            offset += skipped;
            let parsed = agents::Parsed {
                malformed: 1,
                ..agents::Parsed::default()
            };
            let hashes = content_hashes(file, offset)?;
            let chunk = Chunk {
                parsed,
                consumed: offset,
                hashes,
                bytes: skipped,
                last: eof,
                error: None,
            };
            if tx.send(chunk).is_err() || eof {
                return Ok(());
            }
            continue;
        }
        if cut == 0 && !eof {
            continue;
        }
        // At the end the parser also sees the unterminated tail, to report it.
        let mut parsed = fmt.parse(&src, if eof { &buf } else { &buf[..cut] }, state.as_deref());
        parsed.merge_tool_halves();
        price(&mut parsed, f.tool, pricer);
        let used = parsed.consumed;
        offset += used as u64;
        state.clone_from(&parsed.state);
        let hashes = content_hashes(file, offset)?;
        let chunk = Chunk {
            parsed,
            consumed: offset,
            hashes,
            bytes: used as u64,
            last: eof,
            error: None,
        };
        if tx.send(chunk).is_err() || eof {
            return Ok(());
        }
        buf.drain(..used);
    }
}

/// How far back of its watermark a database is read again: a write that OpenCode stamped
/// before another but committed after our last read is not missed (merges make the re-read
/// count nothing twice).
const DATABASE_REREAD_MS: i64 = 5_000;

/// A database source (OpenCode): the rows its queries return since the watermark kept as
/// the file's `consumed` (ms), handed to the parser one per line. Read-only: a reader never
/// blocks or is blocked by the agent's writes (WAL), and never checkpoints its log.
fn read_database(
    fmt: &dyn AgentSpec,
    f: &SourceFile,
    rec: Option<&FileRecord>,
    pricer: Option<&Pricer>,
    queries: &[&str],
    tx: &SyncSender<Chunk>,
) -> std::io::Result<()> {
    let io = |e: rusqlite::Error| {
        std::io::Error::other(format!(
            "{} (read as the agent's database): {e}",
            f.path.display()
        ))
    };
    let since = rec
        .filter(|r| r.parser_version == fmt.parser_version() && r.size >= 0)
        .map_or(0, |r| (r.consumed - DATABASE_REREAD_MS).max(0));
    let conn = rusqlite::Connection::open_with_flags(
        &f.path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(io)?;
    conn.busy_timeout(std::time::Duration::from_secs(2))
        .map_err(io)?;
    let mut text: Vec<u8> = Vec::new();
    let mut newest = since;
    // One read transaction: every query sees the same state of the database.
    conn.execute_batch("BEGIN").map_err(io)?;
    for q in queries {
        let mut st = conn.prepare(q).map_err(io)?;
        let mut rows = if st.parameter_count() == 0 {
            st.query([])
        } else {
            st.query([since])
        }
        .map_err(io)?;
        while let Some(r) = rows.next().map_err(io)? {
            let json: String = r.get(0).map_err(io)?;
            let updated: Option<i64> = r.get(1).map_err(io)?;
            text.extend_from_slice(json.as_bytes());
            text.push(b'\n');
            newest = newest.max(updated.unwrap_or(0));
        }
    }
    drop(conn);
    let src = Source {
        path: &f.path,
        role: &f.role,
    };
    let mut parsed = fmt.parse(&src, &text, None);
    parsed.merge_tool_halves();
    price(&mut parsed, f.tool, pricer);
    let _ = tx.send(Chunk {
        parsed,
        consumed: u64::try_from(newest).unwrap_or(0),
        hashes: (0, 0),
        bytes: text.len() as u64,
        last: true,
        error: None,
    });
    Ok(())
}

/// Drop the overlong line that `buf` starts: read on to its newline (or the end of the file)
/// in small blocks; `buf` keeps what follows the newline. How many bytes the line took, and
/// whether the file ended first.
fn skip_line(file: &mut File, buf: &mut Vec<u8>) -> std::io::Result<(u64, bool)> {
    let mut skipped = buf.len() as u64;
    buf.clear();
    let mut block = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut block)?;
        if n == 0 {
            return Ok((skipped, true));
        }
        if let Some(i) = memchr::memchr(b'\n', &block[..n]) {
            skipped += i as u64 + 1;
            buf.extend_from_slice(&block[i + 1..n]);
            return Ok((skipped, false));
        }
        skipped += n as u64;
    }
}
