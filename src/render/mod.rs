//! Output: tables and JSON written to a `Write`. Knows nothing of SQL or clap.

pub mod analysis;
pub mod export;
pub mod human;
pub mod paint;
pub mod report;
pub mod sessions;
pub mod statusline;
pub mod work;

use std::io::Write;

use anyhow::Result;
use comfy_table::{ContentArrangement, Table, presets};

/// Pretty JSON plus a newline. Serialised first, then written: a write error then stays an
/// `io::Error` (serde_json would wrap it), so a closed pipe (`| head`) is a quiet exit.
pub fn write_json<T: serde::Serialize>(out: &mut dyn Write, value: &T) -> Result<()> {
    // Streamed: a whole history's session list is tens of MB, which a buffer of the whole
    // document held twice over at its peak (most of a cold read's memory on many small files).
    let mut w = std::io::BufWriter::with_capacity(1 << 16, out);
    serde_json::to_writer_pretty(&mut w, value)?;
    w.write_all(b"\n")?;
    w.flush()?;
    Ok(())
}

/// A table that fits the terminal when stdout is one, and stays plain when piped.
pub fn new_table(header: &[&str], tty: bool) -> Table {
    let mut t = Table::new();
    if tty {
        t.load_preset(presets::UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Dynamic);
    } else {
        t.load_preset(presets::NOTHING).force_no_tty();
    }
    t.set_header(header.iter().map(|h| paint::header(h)));
    t
}

/// Every table goes out through here, coloured when the run says so (`paint`). Cells hold
/// text from transcripts and arguments, so control characters are shown escaped (JSON and
/// CSV keep the text as it is); a table holding any is written without colour, since its
/// escapes could not then be told from ours.
pub fn write_table(out: &mut dyn Write, t: &Table) -> Result<()> {
    let mut t = t.clone();
    let colour = paint::enabled() && !has_control_chars(&t);
    if colour {
        t.enforce_styling();
        t.style_text_only();
    } else {
        // Styled cells print plain only when comfy-table takes stdout for no terminal; it
        // then no longer asks the terminal for its width, so give it the width first.
        if let Some(w) = t.width() {
            t.set_width(w);
        }
        t.force_no_tty();
    }
    for line in t.lines() {
        if colour {
            writeln!(out, "{}", line.trim_end())?;
        } else {
            writeln!(out, "{}", crate::format::printable(line.trim_end(), false))?;
        }
    }
    Ok(())
}

fn has_control_chars(t: &Table) -> bool {
    // A line break in a cell is a line of the table, not a character on the terminal.
    let bad = |c: &comfy_table::Cell| c.content().chars().any(|c| c.is_control() && c != '\n');
    t.header()
        .into_iter()
        .chain(t.row_iter())
        .any(|r| r.cell_iter().any(bad))
}

/// One CSV record (RFC 4180, by the `csv` crate): fields with a comma, quote or line break
/// are quoted; lines end in `\n`. Flushed here, so a write error (a closed pipe) is returned,
/// not lost in a drop.
pub fn write_csv_line<S: AsRef<str>>(out: &mut dyn Write, fields: &[S]) -> Result<()> {
    let mut w = csv::WriterBuilder::new()
        .buffer_capacity(512)
        .from_writer(out);
    w.write_record(fields.iter().map(|f| f.as_ref()))?;
    w.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn csv_quotes_what_needs_it() {
        let mut out = Vec::new();
        super::write_csv_line(&mut out, &["a", "b,c", "say \"hi\"", ""]).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "a,\"b,c\",\"say \"\"hi\"\"\",\n"
        );
    }
}
