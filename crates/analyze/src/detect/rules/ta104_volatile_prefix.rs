//! ## What it finds
//! A feature whose system-prompt prefix fingerprint changes on (nearly)
//! every call although the prefix is long: something variable — a
//! timestamp, a request id, the user's name — sits inside what was meant to
//! be a static, cacheable prefix.
//!
//! ## Why it costs money
//! Prompt caching matches prefixes byte for byte. One changing character near
//! the start of a 2,500-token system prompt makes every call a cache miss, so
//! the whole prefix is billed at the full input rate every time, even with
//! caching switched on.
//!
//! ## Example
//! `agent-planner × claude-3-5-haiku`: 9,800 calls carried 9,800 distinct
//! prefixes of 2,500 tokens on average.
//!
//! ## How to fix
//! Move the variable part (date, ids, user details) out of the system prompt
//! to the end of the prompt; keep the prefix byte-identical across calls.
//!
//! ## Options
//! - `min_calls` (50): fewest calls with a prefix fingerprint.
//! - `min_tokens` (1024): smallest mean prefix length, in tokens.
//! - `distinct_share` (0.5): distinct prefixes per call at or above which the
//!   prefix counts as volatile.
//!
//! The saving is that of caching the prefix once it is stable, computed as
//! TA103 does: the feature's calls replayed in time order under the
//! provider's prompt-cache rules, as if they all shared one prefix, less
//! what the logs show read from the cache already. A feature whose cache
//! reads cover half the prefix tokens its calls carried is cached (its
//! variable part comes after a cached block) and is not reported. The
//! prefix's size is logged or estimated from its text; without either, it
//! is bounded by the smallest input of the feature's calls with a prefix
//! (each variant is part of its call's input, and the variants of a
//! volatile prefix differ in a few characters), with low confidence. (The
//! bound TA103 takes, the smallest input sharing one prefix, says nothing
//! here: each variant is sent once.) The finding is reported even when
//! that saving is small: a volatile prefix also defeats every later
//! caching effort. When no call of the feature and model gives a
//! cached-read count (a logged 0 is one) and the provider caches on its
//! own, the finding says so, with low confidence: the fingerprint tells
//! that the prompt changes, not where, and the unchanged start before a
//! late variable part may be cached already.

use tokenaudit_core::Money;

use crate::cachesim::policy::{policy, Caching};
use crate::coverage::{inputs, Input};
use crate::detect::rules::ta103_uncached_repeated_prefix::replay;
use crate::detect::{round_to, rule_options, scope, Confidence, Context, Finding};
use crate::finding::Lever;
use crate::infer::prefix::PrefixSource;

/// What the rule reads (see `tokenaudit rules` and the report's rule
/// coverage).
pub const INPUTS: &[Input] = &[
    inputs::PREFIX_FINGERPRINT,
    inputs::VOLATILE_PREFIX_SIZE,
    inputs::PRICED,
    inputs::TIMESTAMP_OPTIONAL,
];

rule_options! {
    /// fewest calls with a prefix fingerprint
    min_calls: u64 = 50,
    /// smallest mean prefix length in tokens
    min_tokens: u64 = 1024,
    /// distinct prefixes per call that make the prefix volatile
    distinct_share: f64 = 0.5,
}

