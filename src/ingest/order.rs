//! The reader threads take files from a queue in order; the writer takes their chunks in
//! the same order.

use std::sync::mpsc::Receiver;
use std::sync::{Condvar, Mutex};
use std::time::Instant;

use super::IngestReport;
use super::file::Chunk;
use crate::discover::SourceFile;

/// How many files past the one being written the readers may read: enough that a reader
/// done with a small file goes on to the next instead of waiting, few enough that what is
/// parsed ahead stays small (at most two chunks a file).
pub(super) const READ_AHEAD: usize = 8;

/// Hands out the files to read, in order, at most [`READ_AHEAD`] past the one being written.
#[derive(Default)]
pub(super) struct Queue {
    pub(super) state: Mutex<QueueState>,
    pub(super) moved: Condvar,
}

#[derive(Default)]
pub(super) struct QueueState {
    pub(super) next: usize,
    pub(super) writing: usize,
    pub(super) stopped: bool,
    /// Readers still running: when none is, a file nobody opened will not be.
    pub(super) readers: usize,
    /// Channels of the files being read, at most [`READ_AHEAD`]: made when a reader takes a
    /// file, not one per file up front (~1 KiB each: 30 MB for 28k small files).
    pub(super) open: Vec<(usize, Receiver<Chunk>)>,
}

impl Queue {
    pub(super) fn lock(&self) -> std::sync::MutexGuard<'_, QueueState> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The next file for a reader, waiting while it would be too far ahead; `None` when
    /// all are taken or the writing stopped.
    pub(super) fn take(&self, files: usize) -> Option<usize> {
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

    /// A reader hands over the channel of the file it took.
    /// After the writing stopped the channel is dropped, so the reader's first send fails
    /// and it ends instead of waiting on a full channel nobody drains.
    pub(super) fn opened(&self, file: usize, rx: Receiver<Chunk>) {
        let mut s = self.lock();
        if !s.stopped {
            s.open.push((file, rx));
        }
        drop(s);
        self.moved.notify_all();
    }

    /// A reader is done (or panicked).
    pub(super) fn reader_gone(&self) {
        self.lock().readers -= 1;
        self.moved.notify_all();
    }

    /// The channel of `file` once its reader opens it; `Ok(None)` when no reader will,
    /// `Err(())` when the deadline passed first.
    fn receiver(
        &self,
        file: usize,
        deadline: Option<Instant>,
    ) -> Result<Option<Receiver<Chunk>>, ()> {
        let mut s = self.lock();
        loop {
            if let Some(at) = s.open.iter().position(|(f, _)| *f == file) {
                return Ok(Some(s.open.swap_remove(at).1));
            }
            if s.readers == 0 || s.stopped {
                return Ok(None);
            }
            s = match deadline {
                None => self
                    .moved
                    .wait(s)
                    .unwrap_or_else(std::sync::PoisonError::into_inner),
                Some(d) => {
                    let left = d.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Err(());
                    }
                    self.moved
                        .wait_timeout(s, left)
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .0
                }
            };
        }
    }

    pub(super) fn writing(&self, file: usize) {
        self.lock().writing = file;
        self.moved.notify_all();
    }
}

/// Held by a reader thread: [`Queue::reader_gone`] when it ends, however it ends.
pub(super) struct ReaderGone<'a>(pub(super) &'a Queue);

impl Drop for ReaderGone<'_> {
    fn drop(&mut self) {
        self.0.reader_gone();
    }
}

pub(super) struct StopOnDrop<'a>(pub(super) &'a Queue);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        let mut s = self.0.lock();
        s.stopped = true;
        // Readers blocked on these channels stop at their next chunk.
        s.open.clear();
        drop(s);
        self.0.moved.notify_all();
    }
}

/// The readers' chunks in file order: all of the first file's, then the second's, …
pub(super) struct InOrder<'a> {
    pub(super) files: &'a [SourceFile],
    pub(super) queue: &'a Queue,
    /// The channel of `next_file`, once its reader opened it.
    pub(super) current: Option<Receiver<Chunk>>,
    pub(super) next_file: usize,
    pub(super) deadline: Option<Instant>,
}

impl<'a> InOrder<'a> {
    /// Every file was written, or the deadline passed.
    pub(super) fn done(&self, report: &IngestReport) -> bool {
        self.next_file >= self.files.len() || report.stopped_at_deadline
    }

    /// The next chunk, or `None` when every file is done or the deadline passed (which is
    /// then noted in `report`).
    pub(super) fn next(&mut self, report: &mut IngestReport) -> Option<(&'a SourceFile, Chunk)> {
        while self.next_file < self.files.len() && !report.stopped_at_deadline {
            let i = self.next_file;
            if self.current.is_none() {
                match self.queue.receiver(i, self.deadline) {
                    Ok(rx) => self.current = rx,
                    Err(()) => {
                        report.stopped_at_deadline = true;
                        return None;
                    }
                }
            }
            let chunk = match (&self.current, self.deadline) {
                (None, _) => None,
                (Some(rx), None) => rx.recv().ok(),
                (Some(rx), Some(d)) => {
                    match rx.recv_timeout(d.saturating_duration_since(Instant::now())) {
                        Ok(c) => Some(c),
                        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => None,
                        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                            // Readers blocked on the dropped channels stop at their next chunk.
                            report.stopped_at_deadline = true;
                            return None;
                        }
                    }
                }
            };
            let done = chunk.as_ref().is_none_or(|c| c.last);
            if done {
                self.current = None;
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
