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
//! - `min_tokens` (1024): smallest prefix, in tokens (the provider's own
//!   minimum cacheable length applies too).
//! - `max_cached_share` (0.1): the prefix counts as uncached when at most
//!   this share of its calls read anything from the cache.
//!
//! The saving replays each prefix's calls in time order through the
//! provider's prompt-cache rules (`cachesim`: minimum cacheable length,
//! OpenAI's 128-token steps, each lifetime the provider sells — 5 minutes
//! refreshed by each hit, Anthropic's 1 hour, OpenAI's 24 hours where
//! offered): the hits' cacheable tokens at the input minus cached rate,
//! less each write's premium at its lifetime's write rate (none where
//! writes are free), less what the logs show was already cached; the best
//! lifetime is recommended. Calls without a timestamp count as
//! simultaneous. The prefix's size is logged, or estimated from its text,
//! or bounded by the smallest input of its calls (`infer::prefix`); the
//! confidence says which. When no call of the feature and model gives a
//! cached-read count (a logged 0 is one) and the provider caches without
//! being asked (OpenAI, Gemini's implicit caching), the logs may simply not
//! record cached tokens: the finding then says so, with low confidence
//! (evidence `cached_tokens_recorded: false`).

use tokenaudit_core::Money;

use crate::cachesim::policy::{policy, Caching, Lifetime, Policy, WriteRate};
use crate::cachesim::replay::Runs;
use crate::coverage::{inputs, Input};
use crate::detect::{round_to, rule_options, scope, Confidence, Context, EffectiveRates, Finding};
use crate::finding::Lever;
use crate::infer::prefix::PrefixSource;
use crate::observe::PrefixObs;

/// What the rule reads (see `tokenaudit rules` and the report's rule
/// coverage).
pub const INPUTS: &[Input] = &[
    inputs::PREFIX_FINGERPRINT,
    inputs::PREFIX_SIZE,
    inputs::PRICED,
    inputs::TIMESTAMP_OPTIONAL,
];

rule_options! {
    /// fewest calls with the prefix
    min_calls: u64 = 20,
    /// smallest prefix in tokens
    min_tokens: u64 = 1024,
    /// share of calls reading the cache below which the prefix is uncached
    max_cached_share: f64 = 0.1,
}

/// One prefix (or a cell's calls taken as one prefix) replayed under one
/// lifetime.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Replay {
    pub lifetime: &'static str,
    pub hits: u64,
    pub writes: u64,
    /// Tokens each hit reads from the cache (and each write writes).
    pub cacheable: u64,
    /// Hits' savings less the writes' premium.
    pub saving: Money,
    /// Tokens written at a premium over the input rate (0 where writes are
    /// free).
    pub written: u64,
    pub write_1h: bool,
}

/// The write rate of a lifetime.
fn write_rate(rates: &EffectiveRates, lt: &Lifetime) -> Money {
    match lt.write {
        WriteRate::Input => rates.input,
        WriteRate::Write5m => rates.cache_write_5m,
        WriteRate::Write1h => rates.cache_write_1h,
    }
}

/// Replays `calls` calls of a `tokens`-token prefix, whose timed calls are
/// `runs`, under each lifetime of `policy`; the best first.
pub fn replay(
    policy: &Policy,
    rates: &EffectiveRates,
    runs: &Runs,
    calls: u64,
    tokens: u64,
) -> Option<Replay> {
    let cacheable = policy.cacheable(tokens);
    if cacheable == 0 || calls == 0 {
        return None;
    }
    policy
        .lifetimes
        .iter()
        .map(|lt| {
            let r = runs.replay(lt.idle_ms, lt.max_ms);
            // Untimed calls hit the first write (as if simultaneous).
            let writes = r.writes.clamp(1, calls);
            let hits = calls - writes;
            let per_hit = rates.input - rates.cached_read;
            let per_write = write_rate(rates, lt) - rates.input;
            Replay {
                lifetime: lt.name,
                hits,
                writes,
                cacheable,
                saving: per_hit * (hits * cacheable) - per_write * (writes * cacheable),
                // (Writes at the input rate, a model's without a write
                // fee, are no writes to pay for.)
                written: if per_write == Money::ZERO {
                    0
                } else {
                    writes * cacheable
                },
                write_1h: lt.write == WriteRate::Write1h,
            }
        })
        .max_by(|a, b| a.saving.cmp(&b.saving).then(b.lifetime.cmp(a.lifetime)))
}

