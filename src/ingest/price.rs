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
    settle_costs_with(store, pricer, session, false).map(|_| ())
}

/// What pricing did: responses priced, and analysis snapshots priced again (and kept, when
/// their responses could not be found again).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Repriced {
    pub responses: usize,
    pub snapshots: usize,
    pub snapshots_kept: usize,
}

/// Price what is not priced yet — and, when other prices priced some responses (a price
/// file changed, or the binary's database), price those again, with the analyses counting
/// them. `force`: price every response again whatever priced it.
pub fn settle_costs_with(
    store: &mut Store,
    pricer: &Pricer,
    session: Option<(crate::agents::Agent, &str)>,
    force: bool,
) -> Result<Repriced> {
    // A read-only ledger is shown as it is (its unpriced rows stay unpriced).
    if store.read_only().is_some() {
        return Ok(Repriced::default());
    }
    let source = store.price_source(&pricer.fingerprint(), &pricer.describe())?;
    let all = store.prices_all()?;
    // Nothing else priced anything: only new responses need prices (one lookup).
    let others = force || all != Some(source);
    let sessions = if others {
        // `force`: a source no response has, so every priced one is taken back.
        let keep = if force { -1 } else { source };
        store.unprice_other_sources(keep, session)?
    } else {
        Vec::new()
    };
    let pending = store.unpriced(session)?;
    let costs = costs_with_kept_rates(store, pricer, source, &pending)?;
    store.set_costs(&costs, source)?;
    if others && session.is_none() {
        store.set_prices_all(source)?;
    }
    let (snapshots, snapshots_kept) = if sessions.is_empty() {
        (0, 0)
    } else {
        store.recost_snapshots(&sessions)?
    };
    Ok(Repriced {
        responses: costs.len(),
        snapshots,
        snapshots_kept,
    })
}

/// Which pending responses [`settle_pending`] prices.
#[derive(Clone, Copy, Debug)]
pub enum Pending<'a> {
    Session(crate::agents::Agent, &'a str),
    /// Timed in `[since_ms, until_ms)`.
    Between(i64, i64),
}

/// Price only the responses not priced yet (`statusline`): what other prices priced is left
/// to the next [`settle_costs`], so a status line neither reprices nor scans for that, and
/// takes no write lock when nothing is pending.
pub fn settle_pending(store: &mut Store, pricer: &Pricer, which: Pending<'_>) -> Result<()> {
    if store.read_only().is_some() {
        return Ok(());
    }
    let pending = match which {
        Pending::Session(tool, id) => store.unpriced(Some((tool, id)))?,
        Pending::Between(since, until) => store.unpriced_between(since, until)?,
    };
    if pending.is_empty() {
        return Ok(());
    }
    let source = store.price_source(&pricer.fingerprint(), &pricer.describe())?;
    let costs = costs_with_kept_rates(store, pricer, source, &pending)?;
    store.set_costs(&costs, source)
}

/// [`costs_of`], with the rates the ledger kept for the responses' days given to the pricer
/// first, and what it resolved anew kept after: a few new responses (a status line) are then
/// priced without loading the price database.
fn costs_with_kept_rates(
    store: &mut Store,
    pricer: &Pricer,
    source: i64,
    pending: &[crate::store::write::Unpriced],
) -> Result<Vec<(i64, Option<i64>)>> {
    if pending.is_empty() {
        return Ok(Vec::new());
    }
    let now = chrono::Utc::now().timestamp_millis();
    let mut days: Vec<i64> = pending
        .iter()
        .map(|u| u.ts_ms.unwrap_or(now).div_euclid(86_400_000))
        .collect();
    days.sort_unstable();
    days.dedup();
    let kept = store.resolved_rates(source, &days)?;
    pricer.seed(&kept);
    let costs = costs_of(pricer, pending);
    let resolved = pricer.resolved();
    if resolved.len() > kept.len() {
        store.keep_resolved_rates(source, &resolved)?;
    }
    Ok(costs)
}

/// After a read priced on its reader threads: keep the rates it resolved.
pub(super) fn keep_rates(store: &mut Store, pricer: &Pricer, source: i64) -> Result<()> {
    store.keep_resolved_rates(source, &pricer.resolved())
}

/// Each response's cost (`None`: its model has no price).
fn costs_of(pricer: &Pricer, pending: &[crate::store::write::Unpriced]) -> Vec<(i64, Option<i64>)> {
    let now = chrono::Utc::now().timestamp_millis();
    // Every stored response names an agent of the registry (the writer stores only those).
    pending
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
        .collect()
}

/// A response's cost in nano-USD, within 0 and [`MAX_RESPONSE_COST_NUSD`] whatever a price
/// file says, so sums of costs stay exact.
fn response_cost(usd: f64) -> i64 {
    to_nano(usd).clamp(0, MAX_RESPONSE_COST_NUSD)
}
