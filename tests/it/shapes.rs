//! The generator's log shapes (`tokenaudit-samplegen --shape`, see
//! `crates/samplegen/src/shapes.rs`) read by today's readers: per shape, the
//! reader it gets, the calls, the rejects (exactly the planted bad lines),
//! and the spend, compared call for call with the same seed's gateway
//! rendering priced by the same catalog.
//!
//! Where a shape cannot say what the gateway says, or today's reader does
//! not read what the shape says, the gateway reference is first rewritten
//! to say only that much, and the difference is also computed by hand from
//! the generator's token sums and the catalog's rates (USD per million
//! tokens, `tokenaudit prices show MODEL`):
//! anthropic/claude-opus-4-1: input 15, cached 1.5, 5m write 18.75, 1h
//! write 30.
//!
//! The logs use other seeds and sizes than `sample-logs/` (seed 42, 700
//! events a day), so nothing here is tuned to the committed sample.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::Value;
use tokenaudit_samplegen::{write_file, GenConfig, GroundTruth, LogShape};

use crate::util::{picos, Env};

/// How today's readers price a shape against the gateway rendering.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Spend {
    /// The same tokens: the same cost per model, to the pico-dollar.
    Same,
    /// The shape has one cache-write count, no 1-hour/5-minute split, so
    /// `contract-review`'s 1-hour writes are priced as 5-minute writes.
    NoOneHourWrites,
    /// Helicone: that, and no reasoning count (the cost does not change:
    /// reasoning is inside the output).
    NoOneHourWritesNorReasoning,
}

struct Expect {
    shape: LogShape,
    /// The reader detection picks.
    format: &'static str,
    spend: Spend,
}

const fn expect(shape: LogShape, format: &'static str, spend: Spend) -> Expect {
    Expect {
        shape,
        format,
        spend,
    }
}

const EXPECT: [Expect; 11] = [
    expect(LogShape::Gateway, "gateway", Spend::Same),
    expect(LogShape::GatewayMinimal, "gateway", Spend::Same),
    expect(LogShape::GatewayAltNested, "gateway", Spend::Same),
    expect(LogShape::GatewayAltFlat, "gateway", Spend::NoOneHourWrites),
    expect(LogShape::GatewayAltShuffled, "gateway", Spend::Same),
    expect(LogShape::GatewayAltEnvelope, "gateway", Spend::Same),
    expect(LogShape::LiteLlm, "gateway", Spend::Same),
    expect(LogShape::LiteLlmMessages, "gateway", Spend::NoOneHourWrites),
    expect(LogShape::Langfuse, "langfuse", Spend::NoOneHourWrites),
    expect(LogShape::Otel, "otlp-json", Spend::NoOneHourWrites),
    expect(
        LogShape::Helicone,
        "helicone",
        Spend::NoOneHourWritesNorReasoning,
    ),
];

/// A month at 40 events a day for the shapes without prompt text; 24 days
/// at 25 for those with it (their lines are ~15 KB). Both reach day 21,
/// when `contract-review` writes the cache on every call.
fn config(shape: LogShape) -> GenConfig {
    let base = GenConfig {
        shape,
        ..GenConfig::default()
    };
    if shape.has_prompt_text() {
        GenConfig {
            seed: 2027,
            days: 24,
            events_per_day: 25,
            bad_lines: 2,
            ..base
        }
    } else {
        GenConfig {
            seed: 7,
            days: 31,
            events_per_day: 40,
            bad_lines: 3,
            ..base
        }
    }
}

fn generate(env: &Env, cfg: &GenConfig, name: &str) -> (PathBuf, GroundTruth) {
    let path = env.path(name);
    let truth = write_file(cfg, &path).unwrap();
    (path, truth)
}

/// Rewrites a gateway line's usage to say only what `spend` keeps.
fn keep_only(line: &str, spend: Spend) -> String {
    let mut v: Value = serde_json::from_str(line).unwrap();
    if let Some(u) = v.get_mut("usage").and_then(Value::as_object_mut) {
        if spend != Spend::Same {
            u.remove("cache_creation");
        }
        if spend == Spend::NoOneHourWritesNorReasoning {
            if let Some(d) = u.get_mut("completion_tokens_details") {
                d["reasoning_tokens"] = 0.into();
            }
        }
    }
    v.to_string()
}

/// Rows of a report table by key: (calls, cost, tokens…).
fn rows(table: &Value, key: &str) -> BTreeMap<String, Vec<Value>> {
    table
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let k = r[key].as_str().unwrap().to_string();
            let figures = [
                "calls",
                "failed_calls",
                "cost",
                "input_tokens",
                "cached_read_tokens",
                "cache_write_tokens",
                "output_tokens",
                "reasoning_tokens",
            ];
            (k, figures.iter().map(|f| r[*f].clone()).collect())
        })
        .collect()
}

