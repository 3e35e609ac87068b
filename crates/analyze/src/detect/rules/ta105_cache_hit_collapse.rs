//! ## What it finds
//! A feature (on one model) whose share of input tokens read from the provider's prompt
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
//! A day with fewer than `drop` × the baseline's calls is left out (a
//! weekend, a holiday): its cache entries expire between calls although no
//! prompt changed, which TA103's longer lifetime addresses.
//!
//! Judged per (feature, model): a model's cache is its own, so a move to
//! another model (whose cache starts empty, and whose prompts may be too
//! short to cache) is no collapse.
//!
//! The saving is the collapsed days' lost cached reads (baseline share ×
//! input − cached), each group's: first the cache writes past the
//! baseline's write share (a prefix written again on every call, at its
//! write rate), then uncached input (at the input rate), each read from
//! the cache instead. The waterfall's lever re-prices the
//! collapsed days only. When the feature is still collapsed on its last
//! day, no more than a long weekend (three days) before the log's end, the
//! monthly figure is a month at the
//! collapsed days' rate (the loss goes on); after a recovery, or when the
//! feature's calls stopped before the log's end, the loss is scaled from
//! the period.

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

/// A day of a feature: input, cached reads, cache writes, calls.
#[derive(Clone, Copy, Default)]
struct Day {
    input: u64,
    cached: u64,
    written: u64,
    calls: u64,
}

/// A collapsed day, with the baseline it fell from: cached share, write
/// share and calls (medians of the days before).
#[derive(Clone, Copy)]
struct Collapse {
    day: NaiveDate,
    share: f64,
    base: f64,
    base_written: f64,
    base_calls: f64,
    base_cached: f64,
}

