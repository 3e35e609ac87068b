//! The shipped sample logs: the audit's sums equal the generator's own ground
//! truth (written when the sample was generated), and a rerun reproduces the
//! committed example report byte for byte.
//!
//! `sample-logs/` holds three generated logs (see its README), each with its
//! truth under `tests/fixtures/`: the gateway's month (`gateway/`, `batch/`),
//! a LiteLLM spend-log export with prompts stored (`litellm/`, seed 43) and a
//! Langfuse observation export (`langfuse/`, seed 44).

use std::collections::BTreeMap;

use serde_json::Value;

use crate::util::{picos, Env};

fn root() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[derive(Default, Debug, PartialEq)]
struct Sums {
    calls: u64,
    ok: u64,
    failed: u64,
    input: u64,
    cached: u64,
    write: u64,
    output: u64,
    reasoning: u64,
}

/// The generated logs, each read whole: every figure its truth counts,
/// under its feature (the gateway's `feature`, Langfuse's `traceName`,
/// LiteLLM's `feature:<name>` request tag), LiteLLM's cache reads, writes
/// and reasoning from `metadata.additional_usage_values`.
const LOGS: [&str; 3] = [
    "sample-ground-truth.json",
    "sample-ground-truth-langfuse.json",
    "sample-ground-truth-litellm.json",
];

