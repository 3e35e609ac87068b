//! The rule × format matrix (issue 12): every shape the generator writes
//! (`tokenaudit-samplegen --shape`, each carrying only the fields its
//! producer writes) with the same planted waste, audited with no config
//! but thresholds scaled to the logs' size ([`SCALED`]). Per shape, the
//! table below names the planted wastes the shape cannot show (it lacks
//! what the rule needs); every other one must be found, on its feature.
//! The generator's ground truth (`truth.rs`) says independently which
//! wastes the shape can show (and why not), and the test holds the two
//! together, so a shape or reader that gains or loses a field shows up
//! here.
//!
//! Savings too: the calls are the same in every shape of a seed, so where
//! a shape carries what a rule reads, its saving is the gateway log's to
//! the pico-dollar; where the shape makes the rule estimate an input
//! (a prefix size from text, retries from repeated prompts), the table
//! gives the bounds of the estimate against the gateway's figure. The
//! gateway's own savings are computed by hand from the ground truth's
//! token sums and the catalog's rates ([`gateway_savings_by_hand`]).
//!
//! Seeds and sizes differ from `sample-logs/` (seed 42, 700 events a day)
//! and from `shapes.rs`, so nothing here is tuned to either.

use std::sync::OnceLock;

use serde_json::Value;
use tokenaudit_samplegen::{write_file, GenConfig, GroundTruth, LogShape};

use crate::util::Env;

struct Row {
    shape: LogShape,
    /// The rules whose planted waste the shape does not carry what they
    /// need to find (the ground truth says so too: `hidden_because`).
    /// Every other planted waste must be found.
    hidden: &'static [&'static str],
    /// The rules whose saving here rests on an estimated input, with the
    /// bounds of saving ÷ the gateway log's saving. Every other rule found
    /// must save exactly what it saves on the gateway log.
    estimated: &'static [Estimate],
}

struct Estimate {
    rule: &'static str,
    low: f64,
    high: f64,
    /// What is estimated, and which way it errs.
    why: &'static str,
}

/// No logged prefix token count: the smallest input among the calls that
/// share the prefix, an upper bound.
const PREFIX_FROM_SMALLEST_INPUT: Estimate = Estimate {
    rule: "TA103",
    low: 1.0,
    high: 1.2,
    why: "prefix size = the smallest input sharing it (upper bound)",
};
const VOLATILE_PREFIX_FROM_SMALLEST_INPUT: Estimate = Estimate {
    rule: "TA104",
    ..PREFIX_FROM_SMALLEST_INPUT
};
/// The system prompt's text, at the provider's characters per token.
const PREFIX_FROM_TEXT: Estimate = Estimate {
    rule: "TA104",
    low: 0.8,
    high: 1.25,
    why: "prefix size estimated from the system prompt's characters",
};
/// No attempt number: a retry is the same prompt from the same user soon
/// after a failure, so a storm whose failure is not linked counts less.
const RETRIES_FROM_PROMPTS: Estimate = Estimate {
    rule: "TA108",
    low: 0.7,
    high: 1.0,
    why: "retries linked by their repeated prompt after a failure (lower bound)",
};
const TEXT_SHAPE: &[Estimate] = &[PREFIX_FROM_TEXT, RETRIES_FROM_PROMPTS];
/// The 1-hour cache writes logged without their TTL: priced at the 5-minute
/// write rate, so the writes TA105 turns back into reads save less (on
/// claude-opus-4-1, $18.75 − $1.50 per million instead of $30 − $1.50:
/// 0.605).
const WRITES_WITHOUT_TTL: Estimate = Estimate {
    rule: "TA105",
    low: 0.55,
    high: 0.7,
    why: "cache writes without their TTL priced at the 5-minute rate (lower bound)",
};
const TEXT_SHAPE_WITHOUT_TTL: &[Estimate] =
    &[PREFIX_FROM_TEXT, RETRIES_FROM_PROMPTS, WRITES_WITHOUT_TTL];

const NO_FINGERPRINTS: &[&str] = &["TA103", "TA104", "TA108", "TA109", "TA110", "TA112"];

