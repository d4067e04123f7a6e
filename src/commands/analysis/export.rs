//! `tokledger analysis export`

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::ctx::Ctx;
use crate::store::analyses::AnalysisFilter;

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Yaml,
    Md,
    Json,
    Csv,
}

#[derive(clap::Args, Debug)]
pub struct Args {
    #[arg(long, value_enum, default_value_t = Format::Json)]
    pub format: Format,
    /// Write here instead of stdout
    #[arg(long)]
    pub out: Option<PathBuf>,
}

pub fn run(ctx: &Ctx, args: &Args) -> Result<()> {
    let store = ctx.open_store()?;
    let rows = store.analyses(&AnalysisFilter::default())?;
    let mut buf: Vec<u8> = Vec::new();
    let w: &mut dyn Write = &mut buf;
    match args.format {
        Format::Yaml => crate::render::export::yaml(w, &rows)?,
        Format::Md => crate::render::export::markdown(w, &rows, &crate::usage::now_rfc3339())?,
        Format::Json => crate::render::export::json(w, &rows)?,
        Format::Csv => crate::render::export::csv(w, &rows)?,
    }
    match &args.out {
        Some(path) => {
            // Written whole, then moved into place: a reader never sees half a file.
            let tmp = path.with_extension("tmp-export");
            std::fs::write(&tmp, &buf)
                .with_context(|| format!("could not write {}", tmp.display()))?;
            std::fs::rename(&tmp, path)
                .with_context(|| format!("could not write {}", path.display()))?;
            ctx.status(&format!(
                "exported {} analyses to {}",
                rows.len(),
                path.display()
            ));
        }
        None => std::io::stdout().lock().write_all(&buf)?,
    }
    Ok(())
}
