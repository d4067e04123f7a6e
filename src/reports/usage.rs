//! The token reports: usage per period of a time zone (daily, weekly, monthly), per session
//! and per model, each row priced model by model from the costs the ledger stored.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{Datelike, NaiveDate, Weekday};
use chrono_tz::Tz;

use crate::dates::local_date;
use crate::store::reports::{ResponseRef, SessionMeta, SessionModelUsage, SlotRef};
use crate::usage::{Tokens, earliest};

/// The span usage is first summed over for the time reports: every UTC offset in use since
/// the 1970s is a whole number of quarter hours, so no quarter hour holds two local days.
pub const SLOT_MS: i64 = crate::store::rollup::SLOT_MS;

/// The cost of one model's part of a row.
pub trait Prices {
    fn cost(&self, model: &str, cell: &ModelCell) -> Option<f64>;
    /// The part of the cost that is known (all of it when `cost` is `Some`).
    fn known(&self, model: &str, cell: &ModelCell) -> f64 {
        self.cost(model, cell).unwrap_or(0.0)
    }
}

/// No price is known: every cost is null.
#[cfg(test)]
pub struct NoPrices;

#[cfg(test)]
impl Prices for NoPrices {
    fn cost(&self, _model: &str, _cell: &ModelCell) -> Option<f64> {
        None
    }
}

/// The costs the ledger stored for each response (priced per request, at its date, see
/// docs/COST.md), summed: unknown when any response in the part has no price.
pub struct StoredCosts;

impl Prices for StoredCosts {
    fn cost(&self, _model: &str, cell: &ModelCell) -> Option<f64> {
        crate::money::stored_usd(cell.cost_nusd, cell.unpriced)
    }
    fn known(&self, _model: &str, cell: &ModelCell) -> f64 {
        crate::money::from_nano(cell.cost_nusd)
    }
}

/// One model's part of a row: its tokens and the earliest time they were used (the time a
/// time-aware price is looked up at).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ModelCell {
    pub tokens: Tokens,
    pub first_ms: Option<i64>,
    /// The stored cost of these responses (nano-USD), and how many of them have no price.
    pub cost_nusd: i64,
    pub unpriced: i64,
}

impl From<&SessionModelUsage> for ModelCell {
    fn from(u: &SessionModelUsage) -> Self {
        ModelCell {
            tokens: u.tokens,
            first_ms: u.first_ms,
            cost_nusd: u.cost_nusd,
            unpriced: u.unpriced,
        }
    }
}

/// A row's usage per model (`""` when the transcript named none). Rows are priced per model
/// and then summed, because prices are per model.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    pub by_model: BTreeMap<String, ModelCell>,
}

impl Usage {
    #[cfg(test)]
    pub fn add(&mut self, model: &str, tokens: &Tokens, at_ms: Option<i64>) {
        self.add_cell(
            model,
            &ModelCell {
                tokens: *tokens,
                first_ms: at_ms,
                cost_nusd: 0,
                unpriced: 0,
            },
        );
    }

    /// Add a part with its stored cost.
    pub fn add_cell(&mut self, model: &str, part: &ModelCell) {
        let (tokens, at_ms) = (&part.tokens, part.first_ms);
        let cell = self.by_model.entry(model.to_owned()).or_default();
        cell.cost_nusd += part.cost_nusd;
        cell.unpriced += part.unpriced;
        cell.tokens = cell.tokens.add(tokens);
        cell.first_ms = earliest(cell.first_ms, at_ms);
    }

    pub fn tokens(&self) -> Tokens {
        self.by_model
            .values()
            .fold(Tokens::default(), |a, c| a.add(&c.tokens))
    }
}

/// A model's line in a priced row; `model` is `None` when the transcript named none.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelLine {
    pub model: Option<String>,
    pub tokens: Tokens,
    pub cost_usd: Option<f64>,
    /// What is known of the cost: all of it, or the priced responses' part.
    pub cost_known_usd: f64,
    /// Tokens of this model's parts that hold responses without a price.
    pub unpriced_tokens: i64,
}