const MATRIX: [Row; 11] = [
    Row {
        shape: LogShape::Gateway,
        hidden: &[],
        estimated: &[],
    },
    Row {
        shape: LogShape::GatewayMinimal,
        hidden: &["TA110", "TA112"],
        estimated: &[
            PREFIX_FROM_SMALLEST_INPUT,
            VOLATILE_PREFIX_FROM_SMALLEST_INPUT,
            RETRIES_FROM_PROMPTS,
        ],
    },
    Row {
        shape: LogShape::GatewayAltNested,
        hidden: &["TA110"],
        estimated: &[],
    },
    Row {
        shape: LogShape::GatewayAltFlat,
        hidden: &["TA110"],
        estimated: &[WRITES_WITHOUT_TTL],
    },
    Row {
        shape: LogShape::GatewayAltShuffled,
        hidden: &[],
        estimated: &[],
    },
    Row {
        shape: LogShape::GatewayAltEnvelope,
        hidden: &[],
        estimated: &[PREFIX_FROM_TEXT],
    },
    Row {
        shape: LogShape::LiteLlm,
        hidden: NO_FINGERPRINTS,
        estimated: &[],
    },
    Row {
        shape: LogShape::LiteLlmMessages,
        hidden: &["TA112"],
        estimated: TEXT_SHAPE,
    },
    Row {
        shape: LogShape::Langfuse,
        hidden: &[],
        estimated: TEXT_SHAPE_WITHOUT_TTL,
    },
    Row {
        shape: LogShape::Otel,
        hidden: &[],
        estimated: TEXT_SHAPE_WITHOUT_TTL,
    },
    Row {
        shape: LogShape::Helicone,
        hidden: NO_FINGERPRINTS,
        estimated: &[WRITES_WITHOUT_TTL],
    },
];

/// The logs are 2–7 times smaller than `sample-logs/`, so the thresholds
/// set in dollars or tokens a day are scaled down with them; nothing else
/// is configured.
const SCALED: &str = "\
[detect]
min_savings = 0
[rules.TA105]
min_input_tokens = 10000
[rules.TA114]
min_excess = 0.01
";

fn config(shape: LogShape) -> GenConfig {
    let base = GenConfig {
        shape,
        ..GenConfig::default()
    };
    if shape.has_prompt_text() {
        GenConfig {
            seed: 99,
            days: 31,
            events_per_day: 100,
            ..base
        }
    } else {
        GenConfig {
            seed: 1234,
            days: 31,
            events_per_day: 300,
            ..base
        }
    }
}

/// The findings of `rule` on `feature`.
fn found<'a>(r: &'a Value, rule: &str, feature: &str) -> Vec<&'a Value> {
    r["audit"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == rule && f["scope"]["feature"] == feature)
        .collect()
}

/// Generate `shape`'s log and audit it.
fn audit(shape: LogShape) -> (GroundTruth, Value) {
    let env = Env::new();
    let path = env.path(&format!("{}.jsonl", shape.name()));
    let truth = write_file(&config(shape), &path).unwrap();
    env.write("scaled.toml", SCALED);
    let r = env.audit(&[path.to_str().unwrap(), "--config", "scaled.toml"]);
    (truth, r)
}

/// The gateway log with the same seed and size as `shape`'s: the same
/// calls, every field logged. Audited once per seed for all the tests.
fn reference(shape: LogShape) -> &'static (GroundTruth, Value) {
    static TEXT: OnceLock<(GroundTruth, Value)> = OnceLock::new();
    static PLAIN: OnceLock<(GroundTruth, Value)> = OnceLock::new();
    let (cell, gateway) = if shape.has_prompt_text() {
        (&TEXT, LogShape::GatewayAltShuffled)
    } else {
        (&PLAIN, LogShape::Gateway)
    };
    assert_eq!(config(gateway).seed, config(shape).seed);
    cell.get_or_init(|| audit(gateway))
}

/// A saving in pico-dollars, from the report's decimal string.
fn pico(finding: &Value) -> i128 {
    let s = finding["savings"]["observed"].as_str().unwrap();
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    assert!(frac.len() <= 12, "{s}");
    whole.parse::<i128>().unwrap() * 1_000_000_000_000
        + format!("{frac:0<12}").parse::<i128>().unwrap()
}

