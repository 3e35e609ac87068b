//! The read-only view the rules get: the finished audit, the attribution
//! groups with their keys decoded, the per-(feature, model) observations and
//! the keyed samples, plus helpers every rule needs (monthly scaling,
//! severity, pricing a usage).

use chrono::NaiveDate;

use tokenaudit_core::pricing::{Catalog, How, ModelId};
use tokenaudit_core::{Money, Usage};

use crate::accumulate::Cell;
use crate::audit::{Audit, GroupRow, Profile};
use crate::budget::Budget;
use crate::finding::{Severity, MONTH_DAYS};
use crate::observe::Keyed;

use super::DetectConfig;

/// The last days of a period in which a model a feature moved away from
/// is judged ([`Context::moved_away`]).
const RECENT_DAYS: u64 = 7;

/// What the rules read.
pub struct Context<'a> {
    pub audit: &'a Audit,
    pub catalog: &'a Catalog,
    pub groups: &'a [GroupRow],
    /// Sorted by (feature, model).
    pub cells: &'a [Cell],
    pub keyed: &'a Keyed,
    /// The previous period's spend by (feature, model, day)
    /// ([`Profile::history`]).
    pub history: &'a [(String, String, NaiveDate, Money)],
    pub config: &'a DetectConfig,
    /// The `[[budget]]`s (for TA116).
    pub budgets: &'a [Budget],
    /// Findings the rules made whose saving is under `min_savings` (so not
    /// reported): counted, for the report to say.
    pub below_min_savings: std::sync::atomic::AtomicU64,
    /// Those findings themselves (their fingerprints set): a ticket filed
    /// on a night above the floor stays open while its finding is still
    /// there below it (hunt76: closed as "no longer found", then filed
    /// again), as it is now (hunt78: its old severity failed `--fail-on`).
    pub below_floor: std::sync::Mutex<Vec<crate::finding::Finding>>,
    /// Each cell's index in `cells`, and its groups' in `groups` (in
    /// order): a rule looks up every cell it reports on, and 80,000
    /// features made a scan per lookup most of an audit.
    cell_at: rustc_hash::FxHashMap<u64, usize>,
    groups_at: rustc_hash::FxHashMap<u64, Vec<u32>>,
}

impl<'a> Context<'a> {
    /// The rules' view of a finished audit and its profile.
    pub fn new(
        audit: &'a Audit,
        profile: &'a Profile,
        catalog: &'a Catalog,
        config: &'a DetectConfig,
        budgets: &'a [Budget],
    ) -> Context<'a> {
        let cell_at = profile
            .cells
            .iter()
            .enumerate()
            .map(|(i, c)| (c.key, i))
            .collect();
        let mut groups_at: rustc_hash::FxHashMap<u64, Vec<u32>> = Default::default();
        for (i, g) in profile.groups.iter().enumerate() {
            groups_at.entry(g.cell).or_default().push(i as u32);
        }
        Context {
            audit,
            catalog,
            groups: &profile.groups,
            cells: &profile.cells,
            keyed: &profile.keyed,
            history: &profile.history,
            config,
            budgets,
            below_min_savings: Default::default(),
            below_floor: Default::default(),
            cell_at,
            groups_at,
        }
    }
}

