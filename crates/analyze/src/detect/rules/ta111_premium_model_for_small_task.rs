//! ## What it finds
//! A premium model doing work a small model does as well: per (feature,
//! model), calls whose outputs are tiny (p95 output at most `max_output`
//! tokens: classification, extraction, yes/no, routing) or whose prompts are
//! short and outputs small, on a model that costs at least `min_ratio` times
//! the cheapest model of its provider family.
//!
//! ## Why it costs money
//! Flagship models cost 10–30× their small siblings per token. Labelling a
//! ticket with one of five categories does not need them; the price
//! difference is paid on every call.
//!
//! ## Example
//! `ticket-classifier × gpt-4o`: p95 output 4 tokens over 12,000 calls;
//! gpt-4.1-nano would have cost $38 instead of $402 a month.
//!
//! ## How to fix
//! Route the feature to the smaller model, after an offline evaluation on a
//! sample of its real traffic; keep the premium model as a fallback for
//! low-confidence answers.
//!
//! ## Options
//! - `max_output` (16): p95 output tokens at or under which outputs are tiny.
//! - `short_input` (1000): p95 input tokens under which prompts are short
//!   (then outputs up to 4 × `max_output` qualify).
//! - `min_ratio` (4): the model must cost at least this many times the
//!   target (blended 3:1 input:output price).
//! - `min_calls` (100): fewest calls.
//! - `max_input` (8000): p95 input tokens above which the task is long
//!   reading (a yes/no about a contract), not a small one, whatever its
//!   output.
//!
//! The target is the cheapest of the model's own smaller variants (`gpt-4o`
//! → `gpt-4o-mini`) or, when it has none, the cheapest chat model of the same
//! provider whose id starts with the same family word (`gpt`, `claude`,
//! `gemini`, `mistral`…), skipping embedding, audio, image, search,
//! realtime, instruct and open-weight models.
//! The saving re-prices the cell's actual tokens at the target's rates.
//! Cells of embedding, speech (transcription, text-to-speech, audio chat,
//! Realtime), image, moderation or rerank models are not judged: no text
//! model does their work.

use tokenaudit_core::pricing::{Catalog, ModelId};
use tokenaudit_core::Money;

use crate::coverage::{inputs, Input};
use crate::detect::{round_to, rule_options, scope, Confidence, Context, Finding};
use crate::finding::Lever;

/// What the rule reads (see `tokenaudit rules` and the report's rule
/// coverage).
pub const INPUTS: &[Input] = &[inputs::PRICED];

rule_options! {
    /// p95 output tokens at or under which outputs are tiny
    max_output: u64 = 16,
    /// p95 input tokens under which prompts are short
    short_input: u64 = 1000,
    /// price ratio of the model to the target
    min_ratio: f64 = 4.0,
    /// fewest calls
    min_calls: u64 = 100,
    /// p95 input tokens above which the task is long reading, not small
    max_input: u64 = 8000,
}

const NOT_CHAT: &[&str] = &[
    "embed",
    "audio",
    "tts",
    "whisper",
    "transcribe",
    "image",
    "dall",
    "search",
    "realtime",
    "instruct",
    "moderation",
    "vision",
    "computer-use",
    "deep-research",
    "babbage",
    "davinci",
    "codex",
    "live",
    "oss",
];

/// Blended price of a model on a day: (3 × input + output) / 4 per token.
pub fn blended(catalog: &Catalog, id: ModelId, day: Option<chrono::NaiveDate>) -> Option<i128> {
    let r = catalog.period(id, day).rates;
    let (i, o) = (r.input?, r.output?);
    Some((3 * i.picos() + o.picos()) / 4)
}

/// The family word of a model id (`gpt-4o-mini` → `gpt`).
pub fn family(id: &str) -> &str {
    let id = id.rsplit('/').next().unwrap_or(id);
    id.split(['-', '.', '_']).next().unwrap_or(id)
}

/// Whether a model thinks before it answers, billing hidden reasoning
/// tokens as output (OpenAI's o-series and GPT-5, xAI's Grok 3 mini and
/// Grok 4 but their `non-reasoning` ones, names that say so): its token
/// prices alone understate what a call costs on it.
pub fn reasons(id: &str) -> bool {
    let id = id.rsplit('/').next().unwrap_or(id).to_ascii_lowercase();
    if id.contains("non-reasoning") {
        return false;
    }
    let o_series = id.len() > 1 && id.starts_with('o') && id.as_bytes()[1].is_ascii_digit();
    o_series
        || id.starts_with("gpt-5")
        || id.starts_with("grok-3-mini")
        || id.starts_with("grok-4")
        || ["reason", "thinking", "-r1"].iter().any(|w| id.contains(w))
}

