//! The one way transcripts are read: what to read ([`Scope`]), how ([`How`]); then the
//! read's warnings go to stderr and the provisional snapshots it can settle are settled.
//! Binding, `analysis run`, the hook and every command read through [`read`].

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::agents::{self, Agent};
use crate::ctx::Ctx;
use crate::discover::SourceFile;
use crate::error::Error;
use crate::ingest::IngestReport;
use crate::store::Store;

/// What to read.
#[derive(Clone, Debug)]
pub enum Scope<'a> {
    /// Every transcript of these agents (what changed since the last read).
    Agents(&'a [Agent]),
    /// One session's files: those the ledger ties to it, and sub-agent files new since.
    Session(Agent, &'a str),
    /// One transcript file, then the rest of the session it belongs to.
    Path(Agent, &'a Path),
    /// These files (`analysis run`'s before and after pictures).
    Files(Vec<SourceFile>),
}

/// How to read.
#[derive(Clone, Copy, Debug, Default)]
pub struct How {
    /// The caller will want costs: a large read prices responses as it goes.
    pub price: bool,
    /// Draw a progress line on a terminal (long reads only).
    pub progress: bool,
}

/// What a read found out.
#[derive(Debug, Default)]
pub struct Outcome {
    /// The session a [`Scope::Path`] file belongs to.
    pub session: Option<String>,
}

pub fn read(ctx: &Ctx, store: &mut Store, scope: Scope<'_>, how: How) -> Result<Outcome> {
    if let Some(why) = store.read_only() {
        // A reading command still answers from what the ledger holds.
        ctx.warn(&format!(
            "the ledger {} is read-only ({why}): showing what it holds; transcripts were not read",
            store.path().display()
        ));
        let session = match scope {
            Scope::Session(_, id) => Some(id.to_owned()),
            Scope::Path(_, path) => store.file(path)?.and_then(|r| r.session_id),
            _ => None,
        };
        return Ok(Outcome { session });
    }
    match scope {
        Scope::Agents(agents) => {
            let specs: Vec<_> = agents.iter().map(|a| a.spec()).collect();
            let (files, skipped) = crate::discover::discover_all(&ctx.env, &specs);
            warn_skipped(ctx, &skipped);
            let report = ingest(ctx, store, files, how)?;
            crate::settle::settle(ctx, store, None)?;
            if ctx.verbose {
                ctx.status(&format!(
                    "read {} of {} transcript files ({} bytes, {} responses)",
                    report.files_read, report.files_seen, report.bytes_read, report.usage_events
                ));
            }
            Ok(Outcome { session: None })
        }
        Scope::Session(tool, session_id) => {
            let known: Vec<PathBuf> = store
                .session_files(tool, session_id)?
                .into_iter()
                .map(|r| r.path)
                .collect();
            let files = crate::discover::session_sources(tool.spec(), &ctx.env, &known, session_id);
            let report = ingest(ctx, store, files, How { price: true, ..how })?;
            // A session read is for its exact numbers: one of its files unread would make
            // them wrong (a baseline of 0), so the command stops before recording any.
            if let Some(u) = report.unreadable.first() {
                anyhow::bail!(
                    "could not read the {tool} transcript {u} (session {session_id}); its \
                     numbers would be wrong, so nothing was recorded"
                );
            }
            crate::settle::settle(ctx, store, Some((tool, session_id)))?;
            Ok(Outcome {
                session: Some(session_id.to_owned()),
            })
        }
        Scope::Path(tool, path) => read_path(ctx, store, tool, path, how),
        Scope::Files(files) => {
            ingest(ctx, store, files, How { price: true, ..how })?;
            crate::settle::settle(ctx, store, None)?;
            Ok(Outcome { session: None })
        }
    }
}

/// At most this many skipped paths are named; the rest are counted.
const NAMED_SKIPS: usize = 20;

fn warn_skipped(ctx: &Ctx, skipped: &[crate::discover::Skipped]) {
    for s in skipped.iter().take(NAMED_SKIPS) {
        ctx.warn(&format!("skipped {}: {}", s.path.display(), s.why));
    }
    if skipped.len() > NAMED_SKIPS {
        ctx.warn(&format!(
            "skipped {} more paths the same way",
            skipped.len() - NAMED_SKIPS
        ));
    }
}

/// The ingest every scope ends in, its warnings on stderr.
fn ingest(ctx: &Ctx, store: &mut Store, files: Vec<SourceFile>, how: How) -> Result<IngestReport> {
    let show = how.progress && !ctx.quiet && std::io::IsTerminal::is_terminal(&std::io::stderr());
    let report = crate::ingest::ingest_with(
        store,
        files,
        how.price.then_some(&ctx.pricer),
        ctx.read_deadline,
        &mut crate::progress::Progress::new(show),
    )?;
    for w in report.warnings() {
        ctx.warn(&w);
    }
    Ok(report)
}

/// One file (for Claude also its session's sub-agent files); the session it belongs to.
fn read_path(ctx: &Ctx, store: &mut Store, tool: Agent, path: &Path, how: How) -> Result<Outcome> {
    let spec = tool.spec();
    if !path.is_file() {
        return Err(Error::NotFound(format!("no transcript file at {}", path.display())).into());
    }
    let src = crate::discover::source_for_path(spec, &ctx.env, path)
        .unwrap_or_else(|| outside_roots(spec, path));
    let hint = src.role.session_hint.clone();
    let report = ingest(ctx, store, vec![src], How { price: true, ..how })?;
    let stored = store.file(path)?.and_then(|r| r.session_id);
    let session = stored
        .or(hint)
        .with_context(|| format!("{} names no session", path.display()))?;
    // Out of time (a hook's read): the sub-agent files wait for the next read too.
    if report.stopped_at_deadline {
        crate::settle::settle(ctx, store, Some((tool, &session)))?;
    } else {
        read(ctx, store, Scope::Session(tool, &session), how)?;
    }
    Ok(Outcome {
        session: Some(session),
    })
}

/// A file outside the agent's usual folders: its name is its session id.
fn outside_roots(spec: &dyn agents::AgentSpec, path: &Path) -> SourceFile {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let role = spec.classify(Path::new(&name)).unwrap_or(agents::FileRole {
        session_hint: path.file_stem().map(|s| s.to_string_lossy().into_owned()),
        main: true,
    });
    let (size, mtime_ns) = crate::discover::stat(path).unwrap_or((0, 0));
    SourceFile {
        tool: spec.agent(),
        path: path.to_owned(),
        role,
        archived: false,
        size,
        mtime_ns,
    }
}
