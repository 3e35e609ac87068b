//! An accumulator sent through `encode` and `decode` (what the cluster
//! engine's partial aggregates ship), or kept by `encode_kept` (the store's
//! merged state), merges to the same audit.

use chrono::{DateTime, Utc};

use tokenaudit_analyze::accumulate::FeatureFrom;
use tokenaudit_analyze::budget::Budget;
use tokenaudit_analyze::detect::DetectConfig;
use tokenaudit_analyze::{Accumulator, AnalyzeConfig};
use tokenaudit_core::pricing::Catalog;
use tokenaudit_core::Money;
use tokenaudit_ingest::source::expand_inputs;
use tokenaudit_ingest::{ingest, IngestOptions};

/// What each worker's accumulator goes through before the merge.
#[derive(Clone, Copy, PartialEq)]
enum Via {
    Nothing,
    /// `encode`, then `decode`.
    Wire,
    /// `encode_kept`: the accumulator goes on as it was kept.
    Kept,
}

/// The audit of the sample logs as JSON, each worker's accumulator sent
/// `via` what it says first.
fn audit_json(config: &AnalyzeConfig, via: Via) -> String {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../sample-logs");
    let sources = expand_inputs(&[root.to_string()]).unwrap();
    let options = IngestOptions {
        threads: 3,
        ..Default::default()
    };
    let catalog = Catalog::builtin();
    let detect = DetectConfig::default();
    let outcome = tokenaudit_analyze::run_with_reader(&catalog, config, &detect, |make| {
        let (sinks, summary) = ingest(&sources, &options, make);
        let sinks = if via == Via::Kept {
            sinks
                .into_iter()
                .map(|mut a| {
                    let kept = a.encode_kept().unwrap();
                    // The bytes `encode` would give: what decoding them
                    // gives encodes to them.
                    let b = Accumulator::decode(&kept, &catalog, config).unwrap();
                    assert_eq!(b.encode().unwrap(), kept);
                    // Kept as it was: the same bytes again, and with the
                    // timelines and the tables encoded on a thread of their
                    // own.
                    assert_eq!(a.encode_kept().unwrap(), kept);
                    let mut two = b"head".to_vec();
                    a.encode_kept_into(&mut two, true).unwrap();
                    assert_eq!(&two[4..], &kept[..]);
                    a
                })
                .collect()
        } else if via == Via::Wire {
            sinks
                .into_iter()
                .map(|a| {
                    let bytes = a.encode().unwrap();
                    let b = Accumulator::decode(&bytes, &catalog, config).unwrap();
                    // Equal states, equal bytes.
                    assert_eq!(b.encode().unwrap(), bytes);
                    // The timelines decoded on a thread of their own: the
                    // same state.
                    let c = Accumulator::decode_on(&bytes, &catalog, config, true).unwrap();
                    assert_eq!(c.encode().unwrap(), bytes);
                    Accumulator::decode_on(&bytes, &catalog, config, true).unwrap()
                })
                .collect()
        } else {
            sinks
        };
        Ok::<_, std::convert::Infallible>((sinks, summary))
    })
    .unwrap();
    serde_json::to_string_pretty(&outcome.audit).unwrap()
}

#[test]
fn an_audit_through_encode_and_decode_is_the_same_audit() {
    let plain = AnalyzeConfig::default();
    let direct = audit_json(&plain, Via::Nothing);
    assert_eq!(audit_json(&plain, Via::Wire), direct);
    assert_eq!(audit_json(&plain, Via::Kept), direct);
    // The sample logs hold findings: the detectors' observations went
    // through too, issue 12's among them: turns inferred from timelines
    // (sessions without turn numbers, users' days), prefixes replayed under
    // prompt-cache rules from their runs, sizes from logged user messages
    // and system prompt texts, the rules' coverage from the source counts.
    assert!(direct.contains("\"TA109\""), "{direct}");
    let audit: serde_json::Value = serde_json::from_str(&direct).unwrap();
    // (Exact counts are the readers' and rules' tests' business: these only
    // hold the fixture to exercising each part of the state.)
    let inferred: u64 = direct
        .split("\"sessions_with_inferred_turns\": ")
        .skip(1)
        .map(|rest| {
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            digits.parse::<u64>().unwrap()
        })
        .sum();
    assert!(inferred > 0, "no session with inferred turns");
    assert!(direct.contains("replayed in time order under the provider's prompt-cache rules"));
    let present = |field: &str| {
        audit["coverage"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["field"] == field)
            .and_then(|f| f["present"].as_u64())
    };
    assert!(present("user_messages").unwrap() > 1000);
    assert!(present("system_prompt_text").unwrap() > 1000);
    assert!(!audit["rule_coverage"].as_array().unwrap().is_empty());

    // With every option that changes what is accumulated: a window with
    // the period before it, budgets, list costs, prompt excerpts, the
    // feature taken from another field.
    let at = |k: &str| audit[k].as_str().unwrap().parse::<DateTime<Utc>>().unwrap();
    let (first, last) = (at("first_call"), at("last_call"));
    let middle = first + (last - first) / 2;
    let config = AnalyzeConfig {
        since: Some(middle),
        until: Some(last + chrono::Duration::seconds(1)),
        previous: Some((first, middle)),
        budgets: vec![Budget {
            feature: "*".into(),
            daily: Some(Money::from_picos(1_000_000_000_000)),
            monthly: None,
            per_call: Some(Money::from_picos(1_000_000_000)),
        }],
        list_costs: true,
        include_prompts: true,
        attribution_only: false,
        feature_from: FeatureFrom::Route,
    };
    let windowed = audit_json(&config, Via::Nothing);
    assert_eq!(audit_json(&config, Via::Wire), windowed);
    assert_eq!(audit_json(&config, Via::Kept), windowed);
    assert_ne!(windowed, direct);
}
