//! The one ingest path: discover → decide what changed → read and parse (in parallel) →
//! write (one writer, file order) → report.
//!
//! Memory stays bounded by the largest line: append-only files are read in chunks of
//! complete lines, and each chunk's events are written before the next is read.

use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Instant;

use anyhow::Result;

use crate::agents::{self, AgentSpec, Parsed, Source};
use crate::cost::Pricer;
use crate::discover::SourceFile;
use crate::money::to_nano;
use crate::store::Store;
use crate::store::write::{FileRecord, FileUpdate, IngestTx};

const CHUNK: usize = 8 << 20;
/// Chunks of a read with a deadline: small enough that even a slow build parses and commits
/// one well within a hook's time, so every hook call makes progress.
const BUDGET_CHUNK: usize = 1 << 20;
/// Commit after this many bytes read or this long, whichever comes first, so a long first
/// read holds the write lock in slices and a killed process keeps what it had committed.
/// Large slices matter: each commit writes every page it changed to the WAL, and the key
/// indexes take random inserts, so 32 MiB slices wrote ~1.5× the WAL of 128 MiB ones.
const COMMIT_EVERY: u64 = 128 << 20;
const COMMIT_AFTER: std::time::Duration = std::time::Duration::from_secs(1);
/// Reads at least this long checkpoint while they go (see [`ingest_with`]).
const CHECKPOINT_WHILE_READING: u64 = 64 << 20;
const HASH_WINDOW: u64 = 4096;

/// Told how far a long read has come (the renderer draws it; ingest prints nothing).
pub trait ReadProgress {
    /// `done` of `total` bytes read.
    fn update(&mut self, done: u64, total: u64);
    fn finish(&mut self);
}

/// No progress shown.
pub struct Silent;

impl ReadProgress for Silent {
    fn update(&mut self, _done: u64, _total: u64) {}
    fn finish(&mut self) {}
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct IngestReport {
    pub files_seen: usize,
    pub files_read: usize,
    pub bytes_read: u64,
    pub usage_events: usize,
    pub malformed_lines: usize,
    pub malformed_files: usize,
    pub lossy_lines: usize,
    pub incomplete_files: usize,
    /// Files that could not be read, with the reason.
    pub unreadable: Vec<String>,
    /// The read reached its deadline and stopped; the rest is read next time.
    pub stopped_at_deadline: bool,
}

impl IngestReport {
    /// One line per kind of problem, for stderr.
    pub fn warnings(&self) -> Vec<String> {
        let mut w = Vec::new();
        let s = |n: usize| if n == 1 { "" } else { "s" };
        if self.malformed_lines > 0 {
            w.push(format!(
                "skipped {} malformed line{} in {} file{}",
                self.malformed_lines,
                s(self.malformed_lines),
                self.malformed_files,
                s(self.malformed_files)
            ));
        }
        if self.lossy_lines > 0 {
            w.push(format!(
                "read {} line{} with invalid UTF-8 (bad bytes replaced)",
                self.lossy_lines,
                s(self.lossy_lines)
            ));
        }
        if self.incomplete_files > 0 {
            w.push(format!(
                "{} file{} end{} in an incomplete line or document, left for the next read",
                self.incomplete_files,
                s(self.incomplete_files),
                if self.incomplete_files == 1 { "s" } else { "" }
            ));
        }
        if self.stopped_at_deadline {
            w.push("the read stopped at its time limit; the rest is read next time".into());
        }
        w.extend(
            self.unreadable
                .iter()
                .map(|u| format!("could not read {u}")),
        );
        w
    }
}

/// FNV-1a: a small, stable content check (not a security hash).
fn fnv1a(bytes: &[u8]) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    i64::from_ne_bytes(h.to_ne_bytes())
}

fn hash_range(f: &File, start: u64, len: u64) -> std::io::Result<i64> {
    let mut buf = vec![0; usize::try_from(len).unwrap_or(0)];
    f.read_exact_at(&mut buf, start)?;
    Ok(fnv1a(&buf))
}

/// Content checks of what was consumed: its first and last few KiB.
fn content_hashes(f: &File, consumed: u64) -> std::io::Result<(i64, i64)> {
    let w = consumed.min(HASH_WINDOW);
    Ok((hash_range(f, 0, w)?, hash_range(f, consumed - w, w)?))
}

/// A piece of a file's read, sent from a reader thread to the writer.
struct Chunk {
    parsed: Parsed,
    /// Absolute offset up to which the file is now consumed.
    consumed: u64,
    hashes: (i64, i64),
    bytes: u64,
    last: bool,
    error: Option<String>,
}

