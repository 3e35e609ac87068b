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
//! Seeds and sizes differ from `sample-logs/` (seed 42, 700 events a day)
//! and from `shapes.rs`, so nothing here is tuned to either.

use std::collections::BTreeSet;

use serde_json::Value;
use tokenaudit_samplegen::{write_file, GenConfig, LogShape};

use crate::util::Env;

struct Row {
    shape: LogShape,
    /// The rules whose planted waste the shape does not carry what they
    /// need to find (the ground truth says so too: `hidden_because`).
    /// Every other planted waste must be found.
    hidden: &'static [&'static str],
}

const NO_FINGERPRINTS: &[&str] = &["TA103", "TA104", "TA108", "TA109", "TA110", "TA112"];

const MATRIX: [Row; 11] = [
    Row {
        shape: LogShape::Gateway,
        hidden: &[],
    },
    Row {
        shape: LogShape::GatewayMinimal,
        hidden: &["TA110", "TA112"],
    },
    Row {
        shape: LogShape::GatewayAltNested,
        hidden: &["TA110"],
    },
    Row {
        shape: LogShape::GatewayAltFlat,
        hidden: &["TA110"],
    },
    Row {
        shape: LogShape::GatewayAltShuffled,
        hidden: &[],
    },
    Row {
        shape: LogShape::GatewayAltEnvelope,
        hidden: &[],
    },
    Row {
        shape: LogShape::LiteLlm,
        hidden: NO_FINGERPRINTS,
    },
    Row {
        shape: LogShape::LiteLlmMessages,
        hidden: &["TA112"],
    },
    Row {
        shape: LogShape::Langfuse,
        hidden: &[],
    },
    Row {
        shape: LogShape::Otel,
        hidden: &[],
    },
    Row {
        shape: LogShape::Helicone,
        hidden: NO_FINGERPRINTS,
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

/// The rules that found something on `feature`.
fn fired_on(r: &Value, feature: &str) -> BTreeSet<String> {
    r["audit"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["scope"]["feature"] == feature)
        .map(|f| f["rule"].as_str().unwrap().to_string())
        .collect()
}

fn check(shape: LogShape) {
    let row = MATRIX.iter().find(|r| r.shape == shape).unwrap();
    let name = shape.name();
    let env = Env::new();
    let path = env.path(&format!("{name}.jsonl"));
    let truth = write_file(&config(shape), &path).unwrap();
    env.write("scaled.toml", SCALED);
    let r = env.audit(&[path.to_str().unwrap(), "--config", "scaled.toml"]);

    let mut found = 0;
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
        let fired = fired_on(&r, p.feature).contains(rule);
        assert_eq!(
            fired, !hidden,
            "{name} {rule} on {}: {}",
            p.feature, p.waste
        );
        found += usize::from(fired);
    }
    assert!(found > 0, "{name}: nothing found");
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
