//! Pricing responses: as they are read (large reads), or later for what is pending.

use anyhow::Result;

use crate::agents::Parsed;
use crate::cost::Pricer;
use crate::money::to_nano;
use crate::store::Store;
use crate::usage::MAX_RESPONSE_COST_NUSD;

/// Price each response now (on the reader threads) when the pricer is given.
pub(super) fn price(parsed: &mut Parsed, tool: crate::agents::Agent, pricer: Option<&Pricer>) {
    let Some(pricer) = pricer else { return };
    let now = chrono::Utc::now().timestamp_millis();
    for e in &mut parsed.usage {
        let at = e.timestamp_ms.unwrap_or(now);
        e.cost_nusd = pricer
            .price(tool, e.model.as_deref(), &e.tokens, e.speed.as_deref(), at)
            .map(response_cost);
        e.priced = true;
    }
}

/// Reads at least this large are priced as they are read; smaller ones (a `mark`, a hook)
/// leave their few responses to be priced when a cost is asked for, so they do not pay for
/// loading the price database (tens of milliseconds).
pub(super) const PRICE_WHILE_READING: u64 = 8 << 20;

/// Price every response of `session` (or of all sessions) that is not priced yet.
pub fn settle_costs(
    store: &mut Store,
    pricer: &Pricer,
    session: Option<(crate::agents::Agent, &str)>,
) -> Result<()> {
    // A read-only ledger is shown as it is (its unpriced rows stay unpriced).
    if store.read_only().is_some() {
        return Ok(());
    }
    let pending = store.unpriced(session)?;
    price_pending(store, pricer, &pending)
}

/// Price the responses of `[since_ms, until_ms)` not priced yet (`statusline`'s today).
pub fn settle_costs_between(
    store: &mut Store,
    pricer: &Pricer,
    since_ms: i64,
    until_ms: i64,
) -> Result<()> {
    if store.read_only().is_some() {
        return Ok(());
    }
    let pending = store.unpriced_between(since_ms, until_ms)?;
    price_pending(store, pricer, &pending)
}

fn price_pending(
    store: &mut Store,
    pricer: &Pricer,
    pending: &[crate::store::write::Unpriced],
) -> Result<()> {
    if pending.is_empty() {
        return Ok(());
    }
    let now = chrono::Utc::now().timestamp_millis();
    // Every stored response names an agent of the registry (the writer stores only those).
    let costs: Vec<(i64, Option<i64>)> = pending
        .iter()
        .filter_map(|u| {
            let tool = crate::agents::Agent::parse(&u.tool)?;
            let cost = pricer.price(
                tool,
                u.model.as_deref(),
                &u.tokens,
                u.speed.as_deref(),
                u.ts_ms.unwrap_or(now),
            );
            Some((u.rowid, cost.map(response_cost)))
        })
        .collect();
    store.set_costs(&costs)
}

/// A response's cost in nano-USD, within 0 and [`MAX_RESPONSE_COST_NUSD`] whatever a price
/// file says, so sums of costs stay exact.
fn response_cost(usd: f64) -> i64 {
    to_nano(usd).clamp(0, MAX_RESPONSE_COST_NUSD)
}
