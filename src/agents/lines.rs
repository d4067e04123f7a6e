//! Complete-line iteration over a byte buffer, and lenient line decoding.

use std::borrow::Cow;

/// Yields `(line_without_newline)` for each `\n`-terminated line; an unterminated tail is
/// not yielded (it is still being written). `consumed` is where the last full line ended.
pub struct Lines<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Lines<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Lines { buf, pos: 0 }
    }

    pub fn consumed(&self) -> usize {
        self.pos
    }

    /// True when bytes remain after the last complete line.
    pub fn has_tail(&self) -> bool {
        self.buf[self.pos..]
            .iter()
            .any(|b| !b.is_ascii_whitespace())
    }
}

impl<'a> Iterator for Lines<'a> {
    type Item = &'a [u8];
    fn next(&mut self) -> Option<&'a [u8]> {
        let rest = &self.buf[self.pos..];
        let nl = memchr::memchr(b'\n', rest)?;
        self.pos += nl + 1;
        let line = &rest[..nl];
        Some(line.strip_suffix(b"\r").unwrap_or(line))
    }
}

/// The byte offset just past the last `\n` in `buf` (0 when there is none).
pub fn complete_prefix_len(buf: &[u8]) -> usize {
    memchr::memrchr(b'\n', buf).map_or(0, |i| i + 1)
}

/// A line as valid UTF-8: borrowed when it already is, lossily repaired when not
/// (one stray byte in a tool output must not hide the usage on the same line). A byte-order
/// mark before it (an editor saved the file) is not part of the JSON.
pub fn utf8_line(line: &[u8]) -> (Cow<'_, str>, bool) {
    let line = line.strip_prefix(b"\xef\xbb\xbf").unwrap_or(line);
    // NULs before a line (a crash left a sparse block, then the agent wrote on) are not JSON.
    let line = &line[line.iter().take_while(|b| **b == 0).count()..];
    // SIMD validation: on long tool results std's check was ~14% of a Claude read.
    match simdutf8::basic::from_utf8(line) {
        Ok(s) => (Cow::Borrowed(s), false),
        Err(_) => (String::from_utf8_lossy(line), true),
    }
}

/// True when the line holds any of the needles (a cheap filter before JSON parsing).
pub fn contains_any(line: &[u8], needles: &[memchr::memmem::Finder<'_>]) -> bool {
    needles.iter().any(|f| f.find(line).is_some())
}
