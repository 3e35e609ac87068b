//! ## What it finds
//! A day whose spend for a feature or a model breaks from its trailing
//! baseline: above the median of the previous `baseline_days` days it had
//! calls on by more than `mads` median absolute deviations, and at least
//! `min_ratio` × that median. Robust statistics, so one earlier spike does
//! not hide the next; days without calls are no baseline (a project worked
//! on some days only is judged against its working days).
//!
//! A day is also judged against the same weekday of the four weeks before
//! (their median, when higher; days without calls left out, and days
//! found spikes unless two or more, and most of those weeks, were): a job that runs
//! on some weekdays, or a Monday after a quiet week, is no spike when that
//! weekday usually spends as much. In a log's first week no weekday has
//! been seen yet, so a job that runs every Monday is a spike on its first
//! two Mondays, and learned from the third.
//!
//! ## Why it costs money
//! A loop in an agent, a retry bug, a batch job run twice or a prompt that
//! suddenly includes a whole document shows up first as one expensive day.
//! Caught the next morning it costs a day; caught at the end of the month it
//! costs thirty.
//!
//! ## Example
//! `report-writer` spent $412 on 2026-10-18 against a median of $64 over the
//! previous 7 days (6.4×).
//!
//! ## How to fix
//! Look at that day's most expensive calls and its deploys; add a daily
//! budget (`[[budget]] daily`) so the next spike alerts the same day.
//!
//! ## Options
//! - `baseline_days` (7): days with calls in the trailing baseline.
//! - `min_baseline_days` (5): fewest earlier days with calls before a day
//!   is judged.
//! - `mads` (5): median absolute deviations above the median.
//! - `min_ratio` (2): the day must be at least this many times the median.
//! - `min_excess` (1): smallest excess over the median, in USD.
//!
//! A model whose spike is a feature's (the feature's excess that day is the
//! model's within 1%, and its calls on the model that day make it) is
//! reported once, as the feature's, with `same_spike_as_model` in its
//! evidence.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use tokenaudit_core::Money;

use crate::coverage::{inputs, Input};
use crate::detect::{round_to, rule_options, scope, Confidence, Context, Finding, Severity};

/// What the rule reads (see `tokenaudit rules` and the report's rule
/// coverage).
pub const INPUTS: &[Input] = &[inputs::TIMESTAMP, inputs::PRICED];

rule_options! {
    /// days in the trailing baseline
    baseline_days: usize = 7,
    /// fewest earlier days before a day is judged
    min_baseline_days: usize = 5,
    /// median absolute deviations above the median
    mads: f64 = 5.0,
    /// times the median a spike must reach
    min_ratio: f64 = 2.0,
    /// smallest excess over the median in USD
    min_excess: f64 = 1.0,
}

fn median(v: &mut [i128]) -> i128 {
    v.sort_unstable();
    let n = v.len();
    if n == 0 {
        0
    } else if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2
    }
}

/// The same weekday's usual spend: the median of its weeks, leaving out a
/// week below a quarter of the highest (a holiday, an outage), as days
/// without calls are (hunt182: two holiday weeks and two working ones gave
/// a median of half a working day, and every ordinary day back was "2×"
/// it; hunt187: a job run every other week is no such low).
fn weekday_median(v: &mut [i128]) -> i128 {
    let top = v.iter().copied().max().unwrap_or(0);
    let mut usual: Vec<i128> = v.iter().copied().filter(|x| x * 4 >= top).collect();
    if usual.len() >= 2 {
        median(&mut usual)
    } else {
        median(v)
    }
}

/// Tokens and spend (pico-dollars) by day.
type DaySeries = BTreeMap<NaiveDate, (u64, i128)>;

/// Weeks of the same weekday a day is also judged against.
const WEEKS: usize = 4;