/// What a usage row is about.
#[derive(Clone, Debug, PartialEq)]
pub enum RowKey {
    /// A day (`2026-03-02`), a week (its first day) or a month (`2026-03`).
    Period(String),
    Session {
        tool: String,
        session_id: String,
        project: Option<String>,
        first_ms: Option<i64>,
        last_ms: Option<i64>,
    },
    Model {
        model: Option<String>,
        tools: Vec<String>,
    },
}

/// A usage row with its costs: per model, and their sum.
#[derive(Clone, Debug, PartialEq)]
pub struct UsageRow {
    pub key: RowKey,
    pub tokens: Tokens,
    pub cost_usd: Option<f64>,
    pub cost_known_usd: f64,
    pub unpriced_tokens: i64,
    /// Models with usage, by name (the unnamed one last).
    pub models: Vec<ModelLine>,
}

impl UsageRow {
    /// The models the row names (the unnamed one left out).
    pub fn named_models(&self) -> Vec<&str> {
        self.models
            .iter()
            .filter_map(|m| m.model.as_deref())
            .collect()
    }

    /// The key as text, to order rows with equal numbers.
    fn key_text(&self) -> String {
        match &self.key {
            RowKey::Period(p) => p.clone(),
            RowKey::Session {
                tool, session_id, ..
            } => format!("{tool}/{session_id}"),
            RowKey::Model { model, .. } => model.clone().unwrap_or_default(),
        }
    }
}

/// A sum of costs: unknown as soon as one part is unknown (a cost that leaves out an
/// unpriced model would look complete and be too low).
pub fn sum_costs(costs: impl IntoIterator<Item = Option<f64>>) -> Option<f64> {
    costs.into_iter().try_fold(0.0, |a, c| c.map(|c| a + c))
}

/// Price `usage` model by model and sum.
pub fn priced(key: RowKey, usage: &Usage, prices: &dyn Prices) -> UsageRow {
    let mut models: Vec<ModelLine> = usage
        .by_model
        .iter()
        .filter(|(_, c)| !c.tokens.is_zero())
        // A response that names no model has a price too when the price file gives its
        // agent one (`[agents.NAME] missing_model`).
        .map(|(m, c)| ModelLine {
            model: (!m.is_empty()).then(|| m.clone()),
            tokens: c.tokens,
            cost_usd: prices.cost(m, c),
            cost_known_usd: prices.known(m, c),
            unpriced_tokens: if c.unpriced > 0 { c.tokens.total() } else { 0 },
        })
        .collect();
    models.sort_by(|a, b| (a.model.is_none(), &a.model).cmp(&(b.model.is_none(), &b.model)));
    UsageRow {
        key,
        tokens: usage.tokens(),
        cost_usd: sum_costs(models.iter().map(|m| m.cost_usd)),
        cost_known_usd: models.iter().map(|m| m.cost_known_usd).sum(),
        unpriced_tokens: models.iter().map(|m| m.unpriced_tokens).sum(),
        models,
    }
}

/// The sum of a report's rows.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct UsageTotals {
    pub tokens: Tokens,
    pub cost_usd: Option<f64>,
    pub cost_known_usd: f64,
    pub unpriced_tokens: i64,
}

/// The rows' sum.
pub fn totals(rows: &[UsageRow]) -> UsageTotals {
    UsageTotals {
        tokens: rows.iter().fold(Tokens::default(), |a, r| a.add(&r.tokens)),
        cost_usd: sum_costs(rows.iter().map(|r| r.cost_usd)),
        cost_known_usd: rows.iter().map(|r| r.cost_known_usd).sum(),
        unpriced_tokens: rows.iter().map(|r| r.unpriced_tokens).sum(),
    }
}

/// What a report leaves out of its costs: per model (`None`: responses that name none),
/// the tokens of parts with responses that have no price, most first.
pub fn unpriced_models(rows: &[UsageRow]) -> Vec<(Option<String>, i64)> {
    let mut by: BTreeMap<Option<String>, i64> = BTreeMap::new();
    for m in rows.iter().flat_map(|r| &r.models) {
        if m.unpriced_tokens > 0 {
            *by.entry(m.model.clone()).or_default() += m.unpriced_tokens;
        }
    }
    let mut v: Vec<_> = by.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v
}

