//! The one ingest path: discover → decide what changed → read and parse (in parallel) →
//! write (one writer, file order) → report.
//!
//! Memory stays bounded by the largest line: append-only files are read in chunks of
//! complete lines, and each chunk's events are written before the next is read.

//!
//! The parts: [`file`] reads a file's new bytes in chunks of complete lines on reader
//! threads, [`order`] hands files to the readers and their chunks to the writer in file
//! order, [`write`] writes a chunk in the current commit slice, [`price`] prices responses.

mod file;
mod order;
mod price;
mod write;

pub use price::{Pending, Repriced, settle_costs, settle_costs_with, settle_pending};

use std::sync::mpsc::sync_channel;
use std::time::Instant;

use anyhow::Result;

use crate::cost::Pricer;
use crate::discover::SourceFile;
use crate::store::Store;

use file::{Chunk, read_file, unchanged};
use order::{InOrder, Queue, ReaderGone, StopOnDrop};
use price::PRICE_WHILE_READING;
use write::{account, write_chunk};

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
/// A slice is at least this long before a waiting small writer ends it, and checks for one
/// at most this often: every long read makes progress between the small writes.
const SLICE_AT_LEAST: std::time::Duration = std::time::Duration::from_millis(100);
/// How long a long read lets waiting writers go first between two of its slices.
const YIELD_AT_MOST: std::time::Duration = std::time::Duration::from_secs(2);
/// Reads at least this long checkpoint while they go (see [`ingest_with`]).
const CHECKPOINT_WHILE_READING: u64 = 64 << 20;

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
    /// Responses skipped for a token count no response can have (see
    /// [`Tokens::plausible`](crate::usage::Tokens::plausible)), and the first few of them.
    pub implausible: usize,
    pub implausible_examples: Vec<String>,
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
        if self.implausible > 0 {
            w.push(format!(
                "skipped {} response{} with a token count no response can have (negative, or over {}): {}",
                self.implausible,
                s(self.implausible),
                crate::format::thousands(crate::usage::MAX_RESPONSE_TOKENS),
                self.implausible_examples.join("; ")
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
    let known = store.files_of(files.iter().map(|f| f.path.as_path()))?;
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
    // What prices this read applies is recorded with each response it prices.
    let source = match pricer {
        Some(p) => Some(store.price_source(&p.fingerprint(), &p.describe())?),
        None => None,
    };
    if let Some(s) = source {
        store.forget_prices_all_unless(s)?;
    }
    store.set_read_price_source(source);
    let workers = std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .clamp(1, 4)
        .min(todo.len());
    let queue = Queue::default();
    // A long read's commits are copied from the WAL into the ledger by a second connection
    // while the writer goes on, so that closing copies only the last slice (the copy at
    // close was ~10% of a cold read's wall time). Without it, closing does all the copying.
    let bulk = deadline.is_none() && to_read >= CHECKPOINT_WHILE_READING;
    let checkpointer = bulk.then(|| store.checkpointer().ok()).flatten();
    store.set_bulk(bulk);
    let read = std::thread::scope(|scope| -> Result<()> {
        let slice_done = checkpointer.map(|c| {
            let (tx, rx) = sync_channel::<()>(1);
            scope.spawn(move || {
                while rx.recv().is_ok() {
                    c.passive();
                }
            });
            tx
        });
        // A reader takes the next file from the queue and opens its channel; the writer
        // drains the files' channels in order.
        queue.lock().readers = workers;
        for _ in 0..workers {
            let (queue, known, todo) = (&queue, &known, &todo);
            scope.spawn(move || {
                // However the reader ends (a panic included), the writer stops waiting on it.
                let _gone = ReaderGone(queue);
                while let Some(i) = queue.take(todo.len()) {
                    let (tx, rx) = sync_channel::<Chunk>(2);
                    queue.opened(i, rx);
                    let f = &todo[i];
                    read_file(f, known.get(&f.path), pricer, &tx, chunk_size);
                }
            });
        }
        // However the writing ends (done, deadline, error), readers waiting for a turn stop.
        let _stop = StopOnDrop(&queue);
        // Write in file order (oldest first), so which copy of a response is read first,
        // and so owns it, does not depend on thread timing.
        let mut chunks = InOrder {
            files: &todo,
            queue: &queue,
            current: None,
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
        let mut first_slice = true;
        let ledger = store.path().to_owned();
        while next.is_some() {
            if !std::mem::take(&mut first_slice) {
                store.yield_to_waiting(YIELD_AT_MOST);
            }
            let now = chrono::Utc::now().timestamp_millis();
            let opened = Instant::now();
            let mut next_look = SLICE_AT_LEAST;
            store.ingest(|w| {
                let mut pending = 0;
                while let Some((f, chunk)) = next.take() {
                    account(f, &chunk, &mut report, &mut malformed_in_file);
                    progress.update(report.bytes_read, to_read);
                    if chunk.error.is_none() {
                        write_chunk(w, f, &chunk, now)?;
                    }
                    pending += chunk.bytes;
                    drop(chunk);
                    let held = opened.elapsed();
                    if pending >= commit_every || held >= COMMIT_AFTER {
                        break;
                    }
                    if bulk && held >= next_look {
                        if crate::store::small_writer_waiting(&ledger) {
                            break;
                        }
                        next_look = held + SLICE_AT_LEAST;
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
    });
    store.set_bulk(false);
    read?;
    // The rates resolved while pricing, for later small pricings (issue #18).
    if let (Some(p), Some(s)) = (pricer, source) {
        price::keep_rates(store, p, s)?;
    }
    Ok(report)
}