/// Spikes in a daily series: (day, spend, baseline median, MAD). The
/// baseline is the trailing days' median, or the same weekday's median over
/// the [`WEEKS`] weeks before when that is higher.
pub fn spikes(
    series: &BTreeMap<NaiveDate, i128>,
    o: &Options,
) -> Vec<(NaiveDate, i128, i128, i128)> {
    let first = match series.keys().next() {
        Some(d) => *d,
        None => return Vec::new(),
    };
    let last = *series.keys().next_back().unwrap_or(&first);
    // Days without calls spent zero, and are no baseline: a project worked
    // on two days a week is judged against its working days (hunt97: its
    // ordinary days were "2×" a median of idle ones).
    let days: Vec<(NaiveDate, i128)> = first
        .iter_days()
        .take_while(|d| *d <= last)
        .map(|d| (d, series.get(&d).copied().unwrap_or(0)))
        .collect();
    let n = o.baseline_days.max(1);
    let min_n = o.min_baseline_days.max(1);
    let min_excess = Money::from_usd_f64(o.min_excess)
        .unwrap_or(Money::ZERO)
        .picos();
    let mut found: Vec<(NaiveDate, i128, i128, i128)> = Vec::new();
    let active: Vec<usize> = (0..days.len()).filter(|&i| days[i].1 > 0).collect();
    for (k, &i) in active.iter().enumerate().skip(min_n) {
        let mut base: Vec<i128> = active[k.saturating_sub(n)..k]
            .iter()
            .map(|&j| days[j].1)
            .collect();
        let m = median(&mut base);
        let mut dev: Vec<i128> = base.iter().map(|v| (v - m).abs()).collect();
        let mad = median(&mut dev);
        // The same weekday's usual spend, when the weeks before have it: a
        // job that runs on Mondays, Wednesdays and Fridays is no spike
        // against the days between (hunt92: 24 tickets a month), nor is a
        // Monday after a quiet week against that week.
        // Days found spikes are no weekday's usual unless two or more,
        // and most of its weeks with spend, were (hunt95, hunt128: one
        // spike hid the next; hunt129: two among usual weeks hid a third):
        // a job that runs every Monday is learned on its third (hunt124:
        // every Monday was a spike, a ticket a week).
        let weeks: Vec<usize> = (1..=WEEKS)
            .filter_map(|w| i.checked_sub(7 * w))
            .filter(|&j| days[j].1 > 0)
            .collect();
        let spiked = |j: &usize| found.iter().any(|f| f.0 == days[*j].0);
        let spikes = weeks.iter().filter(|j| spiked(j)).count();
        let recurring = spikes >= 2 && 2 * spikes > weeks.len();
        let mut weekdays: Vec<i128> = weeks
            .iter()
            .filter(|j| recurring || !spiked(j))
            .map(|&j| days[j].1)
            .collect();
        let m = match weekdays.is_empty() {
            true => m,
            false => m.max(weekday_median(&mut weekdays)),
        };
        let v = days[i].1;
        // A MAD of zero (flat baseline) is floored at 5% of the median.
        let spread = mad.max(m / 20);
        if m > 0
            && v as f64 >= o.min_ratio * m as f64
            && (v - m) as f64 > o.mads * spread as f64
            && v - m >= min_excess
        {
            found.push((days[i].0, v, m, mad));
        }
    }
    found
}