/// The cheapest chat model of the same provider and family, by blended
/// price; for a model that does not reason, one that does not either (its
/// hidden reasoning tokens would be billed on top of the tokens these logs
/// show).
pub fn cheapest_sibling(
    catalog: &Catalog,
    id: ModelId,
    day: Option<chrono::NaiveDate>,
) -> Option<ModelId> {
    let me = catalog.model(id);
    let fam = family(&me.id);
    let thinks = reasons(&me.id);
    // Prefer the model's own small variants (gpt-4o → gpt-4o-mini).
    let own = format!("{}-", me.id);
    let variants = |m: &tokenaudit_core::pricing::ModelEntry| m.id.starts_with(&own);
    let has_variant = catalog.models().any(|(o, m)| {
        o != id
            && m.provider == me.provider
            && variants(m)
            && !NOT_CHAT.iter().any(|w| m.id.contains(w))
    });
    catalog
        .models()
        .filter(|(other, m)| {
            *other != id
                && m.provider == me.provider
                && if has_variant {
                    variants(m)
                } else {
                    family(&m.id) == fam
                }
                && !NOT_CHAT.iter().any(|w| m.id.contains(w))
                && (thinks || !reasons(&m.id))
        })
        .filter_map(|(other, m)| {
            let p = blended(catalog, other, day)?;
            (p > 0).then_some((p, m.id.as_str(), other))
        })
        .min_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(b.1)))
        .map(|(_, _, other)| other)
}

pub fn check(ctx: &Context<'_>, o: &Options, out: &mut Vec<Finding>) {
    let day = ctx.audit.last_call.map(|t| t.date_naive());
    for cell in ctx.cells {
        let Some(id) = cell.resolved else { continue };
        if !crate::detect::serves_text_chat(&ctx.catalog.model(id).id) {
            continue;
        }
        let obs = &cell.obs;
        if obs.output.count() < o.min_calls {
            continue;
        }
        let (out95, in95) = (obs.output.quantile(0.95), obs.input.quantile(0.95));
        // A yes/no about a 12,000-token contract is a reading task: what
        // the premium model is paid for is the reading, which a tiny answer
        // does not make small.
        if in95 > o.max_input {
            continue;
        }
        let tiny = out95 <= o.max_output;
        let short = in95 < o.short_input && out95 <= o.max_output.saturating_mul(4);
        if !(tiny || short) {
            continue;
        }
        let Some(target) = cheapest_sibling(ctx.catalog, id, day) else {
            continue;
        };
        let (Some(mine), Some(theirs)) = (
            blended(ctx.catalog, id, day),
            blended(ctx.catalog, target, day),
        ) else {
            continue;
        };
        if theirs <= 0 || (mine as f64) < o.min_ratio * theirs as f64 {
            continue;
        }
        let (mut before, mut after) = (Money::ZERO, Money::ZERO);
        // Tokens only: searches run whichever model answers (hunt156: a
        // target without a search price took the fees for saved).
        for g in ctx.groups_of(cell.key) {
            let tokens = tokenaudit_core::Usage {
                web_searches: 0,
                ..g.usage
            };
            before += ctx.price(id, g.day, &tokens, g.how());
            after += ctx.price(target, g.day, &tokens, g.how());
        }
        let t = ctx.catalog.model(target);
        let to = format!("{}/{}", t.provider, t.id);
        let model = ctx.model_name(cell);
        let mut f = Finding::new(
            format!(
                "{}: {} answers with {} token{} at p95; {} costs {:.0}× less",
                cell.feature,
                model,
                out95,
                if out95 == 1 { "" } else { "s" },
                t.id,
                mine as f64 / theirs as f64
            ),
            scope([("feature", &cell.feature), ("model", &cell.model)]),
        )
        .with("calls", obs.output.count())
        .with("p95_output_tokens", out95)
        .with("p95_input_tokens", in95)
        .with("target_model", to.clone())
        .with("price_ratio", round_to(mine as f64 / theirs as f64, 2))
        .with("cost_now", before.to_decimal_string())
        .with("cost_on_target", after.to_decimal_string());
        f.confidence = if tiny {
            Confidence::Medium
        } else {
            Confidence::Low
        };
        f.recommendation = format!(
            "Evaluate {} on a sample of {}'s traffic and route it there if quality holds; keep {} as a fallback.",
            t.id, cell.feature, model
        );
        let lever = Lever::Route {
            feature: cell.feature.to_string(),
            model: Some(cell.model.to_string()),
            to,
        };
        if f.set_savings(
            ctx,
            before - after,
            "the cell's actual tokens re-priced at the target model's rates",
            Some(lever),
        ) {
            out.push(f);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::reasons;

    #[test]
    fn reasoning_models_are_told_by_name() {
        for id in [
            "o3-mini",
            "o1",
            "o4-mini",
            "gpt-5-nano",
            "openai/gpt-5",
            "deepseek-reasoner",
            "claude-3-7-sonnet-thinking",
            "deepseek-r1",
            "grok-3-mini",
            "grok-4-0709",
            "grok-4-fast-reasoning",
        ] {
            assert!(reasons(id), "{id}");
        }
        for id in [
            "gpt-4.1-nano",
            "gpt-4o-mini",
            "openai/gpt-4o",
            "claude-haiku-4-5",
            "deepseek-chat",
            "omni-moderation",
            "grok-4-1-fast-non-reasoning",
            "grok-3",
        ] {
            assert!(!reasons(id), "{id}");
        }
    }
}