fn truth(name: &str) -> Value {
    let path = root().join("tests/fixtures").join(name);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn add(s: &mut Sums, v: &Value, truth: bool) {
    let n = |k: &str| v[k].as_u64().unwrap();
    let (ok, failed, input, cached, write, output, reasoning) = if truth {
        (
            "ok_calls",
            "failed_calls",
            "input",
            "cached_read",
            "cache_write",
            "output",
            "reasoning",
        )
    } else {
        (
            "ok_calls",
            "failed_calls",
            "input_tokens",
            "cached_read_tokens",
            "cache_write_tokens",
            "output_tokens",
            "reasoning_tokens",
        )
    };
    s.calls += n("calls");
    s.ok += n(ok);
    s.failed += n(failed);
    s.input += n(input);
    s.cached += n(cached);
    s.write += n(write);
    s.output += n(output);
    s.reasoning += n(reasoning);
}

#[test]
fn audit_sums_equal_the_generators_ground_truth() {
    let env = Env::new();
    let logs = root().join("sample-logs");
    let r = env.audit(&[logs.to_str().unwrap(), "--threads", "2"]);

    // Per feature, and per logged model name, over the three logs.
    let mut want_feature: BTreeMap<String, Sums> = BTreeMap::new();
    let mut want_model: BTreeMap<String, Sums> = BTreeMap::new();
    let (mut calls, mut failed, mut lines, mut skipped) = (0, 0, 0, 0);
    for name in LOGS {
        let truth = truth(name);
        for (key, v) in truth["by_feature_model"].as_object().unwrap() {
            let (feature, model) = key.split_once('|').unwrap();
            add(want_feature.entry(feature.into()).or_default(), v, true);
            add(want_model.entry(model.into()).or_default(), v, true);
        }
        let n = |k: &str| truth[k].as_u64().unwrap();
        calls += n("calls");
        failed += n("failed_calls");
        lines += n("lines");
        skipped += n("not_call_lines");
    }
    let mut got_feature: BTreeMap<String, Sums> = BTreeMap::new();
    for row in r["audit"]["by"][0]["rows"].as_array().unwrap() {
        assert_eq!(r["audit"]["by"][0]["dimension"], "feature");
        add(
            got_feature
                .entry(row["key"].as_str().unwrap().into())
                .or_default(),
            row,
            false,
        );
    }
    let mut got_model: BTreeMap<String, Sums> = BTreeMap::new();
    for row in r["audit"]["model_names"].as_array().unwrap() {
        add(
            got_model
                .entry(row["logged_model"].as_str().unwrap().into())
                .or_default(),
            row,
            false,
        );
    }
    assert_eq!(got_feature, want_feature);
    assert_eq!(got_model, want_model);
    assert_eq!(r["audit"]["totals"]["calls"], calls);
    assert_eq!(r["audit"]["totals"]["failed_calls"], failed);
    // Langfuse's SPAN lines are counted as skipped, not as calls.
    assert_eq!(r["audit"]["input"]["skipped"], skipped);
    let formats: BTreeMap<String, String> = r["audit"]["input"]["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let dir = f["file"].as_str().unwrap().rsplit('/').nth(1).unwrap();
            (dir.to_string(), f["format"].as_str().unwrap().to_string())
        })
        .collect();
    assert_eq!(formats["litellm"], "gateway");
    assert_eq!(formats["langfuse"], "langfuse");

    // Every planted bad line (all in the gateway log) is reported at its
    // file and line, and only those.
    let truth = truth(LOGS[0]);
    let planted: Vec<(String, u64)> = truth["bad_lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["file"]
                    .as_str()
                    .unwrap()
                    .rsplit('/')
                    .next()
                    .unwrap()
                    .to_string(),
                b["line"].as_u64().unwrap(),
            )
        })
        .collect();
    let reported: Vec<(String, u64)> = r["audit"]["input"]["rejected_samples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["file"]
                    .as_str()
                    .unwrap()
                    .rsplit('/')
                    .next()
                    .unwrap()
                    .to_string(),
                s["line"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(reported, planted);
    assert_eq!(r["audit"]["input"]["lines"], lines);

    // The one unknown model is listed with its calls, once per logged
    // provider: `acme` in the gateway log, `openai` in LiteLLM's (an
    // OpenAI-compatible server), none in Langfuse's.
    let unknown = r["audit"]["unknown_models"].as_array().unwrap();
    let providers: Vec<Option<&str>> = unknown
        .iter()
        .map(|u| u["logged_provider"].as_str())
        .collect();
    assert_eq!(providers, [Some("acme"), Some("openai"), None]);
    assert!(unknown.iter().all(|u| u["logged_model"] == "acme-llm-7b"));
    let unknown_calls: u64 = unknown.iter().map(|u| u["calls"].as_u64().unwrap()).sum();
    assert_eq!(unknown_calls, want_model["acme-llm-7b"].calls);
}

#[test]
fn rerun_reproduces_the_committed_example_report() {
    // The README's first command writes reports/sample-audit; the committed
    // copy must be what the current code produces (run from the repo root, so
    // file names in the report match).
    let env = Env::new();
    let out = env.path("out");
    let status = env
        .sample_audit()
        .args(["--quiet", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(status.status.success());
    for name in [
        "audit.md",
        "audit.json",
        "audit-by-feature.csv",
        "audit-daily.csv",
        "audit.html",
    ] {
        let fresh = std::fs::read_to_string(out.join(name)).unwrap();
        let committed =
            std::fs::read_to_string(root().join("reports/sample-audit").join(name)).unwrap();
        assert!(fresh == committed, "{name} differs from reports/sample-audit/{name}: regenerate it with the README's first command");
    }
}

/// The summary names each unpriced model with the provider it was logged
/// with: the sample logs carry one unknown model under three providers.
#[test]
fn the_summary_names_unpriced_models_with_their_provider() {
    let env = Env::new();
    let out = env.path("out");
    let run = env.sample_audit().arg("--out").arg(&out).output().unwrap();
    assert!(run.status.success());
    let stdout = String::from_utf8(run.stdout).unwrap();
    assert!(
        stdout.contains(
            // 458 calls, of which 2 failed with no token: $0, priced or not.
            "456 calls to models not in the price catalog were not priced: \
             acme-llm-7b (acme), acme-llm-7b (openai), acme-llm-7b.\n"
        ),
        "{stdout}"
    );
}

#[test]
fn sample_logs_produce_every_rule_on_its_planted_feature() {
    // Each kind of waste the generator plants (crates/samplegen) must be
    // found by its rule, on the feature it was planted in.
    let env = Env::new();
    let logs = root().join("sample-logs");
    let config = logs.join("tokenaudit.toml");
    let report = env.audit(&[logs.to_str().unwrap(), "--config", config.to_str().unwrap()]);
    let findings = report["audit"]["findings"].as_array().unwrap();
    let found = |rule: &str, feature: &str| {
        findings
            .iter()
            .any(|f| f["rule"] == rule && f["scope"]["feature"] == feature)
    };
    for (rule, feature) in [
        ("TA102", "support-chat"),
        ("TA103", "doc-qa"),
        ("TA104", "agent-planner"),
        ("TA105", "contract-review"),
        ("TA106", "doc-qa"),
        ("TA106", "translate"),
        ("TA107", "code-review"),
        ("TA108", "code-review"),
        ("TA109", "faq-bot"),
        ("TA110", "faq-bot"),
        ("TA111", "ticket-classifier"),
        ("TA112", "report-writer"),
        ("TA113", "nightly-summaries"),
        ("TA114", "report-writer"),
        ("TA115", "search-summarize"),
        ("TA116", "report-writer"),
    ] {
        assert!(found(rule, feature), "{rule} did not fire on {feature}");
    }
    // The rule coverage agrees with what the rules found: the sample logs
    // carry every field a rule needs, so every rule ran; TA102 partly on
    // inferred sessions (the features without session ids log a user), and
    // TA103 and TA104 partly on system-prompt sizes estimated from their
    // text: the LiteLLM export's 1,111 rows carry the system prompt in
    // `messages`, and the Langfuse export's 1,117 generations in `input`,
    // but no token count for it (the gateway's do); and TA101
    // partly on features derived from a tag (those rows' `feature:<name>`
    // request tags).
    crate::util::assert_consistent(&report);
    for c in report["audit"]["rule_coverage"].as_array().unwrap() {
        let estimated = ["TA101", "TA102", "TA103", "TA104"];
        let want = if estimated.contains(&c["rule"].as_str().unwrap()) {
            "ran_on_estimates"
        } else {
            "ran"
        };
        assert_eq!(c["status"], want, "{c}");
    }
    let ta103 = report["audit"]["rule_coverage"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["rule"] == "TA103")
        .unwrap();
    assert_eq!(ta103["inputs"][1]["sources"][1]["via"], "prefix_from_text");
    assert_eq!(ta103["inputs"][1]["sources"][1]["calls"], 1_111 + 1_117);
    // TA101 is global; the spike is on the planted day.
    assert!(findings.iter().any(|f| f["rule"] == "TA101"));
    assert!(findings.iter().any(|f| f["rule"] == "TA114"
        && f["scope"]["feature"] == "report-writer"
        && f["scope"]["day"] == "2026-10-18"));
    // The healthy feature stays clean.
    assert!(!findings
        .iter()
        .any(|f| f["scope"]["feature"] == "autocomplete"));
    // Every rule in the registry fired at least once.
    let listed = env.cmd().arg("rules").output().unwrap();
    let listed = String::from_utf8(listed.stdout).unwrap();
    for code in listed.lines().filter_map(|l| l.split_whitespace().next()) {
        if code.starts_with("TA") {
            assert!(
                findings.iter().any(|f| f["rule"] == code),
                "{code} never fires on the sample logs"
            );
        }
    }
    // The waterfall never exceeds the spend and its steps add up.
    let w = &report["audit"]["savings"];
    let steps: i128 = w["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| picos(&s["savings"]))
        .sum();
    assert_eq!(steps, picos(&w["total_savings"]));
    assert!(picos(&w["total_savings"]) > 0);
    assert!(picos(&w["total_savings"]) <= picos(&w["spend"]));
    assert_eq!(
        picos(&w["spend"]),
        picos(&report["audit"]["totals"]["cost"])
    );
}
