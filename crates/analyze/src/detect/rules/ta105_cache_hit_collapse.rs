//! ## What it finds
//! A feature whose share of input tokens read from the provider's prompt
//! cache drops sharply from one day to the next: the day's cached share is
//! below `drop` × its trailing median over the previous days, which was at
//! least `min_baseline`.
//!
//! ## Why it costs money
//! A deploy that reorders the prompt, adds a per-request field to the system
//! prompt, or switches model or region silently turns cache hits into full
//! price input. Nothing errors; the bill just grows by the difference
//! between the input and cached rates on every formerly cached token.
//!
//! ## Example
//! `autocomplete`: 80% of input tokens cached until 2026-10-21, 4% from
//! 2026-10-22 on; the lost hits cost $312 over 9 days.
//!
//! ## How to fix
//! Diff the prompt template of the release that shipped that day; restore a
//! byte-identical prefix at the start of the prompt.
//!
//! ## Options
//! - `min_baseline` (0.3): the trailing median cached share must be at least this.
//! - `drop` (0.5): a day below this fraction of the baseline has collapsed.
//! - `baseline_days` (7): days in the trailing median.
//! - `min_input_tokens` (100000): days with less input are ignored.
//!
//! The saving is the collapsed days' lost cached tokens (baseline share ×
//! input − cached) priced at the input minus the cached rate of each group.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use tokenaudit_core::{Money, Usage};

use crate::coverage::{inputs, logged, Input, Via};
use crate::detect::{round_to, rule_options, scope, Confidence, Context, Finding};
use crate::finding::Lever;

/// What the rule reads (see `tokenaudit rules` and the report's rule
/// coverage).
pub const INPUTS: &[Input] = &[
    Input {
        name: "cached_read_tokens",
        required: true,
        sources: &[logged(Via::CachedRead, "cached-read tokens in the usage")],
    },
    inputs::TIMESTAMP,
    inputs::PRICED,
];

rule_options! {
    /// trailing median cached share that makes a baseline
    min_baseline: f64 = 0.3,
    /// fraction of the baseline below which a day has collapsed
    drop: f64 = 0.5,
    /// days in the trailing median
    baseline_days: usize = 7,
    /// days with less input are ignored
    min_input_tokens: u64 = 100_000,
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n == 0 {
        0.0
    } else if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

pub fn check(ctx: &Context<'_>, o: &Options, out: &mut Vec<Finding>) {
    // feature → day → (input, cached)
    let mut days: BTreeMap<&str, BTreeMap<NaiveDate, (u64, u64)>> = BTreeMap::new();
    for g in ctx.groups {
        if let Some(d) = g.day {
            let e = days.entry(&g.feature).or_default().entry(d).or_default();
            e.0 += g.usage.input;
            e.1 += g.usage.cached_read;
        }
    }
    let n_base = o.baseline_days.max(1);
    for (feature, series) in days {
        let series: Vec<(NaiveDate, f64, u64)> = series
            .into_iter()
            .filter(|(_, (input, _))| *input >= o.min_input_tokens)
            .map(|(d, (input, cached))| (d, cached as f64 / input as f64, input))
            .collect();
        let mut collapsed: Vec<(NaiveDate, f64, f64)> = Vec::new();
        let mut baseline_at_first = 0.0;
        for i in 1..series.len() {
            let start = i.saturating_sub(n_base);
            // Only days that had not collapsed themselves form the baseline.
            let mut base: Vec<f64> = series[start..i]
                .iter()
                .filter(|(d, _, _)| !collapsed.iter().any(|c| c.0 == *d))
                .map(|s| s.1)
                .collect();
            if base.is_empty() {
                // Still collapsed: keep the baseline from before the collapse.
                if let Some(&(_, _, b)) = collapsed.last() {
                    if series[i].1 < o.drop * b {
                        collapsed.push((series[i].0, series[i].1, b));
                    }
                }
                continue;
            }
            let b = median(&mut base);
            if b >= o.min_baseline && series[i].1 < o.drop * b {
                if collapsed.is_empty() {
                    baseline_at_first = b;
                }
                collapsed.push((series[i].0, series[i].1, b));
            }
        }
        if collapsed.is_empty() {
            continue;
        }
        // Price the lost hits group by group on the collapsed days.
        let mut lost = Money::ZERO;
        let mut lost_tokens = 0u64;
        for g in ctx.groups.iter().filter(|g| g.feature == feature) {
            let (Some(id), Some(day)) = (g.resolved, g.day) else {
                continue;
            };
            let Some(&(_, _, b)) = collapsed.iter().find(|c| c.0 == day) else {
                continue;
            };
            let want = (b * g.usage.input as f64).round() as u64;
            let moved = want
                .saturating_sub(g.usage.cached_read)
                .min(g.usage.uncached_input());
            if moved == 0 {
                continue;
            }
            let after = Usage {
                cached_read: g.usage.cached_read + moved,
                ..g.usage
            };
            lost += ctx.price(id, g.day, &g.usage, g.processing())
                - ctx.price(id, g.day, &after, g.processing());
            lost_tokens += moved;
        }
        let first = collapsed[0];
        let mut f = Finding::new(
            format!(
                "{feature}: prompt-cache hit rate fell from {:.0}% to {:.0}% on {}",
                baseline_at_first * 100.0,
                first.1 * 100.0,
                first.0
            ),
            scope([("feature", feature)]),
        )
        .with("first_day", first.0.to_string())
        .with("collapsed_days", collapsed.len())
        .with("baseline_cached_share", round_to(baseline_at_first, 4))
        .with("cached_share_after", round_to(first.1, 4))
        .with("lost_cached_tokens", lost_tokens)
        .with(
            "days",
            collapsed
                .iter()
                .map(|c| c.0.to_string())
                .collect::<Vec<_>>(),
        );
        f.confidence = Confidence::High;
        f.recommendation = format!(
            "Find what changed in {feature}'s prompt on {} (template, model, region) and restore a byte-identical cached prefix.",
            first.0
        );
        let lever = Lever::PromptCache {
            feature: feature.to_string(),
            model: None,
            share: baseline_at_first,
            write_share: 0.0,
            write_1h: false,
        };
        if f.set_savings(
            ctx,
            lost,
            "the collapsed days' lost cached tokens (baseline share × input − cached) at the input minus cached rate",
            Some(lever),
        ) {
            out.push(f);
        }
    }
}