pub fn check(ctx: &Context<'_>, o: &Options, out: &mut Vec<Finding>) {
    for cell in ctx.cells {
        let Some(id) = cell.resolved else { continue };
        let entry = ctx.catalog.model(id);
        let Some(policy) = policy(&entry.provider, &entry.id) else {
            continue;
        };
        let rates = ctx.cell_rates(cell.key, id);
        if rates.cached_read >= rates.input {
            continue; // no cheaper cached rate: nothing to gain
        }
        // The premium the cell's logged cache writes paid per token over
        // the input rate, at the logs' mix of lifetimes (kept per cell, not
        // per prefix).
        let (writes, writes_1h) = ctx.groups_of(cell.key).fold((0u64, 0u64), |(w, h), g| {
            (w + g.usage.cache_write, h + g.usage.cache_write_1h)
        });
        let share_1h = if writes > 0 {
            writes_1h.min(writes) as f64 / writes as f64
        } else {
            0.0
        };
        let premium = |rate: Money| {
            if rate > rates.input {
                rate - rates.input
            } else {
                Money::ZERO
            }
        };
        let paid_per_token = (premium(rates.cache_write_5m), premium(rates.cache_write_1h));
        // Each kept prefix stands for `scale` (1 unless the cell had more
        // distinct prefixes than are tracked).
        let scale = cell.obs.prefixes.scale();
        let mut prefixes: Vec<(u64, &PrefixObs)> = cell.obs.prefixes.sorted();
        prefixes.sort_by(|a, b| b.1.calls.cmp(&a.1.calls).then(a.0.cmp(&b.0)));
        let (mut saved, mut cached_tokens, mut written, mut calls, mut n) =
            (Money::ZERO, 0u64, 0u64, 0u64, 0u64);
        let mut largest: Option<(u64, f64, PrefixSource)> = None;
        let mut worst = PrefixSource::Logged;
        let mut lifetimes: Vec<&'static str> = Vec::new();
        let mut write_1h = false;
        let mut exact = true;
        let mut rewritten = 0u64;
        // The cached reads the kept prefixes' calls logged: among the
        // replay's hits, not beside them.
        let mut kept_reads = 0u64;
        // Excerpts of the qualifying prefixes, most used first (only with
        // `--include-prompts`).
        let mut texts: Vec<&str> = Vec::new();
        for (fp, p) in prefixes {
            let Some(size) = p.size else { continue };
            if p.calls < o.min_calls
                || size.tokens < o.min_tokens as f64
                || p.cached_calls as f64 > o.max_cached_share * p.calls as f64
            {
                continue;
            }
            let Some(r) = replay(
                &policy,
                &rates,
                &p.runs,
                p.calls,
                size.tokens.round() as u64,
            ) else {
                continue;
            };
            // What the logs show was cached already is not saved again;
            // what they show was written to the cache again and again was
            // paid at the write rate on top of the input rate, and is saved
            // too (at the cell's mix of lifetimes).
            let had = (rates.input - rates.cached_read) * p.cached_read;
            let of_1h = (p.cache_write as f64 * share_1h).round() as u64;
            let paid = paid_per_token.0 * (p.cache_write - of_1h) + paid_per_token.1 * of_1h;
            let s = r.saving - had + paid;
            rewritten += p.cache_write;
            if s <= Money::ZERO {
                continue;
            }
            saved += s;
            kept_reads += p.cached_read;
            cached_tokens += r.hits * r.cacheable;
            written += r.written;
            calls += p.calls;
            n += 1;
            worst = worst.max(size.source);
            exact &= p.runs.is_exact();
            write_1h |= r.write_1h;
            if !lifetimes.contains(&r.lifetime) {
                lifetimes.push(r.lifetime);
            }
            texts.extend(p.excerpt.as_deref());
            if largest.is_none_or(|(_, m, _)| size.tokens > m) {
                largest = Some((fp, size.tokens, size.source));
            }
        }
        if n == 0 {
            continue;
        }
        let saved = saved.scale(scale as f64);
        let (cached_tokens, written, calls, n) = (
            cached_tokens * scale,
            written * scale,
            calls * scale,
            n * scale,
        );
        let input = cell.obs.input.sum() as f64;
        let had: u64 = ctx.groups_of(cell.key).map(|g| g.usage.cached_read).sum();
        let (share, write_share) = if input > 0.0 {
            // Cached share the fix reaches: what is cached now plus the
            // hits, the prefixes' own reads once (hunt173: counted in both,
            // the caching step 8% over its finding).
            let elsewhere = had.saturating_sub(kept_reads * scale);
            (
                ((elsewhere as f64 + cached_tokens as f64) / input).min(1.0),
                (written as f64 / input).min(1.0),
            )
        } else {
            (0.0, 0.0)
        };
        let model = ctx.model_name(cell);
        let (largest_fp, largest_tokens, _) = largest.unwrap_or((0, 0.0, PrefixSource::Logged));
        // No call of this feature and model gives a cached-read count (not
        // even 0): its logs may not record cached tokens, and a provider
        // that caches on its own may have cached these prefixes already
        // (per cell: another log's counts say nothing of this one's, hunt74).
        let unknown = cell.obs.cached_read_logged == 0 && policy.caching == Caching::Automatic;
        let mut f = Finding::new(
            if unknown {
                format!(
                    "{}: a {:.0}-token system prompt is repeated on {} calls to {} and the logs show no cached tokens",
                    cell.feature, largest_tokens, calls, model
                )
            } else if rewritten > 0 {
                format!(
                    "{}: a {:.0}-token system prompt is written to the cache again and again on {} calls to {} and rarely read",
                    cell.feature, largest_tokens, calls, model
                )
            } else {
                format!(
                    "{}: a {:.0}-token system prompt is sent uncached on {} calls to {}",
                    cell.feature, largest_tokens, calls, model
                )
            },
            scope([("feature", &cell.feature), ("model", &cell.model)]),
        )
        .with("prefixes", n)
        .with("calls", calls)
        .with("largest_prefix_tokens", largest_tokens.round() as u64)
        .with("largest_prefix", format!("{largest_fp:016x}"))
        .with("prefix_tokens_from", worst.as_str())
        .with("input_rate_per_mtok", crate::detect::per_mtok(rates.input))
        .with(
            "cached_rate_per_mtok",
            crate::detect::per_mtok(rates.cached_read),
        )
        .with("cacheable_tokens", cached_tokens)
        .with("cache_write_tokens", written)
        .with("cached_tokens_logged", had)
        .with("min_cacheable_tokens", policy.min_tokens)
        .with("cache_lifetime", lifetimes.join(", "))
        .with("cache_rules", policy.name)
        .with("cached_share_after", round_to(share, 4));
        if rewritten > 0 {
            f = f.with("cache_write_tokens_logged", rewritten * scale);
        }
        f.sample_prompts = crate::detect::sample_prompts(texts);
        f.confidence = if unknown {
            Confidence::Low
        } else if exact {
            worst.confidence()
        } else {
            worst.confidence().min(Confidence::Medium)
        };
        f.recommendation = if rewritten > 0 && policy.caching == Caching::Explicit {
            if share_1h >= 0.5 {
                format!(
                    "{}'s calls write the system prompt to the cache with a 1-hour lifetime but rarely read it back: what precedes the cache breakpoint must differ from call to call; keep it first and byte-identical.",
                    cell.feature
                )
            } else {
                format!(
                    "{}'s calls already write the system prompt to the cache, but each entry expires before the next call: give it a longer lifetime{} and keep it first and byte-identical.",
                    cell.feature,
                    if write_1h { " (cache_control with a 1-hour ttl)" } else { "" }
                )
            }
        } else {
            format!(
                "Enable prompt caching for {}'s system prompt: keep it first and byte-identical{}.",
                cell.feature,
                if policy.caching == Caching::Explicit {
                    if write_1h {
                        ", and mark it with cache_control and a 1-hour ttl"
                    } else {
                        ", and mark it with cache_control"
                    }
                } else if lifetimes.contains(&"24h") {
                    // (The saving needs extended retention, which a
                    // request asks for: hunt140's bug1.)
                    ", and ask for extended retention (prompt_cache_retention \"24h\")"
                } else {
                    ""
                }
            )
        };
        if unknown {
            f = f.with("cached_tokens_recorded", false);
            f.recommendation.push_str(&format!(
                " No call in these logs shows a cached read, so they may not record cached tokens: {} caches prompts of {} tokens or more without any change to the request, and these calls may have been billed at the cached rate already. Check the provider's usage (cached tokens) before acting.",
                policy.name, policy.min_tokens
            ));
        }
        let lever = Lever::PromptCache {
            feature: cell.feature.to_string(),
            model: Some(cell.model.to_string()),
            share,
            write_share,
            write_1h,
            days: vec![],
        };
        if f.set_savings(
            ctx,
            saved,
            "the prefix's calls replayed in time order under the provider's prompt-cache rules: hits' cacheable tokens at the input minus cached rate, less each write's premium and what was already cached, plus the write premium the logs show was paid",
            Some(lever),
        ) {
            out.push(f);
        }
    }
}