fn check(shape: LogShape) {
    let row = MATRIX.iter().find(|r| r.shape == shape).unwrap();
    let name = shape.name();
    let (truth, r) = audit(shape);
    let (_, gateway) = reference(shape);

    let mut found_here = 0;
    for p in &truth.planted {
        let Some(rule) = p.rule else { continue };
        let hidden = row.hidden.contains(&rule);
        // The table and the generator agree on what the shape can show.
        assert_eq!(
            p.hidden_because.is_some(),
            hidden,
            "{name} {rule}: the ground truth says hidden = {:?}",
            p.hidden_because
        );
        let here = found(&r, rule, p.feature);
        assert_eq!(
            !here.is_empty(),
            !hidden,
            "{name} {rule} on {}: {}",
            p.feature,
            p.waste
        );
        found_here += usize::from(!here.is_empty());
        // TA114 finds spikes, which have no saving.
        let Some(f) = here.first().filter(|f| !f["savings"].is_null()) else {
            continue;
        };
        let there = found(gateway, rule, p.feature);
        assert_eq!(here.len(), there.len(), "{name} {rule} on {}", p.feature);
        let (saved, reference) = (pico(f), pico(there[0]));
        match row.estimated.iter().find(|e| e.rule == rule) {
            None => assert_eq!(
                saved, reference,
                "{name} {rule} on {}: the same calls, every input it reads logged",
                p.feature
            ),
            Some(e) => {
                let ratio = saved as f64 / reference as f64;
                assert!(
                    (e.low..=e.high).contains(&ratio),
                    "{name} {rule} on {}: saves {ratio:.3}× the gateway's; {}",
                    p.feature,
                    e.why
                );
            }
        }
    }
    assert!(found_here > 0, "{name}: nothing found");
}

/// The gateway log's savings for the rules whose saving is a closed form
/// of the ground truth's token sums, at the catalog's rates ($X per
/// million tokens = X × 10^6 pico-dollars per token).
#[test]
fn gateway_savings_by_hand() {
    let (truth, r) = reference(LogShape::Gateway);
    let sums = |key: &str| &truth.by_feature_model[key];
    let one = |rule: &str, feature: &str| {
        let f = found(r, rule, feature);
        assert_eq!(f.len(), 1, "{rule} on {feature}");
        pico(f[0])
    };

    // TA113: the nightly job at Gemini 2.5 Flash's batch rates, half its
    // real-time rates ($0.30 input, $2.50 output per million tokens).
    let s = sums("nightly-summaries|gemini-2.5-flash");
    assert_eq!((s.cached_read, s.cache_write, s.reasoning), (0, 0, 0));
    let realtime = s.input as i128 * 300_000 + s.output as i128 * 2_500_000;
    assert_eq!(one("TA113", "nightly-summaries"), realtime / 2);

    // TA111: the classifier's tokens on gpt-4o ($2.50 / $10.00) against
    // gpt-4o-mini ($0.15 / $0.60).
    let s = sums("ticket-classifier|gpt-4o-2024-08-06");
    assert_eq!(s.cached_read, 0);
    let gpt4o = s.input as i128 * 2_500_000 + s.output as i128 * 10_000_000;
    let mini = s.input as i128 * 150_000 + s.output as i128 * 600_000;
    assert_eq!(one("TA111", "ticket-classifier"), gpt4o - mini);

    // TA103: doc-qa's 3,200-token system prompt, never cached, on gpt-4.1
    // ($2.00 input, $0.50 cached): each call the simulated cache would
    // have answered saves 3,200 × $1.50 per million; at most one miss a
    // day (the cache is cold each morning at the latest), and never none.
    let s = sums("doc-qa|gpt-4.1");
    assert_eq!(s.cached_read, 0);
    let saved = one("TA103", "doc-qa");
    let per_hit = 3_200 * 1_500_000;
    assert_eq!(saved % per_hit, 0, "whole prefixes only");
    let hits = (saved / per_hit) as u64;
    let days = config(LogShape::Gateway).days as u64;
    assert!(
        (s.calls - days..s.calls).contains(&hits),
        "{hits} hits of {} calls",
        s.calls
    );
}

#[test]
fn every_shape_is_in_the_matrix() {
    for s in LogShape::ALL {
        assert!(MATRIX.iter().any(|r| r.shape == s), "{}", s.name());
    }
}

#[test]
fn gateway() {
    check(LogShape::Gateway);
}

#[test]
fn gateway_minimal() {
    check(LogShape::GatewayMinimal);
}

#[test]
fn gateway_alt_nested() {
    check(LogShape::GatewayAltNested);
}

#[test]
fn gateway_alt_flat() {
    check(LogShape::GatewayAltFlat);
}

#[test]
fn gateway_alt_shuffled() {
    check(LogShape::GatewayAltShuffled);
}

#[test]
fn gateway_alt_envelope() {
    check(LogShape::GatewayAltEnvelope);
}

#[test]
fn litellm() {
    check(LogShape::LiteLlm);
}

#[test]
fn litellm_messages() {
    check(LogShape::LiteLlmMessages);
}

#[test]
fn langfuse() {
    check(LogShape::Langfuse);
}

#[test]
fn otel() {
    check(LogShape::Otel);
}

#[test]
fn helicone() {
    check(LogShape::Helicone);
}