pub fn check(ctx: &Context<'_>, o: &Options, out: &mut Vec<Finding>) {
    for cell in ctx.cells {
        let obs = &cell.obs;
        let calls = obs.prefixed_calls;
        if calls < o.min_calls {
            continue;
        }
        let distinct = obs.distinct_prefix_estimate().min(calls);
        let share = distinct as f64 / calls as f64;
        if share < o.distinct_share {
            continue;
        }
        // The mean prefix length over the tracked prefixes (a coordinated
        // sample when there are many: an unbiased mean), from the sizes
        // logged or estimated from the text.
        let (mut tokens, mut with) = (0f64, 0u64);
        let mut worst = PrefixSource::Logged;
        let mut texts: Vec<&str> = Vec::new();
        let mut read = 0u64;
        let mut written_logged = 0u64;
        for (_, p) in obs.prefixes.sorted() {
            read += p.cached_read;
            written_logged += p.cache_write;
            if let Some(size) = p.size.filter(|s| s.source != PrefixSource::MinInput) {
                tokens += size.tokens * p.calls as f64;
                with += p.calls;
                worst = worst.max(size.source);
            }
            // A few of the variants side by side show what changes (only
            // with `--include-prompts`).
            texts.extend(p.excerpt.as_deref());
        }
        let mean = if with > 0 {
            tokens / with as f64
        } else if obs.prefixed_min_input > 0 {
            worst = PrefixSource::MinInput;
            obs.prefixed_min_input as f64
        } else {
            continue;
        };
        if mean < o.min_tokens as f64 {
            continue;
        }
        let Some(id) = cell.resolved else { continue };
        let entry = ctx.catalog.model(id);
        let Some(policy) = policy(&entry.provider, &entry.id) else {
            continue;
        };
        let rates = ctx.cell_rates(cell.key, id);
        if rates.cached_read >= rates.input {
            continue; // no cheaper cached rate: a stable prefix would not help
        }
        // What the logs show the calls with a prefix read from the cache
        // (the kept prefixes' reads, each standing for `scale`; not the
        // reads of the cell's other calls: hunt51): a prefix whose variable
        // part comes after a cached block (Anthropic's `cache_control` on
        // the static block, OpenAI's match up to the first change) is
        // cached; when the reads cover half the prefix tokens the calls
        // carried, the prefix is no volatile one (hunt49).
        let prefix_reads = read * obs.prefixes.scale();
        if prefix_reads as f64 >= 0.5 * mean * calls as f64 {
            continue;
        }
        let r = replay(
            &policy,
            &rates,
            &obs.prefix_runs,
            calls,
            mean.round() as u64,
        );
        let (saved, hits, written, write_1h) = r.map_or((Money::ZERO, 0, 0, false), |r| {
            (r.saving, r.hits * r.cacheable, r.written, r.write_1h)
        });
        // What was read from the cache already is not saved again (as in
        // TA103): the replay prices every prefix at the input rate.
        let had = (rates.input - rates.cached_read) * prefix_reads;
        // What the logs show was written to the cache call after call was
        // paid at the write rate on top of the input rate, and is saved
        // too, at the cell's mix of lifetimes, as TA103 counts it (hunt140's
        // bug6: left out, −22% / −53%, where the waterfall's step had it).
        let (writes, writes_1h) = ctx.groups_of(cell.key).fold((0u64, 0u64), |(w, h), g| {
            (w + g.usage.cache_write, h + g.usage.cache_write_1h)
        });
        let premium = |rate: Money| {
            if rate > rates.input {
                rate - rates.input
            } else {
                Money::ZERO
            }
        };
        let prefix_writes = written_logged * obs.prefixes.scale();
        let of_1h = if writes > 0 {
            (prefix_writes as f64 * (writes_1h.min(writes) as f64 / writes as f64)).round() as u64
        } else {
            0
        };
        let paid = premium(rates.cache_write_5m) * (prefix_writes - of_1h)
            + premium(rates.cache_write_1h) * of_1h;
        let saved = (saved - had + paid).max(Money::ZERO);
        let model = ctx.model_name(cell);
        let input = obs.input.sum() as f64;
        let cached: u64 = ctx.groups_of(cell.key).map(|g| g.usage.cached_read).sum();
        let (after, write_share) = if input > 0.0 {
            (
                ((cached as f64 + hits as f64) / input).min(1.0),
                (written as f64 / input).min(1.0),
            )
        } else {
            (0.0, 0.0)
        };
        // No call of this feature and model gives a cached-read count (not
        // even 0): its logs may not record cached tokens, and a provider
        // that caches on its own may have cached these prefixes already
        // (per cell: another log's counts say nothing of this one's, hunt74).
        let unknown = cell.obs.cached_read_logged == 0 && policy.caching == Caching::Automatic;
        let said = if unknown {
            " and the logs show no cached tokens"
        } else if prefix_writes > 0 {
            // (The logs show it written to the cache: it is cached, and
            // never read back, hunt140's bug6.)
            ", so each call writes it to the cache and none reads it back"
        } else {
            ", so it can never be cached"
        };
        let mut f = Finding::new(
            format!(
                "{}: the {:.0}-token system prompt changes on {:.0}% of calls to {}{said}",
                cell.feature,
                mean,
                share * 100.0,
                model
            ),
            scope([("feature", &cell.feature), ("model", &cell.model)]),
        )
        .with("calls", calls)
        .with("distinct_prefixes", distinct)
        .with("distinct_per_call", round_to(share, 4))
        .with("mean_prefix_tokens", mean.round() as u64)
        .with("prefix_tokens_from", worst.as_str())
        .with("cached_share_after", round_to(after, 4));
        f.sample_prompts = crate::detect::sample_prompts(texts);
        f.confidence = if share > 0.95 {
            worst.confidence()
        } else {
            worst.confidence().min(Confidence::Medium)
        };
        f.recommendation = format!(
            "Move what varies (timestamps, ids, user details) out of {}'s system prompt to the end of the prompt so the prefix is byte-identical and cacheable.",
            cell.feature
        );
        if unknown {
            f.confidence = Confidence::Low;
            f = f.with("cached_tokens_recorded", false);
            // Where what varies sits is not in the logs: the advice asks
            // first (hunt75: "move it to the end", where it was already).
            f.recommendation = format!(
                "Check where what varies (timestamps, ids, user details) sits in {}'s system prompt: early, move it to the end of the prompt so the prefix is byte-identical and cacheable; late, the part before it may be cached already.",
                cell.feature
            );
            f.recommendation.push_str(&format!(
                " No call of {} on this model gives a cached count, so the logs may not record cached tokens: {} caches the unchanged start of a prompt of {} tokens or more without any change to the request. Check the provider's cached tokens before acting.",
                cell.feature, policy.name, policy.min_tokens
            ));
        }
        let lever = Lever::PromptCache {
            feature: cell.feature.to_string(),
            model: Some(cell.model.to_string()),
            share: after,
            write_share,
            write_1h,
            days: vec![],
        };
        let method = "the prefix priced as cached once stable: the calls replayed in time order under the provider's prompt-cache rules, hits at the input minus cached rate less each write's premium, plus the write premium the logs show was paid";
        if saved > Money::ZERO {
            // Under `min_savings`, left out as every rule's finding is
            // (hunt78: listed, and counted among those not listed).
            if !f.set_savings(ctx, saved, method, Some(lever)) {
                continue;
            }
        } else {
            f.severity = crate::detect::Severity::Low;
        }
        out.push(f);
    }
}
