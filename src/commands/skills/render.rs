//! `tokledger skills render`: write `integrations/<agent>/…` from the templates, or
//! (`--check`) say which committed files differ from what the templates render.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::ctx::Ctx;
use crate::error::Error;
use crate::skills::{Rendered, agents, render_all};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Output folder (one folder per agent below it)
    #[arg(long, value_name = "DIR", default_value = "integrations")]
    pub out: PathBuf,
    /// Write nothing; exit 1 when a file under DIR is missing, differs, or was not rendered
    #[arg(long)]
    pub check: bool,
}

pub fn run(ctx: &Ctx, args: &Args) -> Result<()> {
    let files = render_all()?;
    if args.check {
        let problems = stale(&args.out, &files);
        if problems.is_empty() {
            ctx.status(&format!(
                "{} files under {} match the templates",
                files.len(),
                args.out.display()
            ));
            return Ok(());
        }
        for p in &problems {
            eprintln!("  {p}");
        }
        return Err(Error::InvalidState(format!(
            "{} file(s) under {} are stale: run `make assemble-skills` (tokledger skills render) and commit the result",
            problems.len(),
            args.out.display()
        ))
        .into());
    }
    let mut written = 0;
    for f in &files {
        let dest = args.out.join(&f.path);
        if std::fs::read_to_string(&dest).ok().as_deref() == Some(f.text.as_str()) {
            continue;
        }
        if let Some(dir) = dest.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("could not create {}", dir.display()))?;
        }
        std::fs::write(&dest, &f.text)
            .with_context(|| format!("could not write {}", dest.display()))?;
        ctx.status(&format!("wrote {}", dest.display()));
        written += 1;
    }
    // Nothing is deleted: DIR may hold files of the user's own. --check lists leftovers.
    ctx.status(&format!(
        "{written} of {} files under {} updated",
        files.len(),
        args.out.display()
    ));
    Ok(())
}

/// What differs between `out` and the rendered files: missing, changed, or present below
/// an agent's folder without a template behind it (a renamed or removed template).
fn stale(out: &Path, files: &[Rendered]) -> Vec<String> {
    let mut problems = Vec::new();
    for f in files {
        let dest = out.join(&f.path);
        match std::fs::read_to_string(&dest) {
            Ok(text) if text == f.text => {}
            Ok(_) => problems.push(format!("{}: differs from its template", dest.display())),
            Err(_) => problems.push(format!("{}: missing", dest.display())),
        }
    }
    let expected: BTreeSet<PathBuf> = files.iter().map(|f| out.join(&f.path)).collect();
    for agent in agents() {
        for entry in walkdir::WalkDir::new(out.join(agent))
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_file())
        {
            if !expected.contains(entry.path()) {
                problems.push(format!(
                    "{}: no template renders it (remove it)",
                    entry.path().display()
                ));
            }
        }
    }
    problems
}