pub fn check(ctx: &Context<'_>, o: &Options, out: &mut Vec<Finding>) {
    // Per (feature, model): a model's cache is its own, so a move to
    // another model starts on an empty cache, no collapse (hunt92: a move
    // from a cached Claude Sonnet 4 to GPT-4.1 mini, 9 times cheaper a
    // call, was one at high confidence; hunt95: by day, a gradual move and
    // a collapse on the old model the day most calls moved were told
    // apart by neither).
    let mut days: BTreeMap<(&str, &str), BTreeMap<NaiveDate, Day>> = BTreeMap::new();
    for g in ctx.groups {
        if let Some(d) = g.day {
            let e = days
                .entry((&g.feature, &g.model))
                .or_default()
                .entry(d)
                .or_default();
            e.input += g.usage.input;
            e.cached += g.usage.cached_read;
            e.written += g.usage.cache_write;
            e.calls += g.stats.calls;
        }
    }
    let n_base = o.baseline_days.max(1);
    for ((feature, model), series) in days {
        // (day, cached share, write share, calls, cached tokens)
        type Point = (NaiveDate, f64, f64, u64, f64);
        let series: Vec<Point> = series
            .into_iter()
            .filter(|(_, d)| d.input >= o.min_input_tokens)
            .map(|(day, d)| {
                let input = d.input as f64;
                (
                    day,
                    d.cached as f64 / input,
                    d.written as f64 / input,
                    d.calls,
                    d.cached as f64,
                )
            })
            .collect();
        let mut collapsed: Vec<Collapse> = Vec::new();
        let mut baseline_at_first = 0.0;
        let mut quiet: Vec<NaiveDate> = Vec::new();
        for i in 1..series.len() {
            let (day, share, _, calls, cached) = series[i];
            let start = i.saturating_sub(n_base);
            // Only days that had not collapsed themselves, nor were quiet,
            // form the baseline.
            let base_days: Vec<&Point> = series[start..i]
                .iter()
                .filter(|s| !collapsed.iter().any(|c| c.day == s.0) && !quiet.contains(&s.0))
                .collect();
            let (base, base_written, base_calls, base_cached) = if base_days.is_empty() {
                // Still collapsed: the baseline from before the collapse.
                match collapsed.last() {
                    Some(c) => (c.base, c.base_written, c.base_calls, c.base_cached),
                    None => continue,
                }
            } else {
                let pick = |f: fn(&Point) -> f64| {
                    median(&mut base_days.iter().map(|s| f(s)).collect::<Vec<f64>>())
                };
                (
                    pick(|s| s.1),
                    pick(|s| s.2),
                    pick(|s| s.3 as f64),
                    pick(|s| s.4),
                )
            };
            if base < o.min_baseline || share >= o.drop * base {
                continue;
            }
            // The cache read as much as it did: the day's share fell because
            // it sent more that was never cached (a long document on one
            // call), not because the cache stopped being read (hunt116: 60k
            // cached reads every day, a collapse on each day with a 180k
            // document).
            if cached >= o.drop * base_cached {
                continue;
            }
            // Far fewer calls than the baseline's (a weekend, a holiday):
            // each cache entry expires before the next call reads it. No
            // prompt changed; that is TA103's lifetime to lengthen.
            if (calls as f64) < o.drop * base_calls {
                quiet.push(day);
                continue;
            }
            if collapsed.is_empty() {
                baseline_at_first = base;
            }
            collapsed.push(Collapse {
                day,
                share,
                base,
                base_written,
                base_calls,
                base_cached,
            });
        }
        if collapsed.is_empty() {
            continue;
        }
        // Price the lost hits group by group on the collapsed days: the
        // cache writes past the baseline's (the prefix written again on
        // every call) first, then uncached input, read from the cache.
        let mut lost = Money::ZERO;
        let mut lost_by_day: Vec<(NaiveDate, Money)> = Vec::new();
        let mut lost_tokens = 0u64;
        let mut rewritten = 0u64;
        for g in ctx
            .groups
            .iter()
            .filter(|g| g.feature == feature && g.model == model)
        {
            let (Some(id), Some(day)) = (g.resolved, g.day) else {
                continue;
            };
            let Some(c) = collapsed.iter().find(|c| c.day == day) else {
                continue;
            };
            let u = &g.usage;
            let want = (c.base * u.input as f64).round() as u64;
            let deficit = want.saturating_sub(u.cached_read);
            let keep = (c.base_written * u.input as f64).round() as u64;
            let from_writes = deficit.min(u.cache_write.saturating_sub(keep));
            let from_input = (deficit - from_writes).min(u.uncached_input());
            if from_writes + from_input == 0 {
                continue;
            }
            // The 1-hour writes in their share of the writes.
            let of_1h = if u.cache_write > 0 {
                (from_writes as u128 * u.cache_write_1h as u128 / u.cache_write as u128) as u64
            } else {
                0
            };
            let after = Usage {
                cached_read: u.cached_read + from_writes + from_input,
                cache_write: u.cache_write - from_writes,
                cache_write_1h: u.cache_write_1h - of_1h,
                ..*u
            };
            let day_lost = ctx.price(id, g.day, u, g.how()) - ctx.price(id, g.day, &after, g.how());
            lost += day_lost;
            lost_by_day.push((day, day_lost));
            lost_tokens += from_writes + from_input;
            rewritten += from_writes;
        }
        let first = collapsed[0];
        let mut f = Finding::new(
            format!(
                "{feature}: prompt-cache hit rate on {} fell from {:.0}% to {:.0}% on {}",
                model.rsplit('/').next().unwrap_or(model),
                baseline_at_first * 100.0,
                first.share * 100.0,
                first.day
            ),
            scope([("feature", feature), ("model", model)]),
        )
        .with("first_day", first.day.to_string())
        .with("collapsed_days", collapsed.len())
        .with("baseline_cached_share", round_to(baseline_at_first, 4))
        .with("cached_share_after", round_to(first.share, 4))
        .with("lost_cached_tokens", lost_tokens)
        .with("rewritten_tokens", rewritten)
        .with(
            "days",
            collapsed
                .iter()
                .map(|c| c.day.to_string())
                .collect::<Vec<_>>(),
        );
        if !quiet.is_empty() {
            f = f.with("quiet_days_left_out", quiet.len());
        }
        f.confidence = Confidence::High;
        f.recommendation = if rewritten > 0 {
            format!(
                "Since {}, {feature}'s calls write their prefix to the cache again instead of reading it: find what changed in its prompt that day (template, model, region, a per-request field early in the prompt) and restore a byte-identical cached prefix.",
                first.day
            )
        } else {
            format!(
                "Find what changed in {feature}'s prompt on {} (template, model, region) and restore a byte-identical cached prefix.",
                first.day
            )
        };
        let lever = Lever::PromptCache {
            feature: feature.to_string(),
            model: Some(model.to_string()),
            share: baseline_at_first,
            write_share: collapsed[0].base_written,
            write_1h: false,
            days: collapsed.iter().map(|c| c.day).collect(),
        };
        let method = "the collapsed days' lost cached reads (baseline share × input − cached): cache writes past the baseline's share at their write rate, then uncached input at the input rate, each less the cached rate";
        // Still collapsed on the feature's last day, at most a long weekend
        // before the log's end, the loss goes on: a month of it at the
        // collapsed days' rate (hunt70: spread over the whole period, two
        // such days of a 40-day log said a twentieth of it; hunt74: a
        // weekday feature collapsed on Friday in a log that ends on
        // Sunday). A feature whose calls stopped earlier is no loss going
        // on (hunt73: one gone 16 days before the log's end).
        let last = series.iter().rev().find(|s| !quiet.contains(&s.0));
        let log_end = ctx.audit.last_call;
        let ongoing = last.is_some_and(|l| {
            let end_of_day = l.0.and_hms_opt(23, 59, 59).map(|t| t.and_utc());
            collapsed.last().is_some_and(|c| c.day == l.0)
                && log_end
                    .zip(end_of_day)
                    .is_some_and(|(end, day)| end - day <= crate::audit::COVERAGE_GAP)
        });
        let worth = if ongoing {
            f = f.with("still_collapsed_on_last_day", true);
            // The collapse going on: its days since the last day the cache
            // held (an earlier collapse, recovered from, is not its rate:
            // hunt146's bug7), over the calendar days since it began (a
            // weekday feature's weekends are days of the month too,
            // hunt140's bug8: a month of weekdays said 40% more).
            let held = series
                .iter()
                .filter(|s| !quiet.contains(&s.0) && !collapsed.iter().any(|c| c.day == s.0))
                .map(|s| s.0)
                .max();
            let run: Vec<NaiveDate> = collapsed
                .iter()
                .map(|c| c.day)
                .filter(|d| held.is_none_or(|h| *d > h))
                .collect();
            let run_lost = lost_by_day
                .iter()
                .filter(|(d, _)| run.contains(d))
                .fold(Money::ZERO, |a, (_, m)| a + *m);
            let span = run
                .first()
                .zip(run.last())
                .map_or(1, |(a, b)| (*b - *a).num_days() + 1);
            let days = (span as f64).max(run.len() as f64).max(1.0);
            let monthly = run_lost.scale(crate::finding::MONTH_DAYS / days);
            f.set_savings_at_rate(
                ctx,
                lost,
                monthly,
                format!("{method}; still collapsed on the last day, a month at the rate of the days since it collapsed"),
                Some(lever),
            )
        } else {
            f.set_savings(ctx, lost, method, Some(lever))
        };
        if worth {
            out.push(f);
        }
    }
}