/// The hand-computed cost of what `spend` drops, in pico-dollars: the
/// gateway's audit minus the shape's.
fn dropped_by_hand(gateway: &GroundTruth, spend: Spend) -> i128 {
    let sums = |key: &str| gateway.by_feature_model[key].clone();
    let opus = sums("contract-review|anthropic/claude-opus-4-1");
    // Picos per token = USD per million tokens × 10^6.
    let per_mtok =
        |tokens: u64, usd_per_mtok_x100: i128| tokens as i128 * usd_per_mtok_x100 * 10_000;
    match spend {
        Spend::Same => 0,
        // A 1-hour write priced as a 5-minute one: 30 − 18.75 = 11.25.
        Spend::NoOneHourWrites | Spend::NoOneHourWritesNorReasoning => {
            per_mtok(opus.cache_write_1h, 1125)
        }
    }
}

fn check(shape: LogShape) {
    let e = EXPECT.iter().find(|e| e.shape == shape).unwrap();
    let env = Env::new();
    let cfg = config(shape);
    let (path, truth) = generate(&env, &cfg, &format!("{}.jsonl", shape.name()));
    let r = env.audit(&[path.to_str().unwrap()]);
    let a = &r["audit"];
    let name = shape.name();

    // The reader, the lines, the calls.
    for f in a["input"]["files"].as_array().unwrap() {
        assert_eq!(f["format"], e.format, "{name}: {f}");
    }
    assert_eq!(a["input"]["lines"], truth.lines, "{name}");
    assert_eq!(a["totals"]["calls"], truth.calls, "{name}");
    assert_eq!(a["totals"]["failed_calls"], truth.failed_calls, "{name}");
    // Langfuse's SPAN lines are skips (not calls), nothing else is.
    assert_eq!(a["input"]["skipped"], truth.not_call_lines, "{name}");
    // Rejects: exactly the planted lines, at their line numbers.
    let rejected: Vec<u64> = a["input"]["rejected_samples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["line"].as_u64().unwrap())
        .collect();
    let planted: Vec<u64> = truth.bad_lines.iter().map(|b| b.line).collect();
    assert_eq!(rejected, planted, "{name}");
    assert_eq!(a["input"]["rejected"], cfg.bad_lines, "{name}");

    // The same seed as the gateway wrote it, and as much of it as the shape
    // and today's reader keep.
    let (gateway_path, gateway) = generate(
        &env,
        &GenConfig {
            shape: LogShape::Gateway,
            ..cfg.clone()
        },
        "gateway.jsonl",
    );
    let gateway_text = std::fs::read_to_string(&gateway_path).unwrap();
    let planted_lines: Vec<u64> = gateway.bad_lines.iter().map(|b| b.line).collect();
    let kept: String = gateway_text
        .lines()
        .enumerate()
        .filter(|(i, _)| !planted_lines.contains(&(*i as u64 + 1)))
        .map(|(_, l)| keep_only(l, e.spend) + "\n")
        .collect();
    let reference = Env::new();
    let ra = reference.audit(&[reference.write("kept.jsonl", kept).to_str().unwrap()]);
    let ra = &ra["audit"];
    assert_eq!(
        rows(&a["model_names"], "logged_model"),
        rows(&ra["model_names"], "logged_model"),
        "{name}: per logged model"
    );
    assert_eq!(a["totals"]["cost"], ra["totals"]["cost"], "{name}");
    // Timestamps: the same calls on the same days. (Not the same instants
    // to the nanosecond: epoch-millisecond numbers, in the flat and
    // envelope shapes, are read through an f64 today, 12:00:00.801 reading
    // as 12:00:00.800999936.)
    assert_eq!(
        rows(&a["daily"], "day"),
        rows(&ra["daily"], "day"),
        "{name}"
    );

    // The spend the shape or the reader drops, by hand.
    let full = Env::new();
    let fa = full.audit(&[gateway_path.to_str().unwrap()]);
    assert_eq!(
        picos(&fa["audit"]["totals"]["cost"]) - picos(&a["totals"]["cost"]),
        dropped_by_hand(&gateway, e.spend),
        "{name}"
    );
    if e.spend == Spend::Same {
        // Tokens as the generator counted them.
        let t = &a["totals"];
        let sum = |f: fn(&tokenaudit_samplegen::Sums) -> u64| -> u64 {
            truth.by_feature_model.values().map(f).sum()
        };
        assert_eq!(t["input_tokens"], sum(|s| s.input), "{name}");
        assert_eq!(t["cached_read_tokens"], sum(|s| s.cached_read), "{name}");
        assert_eq!(t["cache_write_tokens"], sum(|s| s.cache_write), "{name}");
        assert_eq!(t["output_tokens"], sum(|s| s.output), "{name}");
        assert_eq!(t["reasoning_tokens"], sum(|s| s.reasoning), "{name}");
    }

    // Features: every shape says them somewhere (LiteLLM in a
    // `feature:<name>` request tag, OTel in `service.name`) and its reader
    // finds them: per feature as the reference.
    let by_feature = |a: &Value| rows(&a["by"][0]["rows"], "key");
    assert_eq!(a["by"][0]["dimension"], "feature");
    assert_eq!(by_feature(a), by_feature(ra), "{name}");
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

#[test]
fn every_shape_is_expected() {
    // A new shape needs its line in EXPECT (and a test above).
    for shape in LogShape::ALL {
        assert!(EXPECT.iter().any(|e| e.shape == shape), "{}", shape.name());
    }
}
