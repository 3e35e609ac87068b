//! ## What it finds
//! The same prompt (same prompt fingerprint) sent to the same model again
//! within `ttl_minutes`: the calls an exact-match response cache would have
//! answered, the hit rate it would have had, and what those calls cost. A
//! system prompt or instructions logged beside the messages (Anthropic's
//! `system`, the Responses API's `instructions`) are part of the prompt: the
//! same question within each customer's own account data is no repeat.
//!
//! ## Why it costs money
//! Each repeat is billed in full although its answer was already paid for
//! minutes earlier: FAQ bots, dashboards refreshing the same summary, users
//! pressing "regenerate", clients retrying successful calls.
//!
//! ## Example
//! `faq-bot × gpt-4o-mini`: 3,100 of 7,400 calls repeated a prompt seen in
//! the previous hour (42% hit rate), $41 a month.
//!
//! ## How to fix
//! Put an exact-match response cache (keyed by model, parameters and the
//! normalised prompt) in front of the feature with this TTL; skip it for
//! prompts that must be fresh (temperature > 0 creative tasks).
//!
//! ## Options
//! - `ttl_minutes` (60): lifetime of a cached response.
//! - `min_hits` (20): fewest cache hits for a finding.
//! - `min_hit_rate` (0.05): lowest hit rate for a finding.
//!
//! Past 50,000 distinct prompts in the period the prompts are read 1 in
//! `prompts_scale` by hash and the figures scaled up. A finding whose
//! estimate falls under `min_hits` or `min_hit_rate` by less than two
//! standard errors of the sample (`cache_hits_standard_error`,
//! `hit_rate_standard_error`), and by no more than half, with at least two
//! kept prompts repeated, is not reported, but its open ticket stays open
//! (`persisting`, with these figures) instead of closing on the luck of
//! the sample.
//!
//! The finding also replays the same calls at a sweep of TTLs (5 minutes,
//! 1 hour, 1 day, 7 days: `ttl_sweep` in the evidence, hits and saving at
//! each), names the shortest TTL that gets 90% of the best saving
//! (`recommended_ttl_minutes`; answers cached for days may go stale, so
//! weigh it against freshness), and counts the distinct prompts sent on
//! more than one day (`prompts_recurring_across_days`): FAQ-style traffic
//! asked once a day is a cache opportunity an hour-long TTL never sees.
//!
//! The simulation replays each prompt's calls in time order: a call more than
//! the TTL after the one that filled the cache (or the first) is a miss and
//! refills it; the others are hits, and their cost is the saving. Only
//! successful calls are replayed: a failed call leaves nothing to cache, and
//! a retry after a failure is TA108's business. Calls without a timestamp
//! count as simultaneous.
//!
//! LiteLLM's rows with `cache_hit` true were answered from LiteLLM's own
//! cache: they are skipped (never priced, never replayed), but counted per
//! feature × model and prompt; the finding gives them
//! (`litellm_cache_hits`, `litellm_cache_hit_prompts`) and says that the
//! repeats it counts are the ones that cache missed.

use std::collections::BTreeMap;

use tokenaudit_core::Money;

use crate::cachesim::response;
use crate::coverage::{inputs, Input};
use crate::detect::{
    round_to, rule_options, sample_prompts, scope, with_gateway_cache_hits, Confidence, Context,
    Finding, Held,
};
use crate::finding::Lever;

/// What the rule reads (see `tokenaudit rules` and the report's rule
/// coverage).
pub const INPUTS: &[Input] = &[
    inputs::PROMPT_FINGERPRINT,
    inputs::PRICED,
    inputs::TIMESTAMP_OPTIONAL,
    inputs::GATEWAY_CACHE_HITS,
];

rule_options! {
    /// lifetime of a cached response
    ttl_minutes: f64 = 60.0,
    /// fewest cache hits for a finding
    min_hits: u64 = 20,
    /// lowest hit rate for a finding
    min_hit_rate: f64 = 0.05,
}

/// Hits and their cost for one prompt's calls `(millis, cost picos)`.
pub fn simulate(calls: &mut [(i64, i64)], ttl_ms: i64) -> (u64, i128) {
    calls.sort_unstable();
    response::replay(calls, ttl_ms)
}

#[derive(Default)]
struct PerCell {
    prompts: u64,
    repeated: u64,
    calls: u64,
    hits: u64,
    saved: i128,
    ids: Vec<String>,
    /// Excerpts of repeated prompts (`--include-prompts` only).
    texts: Vec<String>,
    /// Each prompt's hits and calls, for the error of a sampled estimate.
    error: Held,
}