pub fn check(ctx: &Context<'_>, o: &Options, out: &mut Vec<Finding>) {
    let mut by: BTreeMap<(&'static str, &str), BTreeMap<NaiveDate, i128>> = BTreeMap::new();
    for g in ctx.groups {
        if let Some(d) = g.day {
            let c = g.stats.cost.picos();
            *by.entry(("feature", &g.feature))
                .or_default()
                .entry(d)
                .or_default() += c;
            *by.entry(("model", &g.model))
                .or_default()
                .entry(d)
                .or_default() += c;
        }
    }
    // The period's own days, judged against the previous period's days
    // too when the audit has them (`review`'s month before): a spike on
    // the month's second day is found as the audit of both months finds
    // it (hunt95, hunt97: found by `audit`, missed by `review`).
    let own: BTreeMap<(&str, &str), std::collections::BTreeSet<NaiveDate>> = by
        .iter()
        .map(|(k, series)| (*k, series.keys().copied().collect()))
        .collect();
    for (feature, model, day, cost) in ctx.history {
        for k in [("feature", feature.as_str()), ("model", model.as_str())] {
            *by.entry(k).or_default().entry(*day).or_default() += cost.picos();
        }
    }
    let found: Vec<_> = by
        .iter()
        .flat_map(|((dim, key), series)| {
            let own = own.get(&(*dim, *key));
            spikes(series, o)
                .into_iter()
                .filter(move |(day, ..)| own.is_some_and(|d| d.contains(day)))
                .map(move |(day, v, m, mad)| (*dim, *key, day, v, m, mad))
        })
        .collect();
    // What each feature spent on each model, by day: a feature is a model's
    // spike only when its calls on the model that day make the model's
    // excess (hunt58: a feature's spike of the same size on another model
    // took the spike of a model a new feature launched that day).
    let mut spent: BTreeMap<(&str, &str, NaiveDate), i128> = BTreeMap::new();
    for g in ctx.groups {
        if let Some(d) = g.day {
            *spent
                .entry((g.feature.as_str(), g.model.as_str(), d))
                .or_default() += g.stats.cost.picos();
        }
    }
    // Tokens and spend by key and day (of the period's own calls), to tell
    // a price change from a change in use.
    let mut tokens: BTreeMap<(&str, &str), DaySeries> = BTreeMap::new();
    for g in ctx.groups {
        if let Some(d) = g.day {
            let (t, c) = (g.usage.total(), g.stats.cost.picos());
            for k in [("feature", g.feature.as_str()), ("model", g.model.as_str())] {
                let e = tokens.entry(k).or_default().entry(d).or_default();
                e.0 += t;
                e.1 += c;
            }
        }
    }
    // A spike that is a price rise: a model of its calls that day raised
    // its input or output rate within the days it is judged against, its
    // tokens did not spike, and its spend per token rose by no more than
    // the rate did (hunt182: a steady feature's four days after its
    // model's price doubled were four spikes, "look at its deploys";
    // hunt187: a dated period with the same rates, or a price cut, hid a
    // broken cache's 7.7×).
    let repriced = |dim: &str, key: &str, day: NaiveDate| -> bool {
        let from = day - chrono::Days::new(7 * WEEKS as u64 + o.baseline_days as u64);
        let rise = ctx
            .groups
            .iter()
            .filter(|g| {
                g.day == Some(day)
                    && (if dim == "feature" {
                        &g.feature
                    } else {
                        &g.model
                    }) == key
            })
            .filter_map(|g| g.resolved)
            .flat_map(|id| {
                let periods = &ctx.catalog.model(id).periods;
                periods.windows(2).filter_map(move |w| {
                    let e = w[1].effective?;
                    if !(from < e && e <= day) {
                        return None;
                    }
                    let up = |a: Option<Money>, b: Option<Money>| match (a, b) {
                        (Some(a), Some(b)) if b.picos() > a.picos() && a.picos() > 0 => {
                            Some(b.picos() as f64 / a.picos() as f64)
                        }
                        _ => None,
                    };
                    let (old, new) = (&w[0].rates, &w[1].rates);
                    up(old.input, new.input)
                        .into_iter()
                        .chain(up(old.output, new.output))
                        .reduce(f64::max)
                })
            })
            .reduce(f64::max);
        let (Some(rise), Some(series)) = (rise, tokens.get(&(dim, key))) else {
            return false;
        };
        let base: Vec<(u64, i128)> = series
            .range(from..day)
            .map(|(_, v)| *v)
            .filter(|(t, _)| *t > 0)
            .collect();
        let Some(&(t_day, c_day)) = series.get(&day) else {
            return false;
        };
        if base.len() < o.min_baseline_days.max(1) || t_day == 0 {
            return false;
        }
        let mut t_base: Vec<i128> = base.iter().map(|(t, _)| *t as i128).collect();
        let per_token = |(t, c): (u64, i128)| c as f64 / t as f64;
        let mut cpt: Vec<i128> = base.iter().map(|&x| (per_token(x) * 1e6) as i128).collect();
        let (t_med, cpt_med) = (median(&mut t_base) as f64, median(&mut cpt) as f64 / 1e6);
        (t_day as f64) < o.min_ratio * t_med
            && cpt_med > 0.0
            && per_token((t_day, c_day)) <= cpt_med * rise * 1.1
    };
    for &(dim, key, day, v, m, mad) in &found {
        if repriced(dim, key, day) {
            continue;
        }
        // A model whose spike is one feature's (the feature makes its
        // excess, within 1%): one finding (the feature's, naming the
        // model), not two tickets for one event. To the pico-dollar, one
        // cent of another feature's calls that day opened a second ticket
        // (hunt57). The twin is one the feature uses (two features with
        // equal spend on two models were each other's).
        let close = |a: i128, b: i128| (a - b).abs() * 100 <= a.max(b);
        let twin = |other: &str| {
            found
                .iter()
                .find(|t| {
                    let (pair, model_excess) = if dim == "feature" {
                        ((key, t.1, day), t.3 - t.4)
                    } else {
                        ((t.1, key, day), v - m)
                    };
                    let made = spent.get(&pair).copied().unwrap_or(0) * 100 >= 99 * model_excess;
                    t.0 == other && t.2 == day && close(t.3 - t.4, v - m) && made
                })
                .map(|t| t.1)
        };
        if dim == "model" && twin("feature").is_some() {
            continue;
        }
        {
            let excess = Money::from_picos(v - m);
            let mut f = Finding::new(
                format!(
                    "{dim} {key}: spend of {} on {day} is {:.1}× its baseline median {}",
                    Money::from_picos(v).to_cents_string(),
                    v as f64 / m as f64,
                    Money::from_picos(m).to_cents_string()
                ),
                scope([(dim, key), ("day", &day.to_string())]),
            )
            .with("day", day.to_string())
            .with("spend", Money::from_picos(v).to_decimal_string())
            .with("baseline_median", Money::from_picos(m).to_decimal_string())
            .with("baseline_mad", Money::from_picos(mad).to_decimal_string())
            .with("ratio", round_to(v as f64 / m as f64, 2))
            .with("excess", excess.to_decimal_string());
            if let Some(model) = twin("model").filter(|_| dim == "feature") {
                f = f.with("same_spike_as_model", model.to_string());
            }
            f.severity = if ctx.monthly(excess) >= ctx.config.medium {
                Severity::High
            } else {
                Severity::Medium
            };
            f.confidence = Confidence::High;
            f.recommendation = format!(
                "Look at {key}'s calls and deploys on {day} (the most expensive calls table), and set a daily budget to be alerted the same day."
            );
            out.push(f);
        }
    }
}
