//! TA107 failed-call-spend: spend on calls that failed, its share of the
//! feature's spend, and the cost of one successful call.
//!
//! Price (shipped catalog, `tokenaudit prices show gpt-4o`): input $2.50,
//! output $10 per million tokens. A successful call here sends 10,000 input
//! and 1,000 output tokens: $0.025 + $0.01 = $0.035. A failed call was billed
//! for its 10,000 input tokens only: $0.025.

use serde_json::{json, Value};

use crate::util::{findings, gw_line, Env};

/// 2025-03-01 at `minute` minutes after midnight UTC.
fn at(minute: u32) -> String {
    format!("2025-03-01T{:02}:{:02}:00Z", minute / 60, minute % 60)
}

/// `ok` successful calls, then `failed` failed ones (HTTP 500), of feature
/// `feature`, one a minute; ids `{feature}-ok-N` / `{feature}-err-N`.
fn calls(feature: &str, ok: u32, failed: u32) -> String {
    let mut s = String::new();
    for i in 0..ok {
        let extra = json!({"request_id": format!("{feature}-ok-{i}")});
        s += &(gw_line(&at(i), feature, "gpt-4o", 10_000, 1_000, extra) + "\n");
    }
    for i in 0..failed {
        let extra: Value = json!({"request_id": format!("{feature}-err-{i}"), "http_status": 500});
        s += &(gw_line(&at(ok + i), feature, "gpt-4o", 10_000, 0, extra) + "\n");
    }
    s
}

#[test]
fn failed_spend_share_is_found_with_the_cost_per_successful_call() {
    let env = Env::new();
    // 90 successes and 10 failures: the planted waste.
    env.write("calls.jsonl", calls("code-review", 90, 10));
    let r = env.audit(&["calls.jsonl"]);
    let f = findings(&r, "TA107");
    assert_eq!(f.len(), 1, "{f:#?}");
    let f = f[0];
    assert_eq!(f["scope"], json!({"feature": "code-review"}));
    let e = &f["evidence"];
    assert_eq!(e["calls"], 100);
    assert_eq!(e["failed_calls"], 10);
    // 10 × $0.025 = $0.25 failed, of 90 × $0.035 + $0.25 = $3.40 in all.
    assert_eq!(e["failed_cost"], "0.25");
    // 0.25 / 3.40 = 0.073529… → 0.0735.
    assert_eq!(e["failed_share"], json!(0.0735));
    // $3.40 / 100 calls = $0.034; $3.40 / 90 successes = $0.0377777777777…,
    // truncated to a whole pico-dollar.
    assert_eq!(e["cost_per_call"], "0.034");
    assert_eq!(e["cost_per_successful_call"], "0.037777777777");
    // Half of the failed spend is taken as avoidable: $0.125 over a period
    // of 99 minutes (counted as one day): × 30 = $3.75 a month.
    assert_eq!(f["savings"]["observed"], "0.125");
    assert_eq!(f["savings"]["monthly"], "3.75");
    assert_eq!(f["severity"], "low");
    assert_eq!(f["sample_requests"], json!([]));
    assert_eq!(
        f["lever"],
        json!({"kind": "avoid_failures", "feature": "code-review", "model": null, "fraction": 0.5})
    );
}

#[test]
fn a_failed_share_under_two_percent_is_not_reported() {
    let env = Env::new();
    // 99 successes and 1 failure: $0.025 of $3.49 = 0.72% < 2%.
    env.write("calls.jsonl", calls("code-review", 99, 1));
    let r = env.audit(&["calls.jsonl"]);
    assert_eq!(findings(&r, "TA107"), Vec::<&Value>::new());
    // A feature without any failure is not reported either.
    env.write("clean.jsonl", calls("summarise", 100, 0));
    let r = env.audit(&["clean.jsonl"]);
    assert_eq!(findings(&r, "TA107"), Vec::<&Value>::new());
}

#[test]
fn min_share_and_avoidable_options_change_the_finding() {
    let env = Env::new();
    env.write("calls.jsonl", calls("code-review", 99, 1));
    // Lower the share threshold under 0.72%, count all failed spend as
    // avoidable, and keep findings of any size.
    env.write(
        "cfg.toml",
        "[detect]\nmin_savings = 0\n\n[rules.TA107]\nmin_share = 0.005\navoidable = 1.0\n",
    );
    let r = env.audit(&["calls.jsonl", "--config", "cfg.toml"]);
    let f = findings(&r, "TA107");
    assert_eq!(f.len(), 1, "{f:#?}");
    // 0.025 / 3.49 = 0.0071633… → 0.0072.
    assert_eq!(f[0]["evidence"]["failed_share"], json!(0.0072));
    // All of the $0.025: × 30 = $0.75 a month.
    assert_eq!(f[0]["savings"]["observed"], "0.025");
    assert_eq!(f[0]["savings"]["monthly"], "0.75");
    assert_eq!(f[0]["lever"]["fraction"], json!(1.0));
}
