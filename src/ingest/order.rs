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

    pub(super) fn writing(&self, file: usize) {
        self.lock().writing = file;
        self.moved.notify_all();
    }
}

pub(super) struct StopOnDrop<'a>(pub(super) &'a Queue);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.lock().stopped = true;
        self.0.moved.notify_all();
    }
}

/// The readers' chunks in file order: all of the first file's, then the second's, …
pub(super) struct InOrder<'a> {
    pub(super) files: &'a [SourceFile],
    pub(super) receivers: &'a [Receiver<Chunk>],
    pub(super) queue: &'a Queue,
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