impl Chunk {
    fn failed(e: &std::io::Error, path: &Path) -> Chunk {
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
fn unchanged(f: &SourceFile, rec: Option<&FileRecord>, fmt: &dyn AgentSpec) -> bool {
    rec.is_some_and(|r| {
        r.parser_version == fmt.parser_version()
            && r.size == crate::store::to_i64(f.size)
            && r.mtime_ns == f.mtime_ns
    })
}

/// Read one file from where it was left (or from the start if it was rewritten), sending
/// chunks of parsed complete lines.
fn read_file(
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

fn read_open_file(
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
    let size = file.metadata()?.len();
    // Continue where we stopped only if what we consumed is still there, byte for byte.
    let resume = match rec {
        Some(r) if !fmt.whole_document() && r.parser_version == fmt.parser_version() => {
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

    if fmt.whole_document() {
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

/// Price each response now (on the reader threads) when the pricer is given.
fn price(parsed: &mut Parsed, tool: crate::usage::Agent, pricer: Option<&Pricer>) {
    let Some(pricer) = pricer else { return };
    let now = chrono::Utc::now().timestamp_millis();
    for e in &mut parsed.usage {
        let at = e.timestamp_ms.unwrap_or(now);
        e.cost_nusd = pricer
            .price(tool, e.model.as_deref(), &e.tokens, e.speed.as_deref(), at)
            .map(to_nano);
        e.priced = true;
    }
}

/// Reads at least this large are priced as they are read; smaller ones (a `mark`, a hook)
/// leave their few responses to be priced when a cost is asked for, so they do not pay for
/// loading the price database (tens of milliseconds).
const PRICE_WHILE_READING: u64 = 8 << 20;

/// Read everything that changed among `files` into the store.
pub fn ingest(store: &mut Store, files: Vec<SourceFile>, pricer: &Pricer) -> Result<IngestReport> {
    ingest_with(store, files, Some(pricer), None, &mut Silent)
}

/// As [`ingest`]; with a deadline, read in small chunks, commit each one, and write no
/// chunk after the deadline (`stopped_at_deadline`). What was committed stays, and the
/// next read continues from there (a file cut short keeps its record at size −1).
pub fn ingest_until(
    store: &mut Store,
    files: Vec<SourceFile>,
    pricer: &Pricer,
    deadline: Option<Instant>,
) -> Result<IngestReport> {
    ingest_with(store, files, Some(pricer), deadline, &mut Silent)
}

/// The read behind all the others: a pricer when the caller will want costs (large reads
/// are then priced as they are read), an optional deadline, and a progress line to draw.
pub fn ingest_with(
    store: &mut Store,
    files: Vec<SourceFile>,
    pricer: Option<&Pricer>,
    deadline: Option<Instant>,
    progress: &mut dyn ReadProgress,
) -> Result<IngestReport> {
    let chunk_size = if deadline.is_some() {
        BUDGET_CHUNK
    } else {
        CHUNK
    };
    let known = store.files()?;
    let mut report = IngestReport {
        files_seen: files.len(),
        ..Default::default()
    };
    let todo: Vec<SourceFile> = files
        .into_iter()
        .filter(|f| !unchanged(f, known.get(&f.path), f.tool.spec()))
        .collect();
    if todo.is_empty() {
        return Ok(report);
    }
    let to_read: u64 = todo
        .iter()
        .map(|f| {
            let done = known
                .get(&f.path)
                .map_or(0, |r| u64::try_from(r.consumed).unwrap_or(0));
            f.size.saturating_sub(done.min(f.size))
        })
        .sum();
    // A read against a deadline (the hook's) never loads the price database.
    let pricer = pricer.filter(|_| deadline.is_none() && to_read >= PRICE_WHILE_READING);
    let workers = std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .clamp(1, 4)
        .min(todo.len());
    let queue = Queue::default();
    // A long read's commits are copied from the WAL into the ledger by a second connection
    // while the writer goes on, so that closing copies only the last slice (the copy at
    // close was ~10% of a cold read's wall time). Without it, closing does all the copying.
    let checkpointer = (deadline.is_none() && to_read >= CHECKPOINT_WHILE_READING)
        .then(|| store.checkpointer().ok())
        .flatten();
    std::thread::scope(|scope| -> Result<()> {
        let slice_done = checkpointer.map(|c| {
            let (tx, rx) = sync_channel::<()>(1);
            scope.spawn(move || {
                while rx.recv().is_ok() {
                    c.passive();
                }
            });
            tx
        });
        // One channel per file: a reader takes the next file to read from the queue, and the
        // writer drains the files' channels in order.
        let (senders, receivers): (Vec<_>, Vec<_>) = todo
            .iter()
            .map(|_| {
                let (tx, rx) = sync_channel::<Chunk>(2);
                (Mutex::new(Some(tx)), rx)
            })
            .unzip();
        // Held by the readers only: when the last one ends (or panics), the senders of files
        // nobody took are dropped and the writer's wait for them ends.
        let senders = Arc::new(senders);
        for _ in 0..workers {
            let (senders, queue, known, todo) = (Arc::clone(&senders), &queue, &known, &todo);
            scope.spawn(move || {
                while let Some(i) = queue.take(todo.len()) {
                    let tx = senders[i]
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .take();
                    if let Some(tx) = tx {
                        let f = &todo[i];
                        read_file(f, known.get(&f.path), pricer, &tx, chunk_size);
                    }
                }
            });
        }
        drop(senders);
        // However the writing ends (done, deadline, error), readers waiting for a turn stop.
        let _stop = StopOnDrop(&queue);
        // Write in file order (oldest first), so which copy of a response is read first,
        // and so owns it, does not depend on thread timing.
        let mut chunks = InOrder {
            files: &todo,
            receivers: &receivers,
            queue: &queue,
            next_file: 0,
            deadline,
        };
        let commit_every = if deadline.is_some() { 0 } else { COMMIT_EVERY };
        let mut malformed_in_file = 0;
        let mut next = chunks.next(&mut report);
        // Each chunk is written as soon as it arrives, inside a transaction that stays open
        // until about `commit_every` bytes are in or `COMMIT_AFTER` has passed: the readers
        // parse the next chunks while this one is written, and a long first read still
        // commits in slices (a concurrent `mark` waits for one slice at most).
        while next.is_some() {
            let now = chrono::Utc::now().timestamp_millis();
            let opened = Instant::now();
            store.ingest(|w| {
                let mut pending = 0;
                while let Some((f, chunk)) = next.take() {
                    account(&chunk, &mut report, &mut malformed_in_file);
                    progress.update(report.bytes_read, to_read);
                    if chunk.error.is_none() {
                        write_chunk(w, f, &chunk, now)?;
                    }
                    pending += chunk.bytes;
                    drop(chunk);
                    if pending >= commit_every || opened.elapsed() >= COMMIT_AFTER {
                        break;
                    }
                    next = chunks.next(&mut report);
                }
                Ok(())
            })?;
            // A checkpoint still running takes this slice along with the next.
            if let Some(tx) = &slice_done {
                let _ = tx.try_send(());
            }
            if next.is_none() && !chunks.done(&report) {
                next = chunks.next(&mut report);
            }
        }
        progress.finish();
        Ok(())
    })?;
    Ok(report)
}

/// How many files past the one being written the readers may read: enough that a reader
/// done with a small file goes on to the next instead of waiting, few enough that what is
/// parsed ahead stays small (at most two chunks a file).
const READ_AHEAD: usize = 8;

/// Hands out the files to read, in order, at most [`READ_AHEAD`] past the one being written.
#[derive(Default)]
struct Queue {
    state: Mutex<QueueState>,
    moved: Condvar,
}

#[derive(Default)]
struct QueueState {
    next: usize,
    writing: usize,
    stopped: bool,
}

impl Queue {
    fn lock(&self) -> std::sync::MutexGuard<'_, QueueState> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The next file for a reader, waiting while it would be too far ahead; `None` when
    /// all are taken or the writing stopped.
    fn take(&self, files: usize) -> Option<usize> {
        let mut s = self.lock();
        loop {
            if s.stopped || s.next >= files {
                return None;
            }
            if s.next < s.writing + READ_AHEAD {
                s.next += 1;
                return Some(s.next - 1);
            }
            s = self
                .moved
                .wait(s)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
    }

    fn writing(&self, file: usize) {
        self.lock().writing = file;
        self.moved.notify_all();
    }
}

struct StopOnDrop<'a>(&'a Queue);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.lock().stopped = true;
        self.0.moved.notify_all();
    }
}

/// The readers' chunks in file order: all of the first file's, then the second's, …
struct InOrder<'a> {
    files: &'a [SourceFile],
    receivers: &'a [Receiver<Chunk>],
    queue: &'a Queue,
    next_file: usize,
    deadline: Option<Instant>,
}

impl<'a> InOrder<'a> {
    /// Every file was written, or the deadline passed.
    fn done(&self, report: &IngestReport) -> bool {
        self.next_file >= self.files.len() || report.stopped_at_deadline
    }

    /// The next chunk, or `None` when every file is done or the deadline passed (which is
    /// then noted in `report`).
    fn next(&mut self, report: &mut IngestReport) -> Option<(&'a SourceFile, Chunk)> {
        while self.next_file < self.files.len() && !report.stopped_at_deadline {
            let i = self.next_file;
            let rx = &self.receivers[i];
            let chunk = match self.deadline {
                None => rx.recv().ok(),
                Some(d) => match rx.recv_timeout(d.saturating_duration_since(Instant::now())) {
                    Ok(c) => Some(c),
                    Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => None,
                    Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                        // Readers blocked on the dropped channels stop at their next chunk.
                        report.stopped_at_deadline = true;
                        return None;
                    }
                },
            };
            let done = chunk.as_ref().is_none_or(|c| c.last);
            if done {
                self.next_file += 1;
                self.queue.writing(self.next_file);
            }
            if let Some(c) = chunk {
                return Some((&self.files[i], c));
            }
        }
        None
    }
}

/// Count a chunk into the report.
fn account(chunk: &Chunk, report: &mut IngestReport, malformed_in_file: &mut usize) {
    if let Some(e) = &chunk.error {
        report.unreadable.push(e.clone());
        *malformed_in_file = 0;
        return;
    }
    let p = &chunk.parsed;
    report.bytes_read += chunk.bytes;
    report.usage_events += p.usage.len();
    report.malformed_lines += p.malformed;
    report.lossy_lines += p.lossy_utf8;
    *malformed_in_file += p.malformed;
    if chunk.last {
        report.files_read += 1;
        report.incomplete_files += usize::from(p.incomplete_tail);
        report.malformed_files += usize::from(*malformed_in_file > 0);
        *malformed_in_file = 0;
    }
}

fn write_chunk(w: &mut IngestTx<'_>, f: &SourceFile, chunk: &Chunk, now_ms: i64) -> Result<()> {
    let fmt = f.tool.spec();
    let p = &chunk.parsed;
    let path = f.path.to_string_lossy();
    // A file whose content names its session (old-layout sub-agent files) is filed under
    // the first session it names.
    let session = f
        .role
        .session_hint
        .as_deref()
        .or_else(|| p.sessions.first().map(|s| s.session_id.as_str()));
    let file_id = w.save_file(&FileUpdate {
        path: &path,
        tool: f.tool,
        session_id: session,
        // Until the last chunk is in, the record must not look like the whole file was
        // read: a run stopped between chunks then resumes from `consumed` next time.
        size: if chunk.last {
            crate::store::to_i64(f.size)
        } else {
            -1
        },
        mtime_ns: f.mtime_ns,
        consumed: crate::store::to_i64(chunk.consumed),
        head_hash: chunk.hashes.0,
        tail_hash: chunk.hashes.1,
        parser_version: fmt.parser_version(),
        parser_state: p.state.as_deref(),
        read_at_ms: now_ms,
    })?;
    for e in &p.usage {
        w.add_usage(f.tool, file_id, e)?;
    }
    for c in &p.tools {
        w.add_tool_call(f.tool, c)?;
    }
    for c in &p.compactions {
        w.add_compaction(f.tool, c)?;
    }
    let mtime_ms = f.mtime_ns / 1_000_000;
    let main = f.role.main && !f.archived;
    let mut touched: HashMap<&str, ()> = HashMap::new();
    for s in &p.sessions {
        touched.insert(&s.session_id, ());
        w.touch_session(f.tool, s, &path, main, mtime_ms)?;
    }
    if let Some(hint) = f.role.session_hint.as_deref()
        && !touched.contains_key(hint)
    {
        w.touch_session(
            f.tool,
            &crate::usage::SessionInfo::new(hint),
            &path,
            main,
            mtime_ms,
        )?;
    }
    Ok(())
}

/// Price every response of `session` (or of all sessions) that is not priced yet.
pub fn settle_costs(
    store: &mut Store,
    pricer: &Pricer,
    session: Option<(crate::usage::Agent, &str)>,
) -> Result<()> {
    let pending = store.unpriced(session)?;
    if pending.is_empty() {
        return Ok(());
    }
    let now = chrono::Utc::now().timestamp_millis();
    // Every stored response names an agent of the registry (the writer stores only those).
    let costs: Vec<(i64, Option<i64>)> = pending
        .iter()
        .filter_map(|u| {
            let tool = crate::usage::Agent::parse(&u.tool)?;
            let cost = pricer.price(
                tool,
                u.model.as_deref(),
                &u.tokens,
                u.speed.as_deref(),
                u.ts_ms.unwrap_or(now),
            );
            Some((u.rowid, cost.map(to_nano)))
        })
        .collect();
    store.set_costs(&costs)
}