/// One row per session, oldest last activity first (the newest next to the totals).
pub fn session_rows(
    cells: &[SessionModelUsage],
    meta: &HashMap<(String, String), SessionMeta>,
    prices: &dyn Prices,
) -> Vec<UsageRow> {
    let mut by_session: BTreeMap<(&str, &str), Usage> = BTreeMap::new();
    for c in cells {
        by_session
            .entry((&c.tool, &c.session_id))
            .or_default()
            .add_cell(&c.model, &ModelCell::from(c));
    }
    let mut rows: Vec<UsageRow> = by_session
        .into_iter()
        .map(|((tool, id), u)| {
            let m = meta
                .get(&(tool.to_owned(), id.to_owned()))
                .cloned()
                .unwrap_or_default();
            let key = RowKey::Session {
                tool: tool.to_owned(),
                session_id: id.to_owned(),
                project: m.project,
                first_ms: m.first_ts_ms,
                last_ms: m.last_ts_ms,
            };
            priced(key, &u, prices)
        })
        .collect();
    rows.sort_by_key(|r| match &r.key {
        RowKey::Session {
            tool,
            session_id,
            last_ms,
            ..
        } => (*last_ms, tool.clone(), session_id.clone()),
        _ => (None, String::new(), String::new()),
    });
    rows
}

/// One row per model, most tokens first. Each (session, model) part is priced on its own,
/// at the time of its first response, then summed: a model's price can change over the
/// months a report covers.
pub fn model_rows(cells: &[SessionModelUsage], prices: &dyn Prices) -> Vec<UsageRow> {
    let mut by_model: BTreeMap<&str, (Vec<&SessionModelUsage>, BTreeSet<&str>)> = BTreeMap::new();
    for c in cells {
        let e = by_model.entry(&c.model).or_default();
        e.0.push(c);
        e.1.insert(&c.tool);
    }
    let mut rows: Vec<UsageRow> = by_model
        .into_iter()
        .map(|(model, (parts, tools))| {
            let mut u = Usage::default();
            for c in &parts {
                u.add_cell(model, &ModelCell::from(*c));
            }
            let cost = sum_costs(
                parts
                    .iter()
                    .map(|c| prices.cost(model, &ModelCell::from(*c))),
            );
            let unpriced_tokens: i64 = parts
                .iter()
                .filter(|c| c.unpriced > 0)
                .map(|c| c.tokens.total())
                .sum();
            let key = RowKey::Model {
                model: (!model.is_empty()).then(|| model.to_owned()),
                tools: tools.into_iter().map(str::to_owned).collect(),
            };
            let mut row = priced(key, &u, prices);
            row.cost_usd = cost;
            row.unpriced_tokens = unpriced_tokens;
            if let Some(m) = row.models.first_mut() {
                m.cost_usd = cost;
                m.unpriced_tokens = unpriced_tokens;
            }
            row
        })
        .collect();
    rows.sort_by(|a, b| {
        b.tokens
            .total()
            .cmp(&a.tokens.total())
            .then_with(|| a.key_text().cmp(&b.key_text()))
    });
    rows
}

/// The calendar buckets of the time reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Period {
    Day,
    /// Weeks that start on this day.
    Week(Weekday),
    Month,
}

impl Period {
    /// The first day of the bucket that holds local day `d`.
    pub fn bucket(self, d: NaiveDate) -> NaiveDate {
        match self {
            Period::Day => d,
            Period::Week(start) => {
                let back =
                    (d.weekday().num_days_from_monday() + 7 - start.num_days_from_monday()) % 7;
                d - chrono::Days::new(u64::from(back))
            }
            Period::Month => d.with_day(1).unwrap_or(d),
        }
    }

    pub fn label(self, first_day: NaiveDate) -> String {
        match self {
            Period::Month => first_day.format("%Y-%m").to_string(),
            Period::Day | Period::Week(_) => first_day.format("%Y-%m-%d").to_string(),
        }
    }
}

/// Usage summed over a span of time (`slot_ms` long from `start_ms`) for one model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Slot {
    pub start_ms: i64,
    pub model: String,
    pub tokens: Tokens,
    /// Stored cost of the slot's responses (nano-USD), and how many have no price.
    pub cost_nusd: i64,
    pub unpriced: i64,
}

/// Usage with a time summed per model and time slot, and the usage without a time.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SlotUsage {
    /// By start, then model.
    pub slots: Vec<Slot>,
    pub untimed: Untimed,
}

