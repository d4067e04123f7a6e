//! Which session the command ran in: the pictures before and after it, and the rules of
//! `analysis run`'s binding (the module above lists them).

use std::path::PathBuf;

use anyhow::Result;

use super::StartOptions;
use crate::agents::Agent;
use crate::binding::{self, Binding};
use crate::ctx::Ctx;
use crate::format::thousands;
use crate::read::{How, Scope, read};
use crate::store::Store;
use crate::usage::Snapshot;

/// The picture before the command: each session's usage, each transcript file's stats.
pub(super) struct Before {
    pub(super) files: FileStats,
    pub(super) usage: std::collections::HashMap<String, Snapshot>,
}

pub(super) fn take_before(ctx: &Ctx, store: &mut Store, tool: Agent) -> Result<Before> {
    let files = crate::discover::discover(&ctx.env, &[tool.spec()]);
    let stats = stats_of(&files);
    read(ctx, store, Scope::Files(files), How::default())?;
    Ok(Before {
        files: stats,
        usage: {
            // Priced first, so the cost at completion is exactly what the command added.
            crate::ingest::settle_costs(store, &ctx.pricer, None)?;
            store.tool_snapshots(tool.as_str())?
        },
    })
}

/// Which session the command ran in, and its usage before the command.
pub(super) fn settle(
    ctx: &Ctx,
    store: &mut Store,
    tool: Agent,
    before: &Before,
    printed: Option<&str>,
    opts: &StartOptions,
) -> Result<Option<(Binding, Snapshot)>> {
    let before_of = |s: &str| before.usage.get(s).cloned().unwrap_or_default();
    if let Some(id) = printed {
        read(ctx, store, Scope::Session(tool, id), How::default())?;
        let b = Binding {
            session_id: id.to_owned(),
            how: "run_printed_id",
        };
        return Ok(Some((b, before_of(id))));
    }
    let fmt = tool.spec();
    let changed = changed_since(&before.files, crate::discover::discover(&ctx.env, &[fmt]));
    let paths: Vec<std::path::PathBuf> = changed.iter().map(|f| f.path.clone()).collect();
    read(ctx, store, Scope::Files(changed), How::default())?;
    let records = store.files_of(paths.iter().map(std::path::PathBuf::as_path))?;
    let mut sessions: Vec<String> = paths
        .iter()
        .filter_map(|p| records.get(p).and_then(|r| r.session_id.clone()))
        .collect();
    sessions.sort();
    sessions.dedup();
    let mut grown: Vec<(String, i64)> = Vec::with_capacity(sessions.len());
    for s in sessions {
        let now = store.session_snapshot(tool.as_str(), &s)?.total();
        let growth = now - before_of(&s).total();
        grown.push((s, growth));
    }
    grown.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let spent = grown.iter().filter(|(_, g)| *g > 0).count();
    let Some((first, _)) = grown.first() else {
        return fallback(ctx, store, tool, opts);
    };
    let how = if grown.len() == 1 || spent <= 1 {
        "run_changed_session"
    } else {
        let mut msg = format!(
            "the command wrote to {} {tool} sessions; bound to the one that spent the most tokens:",
            grown.len()
        );
        for (s, g) in &grown {
            msg.push_str(&format!("\n  {s}  +{} tokens", thousands(*g)));
        }
        ctx.warn(&msg);
        "run_most_growth"
    };
    let b = Binding {
        session_id: first.clone(),
        how,
    };
    let base = before_of(first);
    Ok(Some((b, base)))
}

/// No transcript of the tool changed: bind as `start` would. The baseline is the session's
/// usage now, which is also its usage before (nothing changed), so the delta is 0 even for
/// a session whose files lie outside the tool's folders.
fn fallback(
    ctx: &Ctx,
    store: &mut Store,
    tool: Agent,
    opts: &StartOptions,
) -> Result<Option<(Binding, Snapshot)>> {
    // No explicit session here (else the row was bound at the start): only the window.
    let rules = binding::Explicit {
        window_secs: opts.ambiguity_window,
        ..binding::Explicit::default()
    };
    match binding::resolve(ctx, store, tool, &rules) {
        Ok(b) => {
            let now = store.session_snapshot(tool.as_str(), &b.session_id)?;
            Ok(Some((b, now)))
        }
        Err(e) if crate::error::exit_code_of(&e) == crate::error::exit::AMBIGUOUS => {
            ctx.warn(&format!(
                "no {tool} transcript changed while the command ran, and the session could not be told: {e:#}\nthe analysis is completed without a session (no usage recorded)"
            ));
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// The one line printed when the analysis is closed.
/// Size and mtime of transcript files by path: what `analysis run` compares before and
/// after its command to see which sessions the command wrote to.
pub type FileStats = std::collections::HashMap<PathBuf, (u64, i64)>;

pub fn stats_of(files: &[crate::discover::SourceFile]) -> FileStats {
    files
        .iter()
        .map(|f| (f.path.clone(), (f.size, f.mtime_ns)))
        .collect()
}

/// The files of `after` that are new since `before` or whose size or mtime changed.
pub fn changed_since(
    before: &FileStats,
    after: Vec<crate::discover::SourceFile>,
) -> Vec<crate::discover::SourceFile> {
    after
        .into_iter()
        .filter(|f| before.get(&f.path) != Some(&(f.size, f.mtime_ns)))
        .collect()
}
