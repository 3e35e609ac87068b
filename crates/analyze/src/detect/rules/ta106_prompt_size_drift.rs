//! ## What it finds
//! Prompts of a (feature, model) that grow over the weeks — the median input
//! tokens of the last week at least `growth` above the first week's (weeks
//! from Monday, UTC; a week the logs end inside is a part of one, and the
//! finding says how many of its days the logs have; a first week they have
//! fewer than 4 days of is passed over when two more follow) —
//! and oversized contexts, where the p95 input is at least `p95_ratio` times
//! the median.
//!
//! ## Why it costs money
//! Prompts accrete: another instruction, more retrieved chunks, a longer
//! few-shot list. Each is small; together they raise every call's input
//! bill, unnoticed because no single change looked expensive. A p95 far
//! above the median means some requests stuff whole documents or histories
//! into the context where a retrieval step or truncation would do.
//!
//! ## Example
//! `doc-qa × gpt-4.1`: median input 3,900 tokens in the week of 2026-09-28,
//! 5,100 in the week of 2026-10-26 (+31%).
//!
//! ## How to fix
//! Review what was added to the prompt template; trim retrieved context to
//! the top chunks; set a token budget for the context builder.
//!
//! ## Options
//! - `growth` (0.25): relative rise of the weekly median that counts as drift.
//! - `p95_ratio` (4): p95 / median input that counts as oversized.
//! - `min_calls` (50): fewest calls in each compared week (or overall, for
//!   the p95 check).
//!
//! The drift saving is bringing each week after the first back to the first
//! week's median: each later week's calls × (its median − the first week's
//! median), when positive, and at most its input above the first week's
//! median on each call. The oversized saving is capping input at 2× the
//! median on the calls above it (the excess tokens). Both are priced at
//! what an input token cost the cell: its input, cache reads and cache
//! writes over its input tokens (the input rate when nothing is cached).
//!
//! Not on embedding, speech, image, moderation or rerank models (by name):
//! an embedding's input is the document it indexes, no prompt to trim.

use tokenaudit_core::Money;

use crate::coverage::{inputs, Input};
use crate::detect::{round_to, rule_options, scope, Confidence, Context, Finding};
use crate::finding::Lever;

/// What the rule reads (see `tokenaudit rules` and the report's rule
/// coverage).
pub const INPUTS: &[Input] = &[inputs::TIMESTAMP];

rule_options! {
    /// relative rise of the weekly median input that counts as drift
    growth: f64 = 0.25,
    /// p95 / median input that counts as oversized
    p95_ratio: f64 = 4.0,
    /// fewest calls per compared week
    min_calls: u64 = 50,
}

