//! A one-line progress indicator on stderr, for long reads at a terminal.

use std::io::Write;
use std::time::{Duration, Instant};

pub struct Progress {
    enabled: bool,
    last: Option<Instant>,
    drew: bool,
}

impl Progress {
    /// Draws only when `enabled` (stderr is a terminal and not --quiet).
    pub fn new(enabled: bool) -> Progress {
        Progress {
            enabled,
            last: None,
            drew: false,
        }
    }
}

impl crate::ingest::ReadProgress for Progress {
    /// `done` of `total` bytes read; redrawn at most ten times a second, and only for reads
    /// long enough to be worth watching (32 MiB or more).
    fn update(&mut self, done: u64, total: u64) {
        if !self.enabled || total < 32 << 20 {
            return;
        }
        let now = Instant::now();
        if self
            .last
            .is_some_and(|t| now - t < Duration::from_millis(100))
        {
            return;
        }
        self.last = Some(now);
        self.drew = true;
        let pct = done.saturating_mul(100) / total.max(1);
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "\rreading transcripts: {pct:>3}% ({} of {} MiB)",
            done >> 20,
            total >> 20
        );
        let _ = err.flush();
    }

    /// Clear the line.
    fn finish(&mut self) {
        if self.drew {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[K");
            let _ = err.flush();
            self.drew = false;
        }
    }
}