impl Context<'_> {
    /// Length of the audited period in days of traffic (at least one): from
    /// the first to the last call, or the `--since`/`--until` window when
    /// given ([`crate::Audit::period_days`]).
    pub fn period_days(&self) -> f64 {
        self.audit.period_days()
    }

    /// Scales an amount seen over the audited period to a 30-day month.
    pub fn monthly(&self, observed: Money) -> Money {
        observed.scale(MONTH_DAYS / self.period_days())
    }

    /// [`Context::monthly`] for money of a feature (and model) launched
    /// inside the window: its first call more than `COVERAGE_GAP` after the
    /// period's start, and calls on at least 3 days and on most days since
    /// (a daily feature, not a weekly job or a one-off backfill). Scaled
    /// from its own days, its estimate is its run rate from its third
    /// night, not a fraction of it that grows every night (and a `worse`
    /// ticket each night). A model the feature has moved away from saves
    /// what its last week's calls say ([`Context::moved_away`]).
    pub fn monthly_in(&self, scope: &crate::finding::Scope, observed: Money) -> Money {
        let Some(feature) = scope.get("feature") else {
            return self.monthly(observed);
        };
        let model = scope.get("model");
        let days: std::collections::BTreeSet<chrono::NaiveDate> = self
            .groups
            .iter()
            .filter(|g| &g.feature == feature && model.is_none_or(|m| &g.model == m))
            .filter_map(|g| g.day)
            .collect();
        let (Some(&first), Some((from, to))) = (days.first(), self.audit.period()) else {
            return self.monthly(observed);
        };
        if let Some(model) = model {
            if let Some(scale) = self.moved_away(feature, model, to) {
                return self.monthly(observed).scale(scale);
            }
        }
        let start = first
            .and_hms_opt(0, 0, 0)
            .expect("midnight exists")
            .and_utc();
        if start - from <= crate::audit::COVERAGE_GAP {
            return self.monthly(observed);
        }
        // From the launch day's start, as from a window's bound.
        let audit = self.audit;
        let span = audit.days_between(start, false, to, audit.until != Some(to));
        let active = days.len() as f64;
        if active < 3.0 || active * 2.0 < span.ceil() {
            return self.monthly(observed);
        }
        observed.scale(MONTH_DAYS / span)
    }

    /// When a feature has moved away from a model (its calls there in the
    /// period's last [`RECENT_DAYS`] days at less than a tenth of their
    /// daily spend before, while the feature's calls on other models go on
    /// into the last [`COVERAGE_GAP`](crate::audit::COVERAGE_GAP) and took
    /// at least half of the calls the model lost): the
    /// ratio of the two rates, by which a finding's monthly saving on the
    /// model is scaled (hunt102: a feature moved from gpt-4.1 to
    /// gpt-4.1-mini mid-month was told its two weeks on gpt-4.1 "save
    /// ~$2.07/month"; hunt103: one stray fallback call after the move
    /// brought the whole figure back). A feature that stopped altogether
    /// (a holiday, an outage, retired) is no move: its findings stand.
    fn moved_away(
        &self,
        feature: &str,
        model: &str,
        to: chrono::DateTime<chrono::Utc>,
    ) -> Option<f64> {
        // The period's last `RECENT_DAYS` whole or partial days (an end at
        // midnight is the day before's end; hunt105: without `--until` the
        // window was 8 days counted as 7).
        let last = match to.time() == chrono::NaiveTime::MIN {
            true => to.date_naive().pred_opt()?,
            false => to.date_naive(),
        };
        let recent_from = last - chrono::Days::new(RECENT_DAYS - 1);
        let active_from = (to - crate::audit::COVERAGE_GAP).date_naive();
        // The model's spend and calls, before the last days and in them;
        // the feature's calls on other models likewise (from the model's
        // first day), and whether any came in the last few days.
        let (mut before, mut recent) = (0i128, 0i128);
        let (mut calls_before, mut calls_recent) = (0u64, 0u64);
        let (mut others_before, mut others_recent) = (0u64, 0u64);
        let mut first = None::<chrono::NaiveDate>;
        let mut elsewhere = false;
        let ours = self
            .groups
            .iter()
            .filter(|g| g.feature == feature && g.model == model);
        for g in ours {
            let Some(day) = g.day else { continue };
            first = Some(first.map_or(day, |f| f.min(day)));
            if day >= recent_from {
                recent += g.stats.cost.picos();
                calls_recent += g.stats.calls;
            } else {
                before += g.stats.cost.picos();
                calls_before += g.stats.calls;
            }
        }
        let first = first?;
        let others = self
            .groups
            .iter()
            .filter(|g| g.feature == feature && g.model != model);
        for g in others {
            let Some(day) = g.day.filter(|d| *d >= first) else {
                continue;
            };
            elsewhere |= day >= active_from && g.stats.calls > 0;
            if day >= recent_from {
                others_recent += g.stats.calls;
            } else {
                others_before += g.stats.calls;
            }
        }
        // At least a week on the model before the last week.
        let before_days = (recent_from - first).num_days();
        if !elsewhere || before_days < RECENT_DAYS as i64 || before <= 0 {
            return None;
        }
        let (days_before, days_recent) = (before_days as f64, RECENT_DAYS as f64);
        let rate_before = before as f64 / days_before;
        let rate_recent = recent as f64 / days_recent;
        // Moved: the calls the model lost went to the feature's other
        // models (at least half of them), not away with the feature's
        // traffic (hunt105: a holiday week of a feature whose embeddings
        // went on, and a job of the month's first days beside a daily one,
        // were taken for moves).
        let lost = calls_before as f64 / days_before - calls_recent as f64 / days_recent;
        let gained = others_recent as f64 / days_recent - others_before as f64 / days_before;
        let moved = rate_recent < rate_before / 10.0 && lost > 0.0 && gained >= lost / 2.0;
        moved.then(|| rate_recent / rate_before)
    }

    pub fn severity(&self, monthly: Money) -> Severity {
        self.config.severity(monthly)
    }

    /// Whether a finding saving `monthly` is worth reporting.
    pub fn worth_reporting(&self, monthly: Money) -> bool {
        let worth = monthly >= self.config.min_savings && monthly > Money::ZERO;
        if !worth && monthly > Money::ZERO {
            self.below_min_savings
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        worth
    }

    /// The cell with this key.
    pub fn cell(&self, key: u64) -> Option<&Cell> {
        self.cell_at.get(&key).map(|&i| &self.cells[i])
    }

    /// The exact cost of one cell's calls.
    pub fn cell_cost(&self, cell: u64) -> Money {
        self.groups_of(cell).map(|g| g.stats.cost).sum()
    }

    /// The groups of one cell.
    pub fn groups_of(&self, cell: u64) -> impl Iterator<Item = &GroupRow> {
        self.groups_at
            .get(&cell)
            .into_iter()
            .flatten()
            .map(|&i| &self.groups[i as usize])
    }

    /// Prices `usage` of model `id` on `day` at base (non-tier) rates.
    /// `how`: a [`How`] (a group's: [`GroupRow::how`]), a `Processing`,
    /// or `true` for batch rates.
    pub fn price(
        &self,
        id: ModelId,
        day: Option<NaiveDate>,
        usage: &Usage,
        how: impl Into<How>,
    ) -> Money {
        self.catalog.price_base(id, day, usage, how).cost.total()
    }

    /// The display name of a cell's model (`gpt-4o`, without provider).
    pub fn model_name(&self, cell: &Cell) -> String {
        match cell.resolved {
            Some(id) => self.catalog.model(id).id.clone(),
            None => cell.model.to_string(),
        }
    }
}