pub fn check(ctx: &Context<'_>, o: &Options, out: &mut Vec<Finding>) {
    let min_calls = o.min_calls;
    for cell in ctx.cells {
        let Some(id) = cell.resolved else { continue };
        if !crate::detect::serves_text_chat(&ctx.catalog.model(id).id) {
            continue;
        }
        let rates = ctx.rates(id, None);
        let model = ctx.model_name(cell);
        let total_input = cell.obs.input.sum() as f64;
        // What an input token cost the cell: its input, cache reads and
        // writes over its input tokens (the input rate without caching). A
        // history read from the cache is paid at the read rate (hunt97: an
        // agent's cached context priced at the input rate, 10 times what it
        // cost).
        let (paid, tokens) = ctx.groups_of(cell.key).fold((0i128, 0u64), |(c, t), g| {
            let parts = g.cost.input + g.cost.cached_read + g.cost.cache_write;
            (c + parts.picos(), t + g.usage.input)
        });
        let per_token = if tokens > 0 {
            paid as f64 / tokens as f64
        } else {
            rates.input.picos() as f64
        };
        let mut weeks: Vec<_> = cell
            .obs
            .weekly_input
            .iter()
            .filter(|(_, h)| h.count() >= min_calls)
            .collect();
        // A first week the logs have fewer than 4 days of is no base when
        // two more weeks follow (hunt182: November 2026's Sunday alone, a
        // weekend's smaller prompts, was "the week of 2026-10-26", a drift
        // of 33% with no growth at all).
        // (The cell's own first day: a feature launched mid-log, hunt187.)
        let started = ctx
            .groups_of(cell.key)
            .filter_map(|g| g.day)
            .min()
            .map(|d| {
                use chrono::Datelike;
                d.num_days_from_ce()
            });
        if weeks.len() >= 3 && started.is_some_and(|d| d > weeks[0].0 + 3) {
            weeks.remove(0);
        }
        if let (Some(first), Some(last)) = (weeks.first(), weeks.last()) {
            let (m0, m1) = (first.1.quantile(0.5) as f64, last.1.quantile(0.5) as f64);
            if weeks.len() >= 2 && m0 > 0.0 && m1 >= m0 * (1.0 + o.growth) {
                // Each later week's median brought back to the first's, on
                // its calls (hunt70: all later input cut by 1 − m0/m1 took
                // the middle weeks below the first week, 1.4–2.3× the
                // saving the method states).
                let tokens: f64 = cell
                    .obs
                    .weekly_input
                    .iter()
                    .filter(|(w, _)| *w > first.0)
                    .map(|(_, h)| {
                        let n = h.count() as f64;
                        // Never more than the week's input above the first
                        // week's median on each call (hunt73: a two-humped
                        // week's median over its mean saved more than the
                        // week spent on input).
                        let over_mean = (h.sum() as f64 - n * m0).max(0.0);
                        (n * (h.quantile(0.5) as f64 - m0)).clamp(0.0, over_mean)
                    })
                    .sum();
                let saved = Money::from_picos((tokens * per_token).round() as i128);
                let week = |w: i32| {
                    chrono::NaiveDate::from_num_days_from_ce_opt(w)
                        .map_or(String::new(), |d| d.to_string())
                };
                // The days of the last week the logs have, when they end
                // inside it (hunt83: a Monday's calls were "the week of").
                let last_days = ctx
                    .audit
                    .last_call
                    .map(|t| {
                        use chrono::Datelike;
                        t.date_naive().num_days_from_ce() - last.0 + 1
                    })
                    .filter(|d| (1..7).contains(d));
                let part = last_days.map_or(String::new(), |d| {
                    format!(" (the logs have {d} of its 7 days)")
                });
                let mut f = Finding::new(
                    format!(
                        "{}: median prompt grew {:.0}% from the week of {} to the week of {}{part} on {}",
                        cell.feature,
                        (m1 / m0 - 1.0) * 100.0,
                        week(first.0),
                        week(last.0),
                        model
                    ),
                    scope([
                        ("feature", &cell.feature),
                        ("model", &cell.model),
                        ("kind", "drift"),
                    ]),
                )
                .with("first_week", week(first.0))
                .with("last_week", week(last.0))
                .with("first_week_median_input", m0 as u64)
                .with("last_week_median_input", m1 as u64)
                .with("growth", round_to(m1 / m0 - 1.0, 4))
                .with("weeks", weeks.len());
                if let Some(d) = last_days {
                    f = f.with("last_week_days", d);
                }
                f.confidence = Confidence::Medium;
                f.recommendation = format!(
                    "Review what was added to {}'s prompt since the week of {}; trim it back to what the task needs.",
                    cell.feature,
                    week(first.0)
                );
                let lever = (total_input > 0.0).then(|| Lever::TrimInput {
                    feature: cell.feature.to_string(),
                    model: Some(cell.model.to_string()),
                    fraction: (tokens / total_input).min(1.0),
                });
                if f.set_savings(
                    ctx,
                    saved,
                    "each later week's median input brought back to the first week's, on its calls, at what an input token cost the cell (cache reads at their rate)",
                    lever,
                ) {
                    out.push(f);
                }
            }
        }
        let h = &cell.obs.input;
        if h.count() < min_calls {
            continue;
        }
        let (p50, p95) = (h.quantile(0.5), h.quantile(0.95));
        if p50 == 0 || (p95 as f64) < o.p95_ratio * p50 as f64 {
            continue;
        }
        let cap = 2 * p50;
        let (over, excess) = h.excess_over(cap);
        let saved = Money::from_picos((excess as f64 * per_token).round() as i128);
        let mut f = Finding::new(
            format!(
                "{}: oversized contexts, p95 input {} tokens is {:.1}× the median {} on {}",
                cell.feature,
                p95,
                p95 as f64 / p50 as f64,
                p50,
                model
            ),
            scope([
                ("feature", &cell.feature),
                ("model", &cell.model),
                ("kind", "oversized"),
            ]),
        )
        .with("median_input", p50)
        .with("p95_input", p95)
        .with("max_input", h.max())
        .with("calls_over_2x_median", over)
        .with("excess_tokens", excess as u64);
        f.confidence = Confidence::Low;
        f.recommendation = format!(
            "Bound {}'s context: retrieve fewer chunks, truncate long documents and histories to a token budget (about {} tokens).",
            cell.feature, cap
        );
        let lever = (total_input > 0.0).then(|| Lever::TrimInput {
            feature: cell.feature.to_string(),
            model: Some(cell.model.to_string()),
            fraction: (excess as f64 / total_input).min(1.0),
        });
        if f.set_savings(
            ctx,
            saved,
            "input above 2× the median cut on the calls above it, at what an input token cost the cell (cache reads at their rate)",
            lever,
        ) {
            out.push(f);
        }
    }
}