pub fn check(ctx: &Context<'_>, o: &Options, out: &mut Vec<Finding>) {
    let ttl_ms = (o.ttl_minutes * 60_000.0) as i64;
    let s = ctx.keyed.prompts.scale();
    let mut per: BTreeMap<u64, PerCell> = BTreeMap::new();
    let mut sweeps: BTreeMap<u64, response::Sweep> = BTreeMap::new();
    for (_, p) in ctx.keyed.prompts.sorted() {
        let c = per.entry(p.cell).or_default();
        c.prompts += 1;
        c.calls += p.len() as u64;
        if p.len() < 2 {
            c.error.add(0, 1);
            continue;
        }
        let mut calls = p.calls();
        let (hits, saved) = simulate(&mut calls, ttl_ms);
        c.error.add(hits, p.len() as u64);
        sweeps
            .entry(p.cell)
            .or_insert_with(|| response::Sweep::new(&response::SWEEP_MINUTES))
            .add(&calls);
        if hits > 0 {
            c.repeated += 1;
            c.hits += hits;
            c.saved += saved;
            if c.ids.len() < 3 {
                if let Some(id) = &p.request_id {
                    c.ids.push(id.to_string());
                }
            }
            if let Some(e) = p.excerpt() {
                c.texts.push(e.to_string());
            }
        }
    }
    for (key, p) in per {
        let Some(cell) = ctx.cell(key) else { continue };
        let rate = p.hits as f64 / p.calls.max(1) as f64;
        // Under a threshold by less than a sampled estimate's error: kept
        // for an open ticket, not reported ([`Finding::hold`]).
        let (few, rare) = (p.hits * s < o.min_hits, rate < o.min_hit_rate);
        let held = few || rare;
        if (few && !p.error.total_may_reach(s, o.min_hits as f64))
            || (rare && !p.error.ratio_may_reach(s, o.min_hit_rate))
        {
            continue;
        }
        let saved = Money::from_picos(p.saved * s as i128);
        let model = ctx.model_name(cell);
        // The rate is of the calls whose prompt the log holds: said so when
        // some have none (hunt161: "85% of calls" where 16.5% of the
        // feature's calls were answered, most logged without a prompt).
        let all: u64 = ctx.groups_of(key).map(|g| g.stats.ok_calls).sum();
        let of = if ((p.calls * s) as f64) < 0.99 * all as f64 {
            "calls with a logged prompt"
        } else {
            "calls"
        };
        let mut f = Finding::new(
            format!(
                "{}: {:.0}% of {of} to {} repeat a prompt sent in the previous {} minutes",
                cell.feature,
                rate * 100.0,
                model,
                o.ttl_minutes
            ),
            scope([("feature", &cell.feature), ("model", &cell.model)]),
        )
        .with("calls_with_fingerprint", p.calls * s)
        .with("distinct_prompts", p.prompts * s)
        .with("repeated_prompts", p.repeated * s)
        .with("cache_hits", p.hits * s)
        .with("hit_rate", round_to(rate, 4))
        .with("ttl_minutes", o.ttl_minutes);
        // The error of each figure the finding is held for.
        if few {
            f = f.with(
                "cache_hits_standard_error",
                round_to(p.error.total_error(s), 1),
            );
        }
        if rare {
            f = f.with(
                "hit_rate_standard_error",
                round_to(p.error.ratio_error(s), 4),
            );
        }
        let mut recommended = None;
        if let Some(sweep) = sweeps.get(&key) {
            let points: Vec<serde_json::Value> = sweep
                .points
                .iter()
                .map(|pt| {
                    serde_json::json!({
                        "ttl_minutes": pt.ttl_minutes,
                        "cache_hits": pt.hits * s,
                        "saved": Money::from_picos(pt.saved * s as i128).to_decimal_string(),
                    })
                })
                .collect();
            f = f
                .with("ttl_sweep", points)
                .with("prompts_recurring_across_days", sweep.recurring_prompts * s);
            if let Some(i) = response::recommend(&sweep.points, u64::MAX) {
                f = f.with("recommended_ttl_minutes", sweep.points[i].ttl_minutes);
                recommended = Some(sweep.points[i].ttl_minutes);
            }
        }
        let mut ids = p.ids;
        ids.sort();
        f.sample_requests = ids;
        f.sample_prompts = sample_prompts(p.texts.iter().map(String::as_str));
        f.confidence = if s > 1 {
            Confidence::Medium
        } else {
            Confidence::High
        };
        f.recommendation = format!(
            "Put an exact-match response cache with a {}-minute TTL in front of {} (the saving above).",
            o.ttl_minutes, cell.feature
        );
        // The sweep's TTL, when it is another: said, so the advice and the
        // evidence do not disagree.
        if let Some(ttl) = recommended.filter(|&t| (t as f64 - o.ttl_minutes).abs() > 0.5) {
            f.recommendation.push_str(&format!(
                " Replayed at other TTLs, {} gets 90% of the best saving (ttl_sweep); weigh a longer one against how fast answers go stale.",
                ttl_text(ttl)
            ));
        }
        f = with_gateway_cache_hits(f, cell);
        let lever = Lever::ResponseCache {
            feature: cell.feature.to_string(),
            model: Some(cell.model.to_string()),
            hit_rate: answered_share(saved, ctx.cell_cost(key)),
        };
        let worth = f.set_savings(
            ctx,
            saved,
            "the logged cost of the calls a response cache with this TTL would have answered (replayed in time order)",
            Some(lever),
        );
        if held {
            f.hold(ctx, worth);
        } else if worth {
            out.push(f);
        }
    }
}

/// The share of a cell's traffic a response cache answers, by cost: the
/// saving over the cell's cost (by calls, repeated short prompts would take
/// their share of the cell's long unique ones; the waterfall's step was 11
/// times its finding's saving).
pub(crate) fn answered_share(saved: Money, cell_cost: Money) -> f64 {
    if cell_cost <= Money::ZERO {
        return 0.0;
    }
    (saved.to_f64() / cell_cost.to_f64()).clamp(0.0, 1.0)
}

/// A TTL in minutes as a reader says it: `5 minutes`, `1 hour`, `7 days`.
fn ttl_text(minutes: u64) -> String {
    let (n, unit) = if minutes >= 1440 && minutes.is_multiple_of(1440) {
        (minutes / 1440, "day")
    } else if minutes >= 60 && minutes.is_multiple_of(60) {
        (minutes / 60, "hour")
    } else {
        (minutes, "minute")
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}