/// A model's per-token rates on a day, with the engine's fallbacks applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EffectiveRates {
    pub input: Money,
    pub cached_read: Money,
    pub cache_write_5m: Money,
    /// The 1-hour write rate (the 5-minute one where the catalog has none).
    pub cache_write_1h: Money,
    pub output: Money,
}

impl Context<'_> {
    /// The base rates of model `id` on `day` (the last audited day if none).
    pub fn rates(&self, id: ModelId, day: Option<NaiveDate>) -> EffectiveRates {
        let day = day.or(self.audit.last_call.map(|t| t.date_naive()));
        EffectiveRates::of(self.catalog.period(id, day).rates)
    }

    /// The rates cell `cell`'s calls of model `id` pay: at each processing
    /// its groups had (batch, flex, US-only…), weighted by their calls
    /// (hunt140's bug2: TA103 and TA112 priced a batch or flex cell's
    /// savings at standard rates, twice what re-pricing its calls saves).
    pub fn cell_rates(&self, cell: u64, id: ModelId) -> EffectiveRates {
        let day = self.audit.last_call.map(|t| t.date_naive());
        let mut hows: Vec<(How, u64)> = Vec::new();
        for g in self.groups_of(cell) {
            let how = g.how();
            match hows.iter_mut().find(|(h, _)| *h == how) {
                Some((_, n)) => *n += g.stats.calls,
                None => hows.push((how, g.stats.calls)),
            }
        }
        let at = |how: How| EffectiveRates::of(self.catalog.rates_how(id, day, how));
        let calls: u64 = hows.iter().map(|(_, n)| n).sum();
        match hows.as_slice() {
            [] => self.rates(id, day),
            [(how, _)] => at(*how),
            _ if calls == 0 => self.rates(id, day),
            _ => {
                let mean = |f: fn(&EffectiveRates) -> Money| {
                    let sum: i128 = hows
                        .iter()
                        .map(|(h, n)| f(&at(*h)).picos() * i128::from(*n))
                        .sum();
                    Money::from_picos(sum / i128::from(calls))
                };
                EffectiveRates {
                    input: mean(|r| r.input),
                    cached_read: mean(|r| r.cached_read),
                    cache_write_5m: mean(|r| r.cache_write_5m),
                    cache_write_1h: mean(|r| r.cache_write_1h),
                    output: mean(|r| r.output),
                }
            }
        }
    }
}

impl EffectiveRates {
    /// The catalog's rates with the engine's fallbacks.
    fn of(r: tokenaudit_core::pricing::Rates) -> EffectiveRates {
        let input = r.input.unwrap_or(Money::ZERO);
        let cache_write_5m = r.cache_write_5m.unwrap_or(input);
        EffectiveRates {
            input,
            cached_read: r.cached_read.unwrap_or(input),
            cache_write_5m,
            cache_write_1h: r.cache_write_1h.unwrap_or(cache_write_5m),
            output: r.output.unwrap_or(Money::ZERO),
        }
    }
}
