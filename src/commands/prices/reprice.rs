//! `tokledger prices reprice`: price every response in the ledger again with the prices of
//! this run (the bundled database and `--prices`), and the analyses counting them. Reads
//! do this by themselves when the prices changed; this forces it.

use std::io::Write;

use anyhow::Result;
use serde::Serialize;

use crate::ctx::Ctx;
use crate::read::{How, Scope, read};

#[derive(clap::Args, Debug)]
pub struct Args {
    #[arg(long)]
    pub json: bool,
}

#[derive(Serialize)]
struct Done {
    prices: String,
    responses: usize,
    snapshots: usize,
    snapshots_kept: usize,
}

pub fn run(ctx: &Ctx, args: &Args) -> Result<()> {
    let mut store = ctx.open_store()?;
    if let Some(why) = store.read_only() {
        anyhow::bail!(
            "the ledger {} cannot be written ({why}): nothing was priced",
            store.path().display()
        );
    }
    // New responses first, so that they are priced with the rest.
    read(
        ctx,
        &mut store,
        Scope::Agents(crate::agents::Agent::ALL),
        How::default(),
    )?;
    let r = crate::ingest::settle_costs_with(&mut store, &ctx.pricer, None, true)?;
    let done = Done {
        prices: ctx.pricer.describe(),
        responses: r.responses,
        snapshots: r.snapshots,
        snapshots_kept: r.snapshots_kept,
    };
    let mut out = std::io::stdout().lock();
    if args.json {
        crate::render::write_json(&mut out, &done)?;
    } else {
        writeln!(
            out,
            "priced {} responses with {}; {} analysis snapshots priced again{}",
            done.responses,
            done.prices,
            done.snapshots,
            if done.snapshots_kept > 0 {
                format!(
                    " ({} kept their cost: their responses are no longer all in the ledger)",
                    done.snapshots_kept
                )
            } else {
                String::new()
            }
        )?;
    }
    Ok(())
}
