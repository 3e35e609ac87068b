//! ## What it finds
//! Prompts that are not byte-identical but say the same thing — "How do I
//! reset my password?" and "how do i reset my password please" — sent to the
//! same model within `ttl_minutes`: the calls a semantic cache (answering
//! similar questions from one cached answer) would have served, reported
//! apart from exact duplicates (TA109) and with lower confidence. Needs the
//! prompt text in the log (`messages`, `prompt`, `input`); only a MinHash
//! signature of it is kept.
//!
//! ## Why it costs money
//! Users ask the same questions in different words. Each rewording is a full
//! call although a cached answer to its twin was minutes old.
//!
//! ## Example
//! `faq-bot × gpt-4.1-mini`: 18% of calls closely match (similarity ≥ 0.6)
//! a question answered in the previous hour; a semantic cache would have
//! saved $31 a month.
//!
//! ## How to fix
//! A semantic cache keyed by an embedding of the normalised question, with
//! a similarity threshold validated on real traffic (wrong hits cost
//! quality), in front of the feature.
//!
//! ## Options
//! - `ttl_minutes` (60): lifetime of a cached answer.
//! - `min_similarity` (0.6): estimated Jaccard similarity of the prompts'
//!   word and word-pair sets (MinHash, 16 hashes) that counts as a match.
//! - `min_hits` (20): fewest semantic-cache hits for a finding.
//!
//! Only a conversation's first question is compared (a call whose logged
//! `messages` hold one user message, or a prompt logged without them): a
//! later turn ("make it shorter", "continue") depends on its history, which
//! a cache keyed by the question alone would not see, so two alike from
//! different conversations are no match. Nor are two asked within different
//! system prompts (or instructions), when the log has them: "what is my
//! balance?" within each customer's own account data is another question.
//! Nor are two whose identifiers differ (words of three digits or more: an
//! order's or invoice's number, a year, an amount): "where is my order
//! 483920?" is another question than the same about order 483927, whose
//! cached answer would be another customer's. A prompt that carries a
//! per-request value of that kind (a trace id, an epoch time) therefore
//! matches no other; an ISO time's date-and-hour part (`01T09`) is no
//! identifier.
//!
//! The simulation replays each (feature, model, day)'s successful calls in
//! time order; a call that repeats a prompt sent within the TTL (the same
//! fingerprint, answered or not: TA109's, so the two findings' savings add
//! in the waterfall) is skipped; a call that matches a cached prompt is a
//! hit and its cost the saving; otherwise it fills the cache.
//!
//! On very large inputs it runs on a sample of days and scales up. A
//! finding whose estimate falls under `min_hits` by less than two standard
//! errors of that sample (`semantic_cache_hits_standard_error`), and by no
//! more than half, with at least two kept days carrying hits, is not
//! reported, but its open ticket stays open instead of closing on the luck
//! of the sample.
//!
//! LiteLLM's own cache hits (`cache_hit` rows, never priced) are counted
//! beside the finding, as in TA109.

use std::collections::BTreeMap;

use tokenaudit_core::{minhash_similarity, Money};

use crate::coverage::{inputs, logged, Input, Via};
use crate::detect::{
    round_to, rule_options, scope, with_gateway_cache_hits, Confidence, Context, Finding, Held,
};
use crate::finding::Lever;
use crate::observe::TextCall;

/// What the rule reads (see `tokenaudit rules` and the report's rule
/// coverage).
pub const INPUTS: &[Input] = &[
    Input {
        name: "prompt_text",
        required: true,
        sources: &[logged(
            Via::PromptText,
            "the prompt's text (`messages`, `prompt`)",
        )],
    },
    inputs::TIMESTAMP,
    inputs::PRICED,
    inputs::GATEWAY_CACHE_HITS,
];

rule_options! {
    /// lifetime of a cached answer
    ttl_minutes: f64 = 60.0,
    /// estimated Jaccard similarity that counts as a match
    min_similarity: f64 = 0.6,
    /// fewest semantic-cache hits for a finding
    min_hits: u64 = 20,
}

