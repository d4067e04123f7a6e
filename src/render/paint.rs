//! Colour: the one place that decides whether tables are coloured and how. Cells are styled
//! where they are made (headers here, totals and failures by their report); whether the
//! styles reach the output is decided once per run (`--color`, `NO_COLOR`, `CLICOLOR_FORCE`,
//! a terminal: `Ctx`) and applied by `write_table`. JSON and CSV are never coloured.

use std::sync::atomic::{AtomicBool, Ordering};

use comfy_table::{Attribute, Cell, Color};

static ENABLED: AtomicBool = AtomicBool::new(false);

/// Set once, when the run's settings are resolved.
pub fn set_enabled(on: bool) {
    ENABLED.store(on, Ordering::Relaxed);
}

pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// A column header.
pub fn header(text: &str) -> Cell {
    Cell::new(text)
        .fg(Color::Cyan)
        .add_attribute(Attribute::Bold)
}

/// A cell of a totals row.
pub fn total(text: impl ToString) -> Cell {
    let c = Cell::new(text);
    // An empty cell would print a style and its reset around nothing.
    if c.content().is_empty() {
        return c;
    }
    c.fg(Color::Yellow).add_attribute(Attribute::Bold)
}

/// A totals row: every cell painted as one.
pub fn total_row<S: ToString>(cells: impl IntoIterator<Item = S>) -> Vec<Cell> {
    cells.into_iter().map(total).collect()
}

/// A count of failures: red when there are any.
pub fn failures(text: String, count: i64) -> Cell {
    let c = Cell::new(text);
    if count > 0 { c.fg(Color::Red) } else { c }
}

/// A row status: `failed` in red.
pub fn status(status: &str) -> Cell {
    let c = Cell::new(status);
    if status == "failed" {
        c.fg(Color::Red)
    } else {
        c
    }
}
