//! `tokledger report blocks`

use anyhow::Result;

use crate::agents::Agent;
use crate::ctx::Ctx;
use crate::reports::blocks::{Responses, blocks};

#[derive(clap::Args, Debug)]
pub struct Args {
    // `--tool` defaults to claude here: each agent's plan counts its own windows.
    #[command(flatten)]
    pub filters: super::Filters,
    /// Only the active block (none when the last response is over 5 hours old)
    #[arg(long)]
    pub active: bool,
    #[command(flatten)]
    pub format: super::FormatFlags,
}

pub fn run(ctx: &Ctx, args: &Args) -> Result<()> {
    // A subscription's windows are one agent's: mixing agents would mix plans.
    let mut filters = args.filters.clone();
    filters.tool = filters.tool.or(Some(Agent::Claude));
    let p = super::prepare(ctx, &filters, None, args.format.table())?;
    // Quarter hours from the rollup; the few a block's end could cut, response by response.
    let mut responses = Responses::default();
    p.store
        .for_each_slot(&p.filter, |r| responses.add_slot(r))?;
    for slot in responses.take_split_slots() {
        let within = p.filter.within(slot, slot + crate::store::rollup::SLOT_MS);
        p.store.for_each_response(&within, |r| {
            if r.ts_ms.is_some() {
                responses.add(r);
            }
        })?;
    }
    let report = blocks(
        responses,
        chrono::Utc::now().timestamp_millis(),
        args.active,
    );
    super::print(&report, args.format.format(ctx, &p))
}
