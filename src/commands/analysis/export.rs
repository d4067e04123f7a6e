//! `tokledger analysis export`

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::ctx::Ctx;

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
    #[command(flatten)]
    pub filters: super::list::Filters,
}

pub fn run(ctx: &Ctx, args: &Args) -> Result<()> {
    let filter = args.filters.filter()?;
    let store = ctx.open_store()?;
    let rows = store.analyses(&filter)?;
    let mut buf: Vec<u8> = Vec::new();
    let w: &mut dyn Write = &mut buf;
    match args.format {
        Format::Yaml => crate::render::export::yaml(w, &rows)?,
        Format::Md => {
            let all: Vec<_> = rows.iter().collect();
            let work = super::work::work_of(&store, &all)?;
            crate::render::export::markdown(w, &rows, &work, &crate::usage::now_rfc3339())?;
        }
        Format::Json => crate::render::export::json(w, &rows)?,
        Format::Csv => crate::render::export::csv(w, &rows)?,
    }
    match &args.out {
        Some(path) => {
            write_whole(path, &buf)?;
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

/// Write `bytes` to `path` whole: into a temporary file of its own beside it (named for this
/// process, so concurrent exports never share one), then moved into place, so a reader never
/// sees half a file. Only a regular file (or nothing) is replaced: a symlink, FIFO or device
/// there is an error, not something to turn into a file. The temporary file goes on failure.
fn write_whole(path: &std::path::Path, bytes: &[u8]) -> Result<()> {
    if let Ok(m) = std::fs::symlink_metadata(path)
        && !m.file_type().is_file()
    {
        return Err(crate::error::Error::Usage(format!(
            "--out {} exists and is not a regular file (a link, FIFO, device or folder); choose another path",
            path.display()
        ))
        .into());
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let tmp = path.with_file_name(format!(".{name}.{}.{nanos}.tmp", std::process::id()));
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp)
        .and_then(|mut f| f.write_all(bytes).and_then(|()| f.sync_all()))
        .and_then(|()| std::fs::rename(&tmp, path));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(e).with_context(|| format!("could not write {}", path.display()));
    }
    Ok(())
}
