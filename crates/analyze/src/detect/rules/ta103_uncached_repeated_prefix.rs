//! ## What it finds
//! The same system-prompt prefix (same prefix fingerprint) of many tokens
//! sent again and again without any tokens read from the provider's prompt
//! cache, per (feature, model).
//!
//! ## Why it costs money
//! Providers bill cached prompt tokens at a fraction of the input rate
//! (OpenAI 25–50%, Anthropic and Gemini 10%). A 3,000-token system prompt on
//! every call of a busy feature is paid in full each time when caching is
//! off, the prefix is not at the start of the prompt, or it is too short of
//! the provider's minimum to be cached.
//!
//! ## Example
//! `doc-qa × gpt-4.1`: prefix `a3f1…` of 3,200 tokens on 9,300 calls, none
//! cached. At the cached rate it would have cost $86 less this month.
//!
//! ## How to fix
//! Put the static part first and the variable part last; on Anthropic mark
//! it with `cache_control`; check that the prefix is above the provider's
//! minimum cacheable length (1,024 tokens on most models).
//!
//! ## Options
//! - `min_calls` (20): fewest calls with the prefix.
//! - `min_tokens` (1024): smallest mean prefix length, in tokens.
//! - `max_cached_share` (0.1): the prefix counts as uncached when at most
//!   this share of its calls read anything from the cache.
//!
//! The saving assumes one cache write in every 5-minute window that had a
//! call with the prefix (the shortest provider cache lifetime), priced at the
//! model's cache-write rate, and cached reads for the other calls.

use tokenaudit_core::Money;

use crate::detect::{round_to, rule_options, scope, Confidence, Context, Finding};
use crate::finding::Lever;

rule_options! {
    /// fewest calls with the prefix
    min_calls: u64 = 20,
    /// smallest mean prefix length in tokens
    min_tokens: u64 = 1024,
    /// share of calls reading the cache below which the prefix is uncached
    max_cached_share: f64 = 0.1,
}

/// Cache writes and hits for `calls` calls that fell into `buckets`
/// distinct 5-minute buckets: a write in each bucket, hits for the rest.
pub fn writes_and_hits(calls: u64, buckets: u64) -> (u64, u64) {
    let writes = buckets.clamp(1, calls.max(1)).min(calls);
    (writes, calls - writes)
}

/// The saving of caching a prefix of `tokens` per call over `hits` hits and
/// `writes` writes at `rates` (may be negative when writes cost more).
pub fn cache_saving(
    rates: &crate::detect::EffectiveRates,
    tokens_per_call: f64,
    writes: u64,
    hits: u64,
) -> Money {
    let per_hit = (rates.input - rates.cached_read).picos() as f64;
    let per_write = (rates.cache_write_5m - rates.input).picos() as f64;
    Money::from_picos(
        (tokens_per_call * (hits as f64 * per_hit - writes as f64 * per_write)).round() as i128,
    )
}

pub fn check(ctx: &Context<'_>, o: &Options, out: &mut Vec<Finding>) {
    for cell in ctx.cells {
        let Some(id) = cell.resolved else { continue };
        let rates = ctx.rates(id, None);
        if rates.cached_read >= rates.input {
            continue; // no cheaper cached rate: nothing to gain
        }
        // Each kept prefix stands for `scale` (1 unless the cell had more
        // distinct prefixes than are tracked).
        let scale = cell.obs.prefixes.scale();
        let mut prefixes = cell.obs.prefixes.sorted();
        prefixes.sort_by(|a, b| b.1.calls.cmp(&a.1.calls).then(a.0.cmp(&b.0)));
        let (mut saved, mut tokens_saved, mut calls, mut n) = (Money::ZERO, 0f64, 0u64, 0u64);
        let mut largest: Option<(u64, f64)> = None;
        // Excerpts of the qualifying prefixes, most used first (only with
        // `--include-prompts`).
        let mut texts: Vec<&str> = Vec::new();
        for (fp, p) in prefixes {
            if p.calls < o.min_calls || p.with_tokens == 0 {
                continue;
            }
            let mean = p.prefix_tokens as f64 / p.with_tokens as f64;
            if mean < o.min_tokens as f64
                || p.cached_calls as f64 > o.max_cached_share * p.calls as f64
            {
                continue;
            }
            let (writes, hits) = writes_and_hits(p.calls, p.bucket_count());
            let s = cache_saving(&rates, mean, writes, hits);
            if s <= Money::ZERO {
                continue;
            }
            saved += s;
            tokens_saved += mean * hits as f64;
            calls += p.calls;
            n += 1;
            texts.extend(p.excerpt.as_deref());
            if largest.is_none_or(|(_, m)| mean > m) {
                largest = Some((fp, mean));
            }
        }
        let saved = saved.scale(scale as f64);
        let (tokens_saved, calls, n) = (tokens_saved * scale as f64, calls * scale, n * scale);
        if n == 0 {
            continue;
        }
        let input = cell.obs.input.sum() as f64;
        let share = if input > 0.0 {
            // Cached share the fix reaches: what is cached now plus the hits.
            let cached: u64 = ctx.groups_of(cell.key).map(|g| g.usage.cached_read).sum();
            ((cached as f64 + tokens_saved) / input).min(1.0)
        } else {
            0.0
        };
        let model = ctx.model_name(cell);
        let mut f = Finding::new(
            format!(
                "{}: a {:.0}-token system prompt is sent uncached on {} calls to {}",
                cell.feature,
                largest.map_or(0.0, |l| l.1),
                calls,
                model
            ),
            scope([("feature", &cell.feature), ("model", &cell.model)]),
        )
        .with("prefixes", n)
        .with("calls", calls)
        .with(
            "largest_prefix_tokens",
            largest.map_or(0, |l| l.1.round() as u64),
        )
        .with(
            "largest_prefix",
            format!("{:016x}", largest.map_or(0, |l| l.0)),
        )
        .with("input_rate_per_mtok", crate::detect::per_mtok(rates.input))
        .with(
            "cached_rate_per_mtok",
            crate::detect::per_mtok(rates.cached_read),
        )
        .with("cacheable_tokens", tokens_saved.round() as u64)
        .with("cached_share_after", round_to(share, 4));
        f.sample_prompts = crate::detect::sample_prompts(texts);
        f.confidence = Confidence::High;
        f.recommendation = format!(
            "Enable prompt caching for {}'s system prompt: keep it first and byte-identical{}.",
            cell.feature,
            if cell.model.starts_with("anthropic/") {
                ", and mark it with cache_control"
            } else {
                ""
            }
        );
        let lever = Lever::PromptCache {
            feature: cell.feature.to_string(),
            model: Some(cell.model.to_string()),
            share,
        };
        if f.set_savings(
            ctx,
            saved,
            "prefix tokens of cache hits at the input minus cached rate, less a cache write in every 5-minute window with calls",
            Some(lever),
        ) {
            out.push(f);
        }
    }
}
