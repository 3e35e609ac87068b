//! ## What it finds
//! A feature whose calls moved to a pricier model during the period: the
//! share of its calls on its most expensive model (by cost per call) rose by
//! at least `min_rise` between the first and the last `window_days` days
//! of the feature's calls (its own: another feature's calls move no
//! window of it). A feature with no call in the traffic's last
//! `window_days` days (the last day of the features with `min_calls` calls)
//! is gone: its drift is not reported.
//!
//! ## Why it costs money
//! A config change, a fallback that never switched back, or an experiment
//! left at 100% moves traffic to a model that costs several times more per
//! call, without anyone deciding the feature should cost more.
//!
//! ## Example
//! `search-summarize`: gpt-4o took 8% of calls in the first week and 91% in
//! the last; the shift costs $270 a month more than the old mix.
//!
//! ## How to fix
//! Check the routing config and the experiment flags of the feature; if the
//! move was deliberate, record it so the next review expects it.
//!
//! ## Options
//! - `window_days` (7): days at each end of the feature's calls that are compared.
//! - `min_rise` (0.3): rise of the premium model's call share.
//! - `min_calls` (50): fewest calls in each window.
//!
//! The period's figure is what its calls cost over the same calls at the
//! first window's mix (each model's cost per call over the period): the
//! extra actually paid. The month's is the last window's extra spend at
//! that rate: the drift, left as it is, costs that much a month.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use tokenaudit_core::Money;

use crate::coverage::{inputs, Input};
use crate::detect::{round_to, rule_options, scope, Confidence, Context, Finding};

/// What the rule reads (see `tokenaudit rules` and the report's rule
/// coverage).
pub const INPUTS: &[Input] = &[inputs::TIMESTAMP, inputs::PRICED];

rule_options! {
    /// days at each end of the period that are compared
    window_days: u64 = 7,
    /// rise of the premium model's call share
    min_rise: f64 = 0.3,
    /// fewest calls in each window
    min_calls: u64 = 50,
}

#[derive(Default, Clone, Copy)]
struct Mix {
    calls: u64,
    cost: i128,
    first: u64,
    last: u64,
}

pub fn check(ctx: &Context<'_>, o: &Options, out: &mut Vec<Finding>) {
    // Longer windows than any log return below; the cap keeps 2 × w in range.
    let w = o.window_days.clamp(1, 100_000) as i64;
    // Each feature's windows are at the ends of its own calls' days: another
    // feature's stray call a month away moves no window of this one
    // (hunt57: a health check dated the month before closed a ticket).
    // Each feature's first and last days, and its calls:
    let mut span: BTreeMap<&str, (NaiveDate, NaiveDate, u64)> = BTreeMap::new();
    for g in ctx.groups.iter().filter(|g| g.resolved.is_some()) {
        let Some(d) = g.day else { continue };
        let s = span.entry(&g.feature).or_insert((d, d, 0));
        s.0 = s.0.min(d);
        s.1 = s.1.max(d);
        s.2 += g.stats.calls;
    }
    // The traffic's last day (of the features with `min_calls` calls: a
    // stray call dated a month away moves it not): a feature whose calls
    // ended more than a window before it is gone, and its drift costs
    // nothing a month more (hunt58: a feature renamed mid-month got $9.02 a
    // month on $3.26 of spend).
    let Some(end) = span
        .values()
        .filter(|s| s.2 >= o.min_calls)
        .map(|s| s.1)
        .max()
    else {
        return;
    };
    let mut by: BTreeMap<&str, BTreeMap<&str, Mix>> = BTreeMap::new();
    for g in ctx.groups.iter().filter(|g| g.resolved.is_some()) {
        let Some(d) = g.day else { continue };
        let Some(&(first, last, _)) = span.get(g.feature.as_str()) else {
            continue;
        };
        if (last - first).num_days() + 1 < 2 * w || (end - last).num_days() >= w {
            continue;
        }
        let early_end = first + chrono::Duration::days(w);
        let late_start = last - chrono::Duration::days(w - 1);
        let m = by
            .entry(&g.feature)
            .or_default()
            .entry(&g.model)
            .or_default();
        m.calls += g.stats.calls;
        m.cost += g.stats.cost.picos();
        if d < early_end {
            m.first += g.stats.calls;
        }
        if d >= late_start {
            m.last += g.stats.calls;
        }
    }
    for (feature, models) in by {
        if models.len() < 2 {
            continue;
        }
        let n_first: u64 = models.values().map(|m| m.first).sum();
        let n_last: u64 = models.values().map(|m| m.last).sum();
        if n_first < o.min_calls || n_last < o.min_calls {
            continue;
        }
        let per_call = |m: &Mix| m.cost as f64 / m.calls.max(1) as f64;
        let Some((premium, pm)) = models
            .iter()
            .max_by(|a, b| per_call(a.1).total_cmp(&per_call(b.1)).then(b.0.cmp(a.0)))
        else {
            continue;
        };
        let (s0, s1) = (
            pm.first as f64 / n_first as f64,
            pm.last as f64 / n_last as f64,
        );
        if s1 - s0 < o.min_rise {
            continue;
        }
        // Extra spend of the last window against the first window's mix.
        let mix_cost = |share_of: &dyn Fn(&Mix) -> f64| -> f64 {
            models
                .values()
                .map(|m| share_of(m) * per_call(m))
                .sum::<f64>()
        };
        let late = mix_cost(&|m: &Mix| m.last as f64 / n_last as f64);
        let early = mix_cost(&|m: &Mix| m.first as f64 / n_first as f64);
        let extra = Money::from_picos(((late - early) * n_last as f64).round() as i128);
        // Every call of the period against the first window's mix: the
        // first window adds nothing, the drift's days their extra.
        let n_all: u64 = models.values().map(|m| m.calls).sum();
        let spent: i128 = models.values().map(|m| m.cost).sum();
        let paid = Money::from_picos((spent as f64 - early * n_all as f64).round() as i128);
        let name = premium.rsplit('/').next().unwrap_or(premium);
        let mut f = Finding::new(
            format!(
                "{feature}: {name}'s share of calls rose from {:.0}% to {:.0}%",
                s0 * 100.0,
                s1 * 100.0
            ),
            scope([("feature", feature), ("model", premium)]),
        )
        .with("premium_model", premium.to_string())
        .with("share_first_window", round_to(s0, 4))
        .with("share_last_window", round_to(s1, 4))
        .with("window_days", w)
        .with("extra_spend_last_window", extra.to_decimal_string())
        .with(
            "extra_spend_period",
            paid.max(Money::ZERO).to_decimal_string(),
        );
        f.confidence = Confidence::Medium;
        f.recommendation = format!(
            "Check {feature}'s routing and experiment flags: was the move to {name} deliberate? If not, route back."
        );
        // A month at the last window's rate; no lever (the target mix is a
        // decision, not a measurement).
        let monthly = extra.scale(crate::finding::MONTH_DAYS / w as f64);
        if extra > Money::ZERO
            && f.set_savings_at_rate(
                ctx,
                paid.max(Money::ZERO),
                monthly,
                "the period's spend over the same calls at the first window's model mix (each model's cost per call); a month at the last window's extra",
                None,
            )
        {
            out.push(f);
        }
    }
}
