//! `tokledger push --to postgresql://…`: send what is new in the ledger to a shared
//! PostgreSQL database (docs/TEAM.md). Connect and check the server first, so that an
//! unreachable or refusing server leaves the ledger untouched; then read what changed in the
//! transcripts, then push.

use anyhow::Result;
use clap::ValueEnum;

use crate::ctx::Ctx;
use crate::error::Error;
use crate::push::{Abort, Privacy, Target};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The database: postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?connect_timeout=SECS]
    /// (or PGPASSWORD for the password)
    #[arg(
        long,
        env = "TOKLEDGER_PUSH_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    pub to: String,
    /// The name this ledger's rows carry on the server [default: this host's name]
    #[arg(long, value_name = "NAME")]
    pub machine: Option<String>,
    /// What not to send (comma-separated): file paths of tool calls, project names, notes of
    /// analyses
    #[arg(long, value_enum, value_delimiter = ',', value_name = "WHAT")]
    pub redact: Vec<Redact>,
    /// Push what the ledger holds, without reading the transcripts first (responses not
    /// priced yet are still priced)
    #[arg(long)]
    pub no_read: bool,
    /// One JSON document: what was pushed, per table, and how long it took
    #[arg(long)]
    pub json: bool,
    #[arg(long, env = "PGPASSWORD", hide = true, hide_env_values = true)]
    pub pg_password: Option<String>,
    /// Tests only: SIGKILL this process before or after the server's COMMIT.
    #[arg(long, env = "TOKLEDGER_TEST_PUSH_ABORT", hide = true, value_parser = ["before-commit", "after-commit"])]
    pub test_abort: Option<String>,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Redact {
    /// No file paths of tool calls
    Paths,
    /// No project names
    Projects,
    /// No notes of analyses
    Notes,
}

/// The machine name: printable, at most 200 bytes.
fn machine_name(given: Option<&str>) -> Result<String> {
    let name = match given {
        Some(n) => n.trim().to_owned(),
        None => nix::unistd::gethostname()
            .map_err(|e| {
                anyhow::anyhow!("could not read this host's name ({e}): pass --machine NAME")
            })?
            .to_string_lossy()
            .trim()
            .to_owned(),
    };
    if name.is_empty() || name.len() > 200 || name.chars().any(char::is_control) {
        return Err(
            Error::Usage("--machine takes a name of 1 to 200 printable characters".into()).into(),
        );
    }
    Ok(name)
}

pub fn run(ctx: &Ctx, args: &Args) -> Result<()> {
    let target = Target::parse(&args.to, args.pg_password.as_deref())?;
    let machine = machine_name(args.machine.as_deref())?;
    let privacy = Privacy {
        paths: args.redact.contains(&Redact::Paths),
        projects: args.redact.contains(&Redact::Projects),
        notes: args.redact.contains(&Redact::Notes),
        home: ctx
            .env
            .home
            .as_ref()
            .map(|h| h.to_string_lossy().into_owned()),
    };
    let abort = match args.test_abort.as_deref() {
        Some("before-commit") => Some(Abort::BeforeCommit),
        Some("after-commit") => Some(Abort::AfterCommit),
        _ => None,
    };
    let session = crate::push::connect(&target, &machine)?;
    let mut store = ctx.open_store()?;
    if !args.no_read {
        crate::read::read(
            ctx,
            &mut store,
            crate::read::Scope::Agents(crate::agents::Agent::ALL),
            crate::read::How {
                price: true,
                progress: true,
            },
        )?;
    }
    // Responses read by small reads (marks, hooks) are priced first, so they are sent with
    // their cost rather than sent again once priced.
    crate::ingest::settle_costs(&mut store, &ctx.pricer, None)?;
    let outcome = session.push(&mut store, &privacy, abort)?;
    if args.json {
        return crate::render::write_json(&mut std::io::stdout().lock(), &outcome);
    }
    let p = &outcome.pushed;
    let secs = outcome.elapsed_ms as f64 / 1000.0;
    if p.usage + p.tool_calls + p.sessions + p.analyses + p.analysis_usage + p.analysis_snapshots
        == 0
    {
        ctx.status(&format!(
            "nothing new to push to {} (machine {}; {secs:.2} s)",
            outcome.destination, outcome.machine
        ));
    } else {
        ctx.status(&format!(
            "pushed {} responses, {} tool calls, {} sessions and {} analyses to {} as machine {} in {secs:.2} s{}",
            p.usage,
            p.tool_calls,
            p.sessions,
            p.analyses,
            outcome.destination,
            outcome.machine,
            if outcome.full { " (everything: the server had none of this ledger)" } else { "" }
        ));
    }
    Ok(())
}