/// Near hits and their cost among one day's calls, with the request ids
/// and prompt excerpts (when kept) of the first three hits.
pub fn simulate(
    calls: &[TextCall],
    ttl_ms: i64,
    min_similarity: f64,
) -> (u64, i128, Vec<String>, Vec<String>) {
    let mut order: Vec<&TextCall> = calls.iter().collect();
    order.sort_by(|a, b| {
        (a.millis, a.prompt_fp, &a.request_id).cmp(&(b.millis, b.prompt_fp, &b.request_id))
    });
    let mut cache: Vec<&TextCall> = Vec::new();
    // When each prompt was last sent, answered or not: a call that repeats
    // one sent within the TTL is TA109's ("repeats a prompt sent in the
    // previous N minutes"), never a near-duplicate, so the two rules' hits
    // are other calls and the waterfall adds their savings (hunt62: a
    // rewording sent twice was a near-duplicate both times and TA109's the
    // second).
    let mut sent: std::collections::HashMap<u64, i64> = std::collections::HashMap::new();
    let (mut hits, mut saved, mut ids, mut prompts) = (0u64, 0i128, Vec::new(), Vec::new());
    for c in order {
        cache.retain(|e| c.millis - e.millis <= ttl_ms);
        if c.prompt_fp != 0 {
            let last = sent.insert(c.prompt_fp, c.millis);
            if last.is_some_and(|t| c.millis - t <= ttl_ms) {
                continue; // an exact duplicate: TA109's
            }
        }
        if cache
            .iter()
            .any(|e| e.context == c.context && minhash_similarity(&e.sig, &c.sig) >= min_similarity)
        {
            hits += 1;
            saved += c.cost as i128;
            if ids.len() < 3 {
                if let Some(id) = &c.request_id {
                    ids.push(id.to_string());
                }
            }
            if prompts.len() < 3 {
                if let Some(e) = &c.excerpt {
                    prompts.push(e.to_string());
                }
            }
        } else {
            cache.push(c);
        }
    }
    (hits, saved, ids, prompts)
}

/// A cell's days, summed.
#[derive(Default)]
struct PerCell {
    calls: u64,
    hits: u64,
    saved: i128,
    ids: Vec<String>,
    /// Excerpts of near-duplicate prompts (`--include-prompts` only).
    texts: Vec<String>,
    /// Each day's hits and calls, for the error of a sampled estimate.
    error: Held,
}

pub fn check(ctx: &Context<'_>, o: &Options, out: &mut Vec<Finding>) {
    let ttl_ms = (o.ttl_minutes * 60_000.0) as i64;
    let s = ctx.keyed.texts.scale();
    let mut per: BTreeMap<u64, PerCell> = BTreeMap::new();
    for (cell, calls) in ctx.keyed.texts.sorted() {
        let (hits, saved, ids, texts) = simulate(calls, ttl_ms, o.min_similarity);
        let e = per.entry(*cell).or_default();
        e.calls += calls.len() as u64;
        e.hits += hits;
        e.error.add(hits, calls.len() as u64);
        e.saved += saved;
        for id in ids {
            if e.ids.len() < 3 {
                e.ids.push(id);
            }
        }
        e.texts.extend(texts);
    }
    for (key, p) in per {
        let PerCell {
            calls,
            hits,
            saved,
            ids,
            texts,
            error,
        } = p;
        let Some(cell) = ctx.cell(key) else { continue };
        // Under `min_hits` by less than a sampled estimate's error: kept
        // for an open ticket, not reported ([`Finding::hold`]).
        let held = hits * s < o.min_hits;
        if held && !error.total_may_reach(s, o.min_hits as f64) {
            continue;
        }
        let rate = hits as f64 / calls.max(1) as f64;
        let model = ctx.model_name(cell);
        let mut f = Finding::new(format!(
                "{}: {:.0}% of calls to {} closely match a prompt answered in the previous {} minutes",
                cell.feature,
                rate * 100.0,
                model,
                o.ttl_minutes
            ),
            scope([("feature", &cell.feature), ("model", &cell.model)]),
        )
        .with("calls_with_text", calls * s)
        .with("semantic_cache_hits", hits * s)
        .with("hit_rate", round_to(rate, 4))
        .with("min_similarity", o.min_similarity)
        .with("ttl_minutes", o.ttl_minutes)
        .with("sampled_days_scale", s);
        if held {
            f = f.with(
                "semantic_cache_hits_standard_error",
                round_to(error.total_error(s), 1),
            );
        }
        f.sample_requests = ids;
        f.sample_prompts = crate::detect::sample_prompts(texts.iter().map(String::as_str));
        f.confidence = Confidence::Low;
        f.recommendation = format!(
            "Try a semantic cache in front of {}: validate its similarity threshold on a sample of real questions before serving cached answers.",
            cell.feature
        );
        f = with_gateway_cache_hits(f, cell);
        let saved = Money::from_picos(saved * s as i128);
        let lever = Lever::ResponseCache {
            feature: cell.feature.to_string(),
            model: Some(cell.model.to_string()),
            hit_rate: super::ta109_duplicate_requests::answered_share(saved, ctx.cell_cost(key)),
        };
        let worth = f.set_savings(
            ctx,
            saved,
            "the cost of the calls a semantic cache with this TTL and threshold would have answered (replayed in time order, exact duplicates excluded)",
            Some(lever),
        );
        if held {
            f.hold(ctx, worth);
        } else if worth {
            out.push(f);
        }
    }
}