/// Sums responses, one at a time, per model and `slot_ms` span (aligned to the Unix epoch).
#[derive(Debug, Default)]
pub struct SlotSums {
    slot_ms: i64,
    by_model: HashMap<String, HashMap<i64, (Tokens, i64, i64)>>,
    untimed: Untimed,
}

impl SlotSums {
    pub fn new(slot_ms: i64) -> Self {
        SlotSums {
            slot_ms: slot_ms.max(1),
            ..SlotSums::default()
        }
    }

    pub fn add(&mut self, r: &ResponseRef<'_>) {
        self.add_at(r.ts_ms, 1, r.model, &r.tokens, r.cost_nusd, r.unpriced);
    }

    /// Add a part of the rollup (or one response of it), already summed per quarter hour:
    /// `slot_ms` must be a multiple of this sum's slot length.
    pub fn add_slot(&mut self, r: &SlotRef<'_>) {
        self.add_at(
            r.slot_ms,
            r.responses,
            r.model,
            &r.tokens,
            r.cost_nusd,
            r.unpriced,
        );
    }

    /// `responses` responses of `model` at `ts` (none: untimed), summed.
    fn add_at(
        &mut self,
        ts: Option<i64>,
        responses: i64,
        model: &str,
        tokens: &Tokens,
        cost_nusd: i64,
        unpriced: i64,
    ) {
        let Some(ts) = ts else {
            self.untimed.responses += responses;
            self.untimed.tokens = self.untimed.tokens.add(tokens);
            return;
        };
        let start = ts.div_euclid(self.slot_ms) * self.slot_ms;
        // Look the model up by &str: a String is made once per model, not per response.
        let slots = match self.by_model.get_mut(model) {
            Some(s) => s,
            None => self.by_model.entry(model.to_owned()).or_default(),
        };
        let t = slots.entry(start).or_default();
        t.0 = t.0.add(tokens);
        t.1 += cost_nusd;
        t.2 += unpriced;
    }

    pub fn finish(self) -> SlotUsage {
        let mut slots: Vec<Slot> = self
            .by_model
            .into_iter()
            .flat_map(|(model, m)| {
                m.into_iter()
                    .map(move |(start_ms, (tokens, cost_nusd, unpriced))| Slot {
                        start_ms,
                        model: model.clone(),
                        tokens,
                        cost_nusd,
                        unpriced,
                    })
            })
            .collect();
        slots.sort_by(|a, b| (a.start_ms, &a.model).cmp(&(b.start_ms, &b.model)));
        SlotUsage {
            slots,
            untimed: self.untimed,
        }
    }
}

/// Fold time slots into the periods of `tz`. A slot that crosses a local midnight cannot be
/// given to one day; its start is returned in the second list so that the caller reads that
/// span again, finer. With 15-minute slots this never happens for times since the 1970s: every
/// offset in use since then is a whole number of quarter hours.
pub fn fold_slots(
    slots: &[Slot],
    slot_ms: i64,
    tz: Tz,
    period: Period,
    into: &mut BTreeMap<NaiveDate, Usage>,
) -> Vec<i64> {
    let mut split = BTreeSet::new();
    for s in slots {
        let (Some(first), Some(last)) = (
            local_date(tz, s.start_ms),
            local_date(tz, s.start_ms.saturating_add(slot_ms - 1)),
        ) else {
            continue;
        };
        if first != last {
            split.insert(s.start_ms);
            continue;
        }
        into.entry(period.bucket(first)).or_default().add_cell(
            &s.model,
            &ModelCell {
                tokens: s.tokens,
                first_ms: Some(s.start_ms),
                cost_nusd: s.cost_nusd,
                unpriced: s.unpriced,
            },
        );
    }
    split.into_iter().collect()
}

/// The periods of a time report as its slots are folded in (see [`fold_slots`]).
#[derive(Clone, Debug)]
pub struct Periods {
    tz: Tz,
    period: Period,
    buckets: BTreeMap<NaiveDate, Usage>,
}

impl Periods {
    pub fn new(tz: Tz, period: Period) -> Self {
        Periods {
            tz,
            period,
            buckets: BTreeMap::new(),
        }
    }

