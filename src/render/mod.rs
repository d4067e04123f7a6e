//! Output: tables and JSON written to a `Write`. Knows nothing of SQL or clap.

pub mod analysis;
pub mod export;
pub mod human;
pub mod progress;
pub mod sessions;

use std::io::Write;

use anyhow::Result;
use comfy_table::{ContentArrangement, Table, presets};

/// Pretty JSON plus a newline.
pub fn write_json<T: serde::Serialize>(out: &mut dyn Write, value: &T) -> Result<()> {
    serde_json::to_writer_pretty(&mut *out, value)?;
    writeln!(out)?;
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
    t.set_header(header.iter().copied());
    t
}

pub fn write_table(out: &mut dyn Write, t: &Table) -> Result<()> {
    for line in t.lines() {
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}