    /// Fold in slots `slot_ms` long; the starts of those that hold two local days are
    /// returned, to be read again finer and folded in too.
    pub fn fold(&mut self, slots: &[Slot], slot_ms: i64) -> Vec<i64> {
        fold_slots(slots, slot_ms, self.tz, self.period, &mut self.buckets)
    }

    /// One priced row per period, oldest first.
    pub fn report(self, untimed: Untimed, breakdown: bool) -> UsageReport {
        let rows = self
            .buckets
            .iter()
            .map(|(d, u)| {
                let key = RowKey::Period(self.period.label(*d));
                priced(key, u, &StoredCosts)
            })
            .collect();
        UsageReport::new(
            UsageKind::Period(self.period),
            Some(self.tz.name().to_owned()),
            rows,
            Some(untimed),
            breakdown,
        )
    }
}

/// Which token report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UsageKind {
    /// daily, weekly or monthly.
    Period(Period),
    Session,
    Model,
}

impl UsageKind {
    /// The report's name, as the command and the JSON document say it.
    pub fn name(self) -> &'static str {
        match self {
            UsageKind::Period(Period::Day) => "daily",
            UsageKind::Period(Period::Week(_)) => "weekly",
            UsageKind::Period(Period::Month) => "monthly",
            UsageKind::Session => "session",
            UsageKind::Model => "model",
        }
    }

    /// Weekly: the first day of a week (`monday`).
    pub fn week_start(self) -> Option<&'static str> {
        let UsageKind::Period(Period::Week(day)) = self else {
            return None;
        };
        Some(match day {
            Weekday::Mon => "monday",
            Weekday::Tue => "tuesday",
            Weekday::Wed => "wednesday",
            Weekday::Thu => "thursday",
            Weekday::Fri => "friday",
            Weekday::Sat => "saturday",
            Weekday::Sun => "sunday",
        })
    }
}

/// Responses a time report leaves out because they have no time, and their tokens.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Untimed {
    pub responses: i64,
    pub tokens: Tokens,
}

/// A token report: its rows and their sum.
#[derive(Clone, Debug, PartialEq)]
pub struct UsageReport {
    pub kind: UsageKind,
    /// Time reports: the zone days are cut in.
    pub time_zone: Option<String>,
    pub rows: Vec<UsageRow>,
    pub totals: UsageTotals,
    /// Time reports: responses without a time (left out).
    pub untimed: Option<Untimed>,
    /// Whether each row lists its models (`--breakdown`).
    pub breakdown: bool,
}

impl UsageReport {
    pub fn new(
        kind: UsageKind,
        time_zone: Option<String>,
        rows: Vec<UsageRow>,
        untimed: Option<Untimed>,
        breakdown: bool,
    ) -> Self {
        UsageReport {
            kind,
            time_zone,
            totals: totals(&rows),
            rows,
            untimed,
            breakdown,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn periods() {
        let d = date("2026-03-01"); // a Sunday
        assert_eq!(Period::Day.bucket(d), d);
        assert_eq!(Period::Week(Weekday::Mon).bucket(d), date("2026-02-23"));
        assert_eq!(Period::Week(Weekday::Sun).bucket(d), d);
        assert_eq!(Period::Week(Weekday::Sat).bucket(d), date("2026-02-28"));
        assert_eq!(Period::Month.bucket(d), d);
        assert_eq!(
            Period::Month.label(Period::Month.bucket(date("2026-03-31"))),
            "2026-03"
        );
        let weekly = UsageKind::Period(Period::Week(Weekday::Sun));
        assert_eq!(
            (weekly.name(), weekly.week_start()),
            ("weekly", Some("sunday"))
        );
        assert_eq!(UsageKind::Period(Period::Day).week_start(), None);
    }

    #[test]
    fn slots_fold_into_local_days_and_a_slot_across_midnight_is_split() {
        let t = |s: &str| crate::dates::parse_time("t", s).unwrap();
        let tok = Tokens {
            output_tokens: 10,
            ..Tokens::default()
        };
        let slot = |at: &str| Slot {
            start_ms: t(at),
            model: "m".into(),
            tokens: tok,
            cost_nusd: 0,
            unpriced: 0,
        };
        let kolkata: Tz = "Asia/Kolkata".parse().unwrap();
        let mut days = BTreeMap::new();
        let q = SLOT_MS;
        // 18:15Z = 23:45 IST; 18:30Z = 00:00 IST the next day.
        let split = fold_slots(
            &[slot("2026-03-02T18:15:00Z"), slot("2026-03-02T18:30:00Z")],
            q,
            kolkata,
            Period::Day,
            &mut days,
        );
        assert!(split.is_empty());
        let got: Vec<(String, i64)> = days
            .iter()
            .map(|(d, u)| (d.to_string(), u.tokens().total()))
            .collect();
        assert_eq!(got, [("2026-03-02".into(), 10), ("2026-03-03".into(), 10)]);
        // An hour slot from 18:00Z holds both days: it is handed back to be read finer.
        let split = fold_slots(
            &[slot("2026-03-02T18:00:00Z")],
            4 * q,
            kolkata,
            Period::Day,
            &mut BTreeMap::new(),
        );
        assert_eq!(split, [t("2026-03-02T18:00:00Z")]);
    }

    #[test]
    fn responses_are_summed_per_model_and_slot_and_untimed_apart() {
        let tok = Tokens {
            output_tokens: 10,
            ..Tokens::default()
        };
        let response = |ts_ms, model| ResponseRef {
            ts_ms,
            model,
            tokens: tok,
            cost_nusd: 5,
            unpriced: 0,
        };
        let mut sums = SlotSums::new(SLOT_MS);
        for r in [
            response(Some(SLOT_MS + 1), "b"),
            response(Some(SLOT_MS + 2), "b"),
            response(Some(-1), "a"),
            response(Some(SLOT_MS), "a"),
            response(None, ""),
        ] {
            sums.add(&r);
        }
        let usage = sums.finish();
        let got: Vec<_> = usage
            .slots
            .iter()
            .map(|s| (s.start_ms, s.model.as_str(), s.tokens.total(), s.cost_nusd))
            .collect();
        assert_eq!(
            got,
            [
                (-SLOT_MS, "a", 10, 5),
                (SLOT_MS, "a", 10, 5),
                (SLOT_MS, "b", 20, 10)
            ]
        );
        assert_eq!(
            usage.untimed,
            Untimed {
                responses: 1,
                tokens: tok
            }
        );
    }

    #[test]
    fn stored_costs_are_summed_and_unknown_when_any_response_is_unpriced() {
        let tokens = Tokens {
            input_tokens: 10,
            ..Tokens::default()
        };
        let cell = |cost_nusd, unpriced| ModelCell {
            tokens,
            first_ms: None,
            cost_nusd,
            unpriced,
        };
        let mut u = Usage::default();
        u.add_cell("m", &cell(1_500_000_000, 0));
        u.add_cell("m", &cell(250_000_000, 0));
        assert_eq!(
            priced(RowKey::Period("p".into()), &u, &StoredCosts).cost_usd,
            Some(1.75)
        );
        u.add_cell("m", &cell(0, 1));
        assert_eq!(
            priced(RowKey::Period("p".into()), &u, &StoredCosts).cost_usd,
            None
        );
    }

    #[test]
    fn costs_are_per_model_and_unknown_when_any_part_is() {
        struct Flat;
        impl Prices for Flat {
            fn cost(&self, model: &str, c: &ModelCell) -> Option<f64> {
                (model == "known").then(|| c.tokens.total() as f64 / 1000.0)
            }
        }
        let tok = |n| Tokens {
            input_tokens: n,
            ..Tokens::default()
        };
        let mut u = Usage::default();
        u.add("known", &tok(1000), Some(1));
        u.add("known", &tok(500), Some(0));
        let row = priced(RowKey::Period("p".into()), &u, &Flat);
        assert_eq!(row.cost_usd, Some(1.5));
        assert_eq!(u.by_model["known"].first_ms, Some(0));
        u.add("other", &tok(1), None);
        let row = priced(RowKey::Period("p".into()), &u, &Flat);
        assert_eq!(row.cost_usd, None);
        assert_eq!(row.models[0].cost_usd, Some(1.5));
        assert_eq!(row.tokens.total(), 1501);
        assert_eq!(
            priced(RowKey::Period("p".into()), &u, &NoPrices).cost_usd,
            None
        );
        assert_eq!(sum_costs([]), Some(0.0));
    }
}
